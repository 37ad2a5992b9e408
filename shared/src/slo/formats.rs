//! The SLO document formats besides Vigil's own: an **OpenSLO v1** `SLO` (one per document) and
//! a **Sloth** `prometheus/v1` spec, each read into the same SLOs. What Vigil cannot honour is
//! rejected by name, never ignored.
//!
//! - OpenSLO: `spec.indicator.spec.ratioMetric` with `counter: true` and Prometheus `query`s of
//!   raw counters (a metric selector), which Vigil sums and wraps in `increase(…[range])`;
//!   `spec.timeWindow` rolling `Nd` or calendar `1w`, `1M`, `1Q`; one `spec.objectives[].target`.
//!   The SLO covers `spec.service`.
//! - Sloth: `service`, `slos[].objective` in percent, `slos[].sli.events.error_query` and
//!   `total_query` with `{{.window}}` inside `rate(…)`: their ratio is the error ratio, and the
//!   counts are the rates times the range's seconds. Sloth's `alerting` blocks are accepted and
//!   left to Vigil's own alerts; `sli.raw` and `sli.plugin` are refused.

use serde_json::{Map, Value};

use super::alerting::Alerting;
use super::document::{
    parse_slo_document, parse_value, Events, Services, Sli, Slo, SloDocument, SloDocumentError,
};
use super::window::Window;
use crate::promql::quote;

/// Parses an SLO document in any format Vigil reads: OpenSLO v1 (`apiVersion: openslo/v1`),
/// Sloth (`version: prometheus/v1`) or Vigil's own.
///
/// # Errors
/// [`SloDocumentError`] naming the SLO and the field at fault.
pub fn parse_any(text: &str) -> Result<SloDocument, SloDocumentError> {
    let value = parse_value(text)?;
    match (
        value.get("apiVersion").and_then(Value::as_str),
        value.get("version").and_then(Value::as_str),
    ) {
        (Some("openslo/v1"), _) => openslo(&value),
        (Some(other), _) => Err(field_error(
            "apiVersion",
            format!("{other:?} is not supported; Vigil reads openslo/v1"),
        )),
        (None, Some("prometheus/v1")) => sloth(&value),
        (None, Some(other)) => Err(field_error(
            "version",
            format!("{other:?} is not supported; Vigil reads Sloth's prometheus/v1"),
        )),
        (None, None) => parse_slo_document(text),
    }
}

fn field_error(field: &str, problem: impl Into<String>) -> SloDocumentError {
    SloDocumentError::Document {
        field: field.to_owned(),
        problem: problem.into(),
    }
}

/// Rejects every key of `map` not in `known`, naming it with `path`.
fn only(map: &Map<String, Value>, path: &str, known: &[&str]) -> Result<(), SloDocumentError> {
    match map.keys().find(|key| !known.contains(&key.as_str())) {
        Some(key) => Err(field_error(
            &format!("{path}{key}"),
            "is not supported by Vigil",
        )),
        None => Ok(()),
    }
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, SloDocumentError> {
    value
        .as_object()
        .ok_or_else(|| field_error(path, "must be a mapping"))
}

fn text<'a>(
    map: &'a Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<&'a str, SloDocumentError> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|text| !text.trim().is_empty())
        .ok_or_else(|| field_error(&format!("{path}{key}"), "must be a non-empty string"))
}

/// The label every translated SLO's expressions carry the service in.
const SERVICE: &str = "service";

/// `query` labelled with `service`, for a ratio SLI grouped by [`SERVICE`].
fn for_service(query: &str, service: &str) -> String {
    format!(
        "label_replace({query}, \"{SERVICE}\", {}, \"\", \"\")",
        quote(service)
    )
}

/// Whether `query` is a metric selector: a metric name with optional `{matchers}` and nothing
/// else, so that `increase(query[range])` is valid PromQL.
fn is_selector(query: &str) -> bool {
    let query = query.trim();
    let name_end = query.find('{').unwrap_or(query.len());
    let (name, rest) = query.split_at(name_end);
    let name_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    name_ok
        && (rest.is_empty()
            || (rest.starts_with('{')
                && rest.ends_with('}')
                && !rest[1..rest.len() - 1].contains(['{', '}', '['])))
}

