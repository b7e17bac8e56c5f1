-- Tapis pod volumes and snapshots (their files are folders under the data
-- dir) and the image allow-list pods are held to.
CREATE TABLE pod_volumes (
    volume_id   TEXT PRIMARY KEY,
    owner_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    description TEXT NOT NULL DEFAULT '',
    size_limit  INTEGER NOT NULL,
    created     TEXT NOT NULL,
    updated     TEXT NOT NULL
);

CREATE TABLE pod_snapshots (
    snapshot_id        TEXT PRIMARY KEY,
    owner_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    source_volume_id   TEXT NOT NULL,
    source_volume_path TEXT NOT NULL,
    destination_path   TEXT NOT NULL DEFAULT '',
    description        TEXT NOT NULL DEFAULT '',
    size_limit         INTEGER NOT NULL,
    cron               TEXT NOT NULL DEFAULT '',
    retention_policy   TEXT NOT NULL DEFAULT '',
    created            TEXT NOT NULL,
    updated            TEXT NOT NULL
);

CREATE TABLE pod_images (
    image       TEXT PRIMARY KEY,
    tenants     TEXT NOT NULL DEFAULT '[]',
    description TEXT NOT NULL DEFAULT '',
    added_by    TEXT NOT NULL,
    created     TEXT NOT NULL
);
