//! SLO burn-rate alerts in the minute check: every rule of every SLO of the SLO document, per
//! service, from the events over the rule's long and short windows.
//!
//! A rule fires at the first evaluation where both windows burn at or above its rate and the
//! long window holds at least the SLO's `min_events` (no hold), and resolves at the first
//! evaluation where the short window burns below it (no clear delay: the short window is the
//! smoothing). While a page (a `critical` rule) that was sent fires, or one fires in the same
//! evaluation, the SLO's tickets for the service do not start firing. During an exclusion that covers the service, the
//! SLO's alerts stay as they are and send nothing. Alerts follow the anomaly alerts'
//! lifecycle, state and outbox: an alert is `slo_burn:<slo>` with labels `service` and `rule`.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::budget::{exhausted_at, Budgets};
use super::evaluate::Reading;
use super::lifecycle::{
    advance, anomalous_since, AlertKey, AlertState, LifecyclePolicy, Observation, Transition,
};
use super::model::Unit;
use super::plan::{AlertRecord, Notification, Plan};
use crate::annotations::Annotations;
use crate::report::slos::Counts;
use crate::severity::Severity;
use crate::slo::alerting::{duration_text, BurnRule};
use crate::slo::document::Slo;
use crate::slo::window::LedgerDay;

/// What an SLO alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SloAlertKind {
    /// A multi-window burn-rate rule.
    SloBurn,
    /// A share of the window's budget left crossed.
    SloBudget,
}

impl SloAlertKind {
    /// The message attribute `check`: `slo_burn` or `slo_budget`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SloBurn => "slo_burn",
            Self::SloBudget => "slo_budget",
        }
    }
}

/// What an SLO alert's messages say besides its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloFacts {
    /// Burn rate or budget.
    pub kind: SloAlertKind,
    /// The SLO.
    pub slo: String,
    /// The service.
    pub service: String,
    /// The rule: `1h/5m`, or the budget threshold such as `budget-0.25`.
    pub rule: String,
    /// The SLO's objective.
    pub objective: f64,
    /// The SLO's window, as the document names it.
    pub window: String,
    /// The rule's burn rate.
    pub burn_rate: Option<f64>,
    /// The long window, as the rule names it.
    pub long_window: Option<String>,
    /// The short window.
    pub short_window: Option<String>,
    /// The burn rate over the long window; `None` without events.
    pub long_burn_rate: Option<f64>,
    /// The burn rate over the short window; `None` without events.
    pub short_burn_rate: Option<f64>,
    /// The events in the long window.
    pub long_events: Option<f64>,
    /// The share of the SLO window's budget left (ledger days plus today so far); `None` where
    /// the ledger is not read.
    #[serde(default)]
    pub budget_remaining: Option<f64>,
    /// When the budget runs out at the current burn, unix seconds; `None` when it does not or
    /// is not known.
    #[serde(default)]
    pub budget_exhausted_at: Option<i64>,
    /// A budget alert's window: its first day.
    #[serde(default)]
    pub period: Option<NaiveDate>,
}

impl SloFacts {
    /// The facts every alert of `slo` states: which SLO, service and rule; the figures are
    /// left to the alert that knows them.
    pub fn about(kind: SloAlertKind, slo: &Slo, service: &str, rule: String) -> Self {
        Self {
            kind,
            slo: slo.name.clone(),
            service: service.to_owned(),
            rule,
            objective: slo.objective,
            window: slo.window.name(),
            burn_rate: None,
            long_window: None,
            short_window: None,
            long_burn_rate: None,
            short_burn_rate: None,
            long_events: None,
            budget_remaining: None,
            budget_exhausted_at: None,
            period: None,
        }
    }
}

/// SLO → service → events, over each range (seconds) the rules read.
pub type RangeCounts = BTreeMap<u32, Counts>;

/// Ranges of at least this many seconds (a day) are read every [`LONG_RANGE_REFRESH_SECONDS`]
/// and kept in the state between: each reads a day's samples or more of every series, and
/// only the tickets' long windows are that long, where ten minutes change nothing.
pub const LONG_RANGE_SECONDS: u32 = 86_400;
/// How old the long ranges' counts may be.
pub const LONG_RANGE_REFRESH_SECONDS: i64 = 600;

