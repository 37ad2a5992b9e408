//! Silences: an on-call person's "not now" for alerts that match, over a window of evaluation
//! time. One JSON document holds them all:
//!
//! ```json
//! {"schema_version": 1, "silences": [
//!   {"id": "3f2a…", "matchers": [{"label": "service", "op": "=", "value": "checkout"},
//!                                {"label": "check", "op": "=~", "value": "latency_.*"}],
//!    "starts_at": "2026-12-04T10:00:00Z", "ends_at": "2026-12-04T12:00:00Z",
//!    "created_by": "arn:aws:iam::…:user/alice", "comment": "deploy 4711"}]}
//! ```
//!
//! A silence applies to an alert when `starts_at` ≤ the evaluation time < `ends_at` and every
//! matcher matches one of the alert's labels: its series' labels plus `check` (the check's
//! name; `slo_burn` or `slo_budget` for SLO alerts), `severity`, and for SLO alerts `slo` and
//! `rule`. `=` compares exactly, `=~` is an RE2 regular expression matched against the whole
//! value; a label the alert lacks is the empty string. The wall clock never decides.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::absence::no_data_of;
use super::plan::Notification;
pub use crate::matchers::{MatchOp, Matcher};

/// The version of [`SilencesDocument`]'s schema.
pub const SILENCES_SCHEMA_VERSION: u32 = 1;
/// The longest silence: a longer "not now" is a change to the checks, not a silence.
pub const MAX_SILENCE_SECONDS: i64 = 90 * 86_400;
/// How long after its end (in evaluation time) the check removes a silence.
pub const PRUNE_AFTER_SECONDS: i64 = 7 * 86_400;
/// The most silences one document holds.
pub const MAX_SILENCES: usize = 1_000;

/// One silence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    /// Its identity, for `silence expire`.
    pub id: String,
    /// All must match.
    pub matchers: Vec<Matcher>,
    /// The first instant it applies.
    pub starts_at: DateTime<Utc>,
    /// The first instant it no longer applies.
    pub ends_at: DateTime<Utc>,
    /// Who added it.
    pub created_by: String,
    /// Why.
    pub comment: String,
}

/// A silence that cannot be stored: the field and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct SilenceError {
    /// The field.
    pub field: String,
    /// What is wrong.
    pub problem: String,
}

fn error(field: impl Into<String>, problem: impl Into<String>) -> SilenceError {
    SilenceError {
        field: field.into(),
        problem: problem.into(),
    }
}

impl Silence {
    /// Checks what `add` requires.
    ///
    /// # Errors
    /// [`SilenceError`] naming the field.
    pub fn validate(&self) -> Result<(), SilenceError> {
        if self.matchers.is_empty() {
            return Err(error(
                "matchers",
                "at least one is needed; a silence of everything is a paused schedule",
            ));
        }
        for (index, matcher) in self.matchers.iter().enumerate() {
            matcher
                .check()
                .map_err(|problem| error(format!("matchers[{index}]"), problem))?;
        }
        if self.ends_at <= self.starts_at {
            return Err(error("ends_at", "must be after starts_at"));
        }
        if (self.ends_at - self.starts_at).num_seconds() > MAX_SILENCE_SECONDS {
            return Err(error("ends_at", "a silence lasts at most 90 days"));
        }
        if self.comment.trim().is_empty() {
            return Err(error("comment", "say why, for whoever is paged next"));
        }
        Ok(())
    }

    /// Whether it applies at evaluation time `now` (unix seconds).
    pub fn active_at(&self, now: i64) -> bool {
        self.starts_at.timestamp() <= now && now < self.ends_at.timestamp()
    }

    /// Whether every matcher matches `labels`.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matchers.iter().all(|m| m.matches(labels))
    }
}

/// Every stored silence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SilencesDocument {
    /// [`SILENCES_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The silences.
    pub silences: Vec<Silence>,
}

impl Default for SilencesDocument {
    fn default() -> Self {
        Self {
            schema_version: SILENCES_SCHEMA_VERSION,
            silences: Vec::new(),
        }
    }
}

impl SilencesDocument {
    /// Reads a stored document.
    ///
    /// # Errors
    /// What is wrong with it.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let document: Self = serde_json::from_slice(bytes).map_err(|error| error.to_string())?;
        if document.schema_version != SILENCES_SCHEMA_VERSION {
            return Err(format!(
                "unknown schema_version {}",
                document.schema_version
            ));
        }
        for (index, silence) in document.silences.iter().enumerate() {
            for (at, matcher) in silence.matchers.iter().enumerate() {
                matcher
                    .check()
                    .map_err(|problem| format!("silences[{index}].matchers[{at}]: {problem}"))?;
            }
        }
        Ok(document)
    }

    /// The stored form.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// The first silence that applies to an alert with `labels` at `now`.
    pub fn silencing(&self, labels: &BTreeMap<String, String>, now: i64) -> Option<&Silence> {
        self.silences
            .iter()
            .find(|s| s.active_at(now) && s.matches(labels))
    }

    /// Adds `silence` after checking it.
    ///
    /// # Errors
    /// [`SilenceError`] naming the field; nothing is added.
    pub fn add(&mut self, silence: Silence) -> Result<(), SilenceError> {
        silence.validate()?;
        if self.silences.len() >= MAX_SILENCES {
            return Err(error(
                "silences",
                format!("at most {MAX_SILENCES}; expire some first"),
            ));
        }
        if self.silences.iter().any(|s| s.id == silence.id) {
            return Err(error("id", "is taken"));
        }
        self.silences.push(silence);
        Ok(())
    }

    /// Ends silence `id` at `now` (it stays listed until pruned); one not started yet ends
    /// before it starts.
    ///
    /// # Errors
    /// When there is no such silence.
    pub fn expire(&mut self, id: &str, now: DateTime<Utc>) -> Result<(), SilenceError> {
        let silence = self
            .silences
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or_else(|| error("id", format!("no silence {id:?}")))?;
        silence.ends_at = silence.ends_at.min(now.max(silence.starts_at));
        Ok(())
    }

    /// Removes the silences that ended [`PRUNE_AFTER_SECONDS`] before `now`; whether any was.
    pub fn prune(&mut self, now: i64) -> bool {
        let before = self.silences.len();
        self.silences
            .retain(|s| now - s.ends_at.timestamp() < PRUNE_AFTER_SECONDS);
        self.silences.len() != before
    }
}

