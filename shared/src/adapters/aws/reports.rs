//! Report objects in an S3 bucket.

use crate::ports::{ReportStore, StoreError};

/// Writes and reads report objects in an S3 bucket.
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

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(key, false).await
    }

    async fn peek(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(key, true).await
    }
}

impl S3ReportStore {
    /// Reads `key`; `once` makes a single attempt. A request that is not retried takes nothing
    /// from the SDK's retry quota, which every S3 client of the process shares.
    async fn read(&self, key: &str, once: bool) -> Result<Option<Vec<u8>>, StoreError> {
        let read_error = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Read {
            key: key.to_owned(),
            source,
        };
        let mut request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .customize();
        if once {
            request = request.config_override(
                aws_sdk_s3::config::Builder::default()
                    .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled()),
            );
        }
        let object = match request.send().await {
            Ok(object) => object,
            Err(error)
                if error.as_service_error().is_some_and(
                    aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                ) =>
            {
                return Ok(None);
            }
            Err(error) => return Err(read_error(Box::new(aws_sdk_s3::Error::from(error)))),
        };
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|error| read_error(Box::new(error)))?;
        Ok(Some(bytes.into_bytes().to_vec()))
    }
}
