-- The subscription form counts the mail it sent an address lately (one
-- confirmation per 10 minutes, a few a day), so it must find them quickly.
CREATE INDEX outbox_recipient ON outbox (recipient, created_at);
