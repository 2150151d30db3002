-- Every event the controller acted on, in order. State is rebuilt from it at start.
CREATE TABLE journal (
    seq    BIGSERIAL PRIMARY KEY,
    at_ms  BIGINT    NOT NULL,
    kind   TEXT      NOT NULL,
    body   TEXT      NOT NULL
);

-- Current state of each order, kept with the journal in one transaction.
CREATE TABLE orders (
    id          TEXT    PRIMARY KEY,
    cutoff      TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    tote        BIGINT,
    updated_ms  BIGINT  NOT NULL
);

-- Current state of each tote.
CREATE TABLE totes (
    id          BIGINT  PRIMARY KEY,
    order_id    TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    chute       BIGINT,
    updated_ms  BIGINT  NOT NULL
);
