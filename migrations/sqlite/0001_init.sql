-- retentiond's own tables. {runs} etc. are replaced by the quoted, prefixed names.
CREATE TABLE IF NOT EXISTS {runs} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    finished_at TEXT,
    cutoff TEXT NOT NULL,
    mode TEXT NOT NULL,
    status TEXT NOT NULL,
    stop_reason TEXT,
    config_hash TEXT NOT NULL,
    version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {audit} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL,
    policy TEXT NOT NULL,
    table_name TEXT NOT NULL,
    action TEXT NOT NULL,
    batch INTEGER NOT NULL,
    rows_affected INTEGER NOT NULL,
    key_first TEXT,
    key_last TEXT,
    recorded_at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {holds} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    table_name TEXT,
    key_value TEXT,
    subject TEXT,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    review_at TEXT,
    released_at TEXT
);
CREATE TABLE IF NOT EXISTS {outbox} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT,
    delivered_at TEXT
)
