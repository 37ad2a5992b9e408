//! Synthetic Prometheus history whose ground truth is known exactly.
//!
//! [`History`] describes services minute by minute: request counts by status and latency
//! histogram buckets, drawn from a seeded generator so every run writes the same data.
//! [`History::write_openmetrics`] writes it for `promtool tsdb create-blocks-from openmetrics`
//! (timestamps in seconds, each series in time order, `# EOF` at the end), and
//! [`History::truth`] sums the same increments over any `(from, to]` window, which is what
//! `increase()` over a closed `[from, to]` range returns when both ends are on the step.
//!
//! Every series exists from the first sample (counters start at 0), so no increase is lost
//! to a series appearing mid-window; one service's counters reset once, as after a restart.

pub mod runtime_api;

use std::collections::BTreeMap;
use std::io::{self, Write};

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone as _, Utc};

/// Status codes generated; `5..` are errors.
pub const STATUSES: [&str; 4] = ["200", "404", "500", "503"];
/// Histogram bucket upper bounds in seconds; `+Inf` follows.
pub const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// A service's traffic shape.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    /// The `service` label's value.
    pub name: String,
    /// Mean requests per step; 0 gives a service whose counters exist but never move.
    pub requests_per_step: f64,
    /// The share of requests answered with a 5xx.
    pub error_ratio: f64,
    /// The typical latency in seconds.
    pub latency_seconds: f64,
    /// Periods that differ from the usual shape.
    pub incidents: Vec<Incident>,
    /// A counter reset (process restart) at this instant.
    pub reset_at: Option<DateTime<Utc>>,
    /// Steps in `(from, from + length]` write no sample and count nothing: the service stopped
    /// reporting.
    pub silent: Option<(DateTime<Utc>, Duration)>,
}

/// A period in which a service behaves differently; steps in `(from, from + length]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    /// The instant before the first affected step.
    pub from: DateTime<Utc>,
    /// How long it lasts.
    pub length: Duration,
    /// The error ratio during the incident, if it changes.
    pub error_ratio: Option<f64>,
    /// The typical latency during the incident, if it changes.
    pub latency_seconds: Option<f64>,
    /// Requests are multiplied by this during the incident.
    pub traffic_factor: f64,
    /// The latency climbs linearly to `latency_seconds` instead of jumping there.
    pub drift: bool,
}

impl Incident {
    /// An incident that changes nothing yet: set the fields that matter.
    pub fn at(from: DateTime<Utc>, length: Duration) -> Self {
        Self {
            from,
            length,
            error_ratio: None,
            latency_seconds: None,
            traffic_factor: 1.0,
            drift: false,
        }
    }
}

/// Counts generated for one service in one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepCounts {
    /// Requests by [`STATUSES`].
    pub by_status: [u64; 4],
    /// Observations per bucket (not cumulative): one per [`BUCKETS`] entry, then `+Inf`.
    pub per_bucket: [u64; 11],
}

/// What Prometheus should report for one service over a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Truth {
    /// Requests.
    pub total: f64,
    /// 5xx requests.
    pub errors: f64,
    /// Cumulative bucket counts, as `histogram_quantile` sees them, `+Inf` last.
    pub cumulative_buckets: [f64; 11],
}

impl Truth {
    /// The quantile by Prometheus' `histogram_quantile` rule: linear interpolation inside the
    /// bucket holding the rank; `None` without observations.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let count = self.cumulative_buckets[10];
        if count <= 0.0 {
            return None;
        }
        let rank = q * count;
        let index = self.cumulative_buckets.iter().position(|c| *c >= rank)?;
        if index == BUCKETS.len() {
            return Some(BUCKETS[BUCKETS.len() - 1]);
        }
        let (lower, below) = if index == 0 {
            (0.0, 0.0)
        } else {
            (BUCKETS[index - 1], self.cumulative_buckets[index - 1])
        };
        let in_bucket = self.cumulative_buckets[index] - below;
        Some(lower + (BUCKETS[index] - lower) * ((rank - below) / in_bucket))
    }
}

