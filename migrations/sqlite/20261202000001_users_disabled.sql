-- A dashboard account may be disabled (kept, its history with it) rather than removed: it
-- logs in no more and its sessions end.
ALTER TABLE users ADD COLUMN disabled_ms BIGINT;
