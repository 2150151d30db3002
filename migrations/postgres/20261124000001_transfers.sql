-- Stock asked of the distribution centre: inter-site transfer orders, one row per request.
CREATE TABLE transfers (
    id          BIGINT  PRIMARY KEY,
    sku         TEXT    NOT NULL,
    qty         BIGINT  NOT NULL,
    face        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    updated_ms  BIGINT  NOT NULL
);
