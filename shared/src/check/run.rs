//! One invocation of the minute check over all its checks, as pure steps: when it evaluates,
//! whether another invocation holds the state, each check's evaluation (or, when its query
//! failed, its alerts kept as they were), the outbox of messages to send, and what is kept
//! once each message was or was not accepted. The job does the I/O between the steps.

use std::collections::BTreeMap;

use super::absence::no_data_of;
use super::burn::SloCache;
use super::detector::memory::{Memory, FORGET_AFTER_SECONDS};
use super::detector::Detector;
use super::evaluate::{evaluate_check, remember, SeriesEvaluation};
use super::history::History;
use super::lifecycle::{AlertKey, AlertState, Transition};
use super::model::Check;
use super::model::Unit;
use super::plan::{plan_check, AlertRecord, Notification, Plan};
use super::state::{Histories, Lease, OutboxEntry, SeriesMemory, StateDocument};
use crate::annotations::Annotations;
use crate::series::Series;

/// The evaluation time of an event at `event_time` (unix seconds): `delay_seconds` earlier, so
/// the newest scrape has arrived, on the minute.
pub fn evaluation_time(event_time: i64, delay_seconds: i64) -> i64 {
    (event_time - delay_seconds).div_euclid(60) * 60
}

/// The lease of another invocation that is still live at `wall_now`: that one is sending, so
/// this one stops.
pub fn held_by_another<'a>(
    document: &'a StateDocument,
    request_id: &str,
    wall_now: i64,
) -> Option<&'a Lease> {
    document
        .lease
        .as_ref()
        .filter(|lease| lease.expires_at > wall_now && lease.holder != request_id)
}

/// The evaluation loop's step for one check, shared by the job and `score-csv`: takes each
/// evaluation into its series' memory and advances the check's alerts, of which `previous`
/// holds every stored one.
pub fn conclude(
    check: &Check,
    evaluations: Vec<SeriesEvaluation>,
    memories: &mut BTreeMap<AlertKey, Memory>,
    previous: &[AlertRecord],
    now: i64,
) -> Plan {
    remember(check, &evaluations, memories, now);
    plan_check(check, evaluations, previous, now)
}

/// The state one invocation builds as it goes through its checks.
#[derive(Debug, Default)]
pub struct Round {
    now: i64,
    alerts: BTreeMap<AlertKey, AlertRecord>,
    memories: BTreeMap<AlertKey, Memory>,
    pending: Vec<OutboxEntry>,
    slo_cache: Option<SloCache>,
    histories: Vec<History>,
    generation: u64,
}

impl Round {
    /// Starts the round at evaluation time `now`, taking the stored memories of series seen
    /// within [`FORGET_AFTER_SECONDS`] whose check still exists. Memories are moved, never
    /// copied: at 10,000 series they are megabytes.
    pub fn start(document: &mut StateDocument, checks: &[Check], now: i64) -> Self {
        let memories = std::mem::take(&mut document.memories)
            .into_iter()
            .filter(|m| now - m.memory.seen <= FORGET_AFTER_SECONDS)
            .filter(|m| checks.iter().any(|c| c.name == m.key.check))
            .map(|m| (m.key, m.memory))
            .collect();
        Self {
            now,
            memories,
            generation: document.generation,
            ..Self::default()
        }
    }

    /// Evaluates `check` on the series its query returned (`season`: the same window one
    /// season earlier, where the check asks for it); `previous` holds every stored alert.
    /// Returns the number of series evaluated.
    pub fn evaluate(
        &mut self,
        check: &Check,
        detector: &dyn Detector,
        current: impl IntoIterator<Item = Series>,
        season: &[Series],
        previous: &[AlertRecord],
    ) -> usize {
        let evaluations = evaluate_check(
            check,
            detector,
            current,
            season,
            check.window_end(self.now),
            previous,
            &self.memories,
        );
        let series = evaluations.len();
        let plan = conclude(check, evaluations, &mut self.memories, previous, self.now);
        self.absorb(plan);
        series
    }

    /// The evaluation time, unix seconds.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Keeps a check's window, as read so far, in the state.
    pub fn keep_history(&mut self, history: History) {
        self.histories.push(history);
    }

    /// Keeps the SLO rules' long-range counts in the state (without SLO rules none is kept).
    pub fn keep_slo_cache(&mut self, cache: Option<SloCache>) {
        self.slo_cache = cache;
    }

    /// Takes a plan's alerts and messages into the round: a check's, or the SLOs' burn-rate
    /// alerts' ([`super::burn::plan_burn`], at this round's evaluation time).
    pub fn absorb(&mut self, plan: Plan) {
        self.alerts
            .extend(plan.next.into_iter().map(|r| (r.key.clone(), r)));
        self.pending.extend(
            plan.notifications
                .into_iter()
                .map(|(notification, record)| OutboxEntry {
                    notification,
                    record,
                }),
        );
    }