/// A whole history: services over `[start, start + steps × step]`.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// The first sample's time, on the step.
    pub start: DateTime<Utc>,
    /// The number of steps after the first sample.
    pub steps: i64,
    /// The step in seconds.
    pub step_seconds: i64,
    /// The services.
    pub services: Vec<ServiceSpec>,
    /// The generator's seed.
    pub seed: u64,
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A uniform number in `[0, 1)` for `(seed, a, b, c)`.
fn uniform(seed: u64, a: u64, b: u64, c: u64) -> f64 {
    let bits = splitmix(seed ^ splitmix(a ^ splitmix(b ^ splitmix(c))));
    (bits >> 11) as f64 / (1_u64 << 53) as f64
}

/// Rounds `value` down or up with the probability of its fraction (`u` uniform in `[0, 1)`),
/// so small expected counts such as 0.2 errors a minute still add up to the right total.
fn round_count(value: f64, u: f64) -> u64 {
    // Counts are small, non-negative and finite here.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let count = (value.max(0.0) + u).floor() as u64;
    count
}

impl History {
    /// The time of step `index`.
    pub fn time(&self, index: i64) -> DateTime<Utc> {
        self.start + Duration::seconds(index * self.step_seconds)
    }

    /// The increments of service `service` at step `index` (step 0 is the all-zero start).
    pub fn counts(&self, service: usize, index: i64) -> StepCounts {
        let spec = &self.services[service];
        if index == 0 || spec.requests_per_step <= 0.0 {
            return StepCounts::default();
        }
        let time = self.time(index);
        let (mut error_ratio, mut latency, mut traffic) =
            (spec.error_ratio, spec.latency_seconds, 1.0);
        for incident in &spec.incidents {
            if time > incident.from && time <= incident.from + incident.length {
                error_ratio = incident.error_ratio.unwrap_or(error_ratio);
                traffic = incident.traffic_factor;
                if let Some(target) = incident.latency_seconds {
                    latency = if incident.drift {
                        let progress = (time - incident.from).num_seconds() as f64
                            / incident.length.num_seconds() as f64;
                        latency + (target - latency) * progress
                    } else {
                        target
                    };
                }
            }
        }
        let key = |salt: u64| uniform(self.seed, service as u64, index.unsigned_abs(), salt);
        // A daily wave plus noise, so hours differ.
        let hour =
            f64::from(u32::try_from(time.timestamp().rem_euclid(86_400) / 3600).unwrap_or(0));
        let wave = 1.0 + 0.4 * (hour / 24.0 * std::f64::consts::TAU).sin();
        let requests = round_count(
            spec.requests_per_step * traffic * wave * (0.7 + 0.6 * key(1)),
            key(5),
        );
        let errors = round_count(requests as f64 * error_ratio, key(2));
        let errors = errors.min(requests);
        let not_found =
            round_count((requests - errors) as f64 * 0.01, key(3)).min(requests - errors);
        let ok = requests - errors - not_found;
        let errors_500 = errors / 2 + u64::from(key(4) < 0.5 && errors % 2 == 1);
        let mut counts = StepCounts {
            by_status: [ok, not_found, errors_500, errors - errors_500],
            per_bucket: [0; 11],
        };
        // Spread the observations around the typical latency across neighbouring buckets.
        let centre = BUCKETS
            .iter()
            .position(|b| *b >= latency)
            .unwrap_or(BUCKETS.len());
        let weights = [0.25, 0.6, 0.12, 0.025, 0.005];
        let mut left = requests;
        for (offset, weight) in weights.iter().enumerate() {
            let bucket = (centre + offset).saturating_sub(1).min(10);
            let share = if offset == weights.len() - 1 {
                left
            } else {
                round_count(requests as f64 * weight, key(10 + offset as u64)).min(left)
            };
            counts.per_bucket[bucket] += share;
            left -= share;
        }
        counts
    }

