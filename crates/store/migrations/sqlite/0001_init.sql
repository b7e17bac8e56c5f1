-- Berth schema. Timestamps are RFC 3339 UTC text; JSON columns hold small maps.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT NOT NULL UNIQUE,
    email         TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    is_active     INTEGER NOT NULL DEFAULT 1,
    tenant        TEXT NOT NULL DEFAULT 'default',
    created       TEXT NOT NULL,
    last_login    TEXT
);

CREATE TABLE tokens (
    id          TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL UNIQUE,
    created     TEXT NOT NULL,
    expires     TEXT,
    revoked     TEXT
);
CREATE INDEX tokens_user ON tokens(user_id);

CREATE TABLE apps (
    id        TEXT PRIMARY KEY,
    uuid      TEXT NOT NULL UNIQUE,
    owner_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind      TEXT NOT NULL,
    desired   TEXT NOT NULL,
    structure TEXT NOT NULL DEFAULT '{}',
    release   INTEGER NOT NULL,
    error     TEXT,
    stop_at   TEXT,
    meta      TEXT NOT NULL DEFAULT '{}',
    created   TEXT NOT NULL,
    updated   TEXT NOT NULL
);
CREATE INDEX apps_owner ON apps(owner_id);

CREATE TABLE builds (
    uuid       TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    owner      TEXT NOT NULL,
    image      TEXT NOT NULL,
    procfile   TEXT NOT NULL DEFAULT '{}',
    dockerfile TEXT NOT NULL DEFAULT '',
    sha        TEXT NOT NULL DEFAULT '',
    command    TEXT,
    entrypoint TEXT,
    created    TEXT NOT NULL
);
CREATE INDEX builds_app ON builds(app_id, created);

CREATE TABLE configs (
    uuid    TEXT PRIMARY KEY,
    app_id  TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    owner   TEXT NOT NULL,
    vals    TEXT NOT NULL DEFAULT '{}',
    memory  TEXT NOT NULL DEFAULT '{}',
    cpu     TEXT NOT NULL DEFAULT '{}',
    tags    TEXT NOT NULL DEFAULT '{}',
    policy  TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL
);

CREATE TABLE releases (
    uuid    TEXT PRIMARY KEY,
    app_id  TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    owner   TEXT NOT NULL,
    version INTEGER NOT NULL,
    build   TEXT REFERENCES builds(uuid),
    config  TEXT NOT NULL REFERENCES configs(uuid),
    summary TEXT NOT NULL,
    created TEXT NOT NULL,
    UNIQUE (app_id, version)
);

CREATE TABLE instances (
    uuid         TEXT PRIMARY KEY,
    app_id       TEXT NOT NULL,
    release      INTEGER NOT NULL,
    proc_type    TEXT NOT NULL,
    num          INTEGER NOT NULL,
    state        TEXT NOT NULL,
    exit_code    INTEGER,
    message      TEXT,
    engine_id    TEXT,
    node         TEXT,
    restarts     INTEGER NOT NULL DEFAULT 0,
    next_restart TEXT,
    restart_requested INTEGER NOT NULL DEFAULT 0,
    stopped      INTEGER NOT NULL DEFAULT 0,
    ports        TEXT NOT NULL DEFAULT '[]',
    created      TEXT NOT NULL,
    updated      TEXT NOT NULL,
    -- One instance per slot and release: a restarted server can never double a slot.
    UNIQUE (app_id, proc_type, num, release)
);

-- Deleted apps, kept a while for dialects that list recent terminations.
CREATE TABLE tombstones (
    app_uuid TEXT PRIMARY KEY,
    owner_id INTEGER NOT NULL,
    body     TEXT NOT NULL,
    deleted  TEXT NOT NULL
);
CREATE INDEX tombstones_deleted ON tombstones(deleted);

CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    object  TEXT NOT NULL,
    actor   TEXT NOT NULL,
    message TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX events_object ON events(object, id);

CREATE TABLE grants (
    object  TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    level   TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (object, user_id)
);

CREATE TABLE domains (
    domain  TEXT PRIMARY KEY,
    app_id  TEXT NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    owner   TEXT NOT NULL,
    created TEXT NOT NULL
);

CREATE TABLE ssh_keys (
    uuid        TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    public      TEXT NOT NULL,
    fingerprint TEXT NOT NULL UNIQUE,
    created     TEXT NOT NULL,
    UNIQUE (user_id, id)
);

CREATE TABLE jobs (
    uuid      TEXT PRIMARY KEY,
    owner_id  INTEGER NOT NULL,
    app_id    TEXT,
    kind      TEXT NOT NULL,
    image     TEXT NOT NULL,
    command   TEXT NOT NULL,
    state     TEXT NOT NULL,
    exit_code INTEGER,
    output    TEXT NOT NULL DEFAULT '',
    created   TEXT NOT NULL,
    finished  TEXT
);
CREATE INDEX jobs_state ON jobs(state);
