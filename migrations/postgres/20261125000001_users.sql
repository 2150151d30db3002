-- Dashboard accounts: a role (viewer or supervisor) and an argon2 password hash (PHC string).
CREATE TABLE users (
    name        TEXT    PRIMARY KEY,
    role        TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    updated_ms  BIGINT  NOT NULL
);

-- Every supervisor command from the dashboard, refused or done: who, when, what, outcome.
CREATE TABLE audit (
    seq      BIGSERIAL PRIMARY KEY,
    at_ms    BIGINT    NOT NULL,
    who      TEXT      NOT NULL,
    action   TEXT      NOT NULL,
    outcome  TEXT      NOT NULL
);