/// The long ranges' counts and the budgets, as read at `at` (unix seconds).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SloCache {
    /// When they were read.
    pub at: i64,
    /// Range → SLO → service → events.
    pub ranges: RangeCounts,
    /// SLO → service → the window's budget, where the ledger is read.
    #[serde(default)]
    pub budgets: Budgets,
    /// SLO → the last evaluation at which its queries counted any event.
    #[serde(default)]
    pub seen: BTreeMap<String, i64>,
}

/// How long an SLO's queries may count no event at all, after they counted some, before its
/// no-data alert fires.
pub const SLO_ABSENT_AFTER_SECONDS: i64 = 600;
/// The `rule` of an SLO's no-data alert.
pub const NO_DATA_RULE: &str = "no_data";

/// The shortest range an SLO's rules read: where events show first.
fn shortest(slo: &Slo) -> Option<u32> {
    slo.alerting
        .burn_rules
        .iter()
        .map(|r| r.short_seconds)
        .min()
}

/// Notes in `seen` the SLOs whose shortest range counted events at `now`.
pub fn note_events(slos: &[Slo], counts: &RangeCounts, seen: &mut BTreeMap<String, i64>, now: i64) {
    for slo in slos {
        let events = shortest(slo)
            .and_then(|range| counts.get(&range))
            .and_then(|by_slo| by_slo.get(&slo.name))
            .is_some_and(|by_service| by_service.values().any(|day| day.total > 0.0));
        if events {
            seen.insert(slo.name.clone(), now);
        }
    }
}

/// Advances each SLO's no-data alert (`slo_burn:<slo>` with rule `no_data`): it fires when the
/// SLO's queries, which counted events before (`seen`), have counted none for
/// [`SLO_ABSENT_AFTER_SECONDS`], and resolves when they count some again. An SLO whose queries
/// failed keeps it as it was.
pub fn plan_slo_absence(
    slos: &[Slo],
    counts: &RangeCounts,
    seen: &BTreeMap<String, i64>,
    previous: &[AlertRecord],
    now: i64,
) -> Plan {
    let mut plan = Plan::default();
    for slo in slos {
        let key = AlertKey {
            check: burn_check(&slo.name),
            labels: [("rule".to_owned(), NO_DATA_RULE.to_owned())].into(),
        };
        let before = previous.iter().find(|r| r.key == key);
        let read = shortest(slo)
            .and_then(|range| counts.get(&range))
            .is_some_and(|by_slo| by_slo.contains_key(&slo.name));
        if !read {
            plan.next.extend(before.cloned());
            continue;
        }
        let observation = match seen.get(&slo.name) {
            Some(last) if now - last >= SLO_ABSENT_AFTER_SECONDS => Observation::Anomalous,
            _ => Observation::Normal,
        };
        let facts = SloFacts::about(SloAlertKind::SloBurn, slo, "", NO_DATA_RULE.to_owned());
        let rule = BurnRule {
            severity: Severity::Warning,
            burn_rate: 1.0,
            long_seconds: 0,
            short_seconds: 0,
        };
        advance_rule(
            &mut plan,
            &slo.annotations,
            key,
            before,
            observation,
            &rule,
            facts,
            now,
        );
    }
    plan
}

/// Whether the long ranges are read at `now`: without counts from the last
/// [`LONG_RANGE_REFRESH_SECONDS`] (or with counts from a later time, as when history is
/// replayed again).
pub fn long_ranges_due(cache: Option<&SloCache>, now: i64) -> bool {
    cache.is_none_or(|cache| now < cache.at || now - cache.at >= LONG_RANGE_REFRESH_SECONDS)
}

/// The distinct ranges (seconds) the SLOs' rules read, ascending.
pub fn burn_ranges(slos: &[Slo]) -> Vec<u32> {
    let mut ranges: Vec<u32> = slos
        .iter()
        .flat_map(|slo| &slo.alerting.burn_rules)
        .flat_map(|rule| [rule.long_seconds, rule.short_seconds])
        .collect();
    ranges.sort_unstable();
    ranges.dedup();
    ranges
}

