//! Report objects in an S3 bucket.

use crate::ports::{ReportStore, StoreError};

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
