-- One row per site of the network: the instance that owns it (a lease with an expiry, renewed
-- by the owner; the token goes up at each change of owner and fences a stale one out of the
-- site's journal), and the status it last published for the network view.
CREATE TABLE sites (
    site         TEXT        PRIMARY KEY,
    owner        TEXT        NOT NULL,
    token        BIGINT      NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    acquired_at  TIMESTAMPTZ NOT NULL,
    status       TEXT        NOT NULL DEFAULT '{}',
    status_at    TIMESTAMPTZ
);

-- Stock a forward warehouse asked of its distribution centre, and what became of it:
-- requested (by the forward site), accepted (an order at the DC), shipped (sorted to the
-- destination's lane, in a tote), received (put away at the forward site).
CREATE TABLE transfers (
    site         TEXT        NOT NULL,
    id           BIGINT      NOT NULL,
    dc           TEXT        NOT NULL,
    sku          TEXT        NOT NULL,
    qty          BIGINT      NOT NULL,
    face         TEXT        NOT NULL,
    status       TEXT        NOT NULL,
    tote         BIGINT,
    shipped      BIGINT,
    received     BIGINT,
    requested_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (site, id)
);
CREATE INDEX transfers_dc_status ON transfers (dc, status);

-- Dashboard accounts of the whole network (one login for every site's dashboard): a role
-- (viewer or supervisor), an argon2 password hash, and the sites the role covers
-- (comma-separated; none: every site). Elsewhere the account has no access.
CREATE TABLE users (
    name        TEXT    PRIMARY KEY,
    role        TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    sites       TEXT,
    updated_ms  BIGINT  NOT NULL
);
