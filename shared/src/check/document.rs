//! The checks document: the spec a user writes, parsed and validated into the checks model
//! ([`super::model`]). Custom checks come from it (JSON or YAML); every field but `name` and
//! `query` has a default:
//!
//! ```yaml
//! default_checks: true          # keep the three checks above (default true)
//! checks:
//!   - name: queue_depth
//!     query: sum by (queue) (rabbitmq_queue_messages)
//!     direction: up              # up | down | both (default both)
//!     sensitivity: medium        # low | medium | high: score thresholds 0.75 / 0.6 / 0.45
//!     severity: critical         # critical | warning | info (default warning)
//!     hold_seconds: 300          # anomalous this long before firing (default 0)
//!     repeat_interval_seconds: 14400
//!     clear_after_seconds: 600   # normal this long before resolving
//!     window_seconds: 21600      # history read each minute (default 6 h)
//!     step_seconds: 60
//!     min_absolute_change: 100   # ignore deviations smaller than this
//!     min_relative_change: 0.5   # ... or smaller than this fraction of the baseline
//!     min_traffic_query: sum by (queue) (rate(rabbitmq_queue_messages_published_total[5m]))
//!     min_traffic: 1             # only series whose traffic query is at least this
//!     seasonality: none          # none | daily | weekly: compare with the same window then
//!     unit: none                 # none | seconds | ratio | per_second | bytes: for messages
//!     absent_after_seconds: 600  # no point for this long: a no_data alert (0: off)
//!     description: Messages waiting in the queue
//!     runbook_url: https://runbooks.example.com/queues#{{queue}}
//!     dashboard_url: https://grafana.example.com/d/q?var-queue={{queue}}
//!     team: platform
//! annotations:                   # for every check without its own (the defaults too)
//!   team: sre
//! ```
//!
//! Validation errors say which check and which field: `checks[0] "queue_depth": window_seconds:
//! must be a multiple of step_seconds (60)`.

use serde::Deserialize;
use thiserror::Error;

use super::detector::tuning::Tuning;
use super::detector::Direction;
use super::lifecycle::LifecyclePolicy;
use super::model::{
    default_checks, Check, Seasonality, Sensitivity, Severity, Unit, DEFAULT_ABSENT_AFTER_SECONDS,
};
use crate::annotations::Annotations;
use crate::conventions::MetricConventions;
use crate::slo::mute::{parse_mute_windows, MuteWindow};

/// The checks document as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksDocument {
    /// Keep the default checks.
    #[serde(default = "yes")]
    pub default_checks: bool,
    /// Custom checks.
    #[serde(default)]
    pub checks: Vec<CheckSpec>,
    /// Annotations for every check that lacks its own.
    #[serde(default)]
    pub annotations: Annotations,
    /// Mute windows ([`crate::slo::mute`]), as written; [`mute_windows`] reads them.
    #[serde(default)]
    pub mute_windows: Option<serde_json::Value>,
}

/// The document's mute windows.
///
/// # Errors
/// [`ChecksError::MuteWindow`] naming the field.
pub fn mute_windows(document: &ChecksDocument) -> Result<Vec<MuteWindow>, ChecksError> {
    parse_mute_windows(document.mute_windows.as_ref())
        .map_err(|(field, problem)| ChecksError::MuteWindow { field, problem })
}

fn yes() -> bool {
    true
}

/// One custom check as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct CheckSpec {
    pub name: String,
    pub query: String,
    #[serde(default)]
    pub direction: Direction,
    #[serde(default)]
    pub sensitivity: Sensitivity,
    #[serde(default)]
    pub severity: Severity,
    pub hold_seconds: Option<i64>,
    pub repeat_interval_seconds: Option<i64>,
    pub clear_after_seconds: Option<i64>,
    pub window_seconds: Option<u64>,
    pub step_seconds: Option<u64>,
    pub min_absolute_change: Option<f64>,
    pub min_relative_change: Option<f64>,
    pub min_traffic_query: Option<String>,
    pub min_traffic: Option<f64>,
    #[serde(default)]
    pub seasonality: Seasonality,
    #[serde(default)]
    pub unit: Unit,
    pub absent_after_seconds: Option<u64>,
    pub description: Option<String>,
    pub runbook_url: Option<String>,
    pub dashboard_url: Option<String>,
    pub team: Option<String>,
}

impl CheckSpec {
    /// Its annotations, checked; the field at fault and what is wrong.
    fn annotations(&self) -> Result<Annotations, (&'static str, String)> {
        let annotations = Annotations {
            description: self.description.clone(),
            runbook_url: self.runbook_url.clone(),
            dashboard_url: self.dashboard_url.clone(),
            team: self.team.clone(),
        };
        annotations.validate()?;
        Ok(annotations)
    }
}

