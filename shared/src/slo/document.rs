//! The SLO document: which SLOs to report and over which window, validated before anything
//! runs. JSON or YAML:
//!
//! ```yaml
//! window: 30d                  # every SLO's default: Nd rolling (1..400) | week | month | quarter
//! slos:
//!   - name: availability       # [a-z0-9_-], unique
//!     services: all            # all (default) | [checkout, payments]
//!     sli: availability        # 1 − errors / total, from the metric conventions
//!     objective: 0.999         # strictly between 0 and 1
//!   - name: fast-checkout
//!     services: [checkout]
//!     sli: latency             # share of requests at or under threshold_ms
//!     threshold_ms: 250        # must be a bucket boundary (le)
//!     objective: 0.99
//!     window: month
//!   - name: jobs
//!     sli: ratio               # good (or bad) over total, {{window}} replaced by the range
//!     group_by: service
//!     bad: sum by (service) (increase(jobs_failed_total[{{window}}]))
//!     total: sum by (service) (increase(jobs_total[{{window}}]))
//!     objective: 0.995
//! exclusions:                  # removed from good and total alike
//!   - {start: 2026-12-06T02:00:00Z, end: 2026-12-06T04:00:00Z, services: [payments], reason: "db migration"}
//!   - {cron: "0 3 * * SUN", duration: 1h, time_zone: Europe/Berlin, reason: "weekly restart"}
//! ```
//!
//! Every field not listed is rejected by name, never ignored; errors name the SLO and the
//! field: `slos[1] "fast-checkout": objective: must be between 0 and 1`.

use std::collections::BTreeSet;
use std::str::FromStr as _;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};
use thiserror::Error;

use super::alerting::{alerting_fields, Alerting, AlertingFields, ALERTING_FIELDS};
use super::mute::{parse_mute_windows, MuteWindow};
use super::window::Window;
use crate::annotations::{Annotations, ANNOTATION_FIELDS};

/// The SLI an SLO measures.
#[derive(Debug, Clone, PartialEq)]
pub enum Sli {
    /// 1 − errors / total, from the metric conventions.
    Availability,
    /// The share of requests at or under the threshold, from the latency histogram.
    Latency {
        /// The bucket boundary, in milliseconds.
        threshold_ms: f64,
    },
    /// Any counters: good (or bad) over total, `{{window}}` replaced by the range.
    Ratio {
        /// The label naming the service in both expressions.
        group_by: String,
        /// The good or the bad events.
        events: Events,
        /// All events.
        total: String,
    },
}

impl Sli {
    /// The name documents use.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Availability => "availability",
            Self::Latency { .. } => "latency",
            Self::Ratio { .. } => "ratio",
        }
    }
}

/// A ratio SLI's numerator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Events {
    /// An expression counting good events.
    Good(String),
    /// An expression counting bad events.
    Bad(String),
}

/// Which services an SLO covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Services {
    /// Every service the metrics show.
    All,
    /// These, reported with `no_data` when the metrics show nothing for them.
    Only(BTreeSet<String>),
}

impl Services {
    /// Whether `service` is covered.
    pub fn covers(&self, service: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(names) => names.contains(service),
        }
    }
}

/// One validated SLO.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// `[a-z0-9_-]`, unique in the document.
    pub name: String,
    /// The services it covers.
    pub services: Services,
    /// What it measures.
    pub sli: Sli,
    /// The objective, strictly between 0 and 1.
    pub objective: f64,
    /// Its window.
    pub window: Window,
    /// When it alerts (the minute check; the report ignores it).
    pub alerting: Alerting,
    /// What its alerts say besides the figures: description, runbook, dashboard, team.
    pub annotations: Annotations,
}

/// When an exclusion applies.
#[derive(Debug, Clone, PartialEq)]
pub enum When {
    /// Once, `[start, end)`.
    Once {
        /// Start.
        start: DateTime<Utc>,
        /// End, after the start.
        end: DateTime<Utc>,
    },
    /// At every match of a five-field cron expression in `time_zone`, for `seconds`.
    Recurring {
        /// The cron expression as written.
        cron: String,
        /// How long each occurrence lasts, in seconds.
        seconds: u32,
        /// The time zone the expression is read in.
        time_zone: Tz,
    },
}

