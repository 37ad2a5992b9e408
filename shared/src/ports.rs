//! One narrow trait per outside capability, speaking domain types, each with its own error.
//! Handlers are generic over these, so they run against in-memory fakes in unit tests and
//! against real servers in integration tests; the implementations live in
//! [`adapters`](crate::adapters).

use std::error::Error;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::check::plan::Notification;
use crate::check::shard::Shard;
use crate::check::state::{Loaded, StateDocument};
use crate::deadline::Deadline;
use crate::series::{Sample, Series};

/// A dependency's own error, kept as the source of ours.
pub type Cause = Box<dyn Error + Send + Sync>;

/// What a metrics source answered: the values, and the notices that came with them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answer<T> {
    /// The values.
    pub values: T,
    /// Warnings, such as partial data.
    pub warnings: Vec<String>,
    /// Informational notices.
    pub infos: Vec<String>,
}

/// Reads metrics: instant and range queries evaluated at pinned times.
pub trait MetricsSource: Send + Sync {
    /// Evaluates `query` at `time`: one sample per series.
    fn query(
        &self,
        query: &str,
        time: DateTime<Utc>,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Answer<Vec<Sample>>, MetricsError>> + Send;

    /// Evaluates `query` over `[start, end]` every `step`: the points of each series.
    fn query_range(
        &self,
        query: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: Duration,
        deadline: Deadline,
    ) -> impl Future<Output = Result<Answer<Vec<Series>>, MetricsError>> + Send;
}

/// How a metrics query failed, as far as the job is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsFailure {
    /// The source, or the time left, ran out before an answer.
    Timeout,
    /// The source could not answer now: unreachable, overloaded, or out of attempts.
    Unavailable,
    /// The answer was cut short or garbled on its way (the last attempt's, when out of time).
    Truncated,
    /// The source refused the query: `bad_data` or another 4xx.
    Rejected,
    /// The source answered with something that is not its API (an HTML login page).
    Invalid,
    /// The request could not be made: signing failed, no credentials.
    Unsendable,
}

impl MetricsFailure {
    /// A short, stable name for the failure, as error types and logs use it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Timeout => "PrometheusTimeout",
            Self::Unavailable => "PrometheusUnavailable",
            Self::Truncated => "PrometheusResponseTruncated",
            Self::Rejected => "QueryRejected",
            Self::Invalid => "PrometheusResponseInvalid",
            Self::Unsendable => "PrometheusRequestFailed",
        }
    }
}

/// A failed metrics query.
#[derive(Debug, Error)]
#[error("{source}")]
pub struct MetricsError {
    /// What kind of failure.
    pub failure: MetricsFailure,
    /// Whether the same query could succeed later (a new invocation, the next minute).
    pub transient: bool,
    /// The source's own error.
    pub source: Cause,
}

impl MetricsError {
    /// Whether the same query could succeed later. The one predicate the jobs retry on.
    pub fn is_transient(&self) -> bool {
        self.transient
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

    /// Reads the object at `key`; `None` when there is none.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;

    /// Reads the object at `key` in one attempt, without retrying: for reads whose failure
    /// costs only what they would have shown, so they spend none of the retries the writes
    /// need. The default is [`get`](Self::get).
    fn peek(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send {
        self.get(key)
    }
}

/// A report object that could not be written or read.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The store refused or failed the read.
    #[error("could not read {key}: {source}")]
    Read {
        /// The object key.
        key: String,
        /// The store's error.
        #[source]
        source: Cause,
    },
    /// The store refused or failed the write.
    #[error("could not write {key}: {source}")]
    Write {
        /// The object key.
        key: String,
        /// The store's error.
        #[source]
        source: Cause,
    },
    /// The key would leave the store's root (absolute, or with `..`).
    #[error("refusing to write outside the report directory: {key}")]
    UnsafeKey {
        /// The object key.
        key: String,
    },
}

impl StoreError {
    /// Whether the same write or read could succeed later.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Write { .. } | Self::Read { .. })
    }
}

/// Keeps the alert state, one object per shard, with compare-and-swap writes.
pub trait StateStore: Send + Sync {
    /// Reads `shard`'s state.
    fn load(&self, shard: Shard) -> impl Future<Output = Result<Loaded, StateError>> + Send;

    /// Writes `shard`'s `document` if the stored version is still `expected` (`None`: if
    /// there is none); returns the new version.
    fn save(
        &self,
        shard: Shard,
        document: &StateDocument,
        expected: Option<&str>,
    ) -> impl Future<Output = Result<String, StateError>> + Send;

    /// Every shard, of any count, whose state is stored.
    fn stored_shards(&self) -> impl Future<Output = Result<Vec<Shard>, StateError>> + Send;
}

/// A state store failure.
#[derive(Debug, Error)]
pub enum StateError {
    /// Another invocation wrote the state since it was read.
    #[error("the alert state changed since it was read (another invocation is running)")]
    Conflict,
    /// The store failed.
    #[error("alert state store failed: {source}")]
    Store {
        /// The store's error.
        #[source]
        source: Cause,
    },
}

/// Publishes alert messages.
pub trait AlertPublisher: Send + Sync {
    /// Publishes one notification; `Ok` means the message service accepted it.
    fn publish(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<(), PublishError>> + Send;
}

/// A message the service did not accept.
#[derive(Debug, Error)]
#[error("could not publish {check} {transition}: {source}")]
pub struct PublishError {
    /// The check.
    pub check: String,
    /// `firing`, `repeat` or `resolved`.
    pub transition: String,
    /// The service's error.
    #[source]
    pub source: Cause,
}

impl PublishError {
    /// The error for `notification`, caused by `source`.
    pub fn new(notification: &Notification, source: impl Into<Cause>) -> Self {
        Self {
            check: notification.key.check.clone(),
            transition: notification.transition.as_str().to_owned(),
            source: source.into(),
        }
    }
}

/// Reads a document a user keeps (the checks document) by its address.
pub trait DocumentSource: Send + Sync {
    /// The document's text.
    fn read(&self) -> impl Future<Output = Result<String, DocumentError>> + Send;
}

/// A document that could not be read.
#[derive(Debug, Error)]
#[error("{address}: {source}")]
pub struct DocumentError {
    /// Where the document was looked for.
    pub address: String,
    /// Why it could not be read.
    #[source]
    pub source: Cause,
}
