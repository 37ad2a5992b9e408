//! No-data alerts: a series that reported during the check's window and then has no point for
//! the check's `absent_after_seconds` fires a `no_data` alert; a check whose query returns
//! nothing at all, after it has returned data before, fires one for the check (no labels).
//!
//! Absence is judged on the check's series before any minimum-traffic filter (its
//! `presence_query`), so a quiet night under `min_traffic` is not absence; a failed query is a
//! failed check, not absence. The alert is `<check>/no_data` plus the series' labels; it fires at
//! once, resolves at the first evaluation with data, and repeats as the check's alerts do. An
//! alert whose series left the window entirely still has no data, and keeps firing until data
//! returns (or a silence covers it).

use std::collections::BTreeMap;

use super::detector::memory::Reason;
use super::evaluate::Reading;
use super::lifecycle::{advance, anomalous_since, AlertKey, LifecyclePolicy, Observation};
use super::model::Check;
use super::plan::{AlertRecord, Notification, Plan};
use crate::series::Series;

/// What a no-data alert's check name ends with; a check's own name cannot hold `/`.
pub const NO_DATA_SUFFIX: &str = "/no_data";

/// The alert check name of `check`'s no-data alerts.
pub fn no_data_check(check: &str) -> String {
    format!("{check}{NO_DATA_SUFFIX}")
}

/// The check a no-data alert's check name belongs to; `None` for any other alert.
pub fn no_data_of(alert_check: &str) -> Option<&str> {
    alert_check.strip_suffix(NO_DATA_SUFFIX)
}

/// The time of a series' newest point with a value.
fn newest(series: &Series) -> Option<i64> {
    series
        .points
        .iter()
        .filter(|(_, value)| value.is_finite())
        .last()
        .map(|(time, _)| {
            #[allow(clippy::cast_possible_truncation)]
            let seconds = time as i64;
            seconds
        })
}

/// Advances `check`'s no-data alerts at `now` from the `presence` series of its window;
/// `had_data` says whether the check has returned series before (so that nothing at all is an
/// absence, not a check that never matched), `elsewhere` whether series of other shards had
/// points (so that this shard having none is not); `previous` holds every stored alert.
pub fn plan_absence(
    check: &Check,
    presence: &[Series],
    (had_data, elsewhere): (bool, bool),
    previous: &[AlertRecord],
    now: i64,
) -> Plan {
    let mut plan = Plan::default();
    if check.absent_after_seconds == 0 {
        return plan;
    }
    let name = no_data_check(&check.name);
    let end = check.window_end(now);
    let after = i64::try_from(check.absent_after_seconds).unwrap_or(i64::MAX);
    let mut seen: BTreeMap<BTreeMap<String, String>, Observation> = BTreeMap::new();
    for series in presence {
        if let Some(time) = newest(series) {
            let observation = if end - time >= after {
                Observation::Anomalous
            } else {
                Observation::Normal
            };
            seen.insert(series.labels.clone(), observation);
        }
    }
    let nothing = seen.is_empty() && !elsewhere;
    if nothing && had_data {
        seen.insert(BTreeMap::new(), Observation::Anomalous);
    } else if !nothing {
        seen.insert(BTreeMap::new(), Observation::Normal);
    }
    for record in previous.iter().filter(|r| r.key.check == name) {
        seen.entry(record.key.labels.clone())
            .or_insert(Observation::Anomalous);
    }
    let policy = LifecyclePolicy {
        hold_seconds: 0,
        clear_after_seconds: 0,
        recovery_memory_seconds: 0,
        ..check.lifecycle
    };
    for (labels, observation) in seen {
        let key = AlertKey {
            check: name.clone(),
            labels,
        };
        let before = previous.iter().find(|r| r.key == key);
        let (state, transition) = advance(before.map(|r| r.state), observation, now, &policy);
        let since = anomalous_since(before.map(|r| r.state), state, now);
        let reading = Reading {
            reason: Some(Reason::NoData),
            ..Reading::NONE
        };
        let record = state.map(|state| AlertRecord {
            key: key.clone(),
            state,
            severity: check.severity,
            reading,
            reference: None,
            incident: None,
            slo: None,
            untold: before.is_some_and(|r| r.untold),
        });
        match transition {
            Some(transition) => plan.notifications.push((
                Notification {
                    annotations: check.annotations.resolve(&key.labels),
                    key,
                    transition,
                    severity: check.severity,
                    query: check
                        .presence_query
                        .clone()
                        .unwrap_or_else(|| check.query.clone()),
                    at: now,
                    since,
                    reading,
                    slo: None,
                    unit: check.unit,
                },
                record,
            )),
            None => plan.next.extend(record),
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::lifecycle::Transition;
    use crate::check::model::default_checks;
    use crate::config::Env;
    use crate::conventions::MetricConventions;

    const END: i64 = 1_800_000_000;

    fn check() -> Check {
        let conventions = MetricConventions::from_env(&Env::default()).expect("defaults");
        default_checks(&conventions).remove(0)
    }

    /// A series of `service` with a point every minute from an hour before `END` up to `last`.
    fn series(service: &str, last: i64) -> Series {
        Series {
            labels: [("service".to_owned(), service.to_owned())].into(),
            points: (END - 3_600..=last)
                .step_by(60)
                .map(|t| (t as f64, 1.0))
                .collect(),
        }
    }

    /// Runs `(presence, now)` evaluations, keeping records as sent messages would; each
    /// message as `(minute after END, service label or "-", transition)`.
    fn run(steps: &[(Vec<Series>, i64)], had_data: bool) -> Vec<(i64, String, Transition)> {
        let check = check();
        let mut stored: Vec<AlertRecord> = Vec::new();
        let mut messages = Vec::new();
        for (presence, now) in steps {
            let plan = plan_absence(&check, presence, (had_data, false), &stored, *now);
            let mut next = plan.next;
            for (notification, record) in plan.notifications {
                let service = notification
                    .key
                    .labels
                    .get("service")
                    .cloned()
                    .unwrap_or_else(|| "-".to_owned());
                messages.push(((now - END) / 60, service, notification.transition));
                next.extend(record);
            }
            stored = next;
        }
        messages
    }

    #[test]
    fn a_series_that_stops_reporting_fires_after_ten_minutes_and_resolves_when_it_returns() {
        let quiet_from = END - 300;
        let steps: Vec<(Vec<Series>, i64)> = (0..12)
            .map(|m| {
                let now = END + 60 * m;
                let api = if m < 10 {
                    series("api", quiet_from)
                } else {
                    series("api", now)
                };
                (vec![api, series("web", now)], now)
            })
            .collect();
        let messages = run(&steps, true);
        assert_eq!(
            messages,
            [
                (5, "api".to_owned(), Transition::Firing),
                (10, "api".to_owned(), Transition::Resolved)
            ],
            "ten minutes after its last point (five before the first run), and back with data"
        );
    }

    #[test]
    fn a_check_that_returns_nothing_fires_once_for_the_check_only_if_it_had_data() {
        let nothing: Vec<(Vec<Series>, i64)> = vec![(Vec::new(), END), (Vec::new(), END + 60)];
        assert!(run(&nothing, false).is_empty(), "never had data: no alert");
        let messages = run(&nothing, true);
        assert_eq!(messages, [(0, "-".to_owned(), Transition::Firing)]);
    }
}