/// The alert check name of an SLO's burn-rate alerts: a check's name cannot hold `:`.
pub fn burn_check(slo: &str) -> String {
    format!("{}:{slo}", SloAlertKind::SloBurn.as_str())
}

fn burn_key(slo: &str, service: &str, rule: &BurnRule) -> AlertKey {
    AlertKey {
        check: burn_check(slo),
        labels: [
            ("rule".to_owned(), rule.name()),
            ("service".to_owned(), service.to_owned()),
        ]
        .into(),
    }
}

/// The error ratio over the one the objective allows; `None` without events.
fn burn_rate(events: Option<&LedgerDay>, objective: f64) -> Option<f64> {
    let events = events.filter(|e| e.total > 0.0)?;
    Some((1.0 - events.good / events.total) / (1.0 - objective))
}

/// The lifecycle of burn-rate alerts: fire at once, resolve at once, repeat as anomaly alerts.
fn policy() -> LifecyclePolicy {
    LifecyclePolicy {
        hold_seconds: 0,
        clear_after_seconds: 0,
        recovery_memory_seconds: 0,
        ..LifecyclePolicy::default()
    }
}

/// Advances every burn-rate alert of `slos` at `now` from the events over each range
/// (`counts`; a range or an SLO missing from it could not be read, and that SLO's alerts stay
/// as they were); `muted` says whether an exclusion covers an SLO's service now; `previous`
/// holds every stored alert.
pub fn plan_burn(
    slos: &[Slo],
    counts: &RangeCounts,
    budgets: &Budgets,
    muted: &dyn Fn(&Slo, &str) -> bool,
    previous: &[AlertRecord],
    now: i64,
) -> Plan {
    let mut plan = Plan::default();
    for slo in slos.iter().filter(|s| !s.alerting.burn_rules.is_empty()) {
        let check = burn_check(&slo.name);
        let stored: Vec<&AlertRecord> = previous.iter().filter(|r| r.key.check == check).collect();
        let read = |seconds: u32| counts.get(&seconds).and_then(|c| c.get(&slo.name));
        let known =
            slo.alerting.burn_rules.iter().all(|rule| {
                read(rule.long_seconds).is_some() && read(rule.short_seconds).is_some()
            });
        if !known {
            plan.next.extend(stored.into_iter().cloned());
            continue;
        }
        let mut services: Vec<&str> = slo
            .alerting
            .burn_rules
            .iter()
            .flat_map(|rule| [rule.long_seconds, rule.short_seconds])
            .filter_map(read)
            .flat_map(|by_service| by_service.keys().map(String::as_str))
            .chain(
                stored
                    .iter()
                    .filter_map(|r| r.key.labels.get("service").map(String::as_str)),
            )
            .collect();
        services.sort_unstable();
        services.dedup();
        // Pages first: one that fires now mutes the tickets as well.
        let mut rules: Vec<&BurnRule> = slo.alerting.burn_rules.iter().collect();
        rules.sort_by_key(|rule| !rule.pages());
        for service in services {
            let mut paging = stored.iter().any(|r| {
                r.key.labels.get("service").map(String::as_str) == Some(service)
                    && r.severity == Severity::Critical
                    && matches!(r.state, AlertState::Firing { .. })
            });
            for rule in rules.iter().copied() {
                let key = burn_key(&slo.name, service, rule);
                let before = stored.iter().find(|r| r.key == key).copied();
                if muted(slo, service) {
                    plan.next.extend(before.cloned());
                    continue;
                }
                let long = read(rule.long_seconds).and_then(|c| c.get(service));
                let short = read(rule.short_seconds).and_then(|c| c.get(service));
                let budget = budgets.get(&slo.name).and_then(|b| b.get(service));
                let short_burn = burn_rate(short, slo.objective);
                let runs_out = budget.and_then(|budget| {
                    let per_second = short.map_or(0.0, |e| e.total / f64::from(rule.short_seconds));
                    exhausted_at(budget, slo.window, short_burn?, per_second, now)
                });
                let facts = SloFacts {
                    burn_rate: Some(rule.burn_rate),
                    long_window: Some(duration_text(rule.long_seconds)),
                    short_window: Some(duration_text(rule.short_seconds)),
                    long_burn_rate: burn_rate(long, slo.objective),
                    short_burn_rate: short_burn,
                    long_events: long.map(|e| e.total),
                    budget_remaining: budget.and_then(|b| b.remaining),
                    budget_exhausted_at: runs_out,
                    ..SloFacts::about(SloAlertKind::SloBurn, slo, service, rule.name())
                };
                let observation = observe(rule, slo, &facts, before, paging);
                let fired = advance_rule(
                    &mut plan,
                    &slo.annotations,
                    key,
                    before,
                    observation,
                    rule,
                    facts,
                    now,
                );
                paging |= fired && rule.pages();
            }
        }
    }
    plan
}

