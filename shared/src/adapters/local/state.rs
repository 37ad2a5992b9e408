//! The alert state as a local file, for runs outside AWS.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;

use crate::check::shard::Shard;
use crate::check::state::{Loaded, StateDocument};
use crate::ports::{StateError, StateStore};

fn store_error(error: impl std::error::Error + Send + Sync + 'static) -> StateError {
    StateError::Store {
        source: Box::new(error),
    }
}

/// A local file written with compare-and-swap on a hash of its content (fine for one process
/// at a time): the alert state, or the silences.
#[derive(Debug, Clone)]
pub struct VersionedFile {
    path: PathBuf,
}

impl VersionedFile {
    /// The file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where it is.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    fn version(bytes: &[u8]) -> String {
        let mut hasher = DefaultHasher::new();
        bytes.hash(&mut hasher);
        format!("{:016x}", hasher.finish())
    }

    /// The file's bytes and version; `None` when there is none.
    ///
    /// # Errors
    /// [`StateError::Store`] when it cannot be read.
    pub async fn load_versioned(&self) -> Result<Option<(Vec<u8>, String)>, StateError> {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => {
                let version = Self::version(&bytes);
                Ok(Some((bytes, version)))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(store_error(error)),
        }
    }

    /// Writes `bytes` if the file is still at `expected` (`None`: if there is none); the new
    /// version.
    ///
    /// # Errors
    /// [`StateError::Conflict`] when it changed; [`StateError::Store`] when it cannot be written.
    pub async fn save_versioned(
        &self,
        bytes: Vec<u8>,
        expected: Option<&str>,
    ) -> Result<String, StateError> {
        let current = self.load_versioned().await?.map(|(_, version)| version);
        if current.as_deref() != expected {
            return Err(StateError::Conflict);
        }
        if let Some(parent) = self.path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(store_error)?;
        }
        let partial = self.path.with_extension("partial");
        tokio::fs::write(&partial, &bytes)
            .await
            .map_err(store_error)?;
        tokio::fs::rename(&partial, &self.path)
            .await
            .map_err(store_error)?;
        Ok(Self::version(&bytes))
    }
}

/// The state as a local file per shard, for runs outside AWS: `state.json` for a single
/// shard, [`Shard::state_key`] beside it for each shard of a count.
#[derive(Debug, Clone)]
pub struct FileStateStore(PathBuf);

/// The single shard's file name.
const STATE_FILE: &str = "state.json";

impl FileStateStore {
    /// The state in `dir/state.json` (and its shards' files beside it).
    pub fn in_directory(dir: impl Into<PathBuf>) -> Self {
        Self(dir.into())
    }

    fn file(&self, shard: Shard) -> VersionedFile {
        VersionedFile::new(self.0.join(shard.state_key(STATE_FILE)))
    }
}

impl StateStore for FileStateStore {
    async fn load(&self, shard: Shard) -> Result<Loaded, StateError> {
        Ok(match self.file(shard).load_versioned().await? {
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
        self.file(shard).save_versioned(bytes, expected).await
    }

    async fn stored_shards(&self) -> Result<Vec<Shard>, StateError> {
        let mut entries = match tokio::fs::read_dir(&self.0).await {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(store_error(error)),
        };
        let mut shards = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(store_error)? {
            if let Some(shard) = entry
                .file_name()
                .to_str()
                .and_then(|name| Shard::from_state_key(STATE_FILE, name))
            {
                shards.push(shard);
            }
        }
        Ok(shards)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::detector::memory::Memory;
    use crate::check::lifecycle::AlertKey;
    use crate::check::state::{Lease, SeriesMemory};

    #[tokio::test]
    async fn the_file_store_compares_and_swaps() {
        let dir = std::env::temp_dir().join(format!("vigil-state-{}", std::process::id()));
        let store = FileStateStore::in_directory(&dir);
        assert!(matches!(
            store.load(Shard::ONE).await.expect("loads"),
            Loaded::Missing
        ));
        let first = store
            .save(Shard::ONE, &StateDocument::default(), None)
            .await
            .expect("created");
        assert!(matches!(
            store
                .save(Shard::ONE, &StateDocument::default(), None)
                .await,
            Err(StateError::Conflict)
        ));
        let Loaded::Found { version, .. } = store.load(Shard::ONE).await.expect("loads") else {
            panic!("expected a document");
        };
        assert_eq!(version, first);
        let mut memory = Memory::default();
        for minute in 1..=50 {
            let taken = Some(f64::from(minute % 9) / 10.0);
            memory.observe(
                crate::check::detector::memory::DetectorScores {
                    point: taken,
                    sustained: taken,
                    daily: taken,
                },
                Some(f64::from(minute)),
                60 * i64::from(minute),
                &crate::check::detector::tuning::Tuning::default(),
            );
        }
        let changed = StateDocument {
            lease: Some(Lease {
                holder: "a".into(),
                expires_at: 1,
            }),
            memories: vec![SeriesMemory {
                key: AlertKey {
                    check: "request_rate".into(),
                    labels: [("service".to_owned(), "api".to_owned())].into(),
                },
                memory,
            }],
            ..StateDocument::default()
        };
        let second = store
            .save(Shard::ONE, &changed, Some(&first))
            .await
            .expect("swapped");
        let Loaded::Found { document, .. } = store.load(Shard::ONE).await.expect("loads") else {
            panic!("expected a document");
        };
        assert_eq!(document, changed, "memories survive the round trip");
        let stored: serde_json::Value =
            serde_json::from_slice(&tokio::fs::read(dir.join("state.json")).await.expect("read"))
                .expect("json");
        assert!(stored.get("memories").is_none(), "older code finds none");
        assert!(stored["series_memories"][0]["point"]["counts"].is_string());
        let mut older = stored.clone();
        let packed = older["series_memories"].take();
        older["memories"] = packed;
        older["memories"][0]["point"]["counts"] = serde_json::json!([1.5, 2.0]);
        older
            .as_object_mut()
            .expect("object")
            .remove("series_memories");
        let older: StateDocument = serde_json::from_value(older).expect("an older state loads");
        assert_eq!(older.memories.len(), 1);
        assert!(matches!(
            store.save(Shard::ONE, &changed, Some(&first)).await,
            Err(StateError::Conflict)
        ));
        assert_ne!(first, second);
        tokio::fs::write(dir.join("state.json"), b"{not json")
            .await
            .expect("written");
        assert!(matches!(
            store.load(Shard::ONE).await.expect("loads"),
            Loaded::Corrupt { .. }
        ));
        let shard = Shard { index: 1, count: 3 };
        store
            .save(shard, &StateDocument::default(), None)
            .await
            .expect("a shard's own file");
        assert!(dir.join("state.shard-1-of-3.json").exists());
        let mut shards = store.stored_shards().await.expect("listed");
        shards.sort();
        assert_eq!(shards, [Shard::ONE, shard]);
        let _ = tokio::fs::remove_dir_all(&dir).await;
    }
}
