//! The ports' implementations: Prometheus over HTTP, S3 and SNS over the AWS SDK, and local
//! variants (a directory, a file, stdout) for runs outside AWS; plus the variant each job's
//! configuration chooses.

pub mod aws;
pub mod local;
pub mod prometheus;
pub mod silences;

use thiserror::Error;

use crate::check::plan::Notification;
use crate::check::shard::Shard;
use crate::check::state::{Loaded, StateDocument};
use crate::config::SlosSource;
use crate::ports::{
    AlertPublisher, DocumentError, DocumentSource, PublishError, ReportStore, StateError,
    StateStore, StoreError,
};
use crate::slo::document::{SloDocument, SloDocumentError};
use crate::slo::formats::parse_any;

/// The store chosen by configuration: S3 in AWS, a directory for local runs.
#[derive(Debug, Clone)]
pub enum ConfiguredReportStore {
    /// An S3 bucket.
    S3(aws::reports::S3ReportStore),
    /// A local directory.
    Directory(local::reports::DirReportStore),
}

impl ReportStore for ConfiguredReportStore {
    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &'static str,
    ) -> Result<(), StoreError> {
        match self {
            Self::S3(store) => store.put(key, body, content_type).await,
            Self::Directory(store) => store.put(key, body, content_type).await,
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Self::S3(store) => store.get(key).await,
            Self::Directory(store) => store.get(key).await,
        }
    }

    async fn peek(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        match self {
            Self::S3(store) => store.peek(key).await,
            Self::Directory(store) => store.peek(key).await,
        }
    }
}

/// The store chosen by configuration.
#[derive(Debug, Clone)]
pub enum ConfiguredStateStore {
    /// S3.
    S3(aws::state::S3StateStore),
    /// A local file.
    File(local::state::FileStateStore),
}

impl StateStore for ConfiguredStateStore {
    async fn load(&self, shard: Shard) -> Result<Loaded, StateError> {
        match self {
            Self::S3(store) => store.load(shard).await,
            Self::File(store) => store.load(shard).await,
        }
    }

    async fn save(
        &self,
        shard: Shard,
        document: &StateDocument,
        expected: Option<&str>,
    ) -> Result<String, StateError> {
        match self {
            Self::S3(store) => store.save(shard, document, expected).await,
            Self::File(store) => store.save(shard, document, expected).await,
        }
    }

    async fn stored_shards(&self) -> Result<Vec<Shard>, StateError> {
        match self {
            Self::S3(store) => store.stored_shards().await,
            Self::File(store) => store.stored_shards().await,
        }
    }
}

/// The publisher chosen by configuration.
#[derive(Debug, Clone)]
pub enum ConfiguredPublisher {
    /// SNS.
    Sns(aws::sns::SnsPublisher),
    /// Stdout.
    Stdout(local::stdout::StdoutPublisher),
}

impl AlertPublisher for ConfiguredPublisher {
    async fn publish(&self, notification: &Notification) -> Result<(), PublishError> {
        match self {
            Self::Sns(publisher) => publisher.publish(notification).await,
            Self::Stdout(publisher) => publisher.publish(notification).await,
        }
    }
}

/// The document source chosen by configuration: a bundled file or an S3 object.
#[derive(Debug, Clone)]
pub enum ConfiguredDocument {
    /// A local file.
    File(local::documents::FileDocument),
    /// An S3 object.
    S3(aws::documents::S3Document),
}

impl DocumentSource for ConfiguredDocument {
    async fn read(&self) -> Result<String, DocumentError> {
        match self {
            Self::File(document) => document.read().await,
            Self::S3(document) => document.read().await,
        }
    }
}

/// The SLO document named by `SLOS_FILE` or `SLOS_S3_URI` could not be used at start-up.
#[derive(Debug, Error)]
pub enum SlosStartupError {
    /// It could not be read.
    #[error("{variable}: could not read the SLO document: {source}")]
    Unreadable {
        /// `SLOS_FILE` or `SLOS_S3_URI`.
        variable: &'static str,
        /// Why.
        #[source]
        source: DocumentError,
    },
    /// It is invalid.
    #[error("{variable}: {source}")]
    Invalid {
        /// `SLOS_FILE` or `SLOS_S3_URI`.
        variable: &'static str,
        /// What is wrong, naming the SLO and field.
        #[source]
        source: SloDocumentError,
    },
}

/// Reads and validates the SLO document `source` names (native, OpenSLO or Sloth); `None`
/// without one. `s3` reaches `SLOS_S3_URI`.
///
/// # Errors
/// [`SlosStartupError`] naming the variable, and the SLO and field at fault.
pub async fn read_slos(
    source: &SlosSource,
    s3: &aws_sdk_s3::Client,
) -> Result<Option<SloDocument>, SlosStartupError> {
    let (variable, document) = match source {
        SlosSource::Absent => return Ok(None),
        SlosSource::File(path) => (
            "SLOS_FILE",
            ConfiguredDocument::File(local::documents::FileDocument::new(path)),
        ),
        SlosSource::S3 { bucket, key } => (
            "SLOS_S3_URI",
            ConfiguredDocument::S3(aws::documents::S3Document::new(aws::S3Object::new(
                s3.clone(),
                bucket,
                key,
            ))),
        ),
    };
    let text = document
        .read()
        .await
        .map_err(|source| SlosStartupError::Unreadable { variable, source })?;
    parse_any(&text)
        .map(Some)
        .map_err(|source| SlosStartupError::Invalid { variable, source })
}
