-- runs.md §3: a payout in Plaster's inbox has left nobody's account. Finance
-- settles an inbox batch only by marking it paid by another channel: one
-- member asks (saying how it was paid), another confirms.
ALTER TABLE payout_inbox ADD COLUMN paid_note TEXT;
ALTER TABLE payout_inbox ADD COLUMN paid_asked_by TEXT;
ALTER TABLE payout_inbox ADD COLUMN paid_asked_email TEXT;
ALTER TABLE payout_inbox ADD COLUMN paid_asked_at BIGINT;
ALTER TABLE payout_inbox ADD COLUMN paid_confirmed_by TEXT;
ALTER TABLE payout_inbox ADD COLUMN paid_confirmed_at BIGINT;
