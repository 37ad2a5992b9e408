//! Alert messages as subscribers receive them.
//!
//! One [`Notification`] becomes one SNS publish with `MessageStructure=json`:
//!
//! - `default`: a few plain lines (SMS, chat, HTTPS endpoints without a protocol key);
//! - `email`: what, which series, value against the expected range, since when, and a link
//!   to the Prometheus graph of exactly that series;
//! - `sqs` and `lambda`: a versioned JSON document with every field ([`AlertDocument`]).
//!
//! The subject is at most 100 printable ASCII characters, as SNS requires; message
//! attributes `severity`, `service`, `check` and `state` (`firing` | `resolved`) let
//! subscribers filter. Label values come from metrics and are hostile by assumption: JSON is
//! written by serde, text has control characters replaced, and the graph query escapes them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat};
use serde::Serialize;
use url::Url;

use crate::annotations::Annotations;
use crate::check::absence::no_data_of;
use crate::check::chat::custom_notification;
use crate::check::detector::memory::Reason;
use crate::check::lifecycle::Transition;
use crate::check::model::Unit;
use crate::check::plan::Notification;
use crate::promql::quote;

/// The version of [`AlertDocument`]'s schema.
pub const ALERT_SCHEMA_VERSION: u32 = 1;
/// SNS' limit on subjects.
pub const MAX_SUBJECT_CHARS: usize = 100;

/// The JSON document for machine subscribers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertDocument<'a> {
    /// [`ALERT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `firing` or `resolved`.
    pub state: &'static str,
    /// `firing`, `repeat` or `resolved`.
    pub transition: Transition,
    /// The check.
    pub check: &'a str,
    /// `critical`, `warning` or `info`.
    pub severity: &'static str,
    /// The series labels.
    pub labels: &'a BTreeMap<String, String>,
    /// The newest value.
    pub value: Option<f64>,
    /// The baseline.
    pub expected: Option<f64>,
    /// The typical range's low end.
    pub expected_low: Option<f64>,
    /// The typical range's high end.
    pub expected_high: Option<f64>,
    /// The score, in proportion to the series' own past (the threshold means its bar).
    pub score: Option<f64>,
    /// Which of the series' scores that is: `point`, `sustained` or `daily`;
    /// `null` when resolved.
    pub reason: Option<Reason>,
    /// Anomalous since, RFC 3339.
    pub since: String,
    /// Evaluated at, RFC 3339.
    pub at: String,
    /// The check's PromQL.
    pub query: &'a str,
    /// The Prometheus graph of this series, if a graph URL is known.
    pub graph_url: Option<String>,
    /// The check's description, runbook, dashboard and team, where set.
    pub annotations: &'a Annotations,
    /// The unit of `value` and the expected range: `none`, `seconds`, `ratio`, `per_second`
    /// or `bytes` (the numbers themselves stay plain).
    pub unit: Unit,
}

/// An SNS publish, rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedMessage {
    /// The subject.
    pub subject: String,
    /// The `MessageStructure=json` body.
    pub message: String,
    /// The plain `default` text.
    pub text: String,
    /// The JSON document (also the `sqs` and `lambda` entries).
    pub document: String,
    /// Message attributes: name → string value.
    pub attributes: BTreeMap<&'static str, String>,
}

