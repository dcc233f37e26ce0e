-- Standard Webhooks secret rotation: after a rotation the old secret keeps
-- signing (a second signature) until previous_until, so receivers can
-- switch without dropping a delivery.
ALTER TABLE webhooks ADD COLUMN previous_secret TEXT;
ALTER TABLE webhooks ADD COLUMN previous_until BIGINT;
