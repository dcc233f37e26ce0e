//! What live clients receive: the snapshot's version and a small JSON
//! summary, built once per snapshot.

use std::collections::BTreeMap;
use std::sync::Arc;

use app::dto::StatusPageView;
use sha2::Digest;

use crate::store::status::StatusData;

/// What live clients receive: the snapshot's version and a small JSON
/// summary, serialised once per snapshot rather than once per client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveState {
    /// The newest `status_changes` id the snapshot was built from (0: none).
    pub version: i64,
    pub json: String,
    /// For polling clients: the version alone would not tell apart two
    /// states built from the same change (a PostgreSQL transaction that
    /// took an id before another but committed after it).
    pub etag: String,
}

impl Default for LiveState {
    fn default() -> Self {
        LiveState::build(0, BTreeMap::new(), None)
    }
}

impl LiveState {
    /// The visible components' statuses, taken before the data moves on.
    pub fn component_statuses(data: &StatusData) -> BTreeMap<String, &'static str> {
        data.components
            .iter()
            .filter(|c| !c.hidden)
            .map(|c| (c.id.clone(), c.status.as_str()))
            .collect()
    }

    pub fn build(
        version: i64,
        components: BTreeMap<String, &'static str>,
        page: Option<&Arc<StatusPageView>>,
    ) -> Self {
        let json = serde_json::json!({
            "version": version,
            "overall": page.map(|p| p.overall.as_str()),
            "components": components,
            "active_incidents": page.map_or(0, |p| p.active_incidents.len()),
        })
        .to_string();
        let digest = sha2::Sha256::digest(json.as_bytes());
        let etag = format!(
            "\"{version}-{:02x}{:02x}{:02x}{:02x}\"",
            digest[0], digest[1], digest[2], digest[3]
        );
        LiveState {
            version,
            json,
            etag,
        }
    }
}
