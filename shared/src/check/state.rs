//! The alert state: one JSON object, read at the start of an invocation and written with a
//! compare-and-swap, so two overlapping invocations never both send the same message.
//!
//! The protocol (see `anomaly-check`): an invocation that has messages to send first writes a
//! claim — the old alert states, the messages in an `outbox`, and a `lease` naming itself —
//! conditionally on the version it read. Only the winner publishes; a loser sees a conflict
//! (or a live lease) and sends nothing. After publishing, the winner writes the advanced
//! states, keeping any message SNS did not accept in the outbox for the next run.
//!
//! Stores (in `adapters`): S3 with `If-Match: <etag>` / `If-None-Match: *`, or a local file
//! for runs outside AWS (compare-and-swap on a content hash; fine for one process at a time).

use serde::{Deserialize, Serialize};

use super::burn::SloCache;
use super::detector::memory::Memory;
use super::history::History;
use super::lifecycle::AlertKey;
use super::plan::{AlertRecord, Notification};

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
    /// The SLO burn-rate rules' long-range counts, kept between their reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo_cache: Option<SloCache>,
    /// Each check's window as read so far, so each sample is read once.
    #[serde(default, skip_serializing_if = "Histories::is_empty")]
    pub histories: Histories,
    /// Set by a reshard: the shard count whose shards took this state's series over
    /// ([`super::shard::adopt`]); no invocation of this state's own count writes it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<u32>,
    /// How many reshards made this state: a reshard takes over only the states of the newest
    /// generation, never older ones left behind by an earlier reshard.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub generation: u64,
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The checks' stored windows; one that cannot be read is dropped on its own (its check
/// reads its window afresh), not the whole state with its alerts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Histories {
    /// The readable ones.
    pub kept: Vec<History>,
    /// Why each unreadable one could not be read.
    pub dropped: Vec<String>,
}

impl Histories {
    /// Whether none is stored.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }
}

impl Serialize for Histories {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.kept.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Histories {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Borrowed from the stored bytes: a window is parsed where it lies, never copied.
        let raw = Vec::<&'de serde_json::value::RawValue>::deserialize(deserializer)?;
        let mut histories = Self::default();
        for (index, stored) in raw.iter().enumerate() {
            match serde_json::from_str::<History>(stored.get()) {
                Ok(history) => histories.kept.push(history),
                Err(error) => histories
                    .dropped
                    .push(format!("histories[{index}]: {error}")),
            }
        }
        Ok(histories)
    }
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
            slo_cache: None,
            histories: Histories::default(),
            moved_to: None,
            generation: 0,
        }
    }
}

/// What loading found.
// One per invocation, moved out at once: boxing the document would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
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
        problem: Corruption,
    },
}

/// Why a stored state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Corruption {
    /// Written by a version of Vigil with another schema.
    #[error("unknown schema_version {0}")]
    Schema(u32),
    /// Not a state document.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

impl Loaded {
    /// What the stored bytes at `version` hold: a state of this schema, or a corrupt one.
    pub fn from_bytes(bytes: &[u8], version: String) -> Self {
        match serde_json::from_slice::<StateDocument>(bytes) {
            Ok(document) if document.schema_version == STATE_SCHEMA_VERSION => {
                Self::Found { document, version }
            }
            Ok(document) => Self::Corrupt {
                version,
                problem: Corruption::Schema(document.schema_version),
            },
            Err(error) => Self::Corrupt {
                version,
                problem: error.into(),
            },
        }
    }
}

impl StateDocument {
    /// The stored form.
    ///
    /// # Errors
    /// When serialisation fails (it does not for documents built by this crate).
    pub fn to_bytes(&self) -> serde_json::Result<Vec<u8>> {
        serde_json::to_vec(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_window_is_dropped_alone() {
        let bytes = br#"{"schema_version":1,"alerts":[],"histories":[
            {"check":"a","read":"0","step":60,"end":120,"from":60,"series":[{"labels":{},"values":"gA=="}]},
            {"check":"b","read":"0","step":60,"end":120,"from":60,"series":[{"labels":{},"values":"not base64!"}]}
        ]}"#;
        let Loaded::Found { document, .. } = Loaded::from_bytes(bytes, "v1".to_owned()) else {
            panic!("the state is read");
        };
        assert_eq!(document.histories.kept.len(), 1);
        assert_eq!(document.histories.kept[0].check, "a");
        assert_eq!(document.histories.dropped.len(), 1);
        assert!(document.histories.dropped[0].starts_with("histories[1]: values:"));
    }
}
