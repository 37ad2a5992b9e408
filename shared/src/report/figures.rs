//! The SLA report: per-service availability, latency and error budget for one period.
//!
//! Pure code: the measurements Prometheus returned and the policy go in, the report comes out.
//!
//! - **Availability** = 1 − errors / total over the period. A service with requests but no
//!   error series at all has 0 errors (error counters appear with their first error).
//! - **No data is not zero.** No request series, a total of 0, `NaN` or `±Inf` make the
//!   figures `null` and the status `no_data`; such a service is never 0 % or 100 % available.
//! - **Error budget**: allowed = (1 − target) × total requests; consumed = errors / allowed
//!   (a fraction of the budget); remaining = 1 − consumed, negative when overspent.
//! - **Burn rate** = (errors / total) / (1 − target): the pace at which the day spent budget,
//!   1.0 being exactly the pace the target allows. Over a one-day budget it equals `consumed`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use thiserror::Error;

use crate::report::period::ReportPeriod;
use crate::report::slos::{ServiceSlo, SloError};
use crate::slo::window::WindowFigures;

/// The version of the JSON report's schema; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

/// An SLO target: the fraction of requests that must succeed, strictly between 0 and 1.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct SloTarget(f64);

/// A target outside (0, 1).
#[derive(Debug, Error, Clone, PartialEq)]
#[error("an SLO target must be strictly between 0 and 1, such as 0.999; {0} is not")]
pub struct InvalidTarget(pub f64);

impl TryFrom<f64> for SloTarget {
    type Error = InvalidTarget;

    fn try_from(value: f64) -> Result<Self, Self::Error> {
        if value > 0.0 && value < 1.0 {
            Ok(Self(value))
        } else {
            Err(InvalidTarget(value))
        }
    }
}

impl SloTarget {
    /// The target as a fraction.
    pub fn value(self) -> f64 {
        self.0
    }
}

/// Which target applies to which service.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaPolicy {
    /// The target for services without an override.
    pub default_target: SloTarget,
    /// Per-service targets. Services named here are always reported, with `no_data` when
    /// Prometheus has nothing for them.
    pub overrides: BTreeMap<String, SloTarget>,
}

impl SlaPolicy {
    /// The target of `service`.
    pub fn target(&self, service: &str) -> SloTarget {
        self.overrides
            .get(service)
            .copied()
            .unwrap_or(self.default_target)
    }
}

/// What Prometheus said about the period, keyed by service. Values may be `NaN` or infinite.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measurements {
    /// Requests over the period.
    pub total: BTreeMap<String, f64>,
    /// Error requests over the period.
    pub errors: BTreeMap<String, f64>,
    /// Latency quantiles over the period, in seconds.
    pub p50: BTreeMap<String, f64>,
    /// See `p50`.
    pub p95: BTreeMap<String, f64>,
    /// See `p50`.
    pub p99: BTreeMap<String, f64>,
    /// Requests per hour: `(hour end as unix seconds, value)`.
    pub hourly_total: BTreeMap<String, Vec<(i64, f64)>>,
    /// Error requests per hour, as `hourly_total`.
    pub hourly_errors: BTreeMap<String, Vec<(i64, f64)>>,
    /// p99 latency per hour in seconds, as `hourly_total`.
    pub hourly_p99: BTreeMap<String, Vec<(i64, f64)>>,
}

/// Whether a service met its SLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SloStatus {
    /// Availability at or above the target.
    Met,
    /// Availability below the target.
    Breached,
    /// No traffic or no usable data: nothing can be said.
    NoData,
}

/// The report period as written in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodSummary {
    /// The calendar day, `YYYY-MM-DD`.
    pub date: String,
    /// The first instant, RFC 3339 in UTC.
    pub start: String,
    /// The first instant after the period, RFC 3339 in UTC.
    pub end: String,
    /// The IANA time zone whose day this is.
    pub time_zone: String,
    /// `end − start` in seconds (82800, 86400 or 90000 around DST changes).
    pub duration_seconds: u64,
}

/// Latency quantiles in milliseconds; `null` where there is no histogram data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencyMs {
    /// Median.
    pub p50: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
}

