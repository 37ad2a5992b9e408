//! The plan: how one check's evaluations advance its alerts through the lifecycle, and the
//! messages to send. Pure code; the clock is the evaluation time, passed in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::burn::SloFacts;
use super::evaluate::{Reading, SeriesEvaluation};
use super::lifecycle::{advance, anomalous_since, AlertKey, AlertState, Observation, Transition};
use super::model::{Check, Severity, Unit};
use crate::annotations::Annotations;

/// An alert's stored record: its state and the last reading, for messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Check and labels.
    pub key: AlertKey,
    /// Pending or firing.
    pub state: AlertState,
    /// The check's severity when last evaluated.
    pub severity: Severity,
    /// The last reading.
    pub reading: Reading,
    /// While pending or firing: the expectation from before the anomaly began. Recovery is
    /// judged against it, so a long incident is not absorbed into the baseline and
    /// "resolved" while it lasts, for up to [`SETTLE_AFTER_SECONDS`].
    #[serde(default)]
    pub reference: Option<Reading>,
    /// The series' latest incident, `[since, until)` in unix seconds (`until` open while it
    /// lasts). Its points are not part of the series' normal: they are left out of the
    /// window before scoring, so one incident does not hide the next.
    #[serde(default)]
    pub incident: Option<(i64, Option<i64>)>,
    /// An SLO alert's facts; `None` for an anomaly alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<SloFacts>,
    /// It fires, but a silence kept its firing message: it is told once the silence ends, and
    /// its resolution is not sent if it never was.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub untold: bool,
}

impl AlertRecord {
    /// Whether the incident has lasted [`SETTLE_AFTER_SECONDS`] at `now`: its level is then
    /// the series' new normal, judged by the detector alone, so a lasting shift resolves
    /// instead of repeating for ever.
    fn settled(&self, now: i64) -> bool {
        match self.state {
            AlertState::Pending { since } | AlertState::Firing { since, .. } => {
                now - since >= SETTLE_AFTER_SECONDS
            }
            AlertState::Recovered { .. } => false,
        }
    }
}

/// Whether `value` is still materially off the `reference` expectation: outside its typical
/// range in the check's direction, by at least the check's minimum changes.
fn still_anomalous(check: &Check, value: f64, reference: &Reading) -> bool {
    let (Some(expected), Some(low), Some(high)) = (
        reference.expected,
        reference.expected_low,
        reference.expected_high,
    ) else {
        return false;
    };
    let deviation = check.direction.filter(value - expected);
    check.direction.beyond(value, low, high)
        && deviation >= check.min_absolute_change
        && deviation >= check.min_relative_change * expected.abs()
}

/// A message to publish.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Check and labels.
    pub key: AlertKey,
    /// Firing, repeat or resolved.
    pub transition: Transition,
    /// The check's severity.
    pub severity: Severity,
    /// The check's query, for the graph link.
    pub query: String,
    /// The evaluation time, unix seconds.
    pub at: i64,
    /// Since when the alert has been anomalous, unix seconds.
    pub since: i64,
    /// The reading that triggered the message (for `resolved`, the normal one).
    pub reading: Reading,
    /// An SLO alert's facts; `None` for an anomaly alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<SloFacts>,
    /// The check's or SLO's annotations, their URLs filled in for this alert.
    #[serde(default, skip_serializing_if = "Annotations::is_empty")]
    pub annotations: Annotations,
    /// The unit of the check's values, for people.
    #[serde(default)]
    pub unit: Unit,
}

/// What one check's evaluation changes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// The check's alerts after this evaluation (normal ones are absent).
    pub next: Vec<AlertRecord>,
    /// Messages to send, each with the record to keep once it is sent (`None`: normal).
    pub notifications: Vec<(Notification, Option<AlertRecord>)>,
}

/// How long an incident is judged against the expectation from before it began. After that
/// its level is the series' new normal: a shift that lasts a day resolves (and the series can
/// fire again) instead of repeating for ever. Measured on NAB (docs/quality.md).
pub const SETTLE_AFTER_SECONDS: i64 = 86_400;

