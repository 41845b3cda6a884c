-- A tiny subscription shop for deploy/compose.yaml: eight customers, their subscriptions,
-- support messages, invoices and payments, plus the database account retentiond uses.
--
-- The postgres image runs this once, when its data volume is first created, as the superuser
-- in the database "shop". Dates are relative to now(), so some records have always expired:
--   Bram        left 9 years ago: his payment, invoice, messages, subscription and finally
--               his customer row go in the first run (children first).
--   Chloé       left 4 months ago: contact details anonymized (90 days), messages kept (6 months).
--   Daan        left 14 months ago: contact details anonymized, messages deleted.
--   Hanna       wrote 8 months ago but never subscribed: her message goes (6 months after sending).
--   Anna        still subscribed; her 9-year-old invoice and payment go (7 years from year end).
--   Gijs        an OSS invoice of 9 years ago stays: OSS records are kept 10 years.
-- Every policy touches less than half of its table, so the max_fraction safety stop stays quiet.

CREATE TABLE customers (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text        NOT NULL,
    email             text        NOT NULL,
    ip_address        text,
    terms_accepted_at timestamptz NOT NULL,
    created_at        timestamptz NOT NULL
);

CREATE TABLE subscriptions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint      NOT NULL REFERENCES customers (id),
    plan        text        NOT NULL,
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz
);

CREATE TABLE messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint      NOT NULL REFERENCES customers (id),
    sent_at     timestamptz NOT NULL,
    subject     text        NOT NULL,
    body        text        NOT NULL
);

CREATE TABLE invoices (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id     bigint  NOT NULL REFERENCES customers (id),
    number          text    NOT NULL UNIQUE,
    issued_at       date    NOT NULL,
    amount_cents    integer NOT NULL,
    billing_name    text    NOT NULL,
    billing_address text    NOT NULL,
    oss_supply      boolean NOT NULL DEFAULT false
);

CREATE TABLE payments (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id    bigint      NOT NULL REFERENCES invoices (id),
    paid_at       timestamptz NOT NULL,
    amount_cents  integer     NOT NULL,
    psp_reference text
);

CREATE INDEX ON subscriptions (customer_id);
CREATE INDEX ON messages (customer_id);
CREATE INDEX ON invoices (customer_id);
CREATE INDEX ON payments (invoice_id);

INSERT INTO customers (name, email, ip_address, terms_accepted_at, created_at)
OVERRIDING SYSTEM VALUE VALUES
    ('Anna Jansen',   'anna@example.nl',   '192.0.2.11',  now() - interval '10 years', now() - interval '10 years'),
    ('Bram de Vries', 'bram@example.nl',   '192.0.2.22',  now() - interval '10 years', now() - interval '10 years'),
    ('Chloé Bakker',  'chloe@example.be',  '198.51.100.7', now() - interval '2 years', now() - interval '2 years'),
    ('Daan Visser',   'daan@example.nl',   '2001:db8:85a3::8a2e:370:7334', now() - interval '3 years', now() - interval '3 years'),
    ('Eva Smit',      'eva@example.nl',    '192.0.2.55',  now() - interval '1 year',   now() - interval '1 year'),
    ('Femke Mulder',  'femke@example.nl',  NULL,          now() - interval '6 months', now() - interval '6 months'),
    ('Gijs Peters',   'gijs@example.de',   '203.0.113.9', now() - interval '10 years', now() - interval '10 years'),
    ('Hanna Meijer',  'hanna@example.nl',  '192.0.2.88',  now() - interval '8 months', now() - interval '8 months');

-- Customer ids follow insertion order: Anna 1, Bram 2, Chloé 3, Daan 4, Eva 5, Femke 6, Gijs 7, Hanna 8.
INSERT INTO subscriptions (customer_id, plan, started_at, ended_at) VALUES
    (1, 'basic',    now() - interval '10 years', now() - interval '9 years'),
    (1, 'plus',     now() - interval '2 years',  NULL),
    (2, 'basic',    now() - interval '10 years', now() - interval '9 years'),
    (3, 'plus',     now() - interval '2 years',  now() - interval '4 months'),
    (4, 'basic',    now() - interval '3 years',  now() - interval '14 months'),
    (5, 'plus',     now() - interval '1 year',   NULL),
    (6, 'basic',    now() - interval '6 months', NULL),
    (7, 'business', now() - interval '10 years', now() - interval '3 years'),
    (7, 'business', now() - interval '3 years',  NULL);

