//! Documents a user keeps in S3, such as the checks document.

use super::S3Object;
use crate::ports::{DocumentError, DocumentSource};

/// One S3 object read as UTF-8 text.
#[derive(Debug, Clone)]
pub struct S3Document(S3Object);

impl S3Document {
    /// The document in `object`.
    pub fn new(object: S3Object) -> Self {
        Self(object)
    }

    fn error(&self, source: impl Into<crate::ports::Cause>) -> DocumentError {
        DocumentError {
            address: self.0.uri(),
            source: source.into(),
        }
    }
}

impl DocumentSource for S3Document {
    async fn read(&self) -> Result<String, DocumentError> {
        let object = self
            .0
            .get()
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
