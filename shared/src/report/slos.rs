//! The report's SLOs over their windows: the day's ledger entry for each SLO and service, taken
//! from the day's measurements, and each SLO's figures over its window from the ledger.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use serde::Serialize;

use super::figures::{Measurements, SlaPolicy, SlaReport};
use crate::conventions::MetricConventions;
use crate::promql::{self, LabelName, RangeSeconds};
use crate::series::Sample;
use crate::slo::alerting::Alerting;
use crate::slo::document::{Events, Exclusion, Services, Sli, Slo, SloDocument};
use crate::slo::exclusions::Stretch;
use crate::slo::ledger::{days_of, LedgerObject};
use crate::slo::window::{window_figures, LedgerDay, Status, Window, WindowFigures};

/// The SLOs a report judges.
#[derive(Debug, Clone, PartialEq)]
pub enum SloSet {
    /// No SLO document: every service has one `availability` SLO at its target
    /// (`SLO_TARGET`, `SLO_TARGETS`) over this window.
    Default(Window),
    /// The SLOs and exclusions of a document.
    Document(SloDocument),
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
                alerting: Alerting::defaults(*window),
                annotations: crate::annotations::Annotations::default(),
            }],
            Self::Document(document) => document.slos.clone(),
        }
    }

    /// The document's exclusions (none without a document).
    pub fn exclusions(&self) -> &[Exclusion] {
        match self {
            Self::Default(_) => &[],
            Self::Document(document) => &document.exclusions,
        }
    }

    /// `slo`'s objective for `service`: the service's target for the default SLO.
    pub(crate) fn objective(&self, slo: &Slo, service: &str, policy: &SlaPolicy) -> f64 {
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
    /// The budget left after each day of the whole window (the days after the one reported and
    /// those before any event are `None`), for the page's burndown; not in the JSON.
    #[serde(skip)]
    pub burndown: Vec<Option<f64>>,
    /// The SLI of each of the [`TREND_DAYS`] days up to the one reported (`None` where the ledger
    /// has no events), for the page's trend; not in the JSON.
    #[serde(skip)]
    pub trend: Vec<Option<f64>>,
}

/// Days of the SLI trend on the page, the day reported included.
pub const TREND_DAYS: u64 = 90;

/// The days before `day` the trend shows. They are read from the ledger as they are, never
/// filled from Prometheus for the trend alone.
pub fn trend_days(day: NaiveDate) -> Vec<NaiveDate> {
    (1..TREND_DAYS)
        .filter_map(|back| day.checked_sub_days(Days::new(back)))
        .collect()
}

/// The SLI of each trend day up to `day`, oldest first.
fn trend(day: NaiveDate, days: &BTreeMap<NaiveDate, LedgerDay>) -> Vec<Option<f64>> {
    (0..TREND_DAYS)
        .rev()
        .filter_map(|back| day.checked_sub_days(Days::new(back)))
        .map(|date| {
            days.get(&date)
                .filter(|counts| counts.total > 0.0)
                .map(|counts| counts.good / counts.total)
        })
        .collect()
}

/// The share of the budget left after each day of `window` as of `day` (see
/// [`ServiceSlo::burndown`]).
fn burndown(
    window: Window,
    objective: f64,
    day: NaiveDate,
    days: &BTreeMap<NaiveDate, LedgerDay>,
) -> Vec<Option<f64>> {
    let (start, end) = window.bounds(day);
    let allowed = 1.0 - objective;
    let (mut good, mut total) = (0.0, 0.0);
    start
        .iter_days()
        .take_while(|d| *d <= end)
        .map(|date| {
            if date > day {
                return None;
            }
            if let Some(counts) = days.get(&date) {
                good += counts.good;
                total += counts.total;
            }
            (total > 0.0).then(|| 1.0 - (total - good) / (allowed * total))
        })
        .collect()
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

/// The queries a day's ledger needs beyond the report's own: one over the latency histogram
/// by service and `le` when any SLO has a latency SLI (every threshold is read from it), and
/// two per ratio SLO, `{{window}}` replaced by the day's range.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SloQueries {
    /// `sum by (service, le) (increase(buckets[day]))`.
    pub latency: Option<String>,
    /// Per ratio SLO, in document order: its numerator and its total.
    pub ratios: Vec<(String, String)>,
}

