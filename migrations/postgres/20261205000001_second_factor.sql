-- One-time passwords (new accounts, resets by an admin) stop opening
-- anything 72 hours after they were issued; NULL for a chosen password.
ALTER TABLE staff_accounts ADD COLUMN password_expires_at BIGINT;
-- TOTP (RFC 6238): the confirmed secret (base32), the newest time step a
-- code was accepted for (each code works once), and a secret shown on the
-- enrolment page but not yet confirmed with a code.
ALTER TABLE staff_accounts ADD COLUMN totp_secret TEXT;
ALTER TABLE staff_accounts ADD COLUMN totp_last_step BIGINT;
ALTER TABLE staff_accounts ADD COLUMN totp_pending_secret TEXT;
ALTER TABLE staff_accounts ADD COLUMN totp_enabled_at BIGINT;
-- A session whose password was right but whose code has not come yet: it
-- opens only the code page.
ALTER TABLE staff_sessions ADD COLUMN awaiting_code BIGINT NOT NULL DEFAULT 0;
-- When the member last confirmed it was them (password or code again)
-- for a dangerous change; it counts for a few minutes.
ALTER TABLE staff_sessions ADD COLUMN stepped_up_at BIGINT;
-- Recovery codes: SHA-256 of each (they are 80 random bits), used once.
CREATE TABLE staff_recovery_codes (
    account_id  TEXT NOT NULL REFERENCES staff_accounts(id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL,
    used_at     BIGINT,
    PRIMARY KEY (account_id, code_hash)
);
