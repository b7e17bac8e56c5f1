-- Where the router reaches an instance, and whether its health check passed
-- since it last came up.
ALTER TABLE instances ADD COLUMN address TEXT;
ALTER TABLE instances ADD COLUMN ready INTEGER NOT NULL DEFAULT 0;
