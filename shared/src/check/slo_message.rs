//! SLO alert messages: the same SNS publish as an anomaly alert's (`default` text, `email`,
//! and the JSON document for `sqs` and `lambda`), saying which SLO, both windows' burn rates
//! against the rule, the budget left and when it runs out at the current burn.
//!
//! Message attributes: `check` (`slo_burn` | `slo_budget`), `slo`, `rule` (`1h/5m` or
//! `budget-0.25`), `service`, `severity` and `state` (`firing` | `resolved`). The subject names
//! the SLO, the service and the rule.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::burn::{SloAlertKind, SloFacts, NO_DATA_RULE, SLO_ABSENT_AFTER_SECONDS};
use super::chat::custom_notification;
use super::lifecycle::Transition;
use super::message::{
    add_team, annotation_lines, attribute, links, number, printable, publish_body, subject_head,
    subject_line, time, RenderedMessage, ALERT_SCHEMA_VERSION,
};
use super::plan::Notification;
use crate::annotations::Annotations;

/// The JSON document of an SLO alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloAlertDocument<'a> {
    /// [`ALERT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `firing` or `resolved`.
    pub state: &'static str,
    /// `firing`, `repeat` or `resolved`.
    pub transition: Transition,
    /// `slo_burn` or `slo_budget`.
    pub check: &'static str,
    /// `critical`, `warning` or `info`.
    pub severity: &'static str,
    /// The SLO.
    pub slo: &'a str,
    /// The service.
    pub service: &'a str,
    /// The rule: `1h/5m`, or the budget threshold such as `budget-0.25`.
    pub rule: &'a str,
    /// The SLO's objective.
    pub objective: f64,
    /// The SLO's window: `30d`, `week`, `month` or `quarter`.
    pub window: &'a str,
    /// The rule's burn rate (burn-rate alerts).
    pub burn_rate: Option<f64>,
    /// The rule's long window, such as `1h`.
    pub long_window: Option<&'a str>,
    /// The rule's short window, such as `5m`.
    pub short_window: Option<&'a str>,
    /// The burn rate over the long window.
    pub long_burn_rate: Option<f64>,
    /// The burn rate over the short window.
    pub short_burn_rate: Option<f64>,
    /// The events in the long window.
    pub long_events: Option<f64>,
    /// The share of the window's budget left; `null` where the check reads no ledger.
    pub budget_remaining: Option<f64>,
    /// When the budget runs out at the short window's burn, RFC 3339; `null` when it does not
    /// within the window, or is not known.
    pub budget_exhausted_at: Option<String>,
    /// A budget alert's window: its first day.
    pub period: Option<String>,
    /// Firing since, RFC 3339.
    pub since: String,
    /// Evaluated at, RFC 3339.
    pub at: String,
    /// The SLO's description, runbook, dashboard and team, where set.
    pub annotations: &'a Annotations,
}

/// `99.9 %`.
fn percent(share: f64) -> String {
    format!("{} %", number(Some(share * 100.0)))
}

/// What the text and the email say of the budget.
fn budget_line(facts: &SloFacts) -> String {
    let left = facts.budget_remaining.map_or_else(
        || "not known (the check reads no ledger)".to_owned(),
        |left| format!("{} of the window's", percent(left)),
    );
    let runs_out = match (facts.budget_remaining, facts.budget_exhausted_at) {
        (_, Some(at)) => format!("; at the current burn it runs out {}", time(at)),
        (Some(_), None) => "; at the current burn it lasts the window".to_owned(),
        (None, None) => String::new(),
    };
    format!("Budget left: {left}{runs_out}.")
}

/// The JSON document of `notification` about `facts`, in `state`.
fn slo_document<'a>(
    notification: &'a Notification,
    facts: &'a SloFacts,
    state: &'static str,
) -> SloAlertDocument<'a> {
    SloAlertDocument {
        schema_version: ALERT_SCHEMA_VERSION,
        state,
        transition: notification.transition,
        check: facts.kind.as_str(),
        severity: notification.severity.as_str(),
        slo: &facts.slo,
        service: &facts.service,
        rule: &facts.rule,
        objective: facts.objective,
        window: &facts.window,
        burn_rate: facts.burn_rate,
        long_window: facts.long_window.as_deref(),
        short_window: facts.short_window.as_deref(),
        long_burn_rate: facts.long_burn_rate,
        short_burn_rate: facts.short_burn_rate,
        long_events: facts.long_events,
        budget_remaining: facts.budget_remaining,
        budget_exhausted_at: facts.budget_exhausted_at.map(time),
        period: facts.period.map(|day| day.to_string()),
        since: time(notification.since),
        at: time(notification.at),
        annotations: &notification.annotations,
    }
}

