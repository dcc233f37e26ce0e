-- The apology published on an incident's page, per language (Markdown).
-- Publishing replaces all languages at once; the audit log keeps the old text.
CREATE TABLE incident_apologies (
    incident_id   TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    lang          TEXT NOT NULL CHECK (lang IN ('sv', 'nb', 'en')),
    body          TEXT NOT NULL,
    published_at  BIGINT NOT NULL,
    PRIMARY KEY (incident_id, lang)
);
