-- The personal name Deis accounts carry (`first_name`, `last_name` at
-- register and in every user view); empty when none was given.
ALTER TABLE users ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name TEXT NOT NULL DEFAULT '';