/// What happened, in words.
fn what(facts: &SloFacts, transition: Transition) -> &'static str {
    let no_data = facts.rule == NO_DATA_RULE;
    match (facts.kind, no_data, transition) {
        (SloAlertKind::SloBurn, true, Transition::Resolved) => "counts events again",
        (SloAlertKind::SloBurn, true, _) => "counts no events",
        (SloAlertKind::SloBurn, false, Transition::Firing) => "burns its error budget too fast",
        (SloAlertKind::SloBurn, false, Transition::Repeat) => {
            "still burns its error budget too fast"
        }
        (SloAlertKind::SloBurn, false, Transition::Resolved) => "no longer burns too fast",
        (SloAlertKind::SloBudget, _, Transition::Resolved) => "has its budget back above the line",
        (SloAlertKind::SloBudget, _, _) => "has used up its error budget down to the line",
    }
}

/// The figures line: both windows' burn rates against the rule's, the threshold, or the
/// absence.
fn figures(facts: &SloFacts, rule: &str) -> String {
    match (facts.burn_rate, &facts.long_window, &facts.short_window) {
        _ if facts.rule == NO_DATA_RULE => format!(
            "Its queries counted no event for {} minutes, after they had.",
            SLO_ABSENT_AFTER_SECONDS / 60
        ),
        (Some(rate), Some(long), Some(short)) => format!(
            "Burn rate {} over {long} and {} over {short}, against {} ({} in both fires).",
            number(facts.long_burn_rate),
            number(facts.short_burn_rate),
            number(Some(rate)),
            number(Some(rate)),
        ),
        _ => format!("Threshold: {rule} of the budget left."),
    }
}

