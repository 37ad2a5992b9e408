//! The chat-ready form of a message: the custom notification that Amazon Q Developer in chat
//! applications (formerly AWS Chatbot) renders in Slack, Microsoft Teams or Chime when it is
//! subscribed to the topic. It goes under the publish's `https` key, so only that kind of
//! subscriber receives it; the schema is AWS's ("Custom notifications using Amazon Q Developer in
//! chat applications", Amazon Q Developer in chat applications administrator guide):
//! `version` "1.0", `source` "custom", `content` (`textType` "client-markdown", `title`,
//! `description`, `nextSteps`, `keywords`) and `metadata` (`threadId`, `summary`, `eventType`,
//! `additionalContext`). The `threadId` is the same for an alert's firing, repeats and
//! resolution, so they thread together.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash as _, Hasher as _};

use serde_json::{json, Value};

use super::lifecycle::Transition;
use super::plan::Notification;

/// A stable hex digest of `parts`.
fn digest(parts: &[&str]) -> String {
    let mut hasher = DefaultHasher::new();
    for part in parts {
        part.hash(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
}

/// Markdown that cannot break out of the text it stands in: backticks and asterisks, which the
/// chat platforms read as formatting, are replaced.
fn plain(text: &str) -> String {
    text.replace(['`', '*'], "'")
}

/// The custom notification for `notification`: `subject` as its title, `text` as its
/// description, `links` (`(name, url)`) as next steps, `keywords` to filter on.
pub fn custom_notification(
    notification: &Notification,
    subject: &str,
    text: &str,
    links: &[(&str, String)],
    keywords: &[&str],
) -> Value {
    let labels = serde_json::to_string(&notification.key.labels).unwrap_or_default();
    let since = notification.since.to_string();
    let at = notification.at.to_string();
    let transition = notification.transition.as_str();
    let icon = match (notification.transition, notification.severity.as_str()) {
        (Transition::Resolved, _) => ":white_check_mark:",
        (_, "critical") => ":red_circle:",
        (_, "warning") => ":large_orange_circle:",
        _ => ":large_blue_circle:",
    };
    let next_steps: Vec<String> = links
        .iter()
        .map(|(name, url)| format!("{name}: {url}"))
        .collect();
    let mut context = serde_json::Map::new();
    context.insert("check".to_owned(), json!(notification.key.check));
    for (name, value) in &notification.key.labels {
        context.insert(name.clone(), json!(value));
    }
    context.insert("severity".to_owned(), json!(notification.severity.as_str()));
    context.insert("transition".to_owned(), json!(transition));
    if let Some(team) = &notification.annotations.team {
        context.insert("team".to_owned(), json!(team));
    }
    json!({
        "version": "1.0",
        "source": "custom",
        "id": digest(&[&notification.key.check, &labels, &at, transition]),
        "content": {
            "textType": "client-markdown",
            "title": format!("{icon} {}", plain(subject)),
            "description": plain(text),
            "nextSteps": next_steps,
            "keywords": keywords,
        },
        "metadata": {
            "threadId": format!("vigil-{}", digest(&[&notification.key.check, &labels, &since])),
            "summary": plain(subject),
            "eventType": format!("vigil.alert.{transition}"),
            "additionalContext": context,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::annotations::Annotations;
    use crate::check::evaluate::Reading;
    use crate::check::lifecycle::AlertKey;
    use crate::severity::Severity;

    fn notification(transition: Transition, at: i64) -> Notification {
        Notification {
            key: AlertKey {
                check: "error_ratio".to_owned(),
                labels: [("service".to_owned(), "checkout".to_owned())].into(),
            },
            transition,
            severity: Severity::Critical,
            query: "q".to_owned(),
            at,
            since: 1_000,
            reading: Reading::NONE,
            slo: None,
            annotations: Annotations {
                team: Some("payments".to_owned()),
                ..Annotations::default()
            },
            unit: crate::check::model::Unit::None,
        }
    }

    #[test]
    fn an_alert_s_messages_share_a_thread_and_follow_the_custom_schema() {
        let firing = custom_notification(
            &notification(Transition::Firing, 1_000),
            "[FIRING critical] error_ratio checkout",
            "`rm -rf` *now*",
            &[("Runbook", "https://runbooks.example.com".to_owned())],
            &["error_ratio", "critical"],
        );
        let resolved = custom_notification(
            &notification(Transition::Resolved, 1_600),
            "[RESOLVED] error_ratio checkout",
            "back",
            &[],
            &[],
        );
        assert_eq!(firing["version"], "1.0");
        assert_eq!(firing["source"], "custom");
        assert_eq!(firing["content"]["textType"], "client-markdown");
        assert_eq!(firing["content"]["description"], "'rm -rf' 'now'");
        assert_eq!(
            firing["content"]["nextSteps"],
            json!(["Runbook: https://runbooks.example.com"])
        );
        assert_eq!(
            firing["metadata"]["threadId"],
            resolved["metadata"]["threadId"]
        );
        assert_ne!(firing["id"], resolved["id"]);
        assert_eq!(firing["metadata"]["additionalContext"]["team"], "payments");
        assert_eq!(
            firing["metadata"]["additionalContext"]["service"],
            "checkout"
        );
        assert!(resolved["content"]["title"]
            .as_str()
            .expect("title")
            .starts_with(":white_check_mark: "));
    }
}