    /// Keeps `check`'s alerts (its no-data alerts too) as they were: its query failed, so
    /// nothing is known of it.
    pub fn keep(&mut self, check: &Check, previous: &[AlertRecord]) {
        self.alerts.extend(
            previous
                .iter()
                .filter(|r| {
                    r.key.check == check.name || no_data_of(&r.key.check) == Some(&check.name)
                })
                .map(|r| (r.key.clone(), r.clone())),
        );
    }

    /// Whether `check` has returned series before (a series of it is remembered).
    pub fn has_seen(&self, check: &Check) -> bool {
        self.memories.keys().any(|key| key.check == check.name)
    }

    /// Ends the round: the messages to send are the earlier invocations' unsent ones first,
    /// unless this round has a newer message for the same alert, then this round's. Alerts of
    /// checks that no longer exist are gone.
    pub fn finish(self, earlier: &[OutboxEntry]) -> Outcome {
        let newer: Vec<&AlertKey> = self.pending.iter().map(|e| &e.notification.key).collect();
        let mut outbox: Vec<OutboxEntry> = earlier
            .iter()
            .filter(|e| !newer.contains(&&e.notification.key))
            .cloned()
            .collect();
        outbox.extend(self.pending);
        Outcome {
            alerts: self.alerts,
            outbox,
            memories: self
                .memories
                .into_iter()
                .map(|(key, memory)| SeriesMemory { key, memory })
                .collect(),
            slo_cache: self.slo_cache,
            histories: self.histories,
            generation: self.generation,
        }
    }
}

/// A finished round: the alerts as they stand, the messages to send, the series' memories.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Every alert that is not normal, as of this round, before its messages are sent.
    pub alerts: BTreeMap<AlertKey, AlertRecord>,
    /// Messages to send, in order.
    pub outbox: Vec<OutboxEntry>,
    /// Each series' memory.
    pub memories: Vec<SeriesMemory>,
    /// The SLO rules' long-range counts.
    pub slo_cache: Option<SloCache>,
    /// Each check's window as read so far.
    pub histories: Vec<History>,
    /// The state's reshard generation.
    pub generation: u64,
}

impl Outcome {
    /// The claim an invocation writes before it sends the outbox: the stored alerts as they
    /// were (`document`), the outbox, the new memories and windows, and a lease naming
    /// `holder` until `expires_at`. The memories and windows move into the claim rather than
    /// being copied (at 10,000 series they are megabytes); [`Self::claimed`] takes them back
    /// once it is written.
    pub fn claim(
        &mut self,
        document: &StateDocument,
        holder: &str,
        expires_at: i64,
    ) -> StateDocument {
        StateDocument {
            lease: Some(Lease {
                holder: holder.to_owned(),
                expires_at,
            }),
            outbox: self.outbox.clone(),
            memories: std::mem::take(&mut self.memories),
            histories: Histories {
                kept: std::mem::take(&mut self.histories),
                dropped: Vec::new(),
            },
            ..document.clone()
        }
    }

    /// Takes the memories and windows back from the `claim` [`Self::claim`] made.
    pub fn claimed(&mut self, claim: StateDocument) {
        self.memories = claim.memories;
        self.histories = claim.histories.kept;
    }

    /// `entry` was accepted: its alert takes the record it carries.
    pub fn sent(&mut self, entry: OutboxEntry) {
        self.alerts.remove(&entry.notification.key);
        if let Some(record) = entry.record {
            self.alerts.insert(record.key.clone(), record);
        }
    }

    /// `entry` was not accepted: its alert goes back to its stored record (`previous`), and
    /// the message goes back to the outbox, for the next invocation.
    pub fn unsent(&mut self, entry: OutboxEntry, previous: &[AlertRecord]) {
        if let Some(before) = previous.iter().find(|r| r.key == entry.notification.key) {
            self.alerts.insert(before.key.clone(), before.clone());
        }
        self.outbox.push(entry);
    }

    /// `entry` was silenced: its alert advances as if the message had been sent, but one whose
    /// firing nobody was told about stays untold ([`AlertRecord::untold`]), to be told when the
    /// silence ends.
    pub fn silenced(&mut self, mut entry: OutboxEntry, previous: &[AlertRecord]) {
        let told = previous
            .iter()
            .find(|r| r.key == entry.notification.key)
            .is_some_and(|r| !r.untold && matches!(r.state, AlertState::Firing { .. }));
        if let Some(record) = &mut entry.record {
            record.untold = match entry.notification.transition {
                Transition::Firing => true,
                Transition::Repeat => !told,
                Transition::Resolved => false,
            };
        }
        self.sent(entry);
    }