    /// The sums over steps whose time lies in `(from, to]`, per service name.
    pub fn truth(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> BTreeMap<String, Truth> {
        self.services
            .iter()
            .enumerate()
            .map(|(service, spec)| {
                let mut truth = Truth {
                    total: 0.0,
                    errors: 0.0,
                    cumulative_buckets: [0.0; 11],
                };
                for index in 1..=self.steps {
                    let time = self.time(index);
                    if time <= from || time > to {
                        continue;
                    }
                    let counts = self.counts(service, index);
                    truth.total += counts.by_status.iter().sum::<u64>() as f64;
                    truth.errors += (counts.by_status[2] + counts.by_status[3]) as f64;
                    let mut running = 0;
                    for (bucket, count) in counts.per_bucket.iter().enumerate() {
                        running += count;
                        truth.cumulative_buckets[bucket] += running as f64;
                    }
                }
                (spec.name.clone(), truth)
            })
            .collect()
    }

    /// Writes only each service's `status="200"` request counter: one series per service,
    /// for benchmarks with many series.
    ///
    /// # Errors
    /// Any write error.
    pub fn write_request_counters(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(out, "# TYPE http_requests counter")?;
        for (service, spec) in self.services.iter().enumerate() {
            let labels = format!("service=\"{}\",status=\"200\"", escape(&spec.name));
            self.write_series(out, "http_requests_total", &labels, service, |c| {
                c.by_status[0]
            })?;
        }
        writeln!(out, "# EOF")
    }

    /// Writes the history as OpenMetrics text for promtool.
    ///
    /// # Errors
    /// Any write error.
    pub fn write_openmetrics(&self, out: &mut impl Write) -> io::Result<()> {
        write_histories(&[self], out)
    }

    fn write_series(
        &self,
        out: &mut impl Write,
        metric: &str,
        labels: &str,
        service: usize,
        increment: impl Fn(&StepCounts) -> u64,
    ) -> io::Result<()> {
        let reset_at = self.services[service].reset_at;
        let mut value = 0_u64;
        let silent = self.services[service].silent;
        for index in 0..=self.steps {
            let time = self.time(index);
            if silent.is_some_and(|(from, length)| time > from && time <= from + length) {
                continue;
            }
            if reset_at == Some(time) {
                value = 0;
            }
            value += increment(&self.counts(service, index));
            writeln!(out, "{metric}{{{labels}}} {value} {}", time.timestamp())?;
        }
        Ok(())
    }
}

/// Writes several histories (with distinct service names) as one OpenMetrics text: each metric
/// family once, holding every history's series.
///
/// # Errors
/// Any write error.
pub fn write_histories(histories: &[&History], out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "# TYPE http_requests counter")?;
    for history in histories {
        for (service, spec) in history.services.iter().enumerate() {
            for (status_index, status) in STATUSES.iter().enumerate() {
                let labels = format!("service=\"{}\",status=\"{status}\"", escape(&spec.name));
                history.write_series(out, "http_requests_total", &labels, service, |c| {
                    c.by_status[status_index]
                })?;
            }
        }
    }
    writeln!(out, "# TYPE http_request_duration_seconds histogram")?;
    for history in histories {
        for (service, spec) in history.services.iter().enumerate() {
            for bucket in 0..=BUCKETS.len() {
                let le = BUCKETS
                    .get(bucket)
                    .map_or_else(|| "+Inf".to_owned(), f64::to_string);
                let labels = format!("service=\"{}\",le=\"{le}\"", escape(&spec.name));
                history.write_series(
                    out,
                    "http_request_duration_seconds_bucket",
                    &labels,
                    service,
                    |c| c.per_bucket[..=bucket].iter().sum(),
                )?;
            }
            let labels = format!("service=\"{}\"", escape(&spec.name));
            history.write_series(
                out,
                "http_request_duration_seconds_count",
                &labels,
                service,
                |c| c.per_bucket.iter().sum(),
            )?;
        }
    }
    writeln!(out, "# EOF")
}