impl SloQueries {
    /// The queries of `slos` over the `range` ending where they are evaluated (a day, or a
    /// stretch an exclusion covers), under the metric `conventions`.
    pub fn new(slos: &[Slo], conventions: &MetricConventions, range: RangeSeconds) -> Self {
        let day = range;
        let latency = slos
            .iter()
            .any(|slo| matches!(slo.sli, Sli::Latency { .. }))
            .then(|| {
                let le = LabelName::new("le").unwrap_or_else(|_| unreachable!("le is a label"));
                promql::sum_increase_by(
                    &[&conventions.service_label, &le],
                    &conventions.latency_buckets(),
                    day,
                )
            });
        let ratios = slos
            .iter()
            .filter_map(|slo| match &slo.sli {
                Sli::Ratio { events, total, .. } => {
                    let numerator = match events {
                        Events::Good(query) | Events::Bad(query) => query,
                    };
                    let (range, seconds) = (day.to_string(), day.0.to_string());
                    let fill = |query: &str| {
                        query
                            .replace("{{window}}", &range)
                            .replace("{{window_seconds}}", &seconds)
                    };
                    Some((fill(numerator), fill(total)))
                }
                _ => None,
            })
            .collect();
        Self { latency, ratios }
    }

    /// How many queries these are.
    pub fn count(&self) -> usize {
        usize::from(self.latency.is_some()) + 2 * self.ratios.len()
    }
}

/// What [`SloQueries`] returned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SloResults {
    /// The latency histogram's increases by service and `le`.
    pub latency: Vec<Sample>,
    /// Per ratio SLO: its numerator's and its total's samples.
    pub ratios: Vec<(Vec<Sample>, Vec<Sample>)>,
}

/// An SLO that could not be measured; the others are reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SloError {
    /// The SLO.
    pub slo: String,
    /// What is wrong, naming the field.
    pub error: String,
}

/// What was counted over a stretch of the day that exclusions cover.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExcludedStretch {
    /// The stretch and the exclusions covering it.
    pub stretch: Option<Stretch>,
    /// Requests and errors over it.
    pub measurements: Measurements,
    /// The SLO queries' results over it.
    pub results: SloResults,
}

/// SLO name → service → counts.
pub type Counts = BTreeMap<String, BTreeMap<String, LedgerDay>>;

/// Every SLO's counts per service it covers from `measurements` and `results` (over one
/// range); an SLO that cannot be measured (a latency threshold that is not a bucket boundary)
/// is left out and named.
pub fn counts(
    measurements: &Measurements,
    results: &SloResults,
    slos: &[Slo],
    service_label: &str,
) -> (Counts, Vec<SloError>) {
    let mut counted = Counts::new();
    let mut errors = Vec::new();
    let histogram = histogram_by_service(&results.latency, service_label);
    let mut ratios = results.ratios.iter();
    for slo in slos {
        let days: BTreeMap<String, LedgerDay> = match &slo.sli {
            Sli::Availability => measurements
                .total
                .keys()
                .filter_map(|service| {
                    Some((service.clone(), availability_day(measurements, service)?))
                })
                .collect(),
            Sli::Latency { threshold_ms } => match latency_days(&histogram, *threshold_ms) {
                Ok(days) => days,
                Err(error) => {
                    errors.push(SloError {
                        slo: slo.name.clone(),
                        error,
                    });
                    continue;
                }
            },
            Sli::Ratio {
                group_by, events, ..
            } => {
                let (numerator, total) = ratios
                    .next()
                    .map_or((&[][..], &[][..]), |(n, t)| (n.as_slice(), t.as_slice()));
                ratio_days(numerator, total, group_by, matches!(events, Events::Bad(_)))
            }
        };
        let days = days
            .into_iter()
            .filter(|(service, _)| !service.is_empty() && slo.services.covers(service))
            .collect();
        counted.insert(slo.name.clone(), days);
    }
    (counted, errors)
}

