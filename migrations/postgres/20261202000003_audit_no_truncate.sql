-- TRUNCATE skips row triggers: refuse it on the append-only tables too.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER compensation_revisions_no_truncate BEFORE TRUNCATE ON compensation_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION compensation_revision_frozen();
