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
        Ok(match self.0.load_versioned().await? {
            None => Loaded::Missing,
            Some((bytes, version)) => Loaded::from_bytes(&bytes, version),
        })
    }

    async fn save(
        &self,
        document: &StateDocument,
        expected: Option<&str>,
    ) -> Result<String, StateError> {
        let bytes = document.to_bytes().map_err(store_error)?;
        self.0.save_versioned(bytes, expected).await
    }
}
