//! Structured JSON logs and CloudWatch Embedded Metric Format (EMF) lines.
//!
//! Every line a function writes to stdout is one JSON object with `timestamp` (RFC 3339),
//! `level` and a `message` that is the event's name (`ReportWritten`, `QueryFailed`, …) plus
//! typed fields; the Lambda runtime's span adds `requestId`. The level comes from
//! `AWS_LAMBDA_LOG_LEVEL` (set by the function's `LoggingConfig`) or else `RUST_LOG`, default
//! `info`. One EMF line per invocation carries the numbers worth graphing.

mod emf;
mod events;

pub use emf::{MetricsLine, Unit, METRICS_NAMESPACE};
pub use events::Event;

use tracing_subscriber::EnvFilter;

/// Installs the JSON log subscriber. Call once, first thing in `main`.
pub fn init() {
    let filter = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .map(|level| match level.to_ascii_lowercase().as_str() {
            "fatal" => "error".to_owned(),
            other => other.to_owned(),
        })
        .and_then(|level| EnvFilter::try_new(level).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .init();
}

/// The error a failed invocation reports to the Lambda runtime: its type says whether a retry
/// can help (`Retryable.PrometheusUnavailable`, `NonRetryable.BadEvent`, …).
pub fn diagnostic(retryable: bool, kind: &str, message: String) -> lambda_runtime::Diagnostic {
    let retry = if retryable {
        "Retryable"
    } else {
        "NonRetryable"
    };
    lambda_runtime::Diagnostic {
        error_type: format!("{retry}.{kind}"),
        error_message: message,
    }
}
