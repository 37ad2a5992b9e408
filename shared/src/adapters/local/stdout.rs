//! Alerts as JSON lines on stdout, for runs without a topic.

use std::io::Write as _;

use url::Url;

use crate::check::message::render;
use crate::check::plan::Notification;
use crate::ports::{AlertPublisher, PublishError};
use crate::telemetry::Event;

/// Writes each alert as one JSON line on stdout (`"message": "AlertNotified"`).
#[derive(Debug, Clone, Default)]
pub struct StdoutPublisher {
    graph_base: Option<Url>,
}

impl StdoutPublisher {
    /// A publisher whose links point at `graph_base` when given.
    pub fn new(graph_base: Option<Url>) -> Self {
        Self { graph_base }
    }
}

impl AlertPublisher for StdoutPublisher {
    async fn publish(&self, notification: &Notification) -> Result<(), PublishError> {
        let rendered = render(notification, self.graph_base.as_ref());
        let alert: serde_json::Value = serde_json::from_str(&rendered.document)
            .map_err(|error| PublishError::new(notification, error))?;
        let line = serde_json::json!({
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "level": "INFO",
            "message": Event::AlertNotified.name(),
            "subject": rendered.subject,
            "alert": alert,
        });
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}").map_err(|error| PublishError::new(notification, error))
    }
}
