//! The OpenAPI 3.1 description of the public read API, served at
//! `/api/v2/openapi.json`. Built from the same endpoint table the router
//! uses, so a path cannot be served without being described.

use serde_json::{json, Map, Value};

use crate::status::public::context::{ApiDoc, Context, API_DOCS};

fn string_enum(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
}

fn nullable(schema: &str) -> Value {
    json!({ "type": [schema, "null"] })
}

fn schemas() -> Value {
    let component_status = string_enum(&[
        "operational",
        "degraded_performance",
        "partial_outage",
        "major_outage",
        "under_maintenance",
    ]);
    let time = json!({ "type": "string", "format": "date-time",
        "description": "ISO 8601 with milliseconds and the page's UTC offset" });
    json!({
        "Page": {
            "type": "object",
            "required": ["id", "name", "url", "time_zone", "updated_at"],
            "properties": {
                "id": { "type": "string" },
                "name": { "type": "string" },
                "url": { "type": "string" },
                "time_zone": { "type": "string", "description": "IANA zone name" },
                "updated_at": time,
            }
        },
        "Status": {
            "type": "object",
            "required": ["indicator", "description"],
            "properties": {
                "indicator": string_enum(&["none", "minor", "major", "critical"]),
                "description": { "type": "string" },
            }
        },
        "Component": {
            "type": "object",
            "required": ["id", "name", "status", "created_at", "updated_at", "position",
                "description", "showcase", "start_date", "group_id", "page_id", "group",
                "only_show_if_degraded"],
            "properties": {
                "id": { "type": "string" },
                "name": { "type": "string" },
                "status": component_status,
                "created_at": time,
                "updated_at": time,
                "position": { "type": "integer" },
                "description": nullable("string"),
                "showcase": { "type": "boolean" },
                "start_date": { "type": ["string", "null"], "format": "date" },
                "group_id": nullable("string"),
                "page_id": { "type": "string" },
                "group": { "type": "boolean" },
                "only_show_if_degraded": { "type": "boolean" },
                "components": { "type": "array", "items": { "type": "string" },
                    "description": "On groups only: the ids of their components" },
            }
        },
        "AffectedComponent": {
            "type": "object",
            "required": ["code", "name", "old_status", "new_status"],
            "properties": {
                "code": { "type": "string" },
                "name": { "type": "string" },
                "old_status": component_status,
                "new_status": component_status,
            }
        },
        "IncidentUpdate": {
            "type": "object",
            "required": ["id", "status", "body", "incident_id", "created_at", "updated_at",
                "display_at", "affected_components"],
            "properties": {
                "id": { "type": "string" },
                "status": { "type": "string" },
                "body": { "type": "string" },
                "incident_id": { "type": "string" },
                "created_at": time,
                "updated_at": time,
                "display_at": time,
                "affected_components": { "type": "array",
                    "items": { "$ref": "#/components/schemas/AffectedComponent" } },
            }
        },
        "Incident": {
            "type": "object",
            "required": ["id", "name", "status", "created_at", "updated_at", "monitoring_at",
                "resolved_at", "impact", "shortlink", "started_at", "page_id",
                "incident_updates", "components"],
            "properties": {
                "id": { "type": "string" },
                "name": { "type": "string" },
                "status": string_enum(&["investigating", "identified", "monitoring", "resolved", "postmortem"]),
                "created_at": time,
                "updated_at": time,
                "monitoring_at": { "type": ["string", "null"], "format": "date-time" },
                "resolved_at": { "type": ["string", "null"], "format": "date-time" },
                "impact": string_enum(&["none", "minor", "major", "critical"]),
                "shortlink": { "type": "string" },
                "started_at": time,
                "page_id": { "type": "string" },
                "incident_updates": { "type": "array",
                    "items": { "$ref": "#/components/schemas/IncidentUpdate" },
                    "description": "Newest first" },
                "components": { "type": "array", "items": { "$ref": "#/components/schemas/Component" } },
            }
        },
        "ScheduledMaintenance": {
            "type": "object",
            "required": ["id", "name", "status", "created_at", "updated_at", "impact",
                "shortlink", "scheduled_for", "scheduled_until", "page_id",
                "incident_updates", "components"],
            "properties": {
                "id": { "type": "string" },
                "name": { "type": "string" },
                "status": string_enum(&["scheduled", "in_progress", "verifying", "completed"]),
                "created_at": time,
                "updated_at": time,
                "impact": string_enum(&["maintenance"]),
                "shortlink": { "type": "string" },
                "scheduled_for": time,
                "scheduled_until": time,
                "page_id": { "type": "string" },
                "incident_updates": { "type": "array",
                    "items": { "$ref": "#/components/schemas/IncidentUpdate" } },
                "components": { "type": "array", "items": { "$ref": "#/components/schemas/Component" } },
            }
        },
    })
}

