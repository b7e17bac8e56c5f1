-- Images Berth built, keyed by their full reference (`registry/namespace/
-- repository:tag`, defaults filled in): who owns the tag (only their builds
-- may replace it) and the catalog repository it belongs to (its visibility
-- decides who may run it). A tag is claimed when its first build is
-- submitted; `repo_id` is set once a build of it has completed.

CREATE TABLE built_images (
    image    TEXT PRIMARY KEY,
    owner_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    repo_id  INTEGER REFERENCES image_repos(id) ON DELETE SET NULL,
    created  TEXT NOT NULL
);

-- Builds completed before ownership was kept: the earliest completed build
-- of a tag owns it. Their `name:tag` gets the defaults the core fills in.
INSERT OR IGNORE INTO built_images (image, owner_id, repo_id, created)
SELECT
    CASE
        WHEN instr(image, '/') = 0 THEN 'docker.io/library/' || image
        WHEN head = 'docker.io' AND instr(substr(image, 11), '/') = 0
            THEN 'docker.io/library/' || substr(image, 11)
        WHEN head LIKE '%.%' OR head LIKE '%:%' OR head = 'localhost' THEN image
        ELSE 'docker.io/' || image
    END,
    owner_id, repo_id, created
FROM (
    SELECT json_extract(result, '$.image') AS image,
           substr(json_extract(result, '$.image'), 1,
                  instr(json_extract(result, '$.image'), '/') - 1) AS head,
           owner_id,
           json_extract(result, '$.container_id') AS repo_id,
           created, id
    FROM tasks
    WHERE kind = 'BuildContainer' AND state = 'completed'
      AND json_extract(result, '$.image') IS NOT NULL
      AND json_extract(result, '$.container_id') IN (SELECT id FROM image_repos)
)
ORDER BY julianday(created), id;
