//! The alert state: one JSON object, read at the start of an invocation and written with a
//! compare-and-swap, so two overlapping invocations never both send the same message.
//!
//! The protocol (see `anomaly-check`): an invocation that has messages to send first writes a
//! claim — the old alert states, the messages in an `outbox`, and a `lease` naming itself —
//! conditionally on the version it read. Only the winner publishes; a loser sees a conflict
//! (or a live lease) and sends nothing. After publishing, the winner writes the advanced
//! states, keeping any message SNS did not accept in the outbox for the next run.
//!
//! Stores: S3 with `If-Match: <etag>` / `If-None-Match: *`, or a local file for runs outside
//! AWS (compare-and-swap on a content hash; fine for one process at a time).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::alert::AlertKey;
use crate::anomaly::{AlertRecord, Notification};
use crate::memory::Memory;
use crate::ports::StateStore;

/// The version of the state object's schema.
pub const STATE_SCHEMA_VERSION: u32 = 1;

/// A message claimed for sending, with the record to keep once it is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The message.
    pub notification: Notification,
    /// The alert's record after the message (`None`: back to normal).
    pub record: Option<AlertRecord>,
}

/// An invocation's claim on the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The invocation (request id).
    pub holder: String,
    /// Wall-clock unix seconds after which the claim is void.
    pub expires_at: i64,
}

/// The whole stored state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateDocument {
    /// [`STATE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Every alert that is not normal.
    pub alerts: Vec<AlertRecord>,
    /// Messages claimed but not yet accepted by SNS.
    #[serde(default)]
    pub outbox: Vec<OutboxEntry>,
    /// The claim of the invocation sending the outbox, if any.
    #[serde(default)]
    pub lease: Option<Lease>,
    /// Each evaluated series' memory of its scores. Stored packed under a new name: code from
    /// before the packing reads `memories` as arrays, so after a rollback it finds none and
    /// learns afresh instead of refusing the whole state (and its alerts) as corrupt. States
    /// with the older `memories` still load.
    #[serde(default, rename = "series_memories", alias = "memories")]
    pub memories: Vec<SeriesMemory>,
}

/// One series' score memories, with its identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesMemory {
    /// Check and labels.
    pub key: AlertKey,
    /// The memories.
    #[serde(flatten)]
    pub memory: Memory,
}

impl Default for StateDocument {
    fn default() -> Self {
        Self {
            schema_version: STATE_SCHEMA_VERSION,
            alerts: Vec::new(),
            outbox: Vec::new(),
            lease: None,
            memories: Vec::new(),
        }
    }
}

/// What loading found.
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    /// No state yet: start fresh; create with `If-None-Match: *`.
    Missing,
    /// A valid state at this version.
    Found {
        /// The state.
        document: StateDocument,
        /// Its version (ETag).
        version: String,
    },
    /// An unreadable object: log it, start fresh, replace it at this version.
    Corrupt {
        /// Its version.
        version: String,
        /// Why it could not be read.
        problem: String,
    },
}

/// A state store failure.
#[derive(Debug, Error)]
pub enum StateError {
    /// Another invocation wrote the state since it was read.
    #[error("the alert state changed since it was read (another invocation is running)")]
    Conflict,
    /// The store failed.
    #[error("alert state store failed: {source}")]
    Store {
        /// The store's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn parse(bytes: &[u8], version: String) -> Loaded {
    match serde_json::from_slice::<StateDocument>(bytes) {
        Ok(document) if document.schema_version == STATE_SCHEMA_VERSION => {
            Loaded::Found { document, version }
        }
        Ok(document) => Loaded::Corrupt {
            version,
            problem: format!("unknown schema_version {}", document.schema_version),
        },
        Err(error) => Loaded::Corrupt {
            version,
            problem: error.to_string(),
        },
    }
}

fn serialise(document: &StateDocument) -> Result<Vec<u8>, StateError> {
    serde_json::to_vec(document).map_err(|error| StateError::Store {
        source: Box::new(error),
    })
}

/// The state as one S3 object, written with conditional requests.
#[derive(Debug, Clone)]
pub struct S3StateStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
}

