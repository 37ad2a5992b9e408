//! Shards: past what one invocation evaluates, the minute check runs once per shard (a Step
//! Functions Map state passes `{"time", "shard", "shards"}`), and each shard owns the series
//! whose stable label hash falls in it, with its own state object and lease.
//!
//! A series' check alerts, no-data alerts and memories go with its labels, so one service's
//! series of every check are in one shard. The SLO alerts, and a check's no-data alert for
//! returning nothing at all, belong to shard 0.
//!
//! Resharding ([`adopt`]): a shard that finds no state of its own (or one marked as moved)
//! takes what it owns from the states of the other shard count, after marking each of them
//! `moved_to` its count (conditionally, so an invocation of the old count that is still
//! running cannot write it again unnoticed); a live lease on an old state makes it wait a
//! minute. Its windows are read afresh.

use serde_json::Value;

use super::history::Fnv;
use super::plan::{AlertRecord, Notification, Plan};
use super::state::StateDocument;
use crate::series::Labels;

/// Most shards a deployment may have.
pub const MAX_SHARDS: u32 = 256;

/// One shard of a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shard {
    /// From 0.
    pub index: u32,
    /// How many shards there are.
    pub count: u32,
}

/// An event whose shard fields are not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the event's \"shard\" and \"shards\" must both be whole numbers with 0 <= shard < shards <= {MAX_SHARDS}, or both absent: found shard {shard}, shards {shards}")]
pub struct ShardError {
    /// `shard` as found.
    pub shard: String,
    /// `shards` as found.
    pub shards: String,
}

impl Shard {
    /// The only shard of an unsharded deployment.
    pub const ONE: Self = Self { index: 0, count: 1 };

    /// The shard an event asks for: `shard` and `shards`, or [`Self::ONE`] without them.
    ///
    /// # Errors
    /// [`ShardError`] when only one is given or they are out of range.
    pub fn from_event(event: &Value) -> Result<Self, ShardError> {
        let (shard, shards) = (event.get("shard"), event.get("shards"));
        if shard.is_none() && shards.is_none() {
            return Ok(Self::ONE);
        }
        let number = |v: Option<&Value>| {
            v.and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
        };
        match (number(shard), number(shards)) {
            (Some(index), Some(count)) if index < count && count <= MAX_SHARDS => {
                Ok(Self { index, count })
            }
            _ => Err(ShardError {
                shard: shard.map_or_else(|| "absent".to_owned(), Value::to_string),
                shards: shards.map_or_else(|| "absent".to_owned(), Value::to_string),
            }),
        }
    }

    /// Whether a series with `labels` belongs to this shard.
    pub fn owns(self, labels: &Labels) -> bool {
        self.count <= 1 || Self::of(labels, self.count) == self.index
    }

    /// The shard of `count` that a series with `labels` belongs to: its labels' FNV-1a hash,
    /// stable across versions and machines, modulo the count.
    pub fn of(labels: &Labels, count: u32) -> u32 {
        let mut hash = Fnv::default();
        for (name, value) in labels {
            hash.write(name.as_bytes());
            hash.write(&[0xff]);
            hash.write(value.as_bytes());
            hash.write(&[0xfe]);
        }
        u32::try_from(hash.0 % u64::from(count.max(1))).unwrap_or(0)
    }

    /// Whether an alert belongs to this shard: an SLO's, or one without labels, to shard 0.
    pub fn owns_record(self, record: &AlertRecord) -> bool {
        self.owns_alert(record.slo.is_some(), &record.key.labels)
    }

    /// Whether a message's alert belongs to this shard.
    pub fn owns_message(self, notification: &Notification) -> bool {
        self.owns_alert(notification.slo.is_some(), &notification.key.labels)
    }

    fn owns_alert(self, slo: bool, labels: &Labels) -> bool {
        if slo || labels.is_empty() {
            self.index == 0
        } else {
            self.owns(labels)
        }
    }

    /// The key of this shard's state object, for the single shard's key `base`:
    /// `base` itself for one shard, else `<base without .json>.shard-<index>-of-<count>.json`.
    pub fn state_key(self, base: &str) -> String {
        if self.count <= 1 {
            return base.to_owned();
        }
        format!("{}.shard-{}-of-{}.json", stem(base), self.index, self.count)
    }

    /// The shard whose state object is `key`, for the single shard's key `base`.
    pub fn from_state_key(base: &str, key: &str) -> Option<Self> {
        if key == base {
            return Some(Self::ONE);
        }
        let (index, count) = key
            .strip_prefix(stem(base))?
            .strip_prefix(".shard-")?
            .strip_suffix(".json")?
            .split_once("-of-")?;
        let shard = Self {
            index: index.parse().ok()?,
            count: count.parse().ok()?,
        };
        (shard.count > 1 && shard.index < shard.count && shard.state_key(base) == key)
            .then_some(shard)
    }
}

/// What every shard's state key starts with.
pub fn stem(base: &str) -> &str {
    base.strip_suffix(".json").unwrap_or(base)
}

