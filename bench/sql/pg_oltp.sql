-- The website's load during a purge (pgbench custom script): read a random customer, update
-- it, and insert a message for a random active customer (who never has expired messages, so
-- the purge's row count is unaffected).
\set cid random(1, :ncust)
\set a random(1, :nactive)
BEGIN;
SELECT id, name, email, last_seen_at FROM customers WHERE id = :cid;
UPDATE customers SET last_seen_at = now() WHERE id = :cid;
INSERT INTO messages (customer_id, sent_at, direction, subject, body)
    SELECT customer_id, now(), 'in', 'Hello', repeat('x', 500) FROM bench_active WHERE n = :a;
END;