impl S3StateStore {
    /// The state at `s3://bucket/key`.
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
}

fn store_error(error: impl std::error::Error + Send + Sync + 'static) -> StateError {
    StateError::Store {
        source: Box::new(error),
    }
}

impl StateStore for S3StateStore {
    async fn load(&self) -> Result<Loaded, StateError> {
        let output = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await
        {
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
        Ok(parse(&bytes, version))
    }

    async fn save(
        &self,
        document: &StateDocument,
        expected: Option<&str>,
    ) -> Result<String, StateError> {
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("application/json")
            .body(serialise(document)?.into());
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

/// The state as a local file, for runs outside AWS.
#[derive(Debug, Clone)]
pub struct FileStateStore {
    path: PathBuf,
}

impl FileStateStore {
    /// The state in `dir/state.json`.
    pub fn in_directory(dir: impl Into<PathBuf>) -> Self {
        Self {
            path: dir.into().join("state.json"),
        }
    }

    fn version(bytes: &[u8]) -> String {
        let mut hasher = DefaultHasher::new();
        bytes.hash(&mut hasher);
        format!("{:016x}", hasher.finish())
    }

    async fn current(&self) -> Result<Option<Vec<u8>>, StateError> {
        match tokio::fs::read(&self.path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(store_error(error)),
        }
    }
}

impl StateStore for FileStateStore {
    async fn load(&self) -> Result<Loaded, StateError> {
        Ok(match self.current().await? {
            None => Loaded::Missing,
            Some(bytes) => parse(&bytes, Self::version(&bytes)),
        })
    }

    async fn save(
        &self,
        document: &StateDocument,
        expected: Option<&str>,
    ) -> Result<String, StateError> {
        let current = self.current().await?.map(|bytes| Self::version(&bytes));
        if current.as_deref() != expected {
            return Err(StateError::Conflict);
        }
        let bytes = serialise(document)?;
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

/// The store chosen by configuration.
#[derive(Debug, Clone)]
pub enum ConfiguredStateStore {
    /// S3.
    S3(S3StateStore),
    /// A local file.
    File(FileStateStore),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_file_store_compares_and_swaps() {
        let dir = std::env::temp_dir().join(format!("vigil-state-{}", std::process::id()));
        let store = FileStateStore::in_directory(&dir);
        assert_eq!(store.load().await.expect("loads"), Loaded::Missing);
        let first = store
            .save(&StateDocument::default(), None)
            .await
            .expect("created");
        assert!(matches!(
            store.save(&StateDocument::default(), None).await,
            Err(StateError::Conflict)
        ));
        let Loaded::Found { version, .. } = store.load().await.expect("loads") else {
            panic!("expected a document");
        };
        assert_eq!(version, first);
        let mut memory = Memory::default();
        for minute in 1..=50 {
            let taken = Some(f64::from(minute % 9) / 10.0);
            memory.observe(
                crate::memory::DetectorScores {
                    point: taken,
                    sustained: taken,
                    daily: taken,
                },
                Some(f64::from(minute)),
                None,
                60 * i64::from(minute),
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
        let second = store.save(&changed, Some(&first)).await.expect("swapped");
        let Loaded::Found { document, .. } = store.load().await.expect("loads") else {
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
            store.save(&changed, Some(&first)).await,
            Err(StateError::Conflict)
        ));
        assert_ne!(first, second);
        tokio::fs::write(dir.join("state.json"), b"{not json")
            .await
            .expect("written");
        assert!(matches!(
            store.load().await.expect("loads"),
            Loaded::Corrupt { .. }
        ));
        let _ = tokio::fs::remove_dir_all(&dir).await;
    }
}