INSERT INTO messages (customer_id, sent_at, subject, body) VALUES
    (1, now() - interval '2 weeks',   'Invoice address',       'Please send invoices to our new address.'),
    (2, now() - interval '9 years 6 months', 'Cancel',         'Please cancel my subscription.'),
    (3, now() - interval '5 months',  'Refund',                'Can I get a refund for the last month?'),
    (4, now() - interval '15 months', 'Cancel',                'I would like to stop at the end of the month.'),
    (4, now() - interval '15 months', 'Re: Cancel',            'Thanks, confirmed.'),
    (5, now() - interval '1 month',   'Login problem',         'I cannot log in since yesterday.'),
    (6, now() - interval '3 months',  'Plans',                 'What does the plus plan include?'),
    (7, now() - interval '2 months',  'VAT number',            'Please add our VAT number to the invoices.'),
    (8, now() - interval '8 months',  'Question before buying','Do you ship to Belgium?'),
    (1, now() - interval '1 year',    'Thanks',                'Everything works fine now.');

INSERT INTO invoices (customer_id, number, issued_at, amount_cents, billing_name, billing_address, oss_supply) VALUES
    (1, '2017-0001', (now() - interval '9 years')::date,           1200, 'Anna Jansen',   'Kerkstraat 1, Utrecht',    false),
    (1, 'A-0002',    (now() - interval '1 month')::date,           2400, 'Anna Jansen',   'Kerkstraat 1, Utrecht',    false),
    (2, '2016-0007', (now() - interval '9 years 6 months')::date,  1200, 'Bram de Vries', 'Dorpsweg 2, Zwolle',       false),
    (2, '2017-0003', (now() - interval '9 years 1 month')::date,   1200, 'Bram de Vries', 'Dorpsweg 2, Zwolle',       false),
    (3, 'A-0003',    (now() - interval '5 months')::date,          2400, 'Chloé Bakker',  'Meir 3, Antwerpen',        true),
    (4, 'A-0004',    (now() - interval '15 months')::date,         1200, 'Daan Visser',   'Markt 4, Delft',           false),
    (5, 'A-0005',    (now() - interval '1 month')::date,           2400, 'Eva Smit',      'Laan 5, Haarlem',          false),
    (6, 'A-0006',    (now() - interval '1 month')::date,           1200, 'Femke Mulder',  'Plein 6, Leiden',          false),
    (7, '2017-0004', (now() - interval '9 years')::date,           9900, 'Peters GmbH',   'Hauptstr. 7, Köln',        true);

INSERT INTO payments (invoice_id, paid_at, amount_cents, psp_reference) VALUES
    (1, now() - interval '9 years',           1200, 'psp_0001'),
    (2, now() - interval '1 month',           2400, 'psp_0002'),
    (3, now() - interval '9 years 6 months',  1200, 'psp_0003'),
    (4, now() - interval '9 years 1 month',   1200, 'psp_0004'),
    (5, now() - interval '5 months',          2400, 'psp_0005'),
    (6, now() - interval '15 months',         1200, 'psp_0006'),
    (7, now() - interval '1 month',           2400, 'psp_0007'),
    (8, now() - interval '1 month',           1200, 'psp_0008'),
    (9, now() - interval '9 years',           9900, 'psp_0009');

-- The account retentiond logs in with: read what the policies look at, change only what they
-- purge, and create its own tables (retentiond_runs, retentiond_audit, ...) once.
-- DEMO PASSWORD: it is repeated in deploy/compose/secrets/database-url. Never reuse it.
CREATE ROLE retentiond LOGIN PASSWORD 'retentiond-demo-only';
GRANT CONNECT ON DATABASE shop TO retentiond;
GRANT USAGE, CREATE ON SCHEMA public TO retentiond;
GRANT SELECT, DELETE ON payments, invoices, messages, subscriptions TO retentiond;
GRANT SELECT, DELETE, UPDATE (name, email, ip_address) ON customers TO retentiond;
