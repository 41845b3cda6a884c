-- retentiond's own tables. {runs} etc. are replaced by the quoted, prefixed names.
CREATE TABLE IF NOT EXISTS {runs} (
    id BIGSERIAL PRIMARY KEY,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ,
    cutoff TEXT NOT NULL,
    mode TEXT NOT NULL,
    status TEXT NOT NULL,
    stop_reason TEXT,
    config_hash TEXT NOT NULL,
    version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {audit} (
    id BIGSERIAL PRIMARY KEY,
    run_id BIGINT NOT NULL,
    policy TEXT NOT NULL,
    table_name TEXT NOT NULL,
    action TEXT NOT NULL,
    batch BIGINT NOT NULL,
    rows_affected BIGINT NOT NULL,
    key_first TEXT,
    key_last TEXT,
    recorded_at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {holds} (
    id BIGSERIAL PRIMARY KEY,
    table_name TEXT,
    key_value TEXT,
    subject TEXT,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    review_at TIMESTAMPTZ,
    released_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS {outbox} (
    id BIGSERIAL PRIMARY KEY,
    run_id BIGINT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    last_error TEXT,
    delivered_at TIMESTAMPTZ
)
