-- Webhook subscribers (added by admins): Statuspage-shaped JSON, signed
-- with HMAC-SHA256 using the secret, delivered through the outbox.
CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    -- Comma-separated component ids; empty means every component.
    components  TEXT NOT NULL DEFAULT '',
    disabled    BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
