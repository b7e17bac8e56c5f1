-- Script jobs (NDS Labs): the container a job runs in and what was last
-- observed of it. Jobs are kept after they finish until deleted.

ALTER TABLE jobs ADD COLUMN script_name TEXT;
ALTER TABLE jobs ADD COLUMN dataset TEXT;
ALTER TABLE jobs ADD COLUMN container_id TEXT;
ALTER TABLE jobs ADD COLUMN node TEXT;
ALTER TABLE jobs ADD COLUMN started TEXT;
-- The last resource sample, as JSON.
ALTER TABLE jobs ADD COLUMN metrics TEXT;

CREATE INDEX jobs_owner_kind ON jobs(owner_id, kind, created);
CREATE INDEX jobs_container ON jobs(container_id);
CREATE INDEX jobs_kind_created ON jobs(kind, created);

-- jobs.owner_id predates a foreign key; a deleted user's jobs go with them
-- (the reconciler then removes their containers).
CREATE TRIGGER jobs_of_deleted_user AFTER DELETE ON users
BEGIN
    DELETE FROM jobs WHERE owner_id = OLD.id;
END;
