//! SLO budget alerts in the minute check: the share of each SLO's window budget left, from the
//! ledger the daily report writes plus today so far, and one message the first time it falls
//! below each of the SLO's `budget_alert_thresholds`.
//!
//! A threshold is announced once per window: for a calendar window once per period; for a
//! rolling window again only after the budget has been back at or above it for a day. Budget
//! alerts never repeat and send no resolution. The budget left is the report's
//! `error_budget_remaining`: `1 − bad / ((1 − objective) × total)` over the window's days so far
//! (a day the ledger lacks is missing, never good); today's events do not yet leave out the
//! exclusions, which the report subtracts when it records the day.

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::burn::{slo_annotations, SloAlertKind, SloFacts};
use super::evaluate::Reading;
use super::lifecycle::{AlertKey, AlertState, Transition};
use super::model::Unit;
use super::plan::{AlertRecord, Notification, Plan};
use crate::report::slos::Counts;
use crate::slo::document::Slo;
use crate::slo::ledger::{days_of, LedgerObject};
use crate::slo::window::{window_figures, LedgerDay, Window};

/// How long a rolling window's budget must stay at or above a threshold before crossing it
/// again is news.
pub const RECOVERED_FOR_SECONDS: i64 = 86_400;

/// One SLO's budget for one service, as of an evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// The share of the window's budget left; `None` without events.
    pub remaining: Option<f64>,
    /// The window's events so far.
    pub total: f64,
    /// The window's first day.
    pub window_start: NaiveDate,
    /// When a calendar window ends, unix seconds; `None` for a rolling one.
    pub window_end: Option<i64>,
}

/// SLO → service → budget.
pub type Budgets = BTreeMap<String, BTreeMap<String, Budget>>;

/// The first instant of `date` in `time_zone`, unix seconds.
pub fn day_start(date: NaiveDate, time_zone: Tz) -> i64 {
    time_zone
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .earliest()
        .map_or(0, |t| t.timestamp())
}

/// The day `now` (unix seconds) falls on in `time_zone`.
pub fn today(now: i64, time_zone: Tz) -> NaiveDate {
    DateTime::<Utc>::from_timestamp(now, 0)
        .unwrap_or_default()
        .with_timezone(&time_zone)
        .date_naive()
}

/// The days before `today` the SLOs' windows reach back to, oldest first.
pub fn ledger_days(slos: &[Slo], today: NaiveDate) -> Vec<NaiveDate> {
    let first = slos
        .iter()
        .map(|slo| slo.window.bounds(today).0)
        .min()
        .unwrap_or(today);
    first.iter_days().take_while(|day| *day < today).collect()
}

/// Every SLO's budget per service from the `ledger` objects of the days before `today` and
/// today's events so far (`today_counts`), at `now` in `time_zone`.
pub fn budgets(
    slos: &[Slo],
    ledger: &[LedgerObject],
    today_counts: &Counts,
    today: NaiveDate,
    time_zone: Tz,
) -> Budgets {
    let mut all = Budgets::new();
    for slo in slos {
        let Some(now) = today_counts.get(&slo.name) else {
            continue;
        };
        let mut services: Vec<&str> = now.keys().map(String::as_str).collect();
        for object in ledger {
            if let Some(by_service) = object.slos.get(&slo.name) {
                services.extend(by_service.keys().map(String::as_str));
            }
        }
        services.sort_unstable();
        services.dedup();
        let (window_start, period_end) = slo.window.bounds(today);
        let window_end = match slo.window {
            Window::Rolling(_) => None,
            _ => period_end
                .checked_add_days(Days::new(1))
                .map(|next| day_start(next, time_zone)),
        };
        let by_service = services
            .into_iter()
            .filter(|service| slo.services.covers(service))
            .map(|service| {
                let mut days = days_of(ledger, &slo.name, service);
                let so_far = now.get(service).copied().unwrap_or(LedgerDay {
                    good: 0.0,
                    total: 0.0,
                    excluded: 0.0,
                });
                days.insert(today, so_far);
                let figures = window_figures(slo.window, slo.objective, today, &days);
                let budget = Budget {
                    remaining: figures.error_budget_remaining,
                    total: figures.total,
                    window_start,
                    window_end,
                };
                (service.to_owned(), budget)
            })
            .collect();
        all.insert(slo.name.clone(), by_service);
    }
    all
}

/// When the budget runs out if the burn goes on at `burn_rate` with `events_per_second`:
/// `now` when it is spent already; `None` when the burn does not spend it (a burn of 1 or less
/// keeps what is left), or not before the window ends (a rolling window: within `window`'s
/// length from now).
pub fn exhausted_at(
    budget: &Budget,
    window: Window,
    burn_rate: f64,
    events_per_second: f64,
    now: i64,
) -> Option<i64> {
    let remaining = budget.remaining?;
    if remaining <= 0.0 {
        return Some(now);
    }
    if !(burn_rate > 1.0 && events_per_second > 0.0) {
        return None;
    }
    // Left: remaining × allowed × total bad events; each second adds (burn − 1) × allowed ×
    // events of them beyond the allowance.
    let seconds = budget.total * remaining / (events_per_second * (burn_rate - 1.0));
    #[allow(clippy::cast_possible_truncation)]
    let at = now.saturating_add(seconds.min(4e9) as i64);
    let horizon = budget.window_end.unwrap_or_else(|| {
        let days = match window {
            Window::Rolling(days) => i64::from(days),
            _ => 0,
        };
        now + days * 86_400
    });
    (at <= horizon).then_some(at)
}