/// Keeps of `plan` only the alerts and messages `shard` owns.
pub fn owned(shard: Shard, mut plan: Plan) -> Plan {
    if shard.count > 1 {
        plan.next.retain(|r| shard.owns_record(r));
        plan.notifications.retain(|(n, _)| shard.owns_message(n));
    }
    plan
}

/// The state `shard` starts from after a reshard: what it owns of the `others` (the states
/// of another count, each already marked as moved to it), from the newest generation only.
/// Windows are not carried over: they are read again.
pub fn adopt(shard: Shard, others: Vec<StateDocument>) -> StateDocument {
    let newest = others.iter().map(|o| o.generation).max().unwrap_or(0);
    let mut adopted = StateDocument {
        generation: newest + 1,
        ..StateDocument::default()
    };
    for other in others.into_iter().filter(|o| o.generation == newest) {
        adopted
            .alerts
            .extend(other.alerts.into_iter().filter(|r| shard.owns_record(r)));
        adopted.outbox.extend(
            other
                .outbox
                .into_iter()
                .filter(|e| shard.owns_message(&e.notification)),
        );
        adopted.memories.extend(
            other
                .memories
                .into_iter()
                .filter(|m| shard.owns(&m.key.labels)),
        );
        if shard.index == 0 && adopted.slo_cache.is_none() {
            adopted.slo_cache = other.slo_cache;
        }
    }
    adopted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::detector::memory::Memory;
    use crate::check::lifecycle::AlertKey;
    use crate::check::state::SeriesMemory;
    use serde_json::json;

    fn labels(service: &str) -> Labels {
        [("service".to_owned(), service.to_owned())].into()
    }

    #[test]
    fn the_event_names_the_shard_or_there_is_one() {
        assert_eq!(Shard::from_event(&json!({"time": "x"})), Ok(Shard::ONE));
        assert_eq!(
            Shard::from_event(&json!({"shard": 2, "shards": 3})),
            Ok(Shard { index: 2, count: 3 })
        );
        for bad in [
            json!({"shard": 3, "shards": 3}),
            json!({"shard": 0}),
            json!({"shard": "0", "shards": 2}),
            json!({"shard": 0, "shards": 1000}),
            json!({"shard": -1, "shards": 2}),
        ] {
            let error = Shard::from_event(&bad).expect_err("refused");
            assert!(error.to_string().contains("0 <= shard < shards"), "{error}");
        }
    }

    #[test]
    fn every_series_has_exactly_one_shard_and_the_hash_is_stable() {
        let names: Vec<String> = (0..1000).map(|i| format!("service-{i}")).collect();
        for count in [1, 2, 3, 4, 7] {
            let mut sizes = vec![0; count as usize];
            for name in &names {
                let owners: Vec<u32> = (0..count)
                    .filter(|&index| Shard { index, count }.owns(&labels(name)))
                    .collect();
                assert_eq!(owners.len(), 1);
                sizes[owners[0] as usize] += 1;
            }
            assert!(
                sizes.iter().all(|&n| n > 1000 / count as usize * 8 / 10),
                "{sizes:?}"
            );
        }
        // Fixed forever: a change would move every series on upgrade.
        assert_eq!(Shard::of(&labels("api"), 1_000_003), 334_460);
    }

    #[test]
    fn state_keys_name_their_shard() {
        let base = "anomaly-check/prod/state.json";
        assert_eq!(Shard::ONE.state_key(base), base);
        let shard = Shard { index: 1, count: 3 };
        let key = shard.state_key(base);
        assert_eq!(key, "anomaly-check/prod/state.shard-1-of-3.json");
        assert_eq!(Shard::from_state_key(base, &key), Some(shard));
        assert_eq!(Shard::from_state_key(base, base), Some(Shard::ONE));
        for other in [
            "anomaly-check/prod/state.shard-3-of-3.json",
            "anomaly-check/prod/state.shard-01-of-3.json",
            "anomaly-check/prod/state.partial",
            "anomaly-check/prod/states.json",
        ] {
            assert_eq!(Shard::from_state_key(base, other), None, "{other}");
        }
    }

    #[test]
    fn adopting_takes_exactly_what_the_shard_owns() {
        let memory = |service: &str| SeriesMemory {
            key: AlertKey {
                check: "request_rate".to_owned(),
                labels: labels(service),
            },
            memory: Memory::default(),
        };
        let names: Vec<String> = (0..50).map(|i| format!("s{i}")).collect();
        let old: Vec<StateDocument> = names
            .chunks(25)
            .map(|chunk| StateDocument {
                memories: chunk.iter().map(|s| memory(s)).collect(),
                ..StateDocument::default()
            })
            .collect();
        let mut taken: Vec<Labels> = (0..3)
            .flat_map(|index| adopt(Shard { index, count: 3 }, old.clone()).memories)
            .map(|m| m.key.labels)
            .collect();
        taken.sort();
        let mut all: Vec<Labels> = names.iter().map(|s| labels(s)).collect();
        all.sort();
        assert_eq!(taken, all, "each series once");
    }
}
