//! The report's queries: a fixed set of eight grouped queries whatever the number of services
//! (five instant queries pinned at the end of the period, three hourly range queries), and
//! how their results become the report's [`Measurements`].

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::figures::Measurements;
use super::period::ReportPeriod;
use crate::conventions::MetricConventions;
use crate::promql::{self, RangeSeconds};
use crate::series::{Sample, Series};

/// The PromQL of each query, grouped by the service label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queries {
    /// Requests over the period.
    pub total: String,
    /// Error requests over the period.
    pub errors: String,
    /// Median latency over the period.
    pub p50: String,
    /// 95th-percentile latency over the period.
    pub p95: String,
    /// 99th-percentile latency over the period.
    pub p99: String,
    /// Requests per hour.
    pub hourly_total: String,
    /// Error requests per hour.
    pub hourly_errors: String,
    /// 99th-percentile latency per hour.
    pub hourly_p99: String,
}

/// How many queries a report issues.
pub const QUERY_COUNT: usize = 8;

impl Queries {
    /// The queries for `period` under the metric `conventions`.
    pub fn new(conventions: &MetricConventions, period: &ReportPeriod) -> Self {
        let by = [&conventions.service_label];
        let requests = conventions.requests();
        let errors = conventions.errors();
        let buckets = conventions.latency_buckets();
        let day = RangeSeconds(period.seconds());
        let hour = RangeSeconds(3600);
        Self {
            total: promql::sum_increase_by(&by, &requests, day),
            errors: promql::sum_increase_by(&by, &errors, day),
            p50: promql::histogram_quantile_by(0.5, &by, &buckets, day),
            p95: promql::histogram_quantile_by(0.95, &by, &buckets, day),
            p99: promql::histogram_quantile_by(0.99, &by, &buckets, day),
            hourly_total: promql::sum_increase_by(&by, &requests, hour),
            hourly_errors: promql::sum_increase_by(&by, &errors, hour),
            hourly_p99: promql::histogram_quantile_by(0.99, &by, &buckets, hour),
        }
    }
}

/// Where the hourly queries are evaluated: the end of each hour of the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourlyRange {
    /// The end of the first hour.
    pub start: DateTime<Utc>,
    /// The end of the period.
    pub end: DateTime<Utc>,
    /// One hour.
    pub step: Duration,
}

impl HourlyRange {
    /// The hourly evaluation times of `period`.
    pub fn of(period: &ReportPeriod) -> Self {
        Self {
            start: period.start + chrono::Duration::hours(1),
            end: period.end,
            step: Duration::from_hours(1),
        }
    }
}

/// What the queries returned, query by query.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Results {
    /// [`Queries::total`]'s samples.
    pub total: Vec<Sample>,
    /// [`Queries::errors`]'s samples.
    pub errors: Vec<Sample>,
    /// [`Queries::p50`]'s samples.
    pub p50: Vec<Sample>,
    /// [`Queries::p95`]'s samples.
    pub p95: Vec<Sample>,
    /// [`Queries::p99`]'s samples.
    pub p99: Vec<Sample>,
    /// [`Queries::hourly_total`]'s series.
    pub hourly_total: Vec<Series>,
    /// [`Queries::hourly_errors`]'s series.
    pub hourly_errors: Vec<Series>,
    /// [`Queries::hourly_p99`]'s series.
    pub hourly_p99: Vec<Series>,
}

impl Results {
    /// The results by service, the service named by the label `service_label`.
    pub fn into_measurements(self, service_label: &str) -> Measurements {
        let label = service_label;
        Measurements {
            total: by_service(label, self.total),
            errors: by_service(label, self.errors),
            p50: by_service(label, self.p50),
            p95: by_service(label, self.p95),
            p99: by_service(label, self.p99),
            hourly_total: series_by_service(label, self.hourly_total),
            hourly_errors: series_by_service(label, self.hourly_errors),
            hourly_p99: series_by_service(label, self.hourly_p99),
        }
    }
}

fn by_service(label: &str, samples: Vec<Sample>) -> BTreeMap<String, f64> {
    samples
        .into_iter()
        .map(|mut sample| {
            (
                sample.labels.remove(label).unwrap_or_default(),
                sample.value,
            )
        })
        .collect()
}

/// Range results are on the hourly grid: whole seconds, far inside `i64`.
#[allow(clippy::cast_possible_truncation)]
fn whole_seconds(time: f64) -> i64 {
    time.round() as i64
}

fn series_by_service(label: &str, series: Vec<Series>) -> BTreeMap<String, Vec<(i64, f64)>> {
    series
        .into_iter()
        .map(|mut series| {
            let points = series
                .points
                .iter()
                .map(|(time, value)| (whole_seconds(time), value))
                .collect();
            (series.labels.remove(label).unwrap_or_default(), points)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Env;

    #[test]
    #[allow(clippy::float_cmp)]
    fn results_are_keyed_by_the_service_label_and_hours_by_their_end() {
        let sample = |service: &str, value| Sample {
            labels: [("service".to_owned(), service.to_owned())].into(),
            value,
        };
        let results = Results {
            total: vec![sample("api", 10.0), sample("web", f64::NAN)],
            hourly_total: vec![Series {
                labels: [("service".to_owned(), "api".to_owned())].into(),
                points: [(3600.0, 4.0), (7200.0, 6.0)].into_iter().collect(),
            }],
            ..Results::default()
        };
        let measurements = results.into_measurements("service");
        assert_eq!(measurements.total["api"], 10.0);
        assert!(measurements.total["web"].is_nan(), "no data stays no data");
        assert_eq!(measurements.hourly_total["api"], [(3600, 4.0), (7200, 6.0)]);
        assert!(measurements.errors.is_empty());
    }

    #[test]
    fn a_dst_day_queries_its_own_length_and_hours() {
        let conventions = MetricConventions::from_env(&Env::default()).expect("defaults");
        let date = chrono::NaiveDate::from_ymd_opt(2026, 10, 25).expect("date");
        let period = ReportPeriod::for_date(date, chrono_tz::Europe::Berlin).expect("period");
        let queries = Queries::new(&conventions, &period);
        assert!(queries.total.contains("[90000s]"), "{}", queries.total);
        assert!(
            queries.hourly_total.contains("[3600s]"),
            "{}",
            queries.hourly_total
        );
        let hours = HourlyRange::of(&period);
        assert_eq!((hours.end - hours.start).num_hours(), 24, "25 hour ends");
    }
}
