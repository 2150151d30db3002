-- Stock asked of the distribution centre: inter-site transfer orders, one row per request.
CREATE TABLE transfers (
    id          INTEGER PRIMARY KEY,
    sku         TEXT    NOT NULL,
    qty         INTEGER NOT NULL,
    face        TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    updated_ms  INTEGER NOT NULL
);
