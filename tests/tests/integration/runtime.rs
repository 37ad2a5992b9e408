//! The release `bootstrap` binaries, as `cargo lambda build --release` makes them, served by a
//! local Lambda runtime API: they take scheduled events, answer, and report failures through
//! the runtime's error endpoint with a type that says whether a retry can help.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::process::{Child, Command};
use vigil_tests::runtime_api::{Outcome, RuntimeApi};

use crate::support::{keys, new_bucket, stack, topic_with_queue, unused_port_url, Stack};

/// `DIR/NAME/bootstrap`, where `scripts/integration.sh` points `VIGIL_TEST_LAMBDA_DIR`.
fn bootstrap(name: &str) -> PathBuf {
    let dir = std::env::var("VIGIL_TEST_LAMBDA_DIR").unwrap_or_else(|_| {
        panic!("VIGIL_TEST_LAMBDA_DIR is not set: run the integration tests with `make test`")
    });
    let path = PathBuf::from(dir).join(name).join("bootstrap");
    assert!(
        path.exists(),
        "{} is missing: make test builds it",
        path.display()
    );
    path
}

/// Starts `name`'s bootstrap against `api` with moto as AWS, and waits for its first poll.
async fn start(api: &RuntimeApi, name: &str, stack: &Stack, config: &[(&str, &str)]) -> Child {
    let child = Command::new(bootstrap(name))
        .env_clear()
        .envs(api.function_environment(name, 256))
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", &stack.moto_url)
        .env("S3_FORCE_PATH_STYLE", "true")
        .envs(config.iter().copied())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("bootstrap starts");
    assert!(
        api.first_poll(Duration::from_secs(10)).await.is_some(),
        "{name} never asked the runtime API for an event"
    );
    child
}

fn scheduled(time: &str) -> Value {
    json!({
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": time,
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/vigil"],
        "detail": {}
    })
}

fn response(outcome: Outcome) -> Value {
    match outcome {
        Outcome::Response(value) => value,
        Outcome::Error { .. } => panic!("expected a response, got {outcome:?}"),
    }
}

fn error_type(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Error { error_type, .. } => error_type,
        Outcome::Response(value) => panic!("expected an error, got the response {value}"),
    }
}

#[tokio::test]
async fn the_report_bootstrap_answers_scheduled_events_and_typed_errors() {
    let stack = stack();
    let bucket = new_bucket(&stack, "runtime").await;
    let api = RuntimeApi::start().await;
    let mut child = start(
        &api,
        "sla-report",
        &stack,
        &[
            ("PROMETHEUS_URL", &stack.prometheus_url),
            ("REPORT_BUCKET", &bucket),
        ],
    )
    .await;

    let outcome = response(
        api.invoke(&scheduled("2026-11-03T00:15:00Z"), Duration::from_mins(1))
            .await,
    );
    assert_eq!(outcome["date"], "2026-11-02");
    assert_eq!(
        outcome["queries"],
        8 + 2 * 31,
        "the report's, and 31 days filled: the 30-day window's and the ended November's"
    );
    let written = keys(&stack, &bucket).await;
    assert!(
        written.contains(&"sla-reports/daily/2026/11/02/report.json".to_owned()),
        "{written:?}"
    );

    let bad = api
        .invoke(&json!({"date": "2026-02-30"}), Duration::from_secs(10))
        .await;
    assert!(error_type(&bad).starts_with("NonRetryable."), "{bad:?}");

    let again = api
        .invoke(&json!({"date": "2026-11-03"}), Duration::from_mins(1))
        .await;
    assert!(
        matches!(&again, Outcome::Response(value) if value["date"] == "2026-11-03"),
        "the process serves the next event after an error: {again:?}"
    );
    assert_eq!(api.init_error(), None);
    child.kill().await.expect("stopped");
}

#[tokio::test]
async fn an_unreachable_prometheus_is_a_retryable_error_before_the_deadline() {
    let stack = stack();
    let bucket = new_bucket(&stack, "runtime-down").await;
    let api = RuntimeApi::start().await;
    let down = unused_port_url();
    let mut child = start(
        &api,
        "sla-report",
        &stack,
        &[("PROMETHEUS_URL", &down), ("REPORT_BUCKET", &bucket)],
    )
    .await;
    let failed = api
        .invoke(&scheduled("2026-11-03T00:15:00Z"), Duration::from_secs(4))
        .await;
    assert!(error_type(&failed).starts_with("Retryable."), "{failed:?}");
    assert_eq!(
        keys(&stack, &bucket).await,
        Vec::<String>::new(),
        "nothing written"
    );
    child.kill().await.expect("stopped");
}

#[tokio::test]
async fn the_check_bootstrap_answers_the_minute_event_and_keeps_its_state() {
    let stack = stack();
    let bucket = new_bucket(&stack, "runtime-check").await;
    let (topic, _queue) = topic_with_queue(&stack, "runtime").await;
    let api = RuntimeApi::start().await;
    let mut child = start(
        &api,
        "anomaly-check",
        &stack,
        &[
            ("PROMETHEUS_URL", &stack.prometheus_url),
            ("STATE_BUCKET", &bucket),
            ("ALERT_TOPIC_ARN", &topic),
        ],
    )
    .await;
    let outcome = response(
        api.invoke(&scheduled("2026-11-03T10:05:00Z"), Duration::from_secs(30))
            .await,
    );
    assert_eq!(outcome["evaluated_at"], "2026-11-03T10:04:00+00:00");
    assert!(
        outcome["series"].as_u64().is_some_and(|n| n > 0),
        "{outcome}"
    );
    assert_eq!(outcome["skipped"], false);
    assert_eq!(
        keys(&stack, &bucket).await,
        vec!["anomaly-check/state.json".to_owned()]
    );

    let bad = api
        .invoke(&json!({"detail": {}}), Duration::from_secs(10))
        .await;
    assert!(error_type(&bad).starts_with("NonRetryable."), "{bad:?}");
    child.kill().await.expect("stopped");
}
