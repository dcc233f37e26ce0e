-- What support may pay alone is bounded three ways (issue: money needs two
-- people): per claim (approval_above_minor), per customer and incident, and
-- per agent per day. Rows from before start at 0: every paying decision
-- waits for finance until finance sets the bounds (fail closed).
ALTER TABLE claim_limits ADD COLUMN customer_incident_max_minor BIGINT NOT NULL DEFAULT 0
    CHECK (customer_incident_max_minor >= 0);
ALTER TABLE claim_limits ADD COLUMN agent_day_max_minor BIGINT NOT NULL DEFAULT 0
    CHECK (agent_day_max_minor >= 0);
CREATE INDEX claims_by_decider ON claims (decided_by, decided_at);
