//! Every public document, serialised and compressed once per snapshot,
//! keyed by the path it is served at.

use std::collections::HashMap;
use std::sync::Arc;

use app::dto::Lang;
use serde::Serialize;

use crate::status::public::asset::Asset;
use crate::status::public::context::{
    ApiDoc, Context, PublicError, PublicSettings, API_DOCS, OPENAPI_PATH,
};
use crate::status::public::{api_v2, badge, feeds, openapi};

use crate::store::status::StatusData;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Api(ApiDoc),
    Rss,
    Atom,
    Badge,
    OpenApi,
}

/// Every served path with what it holds and in which language.
/// Fourth: the language prefix ("" or "/sv"), for links.
fn targets(default_lang: Lang) -> Vec<(String, Target, Lang, String)> {
    let mut out = vec![(
        OPENAPI_PATH.to_string(),
        Target::OpenApi,
        Lang::En,
        String::new(),
    )];
    let prefixes =
        std::iter::once(("", None)).chain(Lang::ALL.into_iter().map(|l| (l.code(), Some(l))));
    for (code, lang) in prefixes {
        let prefix = if code.is_empty() {
            String::new()
        } else {
            format!("/{code}")
        };
        let api_lang = lang.unwrap_or(Lang::En);
        for (name, doc) in API_DOCS {
            out.push((
                format!("{prefix}/api/v2/{name}"),
                Target::Api(doc),
                api_lang,
                prefix.clone(),
            ));
        }
        let page_lang = lang.unwrap_or(default_lang);
        for (file, target) in [
            ("history.rss", Target::Rss),
            ("history.atom", Target::Atom),
            ("badge.svg", Target::Badge),
        ] {
            out.push((
                format!("{prefix}/{file}"),
                target,
                page_lang,
                prefix.clone(),
            ));
        }
    }
    out
}

/// The paths [`build_assets`] fills, for the router.
pub fn asset_paths() -> Vec<String> {
    targets(Lang::En).into_iter().map(|(p, ..)| p).collect()
}

const JSON: &str = "application/json; charset=utf-8";

fn json(body: &impl Serialize, now_ms: i64) -> Result<Asset, PublicError> {
    Ok(Asset::new(JSON, serde_json::to_vec(body)?, now_ms)?)
}

