-- Customers' own pages and the claims queue.

-- A sign-in link mailed to a known customer: only its SHA-256 is kept;
-- valid 15 minutes and once (`used_at`).
CREATE TABLE customer_sign_in_links (
    token_hash   TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX customer_sign_in_links_customer ON customer_sign_in_links (customer_id, created_at);

-- Every request for a link, known address or not, so the limits per
-- address and per client address cannot tell the two apart.
CREATE TABLE customer_sign_in_requests (
    email       TEXT NOT NULL,
    client      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX customer_sign_in_requests_email ON customer_sign_in_requests (email, created_at);
CREATE INDEX customer_sign_in_requests_client ON customer_sign_in_requests (client, created_at);

-- A signed-in customer: a cookie of its own, apart from staff sessions.
CREATE TABLE customer_sessions (
    token_hash   TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL,
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);

-- Every record of the stored event logs, by customer: a claim's evidence
-- is one index range, however big the logs (filled when a log is stored).
CREATE TABLE log_records (
    sha256       TEXT NOT NULL,
    line         BIGINT NOT NULL,
    customer_id  TEXT NOT NULL,
    ts_ms        BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    bet_id       TEXT NOT NULL DEFAULT '',
    game         TEXT NOT NULL DEFAULT '',
    round_id     TEXT NOT NULL DEFAULT '',
    stake_minor  BIGINT,
    currency     TEXT NOT NULL DEFAULT '',
    channel      TEXT NOT NULL DEFAULT '',
    error        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (sha256, line)
);
CREATE INDEX log_records_customer ON log_records (customer_id, sha256, ts_ms);
ALTER TABLE log_blobs ADD COLUMN records_indexed BIGINT NOT NULL DEFAULT 0;

-- A customer's claim about an incident, and what support decided.
CREATE TABLE claims (
    id               TEXT PRIMARY KEY,
    customer_id      TEXT NOT NULL,
    incident_id      TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('missed_bet', 'sign_in', 'streaming')),
    bet_id           TEXT NOT NULL DEFAULT '',
    happened_at      BIGINT,
    description      TEXT NOT NULL,
    screenshot_type  TEXT,
    screenshot       BLOB,
    -- open -> (awaiting_finance ->) approved | rejected
    state            TEXT NOT NULL CHECK (state IN ('open', 'awaiting_finance', 'approved', 'rejected')),
    assigned_to      TEXT,
    assigned_email   TEXT,
    -- run_refund | run_goodwill | own_goodwill | reject
    decision         TEXT,
    amount_minor     BIGINT,
    currency         TEXT,
    reason           TEXT,
    decided_by       TEXT,
    decided_at       BIGINT,
    approved_by      TEXT,
    approved_at      BIGINT,
    -- The ledger transaction the decision posted, or that was already there.
    transaction_id   TEXT,
    payout_id        TEXT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX claims_queue ON claims (state, created_at);
CREATE INDEX claims_customer ON claims (customer_id, created_at);

-- What support may give of its own per incident and currency, and above
-- which amount a decision waits for a finance approver.
CREATE TABLE claim_limits (
    incident_id           TEXT NOT NULL,
    currency              TEXT NOT NULL,
    goodwill_cap_minor    BIGINT NOT NULL CHECK (goodwill_cap_minor >= 0),
    approval_above_minor  BIGINT NOT NULL CHECK (approval_above_minor >= 0),
    updated_by            TEXT NOT NULL,
    updated_at            BIGINT NOT NULL,
    PRIMARY KEY (incident_id, currency)
);

-- A customer's page reads their lines, ledger entries and payouts.
CREATE INDEX compensation_lines_by_customer ON compensation_lines (customer_id, run_id, revision);
CREATE INDEX ledger_transactions_customer ON ledger_transactions (customer_id, run_id);
CREATE INDEX payouts_customer ON payouts (customer_id, created_at);