/// Renders an SLO alert.
pub fn render(notification: &Notification, facts: &SloFacts) -> RenderedMessage {
    let state = if notification.transition == Transition::Resolved {
        "resolved"
    } else {
        "firing"
    };
    let kind = facts.kind.as_str();
    let document = slo_document(notification, facts, state);
    let document = serde_json::to_string(&document).unwrap_or_default();
    let (slo, service, rule) = (
        printable(&facts.slo),
        if facts.service.is_empty() {
            "all its services".to_owned()
        } else {
            printable(&facts.service)
        },
        printable(&facts.rule),
    );
    let what = what(facts, notification.transition);
    let objective = format!(
        "{} over {}",
        percent(facts.objective),
        printable(&facts.window)
    );
    let figures = figures(facts, &rule);
    let budget = budget_line(facts);
    let mut text = format!(
        "{} SLO {slo} ({objective}) for {service} {what}: {rule}.\n{figures}\n{budget}\nSince {}; evaluated at {}.",
        notification.severity.as_str().to_uppercase(),
        time(notification.since),
        time(notification.at),
    );
    let mut email = format!(
        "Vigil SLO alert: {slo} for {service} {what}\n\nSLO:       {slo} ({objective})\nService:   {service}\nRule:      {rule}\nSeverity:  {}\n{figures}\n{budget}\nSince:     {}\nEvaluated: {}\n",
        notification.severity.as_str(),
        time(notification.since),
        time(notification.at),
    );
    for (name, value) in annotation_lines(&notification.annotations) {
        let _ = write!(text, "\n{name}: {value}");
        let _ = writeln!(email, "{:<10} {value}", format!("{name}:"));
    }
    let subject = subject_line(&format!(
        "{} SLO {slo} {service} {rule}",
        subject_head(notification)
    ));
    let keywords = [
        Some(kind),
        Some(facts.slo.as_str()),
        Some(facts.service.as_str()),
        Some(notification.severity.as_str()),
        notification.annotations.team.as_deref(),
    ];
    let chat = custom_notification(
        notification,
        &subject,
        &text,
        &links(None, &notification.annotations),
        &keywords.into_iter().flatten().collect::<Vec<_>>(),
    );
    let message = publish_body(&text, &email, &document, &chat);
    let mut attributes = BTreeMap::from([
        ("check", kind.to_owned()),
        ("slo", attribute(&facts.slo)),
        ("rule", attribute(&facts.rule)),
        ("service", attribute(&facts.service)),
        ("severity", notification.severity.as_str().to_owned()),
        ("state", state.to_owned()),
    ]);
    add_team(&mut attributes, &notification.annotations);
    RenderedMessage {
        subject,
        message,
        text,
        document,
        attributes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::evaluate::Reading;
    use crate::check::lifecycle::AlertKey;
    use crate::severity::Severity;

    fn facts() -> SloFacts {
        SloFacts {
            kind: SloAlertKind::SloBurn,
            slo: "availability".to_owned(),
            service: "check\"out\n".to_owned(),
            rule: "1h/5m".to_owned(),
            objective: 0.999,
            window: "30d".to_owned(),
            burn_rate: Some(14.4),
            long_window: Some("1h".to_owned()),
            short_window: Some("5m".to_owned()),
            long_burn_rate: Some(18.25),
            short_burn_rate: Some(40.0),
            long_events: Some(12_000.0),
            budget_remaining: Some(0.62),
            budget_exhausted_at: Some(1_793_700_000),
            period: None,
        }
    }

    fn notification(transition: Transition) -> Notification {
        let facts = facts();
        Notification {
            key: AlertKey {
                check: "slo_burn:availability".to_owned(),
                labels: [
                    ("rule".to_owned(), facts.rule.clone()),
                    ("service".to_owned(), facts.service.clone()),
                ]
                .into(),
            },
            transition,
            severity: Severity::Critical,
            query: String::new(),
            at: 1_793_610_300,
            since: 1_793_610_000,
            reading: Reading::NONE,
            slo: Some(facts),
            annotations: crate::annotations::Annotations::default(),
            unit: crate::check::model::Unit::None,
        }
    }

    #[test]
    fn a_burn_alert_names_the_slo_the_service_and_the_rule_everywhere() {
        let rendered = super::super::message::render(&notification(Transition::Firing), None);
        assert_eq!(
            rendered.subject,
            "[FIRING critical] SLO availability check\"out  1h/5m"
        );
        assert_eq!(
            rendered.attributes,
            BTreeMap::from([
                ("check", "slo_burn".to_owned()),
                ("slo", "availability".to_owned()),
                ("rule", "1h/5m".to_owned()),
                ("service", "check\"out ".to_owned()),
                ("severity", "critical".to_owned()),
                ("state", "firing".to_owned()),
            ])
        );
        assert!(
            rendered.text.starts_with(
                "CRITICAL SLO availability (99.9 % over 30d) for check\"out  burns its error budget too fast: 1h/5m.\nBurn rate 18.25 over 1h and 40 over 5m, against 14.4"
            ),
            "{}",
            rendered.text
        );
        assert!(rendered.text.contains(
            "Budget left: 62 % of the window's; at the current burn it runs out 2026-11-03T"
        ));
        let document: serde_json::Value = serde_json::from_str(&rendered.document).expect("json");
        assert_eq!(document["check"], "slo_burn");
        assert_eq!(document["slo"], "availability");
        assert_eq!(document["service"], "check\"out\n", "JSON keeps the value");
        assert_eq!(document["long_burn_rate"], 18.25);
        assert_eq!(document["short_burn_rate"], 40.0);
        assert_eq!(document["budget_remaining"], 0.62);
        assert_eq!(document["budget_exhausted_at"], "2026-11-03T10:00:00Z");
        assert!(document.get("kind").is_none());
        assert_eq!(document["state"], "firing");
        let message: serde_json::Value = serde_json::from_str(&rendered.message).expect("json");
        assert_eq!(message["sqs"], rendered.document);
        assert!(message["email"]
            .as_str()
            .expect("email")
            .contains("Rule:      1h/5m"));
    }

    #[test]
    fn a_resolved_burn_alert_says_so() {
        let rendered = super::super::message::render(&notification(Transition::Resolved), None);
        assert_eq!(
            rendered.subject,
            "[RESOLVED] SLO availability check\"out  1h/5m"
        );
        assert_eq!(rendered.attributes["state"], "resolved");
        assert!(rendered.text.contains("no longer burns too fast"));
    }
}
