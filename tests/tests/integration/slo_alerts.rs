//! SLO burn-rate alerts replayed minute by minute over generated history, against the real
//! Prometheus and an SQS subscriber of the real (moto) SNS topic: a fast burn pages about nine
//! minutes in and resolves within ten minutes of its end, a slow burn opens tickets and never
//! pages, a low-traffic service with the same burst fires nothing, and an SNS outage in the
//! middle of the incident loses and duplicates nothing.

use anomaly_check::invoke;
use chrono::{DateTime, Utc};
use lambda_runtime::Diagnostic;
use serde_json::Value;
use vigil_tests::BURN_FAST_FROM;

use crate::support::{
    anomaly_job, deadline_in, drain, message_document, minutes, new_bucket, sns_down, stack,
    topic_with_queue, Stack,
};

/// The anomaly checks are off: the SLO alerts run alone.
const NO_CHECKS: &str = "default_checks: false\n";

fn temp_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    std::io::Write::write_all(&mut file, text.as_bytes()).expect("written");
    file
}

/// The check with a 99.9 % availability SLO for `services` alone, its state in `bucket`,
/// publishing to `topic` through `aws_endpoint`.
async fn slo_job(
    stack: &Stack,
    services: &str,
    aws_endpoint: &str,
    bucket: &str,
    topic: &str,
) -> anomaly_check::DeployedJob {
    let document = format!(
        "slos:\n  - {{name: availability, services: [{services}], sli: availability, objective: 0.999}}\n"
    );
    let (slos, checks) = (temp_file(&document), temp_file(NO_CHECKS));
    anomaly_job(
        &stack.prometheus_url,
        aws_endpoint,
        bucket,
        Some(topic),
        &[
            ("SLOS_FILE", slos.path().to_str().expect("utf-8")),
            ("CHECKS_FILE", checks.path().to_str().expect("utf-8")),
        ],
    )
    .await
}

/// `(rule, service, transition, severity)` of each SLO message, after checking that its attributes,
/// subject and JSON document agree.
fn slo_messages(envelopes: &[Value]) -> Vec<(String, String, String, String)> {
    envelopes
        .iter()
        .map(|envelope| {
            let document = message_document(envelope);
            let attributes = &envelope["MessageAttributes"];
            for (attribute, field) in [
                ("check", "check"),
                ("slo", "slo"),
                ("rule", "rule"),
                ("service", "service"),
                ("severity", "severity"),
                ("state", "state"),
            ] {
                let expected = match document[field].as_str() {
                    Some("") => Value::from("-"),
                    _ => document[field].clone(),
                };
                assert_eq!(
                    attributes[attribute]["Value"], expected,
                    "{attribute}: {envelope}"
                );
            }
            let (rule, service) = (
                document["rule"].as_str().expect("rule"),
                document["service"].as_str().expect("service"),
            );
            let subject = envelope["Subject"].as_str().expect("subject");
            assert!(
                subject.contains("SLO availability")
                    && subject.ends_with(&format!("{service} {rule}")),
                "{subject}"
            );
            if document["check"] == "slo_budget" {
                let threshold: f64 = rule
                    .strip_prefix("budget-")
                    .and_then(|t| t.parse().ok())
                    .expect("budget-<threshold>");
                let left = document["budget_remaining"].as_f64().expect("budget left");
                assert!(left < threshold, "{left} is not below {threshold}");
                assert_eq!(
                    document["transition"], "firing",
                    "budget alerts never repeat or resolve"
                );
            } else if document["state"] == "firing" && rule != "no_data" {
                assert_eq!(document["check"], "slo_burn");
                let rate = document["burn_rate"].as_f64().expect("the rule's rate");
                for window in ["long_burn_rate", "short_burn_rate"] {
                    assert!(
                        document[window].as_f64().expect("a burn rate") >= rate,
                        "{window} fired below {rate}: {document}"
                    );
                }
            }
            (
                rule.to_owned(),
                service.to_owned(),
                document["transition"]
                    .as_str()
                    .expect("transition")
                    .to_owned(),
                document["severity"].as_str().expect("severity").to_owned(),
            )
        })
        .collect()
}

fn at(event: &Value) -> DateTime<Utc> {
    event["time"]
        .as_str()
        .expect("time")
        .parse()
        .expect("RFC 3339")
}

fn burst_minute(minutes_after: i64) -> DateTime<Utc> {
    BURN_FAST_FROM.parse::<DateTime<Utc>>().expect("time")
        + chrono::Duration::minutes(minutes_after)
}

