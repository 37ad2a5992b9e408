//! When an SLO alerts: multi-window burn-rate rules (Google SRE Workbook, "Alerting on SLOs")
//! and budget thresholds, as data of the SLO document, validated with it.
//!
//! ```yaml
//! burn_rate_alerts:                # the document's default for every SLO; an SLO may set its own
//!   - {severity: critical, burn_rate: 14.4, long_window: 1h, short_window: 5m}
//! min_events: 100                  # no rule fires on fewer events in its long window
//! budget_alert_thresholds: [0.5, 0.25, 0]
//! budget_alert_severity: warning
//! ```
//!
//! A burn rate is the error ratio over the ratio the objective allows: at 1 the window's budget
//! is spent exactly as the window ends. Written rules are taken as they are; the default rules
//! are the Workbook's for a 30-day window, scaled to the SLO's (see [`default_rules`]).

use serde_json::{Map, Value};

use crate::severity::Severity;

use super::document::duration_seconds;
use super::window::Window;

/// Events a rule's long window must hold before it fires, unless the document says otherwise.
pub const DEFAULT_MIN_EVENTS: f64 = 100.0;
/// The shares of the window's budget left whose crossing is announced, by default.
pub const DEFAULT_BUDGET_THRESHOLDS: [f64; 3] = [0.5, 0.25, 0.0];
/// The window length the default rules' burn rates are written for, in days.
const DEFAULT_RULES_WINDOW_DAYS: f64 = 30.0;
/// The default rules at a 30-day window: severity, burn rate, long and short window (seconds).
const DEFAULT_RULES: [(Severity, f64, u32, u32); 4] = [
    (Severity::Critical, 14.4, 3_600, 300),
    (Severity::Critical, 6.0, 6 * 3_600, 1_800),
    (Severity::Warning, 3.0, 86_400, 2 * 3_600),
    (Severity::Warning, 1.0, 3 * 86_400, 6 * 3_600),
];
/// The longest window a rule may have.
const MAX_RULE_WINDOW_SECONDS: u32 = 7 * 86_400;

/// One multi-window burn-rate rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnRule {
    /// `critical` rules page; a page that was sent mutes the SLO's other rules for the service.
    pub severity: Severity,
    /// The burn rate both windows must reach.
    pub burn_rate: f64,
    /// The long window, in seconds.
    pub long_seconds: u32,
    /// The short window, in seconds; shorter than the long one.
    pub short_seconds: u32,
}

impl BurnRule {
    /// The rule's name in alerts: `1h/5m`.
    pub fn name(&self) -> String {
        format!(
            "{}/{}",
            duration_text(self.long_seconds),
            duration_text(self.short_seconds)
        )
    }

    /// Whether the rule pages.
    pub fn pages(&self) -> bool {
        self.severity == Severity::Critical
    }
}

