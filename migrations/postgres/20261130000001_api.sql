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
