//! Mute windows: recurring (`cron`, `duration`, `time_zone`) or one-off (`start`, `end`) times
//! when the messages of the alerts that match are kept back, for nightly batch jobs and planned
//! maintenance. Written in the checks document or the SLO document:
//!
//! ```yaml
//! mute_windows:
//!   - {cron: "0 2 * * *", duration: 2h, time_zone: Europe/Berlin, match: ["service=~batch-.*"], reason: "nightly batch"}
//!   - {start: 2026-12-06T02:00:00Z, end: 2026-12-06T04:00:00Z, match: [service=payments], reason: "db migration"}
//! ```
//!
//! They only mute messages, as a silence does; an SLO's `exclusions` also correct its budget.

use std::collections::BTreeMap;

use chrono::DateTime;
use serde_json::Value;

use super::document::{parse_when, When};
use super::exclusions::applies_at;
use crate::matchers::Matcher;

/// One mute window.
#[derive(Debug, Clone, PartialEq)]
pub struct MuteWindow {
    /// When it applies.
    pub when: When,
    /// All must match.
    pub matchers: Vec<Matcher>,
    /// Why, for people.
    pub reason: String,
}

impl MuteWindow {
    /// Whether it keeps back the messages of an alert with `labels` at `now` (unix seconds).
    pub fn mutes(&self, labels: &BTreeMap<String, String>, now: i64) -> bool {
        self.matchers.iter().all(|m| m.matches(labels))
            && applies_at(
                &self.when,
                DateTime::from_timestamp(now, 0).unwrap_or_default(),
            )
    }
}

/// The `mute_windows` list of a document; an error names the field
/// (`mute_windows[0].match[1]`) and the problem.
///
/// # Errors
/// `(field, problem)`.
pub fn parse_mute_windows(value: Option<&Value>) -> Result<Vec<MuteWindow>, (String, String)> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(("mute_windows".to_owned(), "must be a list".to_owned())),
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let error =
                |field: &str, problem: String| (format!("mute_windows[{index}].{field}"), problem);
            let map = item.as_object().ok_or_else(|| {
                (
                    format!("mute_windows[{index}]"),
                    "must be a mapping".to_owned(),
                )
            })?;
            let known = [
                "start",
                "end",
                "cron",
                "duration",
                "time_zone",
                "match",
                "reason",
            ];
            if let Some(key) = map.keys().find(|key| !known.contains(&key.as_str())) {
                return Err(error(key, "is not a field of a mute window".to_owned()));
            }
            let when = parse_when(map, &error)?;
            let matchers =
                match map.get("match") {
                    Some(Value::Array(texts)) if !texts.is_empty() => texts
                        .iter()
                        .enumerate()
                        .map(|(at, text)| {
                            text.as_str()
                                .ok_or_else(|| "must be a string".to_owned())
                                .and_then(Matcher::parse)
                                .map_err(|problem| error(&format!("match[{at}]"), problem))
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    _ => return Err(error(
                        "match",
                        "must list one or more matchers such as service=batch or check=~latency_.*"
                            .to_owned(),
                    )),
                };
            let reason = map
                .get("reason")
                .and_then(Value::as_str)
                .filter(|reason| !reason.trim().is_empty())
                .ok_or_else(|| error("reason", "must say why".to_owned()))?
                .to_owned();
            Ok(MuteWindow {
                when,
                matchers,
                reason,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Vec<MuteWindow>, (String, String)> {
        let value: Value = serde_saphyr::from_str(yaml).expect("yaml");
        parse_mute_windows(value.get("mute_windows"))
    }

    #[test]
    fn a_nightly_window_mutes_its_services_in_its_hours_only() {
        let windows = parse(
            "mute_windows:\n  - {cron: \"0 2 * * *\", duration: 2h, time_zone: Europe/Berlin, match: [\"service=~batch-.*\"], reason: nightly batch}\n",
        )
        .expect("valid");
        let batch: BTreeMap<String, String> =
            [("service".to_owned(), "batch-eu".to_owned())].into();
        let web: BTreeMap<String, String> = [("service".to_owned(), "web".to_owned())].into();
        let at = |text: &str| {
            text.parse::<DateTime<chrono::Utc>>()
                .expect("time")
                .timestamp()
        };
        // 02:00 to 04:00 in Berlin is 01:00 to 03:00 UTC in winter.
        assert!(windows[0].mutes(&batch, at("2026-12-04T01:30:00Z")));
        assert!(!windows[0].mutes(&batch, at("2026-12-04T03:00:00Z")));
        assert!(!windows[0].mutes(&web, at("2026-12-04T01:30:00Z")));
    }

    #[test]
    fn bad_windows_name_the_field() {
        let field = |yaml: &str| parse(yaml).expect_err("refused").0;
        assert_eq!(
            field("mute_windows:\n  - {cron: \"0 2 * * *\", duration: 2h, reason: x}\n"),
            "mute_windows[0].match"
        );
        assert_eq!(
            field("mute_windows:\n  - {start: 2026-12-06T04:00:00Z, end: 2026-12-06T02:00:00Z, match: [service=a], reason: x}\n"),
            "mute_windows[0].end"
        );
        assert_eq!(
            field("mute_windows:\n  - {cron: \"0 2 * * *\", duration: 2h, match: [\"service=~(\"], reason: x}\n"),
            "mute_windows[0].match[0]"
        );
        assert_eq!(
            field("mute_windows:\n  - {cron: \"0 2 * * *\", duration: 2h, match: [service=a]}\n"),
            "mute_windows[0].reason"
        );
    }
}
