-- retentiond's own tables. {runs} etc. are replaced by the quoted, prefixed names.
CREATE TABLE IF NOT EXISTS {runs} (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    started_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    finished_at DATETIME(6) NULL,
    cutoff VARCHAR(40) NOT NULL,
    mode VARCHAR(20) NOT NULL,
    status VARCHAR(20) NOT NULL,
    stop_reason TEXT NULL,
    config_hash VARCHAR(64) NOT NULL,
    version VARCHAR(40) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS {audit} (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    run_id BIGINT NOT NULL,
    policy VARCHAR(64) NOT NULL,
    table_name VARCHAR(64) NOT NULL,
    action VARCHAR(20) NOT NULL,
    batch BIGINT NOT NULL,
    rows_affected BIGINT NOT NULL,
    key_first TEXT NULL,
    key_last TEXT NULL,
    recorded_at VARCHAR(40) NOT NULL,
    prev_hash CHAR(64) NOT NULL,
    hash CHAR(64) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS {holds} (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    table_name VARCHAR(64) NULL,
    key_value TEXT NULL,
    subject TEXT NULL,
    reason TEXT NOT NULL,
    set_by VARCHAR(255) NOT NULL,
    set_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    review_at DATETIME(6) NULL,
    released_at DATETIME(6) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE IF NOT EXISTS {outbox} (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    run_id BIGINT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    subject TEXT NOT NULL,
    body_text MEDIUMTEXT NOT NULL,
    body_html MEDIUMTEXT NOT NULL,
    attempts INT NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6) NULL,
    last_error TEXT NULL,
    delivered_at DATETIME(6) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
