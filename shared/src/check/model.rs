//! The checks model: what `anomaly-check` evaluates every minute, once the checks document
//! is validated, and the default checks the metric conventions give.
//!
//! Default checks, one series per service:
//!
//! | check | query | direction | material when |
//! | --- | --- | --- | --- |
//! | `request_rate` | `sum by (service) (rate(requests[5m]))` | both: a drop matters as much as a spike | ≥ 30 % off the baseline |
//! | `error_ratio` | errors / requests per service, where requests ≥ 0.1/s | up | ≥ 1 percentage point up |
//! | `latency_p99` | `histogram_quantile(0.99, …)` per service, where requests ≥ 1/s | up | ≥ 50 ms and at least doubled |

use serde::Deserialize;

pub use crate::severity::Severity;

use super::detector::tuning::Tuning;
use super::detector::Direction;
use super::lifecycle::LifecyclePolicy;
use crate::annotations::Annotations;
use crate::conventions::MetricConventions;
use crate::promql::{self, RangeSeconds};

/// The score from which a point is anomalous at the default, `medium` sensitivity.
pub const DEFAULT_THRESHOLD: f64 = 0.6;

/// How eager a check is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// Threshold 0.75: only large deviations.
    Low,
    /// Threshold [`DEFAULT_THRESHOLD`].
    #[default]
    Medium,
    /// Threshold 0.45: smaller deviations too.
    High,
}

impl Sensitivity {
    /// The score threshold.
    pub fn threshold(self) -> f64 {
        match self {
            Self::Low => 0.75,
            Self::Medium => DEFAULT_THRESHOLD,
            Self::High => 0.45,
        }
    }
}

/// What to compare the window with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seasonality {
    /// The window alone.
    #[default]
    None,
    /// The same window a day earlier.
    Daily,
    /// The same window a week earlier.
    Weekly,
}

impl Seasonality {
    /// How far back the comparison window lies, in seconds.
    pub fn offset_seconds(self) -> Option<u64> {
        match self {
            Self::None => None,
            Self::Daily => Some(86_400),
            Self::Weekly => Some(7 * 86_400),
        }
    }
}

/// A validated check.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Unique name, `[a-z0-9_-]`, part of every alert's identity.
    pub name: String,
    /// The PromQL evaluated with `query_range` over the window (traffic filter included).
    pub query: String,
    /// Which deviations matter.
    pub direction: Direction,
    /// The score from which a point is anomalous.
    pub threshold: f64,
    /// The alert's severity.
    pub severity: Severity,
    /// Hold, repeat and clear timings.
    pub lifecycle: LifecyclePolicy,
    /// History read each evaluation, in seconds.
    pub window_seconds: u64,
    /// Resolution of the window, in seconds.
    pub step_seconds: u64,
    /// Deviations from the baseline smaller than this never count.
    pub min_absolute_change: f64,
    /// Deviations smaller than this fraction of the baseline never count.
    pub min_relative_change: f64,
    /// What the window is compared with.
    pub seasonality: Seasonality,
    /// The decision's settings besides the threshold (the defaults for every check).
    pub tuning: Tuning,
    /// What its messages say besides the alert: description, runbook, dashboard, team.
    pub annotations: Annotations,
    /// The unit of its values, for messages.
    pub unit: Unit,
    /// A series that reported in the window and then has no point for this long fires a
    /// `no_data` alert (0: off).
    pub absent_after_seconds: u64,
    /// The query before its traffic filter, whose series absence is judged on (a quiet series
    /// under the filter is not absent); `None` when the check's query has no such filter.
    pub presence_query: Option<String>,
}

/// How long a series may go without a point before it fires `no_data`, unless a check says
/// otherwise.
pub const DEFAULT_ABSENT_AFTER_SECONDS: u64 = 600;

/// The unit of a check's values: messages write `2.25 s`, `1.7 %`, `12.5 /s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A plain number.
    #[default]
    None,
    /// Seconds (written in ms under a second).
    Seconds,
    /// A share, 0 to 1 (written in percent).
    Ratio,
    /// A rate per second.
    PerSecond,
    /// Bytes (written in kB, MB, GB).
    Bytes,
}