/// A service's SLO outcome and error budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SloOutcome {
    /// The target that applied.
    pub target: SloTarget,
    /// The verdict.
    pub status: SloStatus,
    /// Error requests the target allowed over the period: (1 − target) × total.
    pub error_budget_allowed: Option<f64>,
    /// The fraction of the budget used: errors / allowed.
    pub error_budget_consumed: Option<f64>,
    /// The fraction left: 1 − consumed; negative when overspent.
    pub error_budget_remaining: Option<f64>,
    /// (errors / total) / (1 − target).
    pub burn_rate: Option<f64>,
    /// The SLO over its window (`SLO_WINDOW`), from the ledger of daily reports; `null` only
    /// with an SLO document, whose SLOs are in the service's `slos`.
    pub window: Option<WindowFigures>,
}

/// One hour of a service's day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HourlyPoint {
    /// The end of the hour, RFC 3339 in UTC.
    pub end: String,
    /// Requests in the hour.
    pub total_requests: Option<f64>,
    /// Availability in the hour.
    pub availability: Option<f64>,
    /// p99 latency in the hour, in milliseconds.
    pub p99_ms: Option<f64>,
}

/// One service's line of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceReport {
    /// The service label's value.
    pub service: String,
    /// Requests over the period.
    pub total_requests: Option<f64>,
    /// Error requests over the period.
    pub error_requests: Option<f64>,
    /// 1 − errors / total.
    pub availability: Option<f64>,
    /// Latency quantiles.
    pub latency_ms: LatencyMs,
    /// SLO outcome and error budget.
    pub slo: SloOutcome,
    /// Every SLO of the service: the day's figures and its window's.
    pub slos: Vec<ServiceSlo>,
    /// The day hour by hour.
    pub hourly: Vec<HourlyPoint>,
}

/// The fleet at a glance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetSummary {
    /// Services in the report.
    pub services: usize,
    /// Services that met their SLO.
    pub met: usize,
    /// Services that breached their SLO.
    pub breached: usize,
    /// Services without data.
    pub no_data: usize,
    /// Requests over all services with data.
    pub total_requests: Option<f64>,
    /// Error requests over all services with data.
    pub error_requests: Option<f64>,
    /// 1 − errors / total over all services with data.
    pub availability: Option<f64>,
    /// Breached services, worst availability first.
    pub breached_services: Vec<String>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlaReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The period reported.
    pub period: PeriodSummary,
    /// The fleet summary.
    pub summary: FleetSummary,
    /// One entry per service, sorted by name.
    pub services: Vec<ServiceReport>,
    /// The SLOs that could not be measured, with why; the others are reported.
    pub slo_errors: Vec<SloError>,
}

/// A value that means something: finite, and not negative where counts are concerned.
fn usable(value: Option<&f64>) -> Option<f64> {
    value.copied().filter(|v| v.is_finite())
}

fn count(value: Option<&f64>) -> Option<f64> {
    usable(value).map(|v| v.max(0.0))
}

