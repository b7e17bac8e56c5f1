-- Tapis pod templates and their immutable tags.
CREATE TABLE templates (
    template_id     TEXT PRIMARY KEY,
    owner_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    description     TEXT NOT NULL DEFAULT '',
    metatags        TEXT NOT NULL DEFAULT '[]',
    archive_message TEXT NOT NULL DEFAULT '',
    created         TEXT NOT NULL,
    updated         TEXT NOT NULL
);

CREATE TABLE template_tags (
    template_id    TEXT NOT NULL REFERENCES templates(template_id) ON DELETE CASCADE,
    tag            TEXT NOT NULL,
    tag_timestamp  TEXT NOT NULL,
    pod_definition TEXT NOT NULL,
    commit_message TEXT NOT NULL,
    added_by       TEXT NOT NULL,
    created        TEXT NOT NULL,
    PRIMARY KEY (template_id, tag_timestamp)
);