impl Unit {
    /// `value` with its unit, for people; `no data` without one.
    pub fn show(self, value: Option<f64>) -> String {
        let Some(v) = value else {
            return "no data".to_owned();
        };
        let trim = |text: String| text.trim_end_matches('0').trim_end_matches('.').to_owned();
        let short = |v: f64| {
            if v != 0.0 && (v.abs() >= 1e9 || v.abs() < 1e-5) {
                format!("{v:.4e}")
            } else if v.abs() < 1.0 {
                trim(format!("{v:.6}"))
            } else {
                trim(format!("{v:.3}"))
            }
        };
        match self {
            Self::None => short(v),
            Self::Seconds if v.abs() < 1.0 => format!("{} ms", short(v * 1000.0)),
            Self::Seconds => format!("{} s", short(v)),
            Self::Ratio => format!("{} %", short(v * 100.0)),
            Self::PerSecond => format!("{} /s", short(v)),
            Self::Bytes => {
                let (scaled, name) = [(1e9, "GB"), (1e6, "MB"), (1e3, "kB")]
                    .into_iter()
                    .find(|(size, _)| v.abs() >= *size)
                    .map_or((v, "B"), |(size, name)| (v / size, name));
                format!("{} {name}", short(scaled))
            }
        }
    }
}

impl Check {
    /// The end of the window evaluated at `now`: `now` rounded down to the step.
    pub fn window_end(&self, now: i64) -> i64 {
        let step = i64::try_from(self.step_seconds).unwrap_or(60);
        now.div_euclid(step) * step
    }

    /// Points per window, the newest included.
    pub fn window_points(&self) -> usize {
        usize::try_from(self.window_seconds / self.step_seconds).unwrap_or(usize::MAX) + 1
    }
}

/// The default checks for the conventions.
pub fn default_checks(conventions: &MetricConventions) -> Vec<Check> {
    let by = [&conventions.service_label];
    let rate = RangeSeconds(300);
    let requests = promql::sum_rate_by(&by, &conventions.requests(), rate);
    let errors = promql::sum_rate_by(&by, &conventions.errors(), rate);
    // Ratios and quantiles of a handful of requests are noise: only judge busy services.
    let busy = format!("({requests}) >= 0.1");
    let busy_for_latency = format!("({requests}) >= 1");
    let p99 = format!(
        "histogram_quantile(0.99, sum by ({}, le) (rate({}[{rate}])))",
        conventions.service_label,
        conventions.latency_buckets()
    );
    let base = |name: &str,
                (query, presence_query): (String, Option<String>),
                direction,
                (min_absolute_change, min_relative_change),
                unit| Check {
        name: name.to_owned(),
        query,
        direction,
        threshold: DEFAULT_THRESHOLD,
        severity: Severity::Warning,
        lifecycle: LifecyclePolicy {
            recovery_memory_seconds: 6 * 3600,
            ..LifecyclePolicy::default()
        },
        window_seconds: 6 * 3600,
        step_seconds: 60,
        min_absolute_change,
        min_relative_change,
        seasonality: Seasonality::None,
        tuning: Tuning::default(),
        annotations: Annotations::default(),
        unit,
        absent_after_seconds: DEFAULT_ABSENT_AFTER_SECONDS,
        presence_query,
    };
    vec![
        base(
            "request_rate",
            (requests.clone(), None),
            Direction::Both,
            (0.0, 0.3),
            Unit::PerSecond,
        ),
        base(
            "error_ratio",
            (
                format!("(({errors}) / ({requests})) and ({busy})"),
                Some(format!("({errors}) / ({requests})")),
            ),
            Direction::Up,
            (0.01, 0.0),
            Unit::Ratio,
        ),
        base(
            "latency_p99",
            (
                format!("({p99}) and ({busy_for_latency})"),
                Some(p99.clone()),
            ),
            Direction::Up,
            (0.05, 1.0),
            Unit::Seconds,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_carry_their_unit() {
        assert_eq!(Unit::Seconds.show(Some(2.25)), "2.25 s");
        assert_eq!(Unit::Seconds.show(Some(0.25)), "250 ms");
        assert_eq!(Unit::Ratio.show(Some(0.017)), "1.7 %");
        assert_eq!(Unit::PerSecond.show(Some(12.5)), "12.5 /s");
        assert_eq!(Unit::Bytes.show(Some(1_500_000.0)), "1.5 MB");
        assert_eq!(Unit::None.show(Some(0.042)), "0.042");
        assert_eq!(Unit::Ratio.show(None), "no data");
    }
}
