//! What can go wrong talking to Prometheus, and whether trying again can help.

use std::time::Duration;

use thiserror::Error;

use crate::ports::{MetricsError, MetricsFailure};

/// A failed Prometheus query.
///
/// Transport failures ([`Self::Transport`]) are kept apart from failures Prometheus (or a proxy
/// in front of it) reported ([`Self::Api`], [`Self::Http`]); [`Self::is_retryable`] says whether
/// another attempt could succeed.
#[derive(Debug, Error)]
pub enum PrometheusError {
    /// The request did not complete: connection refused or reset, DNS, TLS, or a timeout.
    #[error("request to prometheus failed: {source}")]
    Transport {
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The connection failed while the response body was being read.
    #[error("reading the prometheus response failed: {source}")]
    Body {
        /// The parser's error, wrapping the transport's.
        #[source]
        source: serde_json::Error,
    },
    /// Prometheus answered with its JSON error envelope.
    #[error("prometheus rejected the query (http {status}, {error_type}): {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// `bad_data`, `execution`, `timeout`, `canceled`, `internal`, `unavailable`, …
        error_type: String,
        /// Prometheus' description.
        message: String,
        /// The `Retry-After` the server asked for, if any.
        retry_after: Option<Duration>,
    },
    /// An error status without a Prometheus envelope, typically an HTML page from a proxy.
    #[error("prometheus endpoint answered http {status} ({content_type}): {body_start:?}")]
    Http {
        /// The HTTP status.
        status: u16,
        /// The `Content-Type` header, or `unknown`.
        content_type: String,
        /// The first bytes of the body, for the log.
        body_start: String,
        /// The `Retry-After` the server asked for, if any.
        retry_after: Option<Duration>,
    },
    /// A 2xx response whose JSON body broke off or turned to garbage part-way: a fault on the
    /// way (a proxy cutting the response, a reset), not an answer. Another attempt may pass.
    #[error("prometheus response was cut short or garbled after {received} bytes ({content_type}): {source}; body starts {body_start:?}")]
    Truncated {
        /// The `Content-Type` header, or `unknown`.
        content_type: String,
        /// Bytes of body received.
        received: usize,
        /// The first bytes of the body, for the log.
        body_start: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A 2xx response whose body is not the Prometheus API at all (an HTML login page of a
    /// misconfigured proxy, another service's JSON): trying again gives the same.
    #[error("prometheus endpoint answered with something that is not the prometheus api ({content_type}): {source}; body starts {body_start:?}")]
    Decode {
        /// The `Content-Type` header, or `unknown`.
        content_type: String,
        /// The first bytes of the body, for the log.
        body_start: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// The query returned another result type than the caller needs.
    #[error("prometheus returned a {actual} where a {expected} was expected")]
    UnexpectedResultType {
        /// The type needed.
        expected: &'static str,
        /// The type returned.
        actual: &'static str,
    },
    /// The request could not be built: a bad URL or header, or SigV4 signing failed
    /// (no credentials).
    #[error("could not build the request: {source}")]
    Request {
        /// What failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The deadline had passed before the first attempt.
    #[error("no time left before the invocation deadline to query prometheus")]
    NoTimeLeft,
    /// The invocation deadline left no time for (another) attempt.
    #[error("gave up after {attempts} attempt(s): the invocation deadline leaves no time for another; last error: {last}")]
    DeadlineExceeded {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's failure.
        #[source]
        last: Box<PrometheusError>,
    },
}

impl PrometheusError {
    /// Whether another attempt could succeed: transport failures, 5xx and 429 — unless
    /// Prometheus said the query itself is wrong (`bad_data`, `execution`).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::Body { .. } | Self::Truncated { .. } => true,
            Self::Api {
                status, error_type, ..
            } => {
                retryable_status(*status)
                    && !matches!(error_type.as_str(), "bad_data" | "execution")
            }
            Self::Http { status, .. } => retryable_status(*status),
            Self::Decode { .. }
            | Self::UnexpectedResultType { .. }
            | Self::Request { .. }
            | Self::NoTimeLeft
            | Self::DeadlineExceeded { .. } => false,
        }
    }

    /// Whether the failure was a timeout, ours or the server's.
    pub fn is_timeout(&self) -> bool {
        match self {
            Self::Transport { source } => source.is_timeout(),
            Self::Api { error_type, .. } => error_type == "timeout",
            Self::Http { status, .. } => *status == 504,
            Self::DeadlineExceeded { last, .. } => last.is_timeout(),
            Self::NoTimeLeft => true,
            _ => false,
        }
    }

    /// The delay the server asked for with `Retry-After`.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api { retry_after, .. } | Self::Http { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

impl PrometheusError {
    /// What kind of failure this is, for the job: the name its error type carries.
    pub fn failure(&self) -> MetricsFailure {
        match self {
            Self::DeadlineExceeded { last, .. } => match last.failure() {
                MetricsFailure::Timeout => MetricsFailure::Timeout,
                MetricsFailure::Truncated => MetricsFailure::Truncated,
                _ => MetricsFailure::Unavailable,
            },
            error if error.is_timeout() => MetricsFailure::Timeout,
            Self::Truncated { .. } => MetricsFailure::Truncated,
            error if error.is_retryable() => MetricsFailure::Unavailable,
            Self::Api { .. } | Self::Http { .. } => MetricsFailure::Rejected,
            Self::Request { .. } => MetricsFailure::Unsendable,
            _ => MetricsFailure::Invalid,
        }
    }
}

impl From<PrometheusError> for MetricsError {
    fn from(error: PrometheusError) -> Self {
        let out_of_time = matches!(
            error,
            PrometheusError::DeadlineExceeded { .. } | PrometheusError::NoTimeLeft
        );
        Self {
            failure: error.failure(),
            transient: error.is_retryable() || out_of_time,
            source: Box::new(error),
        }
    }
}

fn retryable_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, error_type: &str) -> PrometheusError {
        PrometheusError::Api {
            status,
            error_type: error_type.to_owned(),
            message: String::new(),
            retry_after: None,
        }
    }

    fn http(status: u16) -> PrometheusError {
        PrometheusError::Http {
            status,
            content_type: "text/html".to_owned(),
            body_start: "<html>".to_owned(),
            retry_after: None,
        }
    }

    #[test]
    fn only_failures_that_may_pass_are_retryable() {
        let cases = [
            ("bad_data is the query's fault", api(400, "bad_data"), false),
            ("execution errors repeat", api(422, "execution"), false),
            (
                "an overloaded server may recover",
                api(503, "unavailable"),
                true,
            ),
            ("a server-side timeout may pass", api(503, "timeout"), true),
            ("an internal error may pass", api(500, "internal"), true),
            ("a proxy's 502 page may pass", http(502), true),
            ("rate limiting asks to come back", http(429), true),
            ("a 404 page will not change", http(404), false),
            ("an auth failure will not change", http(401), false),
        ];
        for (name, error, retryable) in cases {
            assert_eq!(error.is_retryable(), retryable, "{name}");
        }
    }

    #[test]
    fn each_failure_is_named_by_its_cause() {
        let truncated = || PrometheusError::Truncated {
            content_type: "application/json".to_owned(),
            received: 10,
            body_start: "{".to_owned(),
            source: serde_json::from_str::<serde_json::Value>("{").expect_err("eof"),
        };
        let out_of_time = |last| PrometheusError::DeadlineExceeded {
            attempts: 3,
            last: Box::new(last),
        };
        let cases = [
            (api(400, "bad_data"), MetricsFailure::Rejected),
            (http(404), MetricsFailure::Rejected),
            (api(503, "unavailable"), MetricsFailure::Unavailable),
            (http(502), MetricsFailure::Unavailable),
            (http(504), MetricsFailure::Timeout),
            (api(503, "timeout"), MetricsFailure::Timeout),
            (truncated(), MetricsFailure::Truncated),
            (out_of_time(truncated()), MetricsFailure::Truncated),
            (out_of_time(http(503)), MetricsFailure::Unavailable),
            (PrometheusError::NoTimeLeft, MetricsFailure::Timeout),
            (
                PrometheusError::UnexpectedResultType {
                    expected: "vector",
                    actual: "scalar",
                },
                MetricsFailure::Invalid,
            ),
        ];
        for (error, failure) in cases {
            assert_eq!(error.failure(), failure, "{error}");
        }
    }
}
