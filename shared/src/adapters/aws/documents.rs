//! Documents a user keeps in S3, such as the checks document.

use crate::ports::{DocumentError, DocumentSource};

/// One S3 object read as UTF-8 text.
#[derive(Debug, Clone)]
pub struct S3Document {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
}

impl S3Document {
    /// The document at `s3://bucket/key`.
    pub fn new(
        client: aws_sdk_s3::Client,
        bucket: impl Into<String>,
        key: impl Into<String>,
    ) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    fn error(&self, source: impl Into<crate::ports::Cause>) -> DocumentError {
        DocumentError {
            address: format!("s3://{}/{}", self.bucket, self.key),
            source: source.into(),
        }
    }
}

impl DocumentSource for S3Document {
    async fn read(&self) -> Result<String, DocumentError> {
        let object = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await
            .map_err(|error| self.error(aws_sdk_s3::Error::from(error)))?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|error| self.error(error))?
            .into_bytes();
        String::from_utf8(bytes.to_vec()).map_err(|error| self.error(error))
    }
}
