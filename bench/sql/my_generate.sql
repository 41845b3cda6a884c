-- The subscription-site dataset, generated server-side on MariaDB with the SEQUENCE engine.
-- Same shape as sql/pg_generate.sql (see there); placeholders replaced by run.sh: @@NC@@.
SET SESSION time_zone = '+00:00';
SET SESSION foreign_key_checks = 0;

CREATE TABLE bench_anchor ENGINE=InnoDB AS
SELECT UTC_TIMESTAMP() AS now_at, UTC_TIMESTAMP() - INTERVAL 12 YEAR AS start_at,
       UTC_TIMESTAMP() - INTERVAL 6 MONTH AS threshold;
SELECT now_at, start_at, threshold INTO @now, @start, @thr FROM bench_anchor;

CREATE TABLE bench_gen (
    id BIGINT PRIMARY KEY, kind VARCHAR(10) NOT NULL, two_subs TINYINT NOT NULL,
    created_at DATETIME NOT NULL, end_at DATETIME NULL, r_mid DOUBLE NOT NULL
) ENGINE=InnoDB;
INSERT INTO bench_gen
SELECT seq,
       CASE WHEN (seq * 37) % 100 < 40 THEN 'cancelled' WHEN (seq * 37) % 100 < 95 THEN 'active' ELSE 'prospect' END,
       seq % 4 = 0,
       @start + INTERVAL FLOOR(RAND(1) * (TIMESTAMPDIFF(SECOND, @start, @now) - 14 * 86400)) SECOND,
       NULL, RAND(2)
FROM seq_1_to_@@NC@@;
UPDATE bench_gen SET end_at = created_at + INTERVAL FLOOR(RAND(3) * TIMESTAMPDIFF(SECOND, created_at, @now)) SECOND
WHERE kind = 'cancelled';
-- Keep every last end at least 3 days away from the 6-month threshold (see pg_generate.sql).
UPDATE bench_gen SET end_at = end_at + INTERVAL 7 DAY
WHERE end_at > @thr - INTERVAL 3 DAY AND end_at < @thr + INTERVAL 3 DAY;