/// A checks document that cannot be used.
#[derive(Debug, Error)]
pub enum ChecksError {
    /// The document does not parse.
    #[error("the checks document is not valid {format}: {source}")]
    Syntax {
        /// `JSON` or `YAML`.
        format: &'static str,
        /// The parser's error, with the place.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A field of a check is wrong.
    #[error("checks[{index}] {name:?}: {field}: {problem}")]
    Field {
        /// The check's position in `checks`.
        index: usize,
        /// The check's name as written.
        name: String,
        /// The field.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// A mute window is wrong.
    #[error("{field}: {problem}")]
    MuteWindow {
        /// The field, such as `mute_windows[0].match`.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// The document's `annotations` are wrong.
    #[error("annotations.{field}: {problem}")]
    Annotations {
        /// The field.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// No checks at all (allowed only beside an SLO document, whose alerts then run alone).
    #[error("the checks document disables the default checks and defines none, and no SLO document (SLOS_FILE, SLOS_S3_URI) gives SLO alerts instead")]
    Empty,
}

const MAX_POINTS: u64 = 11_000;

/// Parses a checks document; YAML is a superset of JSON, but JSON gets JSON's error messages.
///
/// # Errors
/// [`ChecksError::Syntax`] with the parser's message.
pub fn parse_document(text: &str) -> Result<ChecksDocument, ChecksError> {
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|error| ChecksError::Syntax {
            format: "JSON",
            source: Box::new(error),
        })
    } else {
        serde_saphyr::from_str(text).map_err(|error| ChecksError::Syntax {
            format: "YAML",
            source: Box::new(error),
        })
    }
}

/// Validates a document into checks, the defaults first when kept.
///
/// # Errors
/// [`ChecksError`] naming the check and field at fault.
pub fn build_checks(
    document: ChecksDocument,
    conventions: &MetricConventions,
) -> Result<Vec<Check>, ChecksError> {
    document
        .annotations
        .validate()
        .map_err(|(field, problem)| ChecksError::Annotations { field, problem })?;
    let mut checks = if document.default_checks {
        default_checks(conventions)
    } else {
        Vec::new()
    };
    for check in &mut checks {
        check.annotations = document.annotations.clone();
    }
    for (index, spec) in document.checks.into_iter().enumerate() {
        let mut check = build_check(index, spec)?;
        check.annotations = check.annotations.or(&document.annotations);
        if checks.iter().any(|c| c.name == check.name) {
            return Err(ChecksError::Field {
                index,
                name: check.name,
                field: "name",
                problem: "another check has this name".to_owned(),
            });
        }
        checks.push(check);
    }
    if checks.is_empty() {
        return Err(ChecksError::Empty);
    }
    Ok(checks)
}

/// The check's query, restricted to series whose traffic query reaches `min_traffic`.
fn filtered_query(spec: &CheckSpec) -> Result<String, (&'static str, &'static str)> {
    match (&spec.min_traffic_query, spec.min_traffic) {
        (None, None) => Ok(spec.query.trim().to_owned()),
        (Some(traffic), Some(minimum)) if minimum.is_finite() && !traffic.trim().is_empty() => {
            Ok(format!(
                "({}) and (({}) >= {minimum})",
                spec.query.trim(),
                traffic.trim()
            ))
        }
        (Some(_), None) => Err(("min_traffic", "is required with min_traffic_query")),
        (None, Some(_)) => Err(("min_traffic_query", "is required with min_traffic")),
        (Some(_), Some(_)) => Err((
            "min_traffic",
            "must be a number, with a non-empty min_traffic_query",
        )),
    }
}

/// The check's `no_data` timing and the query absence is judged on (its query before the
/// traffic filter, where there is one).
fn absence(
    spec: &CheckSpec,
    step_seconds: u64,
    window_seconds: u64,
) -> Result<(u64, Option<String>), String> {
    let after = spec
        .absent_after_seconds
        .unwrap_or(DEFAULT_ABSENT_AFTER_SECONDS);
    if after != 0 && !(step_seconds..=window_seconds / 2).contains(&after) {
        return Err(format!(
            "must be 0 (off) or from step_seconds ({step_seconds}) to half the window ({})",
            window_seconds / 2
        ));
    }
    let presence = spec
        .min_traffic_query
        .as_ref()
        .map(|_| spec.query.trim().to_owned());
    Ok((after, presence))
}

/// `[a-z0-9_-]`, 1 to 64 characters: never `:` or `/`, which SLO and no-data alerts use.
fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn build_check(index: usize, spec: CheckSpec) -> Result<Check, ChecksError> {
    let error = |field: &'static str, problem: &str| ChecksError::Field {
        index,
        name: spec.name.clone(),
        field,
        problem: problem.to_owned(),
    };
    if !valid_name(&spec.name) {
        return Err(error(
            "name",
            "must be 1 to 64 characters of a-z, 0-9, _ and -",
        ));
    }
    if spec.query.trim().is_empty() {
        return Err(error("query", "must be a PromQL expression"));
    }
    let defaults = LifecyclePolicy::default();
    let seconds = |field, value: Option<i64>, default: i64, min: i64| match value {
        None => Ok(default),
        Some(v) if v >= min && v <= 30 * 86_400 => Ok(v),
        Some(_) => Err(error(
            field,
            &format!("must be between {min} and 2592000 seconds"),
        )),
    };
    let mut lifecycle = LifecyclePolicy {
        hold_seconds: seconds("hold_seconds", spec.hold_seconds, defaults.hold_seconds, 0)?,
        repeat_interval_seconds: seconds(
            "repeat_interval_seconds",
            spec.repeat_interval_seconds,
            defaults.repeat_interval_seconds,
            60,
        )?,
        clear_after_seconds: seconds(
            "clear_after_seconds",
            spec.clear_after_seconds,
            defaults.clear_after_seconds,
            0,
        )?,
        recovery_memory_seconds: 0,
    };
    let step_seconds = spec.step_seconds.unwrap_or(60);
    if !(1..=3600).contains(&step_seconds) {
        return Err(error("step_seconds", "must be between 1 and 3600"));
    }
    let window_seconds = spec.window_seconds.unwrap_or(6 * 3600);
    if !window_seconds.is_multiple_of(step_seconds) {
        return Err(error(
            "window_seconds",
            &format!("must be a multiple of step_seconds ({step_seconds})"),
        ));
    }
    if window_seconds / step_seconds < 10 || window_seconds / step_seconds >= MAX_POINTS {
        return Err(error(
            "window_seconds",
            &format!("must hold 10 to {} steps of step_seconds", MAX_POINTS - 1),
        ));
    }
    // A resolved alert is remembered while its incident is still inside the window.
    lifecycle.recovery_memory_seconds = i64::try_from(window_seconds).unwrap_or(i64::MAX);
    let min_absolute_change = spec.min_absolute_change.unwrap_or(0.0);
    if !(min_absolute_change.is_finite() && min_absolute_change >= 0.0) {
        return Err(error(
            "min_absolute_change",
            "must be a number of at least 0",
        ));
    }
    let min_relative_change = spec.min_relative_change.unwrap_or(0.0);
    if !(min_relative_change.is_finite() && min_relative_change >= 0.0) {
        return Err(error(
            "min_relative_change",
            "must be a number of at least 0",
        ));
    }
    let query = filtered_query(&spec).map_err(|(field, problem)| error(field, problem))?;
    let annotations = spec
        .annotations()
        .map_err(|(field, problem)| error(field, &problem))?;
    let (absent_after_seconds, presence_query) = absence(&spec, step_seconds, window_seconds)
        .map_err(|problem| error("absent_after_seconds", &problem))?;
    Ok(Check {
        name: spec.name,
        query,
        direction: spec.direction,
        threshold: spec.sensitivity.threshold(),
        severity: spec.severity,
        lifecycle,
        window_seconds,
        step_seconds,
        min_absolute_change,
        min_relative_change,
        seasonality: spec.seasonality,
        tuning: Tuning::default(),
        annotations,
        unit: spec.unit,
        absent_after_seconds,
        presence_query,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::model::DEFAULT_THRESHOLD;
    use crate::config::Env;

    fn conventions() -> MetricConventions {
        MetricConventions::from_env(&Env::default()).expect("defaults are valid")
    }

    fn checks(text: &str) -> Result<Vec<Check>, ChecksError> {
        build_checks(parse_document(text)?, &conventions())
    }

    #[test]
    fn annotations_apply_to_each_check_else_the_document_s_and_bad_ones_name_the_field() {
        let document = parse_document(
            "annotations: {team: sre, runbook_url: 'https://runbooks.example.com/{{service}}'}\nchecks:\n  - {name: q, query: 'sum by (queue) (x)', team: platform}\n",
        )
        .expect("parses");
        let checks = build_checks(document, &conventions()).expect("valid");
        let team = |name: &str| {
            checks
                .iter()
                .find(|c| c.name == name)
                .and_then(|c| c.annotations.team.clone())
        };
        assert_eq!(
            team("request_rate").as_deref(),
            Some("sre"),
            "the defaults too"
        );
        assert_eq!(team("q").as_deref(), Some("platform"));
        assert!(checks.iter().all(|c| c.annotations.runbook_url.is_some()));
        let bad = parse_document("checks:\n  - {name: q, query: x, dashboard_url: 'ftp://x'}\n")
            .expect("parses");
        let error = build_checks(bad, &conventions())
            .expect_err("refused")
            .to_string();
        assert!(
            error.starts_with("checks[0] \"q\": dashboard_url: "),
            "{error}"
        );
        let bad = parse_document("annotations: {team: ''}\n").expect("parses");
        let error = build_checks(bad, &conventions())
            .expect_err("refused")
            .to_string();
        assert!(error.starts_with("annotations.team: "), "{error}");
    }

    #[test]
    fn the_defaults_watch_rate_errors_and_latency() {
        let defaults = default_checks(&conventions());
        let names: Vec<&str> = defaults.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["request_rate", "error_ratio", "latency_p99"]);
        assert_eq!(
            defaults[0].query,
            "sum by (service) (rate(http_requests_total[300s]))"
        );
        assert_eq!(
            defaults[1].query,
            r#"((sum by (service) (rate(http_requests_total{status=~"5.."}[300s]))) / (sum by (service) (rate(http_requests_total[300s])))) and ((sum by (service) (rate(http_requests_total[300s]))) >= 0.1)"#
        );
        assert_eq!(defaults[0].direction, Direction::Both);
        assert_eq!(defaults[2].direction, Direction::Up);
        assert_eq!(defaults[0].window_points(), 361);
    }

    #[test]
    fn yaml_and_json_documents_give_the_same_checks() {
        let yaml = "default_checks: false\nchecks:\n  - name: queue_depth\n    query: sum by (queue) (q)\n    direction: up\n    severity: critical\n    hold_seconds: 300\n    min_traffic_query: sum by (queue) (rate(p[5m]))\n    min_traffic: 1\n";
        let json = r#"{"default_checks": false, "checks": [{"name": "queue_depth", "query": "sum by (queue) (q)", "direction": "up", "severity": "critical", "hold_seconds": 300, "min_traffic_query": "sum by (queue) (rate(p[5m]))", "min_traffic": 1}]}"#;
        let from_yaml = checks(yaml).expect("valid yaml");
        assert_eq!(from_yaml, checks(json).expect("valid json"));
        let check = &from_yaml[0];
        assert_eq!(
            check.query,
            "(sum by (queue) (q)) and ((sum by (queue) (rate(p[5m]))) >= 1)"
        );
        assert_eq!(
            (
                check.severity,
                check.lifecycle.hold_seconds,
                check.threshold
            ),
            (Severity::Critical, 300, DEFAULT_THRESHOLD)
        );
    }

    #[test]
    fn errors_name_the_check_and_the_field() {
        let cases = [
            (
                r#"{"checks": [{"name": "q", "query": "x", "window_seconds": 1000}]}"#,
                r#"checks[0] "q": window_seconds: must be a multiple of step_seconds (60)"#,
            ),
            (
                r#"{"checks": [{"name": "Bad Name", "query": "x"}]}"#,
                r#"checks[0] "Bad Name": name:"#,
            ),
            (
                r#"{"checks": [{"name": "a", "query": "x"}, {"name": "b", "query": " "}]}"#,
                r#"checks[1] "b": query:"#,
            ),
            (
                r#"{"checks": [{"name": "a", "query": "x", "min_traffic": 3}]}"#,
                r#"checks[0] "a": min_traffic_query: is required"#,
            ),
            (
                r#"{"checks": [{"name": "a", "query": "x", "repeat_interval_seconds": 5}]}"#,
                r#"checks[0] "a": repeat_interval_seconds:"#,
            ),
            (
                r#"{"checks": [{"name": "request_rate", "query": "x"}]}"#,
                r#"checks[0] "request_rate": name: another check"#,
            ),
            (
                r#"{"default_checks": false}"#,
                "the checks document disables the default checks and defines none, and no SLO document (SLOS_FILE, SLOS_S3_URI) gives SLO alerts instead",
            ),
        ];
        for (document, expected) in cases {
            let error = checks(document).expect_err(document).to_string();
            assert!(
                error.starts_with(expected),
                "{error}\n  expected {expected}"
            );
        }
    }

    #[test]
    fn unknown_fields_and_bad_values_are_syntax_errors() {
        let typo = checks(r#"{"checks": [{"name": "a", "query": "x", "directon": "up"}]}"#)
            .expect_err("typo");
        assert!(typo.to_string().contains("directon"), "{typo}");
        let bad = checks("checks:\n  - name: a\n    query: x\n    direction: sideways\n")
            .expect_err("bad enum");
        assert!(
            bad.to_string()
                .starts_with("the checks document is not valid YAML"),
            "{bad}"
        );
    }
}