pub(super) fn time(seconds: i64) -> String {
    DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Replaces control characters so a value stays on its line.
pub(super) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `service="checkout", zone="a"`, with values escaped as PromQL strings.
fn describe_labels(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "(no labels)".to_owned();
    }
    labels
        .iter()
        .map(|(name, value)| format!("{}={}", printable(name), quote(value)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn number(value: Option<f64>) -> String {
    Unit::None.show(value)
}

/// The PromQL that shows exactly the alert's series: the check's query restricted to the
/// series' labels with `label_replace` over `vector(1)`, every value escaped.
pub fn series_query(query: &str, labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return query.to_owned();
    }
    let mut selector = "vector(1)".to_owned();
    for (name, value) in labels {
        // `$` starts a capture-group reference in label_replace's replacement: double it.
        selector = format!(
            "label_replace({selector}, {}, {}, \"\", \"\")",
            quote(name),
            quote(&value.replace('$', "$$"))
        );
    }
    let names: Vec<&str> = labels.keys().map(String::as_str).collect();
    format!("({query}) and on ({}) {selector}", names.join(", "))
}

/// A link to the Prometheus graph page for the series, six hours up to the evaluation.
pub fn graph_url(base: &Url, notification: &Notification) -> Option<String> {
    let mut url = base.join("graph").ok()?;
    url.query_pairs_mut()
        .append_pair(
            "g0.expr",
            &series_query(&notification.query, &notification.key.labels),
        )
        .append_pair("g0.tab", "0")
        .append_pair("g0.range_input", "6h")
        .append_pair(
            "g0.end_input",
            &time(notification.at).replace('T', " ").replace('Z', ""),
        );
    Some(url.to_string())
}

/// What happened to the series, in words.
fn what(no_data: bool, transition: Transition) -> &'static str {
    match (no_data, transition) {
        (false, Transition::Firing) => "is anomalous",
        (false, Transition::Repeat) => "is still anomalous",
        (false, Transition::Resolved) => "is back to normal",
        (true, Transition::Firing) => "has no data",
        (true, Transition::Repeat) => "still has no data",
        (true, Transition::Resolved) => "reports data again",
    }
}

/// The check a message is about, and whether it is that check's no-data alert.
fn check_of(notification: &Notification) -> (&str, bool) {
    match no_data_of(&notification.key.check) {
        Some(check) => (check, true),
        None => (&notification.key.check, false),
    }
}

/// `[FIRING critical]`, `[STILL FIRING warning]` or `[RESOLVED]`.
pub(super) fn subject_head(notification: &Notification) -> String {
    match notification.transition {
        Transition::Firing => format!("[FIRING {}]", notification.severity.as_str()),
        Transition::Repeat => format!("[STILL FIRING {}]", notification.severity.as_str()),
        Transition::Resolved => "[RESOLVED]".to_owned(),
    }
}

fn subject(notification: &Notification) -> String {
    let head = subject_head(notification);
    let series = notification
        .key
        .labels
        .get("service")
        .cloned()
        .unwrap_or_else(|| {
            notification
                .key
                .labels
                .values()
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        });
    let (check, no_data) = check_of(notification);
    let gone = if no_data { " no data" } else { "" };
    subject_line(&format!("{head} {check} {series}{gone}"))
}

/// `raw` as SNS takes subjects: printable ASCII, no line breaks, under 100 characters.
pub(super) fn subject_line(raw: &str) -> String {
    let ascii: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    let trimmed = ascii.trim();
    if trimmed.chars().count() <= MAX_SUBJECT_CHARS {
        trimmed.to_owned()
    } else {
        format!("{}...", &trimmed[..MAX_SUBJECT_CHARS - 3])
    }
}

/// Renders a notification; `graph_base` is the Prometheus UI root for links.
pub fn render(notification: &Notification, graph_base: Option<&Url>) -> RenderedMessage {
    if let Some(facts) = &notification.slo {
        return super::slo_message::render(notification, facts);
    }
    let reading = &notification.reading;
    let unit = notification.unit;
    let (check, no_data) = check_of(notification);
    let state = if notification.transition == Transition::Resolved {
        "resolved"
    } else {
        "firing"
    };
    let graph = graph_base.and_then(|base| graph_url(base, notification));
    // A no-data alert says so in every message, its resolution too.
    let reason = reading
        .reason
        .filter(|_| no_data || notification.transition != Transition::Resolved);
    let document = AlertDocument {
        schema_version: ALERT_SCHEMA_VERSION,
        state,
        transition: notification.transition,
        check,
        severity: notification.severity.as_str(),
        labels: &notification.key.labels,
        value: reading.value,
        expected: reading.expected,
        expected_low: reading.expected_low,
        expected_high: reading.expected_high,
        score: reading.score,
        reason,
        since: time(notification.since),
        at: time(notification.at),
        query: &notification.query,
        graph_url: graph.clone(),
        annotations: &notification.annotations,
        unit,
    };
    let document = serde_json::to_string(&document).unwrap_or_default();
    let series = describe_labels(&notification.key.labels);
    let what = what(no_data, notification.transition);
    let range = format!(
        "{} (typical {} to {})",
        unit.show(reading.expected),
        unit.show(reading.expected_low),
        unit.show(reading.expected_high)
    );
    let why = reason.map(Reason::describe);
    let mut text = format!(
        "{} {}: {series} {what}.\nValue {}, expected {range}.{}\nAnomalous since {}; evaluated at {}.",
        notification.severity.as_str().to_uppercase(),
        check,
        unit.show(reading.value),
        why.map(|why| format!("\nWhy: {why}.")).unwrap_or_default(),
        time(notification.since),
        time(notification.at),
    );
    let mut email = format!(
        "Vigil alert: {} {what}\n\nCheck:     {}\nSeverity:  {}\nSeries:    {series}\nValue:     {}\nExpected:  {range}\nScore:     {}\n{}Since:     {}\nEvaluated: {}\nQuery:     {}\n",
        check,
        check,
        notification.severity.as_str(),
        unit.show(reading.value),
        number(reading.score),
        why.map(|why| format!("Why:       {why}\n")).unwrap_or_default(),
        time(notification.since),
        time(notification.at),
        printable(&notification.query),
    );
    if let Some(graph) = &graph {
        let _ = write!(text, "\nGraph: {graph}");
        let _ = write!(email, "\nGraph of this series:\n{graph}\n");
    }
    for (name, value) in annotation_lines(&notification.annotations) {
        let _ = write!(text, "\n{name}: {value}");
        let _ = writeln!(email, "{:<10} {value}", format!("{name}:"));
    }
    let subject = subject(notification);
    let keywords = [
        Some(check),
        Some(notification.severity.as_str()),
        notification.key.labels.get("service").map(String::as_str),
        notification.annotations.team.as_deref(),
    ];
    let chat = custom_notification(
        notification,
        &subject,
        &text,
        &links(graph, &notification.annotations),
        &keywords.into_iter().flatten().collect::<Vec<_>>(),
    );
    let message = publish_body(&text, &email, &document, &chat);
    RenderedMessage {
        subject,
        message,
        text,
        document,
        attributes: attributes(notification, state),
    }
}

/// The message attributes subscribers filter on: printable, at most 256 characters, never empty.
/// A message attribute's value: printable, at most 256 characters, never empty.
pub(super) fn attribute(value: &str) -> String {
    let value = printable(value);
    let value: String = value.chars().take(256).collect();
    if value.trim().is_empty() {
        "-".to_owned()
    } else {
        value
    }
}

fn attributes(notification: &Notification, state: &str) -> BTreeMap<&'static str, String> {
    let mut attributes = BTreeMap::from([
        ("severity", notification.severity.as_str().to_owned()),
        (
            "service",
            attribute(
                notification
                    .key
                    .labels
                    .get("service")
                    .map_or("", String::as_str),
            ),
        ),
        ("check", attribute(check_of(notification).0)),
        ("state", state.to_owned()),
    ]);
    add_team(&mut attributes, &notification.annotations);
    attributes
}