/// A maintenance window whose events count neither as good nor in the total.
#[derive(Debug, Clone, PartialEq)]
pub struct Exclusion {
    /// When it applies.
    pub when: When,
    /// The services it covers.
    pub services: Services,
    /// Why, for people.
    pub reason: String,
}

/// A validated SLO document.
#[derive(Debug, Clone, PartialEq)]
pub struct SloDocument {
    /// The SLOs, in document order.
    pub slos: Vec<Slo>,
    /// Its exclusions.
    pub exclusions: Vec<Exclusion>,
    /// Its mute windows: they keep back the messages of the SLO alerts they match.
    pub mute_windows: Vec<MuteWindow>,
}

/// An SLO document that cannot be used.
#[derive(Debug, Error)]
pub enum SloDocumentError {
    /// The document does not parse.
    #[error("the SLO document is not valid {format}: {source}")]
    Syntax {
        /// `JSON` or `YAML`.
        format: &'static str,
        /// The parser's error, with the place.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A field of the document itself is wrong.
    #[error("{field}: {problem}")]
    Document {
        /// The field.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// A field of an SLO is wrong.
    #[error("slos[{index}] {name:?}: {field}: {problem}")]
    Slo {
        /// The SLO's position in `slos`.
        index: usize,
        /// Its name as written.
        name: String,
        /// The field.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// A field of an exclusion is wrong.
    #[error("exclusions[{index}]: {field}: {problem}")]
    Exclusion {
        /// The exclusion's position.
        index: usize,
        /// The field.
        field: String,
        /// What is wrong.
        problem: String,
    },
}

/// The most SLOs a document may hold.
const MAX_SLOS: usize = 100;

/// Parses and validates a native SLO document (JSON or YAML).
///
/// # Errors
/// [`SloDocumentError`] naming the SLO or exclusion and the field at fault.
pub fn parse_slo_document(text: &str) -> Result<SloDocument, SloDocumentError> {
    let value = parse_value(text)?;
    from_value(&value)
}

/// The document as a tree; YAML is a superset of JSON, but JSON gets JSON's error messages.
pub(crate) fn parse_value(text: &str) -> Result<Value, SloDocumentError> {
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|error| SloDocumentError::Syntax {
            format: "JSON",
            source: Box::new(error),
        })
    } else {
        serde_saphyr::from_str(text).map_err(|error| SloDocumentError::Syntax {
            format: "YAML",
            source: Box::new(error),
        })
    }
}

fn document_error(field: &str, problem: impl Into<String>) -> SloDocumentError {
    SloDocumentError::Document {
        field: field.to_owned(),
        problem: problem.into(),
    }
}

/// Rejects every key of `map` not in `known`, naming the first.
fn only_known(map: &Map<String, Value>, known: &[&str]) -> Result<(), String> {
    match map.keys().find(|key| !known.contains(&key.as_str())) {
        Some(key) => Err(key.clone()),
        None => Ok(()),
    }
}

fn from_value(value: &Value) -> Result<SloDocument, SloDocumentError> {
    let root = value
        .as_object()
        .ok_or_else(|| document_error("(document)", "must be a mapping with `slos`"))?;
    let known: Vec<&str> = [
        "window",
        "slos",
        "exclusions",
        "annotations",
        "mute_windows",
    ]
    .into_iter()
    .chain(ALERTING_FIELDS)
    .collect();
    only_known(root, &known)
        .map_err(|key| document_error(&key, "is not a field of an SLO document"))?;
    let alerting =
        alerting_fields(root).map_err(|(field, problem)| document_error(&field, problem))?;
    let annotations: Annotations = match root.get("annotations") {
        None => Annotations::default(),
        Some(value) => serde_json::from_value(value.clone())
            .map_err(|error| document_error("annotations", error.to_string()))?,
    };
    annotations
        .validate()
        .map_err(|(field, problem)| document_error(&format!("annotations.{field}"), problem))?;
    let default_window = match root.get("window") {
        None => Window::Rolling(30),
        Some(text) => text.as_str().and_then(Window::parse).ok_or_else(|| {
            document_error(
                "window",
                format!("{text} is not a window: Nd (1 to 400), week, month or quarter"),
            )
        })?,
    };
    let slos = root
        .get("slos")
        .and_then(Value::as_array)
        .ok_or_else(|| document_error("slos", "must be a list of SLOs"))?;
    if slos.is_empty() || slos.len() > MAX_SLOS {
        return Err(document_error(
            "slos",
            format!("must hold 1 to {MAX_SLOS} SLOs, holds {}", slos.len()),
        ));
    }
    let mut names = BTreeSet::new();
    let mut built = Vec::with_capacity(slos.len());
    for (index, slo) in slos.iter().enumerate() {
        let mut slo = build_slo(index, slo, default_window, &alerting)?;
        slo.annotations = slo.annotations.or(&annotations);
        if !names.insert(slo.name.clone()) {
            return Err(SloDocumentError::Slo {
                index,
                name: slo.name,
                field: "name".to_owned(),
                problem: "is used by an earlier SLO; names must be unique".to_owned(),
            });
        }
        built.push(slo);
    }
    let exclusions = match root.get("exclusions") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| build_exclusion(index, item))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(document_error("exclusions", "must be a list")),
    };
    let mute_windows = parse_mute_windows(root.get("mute_windows"))
        .map_err(|(field, problem)| document_error(&field, problem))?;
    Ok(SloDocument {
        slos: built,
        exclusions,
        mute_windows,
    })
}

