-- The subscription-site dataset, generated server-side on PostgreSQL.
-- Placeholders replaced by run.sh: @@NC@@ (customers). Scale 1 = 100 000 customers.
-- Customer kinds by id: (id*37) % 100 < 40 cancelled everything, < 95 active, else never
-- subscribed. Every fourth customer has two subscriptions. Messages are numbered in the order
-- they were sent, so the expired ones sit mostly in the older keys, as in a real table.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET TimeZone = 'UTC';
SET max_parallel_workers_per_gather = 0;   -- keeps random() reproducible under setseed
SELECT setseed(0.42);

CREATE TABLE bench_anchor AS
SELECT now() AS now_at,
       now() - interval '12 years' AS start_at,
       now() - interval '6 months' AS threshold;

-- Per-customer lifecycle: created_at, and for the cancelled ones the end of their last subscription.
CREATE TABLE bench_gen AS
SELECT g::bigint AS id,   -- bigint: id * 7919 below passes 2^31 at scale 3
       CASE WHEN (g * 37) % 100 < 40 THEN 'cancelled'
            WHEN (g * 37) % 100 < 95 THEN 'active'
            ELSE 'prospect' END AS kind,
       g % 4 = 0 AS two_subs,
       a.start_at + random() * (a.now_at - a.start_at - interval '14 days') AS created_at,
       random() AS r_end,
       random() AS r_mid
FROM generate_series(1, @@NC@@) g, bench_anchor a;
ALTER TABLE bench_gen ADD COLUMN end_at timestamptz;
UPDATE bench_gen g SET end_at = g.created_at + g.r_end * (a.now_at - g.created_at)
FROM bench_anchor a WHERE g.kind = 'cancelled';
-- Keep every last end at least 3 days away from the 6-month threshold, so that a run a few
-- hours later still sees exactly the same expired set.
UPDATE bench_gen g SET end_at = g.end_at + interval '7 days'
FROM bench_anchor a
WHERE g.end_at > a.threshold - interval '3 days' AND g.end_at < a.threshold + interval '3 days';

CREATE TABLE customers (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL UNIQUE,
    ip_address text,
    created_at timestamptz NOT NULL,
    terms_accepted_at timestamptz NOT NULL,
    last_seen_at timestamptz
);
INSERT INTO customers
SELECT id, 'Customer ' || id, 'customer' || id || '@example.nl',
       '192.0.' || (id % 250) || '.' || (id % 251),
       created_at, created_at, COALESCE(end_at, created_at)
FROM bench_gen;

CREATE TABLE subscriptions (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL,
    plan text NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz
);
INSERT INTO subscriptions (customer_id, plan, started_at, ended_at)
SELECT id, CASE WHEN id % 3 = 0 THEN 'yearly' ELSE 'monthly' END, created_at,
       CASE WHEN kind = 'cancelled' AND two_subs THEN created_at + 0.4 * (end_at - created_at)
            WHEN kind = 'cancelled' THEN end_at
            WHEN two_subs THEN created_at + r_mid * 0.5 * ((SELECT now_at FROM bench_anchor) - created_at)
            ELSE NULL END
FROM bench_gen WHERE kind <> 'prospect';
INSERT INTO subscriptions (customer_id, plan, started_at, ended_at)
SELECT g.id, 'yearly', s.ended_at, CASE WHEN g.kind = 'cancelled' THEN g.end_at END
FROM bench_gen g JOIN subscriptions s ON s.customer_id = g.id
WHERE g.kind <> 'prospect' AND g.two_subs;
CREATE INDEX subscriptions_customer_idx ON subscriptions (customer_id);
ALTER TABLE subscriptions ADD FOREIGN KEY (customer_id) REFERENCES customers (id);

-- Messages: 1..59 per customer (30 on average), sent during the customer's life.
CREATE SEQUENCE messages_id_seq;
CREATE TABLE messages_src (
    id bigint NOT NULL DEFAULT nextval('messages_id_seq'),
    customer_id bigint NOT NULL,
    sent_at timestamptz NOT NULL,
    direction text NOT NULL,
    subject text NOT NULL,
    body text NOT NULL
);
CREATE TEMP TABLE bench_msg AS
SELECT g.id AS customer_id,
       g.created_at + random() * (COALESCE(g.end_at, a.now_at) - g.created_at) AS sent_at
