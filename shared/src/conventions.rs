//! The metric conventions both functions build their queries from: which counter counts
//! requests, which histogram holds latency, which label names the service and which marks
//! errors. Defaults follow the common `http_requests_total{service,status}` and
//! `http_request_duration_seconds_bucket{service,le}`.

use crate::config::{ConfigError, Env};
use crate::promql::{LabelName, MatchOp, MetricName, Selector};

/// The metric conventions the queries are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricConventions {
    /// `REQUESTS_METRIC`, a request counter.
    pub requests: MetricName,
    /// `LATENCY_BUCKET_METRIC`, a classic histogram's `_bucket` series.
    pub latency_buckets: MetricName,
    /// `SERVICE_LABEL`.
    pub service_label: LabelName,
    /// `ERROR_LABEL`, the label that marks errors.
    pub error_label: LabelName,
    /// `ERROR_VALUE_REGEX`, the values of `error_label` that count as errors.
    pub error_regex: String,
}

impl MetricConventions {
    /// Reads `REQUESTS_METRIC`, `LATENCY_BUCKET_METRIC`, `SERVICE_LABEL`, `ERROR_LABEL` and
    /// `ERROR_VALUE_REGEX`.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable whose name is not a valid metric or label name.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let metric = |variable: &'static str, default: &str| {
            let raw = env.get(variable).unwrap_or(default).trim();
            MetricName::new(raw).map_err(|error| ConfigError::Invalid {
                variable,
                expected: error.to_string(),
                found: raw.to_owned(),
            })
        };
        let label = |variable: &'static str, default: &str| {
            let raw = env.get(variable).unwrap_or(default).trim();
            LabelName::new(raw).map_err(|error| ConfigError::Invalid {
                variable,
                expected: error.to_string(),
                found: raw.to_owned(),
            })
        };
        Ok(Self {
            requests: metric("REQUESTS_METRIC", "http_requests_total")?,
            latency_buckets: metric(
                "LATENCY_BUCKET_METRIC",
                "http_request_duration_seconds_bucket",
            )?,
            service_label: label("SERVICE_LABEL", "service")?,
            error_label: label("ERROR_LABEL", "status")?,
            error_regex: env.get("ERROR_VALUE_REGEX").unwrap_or("5..").to_owned(),
        })
    }
}

impl MetricConventions {
    /// All request series.
    pub fn requests(&self) -> Selector {
        Selector::new(self.requests.clone())
    }

    /// The error request series.
    pub fn errors(&self) -> Selector {
        self.requests().with(
            self.error_label.clone(),
            MatchOp::Regex,
            self.error_regex.clone(),
        )
    }

    /// The latency histogram's bucket series.
    pub fn latency_buckets(&self) -> Selector {
        Selector::new(self.latency_buckets.clone())
    }
}
