-- TLS certificates users added (Deis /v1/certs) with their private keys.
-- The keys are only read back for the server's own TLS listener; the
-- database file is 0600 in a 0700 data directory.
CREATE TABLE certs (
    common_name TEXT PRIMARY KEY,
    owner_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    certificate TEXT NOT NULL,
    key         TEXT NOT NULL,
    san         TEXT NOT NULL DEFAULT '[]',
    expires     TEXT NOT NULL,
    created     TEXT NOT NULL
);
CREATE INDEX certs_owner ON certs (owner_id);