fn availability(total: Option<f64>, errors: Option<f64>) -> Option<(f64, f64, f64)> {
    let total = total.filter(|t| *t > 0.0)?;
    // Requests without any error series mean no errors; errors beyond the total (edge
    // extrapolation at unaligned times) cannot make availability negative.
    let errors = errors.unwrap_or(0.0).min(total);
    Some((total, errors, 1.0 - errors / total))
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn series_at(series: Option<&Vec<(i64, f64)>>, at: i64) -> Option<f64> {
    series?
        .iter()
        .find(|(time, _)| *time == at)
        .map(|(_, value)| *value)
}

fn milliseconds(seconds: Option<f64>) -> Option<f64> {
    seconds.filter(|s| *s >= 0.0).map(|s| s * 1000.0)
}

fn service_report(
    service: &str,
    measurements: &Measurements,
    policy: &SlaPolicy,
    hour_ends: &[DateTime<Utc>],
) -> ServiceReport {
    let target = policy.target(service);
    let figures = availability(
        count(measurements.total.get(service)),
        count(measurements.errors.get(service)),
    );
    let allowed_ratio = 1.0 - target.value();
    let slo = match figures {
        Some((total, errors, availability)) => {
            let allowed = allowed_ratio * total;
            let consumed = errors / allowed;
            SloOutcome {
                target,
                status: if availability >= target.value() {
                    SloStatus::Met
                } else {
                    SloStatus::Breached
                },
                error_budget_allowed: Some(allowed),
                error_budget_consumed: Some(consumed),
                error_budget_remaining: Some(1.0 - consumed),
                burn_rate: Some((errors / total) / allowed_ratio),
                window: None,
            }
        }
        None => SloOutcome {
            target,
            status: SloStatus::NoData,
            error_budget_allowed: None,
            error_budget_consumed: None,
            error_budget_remaining: None,
            burn_rate: None,
            window: None,
        },
    };
    let latency = |quantiles: &BTreeMap<String, f64>| {
        figures.and(milliseconds(usable(quantiles.get(service))))
    };
    let hourly = hour_ends
        .iter()
        .map(|end| {
            let at = end.timestamp();
            let hour = availability(
                series_at(measurements.hourly_total.get(service), at)
                    .filter(|v| v.is_finite())
                    .map(|v| v.max(0.0)),
                series_at(measurements.hourly_errors.get(service), at)
                    .filter(|v| v.is_finite())
                    .map(|v| v.max(0.0)),
            );
            HourlyPoint {
                end: rfc3339(*end),
                total_requests: hour.map(|(total, _, _)| total),
                availability: hour.map(|(_, _, availability)| availability),
                p99_ms: hour.and(milliseconds(
                    series_at(measurements.hourly_p99.get(service), at).filter(|v| v.is_finite()),
                )),
            }
        })
        .collect();
    ServiceReport {
        service: service.to_owned(),
        total_requests: figures.map(|(total, _, _)| total),
        error_requests: figures.map(|(_, errors, _)| errors),
        availability: figures.map(|(_, _, availability)| availability),
        latency_ms: LatencyMs {
            p50: latency(&measurements.p50),
            p95: latency(&measurements.p95),
            p99: latency(&measurements.p99),
        },
        slo,
        slos: Vec::new(),
        hourly,
    }
}

/// Builds the report for `period` from what Prometheus returned.
///
/// Services are every service seen in any measurement plus every service with a target
/// override; series without a service name (an empty label) are not a service.
pub fn build_report(
    period: &ReportPeriod,
    measurements: &Measurements,
    policy: &SlaPolicy,
) -> SlaReport {
    let names: BTreeSet<&str> = [
        &measurements.total,
        &measurements.errors,
        &measurements.p50,
        &measurements.p95,
        &measurements.p99,
    ]
    .into_iter()
    .flat_map(BTreeMap::keys)
    .chain(measurements.hourly_total.keys())
    .chain(policy.overrides.keys())
    .map(String::as_str)
    .filter(|name| !name.is_empty())
    .collect();
    let hour_ends = period.hour_ends();
    let services: Vec<ServiceReport> = names
        .into_iter()
        .map(|service| service_report(service, measurements, policy, &hour_ends))
        .collect();
    SlaReport {
        schema_version: SCHEMA_VERSION,
        period: PeriodSummary {
            date: period.date.format("%Y-%m-%d").to_string(),
            start: rfc3339(period.start),
            end: rfc3339(period.end),
            time_zone: period.time_zone.name().to_owned(),
            duration_seconds: period.seconds(),
        },
        summary: summarise(&services),
        services,
        slo_errors: Vec::new(),
    }
}

fn summarise(services: &[ServiceReport]) -> FleetSummary {
    let with_status = |status| services.iter().filter(|s| s.slo.status == status).count();
    let reported: Vec<&ServiceReport> = services
        .iter()
        .filter(|s| s.slo.status != SloStatus::NoData)
        .collect();
    let total: f64 = reported.iter().filter_map(|s| s.total_requests).sum();
    let errors: f64 = reported.iter().filter_map(|s| s.error_requests).sum();
    let fleet = availability((!reported.is_empty()).then_some(total), Some(errors));
    let mut breached: Vec<&ServiceReport> = services
        .iter()
        .filter(|s| s.slo.status == SloStatus::Breached)
        .collect();
    breached.sort_by(|a, b| {
        a.availability
            .partial_cmp(&b.availability)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.service.cmp(&b.service))
    });
    FleetSummary {
        services: services.len(),
        met: with_status(SloStatus::Met),
        breached: with_status(SloStatus::Breached),
        no_data: with_status(SloStatus::NoData),
        total_requests: fleet.map(|(total, _, _)| total),
        error_requests: fleet.map(|(_, errors, _)| errors),
        availability: fleet.map(|(_, _, availability)| availability),
        breached_services: breached.iter().map(|s| s.service.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn period() -> ReportPeriod {
        ReportPeriod::for_date(
            NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid"),
            chrono_tz::Tz::UTC,
        )
        .expect("valid")
    }

    fn policy() -> SlaPolicy {
        SlaPolicy {
            default_target: SloTarget::try_from(0.999).expect("valid"),
            overrides: BTreeMap::new(),
        }
    }

    fn map(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    fn report_for(measurements: &Measurements) -> SlaReport {
        build_report(&period(), measurements, &policy())
    }

    fn service<'a>(report: &'a SlaReport, name: &str) -> &'a ServiceReport {
        report
            .services
            .iter()
            .find(|s| s.service == name)
            .expect("service in report")
    }

    #[test]
    fn targets_must_lie_strictly_between_zero_and_one() {
        for (value, valid) in [
            (0.999, true),
            (0.5, true),
            (0.0, false),
            (1.0, false),
            (1.5, false),
            (f64::NAN, false),
            (-0.1, false),
        ] {
            assert_eq!(SloTarget::try_from(value).is_ok(), valid, "{value}");
        }
    }

    #[test]
    fn availability_and_budget_follow_the_documented_formulas() {
        let measurements = Measurements {
            total: map(&[("api", 100_000.0)]),
            errors: map(&[("api", 50.0)]),
            p99: map(&[("api", 0.25)]),
            ..Measurements::default()
        };
        let report = report_for(&measurements);
        let api = service(&report, "api");
        assert_eq!(api.availability, Some(1.0 - 50.0 / 100_000.0));
        assert_eq!(api.slo.status, SloStatus::Met);
        let allowed = api.slo.error_budget_allowed.expect("allowed");
        assert!((allowed - 100.0).abs() < 1e-9, "{allowed}");
        assert!((api.slo.error_budget_consumed.expect("consumed") - 0.5).abs() < 1e-9);
        assert!((api.slo.error_budget_remaining.expect("remaining") - 0.5).abs() < 1e-9);
        assert!((api.slo.burn_rate.expect("burn") - 0.5).abs() < 1e-9);
        assert_eq!(api.latency_ms.p99, Some(250.0));
        assert_eq!(api.latency_ms.p50, None);
    }

    #[test]
    fn an_overspent_budget_is_negative_and_breached() {
        let measurements = Measurements {
            total: map(&[("api", 1_000.0)]),
            errors: map(&[("api", 3.0)]),
            ..Measurements::default()
        };
        let api = service(&report_for(&measurements), "api").clone();
        assert_eq!(api.slo.status, SloStatus::Breached);
        assert!((api.slo.error_budget_remaining.expect("remaining") + 2.0).abs() < 1e-9);
        assert!((api.slo.burn_rate.expect("burn") - 3.0).abs() < 1e-9);
    }

    #[test]
    fn no_data_is_never_zero_or_full_availability() {
        let cases = [
            ("no traffic", Some(0.0), Some(0.0)),
            ("not a number", Some(f64::NAN), None),
            ("infinite", Some(f64::INFINITY), Some(1.0)),
            ("errors but no request series", None, Some(5.0)),
        ];
        for (name, total, errors) in cases {
            let mut measurements = Measurements::default();
            if let Some(total) = total {
                measurements.total.insert("svc".into(), total);
            }
            if let Some(errors) = errors {
                measurements.errors.insert("svc".into(), errors);
            }
            measurements.p99.insert("svc".into(), 0.1);
            let report = report_for(&measurements);
            let svc = service(&report, "svc");
            assert_eq!(svc.slo.status, SloStatus::NoData, "{name}");
            assert_eq!(svc.availability, None, "{name}");
            assert_eq!(svc.total_requests, None, "{name}");
            assert_eq!(svc.latency_ms.p99, None, "{name}");
            assert_eq!(svc.slo.error_budget_remaining, None, "{name}");
            assert_eq!(report.summary.no_data, 1, "{name}");
            assert_eq!(report.summary.availability, None, "{name}");
        }
    }

    #[test]
    fn requests_without_error_series_have_no_errors() {
        let measurements = Measurements {
            total: map(&[("quiet", 10.0)]),
            ..Measurements::default()
        };
        let quiet = service(&report_for(&measurements), "quiet").clone();
        assert_eq!(
            (quiet.error_requests, quiet.availability),
            (Some(0.0), Some(1.0))
        );
        assert_eq!(quiet.slo.status, SloStatus::Met);
    }

    #[test]
    fn overrides_apply_and_name_services_that_must_appear() {
        let mut policy = policy();
        policy.overrides.insert(
            "payments".into(),
            SloTarget::try_from(0.9999).expect("valid"),
        );
        policy
            .overrides
            .insert("ghost".into(), SloTarget::try_from(0.99).expect("valid"));
        let measurements = Measurements {
            total: map(&[("payments", 10_000.0), ("", 5.0)]),
            errors: map(&[("payments", 2.0)]),
            ..Measurements::default()
        };
        let report = build_report(&period(), &measurements, &policy);
        let names: Vec<&str> = report.services.iter().map(|s| s.service.as_str()).collect();
        assert_eq!(names, ["ghost", "payments"]);
        assert_eq!(service(&report, "payments").slo.status, SloStatus::Breached);
        assert_eq!(service(&report, "ghost").slo.status, SloStatus::NoData);
        assert_eq!(report.summary.breached_services, ["payments"]);
    }

    #[test]
    fn the_fleet_summary_adds_up_services_with_data() {
        let measurements = Measurements {
            total: map(&[("a", 1_000.0), ("b", 3_000.0), ("c", 0.0)]),
            errors: map(&[("a", 10.0), ("b", 2.0)]),
            ..Measurements::default()
        };
        let summary = report_for(&measurements).summary;
        // a: 99.0 % breaches 99.9 %; b: 99.933 % meets it; c has no traffic.
        assert_eq!(
            (
                summary.services,
                summary.met,
                summary.breached,
                summary.no_data
            ),
            (3, 1, 1, 1)
        );
        assert_eq!(summary.total_requests, Some(4_000.0));
        assert_eq!(summary.availability, Some(1.0 - 12.0 / 4_000.0));
        assert_eq!(summary.breached_services, ["a"]);
    }

    #[test]
    fn hours_line_up_with_the_period_and_gaps_stay_gaps() {
        let period = period();
        let first = period.hour_ends()[0].timestamp();
        let second = period.hour_ends()[1].timestamp();
        let measurements = Measurements {
            total: map(&[("api", 100.0)]),
            hourly_total: [("api".to_owned(), vec![(first, 60.0), (second, 0.0)])].into(),
            hourly_errors: [("api".to_owned(), vec![(first, 6.0)])].into(),
            hourly_p99: [("api".to_owned(), vec![(first, 0.5), (second, f64::NAN)])].into(),
            ..Measurements::default()
        };
        let report = build_report(&period, &measurements, &policy());
        let hourly = &service(&report, "api").hourly;
        assert_eq!(hourly.len(), 24);
        assert_eq!(hourly[0].end, "2026-11-23T01:00:00Z");
        assert_eq!(hourly[0].availability, Some(0.9));
        assert_eq!(hourly[0].p99_ms, Some(500.0));
        assert_eq!((hourly[1].availability, hourly[1].p99_ms), (None, None));
        assert_eq!(hourly[23].total_requests, None);
    }

    #[test]
    fn the_json_carries_the_contracted_field_names() {
        let measurements = Measurements {
            total: map(&[("api", 100.0)]),
            ..Measurements::default()
        };
        let json = serde_json::to_value(report_for(&measurements)).expect("serialises");
        assert_eq!(json["schema_version"], 2);
        assert_eq!(json["period"]["time_zone"], "UTC");
        assert_eq!(json["period"]["start"], "2026-11-23T00:00:00Z");
        let api = &json["services"][0];
        for field in [
            "service",
            "total_requests",
            "error_requests",
            "availability",
        ] {
            assert!(api.get(field).is_some(), "{field}");
        }
        for quantile in ["p50", "p95", "p99"] {
            assert!(api["latency_ms"].get(quantile).is_some(), "{quantile}");
        }
        assert_eq!(api["slo"]["target"], 0.999);
        assert_eq!(api["slo"]["status"], "met");
        assert!(api["slo"]["error_budget_remaining"].is_number());
        assert!(api["latency_ms"]["p50"].is_null());
        assert!(api["slo"].get("window").is_some());
        assert!(api["slos"].is_array());
    }
}