fn build_slo(
    index: usize,
    value: &Value,
    default_window: Window,
    document_alerting: &AlertingFields,
) -> Result<Slo, SloDocumentError> {
    let written = value
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let error = |field: &str, problem: String| SloDocumentError::Slo {
        index,
        name: written.clone(),
        field: field.to_owned(),
        problem,
    };
    let map = value
        .as_object()
        .ok_or_else(|| error("(slo)", "must be a mapping".to_owned()))?;
    only_known(
        map,
        &[
            "name",
            "services",
            "sli",
            "objective",
            "threshold_ms",
            "window",
            "group_by",
            "good",
            "bad",
            "total",
            ALERTING_FIELDS[0],
            ALERTING_FIELDS[1],
            ALERTING_FIELDS[2],
            ALERTING_FIELDS[3],
            ANNOTATION_FIELDS[0],
            ANNOTATION_FIELDS[1],
            ANNOTATION_FIELDS[2],
            ANNOTATION_FIELDS[3],
        ],
    )
    .map_err(|key| error(&key, "is not a field of an SLO".to_owned()))?;
    let name = map
        .get("name")
        .and_then(Value::as_str)
        .filter(|name| is_name(name))
        .ok_or_else(|| {
            error(
                "name",
                "must be 1 to 64 characters of a-z, 0-9, _ and -".to_owned(),
            )
        })?
        .to_owned();
    let services = services(map.get("services")).map_err(|problem| error("services", problem))?;
    let objective = map
        .get("objective")
        .and_then(Value::as_f64)
        .filter(|o| *o > 0.0 && *o < 1.0)
        .ok_or_else(|| error("objective", "must be between 0 and 1".to_owned()))?;
    let window = match map.get("window") {
        None => default_window,
        Some(text) => text.as_str().and_then(Window::parse).ok_or_else(|| {
            error(
                "window",
                format!("{text} is not a window: Nd (1 to 400), week, month or quarter"),
            )
        })?,
    };
    let sli = build_sli(map, &error)?;
    let alerting = alerting_fields(map)
        .and_then(|own| own.resolve(document_alerting, window))
        .map_err(|(field, problem)| error(&field, problem))?;
    let text = |field: &str| -> Result<Option<String>, SloDocumentError> {
        match map.get(field) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(error(field, "must be a string".to_owned())),
        }
    };
    let annotations = Annotations {
        description: text("description")?,
        runbook_url: text("runbook_url")?,
        dashboard_url: text("dashboard_url")?,
        team: text("team")?,
    };
    annotations
        .validate()
        .map_err(|(field, problem)| error(field, problem))?;
    Ok(Slo {
        name,
        services,
        sli,
        objective,
        window,
        alerting,
        annotations,
    })
}