#[tokio::test]
async fn a_fast_burn_pages_nine_minutes_in_and_resolves_after_it_and_low_traffic_fires_nothing() {
    let stack = stack();
    let bucket = new_bucket(&stack, "slo-fast").await;
    let (topic, queue) = topic_with_queue(&stack, "slo-fast").await;
    let job = slo_job(
        &stack,
        "burn-fast, burn-quiet",
        &stack.moto_url,
        &bucket,
        &topic,
    )
    .await;
    let mut received = Vec::new();
    for event in minutes("2026-06-04T09:50:00Z", "2026-06-04T10:45:00Z") {
        invoke(&job, &event, "fast", deadline_in(30))
            .await
            .expect("runs");
        for message in slo_messages(&drain(&stack, &queue).await) {
            received.push((at(&event), message));
        }
    }
    let messages: Vec<_> = received.iter().map(|(_, m)| m.clone()).collect();
    let page = |state: &str| {
        (
            "1h/5m".to_owned(),
            "burn-fast".to_owned(),
            state.to_owned(),
            "critical".to_owned(),
        )
    };
    assert_eq!(
        messages,
        [page("firing"), page("resolved")],
        "one page, once; nothing for burn-quiet"
    );
    // At a burn of 100 the hour passes 14.4 after 8.6 minutes of the burst.
    let (fired, resolved) = (received[0].0, received[1].0);
    assert!(
        (burst_minute(8)..=burst_minute(11)).contains(&fired),
        "fired at {fired}"
    );
    assert!(
        (burst_minute(21)..=burst_minute(30)).contains(&resolved),
        "resolved at {resolved}, the burst ended at {}",
        burst_minute(20)
    );
}

#[tokio::test]
async fn a_slow_burn_opens_tickets_that_resolve_and_never_pages() {
    let stack = stack();
    let bucket = new_bucket(&stack, "slo-slow").await;
    let (topic, queue) = topic_with_queue(&stack, "slo-slow").await;
    let job = slo_job(&stack, "burn-slow", &stack.moto_url, &bucket, &topic).await;
    let mut received = Vec::new();
    // Every ten minutes over the two days of a burn of 4 and six hours after.
    for event in minutes("2026-06-01T06:00:00Z", "2026-06-03T12:00:00Z")
        .into_iter()
        .step_by(10)
    {
        invoke(&job, &event, "slow", deadline_in(30))
            .await
            .expect("runs");
        received.extend(slo_messages(&drain(&stack, &queue).await));
    }
    assert!(
        received
            .iter()
            .all(|(_, service, _, severity)| service == "burn-slow" && severity == "warning"),
        "tickets only: {received:?}"
    );
    let of = |rule: &str| -> Vec<&str> {
        received
            .iter()
            .filter(|m| m.0 == rule)
            .map(|m| m.2.as_str())
            .collect()
    };
    for rule in ["1d/2h", "3d/6h"] {
        let transitions = of(rule);
        assert_eq!(
            transitions.first(),
            Some(&"firing"),
            "{rule}: {transitions:?}"
        );
        assert_eq!(
            transitions.last(),
            Some(&"resolved"),
            "{rule}: {transitions:?}"
        );
        assert!(
            transitions[1..transitions.len() - 1]
                .iter()
                .all(|t| *t == "repeat"),
            "{rule}: one firing, repeats every four hours, one resolved: {transitions:?}"
        );
    }
    let order: Vec<(&str, &str)> = received
        .iter()
        .filter(|m| m.2 != "repeat")
        .map(|m| (m.0.as_str(), m.2.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("3d/6h", "firing"),
            ("1d/2h", "firing"),
            ("1d/2h", "resolved"),
            ("3d/6h", "resolved")
        ],
        "the 3-day window passes a burn of 1 first; the 2-hour window stops burning first"
    );
}

#[tokio::test]
async fn an_sns_outage_during_a_page_loses_and_duplicates_nothing() {
    let stack = stack();
    let bucket = new_bucket(&stack, "slo-sns").await;
    let (topic, queue) = topic_with_queue(&stack, "slo-sns").await;
    let healthy = slo_job(&stack, "burn-fast", &stack.moto_url, &bucket, &topic).await;
    let sns_down = sns_down(&stack.moto_url).await;
    let failing = slo_job(&stack, "burn-fast", &sns_down.url, &bucket, &topic).await;
    let (outage_from, outage_to) = (burst_minute(5), burst_minute(15));
    let mut failed = 0;
    let mut received = Vec::new();
    for event in minutes("2026-06-04T09:50:00Z", "2026-06-04T10:45:00Z") {
        let down = (outage_from..outage_to).contains(&at(&event));
        let job = if down { &failing } else { &healthy };
        match invoke(job, &event, "sns", deadline_in(30)).await {
            Ok(_) => {}
            Err(error) => {
                assert!(down, "{event}: {error}");
                assert_eq!(
                    Diagnostic::from(error).error_type,
                    "Retryable.PublishFailed"
                );
                failed += 1;
            }
        }
        for message in slo_messages(&drain(&stack, &queue).await) {
            received.push((at(&event), message.2));
        }
    }
    assert!(failed > 0, "the page was tried while SNS was down");
    assert_eq!(
        received,
        [
            (outage_to, "firing".to_owned()),
            (received[1].0, "resolved".to_owned())
        ],
        "sent once, at the first minute SNS was back, and resolved once"
    );
}

