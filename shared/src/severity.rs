//! How urgent an alert is, for anomaly checks and SLO alerts alike.

use serde::{Deserialize, Serialize};

/// How urgent an alert is; subscribers filter on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Wake someone up.
    Critical,
    /// Look soon.
    #[default]
    Warning,
    /// For the record.
    Info,
}

impl Severity {
    /// The name used in messages and attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}