/// The series' score as evidence of a *new* incident, given its alert's `state` before this
/// evaluation: 0 while the alert is pending or firing (that incident is already reported), the
/// score itself otherwise. What `score-csv` writes as `anomaly_score`.
pub fn opening_score(state: Option<AlertState>, score: f64) -> f64 {
    match state {
        Some(AlertState::Pending { .. } | AlertState::Firing { .. }) => 0.0,
        _ => score,
    }
}

/// Advances the check's alerts: `previous` holds every stored alert (of all checks).
pub fn plan_check(
    check: &Check,
    evaluations: Vec<SeriesEvaluation>,
    previous: &[AlertRecord],
    now: i64,
) -> Plan {
    let mut plan = Plan::default();
    let mut seen: BTreeMap<AlertKey, (Observation, Reading)> = evaluations
        .into_iter()
        .map(|e| {
            (
                AlertKey {
                    check: check.name.clone(),
                    labels: e.labels,
                },
                (e.observation, e.reading),
            )
        })
        .collect();
    let mut stored: BTreeMap<AlertKey, &AlertRecord> = previous
        .iter()
        .filter(|record| record.key.check == check.name)
        .map(|record| (record.key.clone(), record))
        .collect();
    // Alerts whose series vanished are evaluated as "no data".
    for (key, record) in &stored {
        seen.entry(key.clone()).or_insert((
            Observation::NoData,
            Reading {
                value: None,
                ..record.reading
            },
        ));
    }
    for (key, (mut observation, reading)) in seen {
        let before = stored.remove(&key);
        // An alert keeps the expectation from before its anomaly began. While pending or
        // firing, the value is judged against it; once recovered, it can only veto an anomaly
        // (the return to the old normal is not news), since the baseline has moved on.
        let reference = before.and_then(|r| r.reference).unwrap_or(reading);
        let settled = before.is_some_and(|r| r.settled(now));
        if let (Some(before), Some(value)) = (before, reading.value) {
            let off_reference = still_anomalous(check, value, &reference);
            observation = match (before.state, observation) {
                (AlertState::Recovered { .. }, Observation::Anomalous) if !off_reference => {
                    Observation::Normal
                }
                (AlertState::Recovered { .. }, other) => other,
                // After a day, the incident's level is the series' new normal: the detector
                // alone judges it, so a lasting shift resolves instead of repeating for ever.
                (AlertState::Pending { .. } | AlertState::Firing { .. }, other) if settled => other,
                // A present value is judged against the reference, even where the detector
                // has too little unmasked history to score it.
                (AlertState::Pending { .. } | AlertState::Firing { .. }, _) if off_reference => {
                    Observation::Anomalous
                }
                (AlertState::Pending { .. } | AlertState::Firing { .. }, _) => Observation::Normal,
            };
        }
        let (state, transition) =
            advance(before.map(|r| r.state), observation, now, &check.lifecycle);
        let incident = match (state, transition) {
            (Some(AlertState::Pending { since } | AlertState::Firing { since, .. }), _) => {
                Some((since, None))
            }
            // A settled incident is the new normal, not an outlier to leave out.
            (_, Some(Transition::Resolved)) if settled => None,
            (_, Some(Transition::Resolved)) => before
                .and_then(|r| r.incident)
                .map(|(since, _)| (since, Some(now))),
            _ => before.and_then(|r| r.incident),
        };
        let record = state.map(|state| AlertRecord {
            key: key.clone(),
            state,
            severity: check.severity,
            reading,
            reference: Some(reference),
            incident,
            slo: None,
            untold: before.is_some_and(|r| r.untold),
        });
        // Messages compare the value with the expectation from before the anomaly.
        let reading = Reading {
            expected: reference.expected,
            expected_low: reference.expected_low,
            expected_high: reference.expected_high,
            ..reading
        };
        match transition {
            Some(transition) => {
                let since = anomalous_since(before.map(|r| r.state), state, now);
                let notification = Notification {
                    annotations: check.annotations.resolve(&key.labels),
                    key,
                    transition,
                    severity: check.severity,
                    query: check.query.clone(),
                    at: now,
                    since,
                    reading,
                    slo: None,
                    unit: check.unit,
                };
                plan.notifications.push((notification, record));
            }
            None => plan.next.extend(record),
        }
    }
    plan
}