fn openslo(value: &Value) -> Result<SloDocument, SloDocumentError> {
    let root = object(value, "(document)")?;
    only(root, "", &["apiVersion", "kind", "metadata", "spec"])?;
    if root.get("kind").and_then(Value::as_str) != Some("SLO") {
        return Err(field_error(
            "kind",
            "must be SLO: Vigil reads one OpenSLO SLO per document",
        ));
    }
    let metadata = object(root.get("metadata").unwrap_or(&Value::Null), "metadata")?;
    only(
        metadata,
        "metadata.",
        &["name", "displayName", "labels", "annotations"],
    )?;
    let name = text(metadata, "metadata.", "name")?.to_owned();
    let spec = object(root.get("spec").unwrap_or(&Value::Null), "spec")?;
    only(
        spec,
        "spec.",
        &[
            "description",
            "service",
            "indicator",
            "timeWindow",
            "budgetingMethod",
            "objectives",
        ],
    )?;
    let service = text(spec, "spec.", "service")?.to_owned();
    if let Some(method) = spec.get("budgetingMethod").and_then(Value::as_str) {
        if method != "Occurrences" {
            return Err(field_error(
                "spec.budgetingMethod",
                format!("{method:?} is not supported; Vigil counts Occurrences"),
            ));
        }
    }
    let (events, total) = openslo_ratio(spec, &service)?;
    let window = openslo_window(spec)?;
    let objectives = spec
        .get("objectives")
        .and_then(Value::as_array)
        .filter(|o| o.len() == 1)
        .ok_or_else(|| field_error("spec.objectives", "must hold exactly one objective"))?;
    let objective = object(&objectives[0], "spec.objectives[0]")?;
    only(objective, "spec.objectives[0].", &["displayName", "target"])?;
    let target = objective
        .get("target")
        .and_then(Value::as_f64)
        .filter(|t| *t > 0.0 && *t < 1.0)
        .ok_or_else(|| field_error("spec.objectives[0].target", "must be between 0 and 1"))?;
    let name = sanitized(&name);
    Ok(SloDocument {
        slos: vec![Slo {
            name,
            services: Services::Only([service].into()),
            sli: Sli::Ratio {
                group_by: SERVICE.to_owned(),
                events,
                total,
            },
            objective: target,
            window,
            alerting: Alerting::defaults(window),
            annotations: crate::annotations::Annotations::default(),
        }],
        exclusions: Vec::new(),
        mute_windows: Vec::new(),
    })
}

/// OpenSLO's `spec.indicator.spec.ratioMetric`, as a ratio SLI's events and total for
/// `service`.
fn openslo_ratio(
    spec: &Map<String, Value>,
    service: &str,
) -> Result<(Events, String), SloDocumentError> {
    let indicator = object(
        spec.get("indicator").unwrap_or(&Value::Null),
        "spec.indicator",
    )?;
    only(indicator, "spec.indicator.", &["metadata", "spec"])?;
    let indicator = object(
        indicator.get("spec").unwrap_or(&Value::Null),
        "spec.indicator.spec",
    )?;
    only(indicator, "spec.indicator.spec.", &["ratioMetric"])?;
    let ratio = object(
        indicator.get("ratioMetric").unwrap_or(&Value::Null),
        "spec.indicator.spec.ratioMetric",
    )?;
    let path = "spec.indicator.spec.ratioMetric.";
    only(ratio, path, &["counter", "good", "bad", "total"])?;
    if ratio.get("counter").and_then(Value::as_bool) != Some(true) {
        return Err(field_error(
            &format!("{path}counter"),
            "must be true: Vigil reads raw counters and wraps them in increase()",
        ));
    }
    let query = |key: &str| -> Result<Option<String>, SloDocumentError> {
        let Some(source) = ratio.get(key) else {
            return Ok(None);
        };
        let at = format!("{path}{key}.metricSource");
        let source = object(source.get("metricSource").unwrap_or(&Value::Null), &at)?;
        only(
            source,
            &format!("{at}."),
            &["type", "spec", "metricSourceRef"],
        )?;
        if source.get("type").and_then(Value::as_str) != Some("Prometheus") {
            return Err(field_error(&format!("{at}.type"), "must be Prometheus"));
        }
        let spec = object(
            source.get("spec").unwrap_or(&Value::Null),
            &format!("{at}.spec"),
        )?;
        let raw = text(spec, &format!("{at}.spec."), "query")?;
        if !is_selector(raw) {
            return Err(field_error(
                &format!("{at}.spec.query"),
                "must be a counter's selector, such as http_requests_total{code!~\"5..\"}, to be wrapped in increase()",
            ));
        }
        Ok(Some(for_service(
            &format!("sum(increase({}[{{{{window}}}}]))", raw.trim()),
            service,
        )))
    };
    let events = match (query("good")?, query("bad")?) {
        (Some(good), None) => Events::Good(good),
        (None, Some(bad)) => Events::Bad(bad),
        _ => {
            return Err(field_error(
                &format!("{path}good"),
                "needs exactly one of good and bad",
            ))
        }
    };
    let total =
        query("total")?.ok_or_else(|| field_error(&format!("{path}total"), "is required"))?;
    Ok((events, total))
}

