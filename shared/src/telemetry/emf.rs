//! The CloudWatch Embedded Metric Format (EMF) line each invocation writes once.

use std::collections::BTreeMap;
use std::io::Write as _;

use serde_json::{json, Map, Value};

use super::Event;

/// The CloudWatch namespace of Vigil's metrics.
pub const METRICS_NAMESPACE: &str = "Vigil";

/// The unit of an EMF metric.
#[derive(Debug, Clone, Copy)]
pub enum Unit {
    /// A count.
    Count,
    /// Milliseconds.
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Milliseconds => "Milliseconds",
        }
    }
}

/// One EMF line: metrics with a few low-cardinality dimensions.
#[derive(Debug, Clone)]
pub struct MetricsLine {
    dimensions: BTreeMap<&'static str, String>,
    metrics: Vec<(&'static str, Unit, Vec<f64>)>,
}

impl MetricsLine {
    /// A line for `function` (dimension `Function`).
    pub fn new(function: &str) -> Self {
        Self {
            dimensions: [("Function", function.to_owned())].into(),
            metrics: Vec::new(),
        }
    }

    /// Adds a dimension; keep values to a small fixed set.
    #[must_use]
    pub fn dimension(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.dimensions.insert(name, value.into());
        self
    }

    /// Adds a metric with one or more values.
    #[must_use]
    pub fn metric(mut self, name: &'static str, unit: Unit, values: Vec<f64>) -> Self {
        self.metrics.push((name, unit, values));
        self
    }

    /// The line as JSON, stamped with `timestamp_millis`.
    pub fn to_json(&self, timestamp_millis: i64) -> Value {
        let mut root = Map::new();
        let timestamp = chrono::DateTime::from_timestamp_millis(timestamp_millis)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        root.insert("timestamp".into(), json!(timestamp));
        root.insert("level".into(), json!("INFO"));
        root.insert("message".into(), json!(Event::MetricsEmitted.name()));
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_millis,
                "CloudWatchMetrics": [{
                    "Namespace": METRICS_NAMESPACE,
                    "Dimensions": [self.dimensions.keys().collect::<Vec<_>>()],
                    "Metrics": self.metrics.iter()
                        .map(|(name, unit, _)| json!({"Name": name, "Unit": unit.as_str()}))
                        .collect::<Vec<_>>(),
                }],
            }),
        );
        for (name, value) in &self.dimensions {
            root.insert((*name).into(), json!(value));
        }
        for (name, _, values) in &self.metrics {
            let value = match values.as_slice() {
                [single] => json!(single),
                many => json!(many),
            };
            root.insert((*name).into(), value);
        }
        Value::Object(root)
    }

    /// Writes the line to stdout, where CloudWatch Logs picks EMF up.
    pub fn emit(&self) {
        let line = self.to_json(chrono::Utc::now().timestamp_millis());
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emf_line_declares_every_metric_and_dimension() {
        let line = MetricsLine::new("sla-report")
            .dimension("Outcome", "success")
            .metric("ServicesReported", Unit::Count, vec![3.0])
            .metric("QueryLatency", Unit::Milliseconds, vec![12.5, 8.0])
            .to_json(1_795_392_000_000);
        assert_eq!(line["_aws"]["Timestamp"], 1_795_392_000_000_i64);
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Vigil");
        assert_eq!(directive["Dimensions"], json!([["Function", "Outcome"]]));
        assert_eq!(
            directive["Metrics"][1],
            json!({"Name": "QueryLatency", "Unit": "Milliseconds"})
        );
        assert_eq!(line["Function"], "sla-report");
        assert_eq!(line["ServicesReported"], 3.0);
        assert_eq!(line["QueryLatency"], json!([12.5, 8.0]));
        assert_eq!(line["timestamp"], "2026-11-23T00:00:00.000Z");
        assert_eq!(line["level"], "INFO");
    }
}
