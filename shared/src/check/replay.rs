//! One series replayed point by point through the deployed decision, for offline evaluation
//! (`anomaly-check score-csv`, `make quality`).
//!
//! Each point is treated as one invocation of `check` whose window holds the points the
//! Lambda would read: the point itself and the `window_points − 1` points before it, their
//! spacing the evaluation step (the memory's [`Pace`](super::detector::memory::Pace)); the
//! series' memory and alert carry from point to point through the same evaluation loop as the
//! job ([`conclude`]). The point's time is the evaluation time, so hold, repeat and clear
//! durations mean what they mean in production.

use std::collections::{BTreeMap, VecDeque};

use super::detector::memory::Memory;
use super::detector::Detector;
use super::evaluate::{evaluate_window, mask_incident};
use super::lifecycle::{AlertKey, AlertState, Transition};
use super::model::Check;
use super::plan::{opening_score, AlertRecord};
use super::run::conclude;

/// What the decision made of one point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// The point's score as evidence of a new incident ([`opening_score`]: 0 while the
    /// series' alert is pending or firing; 0 where it cannot score).
    pub score: f64,
    /// Whether the lifecycle publishes a *firing* message at this point.
    pub fired: bool,
}

/// A series being replayed.
pub struct Replay<'a> {
    check: &'a Check,
    detector: &'a dyn Detector,
    window: VecDeque<(i64, f64)>,
    records: Vec<AlertRecord>,
    memories: BTreeMap<AlertKey, Memory>,
    scratch: Vec<f64>,
    times: Vec<i64>,
}

impl<'a> Replay<'a> {
    /// A replay of `check` scored by `detector`, from an empty memory.
    pub fn new(check: &'a Check, detector: &'a dyn Detector) -> Self {
        let capacity = check.window_points();
        Self {
            check,
            detector,
            window: VecDeque::with_capacity(capacity + 1),
            records: Vec::new(),
            memories: BTreeMap::new(),
            scratch: Vec::with_capacity(capacity),
            times: Vec::with_capacity(capacity),
        }
    }

    /// Evaluates the series at `now` (unix seconds), the newest point being `value` (`NaN`:
    /// missing).
    pub fn push(&mut self, now: i64, value: f64) -> Decision {
        let check = self.check;
        self.window.push_back((now, value));
        if self.window.len() > check.window_points() {
            self.window.pop_front();
        }
        self.scratch.clear();
        self.scratch
            .extend(self.window.iter().map(|(_, value)| *value));
        // The series' own latest incident is not part of its normal, as in the Lambda.
        mask_incident(
            &mut self.scratch,
            self.window.iter().map(|(time, _)| *time),
            self.records
                .first()
                .filter(|r| matches!(r.state, AlertState::Recovered { .. }))
                .and_then(|r| r.incident),
        );
        self.times.clear();
        self.times.extend(self.window.iter().map(|(time, _)| *time));
        let key = AlertKey {
            check: check.name.clone(),
            labels: BTreeMap::new(),
        };
        let evaluation = evaluate_window(
            check,
            self.detector,
            &self.scratch,
            &self.times,
            None,
            self.memories.get(&key),
        );
        let state = self.records.first().map(|r| r.state);
        let score = evaluation.reading.score.unwrap_or(0.0);
        let plan = conclude(
            check,
            vec![evaluation],
            &mut self.memories,
            &self.records,
            now,
        );
        self.records = plan.next;
        let mut fired = false;
        for (notification, record) in plan.notifications {
            fired |= notification.transition == Transition::Firing;
            self.records.extend(record);
        }
        Decision {
            score: opening_score(state, score),
            fired,
        }
    }
}
