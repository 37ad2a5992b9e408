//! A client for the Prometheus HTTP query API, and the values it returns.
//!
//! Works with any Prometheus-compatible backend: vanilla Prometheus, Thanos, Cortex/Mimir
//! (tenant header), VictoriaMetrics, Grafana Cloud (basic auth or bearer token) and Amazon
//! Managed Service for Prometheus (SigV4, service `aps`). Every query is evaluated at a pinned
//! time; transport failures, 5xx and 429 are retried with jittered exponential backoff within
//! the caller's [`Deadline`](crate::deadline::Deadline); `bad_data` and other 4xx never are.

mod client;
mod error;
mod settings;
pub mod wire;

pub use client::{Auth, PrometheusClient, PrometheusClientOptions};
pub use error::PrometheusError;
pub use settings::{AuthSetting, ConnectError, PrometheusSettings};

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::deadline::Deadline;
use crate::ports::{Answer, MetricsError, MetricsSource};
use crate::series::{Sample, Series};

impl MetricsSource for PrometheusClient {
    async fn query(
        &self,
        query: &str,
        time: DateTime<Utc>,
        deadline: Deadline,
    ) -> Result<Answer<Vec<Sample>>, MetricsError> {
        let QueryResponse {
            result,
            warnings,
            infos,
        } = PrometheusClient::query(self, query, time, deadline).await?;
        Ok(Answer {
            values: result.into_vector()?,
            warnings,
            infos,
        })
    }

    async fn query_range(
        &self,
        query: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: Duration,
        deadline: Deadline,
    ) -> Result<Answer<Vec<Series>>, MetricsError> {
        let QueryResponse {
            result,
            warnings,
            infos,
        } = PrometheusClient::query_range(self, query, start, end, step, deadline).await?;
        Ok(Answer {
            values: result.into_matrix()?,
            warnings,
            infos,
        })
    }
}

/// A query result, by result type.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryResult {
    /// An instant vector of float samples.
    Vector(Vec<Sample>),
    /// A range vector of float series.
    Matrix(Vec<Series>),
    /// A scalar.
    Scalar(f64),
    /// A string.
    String(String),
}

impl QueryResult {
    /// The result as an instant vector.
    ///
    /// # Errors
    /// [`PrometheusError::UnexpectedResultType`] for any other result type.
    pub fn into_vector(self) -> Result<Vec<Sample>, PrometheusError> {
        match self {
            QueryResult::Vector(samples) => Ok(samples),
            other => Err(PrometheusError::UnexpectedResultType {
                expected: "vector",
                actual: other.kind(),
            }),
        }
    }

    /// The result as a range vector.
    ///
    /// # Errors
    /// [`PrometheusError::UnexpectedResultType`] for any other result type.
    pub fn into_matrix(self) -> Result<Vec<Series>, PrometheusError> {
        match self {
            QueryResult::Matrix(series) => Ok(series),
            other => Err(PrometheusError::UnexpectedResultType {
                expected: "matrix",
                actual: other.kind(),
            }),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Vector(_) => "vector",
            Self::Matrix(_) => "matrix",
            Self::Scalar(_) => "scalar",
            Self::String(_) => "string",
        }
    }
}

/// A successful response: the result plus what Prometheus said along with it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResponse {
    /// The result.
    pub result: QueryResult,
    /// Warnings, e.g. partial data; native-histogram samples this client skipped are noted here.
    pub warnings: Vec<String>,
    /// Informational notices.
    pub infos: Vec<String>,
}

impl QueryResponse {
    /// The response for `data`, with the warnings and infos Prometheus sent along.
    pub fn with_notices(data: wire::Data, warnings: Vec<String>, infos: Vec<String>) -> Self {
        let mut response = Self::from(data);
        response.warnings.extend(warnings);
        response.infos = infos;
        response
    }
}

impl From<wire::Data> for QueryResponse {
    fn from(data: wire::Data) -> Self {
        let mut skipped_histograms = 0_usize;
        let result = match data {
            wire::Data::Vector(samples) => QueryResult::Vector(
                samples
                    .into_iter()
                    .filter_map(|sample| {
                        if let Some(wire::Point(_, value)) = sample.value {
                            Some(Sample {
                                labels: sample.metric,
                                value,
                            })
                        } else {
                            skipped_histograms += 1;
                            None
                        }
                    })
                    .collect(),
            ),
            wire::Data::Matrix(series) => QueryResult::Matrix(
                series
                    .into_iter()
                    .filter_map(|series| {
                        if series.values.is_empty() && !series.histograms.is_empty() {
                            skipped_histograms += 1;
                            return None;
                        }
                        Some(Series {
                            labels: series.metric,
                            points: series.values,
                        })
                    })
                    .collect(),
            ),
            wire::Data::Scalar(wire::Point(_, value)) => QueryResult::Scalar(value),
            wire::Data::String((_, value)) => QueryResult::String(value),
        };
        let mut warnings = Vec::new();
        if skipped_histograms > 0 {
            warnings.push(format!(
                "{skipped_histograms} native-histogram series skipped: only float samples are used"
            ));
        }
        Self {
            result,
            warnings,
            infos: Vec::new(),
        }
    }
}