    /// Whether `entry` resolves an alert whose firing nobody was told about (`previous` holds
    /// the stored alerts): such a resolution is not sent.
    pub fn resolves_untold(entry: &OutboxEntry, previous: &[AlertRecord]) -> bool {
        entry.notification.transition == Transition::Resolved
            && previous
                .iter()
                .any(|r| r.key == entry.notification.key && r.untold)
    }

    /// Tells the untold alerts that still fire and that no silence covers at `now` any more:
    /// each gets its firing message now (an untold alert's repeat becomes that message).
    /// `about` gives an alert's query and annotations for the message, `silenced` whether a
    /// silence covers a message.
    pub fn tell_untold(
        &mut self,
        now: i64,
        about: &dyn Fn(&AlertRecord) -> (String, Annotations, Unit),
        silenced: &dyn Fn(&Notification) -> bool,
    ) {
        for entry in &mut self.outbox {
            let untold = entry.record.as_ref().is_some_and(|r| r.untold);
            if untold
                && entry.notification.transition == Transition::Repeat
                && !silenced(&entry.notification)
            {
                entry.notification.transition = Transition::Firing;
                if let Some(record) = &mut entry.record {
                    record.untold = false;
                }
            }
        }
        let keys: Vec<AlertKey> = self
            .alerts
            .values()
            .filter(|r| r.untold && matches!(r.state, AlertState::Firing { .. }))
            .map(|r| r.key.clone())
            .collect();
        for key in keys {
            let Some(record) = self.alerts.get(&key) else {
                continue;
            };
            let AlertState::Firing { since, .. } = record.state else {
                continue;
            };
            let (query, annotations, unit) = about(record);
            let notification = Notification {
                key: key.clone(),
                transition: Transition::Firing,
                severity: record.severity,
                query,
                at: now,
                since,
                reading: record.reading,
                slo: record.slo.clone(),
                annotations,
                unit,
            };
            if silenced(&notification) {
                continue;
            }
            let Some(mut record) = self.alerts.remove(&key) else {
                continue;
            };
            record.untold = false;
            if let AlertState::Firing { normal_since, .. } = record.state {
                record.state = AlertState::Firing {
                    since,
                    notified_at: now,
                    normal_since,
                };
            }
            self.outbox.push(OutboxEntry {
                notification,
                record: Some(record),
            });
        }
    }

    /// Alerts pending or firing (recovered ones are only remembered).
    pub fn active(&self) -> usize {
        self.alerts
            .values()
            .filter(|r| !matches!(r.state, AlertState::Recovered { .. }))
            .count()
    }

    /// The messages to send, taken out: each goes back through [`Self::sent`] or
    /// [`Self::unsent`].
    pub fn take_outbox(&mut self) -> Vec<OutboxEntry> {
        std::mem::take(&mut self.outbox)
    }

