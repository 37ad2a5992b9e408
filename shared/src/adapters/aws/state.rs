//! The alert state as one S3 object, written with conditional requests.

use super::S3Object;
use crate::check::shard::{stem, Shard};
use crate::check::state::{Loaded, StateDocument};
use crate::ports::{StateError, StateStore};

/// The state as one S3 object per shard, written with conditional requests: the configured
/// key for a single shard, [`Shard::state_key`] beside it for each shard of a count.
#[derive(Debug, Clone)]
pub struct S3StateStore(S3Object);

impl S3StateStore {
    /// The state whose single shard's object is `object`.
    pub fn new(object: S3Object) -> Self {
        Self(object)
    }

    fn object(&self, shard: Shard) -> S3Object {
        self.0.sibling(shard.state_key(self.0.key()))
    }
}

fn store_error(error: impl std::error::Error + Send + Sync + 'static) -> StateError {
    StateError::Store {
        source: Box::new(error),
    }
}

impl StateStore for S3StateStore {
    async fn load(&self, shard: Shard) -> Result<Loaded, StateError> {
        Ok(match self.object(shard).load_versioned().await? {
            None => Loaded::Missing,
            Some((bytes, version)) => Loaded::from_bytes(&bytes, version),
        })
    }

    async fn save(
        &self,
        shard: Shard,
        document: &StateDocument,
        expected: Option<&str>,
    ) -> Result<String, StateError> {
        let bytes = document.to_bytes().map_err(store_error)?;
        self.object(shard).save_versioned(bytes, expected).await
    }

    async fn stored_shards(&self) -> Result<Vec<Shard>, StateError> {
        let base = self.0.key();
        Ok(self
            .0
            .keys_under(stem(base))
            .await?
            .iter()
            .filter_map(|key| Shard::from_state_key(base, key))
            .collect())
    }
}
