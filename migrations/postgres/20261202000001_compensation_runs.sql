-- Compensation runs (runs.md §1): a plan for one incident, its event log
-- files, and the revisions its previews made.

-- Event log files, stored once per content (SHA-256) in chunks, in the
-- database itself: two nodes on one PostgreSQL share no disk, and every node
-- must read every file (docs/architecture.md, "Event log storage").
CREATE TABLE log_blobs (
    sha256      TEXT PRIMARY KEY,
    bytes       BIGINT NOT NULL,
    chunks      BIGINT NOT NULL,
    -- 0 while the chunks are being written; only complete blobs are read.
    complete    BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
CREATE TABLE log_chunks (
    sha256  TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    data    BYTEA NOT NULL,
    PRIMARY KEY (sha256, seq)
);

CREATE TABLE compensation_runs (
    -- The plan's id, unique across all runs.
    id                TEXT PRIMARY KEY,
    incident_id       TEXT NOT NULL,
    plan_toml         TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN
                        ('draft', 'previewing', 'previewed', 'approved', 'executing', 'executed')),
    -- Bumped by every input change; a revision remembers the version it
    -- read, and only a revision of the current version can be approved.
    inputs_version    BIGINT NOT NULL DEFAULT 1,
    created_by        TEXT NOT NULL,
    created_by_email  TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    approved_revision BIGINT,
    approved_by       TEXT,
    approved_at       BIGINT
);
CREATE INDEX compensation_runs_incident ON compensation_runs (incident_id);

-- Everyone who changed a run's inputs: none of them may approve it.
CREATE TABLE compensation_run_editors (
    run_id      TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    PRIMARY KEY (run_id, account_id)
);

CREATE TABLE compensation_run_logs (
    run_id    TEXT NOT NULL,
    -- 1, 2, ... in the order the files were added: the engine reads them
    -- in this order, which decides which malformed records come first.
    position  BIGINT NOT NULL,
    sha256    TEXT NOT NULL,
    name      TEXT NOT NULL,
    bytes     BIGINT NOT NULL,
    added_by  TEXT NOT NULL,
    added_at  BIGINT NOT NULL,
    PRIMARY KEY (run_id, sha256)
);

-- The preview job: claimed by any node under a lease, which a live worker
-- keeps extending; when its node dies the lease runs out and another node
-- starts it again.
CREATE TABLE compensation_previews (
    id              TEXT PRIMARY KEY,
    run_id          TEXT NOT NULL,
    inputs_version  BIGINT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    requested_by    TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    locked_until    BIGINT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    bytes_total     BIGINT NOT NULL DEFAULT 0,
    bytes_done      BIGINT NOT NULL DEFAULT 0,
    records_done    BIGINT NOT NULL DEFAULT 0,
    error           TEXT,
    revision        BIGINT,
    finished_at     BIGINT
);
CREATE INDEX compensation_previews_run ON compensation_previews (run_id, created_at);
CREATE INDEX compensation_previews_state ON compensation_previews (state);

-- A revision never changes once made (triggers below).
CREATE TABLE compensation_revisions (
    run_id          TEXT NOT NULL,
    revision        BIGINT NOT NULL,
    inputs_version  BIGINT NOT NULL,
    plan_toml       TEXT NOT NULL,
    report_json     TEXT NOT NULL,
    digest          TEXT NOT NULL,
    lines           BIGINT NOT NULL,
    customers       BIGINT NOT NULL,
    -- [[unix minute, failure records], ...] for the chart of the incident.
    failures_json   TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (run_id, revision)
);

-- Every line of a revision, `seq` in --details order.
CREATE TABLE compensation_lines (
    run_id        TEXT NOT NULL,
    revision      BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    position      BIGINT NOT NULL,
    rule          TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    reference     TEXT NOT NULL,
    amount_minor  BIGINT NOT NULL,
    currency      TEXT NOT NULL,
    PRIMARY KEY (run_id, revision, seq)
);
CREATE INDEX compensation_lines_customer ON compensation_lines (run_id, revision, customer_id);
CREATE INDEX compensation_lines_amount ON compensation_lines (run_id, revision, amount_minor);

CREATE FUNCTION compensation_revision_frozen() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'a revision never changes';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER compensation_revisions_frozen BEFORE UPDATE OR DELETE ON compensation_revisions
    FOR EACH ROW EXECUTE FUNCTION compensation_revision_frozen();
CREATE TRIGGER compensation_lines_frozen BEFORE UPDATE OR DELETE ON compensation_lines
    FOR EACH ROW EXECUTE FUNCTION compensation_revision_frozen();
CREATE TRIGGER compensation_lines_no_truncate BEFORE TRUNCATE ON compensation_lines
    FOR EACH STATEMENT EXECUTE FUNCTION compensation_revision_frozen();

-- A run page shows its history from the audit log.
CREATE INDEX audit_log_target ON audit_log (target, id);
