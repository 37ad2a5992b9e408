//! The report's SLOs over their windows: the day's ledger entry for each SLO and service, taken
//! from the day's measurements, and each SLO's figures over its window from the ledger.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::Serialize;

use super::figures::{Measurements, SlaPolicy, SlaReport};
use crate::slo::document::{Services, Sli, Slo};
use crate::slo::ledger::{days_of, LedgerObject};
use crate::slo::window::{window_figures, LedgerDay, Status, Window, WindowFigures};

/// The SLOs a report judges.
#[derive(Debug, Clone, PartialEq)]
pub enum SloSet {
    /// No SLO document: every service has one `availability` SLO at its target
    /// (`SLO_TARGET`, `SLO_TARGETS`) over this window.
    Default(Window),
    /// The SLOs of a document.
    Document(Vec<Slo>),
}

/// The name of the default SLO.
pub const DEFAULT_SLO: &str = "availability";

impl SloSet {
    /// The SLOs, the default one at the policy's default target.
    pub fn slos(&self, policy: &SlaPolicy) -> Vec<Slo> {
        match self {
            Self::Default(window) => vec![Slo {
                name: DEFAULT_SLO.to_owned(),
                services: Services::All,
                sli: Sli::Availability,
                objective: policy.default_target.value(),
                window: *window,
            }],
            Self::Document(slos) => slos.clone(),
        }
    }

    /// `slo`'s objective for `service`: the service's target for the default SLO.
    fn objective(&self, slo: &Slo, service: &str, policy: &SlaPolicy) -> f64 {
        match self {
            Self::Default(_) => policy.target(service).value(),
            Self::Document(_) => slo.objective,
        }
    }

    /// How many days before `day` the longest window reaches.
    pub fn days_back(&self, policy: &SlaPolicy, day: NaiveDate) -> u32 {
        self.slos(policy)
            .iter()
            .map(|slo| {
                let (start, _) = slo.window.bounds(day);
                u32::try_from((day - start).num_days()).unwrap_or(0)
            })
            .max()
            .unwrap_or(0)
    }
}

/// One SLO of one service in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceSlo {
    /// The SLO's name.
    pub name: String,
    /// `availability`, `latency` or `ratio`.
    pub sli: &'static str,
    /// The objective.
    pub objective: f64,
    /// The window, as documents name it.
    pub window_name: String,
    /// The day's good events.
    pub good: Option<f64>,
    /// The day's events.
    pub total: Option<f64>,
    /// The day's `good / total`.
    pub sli_value: Option<f64>,
    /// The day's verdict.
    pub status: Status,
    /// The window's figures.
    pub window: WindowFigures,
}

/// The day's availability counts of `service`: good = total − errors (errors at most the
/// total); `None` without requests.
pub fn availability_day(measurements: &Measurements, service: &str) -> Option<LedgerDay> {
    let total = measurements
        .total
        .get(service)
        .copied()
        .filter(|t| t.is_finite() && *t > 0.0)?;
    let errors = measurements
        .errors
        .get(service)
        .copied()
        .filter(|e| e.is_finite())
        .unwrap_or(0.0)
        .clamp(0.0, total);
    Some(LedgerDay {
        good: total - errors,
        total,
        excluded: 0.0,
    })
}

/// The ledger object of `date` from that day's `measurements`: every availability SLO's
/// counts for every service it covers that had requests.
pub fn ledger_of_day(date: NaiveDate, measurements: &Measurements, slos: &[Slo]) -> LedgerObject {
    let mut object = LedgerObject::new(date);
    for slo in slos.iter().filter(|slo| slo.sli == Sli::Availability) {
        let days: BTreeMap<String, LedgerDay> = measurements
            .total
            .keys()
            .filter(|service| !service.is_empty() && slo.services.covers(service))
            .filter_map(|service| Some((service.clone(), availability_day(measurements, service)?)))
            .collect();
        object.slos.insert(slo.name.clone(), days);
    }
    object
}

/// The days before `day` the SLOs' windows need, newest first.
pub fn days_needed(set: &SloSet, policy: &SlaPolicy, day: NaiveDate) -> Vec<NaiveDate> {
    (1..=set.days_back(policy, day))
        .filter_map(|back| day.checked_sub_days(Days::new(u64::from(back))))
        .collect()
}