#[tokio::test]
async fn each_budget_threshold_is_announced_once_from_the_ledger_plus_today() {
    let stack = stack();
    let bucket = new_bucket(&stack, "slo-budget").await;
    let (topic, queue) = topic_with_queue(&stack, "slo-budget").await;
    let slos = temp_file(
        "window: 7d\nslos:\n  - {name: availability, services: [burn-slow], sli: availability, objective: 0.999, burn_rate_alerts: []}\n",
    );
    let slos = slos.path().to_str().expect("utf-8");
    // The daily report writes the ledger the budget reads.
    let report = crate::support::job(
        &stack.prometheus_url,
        &stack.moto_url,
        &bucket,
        &[("SLOS_FILE", slos)],
    )
    .await;
    for date in ["2026-06-01", "2026-06-02"] {
        sla_report::invoke(
            &report,
            &serde_json::json!({ "date": date }),
            deadline_in(60),
        )
        .await
        .expect("report written");
    }
    let checks = temp_file(NO_CHECKS);
    let job = anomaly_job(
        &stack.prometheus_url,
        &stack.moto_url,
        &bucket,
        Some(&topic),
        &[
            ("SLOS_FILE", slos),
            ("CHECKS_FILE", checks.path().to_str().expect("utf-8")),
            ("REPORT_BUCKET", &bucket),
        ],
    )
    .await;
    let mut received = Vec::new();
    for event in minutes("2026-06-01T00:00:00Z", "2026-06-03T00:00:00Z")
        .into_iter()
        .step_by(10)
    {
        invoke(&job, &event, "budget", deadline_in(30))
            .await
            .expect("runs");
        for message in slo_messages(&drain(&stack, &queue).await) {
            received.push((at(&event), message.0));
        }
    }
    // The generator's truth: the first evaluation at which the window so far (the ledger has
    // nothing before 2026-06-01) leaves less than each threshold of the budget.
    let history = vigil_tests::burn_history();
    let start = history.start;
    let mut expected = Vec::new();
    for event in minutes("2026-06-01T00:10:00Z", "2026-06-03T00:00:00Z")
        .into_iter()
        .step_by(10)
    {
        let now = at(&event);
        let truth = &history.truth(start, now)["burn-slow"];
        let left = 1.0 - truth.errors / (0.001 * truth.total);
        for (threshold, rule) in [
            (0.5, "budget-0.5"),
            (0.25, "budget-0.25"),
            (0.0, "budget-0"),
        ] {
            if left < threshold && expected.iter().all(|(_, r)| r != rule) {
                expected.push((now, rule.to_owned()));
            }
        }
    }
    assert_eq!(
        expected.len(),
        3,
        "the slow burn spends the budget: {expected:?}"
    );
    assert_eq!(
        received, expected,
        "each once, in order, when the truth crosses it, and never again while the window stays spent"
    );
}

#[tokio::test]
async fn an_slo_whose_service_stops_reporting_fires_its_no_data_alert_and_resolves_when_back() {
    let stack = stack();
    let bucket = new_bucket(&stack, "slo-gone").await;
    let (topic, queue) = topic_with_queue(&stack, "slo-gone").await;
    let job = slo_job(&stack, "burn-gone", &stack.moto_url, &bucket, &topic).await;
    let mut received = Vec::new();
    for event in minutes("2026-06-04T11:50:00Z", "2026-06-04T12:50:00Z") {
        invoke(&job, &event, "slo-gone", deadline_in(30))
            .await
            .expect("runs");
        for message in slo_messages(&drain(&stack, &queue).await) {
            received.push((at(&event), message));
        }
    }
    let gone = |minute: u32| {
        vigil_tests::GONE_FROM
            .parse::<DateTime<Utc>>()
            .expect("time")
            + chrono::Duration::minutes(i64::from(minute))
    };
    let rules: Vec<(&str, &str)> = received
        .iter()
        .map(|(_, m)| (m.0.as_str(), m.2.as_str()))
        .collect();
    assert_eq!(rules, [("no_data", "firing"), ("no_data", "resolved")]);
    // Its last 5-minute increase is at 12:04; ten minutes later it fires; back at 12:32.
    assert!(
        (gone(12)..=gone(16)).contains(&received[0].0),
        "{:?}",
        received[0].0
    );
    assert!(
        (gone(31)..=gone(35)).contains(&received[1].0),
        "{:?}",
        received[1].0
    );
}
