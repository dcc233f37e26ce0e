-- Staff console: sessions, sign-in throttling, the audit log, message templates.

-- The cookie carries a random token; only its SHA-256 is stored, so a
-- leaked table cannot be replayed as cookies.
CREATE TABLE staff_sessions (
    token_hash    TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES staff_accounts(id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX staff_sessions_account ON staff_sessions (account_id);

-- Failed sign-ins by a key (the e-mail as typed, lower-cased, or the client
-- address), whether or not an account exists, so throttling reveals nothing.
CREATE TABLE login_failures (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    key        TEXT NOT NULL,
    failed_at  BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, failed_at);

ALTER TABLE staff_accounts ADD COLUMN disabled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE staff_accounts ADD COLUMN password_changed_at BIGINT;

-- Append-only: who did what, when, with the state before and after (JSON).
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           BIGINT NOT NULL,
    actor_id     TEXT,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    before_json  TEXT,
    after_json   TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- Reusable update texts ("We are investigating…") per language.
CREATE TABLE message_templates (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    stage       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE TABLE message_template_translations (
    template_id  TEXT NOT NULL REFERENCES message_templates(id) ON DELETE CASCADE,
    lang         TEXT NOT NULL,
    body         TEXT NOT NULL,
    PRIMARY KEY (template_id, lang)
);
