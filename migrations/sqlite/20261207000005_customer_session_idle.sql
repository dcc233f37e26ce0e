-- A customer session ends after hours without use, and when an import
-- changes the customer's e-mail address (the session belongs to the
-- address the link was mailed to). Sessions from before have neither and
-- end: their customers sign in again.
ALTER TABLE customer_sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customer_sessions ADD COLUMN email TEXT NOT NULL DEFAULT '';
