//! Report stores: an S3 bucket, or a local directory for runs outside AWS.

use std::path::{Component, Path, PathBuf};

use aws_config::SdkConfig;
use thiserror::Error;

use crate::ports::ReportStore;

/// A report object that could not be written.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The store refused or failed the write.
    #[error("could not write {key}: {source}")]
    Write {
        /// The object key.
        key: String,
        /// The store's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The key would leave the store's root (absolute, or with `..`).
    #[error("refusing to write outside the report directory: {key}")]
    UnsafeKey {
        /// The object key.
        key: String,
    },
}

/// Builds an S3 client; `force_path_style` for S3-compatible endpoints (moto, MinIO).
pub fn s3_client(sdk: &SdkConfig, force_path_style: bool) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(force_path_style)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Writes report objects into an S3 bucket.
#[derive(Debug, Clone)]
pub struct S3ReportStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3ReportStore {
    /// A store writing into `bucket`.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }
}

impl ReportStore for S3ReportStore {
    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &'static str,
    ) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(body.into())
            .send()
            .await
            .map(|_| ())
            .map_err(|error| StoreError::Write {
                key: key.to_owned(),
                source: Box::new(aws_sdk_s3::Error::from(error)),
            })
    }
}

/// Writes report objects as files under a directory, keys as relative paths.
#[derive(Debug, Clone)]
pub struct DirReportStore {
    root: PathBuf,
}

impl DirReportStore {
    /// A store writing under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        let relative = Path::new(key);
        if key.is_empty()
            || !relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(StoreError::UnsafeKey {
                key: key.to_owned(),
            });
        }
        Ok(self.root.join(relative))
    }
}

impl ReportStore for DirReportStore {
    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        _content_type: &'static str,
    ) -> Result<(), StoreError> {
        let path = self.path(key)?;
        let write_error = |source: std::io::Error| StoreError::Write {
            key: key.to_owned(),
            source: Box::new(source),
        };
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(write_error)?;
        }
        // Write beside the target and rename, so a reader never sees half a file.
        let partial = path.with_extension("partial");
        tokio::fs::write(&partial, body)
            .await
            .map_err(write_error)?;
        tokio::fs::rename(&partial, &path)
            .await
            .map_err(write_error)
    }
}

/// The store chosen by configuration: S3 in AWS, a directory for local runs.
#[derive(Debug, Clone)]
pub enum ConfiguredReportStore {
    /// An S3 bucket.
    S3(S3ReportStore),
    /// A local directory.
    Directory(DirReportStore),
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_directory() {
        let store = DirReportStore::new("/reports");
        for key in ["../etc/passwd", "/etc/passwd", "a/../../b", ""] {
            assert!(store.path(key).is_err(), "{key}");
        }
        assert_eq!(
            store
                .path("sla-reports/daily/2026/11/23/report.json")
                .expect("safe"),
            Path::new("/reports/sla-reports/daily/2026/11/23/report.json")
        );
    }
}
