-- One row per committed change to the public status, appended in the same
-- transaction as the change. Its id is the snapshot version clients see; the
-- writing transaction also NOTIFYs plaster_status so every node rebuilds.
CREATE TABLE status_changes (
    id          BIGSERIAL PRIMARY KEY,
    changed_at  BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    subject_id  TEXT NOT NULL
);