/// The ledger object of `date` from that day's `measurements` and SLO `results`: every SLO's
/// counts for every service it covers that had events, less what the `excluded` stretches
/// counted for the services their `exclusions` cover (recorded as `excluded`); an SLO that
/// cannot be measured is left out and named.
pub fn ledger_of_day(
    date: NaiveDate,
    measurements: &Measurements,
    results: &SloResults,
    slos: &[Slo],
    service_label: &str,
    excluded: &[ExcludedStretch],
    exclusions: &[Exclusion],
) -> (LedgerObject, Vec<SloError>) {
    let (mut counted, errors) = counts(measurements, results, slos, service_label);
    for stretch in excluded {
        let Some(span) = &stretch.stretch else {
            continue;
        };
        let (during, _) = counts(&stretch.measurements, &stretch.results, slos, service_label);
        for (slo, services) in &mut counted {
            for (service, day) in services.iter_mut() {
                if !span.covers(exclusions, service) {
                    continue;
                }
                let Some(cut) = during.get(slo).and_then(|s| s.get(service)) else {
                    continue;
                };
                let total = cut.total.min(day.total);
                day.total -= total;
                day.good = (day.good - cut.good.min(total)).clamp(0.0, day.total);
                day.excluded += total;
            }
        }
    }
    let mut object = LedgerObject::new(date);
    object.slos = counted;
    (object, errors)
}

/// Service → `le` (seconds) → the bucket's increase.
fn histogram_by_service(
    samples: &[Sample],
    service_label: &str,
) -> BTreeMap<String, Vec<(f64, f64)>> {
    let mut histogram: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for sample in samples {
        let (Some(service), Some(le)) = (sample.labels.get(service_label), sample.labels.get("le"))
        else {
            continue;
        };
        let le = if le == "+Inf" {
            f64::INFINITY
        } else {
            le.parse().unwrap_or(f64::NAN)
        };
        if !le.is_nan() && sample.value.is_finite() {
            histogram
                .entry(service.clone())
                .or_default()
                .push((le, sample.value.max(0.0)));
        }
    }
    histogram
}

/// Each service's requests at or under `threshold_ms` and in all; an error naming the nearest
/// boundaries when the threshold is not one.
fn latency_days(
    histogram: &BTreeMap<String, Vec<(f64, f64)>>,
    threshold_ms: f64,
) -> Result<BTreeMap<String, LedgerDay>, String> {
    let threshold = threshold_ms / 1000.0;
    let is_threshold = |le: f64| (le - threshold).abs() <= 1e-9 * threshold.max(1.0);
    let mut days = BTreeMap::new();
    for (service, buckets) in histogram {
        let total = buckets
            .iter()
            .find(|(le, _)| le.is_infinite())
            .map(|(_, v)| *v);
        let Some(total) = total.filter(|t| *t > 0.0) else {
            continue;
        };
        let Some(good) = buckets
            .iter()
            .find(|(le, _)| is_threshold(*le))
            .map(|(_, v)| *v)
        else {
            let below = buckets
                .iter()
                .map(|(le, _)| *le)
                .filter(|le| *le < threshold)
                .fold(f64::NAN, f64::max);
            let above = buckets
                .iter()
                .map(|(le, _)| *le)
                .filter(|le| *le > threshold)
                .fold(f64::NAN, f64::min);
            let near = [below, above]
                .iter()
                .filter(|le| le.is_finite())
                .map(|le| format!("{}", le * 1000.0))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(format!(
                "threshold_ms: {threshold_ms} is not a bucket boundary ({near})"
            ));
        };
        days.insert(
            service.clone(),
            LedgerDay {
                good: good.min(total),
                total,
                excluded: 0.0,
            },
        );
    }
    Ok(days)
}