/// The SLI of an SLO's `map`; `error` names the SLO.
fn build_sli(
    map: &Map<String, Value>,
    error: &dyn Fn(&str, String) -> SloDocumentError,
) -> Result<Sli, SloDocumentError> {
    let text = |field: &str| -> Result<Option<String>, SloDocumentError> {
        match map.get(field) {
            None => Ok(None),
            Some(Value::String(text)) if !text.trim().is_empty() => Ok(Some(text.clone())),
            Some(_) => Err(error(field, "must be a non-empty string".to_owned())),
        }
    };
    let kind = map.get("sli").and_then(Value::as_str).unwrap_or_default();
    let only_for = |fields: &[&str], kind: &str| -> Result<(), SloDocumentError> {
        match fields.iter().find(|field| map.contains_key(**field)) {
            Some(field) => Err(error(field, format!("does not apply to a {kind} SLI"))),
            None => Ok(()),
        }
    };
    match kind {
        "availability" => {
            only_for(&["threshold_ms", "group_by", "good", "bad", "total"], kind)?;
            Ok(Sli::Availability)
        }
        "latency" => {
            only_for(&["group_by", "good", "bad", "total"], kind)?;
            let threshold_ms = map
                .get("threshold_ms")
                .and_then(Value::as_f64)
                .filter(|t| t.is_finite() && *t > 0.0)
                .ok_or_else(|| {
                    error(
                        "threshold_ms",
                        "must be a positive number of milliseconds, a bucket boundary".to_owned(),
                    )
                })?;
            Ok(Sli::Latency { threshold_ms })
        }
        "ratio" => {
            only_for(&["threshold_ms"], kind)?;
            let group_by = text("group_by")?
                .filter(|label| is_label(label))
                .ok_or_else(|| error("group_by", "must be a label name".to_owned()))?;
            let events = match (text("good")?, text("bad")?) {
                (Some(good), None) => Events::Good(good),
                (None, Some(bad)) => Events::Bad(bad),
                _ => {
                    return Err(error(
                        "good",
                        "a ratio SLI needs exactly one of good and bad".to_owned(),
                    ))
                }
            };
            let total = text("total")?
                .ok_or_else(|| error("total", "a ratio SLI needs total".to_owned()))?;
            let (field, numerator) = match &events {
                Events::Good(query) => ("good", query),
                Events::Bad(query) => ("bad", query),
            };
            for (field, query) in [(field, numerator), ("total", &total)] {
                if !query.contains("{{window}}") {
                    return Err(error(
                        field,
                        "must contain {{window}}, replaced by the range".to_owned(),
                    ));
                }
            }
            Ok(Sli::Ratio {
                group_by,
                events,
                total,
            })
        }
        other => Err(error(
            "sli",
            format!("{other:?} is not an SLI: availability, latency or ratio"),
        )),
    }
}