/// The labels silences match for `notification`: the series' labels, `check`, `severity`, and
/// for SLO alerts `slo` and `rule`.
pub fn alert_labels(notification: &Notification) -> BTreeMap<String, String> {
    let mut labels = notification.key.labels.clone();
    let check = match &notification.slo {
        Some(facts) => {
            labels.insert("slo".to_owned(), facts.slo.clone());
            labels.insert("rule".to_owned(), facts.rule.clone());
            labels.insert("service".to_owned(), facts.service.clone());
            facts.kind.as_str().to_owned()
        }
        None => no_data_of(&notification.key.check)
            .unwrap_or(&notification.key.check)
            .to_owned(),
    };
    labels.insert("check".to_owned(), check);
    labels.insert(
        "severity".to_owned(),
        notification.severity.as_str().to_owned(),
    );
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("time")
    }

    fn silence(matchers: &[&str], from: &str, to: &str) -> Silence {
        Silence {
            id: "s1".to_owned(),
            matchers: matchers
                .iter()
                .map(|m| Matcher::parse(m).expect("valid"))
                .collect(),
            starts_at: at(from),
            ends_at: at(to),
            created_by: "alice".to_owned(),
            comment: "deploy 4711".to_owned(),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_silence_applies_inside_its_window_when_every_matcher_matches() {
        let s = silence(
            &["service=checkout", "check=~latency_.*"],
            "2026-12-04T10:00:00Z",
            "2026-12-04T12:00:00Z",
        );
        let alert = labels(&[("service", "checkout"), ("check", "latency_p99")]);
        let start = at("2026-12-04T10:00:00Z").timestamp();
        assert!(s.active_at(start) && s.matches(&alert));
        assert!(!s.active_at(start - 1) && !s.active_at(start + 7_200));
        assert!(!s.matches(&labels(&[
            ("service", "checkout"),
            ("check", "error_ratio")
        ])));
        assert!(
            !s.matches(&labels(&[
                ("service", "checkout-eu"),
                ("check", "latency_p99")
            ])),
            "= is exact"
        );
        let anchored = silence(
            &["service=~check"],
            "2026-12-04T10:00:00Z",
            "2026-12-04T11:00:00Z",
        );
        assert!(!anchored.matches(&alert), "=~ matches the whole value");
    }

    #[test]
    fn bad_silences_are_refused_naming_the_field() {
        let from = "2026-12-04T10:00:00Z";
        let cases = [
            (silence(&[], from, "2026-12-04T11:00:00Z"), "matchers"),
            (silence(&["service=a"], from, from), "ends_at"),
            (
                silence(&["service=a"], from, "2027-06-04T10:00:00Z"),
                "ends_at",
            ),
        ];
        for (s, field) in cases {
            assert_eq!(s.validate().expect_err(field).field, field);
        }
        assert!(Matcher::parse("service=~(").is_err());
        assert!(Matcher::parse("service").is_err());
        assert!(Matcher::parse("=x").is_err());
        let mut quiet = silence(&["service=a"], from, "2026-12-04T11:00:00Z");
        quiet.comment = " ".to_owned();
        assert_eq!(quiet.validate().expect_err("comment").field, "comment");
    }

    #[test]
    fn expire_ends_a_silence_and_prune_forgets_it_a_week_later() {
        let mut document = SilencesDocument::default();
        document
            .add(silence(
                &["service=a"],
                "2026-12-04T10:00:00Z",
                "2026-12-04T12:00:00Z",
            ))
            .expect("added");
        assert!(
            document
                .add(silence(
                    &["service=b"],
                    "2026-12-04T10:00:00Z",
                    "2026-12-04T12:00:00Z"
                ))
                .is_err(),
            "ids are unique"
        );
        document
            .expire("s1", at("2026-12-04T11:00:00Z"))
            .expect("expired");
        assert_eq!(document.silences[0].ends_at, at("2026-12-04T11:00:00Z"));
        assert!(document.expire("nope", at("2026-12-04T11:00:00Z")).is_err());
        let ended = at("2026-12-04T11:00:00Z").timestamp();
        assert!(!document.prune(ended + PRUNE_AFTER_SECONDS - 1));
        assert!(document.prune(ended + PRUNE_AFTER_SECONDS));
        assert!(document.silences.is_empty());
        let bytes = SilencesDocument::default().to_bytes();
        assert_eq!(
            SilencesDocument::parse(&bytes).expect("round trip"),
            SilencesDocument::default()
        );
        assert!(SilencesDocument::parse(b"{\"schema_version\": 2, \"silences\": []}").is_err());
    }
}
