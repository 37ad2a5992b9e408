//! The job's state I/O: its shard's state object, read and written with compare-and-swap,
//! and, after a reshard, the series it now owns taken over from the other count's states.

use vigil_core::check::run::held_by_another;
use vigil_core::check::shard::{adopt, Shard};
use vigil_core::check::state::{Loaded, StateDocument};
use vigil_core::ports::{AlertPublisher, MetricsSource, StateError, StateStore};
use vigil_core::telemetry::Event;

use crate::AnomalyCheckJob;

impl<M: MetricsSource, S: StateStore, P: AlertPublisher> AnomalyCheckJob<M, S, P> {
    /// `shard`'s stored state and its version; a corrupt one is logged and replaced by an
    /// empty one. Without a state of its own (or with one a reshard moved away), what it owns
    /// of the other shard count's states; `None` while one of those is still being sent from
    /// or was written meanwhile: the shard waits a minute.
    pub(crate) async fn load(
        &self,
        shard: Shard,
        wall_now: i64,
    ) -> Result<Option<(StateDocument, Option<String>)>, StateError> {
        let version = match self.state.load(shard).await? {
            Loaded::Missing => None,
            Loaded::Found { document, version } if document.moved_to.is_none() => {
                return Ok(Some((document, Some(version))));
            }
            Loaded::Found { version, .. } => Some(version),
            Loaded::Corrupt { version, problem } => {
                tracing::error!(problem = %problem, "{}", Event::StateCorrupt);
                return Ok(Some((StateDocument::default(), Some(version))));
            }
        };
        let mut others = Vec::new();
        for other in self.state.stored_shards().await? {
            if other.count == shard.count {
                continue;
            }
            let Loaded::Found { document, version } = self.state.load(other).await? else {
                continue;
            };
            match document.moved_to {
                Some(count) if count == shard.count => others.push(document),
                Some(_) => {}
                None => {
                    // Any live lease: no invocation of this count holds that state.
                    if let Some(lease) = held_by_another(&document, "", wall_now) {
                        tracing::warn!(shard = shard.index, shards = shard.count, from_shards = other.count, holder = %lease.holder, "{}", Event::ReshardWaiting);
                        return Ok(None);
                    }
                    let marked = StateDocument {
                        moved_to: Some(shard.count),
                        ..document
                    };
                    match self.state.save(other, &marked, Some(&version)).await {
                        Ok(_) => others.push(marked),
                        Err(StateError::Conflict) => {
                            tracing::warn!(
                                shard = shard.index,
                                shards = shard.count,
                                from_shards = other.count,
                                "{}",
                                Event::ReshardWaiting
                            );
                            return Ok(None);
                        }
                        Err(error) => return Err(error),
                    }
                }
            }
        }
        if others.is_empty() {
            return Ok(Some((StateDocument::default(), version)));
        }
        let from = others.len();
        let adopted = adopt(shard, others);
        tracing::info!(
            shard = shard.index,
            shards = shard.count,
            states = from,
            alerts = adopted.alerts.len(),
            series = adopted.memories.len(),
            "{}",
            Event::StateAdopted
        );
        Ok(Some((adopted, version)))
    }

    /// Writes `shard`'s `document` if its state is still at `version`; `None` when another
    /// invocation wrote it first.
    pub(crate) async fn save(
        &self,
        shard: Shard,
        document: &StateDocument,
        version: Option<&str>,
    ) -> Result<Option<String>, StateError> {
        match self.state.save(shard, document, version).await {
            Err(StateError::Conflict) => {
                tracing::warn!("{}", Event::StateConflict);
                Ok(None)
            }
            other => other.map(Some),
        }
    }
}
