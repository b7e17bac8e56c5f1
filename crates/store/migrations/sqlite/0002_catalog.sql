-- The image catalog (RCABench containers and their versions) and the
-- durable tasks that build images. Enumerations are stored as RCABench's
-- numbers: kind 0 algorithm / 1 benchmark / 2 pedestal; status 1 enabled /
-- 0 disabled / -1 deleted (kept, but its name is free again).

CREATE TABLE image_repos (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    name      TEXT NOT NULL,
    kind      INTEGER NOT NULL,
    readme    TEXT NOT NULL DEFAULT '',
    is_public INTEGER NOT NULL DEFAULT 0,
    status    INTEGER NOT NULL DEFAULT 1,
    owner_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created   TEXT NOT NULL,
    updated   TEXT NOT NULL
);
CREATE UNIQUE INDEX image_repos_live_name ON image_repos(name) WHERE status <> -1;
CREATE INDEX image_repos_owner ON image_repos(owner_id);

CREATE TABLE image_repo_labels (
    repo_id INTEGER NOT NULL REFERENCES image_repos(id) ON DELETE CASCADE,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (repo_id, key, value)
);

CREATE TABLE image_versions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id     INTEGER NOT NULL REFERENCES image_repos(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    image_ref   TEXT NOT NULL,
    registry    TEXT NOT NULL,
    namespace   TEXT NOT NULL,
    repository  TEXT NOT NULL,
    tag         TEXT NOT NULL,
    digest      TEXT,
    command     TEXT NOT NULL DEFAULT '',
    -- JSON array of parameter specs, or NULL when none were given.
    env_vars    TEXT,
    github_link TEXT NOT NULL DEFAULT '',
    helm_config TEXT,
    usage       INTEGER NOT NULL DEFAULT 0,
    status      INTEGER NOT NULL DEFAULT 1,
    created     TEXT NOT NULL,
    updated     TEXT NOT NULL
);
CREATE UNIQUE INDEX image_versions_live_name ON image_versions(repo_id, name) WHERE status <> -1;
CREATE INDEX image_versions_image_ref ON image_versions(image_ref);

CREATE TABLE tasks (
    id       TEXT PRIMARY KEY,
    kind     TEXT NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    group_id TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    -- pending, running, completed, error, cancelled
    state    TEXT NOT NULL,
    payload  TEXT NOT NULL DEFAULT '{}',
    log      TEXT NOT NULL DEFAULT '',
    result   TEXT,
    created  TEXT NOT NULL,
    updated  TEXT NOT NULL
);
CREATE INDEX tasks_owner ON tasks(owner_id, created);
CREATE INDEX tasks_state ON tasks(state);