/// Puts every SLO's day and window figures into `report`'s services, from the ledger objects
/// (the reported day's included); the default SLO's window also goes into each service's
/// `slo` object.
pub fn attach_slos(
    report: &mut SlaReport,
    set: &SloSet,
    policy: &SlaPolicy,
    day: NaiveDate,
    ledger: &[LedgerObject],
) {
    let slos = set.slos(policy);
    let today = ledger.iter().find(|object| object.date == day);
    for service in &mut report.services {
        service.slos = slos
            .iter()
            .filter(|slo| slo.services.covers(&service.service))
            .map(|slo| {
                let objective = set.objective(slo, &service.service, policy);
                let days = days_of(ledger, &slo.name, &service.service);
                let window = window_figures(slo.window, objective, day, &days);
                let counts = today
                    .and_then(|object| object.slos.get(&slo.name))
                    .and_then(|services| services.get(&service.service));
                let sli_value = counts.filter(|c| c.total > 0.0).map(|c| c.good / c.total);
                ServiceSlo {
                    name: slo.name.clone(),
                    sli: slo.sli.name(),
                    objective,
                    window_name: slo.window.name(),
                    good: counts.map(|c| c.good),
                    total: counts.map(|c| c.total),
                    sli_value,
                    status: match sli_value {
                        None => Status::NoData,
                        Some(value) if value >= objective => Status::Met,
                        Some(_) => Status::Breached,
                    },
                    window,
                }
            })
            .collect();
        if matches!(set, SloSet::Default(_)) {
            service.slo.window = service
                .slos
                .iter()
                .find(|slo| slo.name == DEFAULT_SLO)
                .map(|slo| slo.window);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::figures::{build_report, SloTarget};
    use crate::report::period::ReportPeriod;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn policy() -> SlaPolicy {
        SlaPolicy {
            default_target: SloTarget::try_from(0.99).expect("valid"),
            overrides: [(
                "payments".to_owned(),
                SloTarget::try_from(0.999).expect("valid"),
            )]
            .into(),
        }
    }

    fn measurements(total: f64, errors: f64) -> Measurements {
        Measurements {
            total: [
                ("checkout".to_owned(), total),
                ("payments".to_owned(), total),
            ]
            .into(),
            errors: [("checkout".to_owned(), errors)].into(),
            ..Measurements::default()
        }
    }

    #[test]
    fn the_default_slo_s_window_is_the_sum_of_its_ledger_days() {
        let set = SloSet::Default(Window::Rolling(7));
        let slos = set.slos(&policy());
        let day = date("2026-11-10");
        assert_eq!(
            days_needed(&set, &policy(), day),
            (1..=6)
                .map(|back| day.checked_sub_days(Days::new(back)).expect("a day"))
                .collect::<Vec<_>>()
        );
        // Six earlier days of 1,000 requests with 5 errors, and today 1,000 with 50.
        let mut ledger: Vec<LedgerObject> = (1..=6)
            .map(|back| {
                let date = day.checked_sub_days(Days::new(back)).expect("a day");
                ledger_of_day(date, &measurements(1_000.0, 5.0), &slos)
            })
            .collect();
        let today = measurements(1_000.0, 50.0);
        ledger.push(ledger_of_day(day, &today, &slos));
        let period = ReportPeriod::for_date(day, chrono_tz::Tz::UTC).expect("a period");
        let mut report = build_report(&period, &today, &policy());
        attach_slos(&mut report, &set, &policy(), day, &ledger);
        let checkout = &report.services[0];
        assert_eq!(checkout.service, "checkout");
        let slo = &checkout.slos[0];
        assert_eq!(slo.status, Status::Breached, "the day: 95 %");
        let window = checkout.slo.window.expect("the default SLO's window");
        assert!((window.total - 7_000.0).abs() < 1e-9);
        assert!((window.good - 6_920.0).abs() < 1e-9);
        assert_eq!(
            window.status,
            Status::Breached,
            "80 errors of 7,000 over 1 %"
        );
        assert_eq!(window.days_missing, 0);
        let payments = &report.services[1];
        assert!(
            (payments.slos[0].objective - 0.999).abs() < 1e-12,
            "its own target"
        );
        assert_eq!(payments.slos[0].window.status, Status::Met);
    }

    #[test]
    fn a_service_without_requests_has_no_ledger_entry() {
        let slos = SloSet::Default(Window::Month).slos(&policy());
        let object = ledger_of_day(date("2026-11-10"), &measurements(0.0, 0.0), &slos);
        assert!(object.slos[DEFAULT_SLO].is_empty());
    }
}
