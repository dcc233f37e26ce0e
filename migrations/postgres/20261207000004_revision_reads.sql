-- Four eyes on the inputs: each revision records what it read of the
-- customer and subscription tables (a SHA-256 over the rows, in order), so
-- the approval page can say whether they changed since the revision before.
ALTER TABLE compensation_revisions ADD COLUMN reference_digest TEXT NOT NULL DEFAULT '';
ALTER TABLE compensation_revisions ADD COLUMN reference_rows BIGINT NOT NULL DEFAULT 0;