/// Whether the rule burns: while it fires, its short window alone decides; otherwise both
/// windows at or above its rate on enough events, unless a sent page mutes a ticket.
fn observe(
    rule: &BurnRule,
    slo: &Slo,
    facts: &SloFacts,
    before: Option<&AlertRecord>,
    paging: bool,
) -> Observation {
    let burns = |rate: Option<f64>| rate.map(|r| r >= rule.burn_rate);
    let firing = before.is_some_and(|r| matches!(r.state, AlertState::Firing { .. }));
    if firing {
        return match burns(facts.short_burn_rate) {
            Some(true) => Observation::Anomalous,
            Some(false) => Observation::Normal,
            None => Observation::NoData,
        };
    }
    let enough = facts
        .long_events
        .is_some_and(|events| events >= slo.alerting.min_events);
    let both =
        burns(facts.long_burn_rate) == Some(true) && burns(facts.short_burn_rate) == Some(true);
    let muted_ticket = paging && !rule.pages();
    if enough && both && !muted_ticket {
        Observation::Anomalous
    } else {
        Observation::Normal
    }
}

/// An SLO's `annotations` for the alert `facts` describe: its URLs filled with the service, the
/// SLO and the rule.
pub fn slo_annotations(annotations: &Annotations, facts: &SloFacts) -> Annotations {
    let labels: BTreeMap<String, String> = [
        ("service".to_owned(), facts.service.clone()),
        ("slo".to_owned(), facts.slo.clone()),
        ("rule".to_owned(), facts.rule.clone()),
    ]
    .into();
    annotations.resolve(&labels)
}

