//! What a run wrote, or why it failed.

use lambda_runtime::Diagnostic;
use serde::Serialize;
use thiserror::Error;
use vigil_core::event::EventError;
use vigil_core::ports::{MetricsError, StoreError};
use vigil_core::report::period::PeriodError;
use vigil_core::telemetry;

/// Why an invocation failed.
#[derive(Debug, Error)]
pub enum ReportError {
    /// The event does not say which day to report.
    #[error("malformed event: {0}")]
    Event(#[from] EventError),
    /// The day cannot be placed on the calendar.
    #[error("bad period: {0}")]
    Period(#[from] PeriodError),
    /// The day asked for has not ended yet.
    #[error("the period {date} ends at {end}, which is still in the future: its report would be partial")]
    PeriodNotOver {
        /// The day asked for.
        date: String,
        /// When it ends.
        end: String,
    },
    /// A query failed.
    #[error("query {name} failed: {source}")]
    Query {
        /// Which of the fixed queries.
        name: &'static str,
        /// The query text.
        query: String,
        /// Why.
        #[source]
        source: MetricsError,
    },
    /// The report could not be serialised.
    #[error("could not serialise the report: {0}")]
    Render(#[from] serde_json::Error),
    /// A report object could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ReportError {
    /// Whether the same invocation could succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Query { source, .. } => source.is_transient(),
            Self::Store(source) => source.is_transient(),
            Self::PeriodNotOver { .. } => true,
            Self::Event(_) | Self::Period(_) | Self::Render(_) => false,
        }
    }

    /// A short, stable name for the kind of failure.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Event(_) => "BadEvent",
            Self::Period(_) => "BadPeriod",
            Self::PeriodNotOver { .. } => "PeriodNotOver",
            Self::Query { source, .. } => source.failure.name(),
            Self::Render(_) => "RenderFailed",
            Self::Store(_) => "StoreFailed",
        }
    }
}

impl From<ReportError> for Diagnostic {
    fn from(error: ReportError) -> Self {
        telemetry::diagnostic(error.is_retryable(), error.kind(), error.to_string())
    }
}

/// What a successful run wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportOutcome {
    /// The day reported.
    pub date: String,
    /// Services in the report.
    pub services: usize,
    /// Services that breached their SLO.
    pub breached: usize,
    /// Services without data.
    pub no_data: usize,
    /// The JSON report's key.
    pub json_key: String,
    /// The HTML report's key.
    pub html_key: String,
    /// `latest.json`'s key when this run rewrote it (scheduled runs, and a backfill of the
    /// latest complete day); `None` for a backfill of an older day.
    pub latest_key: Option<String>,
    /// Queries issued.
    pub queries: usize,
}

/// Timings of one run, for the metrics line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunStats {
    /// Each query's wall time in milliseconds, retries included.
    pub query_latency_ms: Vec<f64>,
}
