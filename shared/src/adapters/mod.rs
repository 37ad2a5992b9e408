//! The ports' implementations: Prometheus over HTTP, S3 and SNS over the AWS SDK, and local
//! variants (a directory, a file, stdout) for runs outside AWS; plus the variant each job's
//! configuration chooses.

pub mod aws;
pub mod local;
pub mod prometheus;

use crate::check::plan::Notification;
use crate::check::state::{Loaded, StateDocument};
use crate::ports::{
    AlertPublisher, DocumentError, DocumentSource, PublishError, ReportStore, StateError,
    StateStore, StoreError,
};

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
    async fn load(&self) -> Result<Loaded, StateError> {
        match self {
            Self::S3(store) => store.load().await,
            Self::File(store) => store.load().await,
        }
    }

    async fn save(
        &self,
        document: &StateDocument,
        expected: Option<&str>,
    ) -> Result<String, StateError> {
        match self {
            Self::S3(store) => store.save(document, expected).await,
            Self::File(store) => store.save(document, expected).await,
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