#[allow(clippy::too_many_arguments)]
fn advance_rule(
    plan: &mut Plan,
    annotations: &Annotations,
    key: AlertKey,
    before: Option<&AlertRecord>,
    observation: Observation,
    rule: &BurnRule,
    facts: SloFacts,
    now: i64,
) -> bool {
    let (state, transition) = advance(before.map(|r| r.state), observation, now, &policy());
    let since = anomalous_since(before.map(|r| r.state), state, now);
    let record = state.map(|state| AlertRecord {
        key: key.clone(),
        state,
        severity: rule.severity,
        reading: Reading::NONE,
        reference: None,
        incident: None,
        slo: Some(facts.clone()),
        untold: before.is_some_and(|r| r.untold),
    });
    let fired = transition == Some(Transition::Firing);
    match transition {
        Some(transition) => plan.notifications.push((
            Notification {
                key,
                transition,
                severity: rule.severity,
                query: String::new(),
                at: now,
                since,
                reading: Reading::NONE,
                annotations: slo_annotations(annotations, &facts),
                unit: Unit::None,
                slo: Some(facts),
            },
            record,
        )),
        None => plan.next.extend(record),
    }
    fired
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::document::parse_slo_document;

    const MINUTE: i64 = 60;

    fn slos(extra: &str) -> Vec<Slo> {
        parse_slo_document(&format!(
            "slos:\n  - {{name: availability, sli: availability, objective: 0.999{extra}}}\n"
        ))
        .expect("valid")
        .slos
    }

    /// Events over every range the default rules read, for `api`: `total` per minute with an
    /// error ratio of `ratio_in(range)`.
    fn counts(slos: &[Slo], per_minute: f64, ratio_in: &dyn Fn(u32) -> f64) -> RangeCounts {
        burn_ranges(slos)
            .into_iter()
            .map(|seconds| {
                let total = per_minute * f64::from(seconds) / 60.0;
                let day = LedgerDay {
                    good: total * (1.0 - ratio_in(seconds)),
                    total,
                    excluded: 0.0,
                };
                let by_service = [("api".to_owned(), day)].into();
                (seconds, [("availability".to_owned(), by_service)].into())
            })
            .collect()
    }

    /// Runs one evaluation per `(counts, now)`, keeping the records as a sent message would,
    /// and returns each message as `(minute, rule, transition)`.
    fn run(slos: &[Slo], steps: &[(RangeCounts, i64)]) -> Vec<(i64, String, Transition)> {
        let mut stored: Vec<AlertRecord> = Vec::new();
        let mut messages = Vec::new();
        for (counts, now) in steps {
            let plan = plan_burn(slos, counts, &Budgets::new(), &|_, _| false, &stored, *now);
            let mut next = plan.next;
            for (notification, record) in plan.notifications {
                messages.push((
                    now / MINUTE,
                    notification.key.labels["rule"].clone(),
                    notification.transition,
                ));
                next.extend(record);
            }
            stored = next;
        }
        messages
    }

    #[test]
    fn an_slo_whose_queries_count_nothing_for_ten_minutes_fires_its_no_data_alert() {
        let slos = slos("");
        let events = counts(&slos, 100.0, &|_| 0.0);
        let nothing: RangeCounts = burn_ranges(&slos)
            .into_iter()
            .map(|range| (range, [("availability".to_owned(), BTreeMap::new())].into()))
            .collect();
        let mut seen = BTreeMap::new();
        note_events(&slos, &nothing, &mut seen, 0);
        assert!(seen.is_empty(), "no events, nothing seen");
        assert!(
            plan_slo_absence(&slos, &nothing, &seen, &[], 600)
                .notifications
                .is_empty(),
            "never had data"
        );
        note_events(&slos, &events, &mut seen, 0);
        let quiet = plan_slo_absence(&slos, &nothing, &seen, &[], 540);
        assert!(
            quiet.notifications.is_empty(),
            "nine minutes is not yet absence"
        );
        let fired = plan_slo_absence(&slos, &nothing, &seen, &[], 600);
        let (message, record) = &fired.notifications[0];
        assert_eq!(message.transition, Transition::Firing);
        assert_eq!(message.key.labels["rule"], NO_DATA_RULE);
        note_events(&slos, &events, &mut seen, 660);
        let back = plan_slo_absence(
            &slos,
            &events,
            &seen,
            &[record.clone().expect("firing")],
            660,
        );
        assert_eq!(back.notifications[0].0.transition, Transition::Resolved);
    }

    #[test]
    fn long_ranges_are_read_every_ten_minutes() {
        assert!(long_ranges_due(None, 0));
        let cache = SloCache {
            at: 600,
            ..SloCache::default()
        };
        assert!(!long_ranges_due(Some(&cache), 600 + 540));
        assert!(long_ranges_due(Some(&cache), 600 + 600));
        assert!(
            long_ranges_due(Some(&cache), 540),
            "a replay from earlier reads again"
        );
    }

    #[test]
    fn the_default_rules_read_seven_ranges() {
        assert_eq!(
            burn_ranges(&slos("")),
            [300, 1_800, 3_600, 7_200, 21_600, 86_400, 259_200]
        );
    }

    #[test]
    fn a_fast_burn_pages_when_both_windows_burn_and_resolves_when_the_short_one_stops() {
        let slos = slos("");
        // 2 % errors is a burn of 20 over every window: both pages fire, the tickets do not.
        let burning = counts(&slos, 100.0, &|_| 0.02);
        let messages = run(&slos, &[(burning.clone(), 0), (burning, MINUTE)]);
        assert_eq!(
            messages,
            [
                (0, "1h/5m".to_owned(), Transition::Firing),
                (0, "6h/30m".to_owned(), Transition::Firing)
            ]
        );
        // The short windows recover while the long ones still burn: both resolve at once.
        let recovering = counts(&slos, 100.0, &|seconds| {
            if seconds <= 1_800 {
                0.0
            } else {
                0.02
            }
        });
        let messages = run(
            &slos,
            &[
                (counts(&slos, 100.0, &|_| 0.02), 0),
                (recovering, 2 * MINUTE),
            ],
        );
        assert_eq!(
            messages[2..],
            [
                (2, "1h/5m".to_owned(), Transition::Resolved),
                (2, "6h/30m".to_owned(), Transition::Resolved)
            ]
        );
    }

    #[test]
    fn a_burn_below_the_rate_in_either_window_fires_nothing() {
        let slos = slos("");
        let short_only = counts(&slos, 100.0, &|seconds| {
            if seconds == 300 {
                0.5
            } else {
                0.0
            }
        });
        assert!(run(&slos, &[(short_only, 0)]).is_empty());
        // The 1h window burns at 20, its 5m window not at all.
        let long_only = counts(&slos, 100.0, &|seconds| {
            if seconds == 3_600 {
                0.02
            } else {
                0.0
            }
        });
        assert!(run(&slos, &[(long_only, 0)]).is_empty());
    }

    #[test]
    fn a_slow_burn_opens_tickets_and_never_pages() {
        let slos = slos("");
        // 0.4 % errors: a burn of 4 — above the 1d/2h and 3d/6h rates, below both pages'.
        let messages = run(&slos, &[(counts(&slos, 100.0, &|_| 0.004), 0)]);
        assert_eq!(
            messages,
            [
                (0, "1d/2h".to_owned(), Transition::Firing),
                (0, "3d/6h".to_owned(), Transition::Firing)
            ]
        );
    }

    #[test]
    fn a_sent_page_keeps_the_tickets_of_its_slo_and_service_quiet() {
        let slos = slos("");
        // Only the 1h/5m page's windows burn hard at first; then every window burns at 20.
        let page_only = counts(&slos, 100.0, &|seconds| {
            if seconds <= 3_600 {
                0.02
            } else {
                0.0
            }
        });
        let everything = counts(&slos, 100.0, &|_| 0.02);
        let messages = run(&slos, &[(page_only, 0), (everything, MINUTE)]);
        assert_eq!(
            messages,
            [
                (0, "1h/5m".to_owned(), Transition::Firing),
                (1, "6h/30m".to_owned(), Transition::Firing)
            ],
            "the second page fires; the tickets stay quiet while a page fires"
        );
    }

    #[test]
    fn low_traffic_fires_nothing_and_min_events_is_per_slo() {
        let few = slos("");
        // One request a minute: 60 in the 1h window, under the default 100.
        let hour_fails = counts(&few, 1.0, &|seconds| {
            if seconds <= 3_600 {
                0.5
            } else {
                0.0
            }
        });
        assert!(run(&few, &[(hour_fails.clone(), 0)]).is_empty());
        let lenient = slos(", min_events: 10");
        assert_eq!(
            run(&lenient, &[(hour_fails, 0)]).len(),
            1,
            "60 events are enough"
        );
    }

    #[test]
    fn an_unread_range_keeps_the_slo_s_alerts_and_a_mute_sends_nothing() {
        let slos = slos("");
        let burning = counts(&slos, 100.0, &|_| 0.02);
        let first = plan_burn(&slos, &burning, &Budgets::new(), &|_, _| false, &[], 0);
        let stored: Vec<AlertRecord> = first
            .notifications
            .into_iter()
            .filter_map(|(_, r)| r)
            .collect();
        assert_eq!(stored.len(), 2);
        let mut partial = counts(&slos, 100.0, &|_| 0.0);
        partial.remove(&300);
        let kept = plan_burn(
            &slos,
            &partial,
            &Budgets::new(),
            &|_, _| false,
            &stored,
            MINUTE,
        );
        assert!(kept.notifications.is_empty());
        assert_eq!(kept.next, stored);
        let calm = counts(&slos, 100.0, &|_| 0.0);
        let muted = plan_burn(
            &slos,
            &calm,
            &Budgets::new(),
            &|_, service| service == "api",
            &stored,
            MINUTE,
        );
        assert!(muted.notifications.is_empty(), "an exclusion sends nothing");
        assert_eq!(muted.next, stored, "and keeps the alerts as they were");
    }
}
