-- The ledger, executions and payouts (runs.md §2-3).

-- One transaction per line of a run (kind 'line'), per adjustment of a line
-- (kind 'adjustment') and per settled payout (kind 'payout'). Its id is its
-- key rendered as a JSON array, e.g. ["atg-2024",1,"c-1","b-17"] for a line
-- and ["atg-2024",1,"c-1","b-17","adjust",1] for an adjustment, so the key is
-- unique by the primary key itself: a second node or a rerun cannot post it
-- twice. Never updated or deleted (triggers below).
CREATE TABLE ledger_transactions (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('line', 'adjustment', 'payout')),
    -- The line's key parts (for a payout: its run and customer).
    run_id        TEXT NOT NULL,
    position      BIGINT NOT NULL,
    rule          TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    reference     TEXT NOT NULL,
    -- What the transaction moves (an adjustment: the difference, signed).
    amount_minor  BIGINT NOT NULL,
    currency      TEXT NOT NULL,
    -- The revision whose line this is, and the execution that posted it.
    revision      BIGINT NOT NULL,
    execution_id  TEXT NOT NULL,
    payout_id     TEXT NOT NULL DEFAULT '',
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX ledger_transactions_run ON ledger_transactions (run_id, kind, position, customer_id, reference);
CREATE INDEX ledger_transactions_execution ON ledger_transactions (execution_id, customer_id, currency);
-- Finding posted keys that a newer revision no longer has.
CREATE INDEX compensation_lines_key ON compensation_lines (run_id, revision, position, customer_id, reference);

-- Debits equal credits per currency in every transaction (checked where a
-- transaction is written, ledger::post, and by tests over random runs).
CREATE TABLE ledger_postings (
    transaction_id  TEXT NOT NULL,
    n               BIGINT NOT NULL,
    account         TEXT NOT NULL,
    currency        TEXT NOT NULL,
    debit_minor     BIGINT NOT NULL CHECK (debit_minor >= 0),
    credit_minor    BIGINT NOT NULL CHECK (credit_minor >= 0),
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (transaction_id, n)
);
CREATE INDEX ledger_postings_account ON ledger_postings (account, currency, created_at);

-- An execution of an approved revision: a job any node claims under a
-- lease; `next_seq` is how far it got, so a restarted one resumes there.
CREATE TABLE compensation_executions (
    id              TEXT PRIMARY KEY,
    run_id          TEXT NOT NULL,
    revision        BIGINT NOT NULL,
    -- 1, 2, ... per run.
    number          BIGINT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    -- posting -> settling (payouts and notices) -> done
    stage           TEXT NOT NULL DEFAULT 'posting',
    requested_by    TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    locked_until    BIGINT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    lines_total     BIGINT NOT NULL,
    next_seq        BIGINT NOT NULL DEFAULT 0,
    -- In the settling stage: the last customer whose payouts and notice are made.
    settle_after    TEXT NOT NULL DEFAULT '',
    posted          BIGINT NOT NULL DEFAULT 0,
    already_posted  BIGINT NOT NULL DEFAULT 0,
    discrepancies   BIGINT NOT NULL DEFAULT 0,
    payouts         BIGINT NOT NULL DEFAULT 0,
    notices         BIGINT NOT NULL DEFAULT 0,
    error           TEXT,
    finished_at     BIGINT,
    UNIQUE (run_id, number)
);
CREATE INDEX compensation_executions_state ON compensation_executions (state, created_at);

-- A key whose posted amount differs from the newest revision's line
-- (newest_minor NULL: the line vanished). Found again by every execution;
-- settled by an adjustment that a second finance member approved.
CREATE TABLE ledger_discrepancies (
    run_id            TEXT NOT NULL,
    position          BIGINT NOT NULL,
    customer_id       TEXT NOT NULL,
    reference         TEXT NOT NULL,
    rule              TEXT NOT NULL,
    currency          TEXT NOT NULL,
    posted_minor      BIGINT NOT NULL,
    newest_minor      BIGINT,
    revision          BIGINT NOT NULL,
    found_at          BIGINT NOT NULL,
    -- An adjustment asked for (by one member) and approved (by another).
    requested_by      TEXT,
    requested_email   TEXT,
    requested_at      BIGINT,
    settled_by        TEXT,
    settled_at        BIGINT,
    adjustment_id     TEXT,
    PRIMARY KEY (run_id, position, customer_id, reference)
);

-- One payout per customer and currency per execution (and per approved
-- positive adjustment). Its id is stable: every retry sends the same one.
CREATE TABLE payouts (
    id             TEXT PRIMARY KEY,
    run_id         TEXT NOT NULL,
    execution_id   TEXT NOT NULL,
    customer_id    TEXT NOT NULL,
    currency       TEXT NOT NULL,
    amount_minor   BIGINT NOT NULL,
    -- [{"rule", "reference", "amount_minor"}, ...] as sent.
    lines_json     TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'settled', 'rejected')),
    batch_id       TEXT,
    reason         TEXT,
    created_at     BIGINT NOT NULL,
    settled_at     BIGINT
);
CREATE INDEX payouts_run ON payouts (run_id, customer_id);
CREATE INDEX payouts_state ON payouts (state, batch_id);
CREATE INDEX payouts_batch ON payouts (batch_id);

-- A batch keeps its body and id for every retry (webhook-id = batch id).
CREATE TABLE payout_batches (
    id               TEXT PRIMARY KEY,
    body             TEXT NOT NULL,
    payouts          BIGINT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'delivered')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    locked_until     BIGINT,
    last_error       TEXT,
    -- 'endpoint' or 'inbox': where it went.
    delivered_to     TEXT,
    created_at       BIGINT NOT NULL,
    delivered_at     BIGINT
);
CREATE INDEX payout_batches_due ON payout_batches (state, next_attempt_at);

-- The operator's payout endpoint, set by an admin (one row, id 1). Without
-- it, batches go to Plaster's own inbox.
CREATE TABLE payout_endpoint (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Plaster's own payout receiver: every batch it accepted, as received.
CREATE TABLE payout_inbox (
    batch_id     TEXT PRIMARY KEY,
    body         TEXT NOT NULL,
    payouts      BIGINT NOT NULL,
    received_at  BIGINT NOT NULL
);

CREATE FUNCTION ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: correct it with a new transaction';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_postings_no_truncate BEFORE TRUNCATE ON ledger_postings
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