/// `90s`, `5m`, `1h` or `3d`: the largest unit that divides `seconds`.
pub fn duration_text(seconds: u32) -> String {
    match seconds {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// How an SLO alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct Alerting {
    /// Its burn-rate rules; none turns burn-rate alerts off.
    pub burn_rules: Vec<BurnRule>,
    /// Events a rule's long window must hold before it fires.
    pub min_events: f64,
    /// The shares of the window's budget left (each in `[0, 1)`) whose crossing is announced.
    pub budget_thresholds: Vec<f64>,
    /// The budget alerts' severity.
    pub budget_severity: Severity,
}

impl Alerting {
    /// The defaults for an SLO over `window`.
    pub fn defaults(window: Window) -> Self {
        Self {
            burn_rules: default_rules(window),
            min_events: DEFAULT_MIN_EVENTS,
            budget_thresholds: DEFAULT_BUDGET_THRESHOLDS.to_vec(),
            budget_severity: Severity::Warning,
        }
    }
}

/// The window's length in days as burn rates see it: a calendar week 7, a month 30, a quarter
/// 90 (whatever the calendar says, so rules do not change from month to month).
pub fn nominal_days(window: Window) -> f64 {
    match window {
        Window::Rolling(days) => f64::from(days),
        Window::Week => 7.0,
        Window::Month => 30.0,
        Window::Quarter => 90.0,
    }
}

/// The Workbook's rules for `window`. Each 30-day rule means a share of the budget spent in
/// its long window: `burn_rate × long / 30 days`. Over a window of `W` days the same share is
/// spent at `burn_rate × W / 30`, so that is the rate used; a rule whose long window is longer
/// than the SLO's window is left out.
pub fn default_rules(window: Window) -> Vec<BurnRule> {
    let days = nominal_days(window);
    DEFAULT_RULES
        .iter()
        .filter(|(_, _, long, _)| f64::from(*long) <= days * 86_400.0)
        .map(|&(severity, rate, long_seconds, short_seconds)| BurnRule {
            severity,
            burn_rate: rate * days / DEFAULT_RULES_WINDOW_DAYS,
            long_seconds,
            short_seconds,
        })
        .collect()
}

/// The alerting fields of the document or of one SLO.
pub(crate) const ALERTING_FIELDS: [&str; 4] = [
    "burn_rate_alerts",
    "min_events",
    "budget_alert_thresholds",
    "budget_alert_severity",
];

/// What the document itself sets for every SLO; `None` where it keeps the defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct AlertingFields {
    burn_rules: Option<Vec<BurnRule>>,
    min_events: Option<f64>,
    budget_thresholds: Option<Vec<f64>>,
    budget_severity: Option<Severity>,
}

