//! Alert publishers: an SNS topic, or JSON lines on stdout for runs without a topic.

use std::collections::HashMap;
use std::io::Write as _;

use aws_sdk_sns::types::MessageAttributeValue;
use thiserror::Error;
use url::Url;

use crate::anomaly::Notification;
use crate::message::render;
use crate::ports::AlertPublisher;

/// A message the service did not accept.
#[derive(Debug, Error)]
#[error("could not publish {check} {transition}: {source}")]
pub struct PublishError {
    /// The check.
    pub check: String,
    /// `firing`, `repeat` or `resolved`.
    pub transition: String,
    /// The service's error.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

fn publish_error(
    notification: &Notification,
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> PublishError {
    PublishError {
        check: notification.key.check.clone(),
        transition: serde_json::to_value(notification.transition)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        source: source.into(),
    }
}

/// Publishes to an SNS topic with `MessageStructure=json` and filterable attributes.
#[derive(Debug, Clone)]
pub struct SnsPublisher {
    client: aws_sdk_sns::Client,
    topic_arn: String,
    graph_base: Option<Url>,
}

impl SnsPublisher {
    /// A publisher to `topic_arn`; links point at `graph_base` when given.
    pub fn new(
        client: aws_sdk_sns::Client,
        topic_arn: impl Into<String>,
        graph_base: Option<Url>,
    ) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
            graph_base,
        }
    }
}

impl AlertPublisher for SnsPublisher {
    async fn publish(&self, notification: &Notification) -> Result<(), PublishError> {
        let rendered = render(notification, self.graph_base.as_ref());
        let mut attributes = HashMap::new();
        for (name, value) in rendered.attributes {
            let value = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|error| publish_error(notification, error))?;
            attributes.insert(name.to_owned(), value);
        }
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(rendered.subject)
            .message(rendered.message)
            .message_structure("json")
            .set_message_attributes(Some(attributes))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| publish_error(notification, aws_sdk_sns::Error::from(error)))
    }
}

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
            .map_err(|error| publish_error(notification, error))?;
        let line = serde_json::json!({
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "level": "INFO",
            "message": "AlertNotified",
            "subject": rendered.subject,
            "alert": alert,
        });
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}").map_err(|error| publish_error(notification, error))
    }
}

/// The publisher chosen by configuration.
#[derive(Debug, Clone)]
pub enum ConfiguredPublisher {
    /// SNS.
    Sns(SnsPublisher),
    /// Stdout.
    Stdout(StdoutPublisher),
}

impl AlertPublisher for ConfiguredPublisher {
    async fn publish(&self, notification: &Notification) -> Result<(), PublishError> {
        match self {
            Self::Sns(publisher) => publisher.publish(notification).await,
            Self::Stdout(publisher) => publisher.publish(notification).await,
        }
    }
}