fn object_of(fields: &[(&str, Value)]) -> Value {
    let required: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    let properties: Map<String, Value> = fields
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect();
    json!({ "type": "object", "required": required, "properties": properties })
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn list_of(name: &str) -> Value {
    json!({ "type": "array", "items": reference(name) })
}

fn describe(doc: ApiDoc) -> (&'static str, Value) {
    let page = ("page", reference("Page"));
    match doc {
        ApiDoc::Summary => (
            "Page, components, status, unresolved incidents, and upcoming or active maintenances",
            object_of(&[
                page,
                ("components", list_of("Component")),
                ("incidents", list_of("Incident")),
                ("scheduled_maintenances", list_of("ScheduledMaintenance")),
                ("status", reference("Status")),
            ]),
        ),
        ApiDoc::Status => (
            "The rolled-up status indicator and its description",
            object_of(&[page, ("status", reference("Status"))]),
        ),
        ApiDoc::Components => (
            "Components and groups (groups have group: true)",
            object_of(&[page, ("components", list_of("Component"))]),
        ),
        ApiDoc::Incidents => (
            "The 50 most recent incidents",
            object_of(&[page, ("incidents", list_of("Incident"))]),
        ),
        ApiDoc::UnresolvedIncidents => (
            "Incidents not yet resolved",
            object_of(&[page, ("incidents", list_of("Incident"))]),
        ),
        ApiDoc::Maintenances => (
            "The 50 most recent scheduled maintenances",
            object_of(&[
                page,
                ("scheduled_maintenances", list_of("ScheduledMaintenance")),
            ]),
        ),
        ApiDoc::UpcomingMaintenances => (
            "Scheduled maintenances not yet started",
            object_of(&[
                page,
                ("scheduled_maintenances", list_of("ScheduledMaintenance")),
            ]),
        ),
        ApiDoc::ActiveMaintenances => (
            "Scheduled maintenances in progress or being verified",
            object_of(&[
                page,
                ("scheduled_maintenances", list_of("ScheduledMaintenance")),
            ]),
        ),
    }
}

fn operation(summary: &str, schema: Value, with_lang: bool) -> Value {
    let mut op = json!({
        "summary": summary,
        "responses": {
            "200": {
                "description": summary,
                "headers": {
                    "ETag": { "schema": { "type": "string" } },
                    "X-Snapshot-Age": { "schema": { "type": "integer" },
                        "description": "Seconds since the data was read from the database" },
                },
                "content": { "application/json": { "schema": schema } }
            },
            "304": { "description": "Not modified (If-None-Match matched the ETag)" }
        }
    });
    if with_lang {
        op["parameters"] = json!([{
            "name": "lang", "in": "path", "required": true,
            "description": "Language of the texts; a missing translation falls back to English",
            "schema": { "type": "string", "enum": ["sv", "nb", "en"] }
        }]);
        // Found by schemathesis: a language the page does not speak is a 404.
        op["responses"]["404"] =
            json!({ "description": "Not a language of the page (sv, nb, en)" });
    }
    op
}

pub fn document(ctx: &Context<'_>) -> Value {
    let mut paths = Map::new();
    for (name, doc) in API_DOCS {
        let (summary, schema) = describe(doc);
        paths.insert(
            format!("/api/v2/{name}"),
            json!({ "get": operation(summary, schema.clone(), false) }),
        );
        paths.insert(
            format!("/{{lang}}/api/v2/{name}"),
            json!({ "get": operation(summary, schema, true) }),
        );
    }
    let server = if ctx.public_url.is_empty() {
        "/".to_string()
    } else {
        ctx.public_url.clone()
    };
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": format!("{} public API", ctx.page_name),
            "version": "2",
            "description": "Read-only, Statuspage v2 compatible. Served from memory; texts in English unless a language prefix is given.",
        },
        "servers": [{ "url": server }],
        "paths": paths,
        "components": { "schemas": schemas() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::public::assets::tests::{context, sample};
    use crate::status::public::PublicSettings;
    use app::dto::Lang;

    #[test]
    fn every_endpoint_is_described_and_every_reference_resolves() {
        let data = sample();
        let settings = PublicSettings::for_tests();
        let doc = document(&context(&data, &settings, Lang::En, ""));
        assert_eq!(doc["openapi"], "3.1.0");
        for (name, _) in API_DOCS {
            assert!(
                doc["paths"][format!("/api/v2/{name}")]["get"].is_object(),
                "{name}"
            );
        }
        let text = doc.to_string();
        for piece in text.split("#/components/schemas/").skip(1) {
            let name: String = piece.chars().take_while(|c| c.is_alphanumeric()).collect();
            assert!(doc["components"]["schemas"][&name].is_object(), "{name}");
        }
    }
}
