-- A fresh copy of the pristine messages (messages_src) as "messages", with its indexes and
-- foreign key, vacuumed and analyzed, then a checkpoint: every variant starts from the same state.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
DROP TABLE IF EXISTS messages;
CREATE TABLE messages (LIKE messages_src INCLUDING DEFAULTS);
INSERT INTO messages SELECT * FROM messages_src ORDER BY id;
ALTER TABLE messages ADD PRIMARY KEY (id);
CREATE INDEX messages_customer_idx ON messages (customer_id);
ALTER TABLE messages ADD CONSTRAINT messages_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
DROP TABLE IF EXISTS retentiond_runs, retentiond_audit, retentiond_holds, retentiond_outbox, retentiond_erasures, retentiond_migrations;
TRUNCATE bench_batches;
VACUUM ANALYZE messages;
VACUUM ANALYZE customers;
CHECKPOINT;
