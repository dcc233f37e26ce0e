-- Notifications: a transactional outbox, Plaster's own mailbox (used when
-- no SMTP server is configured) and e-mail subscribers.

-- One row per message to send, inserted in the same transaction as the
-- change that causes it. The id is deterministic where the cause is (a
-- change and a subscriber), so repeating the cause cannot queue twice.
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    message_id       TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    unsubscribe_url  TEXT,
    state            TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    locked_until     BIGINT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT,
    last_reply       TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- What Plaster "sent" without an SMTP server: the demo's mail, readable
-- in the staff console.
CREATE TABLE mailbox (
    id           BIGSERIAL PRIMARY KEY,
    message_id   TEXT NOT NULL UNIQUE,
    recipient    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body_text    TEXT NOT NULL,
    body_html    TEXT NOT NULL,
    delivered_at BIGINT NOT NULL
);

CREATE TABLE subscribers (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    lang          TEXT NOT NULL CHECK (lang IN ('sv', 'nb', 'en')),
    -- Comma-separated component ids; empty means every component.
    components    TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'unsubscribed')),
    -- Random; in confirm, manage and unsubscribe links.
    token         TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    confirmed_at  BIGINT
);

-- How far the subscriber notifier has read `status_changes`. It starts at
-- the newest change, so history is never mailed out.
CREATE TABLE notify_cursor (
    name            TEXT PRIMARY KEY,
    last_change_id  BIGINT NOT NULL
);
INSERT INTO notify_cursor (name, last_change_id)
    SELECT 'subscribers', COALESCE(MAX(id), 0) FROM status_changes;
