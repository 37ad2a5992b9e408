//! The alert lifecycle: when an anomaly becomes a message, and when it stops being one.
//!
//! Pure code: the previous state, this minute's observation and the policy go in; the next
//! state and at most one notification come out.
//!
//! ```text
//! normal ──anomalous──▶ pending ──anomalous for `hold`──▶ firing (notify: firing)
//!    ▲                     │                                 │  still anomalous `repeat_interval`
//!    │                     └──normal──▶ normal               │  after the last message (notify: repeat)
//!    └──────── normal (or no data) for `clear_after` ────────┘  (notify: resolved)
//!              (remembered as `recovered` for `recovery_memory`)
//! ```
//!
//! A short dip back to normal does not resolve a firing alert, and a short blip does not fire
//! one, so a flapping series produces one firing and one resolved message, not a storm.
//! An alert's identity is its check plus the series' labels ([`AlertKey`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What one evaluation saw for one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// The newest point is anomalous.
    Anomalous,
    /// The newest point is normal.
    Normal,
    /// No usable newest point (missing, `NaN`, series gone): never fires, counts towards clearing.
    NoData,
}

/// Timing rules, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecyclePolicy {
    /// How long a series must stay anomalous before the alert fires (0: at once).
    pub hold_seconds: i64,
    /// How often a still-firing alert is repeated.
    pub repeat_interval_seconds: i64,
    /// How long a firing series must stay normal before the alert resolves.
    pub clear_after_seconds: i64,
    /// How long a resolved alert is remembered (`recovered`), so the return to normal is not
    /// mistaken for a new anomaly; 0 forgets it at once.
    #[serde(default)]
    pub recovery_memory_seconds: i64,
}

impl Default for LifecyclePolicy {
    fn default() -> Self {
        Self {
            hold_seconds: 0,
            repeat_interval_seconds: 4 * 3600,
            clear_after_seconds: 10 * 60,
            recovery_memory_seconds: 0,
        }
    }
}

/// An alert's identity: the check and the series labels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AlertKey {
    /// The check's name.
    pub check: String,
    /// The series labels.
    pub labels: BTreeMap<String, String>,
}

/// A non-normal alert's state. Normal alerts have no state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum AlertState {
    /// Anomalous since `since`, not yet for long enough.
    Pending {
        /// Unix seconds of the first anomalous evaluation.
        since: i64,
    },
    /// Firing.
    Firing {
        /// Unix seconds of the first anomalous evaluation.
        since: i64,
        /// Unix seconds of the last firing or repeat message.
        notified_at: i64,
        /// Unix seconds since which the series has been normal, if it is.
        normal_since: Option<i64>,
    },
    /// Resolved, and remembered until `until` so the return to normal is not news.
    Recovered {
        /// Unix seconds when the memory ends.
        until: i64,
    },
}

/// A message to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// The alert started firing.
    Firing,
    /// The alert is still firing after the repeat interval.
    Repeat,
    /// The alert cleared.
    Resolved,
}

impl Transition {
    /// The name messages and logs use: `firing`, `repeat` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Firing => "firing",
            Self::Repeat => "repeat",
            Self::Resolved => "resolved",
        }
    }
}

/// Advances one alert by one evaluation at `now` (unix seconds).
///
/// Returns the next state (`None` = normal) and the message to send, if any.
pub fn advance(
    state: Option<AlertState>,
    observation: Observation,
    now: i64,
    policy: &LifecyclePolicy,
) -> (Option<AlertState>, Option<Transition>) {
    let anomalous = observation == Observation::Anomalous;
    match (state, anomalous) {
        (None | Some(AlertState::Pending { .. }), false) => (None, None),
        (Some(AlertState::Recovered { until }), false) => (
            (now < until).then_some(AlertState::Recovered { until }),
            None,
        ),
        (None | Some(AlertState::Recovered { .. }), true) => start_pending(now, now, policy),
        (Some(AlertState::Pending { since }), true) => start_pending(since, now, policy),
        (
            Some(AlertState::Firing {
                since, notified_at, ..
            }),
            true,
        ) => {
            if now - notified_at >= policy.repeat_interval_seconds {
                let next = AlertState::Firing {
                    since,
                    notified_at: now,
                    normal_since: None,
                };
                (Some(next), Some(Transition::Repeat))
            } else {
                let next = AlertState::Firing {
                    since,
                    notified_at,
                    normal_since: None,
                };
                (Some(next), None)
            }
        }
        (
            Some(AlertState::Firing {
                since,
                notified_at,
                normal_since,
            }),
            false,
        ) => {
            let normal_since = normal_since.unwrap_or(now);
            if now - normal_since >= policy.clear_after_seconds {
                let until = now + policy.recovery_memory_seconds;
                (
                    (until > now).then_some(AlertState::Recovered { until }),
                    Some(Transition::Resolved),
                )
            } else {
                let next = AlertState::Firing {
                    since,
                    notified_at,
                    normal_since: Some(normal_since),
                };
                (Some(next), None)
            }
        }
    }
}

