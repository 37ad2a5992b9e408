//! Period-close reports: each SLO of each service over a calendar week, month or quarter, from
//! the ledger: the compliance statement people send to customers.
//!
//! A period's report is written once the period has ended: by the run of its last day, and
//! again by the backfill of any of its days, so it always sums the ledger as it stands.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::figures::SlaPolicy;
use super::slos::SloSet;
use crate::slo::ledger::{days_of, LedgerObject};
use crate::slo::window::{LedgerDay, Status, Window};

/// The version of the period report's schema.
pub const PERIOD_SCHEMA_VERSION: u32 = 1;

/// A calendar period a report closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PeriodKind {
    /// ISO week, Monday to Sunday.
    Week,
    /// Calendar month.
    Month,
    /// Calendar quarter.
    Quarter,
}

impl PeriodKind {
    /// Parses `week`, `month` or `quarter`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "week" => Some(Self::Week),
            "month" => Some(Self::Month),
            "quarter" => Some(Self::Quarter),
            _ => None,
        }
    }

    fn window(self) -> Window {
        match self {
            Self::Week => Window::Week,
            Self::Month => Window::Month,
            Self::Quarter => Window::Quarter,
        }
    }

    /// The period holding `day`: its first and last day.
    pub fn bounds(self, day: NaiveDate) -> (NaiveDate, NaiveDate) {
        self.window().bounds(day)
    }

    /// The key folder of the period holding `day` under `prefix`: `weekly/YYYY/Www/`,
    /// `monthly/YYYY/MM/` or `quarterly/YYYY/Qn/`.
    pub fn folder(self, prefix: &str, day: NaiveDate) -> String {
        match self {
            Self::Week => {
                let week = day.iso_week();
                format!("{prefix}weekly/{}/W{:02}/", week.year(), week.week())
            }
            Self::Month => format!("{prefix}monthly/{}/{:02}/", day.year(), day.month()),
            Self::Quarter => format!(
                "{prefix}quarterly/{}/Q{}/",
                day.year(),
                day.month0() / 3 + 1
            ),
        }
    }

    /// The period's name in reports: `2026-W48`, `2026-11` or `2026-Q4`.
    pub fn name(self, day: NaiveDate) -> String {
        match self {
            Self::Week => {
                let week = day.iso_week();
                format!("{}-W{:02}", week.year(), week.week())
            }
            Self::Month => format!("{}-{:02}", day.year(), day.month()),
            Self::Quarter => format!("{}-Q{}", day.year(), day.month0() / 3 + 1),
        }
    }

    /// The word for the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Week => "week",
            Self::Month => "month",
            Self::Quarter => "quarter",
        }
    }
}

/// The periods holding `day` that have ended by `latest` (the newest complete day): those whose
/// reports a run for `day` writes.
pub fn closed_periods(kinds: &[PeriodKind], day: NaiveDate, latest: NaiveDate) -> Vec<PeriodKind> {
    kinds
        .iter()
        .copied()
        .filter(|kind| kind.bounds(day).1 <= latest)
        .collect()
}

/// The days before `day` a run needs from the ledger, newest first: those of the SLOs'
/// windows and, for each period it closes, every other day of that period.
pub fn needed_days(
    set: &SloSet,
    policy: &SlaPolicy,
    day: NaiveDate,
    closing: &[PeriodKind],
) -> Vec<NaiveDate> {
    let mut days = super::slos::days_needed(set, policy, day);
    for kind in closing {
        let (start, end) = kind.bounds(day);
        days.extend(
            start
                .iter_days()
                .take_while(|d| *d <= end)
                .filter(|d| *d != day),
        );
    }
    days.sort_unstable_by(|a, b| b.cmp(a));
    days.dedup();
    days
}

/// The period as written in its report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodSummary {
    /// `week`, `month` or `quarter`.
    pub kind: &'static str,
    /// `2026-W48`, `2026-11` or `2026-Q4`.
    pub name: String,
    /// The first day.
    pub start: NaiveDate,
    /// The last day.
    pub end: NaiveDate,
    /// The IANA time zone of the days.
    pub time_zone: String,
}