/// Escapes an OpenMetrics label value.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A service whose name needs escaping everywhere: quotes, backslash, braces, newline, unicode.
pub const HOSTILE_SERVICE: &str = "edge \"eu\" \\ {1}\nwest ✓";

/// The history the integration tests load: three days of one-minute steps from
/// 2026-11-01T00:00Z, with busy, quiet, idle, resetting and hostile-named services.
pub fn test_history() -> History {
    let start = DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default();
    let service = |name: &str, requests: f64, errors: f64, latency: f64| ServiceSpec {
        name: name.to_owned(),
        requests_per_step: requests,
        error_ratio: errors,
        latency_seconds: latency,
        incidents: Vec::new(),
        reset_at: None,
        silent: None,
    };
    let mut payments = service("payments", 120.0, 0.0002, 0.08);
    payments.reset_at = Some(start + Duration::days(1) + Duration::minutes(13 * 60 + 37));
    let mut search = service("search", 400.0, 0.0005, 0.03);
    search.incidents.push(Incident {
        error_ratio: Some(0.05),
        latency_seconds: Some(0.6),
        ..Incident::at(
            start + Duration::days(1) + Duration::hours(9),
            Duration::hours(2),
        )
    });
    // The anomaly check's day: one incident of each kind on its own service, calm elsewhere.
    let day3 = start + Duration::days(2);
    let mut api = service("api", 300.0, 0.0005, 0.05);
    api.incidents.push(Incident {
        error_ratio: Some(0.08),
        ..Incident::at(day3 + Duration::hours(10), Duration::minutes(20))
    });
    let mut catalog = service("catalog", 250.0, 0.0005, 0.04);
    catalog.incidents.push(Incident {
        latency_seconds: Some(0.9),
        ..Incident::at(day3 + Duration::hours(11), Duration::minutes(30))
    });
    let mut cart = service("cart", 200.0, 0.0005, 0.06);
    cart.incidents.push(Incident {
        traffic_factor: 0.2,
        ..Incident::at(day3 + Duration::hours(12), Duration::minutes(30))
    });
    let mut reports = service("reports", 150.0, 0.0005, 0.05);
    reports.incidents.push(Incident {
        latency_seconds: Some(1.5),
        drift: true,
        ..Incident::at(day3 + Duration::hours(13), Duration::hours(2))
    });
    History {
        start,
        steps: 3 * 1440,
        step_seconds: 60,
        services: vec![
            service("checkout", 200.0, 0.0008, 0.12),
            search,
            payments,
            service("idle", 0.0, 0.0, 0.1),
            service(HOSTILE_SERVICE, 30.0, 0.01, 0.2),
            api,
            catalog,
            cart,
            reports,
            service("web", 400.0, 0.0005, 0.03),
        ],
        seed: 7,
    }
}

/// The time zone of [`ledger_history`]'s days.
pub const LEDGER_TIME_ZONE: chrono_tz::Tz = chrono_tz::Europe::Berlin;

/// The first and last day of [`ledger_history`] in [`LEDGER_TIME_ZONE`].
pub const LEDGER_DAYS: (NaiveDate, NaiveDate) = (
    NaiveDate::from_ymd_opt(2026, 2, 25).expect("a date"),
    NaiveDate::from_ymd_opt(2026, 4, 2).expect("a date"),
);

/// The day of `ledger-a`'s outage in [`ledger_history`].
pub const LEDGER_OUTAGE_DAY: NaiveDate = NaiveDate::from_ymd_opt(2026, 3, 10).expect("a date");

