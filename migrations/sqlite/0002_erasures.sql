-- Erasure requests: the request id on the run that carried it out, and the ledger of erased
-- subjects (surrogate keys only) that `erase --replay` re-applies after a backup is restored.
ALTER TABLE {runs} ADD COLUMN request_id TEXT;
CREATE TABLE IF NOT EXISTS {erasures} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    erased_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
