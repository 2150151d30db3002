-- What the floor tells the systems around it, written in the same transaction as the journal
-- entry it comes from. `seq` counts the site's events without gaps.
CREATE TABLE outbox (
    seq          BIGINT  PRIMARY KEY,
    journal_seq  BIGINT  NOT NULL,
    at_ms        BIGINT  NOT NULL,
    kind         TEXT    NOT NULL,
    order_id     TEXT,
    data         TEXT    NOT NULL
);
CREATE INDEX outbox_order ON outbox (order_id, seq);

-- Webhook subscriptions: where events go, which kinds (comma-separated; empty: every kind),
-- the secret they are signed with, and the last event delivered (or passed over).
CREATE TABLE webhooks (
    name        TEXT    PRIMARY KEY,
    url         TEXT    NOT NULL,
    kinds       TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    created_ms  BIGINT  NOT NULL,
    delivered   BIGINT  NOT NULL,
    removed_ms  BIGINT
);

-- Every attempt to deliver an event to a webhook: its answer or what went wrong.
CREATE TABLE webhook_attempts (
    webhook     TEXT    NOT NULL,
    seq         BIGINT  NOT NULL,
    at_ms       BIGINT  NOT NULL,
    status      BIGINT,
    error       TEXT,
    took_ms     BIGINT  NOT NULL
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts (webhook, at_ms);

-- How far a publisher (the MQTT one) has come through the outbox.
CREATE TABLE outbox_cursors (
    name  TEXT    PRIMARY KEY,
    seq   BIGINT  NOT NULL
);