/// OpenSLO's `timeWindow`: one rolling `Nd` or a calendar `1w`, `1M` or `1Q`.
fn openslo_window(spec: &Map<String, Value>) -> Result<Window, SloDocumentError> {
    let windows = spec
        .get("timeWindow")
        .and_then(Value::as_array)
        .filter(|w| w.len() == 1)
        .ok_or_else(|| field_error("spec.timeWindow", "must hold exactly one window"))?;
    let window = object(&windows[0], "spec.timeWindow[0]")?;
    only(
        window,
        "spec.timeWindow[0].",
        &["duration", "isRolling", "calendar"],
    )?;
    let duration = text(window, "spec.timeWindow[0].", "duration")?;
    let rolling = window
        .get("isRolling")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let parsed = match (rolling, duration) {
        (true, days) => Window::parse(days),
        (false, "1w") => Some(Window::Week),
        (false, "1M") => Some(Window::Month),
        (false, "1Q") => Some(Window::Quarter),
        _ => None,
    };
    parsed.ok_or_else(|| {
        field_error(
            "spec.timeWindow[0].duration",
            format!(
                "{duration:?} is not supported: rolling Nd (1 to 400), or calendar 1w, 1M or 1Q"
            ),
        )
    })
}

/// An OpenSLO or Sloth name as a Vigil SLO name: lower case, other characters as `-`.
fn sanitized(name: &str) -> String {
    name.chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect()
}

