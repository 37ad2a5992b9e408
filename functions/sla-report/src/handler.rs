//! The Lambda handler around the job: runs one invocation, logs its outcome and writes the
//! invocation's metrics line.

use std::time::{Duration, Instant, SystemTime};

use chrono::Utc;
use vigil_core::deadline::Deadline;
use vigil_core::ports::{MetricsSource, ReportStore};
use vigil_core::telemetry::{Event, MetricsLine, Unit};

use crate::{ReportError, ReportOutcome, SlaReportJob};

/// Handles one invocation: runs the job, logs the outcome and emits the metrics line.
///
/// # Errors
/// The job's [`ReportError`], after it was logged as `InvocationFailed`.
pub async fn invoke<M: MetricsSource, S: ReportStore>(
    job: &SlaReportJob<M, S>,
    event: &serde_json::Value,
    lambda_deadline: SystemTime,
) -> Result<ReportOutcome, ReportError> {
    let started = Instant::now();
    let deadline = Deadline::from_system_time(lambda_deadline, Duration::from_millis(500));
    let result = job.run(event, Utc::now(), deadline).await;
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let line = MetricsLine::new("sla-report");
    let line = match &result {
        Ok((outcome, stats)) => line
            .dimension("Outcome", "success")
            .metric(
                "ServicesReported",
                Unit::Count,
                vec![outcome.services as f64],
            )
            .metric(
                "ServicesBreached",
                Unit::Count,
                vec![outcome.breached as f64],
            )
            .metric("QueriesIssued", Unit::Count, vec![outcome.queries as f64])
            .metric(
                "QueryLatency",
                Unit::Milliseconds,
                stats.query_latency_ms.clone(),
            ),
        Err(error) => {
            tracing::error!(error_type = error.kind(), retryable = error.is_retryable(), error = %error, "{}", Event::InvocationFailed);
            line.dimension("Outcome", "failure")
        }
    };
    line.metric("Duration", Unit::Milliseconds, vec![duration_ms])
        .emit();
    result.map(|(outcome, _)| outcome)
}
