-- One row per committed change to the public status, appended in the same
-- transaction as the change. Its id is the snapshot version clients see, and
-- a node that sees a larger MAX(id) than it built from knows to rebuild.
CREATE TABLE status_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    changed_at  BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    subject_id  TEXT NOT NULL
);
