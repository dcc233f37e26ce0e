-- The status side: components, their history, incidents, maintenance, settings.
-- Times are milliseconds since the Unix epoch (UTC); languages are sv, nb, en.

CREATE TABLE component_groups (
    id          TEXT PRIMARY KEY,
    position    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE component_group_translations (
    group_id    TEXT NOT NULL REFERENCES component_groups(id) ON DELETE CASCADE,
    lang        TEXT NOT NULL CHECK (lang IN ('sv', 'nb', 'en')),
    name        TEXT NOT NULL,
    PRIMARY KEY (group_id, lang)
);

CREATE TABLE components (
    id          TEXT PRIMARY KEY,
    group_id    TEXT REFERENCES component_groups(id) ON DELETE SET NULL,
    position    BIGINT NOT NULL DEFAULT 0,
    status      TEXT NOT NULL DEFAULT 'operational' CHECK (status IN
                  ('operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance')),
    hidden      BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE component_translations (
    component_id TEXT NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    lang         TEXT NOT NULL CHECK (lang IN ('sv', 'nb', 'en')),
    name         TEXT NOT NULL,
    description  TEXT,
    PRIMARY KEY (component_id, lang)
);

-- Every status a component has had, from `changed_at` until its next row:
-- the source of the uptime bars.
CREATE TABLE component_status_history (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    component_id TEXT NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    changed_at   BIGINT NOT NULL,
    incident_id  TEXT
);
CREATE INDEX component_status_history_by_time ON component_status_history (component_id, changed_at);

CREATE TABLE incidents (
    id           TEXT PRIMARY KEY,
    impact       TEXT NOT NULL CHECK (impact IN ('none', 'minor', 'major', 'critical', 'maintenance')),
    status       TEXT NOT NULL CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved', 'postmortem')),
    started_at   BIGINT NOT NULL,
    resolved_at  BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX incidents_by_start ON incidents (started_at);

CREATE TABLE incident_translations (
    incident_id  TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    lang         TEXT NOT NULL CHECK (lang IN ('sv', 'nb', 'en')),
    title        TEXT NOT NULL,
    PRIMARY KEY (incident_id, lang)
);

CREATE TABLE incident_updates (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    status       TEXT NOT NULL CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved', 'postmortem')),
    display_at   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX incident_updates_by_incident ON incident_updates (incident_id, display_at);

CREATE TABLE incident_update_translations (
    update_id    TEXT NOT NULL REFERENCES incident_updates(id) ON DELETE CASCADE,
    lang         TEXT NOT NULL CHECK (lang IN ('sv', 'nb', 'en')),
    body         TEXT NOT NULL,
    PRIMARY KEY (update_id, lang)
);

CREATE TABLE incident_update_components (
    update_id    TEXT NOT NULL REFERENCES incident_updates(id) ON DELETE CASCADE,
    component_id TEXT NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    old_status   TEXT NOT NULL,
    new_status   TEXT NOT NULL,
    PRIMARY KEY (update_id, component_id)
);

CREATE TABLE scheduled_maintenances (
    id              TEXT PRIMARY KEY,
    status          TEXT NOT NULL CHECK (status IN ('scheduled', 'in_progress', 'verifying', 'completed')),
    scheduled_for   BIGINT NOT NULL,
    scheduled_until BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CHECK (scheduled_until > scheduled_for)
);

CREATE TABLE scheduled_maintenance_translations (
    maintenance_id TEXT NOT NULL REFERENCES scheduled_maintenances(id) ON DELETE CASCADE,
    lang           TEXT NOT NULL CHECK (lang IN ('sv', 'nb', 'en')),
    title          TEXT NOT NULL,
    body           TEXT NOT NULL,
    PRIMARY KEY (maintenance_id, lang)
);

CREATE TABLE scheduled_maintenance_components (
    maintenance_id TEXT NOT NULL REFERENCES scheduled_maintenances(id) ON DELETE CASCADE,
    component_id   TEXT NOT NULL REFERENCES components(id) ON DELETE CASCADE,
    PRIMARY KEY (maintenance_id, component_id)
);

CREATE TABLE page_settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- Staff accounts exist from the start so the first admin can be created on
-- first run; sign-in, sessions and roles grow in the staff console.
CREATE TABLE staff_accounts (
    id                    TEXT PRIMARY KEY,
    email                 TEXT NOT NULL UNIQUE,
    password_hash         TEXT NOT NULL,
    roles                 TEXT NOT NULL,
    must_change_password  BIGINT NOT NULL DEFAULT 1,
    created_at            BIGINT NOT NULL
);