/// A day of the period and its SLI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WorstDay {
    /// The day.
    pub date: NaiveDate,
    /// Its `good / total`.
    pub sli_value: f64,
}

/// One SLO of one service over the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodSlo {
    /// The SLO.
    pub name: String,
    /// `availability`, `latency` or `ratio`.
    pub sli: &'static str,
    /// The objective.
    pub objective: f64,
    /// Good events over the period's days known.
    pub good: f64,
    /// All events over them.
    pub total: f64,
    /// `good / total`; `null` without events.
    pub sli_value: Option<f64>,
    /// Met, breached or no data.
    pub status: Status,
    /// The share of the period's budget spent: bad / ((1 − objective) × total).
    pub budget_consumed: Option<f64>,
    /// Days whose own SLI was below the objective.
    pub days_breached: u32,
    /// Days the ledger lacks.
    pub days_missing: u32,
    /// The day with the lowest SLI; `null` without events.
    pub worst_day: Option<WorstDay>,
}

/// One service over the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodService {
    /// The service.
    pub service: String,
    /// Its SLOs.
    pub slos: Vec<PeriodSlo>,
}

/// A period-close report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodReport {
    /// [`PERIOD_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The period.
    pub period: PeriodSummary,
    /// Every service in the period's ledger (and every service with a target override), by
    /// name.
    pub services: Vec<PeriodService>,
}

