//! The Lambda handler around the job: runs one invocation, logs its outcome and writes the
//! invocation's metrics line.

use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;
use vigil_core::deadline::Deadline;
use vigil_core::ports::{AlertPublisher, MetricsSource, StateStore};
use vigil_core::telemetry::{Event, MetricsLine, Unit};

use crate::{AnomalyCheckJob, CheckOutcome, CheckRunError};

/// Handles one invocation: runs the job, logs the outcome and emits the metrics line.
///
/// # Errors
/// The job's [`CheckRunError`], after it was logged as `InvocationFailed`.
pub async fn invoke<M: MetricsSource, S: StateStore, P: AlertPublisher>(
    job: &AnomalyCheckJob<M, S, P>,
    event: &serde_json::Value,
    request_id: &str,
    lambda_deadline: SystemTime,
) -> Result<CheckOutcome, CheckRunError> {
    let started = Instant::now();
    let deadline = Deadline::from_system_time(lambda_deadline, Duration::from_secs(2));
    let result = job
        .run(event, request_id, Utc::now().timestamp(), deadline)
        .await;
    let line = MetricsLine::new("anomaly-check")
        .metric(
            "ChecksConfigured",
            Unit::Count,
            vec![job.check_count() as f64],
        )
        .metric(
            "SlosConfigured",
            Unit::Count,
            vec![job.slo_counts().0 as f64],
        );
    let line = match &result {
        Ok(outcome) => {
            tracing::info!(
                evaluated_at = %outcome.evaluated_at,
                series = outcome.series,
                published = outcome.published,
                active_alerts = outcome.active_alerts,
                skipped = outcome.skipped,
                "{}",
                Event::ChecksCompleted
            );
            line.dimension("Outcome", "success")
                .metric("SeriesEvaluated", Unit::Count, vec![outcome.series as f64])
                .metric(
                    "AlertsPublished",
                    Unit::Count,
                    vec![outcome.published as f64],
                )
                .metric("AlertsSilenced", Unit::Count, vec![outcome.silenced as f64])
                .metric(
                    "ActiveAlerts",
                    Unit::Count,
                    vec![outcome.active_alerts as f64],
                )
                .metric(
                    "QueryLatency",
                    Unit::Milliseconds,
                    outcome.query_latency_ms.clone(),
                )
        }
        Err(error) => {
            tracing::error!(error_type = error.kind(), retryable = error.is_retryable(), error = %error, "{}", Event::InvocationFailed);
            let (checks, slos) = match error {
                CheckRunError::Checks { failed, .. } => (*failed, 0),
                CheckRunError::Slos { failed, .. } => (0, *failed),
                _ => (0, 0),
            };
            line.dimension("Outcome", "failure")
                .metric("ChecksFailed", Unit::Count, vec![checks as f64])
                .metric("SlosFailed", Unit::Count, vec![slos as f64])
        }
    };
    line.metric(
        "Duration",
        Unit::Milliseconds,
        vec![started.elapsed().as_secs_f64() * 1000.0],
    )
    .emit();
    result
}
