//! The alert state as one S3 object, written with conditional requests.

use super::S3Object;
use crate::check::state::{Loaded, StateDocument};
use crate::ports::{StateError, StateStore};

/// The state as one S3 object, written with conditional requests.
#[derive(Debug, Clone)]
pub struct S3StateStore(S3Object);

impl S3StateStore {
    /// The state in `object`.
    pub fn new(object: S3Object) -> Self {
        Self(object)
    }
}

fn store_error(error: impl std::error::Error + Send + Sync + 'static) -> StateError {
    StateError::Store {
        source: Box::new(error),
    }
}

impl StateStore for S3StateStore {
    async fn load(&self) -> Result<Loaded, StateError> {
        let output = match self.0.get().send().await {
            Ok(output) => output,
            Err(error)
                if error.as_service_error().is_some_and(
                    aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                ) =>
            {
                return Ok(Loaded::Missing);
            }
            Err(error) => return Err(store_error(aws_sdk_s3::Error::from(error))),
        };
        let version = output.e_tag().unwrap_or_default().to_owned();
        let bytes = output
            .body
            .collect()
            .await
            .map_err(store_error)?
            .into_bytes();
        Ok(Loaded::from_bytes(&bytes, version))
    }

    async fn save(
        &self,
        document: &StateDocument,
        expected: Option<&str>,
    ) -> Result<String, StateError> {
        let request = self
            .0
            .put()
            .content_type("application/json")
            .body(document.to_bytes().map_err(store_error)?.into());
        let request = match expected {
            Some(version) => request.if_match(version),
            None => request.if_none_match("*"),
        };
        match request.send().await {
            Ok(output) => Ok(output.e_tag().unwrap_or_default().to_owned()),
            Err(error) => {
                let status = error.raw_response().map(|r| r.status().as_u16());
                if matches!(status, Some(409 | 412)) {
                    Err(StateError::Conflict)
                } else {
                    Err(store_error(aws_sdk_s3::Error::from(error)))
                }
            }
        }
    }
}
