//! The four staff roles and who may use a route.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Communications,
    Support,
    Finance,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Communications,
        Role::Support,
        Role::Finance,
        Role::Admin,
    ];

    /// Roles that move money or hand out access: granting one needs a
    /// second admin, and so does resetting the sign-in of one who holds it.
    pub fn is_privileged(self) -> bool {
        matches!(self, Role::Finance | Role::Admin)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Communications => "communications",
            Role::Support => "support",
            Role::Finance => "finance",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?} (expected communications, support, finance or admin)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

/// The roles a person holds (several at once is normal).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles(Vec<Role>);

impl Roles {
    pub fn new(mut roles: Vec<Role>) -> Roles {
        roles.sort();
        roles.dedup();
        Roles(roles)
    }

    /// From the stored comma-separated form; unknown names are dropped,
    /// so a role removed from the code grants nothing.
    pub fn from_stored(stored: &str) -> Roles {
        Roles::new(
            stored
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .filter_map(|s| s.parse().ok())
                .collect(),
        )
    }

    /// From form or CLI input; the first unknown name is an error.
    pub fn parse_all<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Roles, UnknownRole> {
        let roles = names
            .into_iter()
            .flat_map(|n| n.split(','))
            .filter(|s| !s.trim().is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Role>, _>>()?;
        Ok(Roles::new(roles))
    }

    pub fn has(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    /// For templates, which see roles by name.
    pub fn has_named(&self, name: &str) -> bool {
        self.0.iter().any(|r| r.as_str() == name)
    }

    /// Admins (accounts, endpoints) and finance (money) must sign in with
    /// a second factor; the others may.
    /// Why one account may not hold these roles together, if it may not:
    /// whoever decides claims must not be the one who approves them or
    /// sets what support may pay alone.
    pub fn conflict(&self) -> Option<&'static str> {
        (self.has(Role::Support) && self.has(Role::Finance)).then_some(
            "support and finance are not held by one account: whoever decides claims must not approve them or set the limits they are decided under",
        )
    }

    /// Whether these roles hold a privileged role `before` did not.
    pub fn adds_privilege(&self, before: &Roles) -> bool {
        self.iter().any(|r| r.is_privileged() && !before.has(r))
    }

    pub fn is_privileged(&self) -> bool {
        self.iter().any(Role::is_privileged)
    }

    /// These roles without the privileged ones.
    pub fn unprivileged(&self) -> Roles {
        Roles::new(self.iter().filter(|r| !r.is_privileged()).collect())
    }

    pub fn need_second_factor(&self) -> bool {
        self.has(Role::Admin) || self.has(Role::Finance)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    pub fn to_stored(&self) -> String {
        self.0
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Who may use a staff route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (the sign-in page itself).
    Public,
    /// Any signed-in staff member, whatever their roles.
    AnyStaff,
    /// Signed in and holding at least one of these roles.
    AnyOf(&'static [Role]),
}

impl Access {
    pub fn allows(self, roles: &Roles) -> bool {
        match self {
            Access::Public | Access::AnyStaff => true,
            Access::AnyOf(allowed) => allowed.iter().any(|r| roles.has(*r)),
        }
    }
}

pub const COMMUNICATIONS: Access = Access::AnyOf(&[Role::Communications]);
pub const ADMIN: Access = Access::AnyOf(&[Role::Admin]);
/// Component statuses are part of running an incident; the components
/// themselves (names, order, groups) are an admin's.
pub const COMPONENTS_VIEW: Access = Access::AnyOf(&[Role::Communications, Role::Admin]);
/// Support looks customers up for claims; finance keeps the table, which
/// decides who is paid.
pub const CUSTOMERS_VIEW: Access = Access::AnyOf(&[Role::Support, Role::Finance, Role::Admin]);
pub const CUSTOMERS_IMPORT: Access = Access::AnyOf(&[Role::Finance]);
/// Support and admins read runs; only finance drafts them, adds their logs
/// and imports the customers they pay (an admin who could also create a
/// finance account must not also prepare what it approves); only finance
/// approves (runs.md §1).
pub const RUNS_VIEW: Access = Access::AnyOf(&[Role::Support, Role::Finance, Role::Admin]);
pub const RUNS_EDIT: Access = Access::AnyOf(&[Role::Finance]);
/// The ledger, its statements and the payouts: finance's books, which
/// admins read too (the payout endpoint is theirs to set).
pub const LEDGER_VIEW: Access = Access::AnyOf(&[Role::Finance, Role::Admin]);
pub const RUNS_APPROVE: Access = Access::AnyOf(&[Role::Finance]);
/// Support works the claims queue; finance reads it, approves decisions
/// above its amount and sets what support may give.
pub const CLAIMS_VIEW: Access = Access::AnyOf(&[Role::Support, Role::Finance]);
pub const CLAIMS_DECIDE: Access = Access::AnyOf(&[Role::Support]);
pub const CLAIMS_APPROVE: Access = Access::AnyOf(&[Role::Finance]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_dedupe_and_name_the_unknown() {
        let roles = Roles::parse_all(["admin,communications", "admin"]).expect("roles");
        assert_eq!(roles.to_stored(), "communications,admin");
        let err = Roles::parse_all(["editor"]).expect_err("unknown");
        assert!(err.to_string().contains("\"editor\""), "{err}");
        assert_eq!(Roles::from_stored("support,retired").to_stored(), "support");
    }

    #[test]
    fn access_needs_one_of_the_roles() {
        let support = Roles::new(vec![Role::Support]);
        assert!(!COMMUNICATIONS.allows(&support));
        assert!(Access::AnyStaff.allows(&support));
        assert!(COMPONENTS_VIEW.allows(&Roles::new(vec![Role::Admin])));
    }
}