    /// The state to store, with what is left in the outbox still to send.
    pub fn into_state(self) -> StateDocument {
        StateDocument {
            alerts: self.alerts.into_values().collect(),
            outbox: self.outbox,
            memories: self.memories,
            slo_cache: self.slo_cache,
            histories: Histories {
                kept: self.histories,
                dropped: Vec::new(),
            },
            generation: self.generation,
            ..StateDocument::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::evaluate::Reading;
    use crate::check::lifecycle::Transition;
    use crate::check::model::Severity;
    use crate::check::plan::Notification;

    fn key(check: &str, service: &str) -> AlertKey {
        AlertKey {
            check: check.to_owned(),
            labels: [("service".to_owned(), service.to_owned())].into(),
        }
    }

    fn record(key: AlertKey, since: i64) -> AlertRecord {
        AlertRecord {
            key,
            state: AlertState::Pending { since },
            severity: Severity::Warning,
            reading: Reading {
                value: Some(1.0),
                expected: None,
                expected_low: None,
                expected_high: None,
                score: None,
                reason: None,
            },
            reference: None,
            incident: None,
            slo: None,
            untold: false,
        }
    }

    fn entry(record: &AlertRecord, at: i64) -> OutboxEntry {
        OutboxEntry {
            notification: Notification {
                key: record.key.clone(),
                transition: Transition::Firing,
                severity: Severity::Warning,
                query: "q".to_owned(),
                at,
                since: at,
                reading: record.reading,
                slo: None,
                annotations: Annotations::default(),
                unit: Unit::None,
            },
            record: Some(AlertRecord {
                state: AlertState::Firing {
                    since: at,
                    notified_at: at,
                    normal_since: None,
                },
                ..record.clone()
            }),
        }
    }

    #[test]
    fn a_silenced_firing_is_told_when_the_silence_ends_and_an_untold_resolution_is_not_sent() {
        let key = AlertKey {
            check: "error_ratio".to_owned(),
            labels: [("service".to_owned(), "api".to_owned())].into(),
        };
        let mut outcome = Outcome {
            alerts: BTreeMap::new(),
            outbox: Vec::new(),
            memories: Vec::new(),
            slo_cache: None,
            histories: Vec::new(),
            generation: 0,
        };
        outcome.silenced(entry(&record(key.clone(), 60), 60), &[]);
        let stored = outcome.alerts[&key].clone();
        assert!(stored.untold, "the firing was kept back");
        let about = |_: &AlertRecord| ("q".to_owned(), Annotations::default(), Unit::None);
        outcome.tell_untold(120, &about, &|_| true);
        assert!(outcome.outbox.is_empty(), "still silenced");
        outcome.tell_untold(180, &about, &|_| false);
        assert_eq!(outcome.outbox.len(), 1);
        let told = &outcome.outbox[0];
        assert_eq!(
            (
                told.notification.transition,
                told.notification.at,
                told.notification.since
            ),
            (Transition::Firing, 180, 60)
        );
        assert!(!told.record.as_ref().expect("firing").untold);
        let mut resolved = entry(&stored, 240);
        resolved.notification.transition = Transition::Resolved;
        resolved.record = None;
        assert!(Outcome::resolves_untold(
            &resolved,
            std::slice::from_ref(&stored)
        ));
        let known = AlertRecord {
            untold: false,
            ..stored
        };
        assert!(!Outcome::resolves_untold(&resolved, &[known]));
    }

    #[test]
    fn the_evaluation_time_is_the_delayed_minute() {
        assert_eq!(evaluation_time(1_000_000_030, 60), 999_999_960);
        assert_eq!(evaluation_time(120, 0), 120);
        assert_eq!(evaluation_time(59, 0), 0);
    }

    #[test]
    fn only_another_live_lease_holds_the_state() {
        let mut document = StateDocument::default();
        assert!(held_by_another(&document, "me", 100).is_none());
        document.lease = Some(Lease {
            holder: "other".to_owned(),
            expires_at: 200,
        });
        assert!(held_by_another(&document, "me", 100).is_some());
        assert!(held_by_another(&document, "other", 100).is_none(), "my own");
        assert!(held_by_another(&document, "me", 200).is_none(), "expired");
    }

    #[test]
    fn a_newer_message_replaces_an_unsent_one_and_failures_keep_their_alerts() {
        let old = record(key("c", "api"), 0);
        let other = record(key("c", "web"), 0);
        let earlier = vec![entry(&old, 60), entry(&other, 60)];
        let mut round = Round {
            now: 120,
            ..Round::default()
        };
        round.pending.push(entry(&old, 120));
        let mut outcome = round.finish(&earlier);
        let at: Vec<(String, i64)> = outcome
            .outbox
            .iter()
            .map(|e| {
                (
                    e.notification.key.labels["service"].clone(),
                    e.notification.at,
                )
            })
            .collect();
        assert_eq!(at, [("web".to_owned(), 60), ("api".to_owned(), 120)]);

        let previous = vec![old.clone()];
        let mut outbox = outcome.take_outbox().into_iter();
        outcome.sent(outbox.next().expect("web"));
        outcome.unsent(outbox.next().expect("api"), &previous);
        assert_eq!(
            outcome.alerts[&key("c", "api")],
            old,
            "back to its stored record"
        );
        assert!(matches!(
            outcome.alerts[&key("c", "web")].state,
            AlertState::Firing { .. }
        ));
        assert_eq!(outcome.active(), 2);
        let state = outcome.into_state();
        assert_eq!(state.outbox.len(), 1);
        assert_eq!(state.outbox[0].notification.key, key("c", "api"));
        assert!(state.lease.is_none());
    }

    #[test]
    fn a_failed_check_keeps_its_alerts_and_only_its_own() {
        let checks_alert = record(key("c", "api"), 0);
        let others = record(key("d", "api"), 0);
        let check = crate::check::model::default_checks(
            &crate::conventions::MetricConventions::from_env(&crate::config::Env::default())
                .expect("defaults"),
        )
        .remove(0);
        let mut renamed = checks_alert.clone();
        renamed.key.check.clone_from(&check.name);
        let mut round = Round::default();
        round.keep(&check, &[renamed.clone(), others]);
        let outcome = round.finish(&[]);
        assert_eq!(outcome.alerts.into_values().collect::<Vec<_>>(), [renamed]);
    }
}