/// Every public document, serialised and compressed, keyed by request path.
pub fn build_assets(
    data: &StatusData,
    now_ms: i64,
    settings: &PublicSettings,
) -> Result<HashMap<String, Arc<Asset>>, PublicError> {
    let mut out = HashMap::new();
    for (path, target, lang, prefix) in targets(settings.default_lang) {
        let ctx = Context::new(data, now_ms, settings, lang, &prefix);
        let asset = match target {
            Target::Api(doc) => match doc {
                ApiDoc::Summary => json(&api_v2::summary_doc(&ctx), now_ms)?,
                ApiDoc::Status => json(&api_v2::status_doc(&ctx), now_ms)?,
                ApiDoc::Components => json(&api_v2::components_doc(&ctx), now_ms)?,
                ApiDoc::Incidents => json(&api_v2::incidents_doc(&ctx, false), now_ms)?,
                ApiDoc::UnresolvedIncidents => json(&api_v2::incidents_doc(&ctx, true), now_ms)?,
                ApiDoc::Maintenances => json(
                    &api_v2::maintenances_doc(&ctx, api_v2::MaintenanceFilter::All),
                    now_ms,
                )?,
                ApiDoc::UpcomingMaintenances => json(
                    &api_v2::maintenances_doc(&ctx, api_v2::MaintenanceFilter::Upcoming),
                    now_ms,
                )?,
                ApiDoc::ActiveMaintenances => json(
                    &api_v2::maintenances_doc(&ctx, api_v2::MaintenanceFilter::Active),
                    now_ms,
                )?,
            },
            Target::Rss => Asset::new(
                "application/rss+xml; charset=utf-8",
                feeds::rss(&ctx, &path),
                now_ms,
            )?,
            Target::Atom => Asset::new(
                "application/atom+xml; charset=utf-8",
                feeds::atom(&ctx, &path),
                now_ms,
            )?,
            Target::Badge => Asset::new("image/svg+xml", badge::svg(&ctx), now_ms)?,
            Target::OpenApi => json(&openapi::document(&ctx), now_ms)?,
        };
        out.insert(path, Arc::new(asset));
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::status::public::context::{indicator_description, overall, Indicator};
    use crate::store::status::{
        AffectedComponent, ComponentRecord, GroupRecord, IncidentRecord, Texts, UpdateRecord,
    };
    use app::dto::IncidentStage;
    use app::dto::{ComponentStatus, Impact};

    /// 2024-08-24T14:06:00Z.
    pub const V75: i64 = 1_724_508_360_000;

    fn texts(pairs: &[(Lang, &str)]) -> Texts {
        pairs.iter().map(|(l, t)| (*l, t.to_string())).collect()
    }

    fn component(
        id: &str,
        group: Option<&str>,
        status: ComponentStatus,
        hidden: bool,
    ) -> ComponentRecord {
        ComponentRecord {
            id: id.into(),
            group_id: group.map(Into::into),
            position: 1,
            status,
            hidden,
            names: texts(&[(Lang::En, "Login"), (Lang::Sv, "Inloggning")]),
            descriptions: Texts::new(),
            created_at: V75 - 86_400_000,
            updated_at: V75,
        }
    }

    /// One group with a visible and a hidden component, one resolved incident.
    pub fn sample() -> StatusData {
        StatusData {
            groups: vec![GroupRecord {
                id: "account".into(),
                position: 1,
                names: texts(&[(Lang::En, "Account")]),
            }],
            components: vec![
                component(
                    "login",
                    Some("account"),
                    ComponentStatus::PartialOutage,
                    false,
                ),
                component(
                    "secret",
                    Some("account"),
                    ComponentStatus::MajorOutage,
                    true,
                ),
            ],
            history: vec![],
            incidents: vec![IncidentRecord {
                id: "v75".into(),
                impact: Impact::Critical,
                status: IncidentStage::Resolved,
                started_at: V75,
                resolved_at: Some(V75 + 3_600_000),
                created_at: V75,
                updated_at: V75 + 3_600_000,
                apology: Texts::new(),
                apology_published_at: None,
                titles: texts(&[
                    (Lang::Sv, "Spelstopp"),
                    (Lang::En, "Betting stop <V75> & \"more\""),
                ]),
                updates: vec![UpdateRecord {
                    id: "u1".into(),
                    status: IncidentStage::Investigating,
                    display_at: V75,
                    created_at: V75,
                    bodies: texts(&[(Lang::En, "Looking <into> it & more")]),
                    components: vec![
                        AffectedComponent {
                            component_id: "login".into(),
                            old_status: ComponentStatus::Operational,
                            new_status: ComponentStatus::MajorOutage,
                        },
                        AffectedComponent {
                            component_id: "secret".into(),
                            old_status: ComponentStatus::Operational,
                            new_status: ComponentStatus::MajorOutage,
                        },
                    ],
                }],
            }],
            maintenances: vec![],
            settings: [("page_name.en".to_string(), "Service status".to_string())]
                .into_iter()
                .collect(),
        }
    }

    pub fn context<'a>(
        data: &'a StatusData,
        settings: &PublicSettings,
        lang: Lang,
        prefix: &str,
    ) -> Context<'a> {
        Context::new(data, V75 + 7_200_000, settings, lang, prefix)
    }

    #[test]
    fn indicator_is_the_worst_of_visible_components_and_open_incidents() {
        let mut data = sample();
        // The hidden component's major outage does not count.
        assert_eq!(overall(&data, 0), (Indicator::Major, false));
        data.components[0].status = ComponentStatus::Operational;
        assert_eq!(overall(&data, 0), (Indicator::None, false));
        data.incidents[0].status = IncidentStage::Monitoring;
        assert_eq!(overall(&data, 0), (Indicator::Critical, false));
        data.incidents[0].status = IncidentStage::Postmortem;
        data.components[0].status = ComponentStatus::UnderMaintenance;
        assert_eq!(overall(&data, 0), (Indicator::None, true));
        data.components[0].status = ComponentStatus::DegradedPerformance;
        assert_eq!(overall(&data, 0), (Indicator::Minor, false));
    }

    #[test]
    fn descriptions_use_statuspage_phrases_in_english_and_the_banner_elsewhere() {
        assert_eq!(
            indicator_description(Lang::En, Indicator::None, false),
            "All Systems Operational"
        );
        assert_eq!(
            indicator_description(Lang::En, Indicator::Critical, false),
            "Major System Outage"
        );
        assert_eq!(
            indicator_description(Lang::Sv, Indicator::None, false),
            "Alla system fungerar"
        );
        assert_eq!(
            indicator_description(Lang::Nb, Indicator::None, true),
            "Vedlikehold pågår"
        );
    }

    #[test]
    fn every_path_gets_an_asset_and_prefixes_pick_the_language() {
        let data = sample();
        let settings = PublicSettings::for_tests();
        let assets = build_assets(&data, V75, &settings).expect("assets");
        let paths = asset_paths();
        assert_eq!(assets.len(), paths.len());
        assert!(paths.iter().all(|p| assets.contains_key(p)));
        let en: serde_json::Value =
            serde_json::from_slice(&assets["/api/v2/status.json"].body).expect("json");
        assert_eq!(en["status"]["description"], "Partial System Outage");
        assert_eq!(en["page"]["url"], "https://status.example");
        let sv: serde_json::Value =
            serde_json::from_slice(&assets["/sv/api/v2/status.json"].body).expect("json");
        assert_eq!(sv["status"]["description"], "Delvis avbrott");
        assert_eq!(sv["page"]["url"], "https://status.example/sv");
    }

    #[test]
    fn an_unchanged_page_keeps_its_etags_across_rebuilds() {
        let data = sample();
        let settings = PublicSettings::for_tests();
        let a = build_assets(&data, V75, &settings).expect("assets");
        let b = build_assets(&data, V75 + 60_000, &settings).expect("assets");
        for (path, asset) in &a {
            assert_eq!(asset.etag, b[path].etag, "{path}");
        }
    }
}