fn sloth(value: &Value) -> Result<SloDocument, SloDocumentError> {
    let root = object(value, "(document)")?;
    only(root, "", &["version", "service", "labels", "slos"])?;
    let service = text(root, "", "service")?.to_owned();
    let slos = root
        .get("slos")
        .and_then(Value::as_array)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| field_error("slos", "must be a non-empty list"))?;
    let mut built = Vec::with_capacity(slos.len());
    for (index, slo) in slos.iter().enumerate() {
        let at = format!("slos[{index}].");
        let slo = object(slo, &format!("slos[{index}]"))?;
        only(
            slo,
            &at,
            &[
                "name",
                "objective",
                "description",
                "labels",
                "sli",
                "alerting",
            ],
        )?;
        let name = text(slo, &at, "name")?;
        let objective = slo
            .get("objective")
            .and_then(Value::as_f64)
            .filter(|o| *o > 0.0 && *o < 100.0)
            .ok_or_else(|| {
                field_error(
                    &format!("{at}objective"),
                    "must be a percentage between 0 and 100",
                )
            })?;
        let sli = object(slo.get("sli").unwrap_or(&Value::Null), &format!("{at}sli"))?;
        only(sli, &format!("{at}sli."), &["events"])?;
        let events = object(
            sli.get("events").unwrap_or(&Value::Null),
            &format!("{at}sli.events"),
        )?;
        let at_events = format!("{at}sli.events.");
        only(events, &at_events, &["error_query", "total_query"])?;
        let counts = |key: &str| -> Result<String, SloDocumentError> {
            let query = text(events, &at_events, key)?;
            if !query.contains("{{.window}}") {
                return Err(field_error(
                    &format!("{at_events}{key}"),
                    "must contain {{.window}} inside rate()",
                ));
            }
            let query = query.replace("{{.window}}", "{{window}}");
            Ok(for_service(
                &format!("(sum({query}) * {{{{window_seconds}}}})"),
                &service,
            ))
        };
        built.push(Slo {
            name: sanitized(name),
            services: Services::Only([service.clone()].into()),
            sli: Sli::Ratio {
                group_by: SERVICE.to_owned(),
                events: Events::Bad(counts("error_query")?),
                total: counts("total_query")?,
            },
            objective: objective / 100.0,
            window: Window::Rolling(30),
            alerting: Alerting::defaults(Window::Rolling(30)),
            annotations: crate::annotations::Annotations::default(),
        });
    }
    Ok(SloDocument {
        slos: built,
        exclusions: Vec::new(),
        mute_windows: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written after the OpenSLO v1 specification's ratio-metric SLO example.
    const OPENSLO: &str = r#"
apiVersion: openslo/v1
kind: SLO
metadata:
  name: web-availability
  displayName: Web availability
spec:
  description: Share of web requests answered without a server error
  service: web
  indicator:
    metadata:
      name: web-successful-requests-ratio
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{service="web",code!~"5.."}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{service="web"}
  timeWindow:
    - duration: 1M
      isRolling: false
      calendar:
        startTime: 2022-01-01 00:00:00
        timeZone: UTC
  budgetingMethod: Occurrences
  objectives:
    - displayName: Good
      target: 0.995
"#;

    /// Written after Sloth's getting-started `prometheus/v1` example.
    const SLOTH: &str = r#"
version: "prometheus/v1"
service: "myservice"
labels:
  owner: "myteam"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Common SLO based on availability for HTTP request responses."
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      labels:
        category: "availability"
      page_alert:
        labels:
          severity: pageteam
      ticket_alert:
        labels:
          severity: "slack"
"#;

    #[test]
    fn an_openslo_ratio_slo_is_read() {
        let document = parse_any(OPENSLO).expect("valid");
        let [slo] = &document.slos[..] else {
            panic!("one SLO");
        };
        assert_eq!(slo.name, "web-availability");
        assert_eq!(slo.window, Window::Month);
        assert!((slo.objective - 0.995).abs() < 1e-12);
        assert!(slo.services.covers("web") && !slo.services.covers("api"));
        let Sli::Ratio {
            events: Events::Good(good),
            total,
            group_by,
        } = &slo.sli
        else {
            panic!("a ratio SLI");
        };
        assert_eq!(group_by, "service");
        assert_eq!(
            good,
            r#"label_replace(sum(increase(http_requests_total{service="web",code!~"5.."}[{{window}}])), "service", "web", "", "")"#
        );
        assert!(total.contains("increase(http_requests_total{service=\"web\"}[{{window}}])"));
    }

    #[test]
    fn a_sloth_spec_is_read_and_its_rates_become_counts() {
        let document = parse_any(SLOTH).expect("valid");
        let [slo] = &document.slos[..] else {
            panic!("one SLO");
        };
        assert_eq!(slo.name, "requests-availability");
        assert!((slo.objective - 0.999).abs() < 1e-12);
        let Sli::Ratio {
            events: Events::Bad(bad),
            ..
        } = &slo.sli
        else {
            panic!("a ratio SLI of bad events");
        };
        assert!(bad.starts_with("label_replace((sum(sum(rate("), "{bad}");
        assert!(
            bad.contains("[{{window}}]))) * {{window_seconds}})"),
            "{bad}"
        );
    }

    #[test]
    fn what_vigil_cannot_honour_is_refused_by_name() {
        for (document, message) in [
            (OPENSLO.replace("counter: true", "counter: false"), "spec.indicator.spec.ratioMetric.counter: must be true"),
            (OPENSLO.replace("budgetingMethod: Occurrences", "budgetingMethod: Timeslices"), "spec.budgetingMethod: \"Timeslices\" is not supported"),
            (OPENSLO.replace("duration: 1M", "duration: 2M"), "spec.timeWindow[0].duration: \"2M\" is not supported"),
            (OPENSLO.replace("query: http_requests_total{service=\"web\"}\n", "query: sum(http_requests_total)\n"), "spec.indicator.spec.ratioMetric.total.metricSource.spec.query: must be a counter's selector"),
            (OPENSLO.replace("  budgetingMethod", "  alertPolicies: [page]\n  budgetingMethod"), "spec.alertPolicies: is not supported by Vigil"),
            (OPENSLO.replace("kind: SLO", "kind: SLI"), "kind: must be SLO"),
            (OPENSLO.replace("openslo/v1", "openslo/v2alpha"), "apiVersion: \"openslo/v2alpha\" is not supported"),
            (SLOTH.replace("    sli:\n      events:", "    sli:\n      raw:\n        error_ratio_query: x\n      events:"), "slos[0].sli.raw: is not supported by Vigil"),
            (SLOTH.replace("objective: 99.9", "objective: 0"), "slos[0].objective: must be a percentage"),
            (SLOTH.replace("[{{.window}}]))\n        total", "[5m]))\n        total"), "slos[0].sli.events.error_query: must contain {{.window}}"),
        ] {
            let error = parse_any(&document).expect_err(message).to_string();
            assert!(error.starts_with(message), "{message}\n  got {error}");
        }
    }

    #[test]
    fn selectors_are_told_from_expressions() {
        for query in [
            "up",
            "http_requests_total{code!~\"5..\"}",
            "ns:requests:total{a=\"b\"}",
        ] {
            assert!(is_selector(query), "{query}");
        }
        for query in [
            "sum(up)",
            "up[5m]",
            "rate(x[5m])",
            "x{a=\"b\"} or y",
            "{a=\"b\"}",
            "",
        ] {
            assert!(!is_selector(query), "{query}");
        }
    }
}