CREATE TABLE customers (
    id BIGINT PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    email VARCHAR(255) NOT NULL UNIQUE,
    ip_address VARCHAR(45) NULL,
    created_at DATETIME NOT NULL,
    terms_accepted_at DATETIME NOT NULL,
    last_seen_at DATETIME NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO customers
SELECT id, CONCAT('Customer ', id), CONCAT('customer', id, '@example.nl'),
       CONCAT('192.0.', id % 250, '.', id % 251), created_at, created_at, COALESCE(end_at, created_at)
FROM bench_gen;

CREATE TABLE subscriptions (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    customer_id BIGINT NOT NULL,
    plan VARCHAR(20) NOT NULL,
    started_at DATETIME NOT NULL,
    ended_at DATETIME NULL,
    KEY subscriptions_customer_idx (customer_id),
    CONSTRAINT subscriptions_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO subscriptions (customer_id, plan, started_at, ended_at)
SELECT id, IF(id % 3 = 0, 'yearly', 'monthly'), created_at,
       CASE WHEN kind = 'cancelled' AND two_subs THEN created_at + INTERVAL FLOOR(0.4 * TIMESTAMPDIFF(SECOND, created_at, end_at)) SECOND
            WHEN kind = 'cancelled' THEN end_at
            WHEN two_subs THEN created_at + INTERVAL FLOOR(r_mid * 0.5 * TIMESTAMPDIFF(SECOND, created_at, @now)) SECOND
            ELSE NULL END
FROM bench_gen WHERE kind <> 'prospect' ORDER BY id;
INSERT INTO subscriptions (customer_id, plan, started_at, ended_at)
SELECT g.id, 'yearly', s.ended_at, IF(g.kind = 'cancelled', g.end_at, NULL)
FROM bench_gen g JOIN subscriptions s ON s.customer_id = g.id
WHERE g.kind <> 'prospect' AND g.two_subs ORDER BY g.id;

-- Messages: 1..59 per customer, numbered in the order they were sent.
CREATE TABLE bench_msg (customer_id BIGINT NOT NULL, sent_at DATETIME NOT NULL) ENGINE=InnoDB;
INSERT INTO bench_msg
SELECT g.id, g.created_at + INTERVAL FLOOR(RAND(4) * TIMESTAMPDIFF(SECOND, g.created_at, COALESCE(g.end_at, @now))) SECOND
FROM bench_gen g JOIN seq_1_to_59 s ON s.seq <= 1 + (g.id * 7919) % 59;
CREATE TABLE messages_src (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    customer_id BIGINT NOT NULL,
    sent_at DATETIME NOT NULL,
    direction VARCHAR(3) NOT NULL,
    subject VARCHAR(200) NOT NULL,
    body TEXT NOT NULL,
    KEY messages_customer_idx (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO messages_src (customer_id, sent_at, direction, subject, body)
SELECT customer_id, sent_at, IF(RAND(5) < 0.5, 'in', 'out'), 'Question about my subscription',
       REPEAT(MD5(RAND(6)), 16)
FROM bench_msg ORDER BY sent_at, customer_id;
DROP TABLE bench_msg;

-- Invoices (1..20 per subscribed customer) and payments (95% of invoices).
CREATE TABLE invoices (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    customer_id BIGINT NOT NULL,
    issued_at DATETIME NOT NULL,
    amount_cents INT NOT NULL,
    oss_supply TINYINT NOT NULL,
    billing_name VARCHAR(255) NOT NULL,
    billing_address VARCHAR(255) NOT NULL,
    KEY invoices_customer_idx (customer_id),
    CONSTRAINT invoices_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO invoices (customer_id, issued_at, amount_cents, oss_supply, billing_name, billing_address)
SELECT g.id, g.created_at + INTERVAL FLOOR(RAND(7) * TIMESTAMPDIFF(SECOND, g.created_at, COALESCE(g.end_at, @now))) SECOND,
       995 + (g.id % 7) * 500, IF(RAND(8) < 0.1, 1, 0),
       CONCAT('Customer ', g.id), CONCAT('Straat ', g.id % 300, ', Amsterdam')
FROM bench_gen g JOIN seq_1_to_20 s ON s.seq <= 1 + (g.id * 131) % 20
WHERE g.kind <> 'prospect';

CREATE TABLE payments (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    invoice_id BIGINT NOT NULL,
    paid_at DATETIME NOT NULL,
    amount_cents INT NOT NULL,
    KEY payments_invoice_idx (invoice_id),
    CONSTRAINT payments_invoice_fk FOREIGN KEY (invoice_id) REFERENCES invoices (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO payments (invoice_id, paid_at, amount_cents)
SELECT id, issued_at + INTERVAL (id % 30) DAY, amount_cents FROM invoices WHERE id % 20 <> 0;

CREATE TABLE marketing_consents (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    customer_id BIGINT NOT NULL,
    given_at DATETIME NOT NULL,
    withdrawn_at DATETIME NULL,
    CONSTRAINT consents_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
INSERT INTO marketing_consents (customer_id, given_at, withdrawn_at)
SELECT id, created_at,
       IF(id % 2 = 0, created_at + INTERVAL FLOOR(RAND(9) * TIMESTAMPDIFF(SECOND, created_at, @now)) SECOND, NULL)
FROM bench_gen WHERE id % 10 < 6;

CREATE TABLE bench_active (n INT PRIMARY KEY, customer_id BIGINT NOT NULL) ENGINE=InnoDB;
INSERT INTO bench_active SELECT ROW_NUMBER() OVER (ORDER BY id), id FROM bench_gen WHERE kind = 'active';

CREATE TABLE bench_batches (variant VARCHAR(20) NOT NULL, batch INT NOT NULL, rows_deleted INT NOT NULL, at DATETIME(6) NOT NULL) ENGINE=InnoDB;

DROP TABLE bench_gen;
ANALYZE TABLE customers, subscriptions, messages_src, invoices, payments, marketing_consents, bench_active;

-- The tax rule's clock is indexed, as it should be: the "nothing to do" run reads it.
CREATE INDEX invoices_issued_idx ON invoices (issued_at);
-- The pristine contact fields, to undo an anonymization between variants.
CREATE TABLE customers_src (id BIGINT PRIMARY KEY, name VARCHAR(255) NOT NULL, email VARCHAR(255) NOT NULL, ip_address VARCHAR(45) NULL) ENGINE=InnoDB;
INSERT INTO customers_src SELECT id, name, email, ip_address FROM customers;
ANALYZE TABLE customers, invoices, subscriptions;
