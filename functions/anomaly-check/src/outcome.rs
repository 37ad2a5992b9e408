//! What an invocation did, or why it failed.

use lambda_runtime::Diagnostic;
use serde::Serialize;
use thiserror::Error;
use vigil_core::adapters::silences::SilencesError;
use vigil_core::check::burn_reads::SloFailure;
use vigil_core::check::model::Check;
use vigil_core::check::plan::Notification;
use vigil_core::check::shard::ShardError;
use vigil_core::event::EventError;
use vigil_core::ports::{MetricsError, PublishError, StateError};
use vigil_core::telemetry::{self, Event};

/// Why an invocation failed.
#[derive(Debug, Error)]
pub enum CheckRunError {
    /// The event has no usable time.
    #[error("malformed event: {0}")]
    Event(#[from] EventError),
    /// The event's shard fields are not usable.
    #[error("malformed event: {0}")]
    Shard(#[from] ShardError),
    /// A backfill event was sent to the minute check.
    #[error("malformed event: the anomaly check needs a \"time\", not a \"date\"")]
    DayEvent,
    /// The state could not be read or written.
    #[error(transparent)]
    State(#[from] StateError),
    /// The silences object could not be read; nothing was evaluated or sent.
    #[error(transparent)]
    Silences(#[from] SilencesError),
    /// Some checks failed; the others ran.
    #[error("{failed} of {total} checks failed; first: {check}: {first}")]
    Checks {
        /// Failed checks.
        failed: usize,
        /// All checks.
        total: usize,
        /// The first failed check.
        check: String,
        /// Its failure.
        #[source]
        first: MetricsError,
        /// Whether every failure may pass.
        retryable: bool,
    },
    /// Some SLOs could not be evaluated; the others and the checks ran.
    #[error("{failed} SLO(s) could not be evaluated; first: {slo}: {first}")]
    Slos {
        /// SLOs not evaluated.
        failed: usize,
        /// The first of them.
        slo: String,
        /// Why.
        first: String,
        /// Whether every failure may pass.
        retryable: bool,
    },
    /// Some messages were not accepted; they stay in the outbox for the next minute.
    #[error("{failed} alert message(s) not published, kept for the next run; first: {first}")]
    Publish {
        /// Messages not published.
        failed: usize,
        /// The first failure.
        #[source]
        first: PublishError,
    },
}

impl CheckRunError {
    /// A short, stable name for the kind of failure.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Event(_) | Self::Shard(_) | Self::DayEvent => "BadEvent",
            Self::State(_) => "StateFailed",
            Self::Silences(_) => "SilencesUnreadable",
            Self::Checks { .. } => "ChecksFailed",
            Self::Slos { .. } => "SlosFailed",
            Self::Publish { .. } => "PublishFailed",
        }
    }

    /// Whether retrying could help (the next minute retries anyway).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Event(_) | Self::Shard(_) | Self::DayEvent => false,
            Self::State(_) | Self::Silences(_) | Self::Publish { .. } => true,
            Self::Checks { retryable, .. } | Self::Slos { retryable, .. } => *retryable,
        }
    }
}

impl From<CheckRunError> for Diagnostic {
    fn from(error: CheckRunError) -> Self {
        telemetry::diagnostic(error.is_retryable(), error.kind(), error.to_string())
    }
}

/// What an invocation did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CheckOutcome {
    /// The evaluation time, RFC 3339.
    pub evaluated_at: String,
    /// Checks that ran.
    pub checks: usize,
    /// SLOs whose burn-rate rules were evaluated (or failed).
    pub slos: usize,
    /// Series scored.
    pub series: usize,
    /// Messages accepted by the publisher.
    pub published: usize,
    /// Messages kept back by a silence (or resolving a firing nobody was told about).
    pub silenced: usize,
    /// Alerts not normal after the run.
    pub active_alerts: usize,
    /// Whether another invocation held the state, so this one sent nothing.
    pub skipped: bool,
    /// Query wall times in milliseconds.
    #[serde(skip)]
    pub query_latency_ms: Vec<f64>,
}

/// What failed in an invocation that went on.
#[derive(Default)]
pub(crate) struct Failures<'a> {
    /// Checks whose query failed.
    pub(crate) checks: Vec<(&'a Check, MetricsError)>,
    /// SLOs that could not be evaluated.
    pub(crate) slos: Vec<(String, SloFailure)>,
    /// Messages not accepted.
    pub(crate) publish: Vec<PublishError>,
}

/// The invocation's result: the first kind of failure, in this order — messages not
/// published, checks failed, SLOs failed — or the outcome.
pub(crate) fn finish(
    outcome: CheckOutcome,
    failures: Failures<'_>,
) -> Result<CheckOutcome, CheckRunError> {
    let failed = failures.publish.len();
    if let Some(first) = failures.publish.into_iter().next() {
        return Err(CheckRunError::Publish { failed, first });
    }
    let (failed, retryable) = (
        failures.checks.len(),
        failures.checks.iter().all(|(_, e)| e.is_transient()),
    );
    if let Some((check, first)) = failures.checks.into_iter().next() {
        return Err(CheckRunError::Checks {
            failed,
            total: outcome.checks,
            check: check.name.clone(),
            first,
            retryable,
        });
    }
    let (failed, retryable) = (
        failures.slos.len(),
        failures.slos.iter().all(|(_, f)| f.retryable),
    );
    match failures.slos.into_iter().next() {
        Some((slo, first)) => Err(CheckRunError::Slos {
            failed,
            slo,
            first: first.error,
            retryable,
        }),
        None => Ok(outcome),
    }
}

pub(crate) fn log_published(notification: &Notification) {
    tracing::info!(
        check = %notification.key.check,
        labels = %serde_json::to_string(&notification.key.labels).unwrap_or_default(),
        transition = notification.transition.as_str(),
        severity = notification.severity.as_str(),
        value = notification.reading.value,
        "{}",
        Event::AlertPublished
    );
}
