-- The core's state as of journal entry seq (JSON), so that a start replays only the tail.
CREATE TABLE snapshots (
    seq    INTEGER PRIMARY KEY,
    at_ms  INTEGER NOT NULL,
    state  BLOB NOT NULL
);
