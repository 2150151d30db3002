-- The core's state as of journal entry seq (JSON), so that a start replays only the tail.
CREATE TABLE snapshots (
    seq    BIGINT PRIMARY KEY,
    at_ms  BIGINT NOT NULL,
    state  BYTEA NOT NULL
);