/// The alert check name of an SLO's budget alerts.
pub fn budget_check(slo: &str) -> String {
    format!("{}:{slo}", SloAlertKind::SloBudget.as_str())
}

/// `budget-0.25`.
pub fn threshold_rule(threshold: f64) -> String {
    format!("budget-{threshold}")
}

/// Advances every budget alert of `slos` at `now` from `budgets` (an SLO or service missing from
/// them keeps its alerts as they are); `muted` says whether an exclusion covers a service now;
/// `previous` holds every stored alert.
pub fn plan_budget(
    slos: &[Slo],
    budgets: &Budgets,
    muted: &dyn Fn(&Slo, &str) -> bool,
    previous: &[AlertRecord],
    now: i64,
) -> Plan {
    let mut plan = Plan::default();
    for slo in slos {
        let check = budget_check(&slo.name);
        let stored: Vec<&AlertRecord> = previous.iter().filter(|r| r.key.check == check).collect();
        let Some(by_service) = budgets.get(&slo.name) else {
            plan.next.extend(stored.into_iter().cloned());
            continue;
        };
        let mut services: Vec<&str> = by_service.keys().map(String::as_str).collect();
        services.extend(
            stored
                .iter()
                .filter_map(|r| r.key.labels.get("service").map(String::as_str)),
        );
        services.sort_unstable();
        services.dedup();
        for service in services {
            for threshold in &slo.alerting.budget_thresholds {
                let rule = threshold_rule(*threshold);
                let key = AlertKey {
                    check: check.clone(),
                    labels: [
                        ("rule".to_owned(), rule.clone()),
                        ("service".to_owned(), service.to_owned()),
                    ]
                    .into(),
                };
                let before = stored.iter().find(|r| r.key == key).copied();
                let budget = by_service.get(service);
                let (Some(budget), false) = (budget, muted(slo, service)) else {
                    plan.next.extend(before.cloned());
                    continue;
                };
                let facts = SloFacts {
                    budget_remaining: budget.remaining,
                    period: Some(budget.window_start),
                    ..SloFacts::about(SloAlertKind::SloBudget, slo, service, rule)
                };
                advance_threshold(&mut plan, &key, before, *threshold, slo, &facts, now);
            }
        }
    }
    plan
}