/// Each group's good and total events of a ratio SLI (`bad`: the numerator counts bad ones).
fn ratio_days(
    numerator: &[Sample],
    total: &[Sample],
    group_by: &str,
    bad: bool,
) -> BTreeMap<String, LedgerDay> {
    let counted: BTreeMap<&str, f64> = numerator
        .iter()
        .filter(|s| s.value.is_finite())
        .filter_map(|s| Some((s.labels.get(group_by)?.as_str(), s.value.max(0.0))))
        .collect();
    total
        .iter()
        .filter(|s| s.value.is_finite() && s.value > 0.0)
        .filter_map(|s| {
            let group = s.labels.get(group_by)?;
            let all = s.value;
            let counted = counted.get(group.as_str()).copied().unwrap_or(0.0).min(all);
            let good = if bad { all - counted } else { counted };
            Some((
                group.clone(),
                LedgerDay {
                    good,
                    total: all,
                    excluded: 0.0,
                },
            ))
        })
        .collect()
}

/// The days before `day` the SLOs' windows need, newest first.
pub fn days_needed(set: &SloSet, policy: &SlaPolicy, day: NaiveDate) -> Vec<NaiveDate> {
    (1..=set.days_back(policy, day))
        .filter_map(|back| day.checked_sub_days(Days::new(u64::from(back))))
        .collect()
}