/// The report of the `kind` period holding `day`, from the `ledger` objects (those of the
/// period's days that exist).
pub fn period_report(
    kind: PeriodKind,
    day: NaiveDate,
    time_zone: &str,
    set: &SloSet,
    policy: &SlaPolicy,
    ledger: &[LedgerObject],
) -> PeriodReport {
    let (start, end) = kind.bounds(day);
    let in_period: Vec<&LedgerObject> = ledger
        .iter()
        .filter(|object| (start..=end).contains(&object.date))
        .collect();
    let slos = set.slos(policy);
    let mut names: Vec<String> = in_period
        .iter()
        .flat_map(|object| object.slos.values())
        .flat_map(|services| services.keys().cloned())
        .chain(policy.overrides.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    let services = names
        .into_iter()
        .map(|service| {
            let slos = slos
                .iter()
                .filter(|slo| slo.services.covers(&service))
                .map(|slo| {
                    let objective = set.objective(slo, &service, policy);
                    let days = days_of(in_period.iter().copied(), &slo.name, &service);
                    period_slo(&slo.name, slo.sli.name(), objective, start, end, &days)
                })
                .collect();
            PeriodService { service, slos }
        })
        .collect();
    PeriodReport {
        schema_version: PERIOD_SCHEMA_VERSION,
        period: PeriodSummary {
            kind: kind.as_str(),
            name: kind.name(day),
            start,
            end,
            time_zone: time_zone.to_owned(),
        },
        services,
    }
}

fn period_slo(
    name: &str,
    sli: &'static str,
    objective: f64,
    start: NaiveDate,
    end: NaiveDate,
    days: &BTreeMap<NaiveDate, LedgerDay>,
) -> PeriodSlo {
    let (mut good, mut total, mut days_breached, mut days_missing) = (0.0, 0.0, 0, 0);
    let mut worst_day: Option<WorstDay> = None;
    for date in start.iter_days().take_while(|d| *d <= end) {
        let Some(day) = days.get(&date) else {
            days_missing += 1;
            continue;
        };
        good += day.good;
        total += day.total;
        if day.total > 0.0 {
            let sli_value = day.good / day.total;
            if sli_value < objective {
                days_breached += 1;
            }
            if worst_day.is_none_or(|worst| sli_value < worst.sli_value) {
                worst_day = Some(WorstDay { date, sli_value });
            }
        }
    }
    let sli_value = (total > 0.0).then(|| good / total);
    PeriodSlo {
        name: name.to_owned(),
        sli,
        objective,
        good,
        total,
        sli_value,
        status: Status::of(sli_value, objective),
        budget_consumed: sli_value.map(|value| (1.0 - value) / (1.0 - objective)),
        days_breached,
        days_missing,
        worst_day,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::figures::SloTarget;
    use crate::report::slos::DEFAULT_SLO;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn policy() -> SlaPolicy {
        SlaPolicy {
            default_target: SloTarget::try_from(0.99).expect("valid"),
            overrides: BTreeMap::new(),
        }
    }

    #[test]
    fn periods_close_on_their_last_day_and_are_named_and_keyed() {
        let kinds = [PeriodKind::Week, PeriodKind::Month, PeriodKind::Quarter];
        assert!(
            closed_periods(&kinds, date("2026-11-29"), date("2026-11-29"))
                .contains(&PeriodKind::Week)
        );
        assert_eq!(
            closed_periods(&kinds, date("2026-11-30"), date("2026-11-30")),
            [PeriodKind::Month]
        );
        assert_eq!(
            closed_periods(&kinds, date("2026-12-31"), date("2026-12-31")),
            [PeriodKind::Month, PeriodKind::Quarter]
        );
        assert!(closed_periods(&kinds, date("2026-11-18"), date("2026-11-20")).is_empty());
        assert_eq!(
            closed_periods(&kinds, date("2026-11-18"), date("2026-12-02")),
            [PeriodKind::Week, PeriodKind::Month],
            "a backfill of a closed month's day"
        );
        let day = date("2026-11-18");
        assert_eq!(PeriodKind::Week.folder("r/", day), "r/weekly/2026/W47/");
        assert_eq!(PeriodKind::Month.folder("r/", day), "r/monthly/2026/11/");
        assert_eq!(
            PeriodKind::Quarter.folder("r/", day),
            "r/quarterly/2026/Q4/"
        );
        assert_eq!(PeriodKind::Quarter.name(day), "2026-Q4");
        assert_eq!(
            PeriodKind::Week.folder("", date("2027-01-01")),
            "weekly/2026/W53/"
        );
    }

    #[test]
    fn a_closing_period_needs_all_its_other_days() {
        let set = SloSet::Default(Window::Rolling(3));
        let day = date("2026-11-18");
        assert_eq!(
            needed_days(&set, &policy(), day, &[]),
            [date("2026-11-17"), date("2026-11-16")]
        );
        let month = needed_days(&set, &policy(), day, &[PeriodKind::Month]);
        assert_eq!(month.len(), 29, "the rest of November, after the day too");
        assert_eq!(month[0], date("2026-11-30"));
        assert!(!month.contains(&day));
    }

    #[test]
    fn a_month_sums_its_ledger_days() {
        // November: 1,000 requests a day, 5 errors, but 50 on the 10th; the 20th is lost.
        let ledger: Vec<LedgerObject> = date("2026-11-01")
            .iter_days()
            .take(30)
            .filter(|d| *d != date("2026-11-20"))
            .map(|d| {
                let mut object = LedgerObject::new(d);
                let bad = if d == date("2026-11-10") { 50.0 } else { 5.0 };
                object.slos.insert(
                    DEFAULT_SLO.to_owned(),
                    [(
                        "api".to_owned(),
                        LedgerDay {
                            good: 1_000.0 - bad,
                            total: 1_000.0,
                            excluded: 0.0,
                        },
                    )]
                    .into(),
                );
                object
            })
            .collect();
        let set = SloSet::Default(Window::Rolling(30));
        let report = period_report(
            PeriodKind::Month,
            date("2026-11-30"),
            "UTC",
            &set,
            &policy(),
            &ledger,
        );
        assert_eq!(report.period.name, "2026-11");
        assert_eq!(report.period.start, date("2026-11-01"));
        let slo = &report.services[0].slos[0];
        assert!((slo.total - 29_000.0).abs() < 1e-9);
        assert!((slo.good - (29_000.0 - 28.0 * 5.0 - 50.0)).abs() < 1e-9);
        assert_eq!(slo.days_missing, 1);
        assert_eq!(slo.days_breached, 1, "the 10th at 95 %");
        assert_eq!(
            slo.worst_day,
            Some(WorstDay {
                date: date("2026-11-10"),
                sli_value: 0.95
            })
        );
        assert_eq!(slo.status, Status::Met, "190 errors of 29,000 under 1 %");
        let consumed = slo.budget_consumed.expect("events");
        assert!((consumed - 190.0 / 290.0).abs() < 1e-9, "{consumed}");
    }
}