/// The `MessageStructure=json` body: a form per kind of subscriber.
pub(super) fn publish_body(
    text: &str,
    email: &str,
    document: &str,
    chat: &serde_json::Value,
) -> String {
    serde_json::json!({
        "default": text,
        "email": email,
        "sqs": document,
        "lambda": document,
        "https": chat.to_string(),
    })
    .to_string()
}

/// The links a chat message offers as next steps: the graph, the runbook, the dashboard.
pub(super) fn links(
    graph: Option<String>,
    annotations: &Annotations,
) -> Vec<(&'static str, String)> {
    [
        ("Graph", graph),
        ("Runbook", annotations.runbook_url.clone()),
        ("Dashboard", annotations.dashboard_url.clone()),
    ]
    .into_iter()
    .filter_map(|(name, url)| Some((name, url?)))
    .collect()
}

/// The `team` attribute, where the annotations name one.
pub(super) fn add_team(attributes: &mut BTreeMap<&'static str, String>, annotations: &Annotations) {
    if let Some(team) = &annotations.team {
        attributes.insert("team", attribute(team));
    }
}

/// The annotations set, as `(name, value)` lines for text and email: description, runbook,
/// dashboard, team.
pub(super) fn annotation_lines(annotations: &Annotations) -> Vec<(&'static str, String)> {
    [
        ("About", &annotations.description),
        ("Runbook", &annotations.runbook_url),
        ("Dashboard", &annotations.dashboard_url),
        ("Team", &annotations.team),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.as_deref().map(|v| (name, printable(v))))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::evaluate::Reading;
    use crate::check::lifecycle::AlertKey;
    use crate::check::model::Severity;

    fn notification(service: &str, transition: Transition) -> Notification {
        Notification {
            key: AlertKey {
                check: "error_ratio".to_owned(),
                labels: [("service".to_owned(), service.to_owned())].into(),
            },
            transition,
            severity: Severity::Critical,
            query: "sum by (service) (rate(x[5m]))".to_owned(),
            at: 1_793_610_300,
            since: 1_793_610_000,
            reading: Reading {
                value: Some(0.042),
                expected: Some(0.001),
                expected_low: Some(0.0005),
                expected_high: Some(0.002),
                score: Some(0.93),
                reason: Some(Reason::Sustained),
            },
            slo: None,
            annotations: crate::annotations::Annotations::default(),
            unit: crate::check::model::Unit::None,
        }
    }

    fn base() -> Url {
        Url::parse("http://prometheus:9090/").expect("url")
    }

    #[test]
    fn annotations_reach_every_format_and_team_is_an_attribute() {
        let mut annotated = notification("checkout", Transition::Firing);
        annotated.annotations = crate::annotations::Annotations {
            description: Some("Share of 5xx answers".to_owned()),
            runbook_url: Some("https://runbooks.example.com/errors".to_owned()),
            dashboard_url: None,
            team: Some("payments".to_owned()),
        };
        let rendered = render(&annotated, None);
        assert_eq!(rendered.attributes["team"], "payments");
        assert!(rendered
            .text
            .ends_with("\nAbout: Share of 5xx answers\nRunbook: https://runbooks.example.com/errors\nTeam: payments"));
        let message: serde_json::Value = serde_json::from_str(&rendered.message).expect("json");
        assert!(message["email"]
            .as_str()
            .expect("email")
            .contains("Runbook:   https://runbooks.example.com/errors\n"));
        let document: serde_json::Value = serde_json::from_str(&rendered.document).expect("json");
        assert_eq!(document["annotations"]["team"], "payments");
        assert!(document["annotations"].get("dashboard_url").is_none());
        let plain = render(&notification("checkout", Transition::Firing), None);
        assert!(!plain.attributes.contains_key("team"));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&plain.document).expect("json")
                ["annotations"],
            serde_json::json!({})
        );
    }

    #[test]
    fn a_firing_message_has_every_part() {
        let rendered = render(&notification("checkout", Transition::Firing), Some(&base()));
        assert_eq!(rendered.subject, "[FIRING critical] error_ratio checkout");
        let message: serde_json::Value = serde_json::from_str(&rendered.message).expect("json");
        for key in ["default", "email", "sqs", "lambda", "https"] {
            assert!(message[key].is_string(), "{key}");
        }
        let chat: serde_json::Value =
            serde_json::from_str(message["https"].as_str().expect("https")).expect("json");
        assert_eq!(chat["source"], "custom");
        assert_eq!(
            chat["content"]["title"],
            ":red_circle: [FIRING critical] error_ratio checkout"
        );
        assert!(chat["content"]["nextSteps"][0]
            .as_str()
            .expect("the graph")
            .starts_with("Graph: http://prometheus:9090/graph?"));
        let email = message["email"].as_str().expect("email");
        assert!(email.contains("Series:    service=\"checkout\""), "{email}");
        assert!(email.contains("Value:     0.042"), "{email}");
        assert!(
            email.contains("Expected:  0.001 (typical 0.0005 to 0.002)"),
            "{email}"
        );
        assert!(email.contains("Since:     2026-11-02T09:00:00Z"), "{email}");
        assert!(
            email.contains("Why:       the mean of the newest points has moved"),
            "{email}"
        );
        assert!(
            rendered
                .text
                .contains("\nWhy: the mean of the newest points has moved."),
            "{}",
            rendered.text
        );
        assert!(
            email.contains("http://prometheus:9090/graph?g0.expr="),
            "{email}"
        );
        let document: serde_json::Value =
            serde_json::from_str(message["sqs"].as_str().expect("sqs")).expect("json");
        assert_eq!(document["schema_version"], 1);
        assert_eq!(document["state"], "firing");
        assert_eq!(document["labels"]["service"], "checkout");
        assert_eq!(document["reason"], "sustained");
        assert_eq!(rendered.attributes["state"], "firing");
        assert_eq!(rendered.attributes["service"], "checkout");
        assert_eq!(rendered.attributes["severity"], "critical");
        let resolved = render(&notification("checkout", Transition::Resolved), None);
        assert_eq!(resolved.subject, "[RESOLVED] error_ratio checkout");
        assert_eq!(resolved.attributes["state"], "resolved");
        let document: serde_json::Value = serde_json::from_str(&resolved.document).expect("json");
        assert!(
            document["reason"].is_null(),
            "no reason to be back to normal"
        );
        assert!(!resolved.text.contains("Why:"), "{}", resolved.text);
        let repeat = render(&notification("checkout", Transition::Repeat), None);
        assert_eq!(repeat.attributes["state"], "firing");
        assert!(repeat.text.contains("Why:"), "{}", repeat.text);
    }

    #[test]
    fn hostile_labels_cannot_break_subject_json_or_query() {
        let hostile = "a\"}\n) or vector(1) # ✓ $1 \u{7}".repeat(8);
        let rendered = render(&notification(&hostile, Transition::Firing), Some(&base()));
        assert!(rendered.subject.chars().count() <= MAX_SUBJECT_CHARS);
        assert!(
            rendered
                .subject
                .chars()
                .all(|c| c.is_ascii_graphic() || c == ' '),
            "{}",
            rendered.subject
        );
        let message: serde_json::Value =
            serde_json::from_str(&rendered.message).expect("still JSON");
        let document: serde_json::Value =
            serde_json::from_str(message["sqs"].as_str().expect("sqs")).expect("still JSON");
        assert_eq!(
            document["labels"]["service"],
            hostile.as_str(),
            "the value arrives intact"
        );
        assert!(!rendered.text.contains('\u{7}'));
        assert!(!rendered.attributes["service"].contains('\n'));
        let query = series_query("up", &[("service".to_owned(), hostile.clone())].into());
        assert_eq!(query.matches("label_replace(").count(), 1);
        assert!(
            query.contains("$$1"),
            "capture references are neutralised: {query}"
        );
    }

    #[test]
    fn the_series_query_selects_exactly_the_labels() {
        let labels = [
            ("service".to_owned(), "api".to_owned()),
            ("zone".to_owned(), "b".to_owned()),
        ]
        .into();
        assert_eq!(
            series_query("up", &labels),
            r#"(up) and on (service, zone) label_replace(label_replace(vector(1), "service", "api", "", ""), "zone", "b", "", "")"#
        );
    }
}