/// Reads the alerting fields of `map`; errors name the field (`burn_rate_alerts[1].burn_rate`).
pub(crate) fn alerting_fields(
    map: &Map<String, Value>,
) -> Result<AlertingFields, (String, String)> {
    let burn_rules = match map.get("burn_rate_alerts") {
        None => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    rule(item).map_err(|(field, problem)| {
                        (format!("burn_rate_alerts[{index}]{field}"), problem)
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(_) => {
            return Err((
                "burn_rate_alerts".to_owned(),
                "must be a list of rules (empty: no burn-rate alerts)".to_owned(),
            ))
        }
    };
    let min_events = match map.get("min_events") {
        None => None,
        Some(value) => Some(
            value
                .as_f64()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .ok_or_else(|| {
                    (
                        "min_events".to_owned(),
                        "must be a number of events, 0 or more".to_owned(),
                    )
                })?,
        ),
    };
    let budget_thresholds = match map.get("budget_alert_thresholds") {
        None => None,
        Some(Value::Array(items)) => {
            let mut thresholds = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                let threshold = item
                    .as_f64()
                    .filter(|t| (0.0..1.0).contains(t))
                    .ok_or_else(|| {
                        (
                            format!("budget_alert_thresholds[{index}]"),
                            format!("{item} must be a share of the budget left, in [0, 1)"),
                        )
                    })?;
                if thresholds.contains(&threshold) {
                    return Err((
                        format!("budget_alert_thresholds[{index}]"),
                        format!("{threshold} is listed twice"),
                    ));
                }
                thresholds.push(threshold);
            }
            Some(thresholds)
        }
        Some(_) => {
            return Err((
                "budget_alert_thresholds".to_owned(),
                "must be a list of shares of the budget left (empty: no budget alerts)".to_owned(),
            ))
        }
    };
    let budget_severity = match map.get("budget_alert_severity") {
        None => None,
        Some(value) => {
            Some(severity(value).map_err(|problem| ("budget_alert_severity".to_owned(), problem))?)
        }
    };
    Ok(AlertingFields {
        burn_rules,
        min_events,
        budget_thresholds,
        budget_severity,
    })
}

impl AlertingFields {
    /// The SLO's alerting over `window`: its own fields, else the document's (`document`), else
    /// the defaults. A rule longer than the window is an error naming the field.
    pub(crate) fn resolve(
        &self,
        document: &Self,
        window: Window,
    ) -> Result<Alerting, (String, String)> {
        let defaults = Alerting::defaults(window);
        let burn_rules = self
            .burn_rules
            .clone()
            .or_else(|| document.burn_rules.clone())
            .unwrap_or(defaults.burn_rules);
        let limit = nominal_days(window) * 86_400.0;
        if let Some(index) = burn_rules
            .iter()
            .position(|rule| f64::from(rule.long_seconds) > limit)
        {
            return Err((
                format!("burn_rate_alerts[{index}].long_window"),
                format!(
                    "{} is longer than the SLO's window ({})",
                    duration_text(burn_rules[index].long_seconds),
                    window.name()
                ),
            ));
        }
        Ok(Alerting {
            burn_rules,
            min_events: self
                .min_events
                .or(document.min_events)
                .unwrap_or(defaults.min_events),
            budget_thresholds: self
                .budget_thresholds
                .clone()
                .or_else(|| document.budget_thresholds.clone())
                .unwrap_or(defaults.budget_thresholds),
            budget_severity: self
                .budget_severity
                .or(document.budget_severity)
                .unwrap_or(defaults.budget_severity),
        })
    }
}

fn severity(value: &Value) -> Result<Severity, String> {
    match value.as_str() {
        Some("critical") => Ok(Severity::Critical),
        Some("warning") => Ok(Severity::Warning),
        Some("info") => Ok(Severity::Info),
        _ => Err(format!(
            "{value} is not a severity: critical, warning or info"
        )),
    }
}

/// One rule; errors name the field after the rule's index (`.burn_rate`).
fn rule(value: &Value) -> Result<BurnRule, (String, String)> {
    let map = value
        .as_object()
        .ok_or_else(|| (String::new(), "must be a mapping".to_owned()))?;
    if let Some(key) = map.keys().find(|key| {
        !["severity", "burn_rate", "long_window", "short_window"].contains(&key.as_str())
    }) {
        return Err((
            format!(".{key}"),
            "is not a field of a burn-rate rule".to_owned(),
        ));
    }
    let severity = severity(map.get("severity").unwrap_or(&Value::Null))
        .map_err(|problem| (".severity".to_owned(), problem))?;
    let burn_rate = map
        .get("burn_rate")
        .and_then(Value::as_f64)
        .filter(|rate| rate.is_finite() && *rate > 0.0)
        .ok_or_else(|| {
            (
                ".burn_rate".to_owned(),
                "must be a number above 0".to_owned(),
            )
        })?;
    let window = |field: &str| {
        map.get(field)
            .and_then(Value::as_str)
            .and_then(rule_window_seconds)
            .ok_or_else(|| {
                (
                    format!(".{field}"),
                    "must be a duration of whole minutes such as 5m, 1h or 3d, at most 7d"
                        .to_owned(),
                )
            })
    };
    let long_seconds = window("long_window")?;
    let short_seconds = window("short_window")?;
    if short_seconds >= long_seconds {
        return Err((
            ".short_window".to_owned(),
            format!(
                "must be shorter than long_window ({})",
                duration_text(long_seconds)
            ),
        ));
    }
    Ok(BurnRule {
        severity,
        burn_rate,
        long_seconds,
        short_seconds,
    })
}

/// `5m`, `1h`, `3d`: whole minutes up to [`MAX_RULE_WINDOW_SECONDS`].
fn rule_window_seconds(text: &str) -> Option<u32> {
    duration_seconds(text)
        .filter(|seconds| seconds % 60 == 0 && *seconds <= MAX_RULE_WINDOW_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_rules_keep_their_share_of_the_budget_at_any_window() {
        let thirty = default_rules(Window::Rolling(30));
        let names: Vec<String> = thirty.iter().map(BurnRule::name).collect();
        assert_eq!(names, ["1h/5m", "6h/30m", "1d/2h", "3d/6h"]);
        let rates: Vec<f64> = thirty.iter().map(|r| r.burn_rate).collect();
        assert_eq!(rates, [14.4, 6.0, 3.0, 1.0]);
        let share = |rule: &BurnRule, days: f64| {
            rule.burn_rate * f64::from(rule.long_seconds) / (days * 86_400.0)
        };
        // 14.4 over an hour of 30 days spends 2 % of the budget, as over an hour of 7 days.
        assert!((share(&thirty[0], 30.0) - 0.02).abs() < 1e-12);
        let week = default_rules(Window::Week);
        for (at_30, at_7) in thirty.iter().zip(&week) {
            assert!((share(at_30, 30.0) - share(at_7, 7.0)).abs() < 1e-12);
        }
        assert_eq!(default_rules(Window::Month), thirty);
        let two_days = default_rules(Window::Rolling(2));
        assert_eq!(
            two_days.len(),
            3,
            "the 3d rule is longer than a 2-day window"
        );
    }

    fn fields(yaml: &str) -> Result<AlertingFields, (String, String)> {
        let value: Value = serde_saphyr::from_str(yaml).expect("yaml");
        alerting_fields(value.as_object().expect("mapping"))
    }

    #[test]
    fn an_slo_s_own_fields_win_over_the_document_s_and_those_over_the_defaults() {
        let document = fields("min_events: 10\nbudget_alert_thresholds: [0.1]\n").expect("valid");
        let own = fields(
            "burn_rate_alerts: [{severity: warning, burn_rate: 2, long_window: 2h, short_window: 10m}]\nmin_events: 5\n",
        )
        .expect("valid");
        let alerting = own.resolve(&document, Window::Rolling(30)).expect("valid");
        assert_eq!(
            alerting.burn_rules,
            [BurnRule {
                severity: Severity::Warning,
                burn_rate: 2.0,
                long_seconds: 7_200,
                short_seconds: 600
            }]
        );
        assert!((alerting.min_events - 5.0).abs() < f64::EPSILON);
        assert_eq!(alerting.budget_thresholds, [0.1]);
        let inherited = AlertingFields::default()
            .resolve(&document, Window::Rolling(30))
            .expect("valid");
        assert!((inherited.min_events - 10.0).abs() < f64::EPSILON);
        assert_eq!(inherited.burn_rules, default_rules(Window::Rolling(30)));
        let off = fields("burn_rate_alerts: []\nbudget_alert_thresholds: []\n").expect("valid");
        let off = off.resolve(&document, Window::Rolling(30)).expect("valid");
        assert!(off.burn_rules.is_empty() && off.budget_thresholds.is_empty());
    }

    #[test]
    fn bad_rules_and_thresholds_are_named() {
        let cases = [
            (
                "burn_rate_alerts: [{severity: critical, burn_rate: 14.4, long_window: 5m, short_window: 1h}]",
                "burn_rate_alerts[0].short_window",
                "must be shorter than long_window (5m)",
            ),
            (
                "burn_rate_alerts: [{severity: critical, burn_rate: 0, long_window: 1h, short_window: 5m}]",
                "burn_rate_alerts[0].burn_rate",
                "must be a number above 0",
            ),
            (
                "burn_rate_alerts: [{severity: page, burn_rate: 1, long_window: 1h, short_window: 5m}]",
                "burn_rate_alerts[0].severity",
                "\"page\" is not a severity: critical, warning or info",
            ),
            (
                "burn_rate_alerts: [{severity: info, burn_rate: 1, long_window: 90s, short_window: 5m}]",
                "burn_rate_alerts[0].long_window",
                "must be a duration of whole minutes such as 5m, 1h or 3d, at most 7d",
            ),
            (
                "budget_alert_thresholds: [0.5, 1]",
                "budget_alert_thresholds[1]",
                "1 must be a share of the budget left, in [0, 1)",
            ),
            ("min_events: -1", "min_events", "must be a number of events, 0 or more"),
        ];
        for (yaml, field, problem) in cases {
            assert_eq!(
                fields(yaml),
                Err((field.to_owned(), problem.to_owned())),
                "{yaml}"
            );
        }
        let long = fields(
            "burn_rate_alerts: [{severity: warning, burn_rate: 1, long_window: 3d, short_window: 6h}]",
        )
        .expect("valid alone");
        assert_eq!(
            long.resolve(&AlertingFields::default(), Window::Rolling(1)),
            Err((
                "burn_rate_alerts[0].long_window".to_owned(),
                "3d is longer than the SLO's window (1d)".to_owned()
            ))
        );
    }
}