/// One threshold of one SLO and service: announce the first crossing in the window, then
/// remember it for the period (calendar) or until a day back above it (rolling).
fn advance_threshold(
    plan: &mut Plan,
    key: &AlertKey,
    before: Option<&AlertRecord>,
    threshold: f64,
    slo: &Slo,
    facts: &SloFacts,
    now: i64,
) {
    let below = facts.budget_remaining.is_some_and(|left| left < threshold);
    let rolling = matches!(slo.window, Window::Rolling(_));
    let before = before
        .filter(|record| rolling || record.slo.as_ref().and_then(|f| f.period) == facts.period);
    let record = |state| AlertRecord {
        key: key.clone(),
        state,
        severity: slo.alerting.budget_severity,
        reading: Reading::NONE,
        reference: None,
        incident: None,
        slo: Some(facts.clone()),
        untold: false,
    };
    match (before, below) {
        (None, false) => {}
        (None, true) => {
            let state = AlertState::Firing {
                since: now,
                notified_at: now,
                normal_since: None,
            };
            plan.notifications.push((
                Notification {
                    key: key.clone(),
                    transition: Transition::Firing,
                    severity: slo.alerting.budget_severity,
                    query: String::new(),
                    at: now,
                    since: now,
                    reading: Reading::NONE,
                    slo: Some(facts.clone()),
                    annotations: slo_annotations(&slo.annotations, facts),
                    unit: Unit::None,
                },
                Some(record(state)),
            ));
        }
        (Some(stored), _) => {
            let AlertState::Firing {
                since,
                notified_at,
                normal_since,
            } = stored.state
            else {
                return;
            };
            let normal_since = if below {
                None
            } else {
                Some(normal_since.unwrap_or(now))
            };
            let recovered =
                rolling && normal_since.is_some_and(|t| now - t >= RECOVERED_FOR_SECONDS);
            if !recovered {
                plan.next.push(AlertRecord {
                    slo: stored.slo.clone(),
                    untold: stored.untold,
                    ..record(AlertState::Firing {
                        since,
                        notified_at,
                        normal_since,
                    })
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::document::parse_slo_document;

    const DAY: i64 = 86_400;

    fn slo(window: &str) -> Vec<Slo> {
        parse_slo_document(&format!(
            "slos:\n  - {{name: availability, sli: availability, objective: 0.99, window: {window}}}\n"
        ))
        .expect("valid")
        .slos
    }

    fn budget(remaining: f64, window_start: &str) -> Budgets {
        let one = Budget {
            remaining: Some(remaining),
            total: 1_000_000.0,
            window_start: window_start.parse().expect("date"),
            window_end: None,
        };
        [("availability".to_owned(), [("api".to_owned(), one)].into())].into()
    }

    /// Runs `(now, remaining, window start)` evaluations, keeping records as sent messages
    /// would, and returns each message's `(day, rule)`.
    fn run(slos: &[Slo], steps: &[(i64, f64, &str)]) -> Vec<(i64, String)> {
        let mut stored: Vec<AlertRecord> = Vec::new();
        let mut messages = Vec::new();
        for (now, remaining, start) in steps {
            let plan = plan_budget(
                slos,
                &budget(*remaining, start),
                &|_, _| false,
                &stored,
                *now,
            );
            let mut next = plan.next;
            for (notification, record) in plan.notifications {
                assert_eq!(notification.transition, Transition::Firing);
                messages.push((now / DAY, notification.key.labels["rule"].clone()));
                next.extend(record);
            }
            stored = next;
        }
        messages
    }

    #[test]
    fn each_threshold_is_announced_once_per_calendar_period() {
        let month = slo("month");
        let messages = run(
            &month,
            &[
                (DAY, 0.6, "2026-11-01"),
                (2 * DAY, 0.4, "2026-11-01"),
                (3 * DAY, 0.6, "2026-11-01"),
                (4 * DAY, 0.2, "2026-11-01"),
                (5 * DAY, -0.1, "2026-11-01"),
                (6 * DAY, -0.2, "2026-11-01"),
                (40 * DAY, 0.4, "2026-12-01"),
            ],
        );
        assert_eq!(
            messages,
            [
                (2, "budget-0.5".to_owned()),
                (4, "budget-0.25".to_owned()),
                (5, "budget-0".to_owned()),
                (40, "budget-0.5".to_owned())
            ],
            "never again in the same month, again in the next"
        );
    }

    #[test]
    fn a_rolling_window_announces_again_only_after_a_day_back_above() {
        let rolling = slo("30d");
        let start = "2026-11-01";
        let hour = 3_600;
        let messages = run(
            &rolling,
            &[
                (0, 0.4, start),
                (hour, 0.6, start),
                (2 * hour, 0.4, start),
                (3 * hour, 0.6, start),
                (3 * hour + DAY, 0.6, start),
                (4 * hour + DAY, 0.4, start),
            ],
        );
        assert_eq!(
            messages,
            [(0, "budget-0.5".to_owned()), (1, "budget-0.5".to_owned())],
            "an hour above is not a recovery; a day is"
        );
    }

    #[test]
    fn the_budget_adds_today_so_far_to_the_ledger_days_and_a_missing_day_is_not_good() {
        let slos = slo("7d");
        let date = |text: &str| text.parse::<NaiveDate>().expect("date");
        let mut yesterday = LedgerObject::new(date("2026-11-09"));
        yesterday.slos.insert(
            "availability".to_owned(),
            [(
                "api".to_owned(),
                LedgerDay {
                    good: 990.0,
                    total: 1_000.0,
                    excluded: 0.0,
                },
            )]
            .into(),
        );
        let today_counts: Counts = [(
            "availability".to_owned(),
            [(
                "api".to_owned(),
                LedgerDay {
                    good: 1_000.0,
                    total: 1_000.0,
                    excluded: 0.0,
                },
            )]
            .into(),
        )]
        .into();
        assert_eq!(
            ledger_days(&slos, date("2026-11-10")),
            (4..=9)
                .map(|d| date(&format!("2026-11-{d:02}")))
                .collect::<Vec<_>>()
        );
        let all = budgets(
            &slos,
            &[yesterday],
            &today_counts,
            date("2026-11-10"),
            chrono_tz::UTC,
        );
        let api = all["availability"]["api"];
        // 10 bad of 2,000 against 1 %: half the budget left.
        assert!((api.remaining.expect("events") - 0.5).abs() < 1e-12);
        assert!((api.total - 2_000.0).abs() < f64::EPSILON);
        assert_eq!(api.window_start, date("2026-11-04"));
    }

    #[test]
    fn the_budget_runs_out_when_the_burn_spends_what_is_left() {
        let budget = Budget {
            remaining: Some(0.5),
            total: 1_000.0,
            window_start: "2026-11-01".parse().expect("date"),
            window_end: None,
        };
        let window = Window::Rolling(30);
        // 500 events' worth of allowance left; at a burn of 11 with one event a second, each
        // second spends 10 more: 50 seconds.
        assert_eq!(exhausted_at(&budget, window, 11.0, 1.0, 0), Some(50));
        assert_eq!(exhausted_at(&budget, window, 1.0, 1.0, 0), None);
        let spent = Budget {
            remaining: Some(-0.1),
            ..budget
        };
        assert_eq!(exhausted_at(&spent, window, 2.0, 1.0, 7), Some(7));
        let calendar = Budget {
            window_end: Some(10),
            ..budget
        };
        assert_eq!(exhausted_at(&calendar, Window::Month, 11.0, 1.0, 0), None);
    }
}
