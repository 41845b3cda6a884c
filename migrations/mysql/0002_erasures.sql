-- Erasure requests: the request id on the run that carried it out, and the ledger of erased
-- subjects (surrogate keys only) that `erase --replay` re-applies after a backup is restored.
ALTER TABLE {runs} ADD COLUMN request_id VARCHAR(64) NULL;
CREATE TABLE IF NOT EXISTS {erasures} (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    request_id VARCHAR(64) NOT NULL,
    subject VARCHAR(255) NOT NULL,
    run_id BIGINT NOT NULL,
    erased_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
