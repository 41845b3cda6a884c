-- Run history and hold releases: the rows still past their cutoff when a run ended (for
-- `retentiond runs`), and who released a hold and why.
ALTER TABLE {runs} ADD COLUMN backlog INTEGER;
ALTER TABLE {holds} ADD COLUMN released_by TEXT;
ALTER TABLE {holds} ADD COLUMN release_reason TEXT
