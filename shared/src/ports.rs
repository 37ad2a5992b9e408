//! One narrow trait per outside capability. Handlers are generic over these, so they run
//! against in-memory fakes in unit tests and against real servers in integration tests.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::anomaly::Notification;
use crate::deadline::Deadline;
use crate::prometheus::{PrometheusClient, PrometheusError, QueryResponse};
use crate::publish::PublishError;
use crate::state::{Loaded, StateDocument, StateError};
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

/// Keeps the alert state, with compare-and-swap writes.
pub trait StateStore: Send + Sync {
    /// Reads the state.
    fn load(&self) -> impl Future<Output = Result<Loaded, StateError>> + Send;

    /// Writes `document` if the stored version is still `expected` (`None`: if there is
    /// none); returns the new version.
    fn save(
        &self,
        document: &StateDocument,
        expected: Option<&str>,
    ) -> impl Future<Output = Result<String, StateError>> + Send;
}

/// Publishes alert messages.
pub trait AlertPublisher: Send + Sync {
    /// Publishes one notification; `Ok` means the message service accepted it.
    fn publish(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<(), PublishError>> + Send;
}
