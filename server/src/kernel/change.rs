//! The kinds of `status_changes` rows: what the live followers rebuild for
//! and what the notification fan-out turns into messages.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeKind {
    Component,
    ComponentEdited,
    ComponentAdded,
    IncidentOpened,
    IncidentUpdated,
    ApologyPublished,
    MaintenanceScheduled,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 7] = [
        ChangeKind::Component,
        ChangeKind::ComponentEdited,
        ChangeKind::ComponentAdded,
        ChangeKind::IncidentOpened,
        ChangeKind::IncidentUpdated,
        ChangeKind::ApologyPublished,
        ChangeKind::MaintenanceScheduled,
    ];

    /// As stored in `status_changes.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Component => "component",
            ChangeKind::ComponentEdited => "component_edited",
            ChangeKind::ComponentAdded => "component_added",
            ChangeKind::IncidentOpened => "incident_opened",
            ChangeKind::IncidentUpdated => "incident_updated",
            ChangeKind::ApologyPublished => "apology_published",
            ChangeKind::MaintenanceScheduled => "maintenance_scheduled",
        }
    }

    /// Changes that subscribers hear about.
    pub fn is_incident_news(self) -> bool {
        matches!(
            self,
            ChangeKind::IncidentOpened | ChangeKind::IncidentUpdated
        )
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind this version does not know (a newer node wrote it).
#[derive(Debug, thiserror::Error)]
#[error("unknown change kind {0:?}")]
pub struct UnknownChangeKind(pub String);

impl FromStr for ChangeKind {
    type Err = UnknownChangeKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ChangeKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownChangeKind(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in ChangeKind::ALL {
            assert_eq!(k.as_str().parse::<ChangeKind>().expect("known"), k);
        }
        assert!("nonsense".parse::<ChangeKind>().is_err());
    }
}