FROM bench_gen g CROSS JOIN bench_anchor a
CROSS JOIN LATERAL generate_series(1, 1 + (g.id * 7919) % 59) s;
INSERT INTO messages_src (id, customer_id, sent_at, direction, subject, body)
SELECT row_number() OVER (ORDER BY sent_at, customer_id), customer_id, sent_at,
       CASE WHEN random() < 0.5 THEN 'in' ELSE 'out' END,
       'Question about my subscription',
       repeat(md5(random()::text), 16)
FROM bench_msg;
DROP TABLE bench_msg;
SELECT setval('messages_id_seq', (SELECT max(id) FROM messages_src));
ALTER TABLE messages_src ADD PRIMARY KEY (id);

-- Invoices (1..20 per subscribed customer) and payments (95% of invoices).
CREATE TABLE invoices (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    issued_at timestamptz NOT NULL,
    amount_cents integer NOT NULL,
    oss_supply smallint NOT NULL,
    billing_name text NOT NULL,
    billing_address text NOT NULL
);
INSERT INTO invoices (customer_id, issued_at, amount_cents, oss_supply, billing_name, billing_address)
SELECT g.id, g.created_at + random() * (COALESCE(g.end_at, a.now_at) - g.created_at),
       995 + (g.id % 7) * 500, CASE WHEN random() < 0.1 THEN 1 ELSE 0 END,
       'Customer ' || g.id, 'Straat ' || (g.id % 300) || ', Amsterdam'
FROM bench_gen g CROSS JOIN bench_anchor a
CROSS JOIN LATERAL generate_series(1, 1 + (g.id * 131) % 20) s
WHERE g.kind <> 'prospect'
ORDER BY 2;
CREATE INDEX invoices_customer_idx ON invoices (customer_id);

CREATE TABLE payments (
    id bigserial PRIMARY KEY,
    invoice_id bigint NOT NULL REFERENCES invoices (id),
    paid_at timestamptz NOT NULL,
    amount_cents integer NOT NULL
);
INSERT INTO payments (invoice_id, paid_at, amount_cents)
SELECT id, issued_at + (id % 30) * interval '1 day', amount_cents FROM invoices WHERE id % 20 <> 0;
CREATE INDEX payments_invoice_idx ON payments (invoice_id);

CREATE TABLE marketing_consents (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    given_at timestamptz NOT NULL,
    withdrawn_at timestamptz
);
INSERT INTO marketing_consents (customer_id, given_at, withdrawn_at)
SELECT g.id, g.created_at,
       CASE WHEN g.id % 2 = 0 THEN g.created_at + random() * (a.now_at - g.created_at) END
FROM bench_gen g CROSS JOIN bench_anchor a WHERE g.id % 10 < 6;

-- Active customers, numbered 1..n, for the OLTP load's message inserts.
CREATE TABLE bench_active AS
SELECT row_number() OVER (ORDER BY id)::int AS n, id AS customer_id FROM bench_gen WHERE kind = 'active';
ALTER TABLE bench_active ADD PRIMARY KEY (n);

-- Per-batch timestamps of the server-side loop (b).
CREATE TABLE bench_batches (variant text NOT NULL, batch int NOT NULL, rows_deleted int NOT NULL, at timestamptz NOT NULL);

DROP TABLE bench_gen;
VACUUM ANALYZE;

-- The tax rule's clock is indexed, as it should be: the "nothing to do" run reads it.
CREATE INDEX invoices_issued_idx ON invoices (issued_at);
-- The pristine contact fields, to undo an anonymization between variants.
CREATE TABLE customers_src AS SELECT id, name, email, ip_address FROM customers;
ALTER TABLE customers_src ADD PRIMARY KEY (id);
VACUUM ANALYZE;