/// Puts every SLO's day and window figures into `report`'s services, from the ledger objects
/// (the reported day's included), except the SLOs named in its `slo_errors`; the default SLO's
/// window also goes into each service's `slo` object.
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
        let failed = &report.slo_errors;
        service.slos = slos
            .iter()
            .filter(|slo| slo.services.covers(&service.service))
            .filter(|slo| failed.iter().all(|error| error.slo != slo.name))
            .map(|slo| {
                let objective = set.objective(slo, &service.service, policy);
                let days = days_of(ledger, &slo.name, &service.service);
                let window = window_figures(slo.window, objective, day, &days);
                let burndown = burndown(slo.window, objective, day, &days);
                let trend = trend(day, &days);
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
                    status: Status::of(sli_value, objective),
                    window,
                    burndown,
                    trend,
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

    /// A week's ledger of `checkout` and `payments` (six days of 1,000 requests with 5 errors,
    /// the day reported with 50) and the report of its last day over a 7-day window.
    fn week() -> (SlaReport, Vec<LedgerObject>) {
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
                ledger_of_day(
                    date,
                    &measurements(1_000.0, 5.0),
                    &SloResults::default(),
                    &slos,
                    "service",
                    &[],
                    &[],
                )
                .0
            })
            .collect();
        let today = measurements(1_000.0, 50.0);
        ledger.push(
            ledger_of_day(
                day,
                &today,
                &SloResults::default(),
                &slos,
                "service",
                &[],
                &[],
            )
            .0,
        );
        let period = ReportPeriod::for_date(day, chrono_tz::Tz::UTC).expect("a period");
        let mut report = build_report(&period, &today, &policy());
        attach_slos(&mut report, &set, &policy(), day, &ledger);
        (report, ledger)
    }

    #[test]
    fn the_default_slo_s_window_is_the_sum_of_its_ledger_days() {
        let (report, _) = week();
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
    fn the_json_names_every_window_field_and_the_page_draws_each_burndown() {
        let (report, ledger) = week();
        let window = report.services[0]
            .slo
            .window
            .expect("the default SLO's window");
        let json = serde_json::to_value(&report).expect("serialises");
        let slo = &json["services"][0]["slos"][0];
        for field in [
            "name",
            "sli",
            "objective",
            "good",
            "total",
            "sli_value",
            "status",
        ] {
            assert!(slo.get(field).is_some(), "{field}");
        }
        for field in [
            "start",
            "end",
            "good",
            "total",
            "sli_value",
            "error_budget_remaining",
            "burn_rate",
            "days_missing",
            "status",
            "budget_exhausted_on",
        ] {
            assert!(slo["window"].get(field).is_some(), "window.{field}");
        }
        assert!(
            slo.get("burndown").is_none(),
            "the burndown is the page's only"
        );
        assert_eq!(slo["window"]["start"], "2026-11-04");
        assert_eq!(json["services"][0]["slo"]["window"], slo["window"]);
        let html = crate::report::render::to_html(&report);
        let table = &html[html.find("SLOs over their windows").expect("the SLO table")..];
        let (checkout, payments) = (
            table.find("<td>checkout</td>").expect("a row"),
            table.find("<td>payments</td>").expect("a row"),
        );
        assert!(checkout < payments, "the least budget left first");
        assert!(table.contains("7d (2026-11-04 to 2026-11-10)"));
        assert!(table.contains("aria-label=\"budget left, day by day\""));
        let burndown = &report.services[0].slos[0].burndown;
        assert_eq!(burndown.len(), 7);
        let last = burndown[6].expect("events");
        assert!((last - window.error_budget_remaining.expect("events")).abs() < 1e-12);
        assert!(burndown[0].expect("events") > last, "the budget burns down");
        let trend = &report.services[0].slos[0].trend;
        assert_eq!(trend.len(), 90);
        assert!(
            trend[..83].iter().all(Option::is_none),
            "only the week is in the ledger"
        );
        assert!(
            (trend[89].expect("events") - 0.95).abs() < 1e-12,
            "the day reported last"
        );
        assert!(html.contains("aria-label=\"SLI, 90 days\""));
        let month = burndown_of(Window::Month, &ledger);
        assert_eq!(month.len(), 30, "the whole month");
        assert!(
            month[10..].iter().all(Option::is_none),
            "no days after the one reported"
        );
        assert!(
            month[..3].iter().all(Option::is_none),
            "none before the ledger's first day"
        );
    }

    fn burndown_of(window: Window, ledger: &[LedgerObject]) -> Vec<Option<f64>> {
        let days = days_of(ledger, DEFAULT_SLO, "checkout");
        burndown(window, 0.99, date("2026-11-10"), &days)
    }

    #[test]
    fn a_service_without_requests_has_no_ledger_entry() {
        let slos = SloSet::Default(Window::Month).slos(&policy());
        let (object, _) = ledger_of_day(
            date("2026-11-10"),
            &measurements(0.0, 0.0),
            &SloResults::default(),
            &slos,
            "service",
            &[],
            &[],
        );
        assert!(object.slos[DEFAULT_SLO].is_empty());
    }

    fn sample(labels: &[(&str, &str)], value: f64) -> Sample {
        Sample {
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            value,
        }
    }

    fn slo(name: &str, sli: Sli) -> Slo {
        Slo {
            name: name.to_owned(),
            services: Services::All,
            sli,
            objective: 0.99,
            window: Window::Month,
            alerting: Alerting::defaults(Window::Month),
            annotations: crate::annotations::Annotations::default(),
        }
    }

    #[test]
    fn latency_and_ratio_slis_count_their_day() {
        let histogram = [
            ("0.1", 600.0),
            ("0.25", 900.0),
            ("0.5", 990.0),
            ("+Inf", 1_000.0),
        ];
        let results = SloResults {
            latency: histogram
                .iter()
                .map(|(le, value)| sample(&[("service", "checkout"), ("le", le)], *value))
                .collect(),
            ratios: vec![
                (
                    vec![sample(&[("queue", "mail")], 3.0)],
                    vec![
                        sample(&[("queue", "mail")], 60.0),
                        sample(&[("queue", "sms")], 40.0),
                    ],
                ),
                (
                    vec![sample(&[("queue", "mail")], 57.0)],
                    vec![sample(&[("queue", "mail")], 60.0)],
                ),
            ],
        };
        let slos = [
            slo(
                "fast",
                Sli::Latency {
                    threshold_ms: 250.0,
                },
            ),
            slo(
                "slow",
                Sli::Latency {
                    threshold_ms: 300.0,
                },
            ),
            slo(
                "jobs",
                Sli::Ratio {
                    group_by: "queue".to_owned(),
                    events: Events::Bad("b[{{window}}]".to_owned()),
                    total: "t[{{window}}]".to_owned(),
                },
            ),
            slo(
                "delivered",
                Sli::Ratio {
                    group_by: "queue".to_owned(),
                    events: Events::Good("g[{{window}}]".to_owned()),
                    total: "t[{{window}}]".to_owned(),
                },
            ),
        ];
        let (object, errors) = ledger_of_day(
            date("2026-11-10"),
            &Measurements::default(),
            &results,
            &slos,
            "service",
            &[],
            &[],
        );
        assert_eq!(
            errors,
            [SloError {
                slo: "slow".to_owned(),
                error: "threshold_ms: 300 is not a bucket boundary (250, 500)".to_owned()
            }]
        );
        assert!(
            !object.slos.contains_key("slow"),
            "a failed SLO is not summed"
        );
        let fast = object.slos["fast"]["checkout"];
        assert!((fast.good - 900.0).abs() < 1e-9 && (fast.total - 1_000.0).abs() < 1e-9);
        let jobs = &object.slos["jobs"];
        assert!(
            (jobs["mail"].good - 57.0).abs() < 1e-9,
            "bad events subtracted"
        );
        assert!(
            (jobs["sms"].good - 40.0).abs() < 1e-9,
            "no bad events: all good"
        );
        assert!((object.slos["delivered"]["mail"].good - 57.0).abs() < 1e-9);
    }

    #[test]
    fn one_histogram_query_serves_every_threshold_and_ratios_get_the_day_s_range() {
        let ratio = Sli::Ratio {
            group_by: "queue".to_owned(),
            events: Events::Bad("b[{{window}}]".to_owned()),
            total: "t[{{window}}]".to_owned(),
        };
        let slos = [
            slo(
                "fast",
                Sli::Latency {
                    threshold_ms: 250.0,
                },
            ),
            slo(
                "slow",
                Sli::Latency {
                    threshold_ms: 500.0,
                },
            ),
            slo("jobs", ratio),
        ];
        let period = ReportPeriod::for_date(date("2026-03-29"), chrono_tz::Tz::Europe__Berlin)
            .expect("a period");
        let conventions =
            MetricConventions::from_env(&crate::config::Env::default()).expect("defaults");
        let queries = SloQueries::new(&slos, &conventions, RangeSeconds(period.seconds()));
        assert_eq!(queries.count(), 1 + 2);
        assert_eq!(
            queries.ratios[0].0, "b[82800s]",
            "the day's own length (DST)"
        );
        assert!(queries
            .latency
            .as_deref()
            .is_some_and(|q| q.starts_with("sum by (service, le) (increase(")));
    }

    #[test]
    fn an_excluded_stretch_is_taken_from_good_and_total_of_the_services_it_covers() {
        let slos = SloSet::Default(Window::Month).slos(&policy());
        let exclusions = [Exclusion {
            when: crate::slo::document::When::Once {
                start: chrono::DateTime::UNIX_EPOCH,
                end: chrono::DateTime::UNIX_EPOCH + chrono::Duration::hours(2),
            },
            services: Services::Only(["checkout".to_owned()].into()),
            reason: "maintenance".to_owned(),
        }];
        let stretch = ExcludedStretch {
            stretch: Some(Stretch {
                start: chrono::DateTime::UNIX_EPOCH,
                end: chrono::DateTime::UNIX_EPOCH + chrono::Duration::hours(2),
                exclusions: vec![0],
            }),
            measurements: measurements(100.0, 40.0),
            results: SloResults::default(),
        };
        let (object, _) = ledger_of_day(
            date("2026-11-10"),
            &measurements(1_000.0, 50.0),
            &SloResults::default(),
            &slos,
            "service",
            &[stretch],
            &exclusions,
        );
        let checkout = object.slos[DEFAULT_SLO]["checkout"];
        assert!((checkout.total - 900.0).abs() < 1e-9);
        assert!((checkout.good - 890.0).abs() < 1e-9, "950 good less 60");
        assert!((checkout.excluded - 100.0).abs() < 1e-9);
        let payments = object.slos[DEFAULT_SLO]["payments"];
        assert!((payments.total - 1_000.0).abs() < 1e-9 && payments.excluded.abs() < 1e-9);
    }
}