fn is_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn is_label(label: &str) -> bool {
    let mut bytes = label.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn services(value: Option<&Value>) -> Result<Services, String> {
    match value {
        None => Ok(Services::All),
        Some(Value::String(all)) if all == "all" => Ok(Services::All),
        Some(Value::Array(names)) if !names.is_empty() => names
            .iter()
            .map(|name| {
                name.as_str()
                    .filter(|name| !name.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{name} is not a service name"))
            })
            .collect::<Result<BTreeSet<String>, String>>()
            .map(Services::Only),
        Some(other) => Err(format!(
            "{other} must be all or a non-empty list of service names"
        )),
    }
}

/// Parses `90s`, `30m`, `1h` or `2d` into seconds (at most a week).
pub(crate) fn duration_seconds(text: &str) -> Option<u32> {
    crate::config::duration_seconds(text)
        .filter(|seconds| *seconds <= 7 * 86_400)
        .and_then(|seconds| u32::try_from(seconds).ok())
}

fn build_exclusion(index: usize, value: &Value) -> Result<Exclusion, SloDocumentError> {
    let error = |field: &str, problem: String| SloDocumentError::Exclusion {
        index,
        field: field.to_owned(),
        problem,
    };
    let map = value
        .as_object()
        .ok_or_else(|| error("(exclusion)", "must be a mapping".to_owned()))?;
    only_known(
        map,
        &[
            "start",
            "end",
            "cron",
            "duration",
            "time_zone",
            "services",
            "reason",
        ],
    )
    .map_err(|key| error(&key, "is not a field of an exclusion".to_owned()))?;
    let reason = map
        .get("reason")
        .and_then(Value::as_str)
        .filter(|reason| !reason.trim().is_empty())
        .ok_or_else(|| {
            error(
                "reason",
                "must say why, for the report's readers".to_owned(),
            )
        })?
        .to_owned();
    let services = services(map.get("services")).map_err(|problem| error("services", problem))?;
    let when = parse_when(map, &error)?;
    Ok(Exclusion {
        when,
        services,
        reason,
    })
}

/// When an exclusion's or a mute window's `map` applies: `start` and `end`, or `cron`,
/// `duration` and `time_zone`; `error` names the item.
pub(crate) fn parse_when<E>(
    map: &Map<String, Value>,
    error: &dyn Fn(&str, String) -> E,
) -> Result<When, E> {
    let time = |field: &str| {
        map.get(field)
            .and_then(Value::as_str)
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map(|time| time.with_timezone(&Utc))
            .ok_or_else(|| error(field, "must be an RFC 3339 time".to_owned()))
    };
    match (map.contains_key("start"), map.contains_key("cron")) {
        (true, false) => {
            if let Some(field) = ["duration", "time_zone"]
                .into_iter()
                .find(|field| map.contains_key(*field))
            {
                return Err(error(field, "applies only with cron".to_owned()));
            }
            let (start, end) = (time("start")?, time("end")?);
            if end <= start {
                return Err(error("end", "must be after start".to_owned()));
            }
            Ok(When::Once { start, end })
        }
        (false, true) => recurring(map, error),
        _ => Err(error(
            "start",
            "give either start and end, or cron and duration".to_owned(),
        )),
    }
}

/// When a cron exclusion's `map` applies; `error` names the exclusion.
fn recurring<E>(map: &Map<String, Value>, error: &dyn Fn(&str, String) -> E) -> Result<When, E> {
    if map.contains_key("end") {
        return Err(error("end", "with cron, give a duration".to_owned()));
    }
    let cron = map
        .get("cron")
        .and_then(Value::as_str)
        .filter(|cron| croner::Cron::from_str(cron).is_ok())
        .ok_or_else(|| {
            error(
                "cron",
                "must be a five-field cron expression (minute hour day month weekday)".to_owned(),
            )
        })?
        .to_owned();
    let seconds = map
        .get("duration")
        .and_then(Value::as_str)
        .and_then(duration_seconds)
        .ok_or_else(|| {
            error(
                "duration",
                "must be like 90s, 30m, 1h or 2d, at most 7d".to_owned(),
            )
        })?;
    let time_zone = match map.get("time_zone") {
        None => Tz::UTC,
        Some(zone) => zone
            .as_str()
            .and_then(|zone| zone.parse::<Tz>().ok())
            .ok_or_else(|| {
                error(
                    "time_zone",
                    format!("{zone} is not an IANA time zone such as Europe/Berlin"),
                )
            })?,
    };
    Ok(When::Recurring {
        cron,
        seconds,
        time_zone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
window: 30d
slos:
  - name: availability
    services: all
    sli: availability
    objective: 0.999
  - name: fast-checkout
    services: [checkout]
    sli: latency
    threshold_ms: 250
    objective: 0.99
    window: month
  - name: jobs
    sli: ratio
    group_by: service
    bad: sum by (service) (increase(jobs_failed_total[{{window}}]))
    total: sum by (service) (increase(jobs_total[{{window}}]))
    objective: 0.995
exclusions:
  - {start: 2026-12-06T02:00:00Z, end: 2026-12-06T04:00:00Z, services: [payments], reason: "db migration"}
  - {cron: "0 3 * * SUN", duration: 1h, time_zone: Europe/Berlin, reason: "weekly restart"}
"#;

    #[test]
    fn the_documented_example_is_read() {
        let document = parse_slo_document(EXAMPLE).expect("valid");
        assert_eq!(document.slos.len(), 3);
        let [availability, latency, jobs] = &document.slos[..] else {
            panic!("three SLOs");
        };
        assert_eq!(availability.window, Window::Rolling(30));
        assert_eq!(availability.services, Services::All);
        assert_eq!(latency.window, Window::Month);
        assert_eq!(
            latency.sli,
            Sli::Latency {
                threshold_ms: 250.0
            }
        );
        assert!(latency.services.covers("checkout") && !latency.services.covers("payments"));
        assert!(
            matches!(&jobs.sli, Sli::Ratio { events: Events::Bad(q), .. } if q.contains("jobs_failed_total"))
        );
        assert_eq!(document.exclusions.len(), 2);
        assert!(matches!(
            &document.exclusions[1].when,
            When::Recurring {
                seconds: 3_600,
                time_zone: Tz::Europe__Berlin,
                ..
            }
        ));
    }

    #[test]
    fn alerting_is_the_slo_s_own_else_the_document_s_else_the_defaults() {
        let document = parse_slo_document(
            "min_events: 20\nbudget_alert_severity: critical\nslos:\n  - {name: a, sli: availability, objective: 0.99}\n  - {name: b, sli: availability, objective: 0.99, window: week, min_events: 5, burn_rate_alerts: []}\n",
        )
        .expect("valid");
        let (a, b) = (&document.slos[0].alerting, &document.slos[1].alerting);
        assert!((a.min_events - 20.0).abs() < f64::EPSILON);
        assert_eq!(a.budget_severity, crate::severity::Severity::Critical);
        assert_eq!(
            a.burn_rules,
            super::super::alerting::default_rules(Window::Rolling(30))
        );
        assert_eq!(a.budget_thresholds, [0.5, 0.25, 0.0]);
        assert!((b.min_events - 5.0).abs() < f64::EPSILON);
        assert!(b.burn_rules.is_empty());
    }

    #[test]
    fn json_gives_the_same_document() {
        let json =
            r#"{"slos": [{"name": "availability", "sli": "availability", "objective": 0.999}]}"#;
        let yaml = "slos:\n  - name: availability\n    sli: availability\n    objective: 0.999\n";
        assert_eq!(
            parse_slo_document(json).expect("json"),
            parse_slo_document(yaml).expect("yaml")
        );
    }

    #[test]
    fn bad_input_names_the_slo_and_the_field() {
        let slo = |extra: &str| {
            format!(
                "slos:\n  - name: availability\n    sli: availability\n    objective: 0.999\n  - name: fast-checkout\n{extra}"
            )
        };
        for (document, message) in [
            (
                slo("    sli: availability\n    objective: 1.5\n"),
                "slos[1] \"fast-checkout\": objective: must be between 0 and 1",
            ),
            (
                slo("    sli: speed\n    objective: 0.9\n"),
                "slos[1] \"fast-checkout\": sli: \"speed\" is not an SLI",
            ),
            (
                slo("    sli: availability\n    objective: 0.9\n    window: fortnight\n"),
                "slos[1] \"fast-checkout\": window: \"fortnight\" is not a window",
            ),
            (
                slo("    sli: availability\n    objective: 0.9\n    target: 0.9\n"),
                "slos[1] \"fast-checkout\": target: is not a field of an SLO",
            ),
            (
                slo("    sli: latency\n    objective: 0.9\n"),
                "slos[1] \"fast-checkout\": threshold_ms: must be a positive number",
            ),
            (
                slo("    sli: ratio\n    objective: 0.9\n    group_by: service\n    good: sum(x)\n    total: sum(y[{{window}}])\n"),
                "slos[1] \"fast-checkout\": good: must contain {{window}}",
            ),
            (
                "slos:\n  - name: a\n    sli: availability\n    objective: 0.9\n  - name: a\n    sli: availability\n    objective: 0.9\n".to_owned(),
                "slos[1] \"a\": name: is used by an earlier SLO",
            ),
            (
                "slos:\n  - name: Checkout\n    sli: availability\n    objective: 0.9\n".to_owned(),
                "slos[0] \"Checkout\": name: must be 1 to 64 characters",
            ),
            (
                "window: 0d\nslos: []\n".to_owned(),
                "window: \"0d\" is not a window",
            ),
            (
                "slos: []\n".to_owned(),
                "slos: must hold 1 to 100 SLOs, holds 0",
            ),
            (
                format!("{}exclusions:\n  - {{start: 2026-12-06T04:00:00Z, end: 2026-12-06T02:00:00Z, reason: x}}\n", slo("    sli: availability\n    objective: 0.9\n")),
                "exclusions[0]: end: must be after start",
            ),
            (
                format!("{}exclusions:\n  - {{cron: \"0 3 * *\", duration: 1h, reason: x}}\n", slo("    sli: availability\n    objective: 0.9\n")),
                "exclusions[0]: cron: must be a five-field cron expression",
            ),
            (
                format!("{}exclusions:\n  - {{cron: \"0 3 * * SUN\", duration: 1h, time_zone: Mars/Base, reason: x}}\n", slo("    sli: availability\n    objective: 0.9\n")),
                "exclusions[0]: time_zone: \"Mars/Base\" is not an IANA time zone",
            ),
            (
                format!("{}exclusions:\n  - {{cron: \"0 3 * * SUN\", duration: 9d, reason: x}}\n", slo("    sli: availability\n    objective: 0.9\n")),
                "exclusions[0]: duration: must be like 90s",
            ),
            (
                "slos:\n  - name: a\n    sli: availability\n    objective: 0.9\nowner: me\n".to_owned(),
                "owner: is not a field of an SLO document",
            ),
            (
                slo("    sli: availability\n    objective: 0.9\n    burn_rate_alerts: [{severity: critical, burn_rate: 14.4, long_window: 5m, short_window: 1h}]\n"),
                "slos[1] \"fast-checkout\": burn_rate_alerts[0].short_window: must be shorter than long_window (5m)",
            ),
            (
                slo("    sli: availability\n    objective: 0.9\n    window: 2d\n    burn_rate_alerts: [{severity: warning, burn_rate: 1, long_window: 3d, short_window: 6h}]\n"),
                "slos[1] \"fast-checkout\": burn_rate_alerts[0].long_window: 3d is longer than the SLO's window (2d)",
            ),
            (
                format!("budget_alert_thresholds: [1.5]\n{}", slo("    sli: availability\n    objective: 0.9\n")),
                "budget_alert_thresholds[0]: 1.5 must be a share of the budget left, in [0, 1)",
            ),
            (
                format!("burn_rate_alerts: [{{severity: warning, burn_rate: 1, long_window: 3d, short_window: 6h}}]\n{}", slo("    sli: availability\n    objective: 0.9\n    window: 1d\n")),
                "slos[1] \"fast-checkout\": burn_rate_alerts[0].long_window: 3d is longer than the SLO's window (1d)",
            ),
        ] {
            let error = parse_slo_document(&document).expect_err(message).to_string();
            assert!(error.starts_with(message), "{message}\n  got {error}");
        }
    }

    #[test]
    fn durations_read_with_their_unit() {
        assert_eq!(duration_seconds("90s"), Some(90));
        assert_eq!(duration_seconds("30m"), Some(1_800));
        assert_eq!(duration_seconds("1h"), Some(3_600));
        assert_eq!(duration_seconds("7d"), Some(7 * 86_400));
        for bad in ["", "h", "1", "1w", "-1h", "0s", "8d"] {
            assert_eq!(duration_seconds(bad), None, "{bad}");
        }
    }
}
