-- Images Berth built, by `name:tag`: who owns the tag (only their builds may
-- replace it) and the catalog repository it belongs to (its visibility
-- decides who may run it). A tag is claimed when its first build is
-- submitted; `repo_id` is set once a build of it has completed.

CREATE TABLE built_images (
    image    TEXT PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    repo_id  INTEGER REFERENCES image_repos(id) ON DELETE SET NULL,
    created  TEXT NOT NULL
);

-- Builds completed before ownership was kept: the earliest build of a tag owns it.
INSERT OR IGNORE INTO built_images (image, owner_id, repo_id, created)
SELECT json_extract(result, '$.image'), owner_id, json_extract(result, '$.container_id'), created
FROM tasks
WHERE kind = 'BuildContainer' AND state = 'completed'
  AND json_extract(result, '$.image') IS NOT NULL
  AND json_extract(result, '$.container_id') IN (SELECT id FROM image_repos)
ORDER BY julianday(created), id;
