-- A fresh copy of the pristine messages (messages_src) as "messages", with its indexes and
-- foreign key: every variant starts from the same state.
SET SESSION foreign_key_checks = 0;
DROP TABLE IF EXISTS messages;
CREATE TABLE messages LIKE messages_src;
INSERT INTO messages SELECT * FROM messages_src ORDER BY id;
ALTER TABLE messages ADD CONSTRAINT messages_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
DROP TABLE IF EXISTS retentiond_runs, retentiond_audit, retentiond_holds, retentiond_outbox, retentiond_erasures, retentiond_migrations;
TRUNCATE bench_batches;
ANALYZE TABLE messages;
