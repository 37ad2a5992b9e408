//! What the person paged needs besides the alert: a description, a runbook, a dashboard and the
//! owning team, set on a check or an SLO (or once for a whole document). Every message format
//! carries them; `team` is also a message attribute for SNS filter policies.
//!
//! `runbook_url` and `dashboard_url` may hold `{{label}}` placeholders, replaced by the alert's
//! label values (`service`, any series label; `slo` and `rule` for SLO alerts), percent-encoded:
//! `https://grafana.example.com/d/svc?var-service={{service}}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The longest description.
const MAX_DESCRIPTION_CHARS: usize = 1_000;
/// The longest team name.
const MAX_TEAM_CHARS: usize = 64;

/// A check's or an SLO's annotations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Annotations {
    /// What the alert means, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What to do: an http(s) URL, `{{label}}` placeholders allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook_url: Option<String>,
    /// Where to look: an http(s) URL, `{{label}}` placeholders allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard_url: Option<String>,
    /// Who owns it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
}

/// The annotations' field names, as documents write them.
pub const ANNOTATION_FIELDS: [&str; 4] = ["description", "runbook_url", "dashboard_url", "team"];

impl Annotations {
    /// Whether none is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Each field as set here, else as in `defaults`.
    #[must_use]
    pub fn or(&self, defaults: &Self) -> Self {
        Self {
            description: self
                .description
                .clone()
                .or_else(|| defaults.description.clone()),
            runbook_url: self
                .runbook_url
                .clone()
                .or_else(|| defaults.runbook_url.clone()),
            dashboard_url: self
                .dashboard_url
                .clone()
                .or_else(|| defaults.dashboard_url.clone()),
            team: self.team.clone().or_else(|| defaults.team.clone()),
        }
    }

    /// Checks every field; the field at fault and what is wrong.
    ///
    /// # Errors
    /// `(field, problem)`.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if let Some(description) = &self.description {
            if description.trim().is_empty() || description.chars().count() > MAX_DESCRIPTION_CHARS
            {
                return Err((
                    "description",
                    format!("must be 1 to {MAX_DESCRIPTION_CHARS} characters"),
                ));
            }
        }
        for (field, url) in [
            ("runbook_url", &self.runbook_url),
            ("dashboard_url", &self.dashboard_url),
        ] {
            if let Some(url) = url {
                let sample = fill(url, &BTreeMap::new(), "x");
                let ok = url::Url::parse(&sample)
                    .is_ok_and(|parsed| matches!(parsed.scheme(), "http" | "https"));
                if !ok {
                    return Err((
                        field,
                        format!("{url:?} is not an http(s) URL (placeholders: {{{{label}}}})"),
                    ));
                }
            }
        }
        if let Some(team) = &self.team {
            let ok = !team.trim().is_empty()
                && team.chars().count() <= MAX_TEAM_CHARS
                && !team.chars().any(char::is_control);
            if !ok {
                return Err((
                    "team",
                    format!("must be 1 to {MAX_TEAM_CHARS} printable characters"),
                ));
            }
        }
        Ok(())
    }

    /// The annotations for an alert with `labels`: the URLs' placeholders replaced by the
    /// percent-encoded label values (a label the alert lacks is empty).
    #[must_use]
    pub fn resolve(&self, labels: &BTreeMap<String, String>) -> Self {
        Self {
            runbook_url: self.runbook_url.as_ref().map(|url| fill(url, labels, "")),
            dashboard_url: self.dashboard_url.as_ref().map(|url| fill(url, labels, "")),
            ..self.clone()
        }
    }
}

/// `template` with each `{{label}}` replaced by the label's percent-encoded value (`missing`
/// when the alert lacks it).
fn fill(template: &str, labels: &BTreeMap<String, String>, missing: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start + 2..].find("}}") else {
            break;
        };
        out.push_str(&rest[..start]);
        let name = rest[start + 2..start + 2 + end].trim();
        let value = labels.get(name).map_or(missing, String::as_str);
        out.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
        rest = &rest[start + 2 + end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_take_the_alert_s_labels_escaped_and_fields_fall_back_to_the_document_s() {
        let own = Annotations {
            dashboard_url: Some(
                "https://grafana.example.com/d/a?var-service={{service}}&z={{ zone }}".to_owned(),
            ),
            ..Annotations::default()
        };
        let document = Annotations {
            team: Some("payments".to_owned()),
            dashboard_url: Some("https://other.example.com".to_owned()),
            ..Annotations::default()
        };
        let merged = own.or(&document);
        assert_eq!(merged.team.as_deref(), Some("payments"));
        let labels: BTreeMap<String, String> =
            [("service".to_owned(), "check out&\"x\"".to_owned())].into();
        assert_eq!(
            merged.resolve(&labels).dashboard_url.as_deref(),
            Some("https://grafana.example.com/d/a?var-service=check+out%26%22x%22&z=")
        );
        assert!(merged.validate().is_ok());
    }

    #[test]
    fn bad_annotations_name_the_field() {
        let bad = |annotations: Annotations| annotations.validate().expect_err("refused").0;
        assert_eq!(
            bad(Annotations {
                runbook_url: Some("javascript:alert(1)".to_owned()),
                ..Annotations::default()
            }),
            "runbook_url"
        );
        assert_eq!(
            bad(Annotations {
                dashboard_url: Some("not a url {{service}}".to_owned()),
                ..Annotations::default()
            }),
            "dashboard_url"
        );
        assert_eq!(
            bad(Annotations {
                team: Some("a\nb".to_owned()),
                ..Annotations::default()
            }),
            "team"
        );
        assert_eq!(
            bad(Annotations {
                description: Some(String::new()),
                ..Annotations::default()
            }),
            "description"
        );
    }
}
