//! Alerts published to an SNS topic.

use std::collections::HashMap;

use aws_sdk_sns::types::MessageAttributeValue;
use url::Url;

use crate::check::message::render;
use crate::check::plan::Notification;
use crate::ports::{AlertPublisher, PublishError};

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
                .map_err(|error| PublishError::new(notification, error))?;
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
            .map_err(|error| PublishError::new(notification, aws_sdk_sns::Error::from(error)))
    }
}
