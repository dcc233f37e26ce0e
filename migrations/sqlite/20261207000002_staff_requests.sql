-- No admin alone: granting finance or admin, and resetting the password or
-- second factor of a finance or admin account, is asked for by one admin
-- and carried out only when another admin (not the one it concerns)
-- approves.
CREATE TABLE staff_requests (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL,
    account_email    TEXT NOT NULL,
    action           TEXT NOT NULL CHECK (action IN ('roles', 'reset-password', 'reset-two-factor')),
    -- For 'roles': the whole set the account is to hold.
    roles            TEXT NOT NULL DEFAULT '',
    requested_by     TEXT NOT NULL,
    requested_email  TEXT NOT NULL,
    requested_at     BIGINT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('waiting', 'approved', 'declined')),
    decided_by       TEXT,
    decided_at       BIGINT
);
CREATE INDEX staff_requests_waiting ON staff_requests (state, requested_at);
