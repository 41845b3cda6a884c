-- Run history and hold releases: the rows still past their cutoff when a run ended (for
-- `retentiond runs`), and who released a hold and why.
ALTER TABLE {runs} ADD COLUMN backlog BIGINT;
ALTER TABLE {holds} ADD COLUMN released_by VARCHAR(255) NULL;
ALTER TABLE {holds} ADD COLUMN release_reason TEXT NULL