/// Since when an alert has been anomalous: the start of its state before this evaluation,
/// else of its state after it, else `now`.
pub fn anomalous_since(before: Option<AlertState>, after: Option<AlertState>, now: i64) -> i64 {
    match (before, after) {
        (Some(AlertState::Firing { since, .. } | AlertState::Pending { since }), _)
        | (_, Some(AlertState::Firing { since, .. } | AlertState::Pending { since })) => since,
        _ => now,
    }
}

fn start_pending(
    since: i64,
    now: i64,
    policy: &LifecyclePolicy,
) -> (Option<AlertState>, Option<Transition>) {
    if now - since >= policy.hold_seconds {
        let firing = AlertState::Firing {
            since,
            notified_at: now,
            normal_since: None,
        };
        (Some(firing), Some(Transition::Firing))
    } else {
        (Some(AlertState::Pending { since }), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Observation::{Anomalous as A, NoData as D, Normal as N};

    const MINUTE: i64 = 60;

    /// Runs minute-by-minute observations and returns the messages with their minute.
    fn run(observations: &[Observation], policy: &LifecyclePolicy) -> Vec<(usize, Transition)> {
        let mut state = None;
        let mut messages = Vec::new();
        for (minute, observation) in observations.iter().enumerate() {
            let now = i64::try_from(minute).expect("small") * MINUTE;
            let (next, message) = advance(state, *observation, now, policy);
            state = next;
            if let Some(message) = message {
                messages.push((minute, message));
            }
        }
        messages
    }

    fn policy(hold_minutes: i64, repeat_minutes: i64, clear_minutes: i64) -> LifecyclePolicy {
        LifecyclePolicy {
            hold_seconds: hold_minutes * MINUTE,
            repeat_interval_seconds: repeat_minutes * MINUTE,
            clear_after_seconds: clear_minutes * MINUTE,
            recovery_memory_seconds: 0,
        }
    }

    #[test]
    fn a_resolved_alert_is_remembered_then_forgotten() {
        let policy = LifecyclePolicy {
            recovery_memory_seconds: 3 * MINUTE,
            ..policy(0, 240, 1)
        };
        let (firing, _) = advance(None, A, 0, &policy);
        let (normal, _) = advance(firing, N, MINUTE, &policy);
        let (recovered, message) = advance(normal, N, 2 * MINUTE, &policy);
        assert_eq!(
            (recovered, message),
            (
                Some(AlertState::Recovered { until: 5 * MINUTE }),
                Some(Transition::Resolved)
            )
        );
        assert_eq!(advance(recovered, N, 4 * MINUTE, &policy).0, recovered);
        assert_eq!(advance(recovered, N, 5 * MINUTE, &policy).0, None);
        assert_eq!(
            advance(recovered, A, 3 * MINUTE, &policy).1,
            Some(Transition::Firing),
            "a new anomaly still fires"
        );
    }

    /// A named case: policy, minute-by-minute observations, expected messages by minute.
    type Case = (
        &'static str,
        LifecyclePolicy,
        Vec<Observation>,
        Vec<(usize, Transition)>,
    );

    #[test]
    fn the_lifecycle_table() {
        use Transition::{Firing, Repeat, Resolved};
        let cases: Vec<Case> = vec![
            ("calm stays silent", policy(0, 240, 10), vec![N; 30], vec![]),
            (
                "no data never fires",
                policy(0, 240, 10),
                vec![D; 30],
                vec![],
            ),
            (
                "fires at once without hold",
                policy(0, 240, 2),
                vec![N, A, A, N, N, N],
                vec![(1, Firing), (5, Resolved)],
            ),
            (
                "a blip shorter than the hold does not fire",
                policy(3, 240, 2),
                vec![N, A, A, N, A, N, N],
                vec![],
            ),
            (
                "fires once held long enough",
                policy(2, 240, 1),
                vec![A, A, A, A, N, N],
                vec![(2, Firing), (5, Resolved)],
            ),
            (
                "repeats after the interval while firing",
                policy(0, 3, 1),
                vec![A, A, A, A, A, A, A, N, N],
                vec![(0, Firing), (3, Repeat), (6, Repeat), (8, Resolved)],
            ),
            (
                "flapping inside clear_after is one alert",
                policy(0, 240, 3),
                vec![A, N, A, N, N, A, N, N, N, N],
                vec![(0, Firing), (9, Resolved)],
            ),
            (
                "no data clears a firing alert",
                policy(0, 240, 2),
                vec![A, D, D, D],
                vec![(0, Firing), (3, Resolved)],
            ),
            (
                "a new incident after resolution fires again",
                policy(0, 240, 1),
                vec![A, N, N, A, N, N],
                vec![(0, Firing), (2, Resolved), (3, Firing), (5, Resolved)],
            ),
        ];
        for (name, policy, observations, expected) in cases {
            assert_eq!(run(&observations, &policy), expected, "{name}");
        }
    }

    #[test]
    fn state_round_trips_through_json() {
        let state = AlertState::Firing {
            since: 1,
            notified_at: 2,
            normal_since: Some(3),
        };
        let json = serde_json::to_string(&state).expect("serialises");
        assert_eq!(
            json,
            r#"{"phase":"firing","since":1,"notified_at":2,"normal_since":3}"#
        );
        assert_eq!(
            serde_json::from_str::<AlertState>(&json).expect("parses"),
            state
        );
    }
}