/// The instant `date` begins in [`LEDGER_TIME_ZONE`].
pub fn ledger_midnight(date: NaiveDate) -> DateTime<Utc> {
    LEDGER_TIME_ZONE
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// The share of requests that fail in `ledger-a` (`base` 0.002) and `ledger-b` (0.001) on the
/// `index`-th day of [`ledger_history`]: it differs from day to day, up to 6 × base.
pub fn ledger_error_ratio(base: f64, index: u64) -> f64 {
    base * [1.0, 3.0, 0.5, 6.0, 2.0][usize::try_from(index % 5).unwrap_or(0)]
}

/// Five weeks of two services for the SLO ledger's test, [`LEDGER_DAYS`] in Europe/Berlin (the
/// spring DST change of 2026-03-29 inside), at five-minute steps: each day has its own error
/// ratio ([`ledger_error_ratio`]) and `ledger-a` an outage, half its requests failing, from
/// 09:00 to 15:00 on 2026-03-10.
pub fn ledger_history() -> History {
    let (first, last) = LEDGER_DAYS;
    let start = ledger_midnight(first);
    let end = ledger_midnight(last + Duration::days(1));
    let daily = |base: f64| -> Vec<Incident> {
        first
            .iter_days()
            .take_while(|day| *day <= last)
            .zip(0..)
            .map(|(day, index)| {
                let from = ledger_midnight(day);
                Incident {
                    error_ratio: Some(ledger_error_ratio(base, index)),
                    ..Incident::at(from, ledger_midnight(day + Duration::days(1)) - from)
                }
            })
            .collect()
    };
    let mut a = ServiceSpec {
        name: "ledger-a".to_owned(),
        requests_per_step: 500.0,
        error_ratio: 0.002,
        latency_seconds: 0.08,
        incidents: daily(0.002),
        reset_at: None,
        silent: None,
    };
    a.incidents.push(Incident {
        error_ratio: Some(0.5),
        ..Incident::at(
            ledger_midnight(LEDGER_OUTAGE_DAY) + Duration::hours(9),
            Duration::hours(6),
        )
    });
    let b = ServiceSpec {
        name: "ledger-b".to_owned(),
        requests_per_step: 200.0,
        error_ratio: 0.001,
        latency_seconds: 0.2,
        incidents: daily(0.001),
        reset_at: None,
        silent: None,
    };
    History {
        start,
        steps: (end - start).num_seconds() / 300,
        step_seconds: 300,
        services: vec![a, b],
        seed: 11,
    }
}

/// The instant `burn-gone` of [`burn_history`] stops reporting, for 30 minutes.
pub const GONE_FROM: &str = "2026-06-04T12:00:00Z";

/// The instant [`burn_history`]'s fast error burst begins (it lasts 20 minutes).
pub const BURN_FAST_FROM: &str = "2026-06-04T10:00:00Z";

/// Four days of three services at one-minute steps from 2026-06-01 for the SLO burn-rate
/// alerts, each at 0.02 % errors (a burn of 0.2 against a 99.9 % objective) but for:
/// `burn-slow`, 0.4 % (a burn of 4) for two days from 06:00 on 2026-06-01; `burn-fast`, 10 %
/// (a burn of 100) for 20 minutes from [`BURN_FAST_FROM`]; `burn-quiet`, the same burst
/// at half a request a minute, too few events for any rule; and `burn-gone`, which writes no
/// sample for 30 minutes from [`GONE_FROM`].
pub fn burn_history() -> History {
    let at = |text: &str| {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    };
    let service = |name: &str, requests: f64, incident: Incident| ServiceSpec {
        name: name.to_owned(),
        requests_per_step: requests,
        error_ratio: 0.0002,
        latency_seconds: 0.05,
        incidents: vec![incident],
        reset_at: None,
        silent: None,
    };
    let burst = Incident {
        error_ratio: Some(0.1),
        ..Incident::at(at(BURN_FAST_FROM), Duration::minutes(20))
    };
    let slow = Incident {
        error_ratio: Some(0.004),
        ..Incident::at(at("2026-06-01T06:00:00Z"), Duration::hours(48))
    };
    History {
        start: at("2026-06-01T00:00:00Z"),
        steps: 4 * 1440,
        step_seconds: 60,
        services: vec![
            service("burn-fast", 1_000.0, burst.clone()),
            service("burn-slow", 1_000.0, slow),
            service("burn-quiet", 0.5, burst),
            ServiceSpec {
                silent: Some((at(GONE_FROM), Duration::minutes(30))),
                ..service(
                    "burn-gone",
                    100.0,
                    Incident::at(at(GONE_FROM), Duration::zero()),
                )
            },
        ],
        seed: 23,
    }
}

/// A demo week: four services for `days` days of one-minute steps up to `end`, with one bad
/// day for `checkout` (the last one).
pub fn demo_history(end: DateTime<Utc>, days: i64) -> History {
    let start = end - Duration::days(days);
    let bad_day = end - Duration::days(1);
    let service = |name: &str, requests: f64, errors: f64, latency: f64| ServiceSpec {
        name: name.to_owned(),
        requests_per_step: requests,
        error_ratio: errors,
        latency_seconds: latency,
        incidents: Vec::new(),
        reset_at: None,
        silent: None,
    };
    let mut checkout = service("checkout", 300.0, 0.0003, 0.12);
    checkout.incidents.push(Incident {
        error_ratio: Some(0.04),
        latency_seconds: Some(0.9),
        ..Incident::at(bad_day + Duration::hours(14), Duration::hours(3))
    });
    History {
        start,
        steps: days * 1440,
        step_seconds: 60,
        services: vec![
            checkout,
            service("search", 900.0, 0.0002, 0.04),
            service("payments", 80.0, 0.0001, 0.2),
            service("auth", 500.0, 0.0004, 0.015),
        ],
        seed: 42,
    }
}

/// Many services for benchmarks: `count` services over `hours` up to `end` at `step_seconds`.
pub fn bench_history(end: DateTime<Utc>, count: usize, step_seconds: i64, hours: i64) -> History {
    History {
        start: end - Duration::hours(hours),
        steps: hours * 3600 / step_seconds,
        step_seconds,
        services: (0..count)
            .map(|i| ServiceSpec {
                name: format!("service-{i:04}"),
                requests_per_step: 50.0 + (i % 7) as f64 * 40.0,
                error_ratio: 0.0005 * (1 + i % 5) as f64,
                latency_seconds: [0.02, 0.08, 0.3][i % 3],
                incidents: Vec::new(),
                reset_at: None,
                silent: None,
            })
            .collect(),
        seed: 99,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_prometheus() {
        let truth = Truth {
            total: 100.0,
            errors: 0.0,
            cumulative_buckets: [
                0.0, 0.0, 0.0, 50.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0,
            ],
        };
        // Rank 50 falls at the top of (0.025, 0.05]; rank 75 halfway through (0.05, 0.1].
        assert_eq!(truth.quantile(0.5), Some(0.05));
        assert!((truth.quantile(0.75).expect("data") - 0.075).abs() < 1e-15);
        let empty = Truth {
            total: 0.0,
            errors: 0.0,
            cumulative_buckets: [0.0; 11],
        };
        assert_eq!(empty.quantile(0.99), None);
    }

    #[test]
    fn the_idle_service_never_moves_and_the_others_do() {
        let history = test_history();
        let truth = history.truth(history.start, history.time(history.steps));
        assert!(truth["idle"].total.abs() < f64::EPSILON);
        assert!(truth["checkout"].total > 100_000.0);
        assert!(truth["search"].errors > 0.0);
        let buckets = truth["checkout"].cumulative_buckets;
        assert!(
            (buckets[10] - truth["checkout"].total).abs() < f64::EPSILON,
            "every request is observed once"
        );
    }

    #[test]
    fn the_openmetrics_text_is_ordered_and_escaped() {
        let mut history = test_history();
        history.steps = 3;
        let mut text = Vec::new();
        history.write_openmetrics(&mut text).expect("writes");
        let text = String::from_utf8(text).expect("utf-8");
        assert!(text.ends_with("# EOF\n"));
        assert!(text.contains(r#"service="edge \"eu\" \\ {1}\nwest ✓""#));
        let first = text.lines().nth(1).expect("a sample");
        assert_eq!(
            first,
            r#"http_requests_total{service="checkout",status="200"} 0 1793491200"#
        );
    }
}
