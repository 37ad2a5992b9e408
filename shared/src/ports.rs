//! One narrow trait per outside capability. Handlers are generic over these, so they run
//! against in-memory fakes in unit tests and against real servers in integration tests.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::deadline::Deadline;
use crate::prometheus::{PrometheusClient, PrometheusError, QueryResponse};
use crate::store::StoreError;

/// Reads metrics: instant and range queries evaluated at pinned times.
pub trait MetricsSource: Send + Sync {
    /// Evaluates `query` at `time`.
    fn query(
        &self,
        query: &str,
        time: DateTime<Utc>,
        deadline: Deadline,
    ) -> impl Future<Output = Result<QueryResponse, PrometheusError>> + Send;

    /// Evaluates `query` over `[start, end]` every `step`.
    fn query_range(
        &self,
        query: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: Duration,
        deadline: Deadline,
    ) -> impl Future<Output = Result<QueryResponse, PrometheusError>> + Send;
}

impl MetricsSource for PrometheusClient {
    async fn query(
        &self,
        query: &str,
        time: DateTime<Utc>,
        deadline: Deadline,
    ) -> Result<QueryResponse, PrometheusError> {
        PrometheusClient::query(self, query, time, deadline).await
    }

    async fn query_range(
        &self,
        query: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: Duration,
        deadline: Deadline,
    ) -> Result<QueryResponse, PrometheusError> {
        PrometheusClient::query_range(self, query, start, end, step, deadline).await
    }
}

/// Stores report objects under keys.
pub trait ReportStore: Send + Sync {
    /// Writes `body` at `key`, replacing what was there.
    fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &'static str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
