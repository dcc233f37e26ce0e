//! The states of a run (runs.md §1), named once.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Draft,
    Previewing,
    Previewed,
    Approved,
    Executing,
    Executed,
}

impl RunState {
    pub const ALL: [RunState; 6] = [
        RunState::Draft,
        RunState::Previewing,
        RunState::Previewed,
        RunState::Approved,
        RunState::Executing,
        RunState::Executed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Draft => "draft",
            RunState::Previewing => "previewing",
            RunState::Previewed => "previewed",
            RunState::Approved => "approved",
            RunState::Executing => "executing",
            RunState::Executed => "executed",
        }
    }

    /// Inputs may change in every state but `executing`: in `previewed` and
    /// `approved` the change voids the revision's standing, in `executed`
    /// it is a late correction.
    pub fn allows_input_change(self) -> bool {
        self != RunState::Executing
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunState::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown run state {s:?}"))
    }
}
