-- Service accounts of the HTTP API: a name, the SHA-256 of its token (the token itself is
-- shown once and kept nowhere), its scopes and sites (comma-separated; none: every site).
CREATE TABLE api_tokens (
    name        TEXT    PRIMARY KEY,
    hash        TEXT    NOT NULL UNIQUE,
    scopes      TEXT    NOT NULL,
    sites       TEXT,
    created_ms  BIGINT  NOT NULL,
    revoked_ms  BIGINT
);

-- Each order as it was received (JSON), so the same order sent again is recognised and a
-- different one under a known number named.
CREATE TABLE order_bodies (
    id           TEXT    PRIMARY KEY,
    body         TEXT    NOT NULL,
    received_ms  BIGINT  NOT NULL
);

-- Each order's states as they were recorded, with the journal entry that recorded them.
CREATE TABLE order_history (
    seq     BIGINT  NOT NULL,
    id      TEXT    NOT NULL,
    at_ms   BIGINT  NOT NULL,
    status  TEXT    NOT NULL,
    tote    BIGINT,
    picked  BIGINT  NOT NULL
);
CREATE INDEX order_history_id ON order_history (id, seq);
