//! Silences on the real stack: added with the `anomaly-check silence` command into moto's S3,
//! read by the check at every minute of a replay over the generated incidents, and what an SQS
//! subscriber receives.

use std::process::Command;

use anomaly_check::invoke;
use serde_json::Value;

use crate::support::{
    anomaly_job, binary, deadline_in, drain, message_document, minutes, new_bucket, stack,
    topic_with_queue, Stack,
};

/// Runs `anomaly-check silence ARGS` against `s3://bucket/silences.json`; its stdout, or its
/// stderr as the error.
fn silence(stack: &Stack, bucket: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new(binary("anomaly-check"))
        .arg("silence")
        .args(args)
        .env_clear()
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_ENDPOINT_URL", &stack.moto_url)
        .env("S3_FORCE_PATH_STYLE", "true")
        .env("SILENCES_S3_URI", format!("s3://{bucket}/silences.json"))
        .output()
        .expect("runs");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("utf-8");
    if output.status.success() {
        Ok(text(output.stdout))
    } else {
        Err(text(output.stderr))
    }
}

/// `(check, service, state, at)` of each message.
fn received(envelopes: &[Value]) -> Vec<(String, String, String, String)> {
    envelopes
        .iter()
        .map(|envelope| {
            let document = message_document(envelope);
            let field = |name: &str| document[name].as_str().unwrap_or("-").to_owned();
            (
                field("check"),
                document["labels"]["service"]
                    .as_str()
                    .unwrap_or("-")
                    .to_owned(),
                field("state"),
                field("at"),
            )
        })
        .collect()
}

/// `(check, service, state)` of each of `messages`.
fn without_times(messages: &[(String, String, String, String)]) -> Vec<(&str, &str, &str)> {
    messages
        .iter()
        .map(|(check, service, state, _)| (check.as_str(), service.as_str(), state.as_str()))
        .collect()
}

#[tokio::test]
async fn silences_keep_back_what_they_cover_and_a_firing_goes_out_when_its_silence_ends() {
    let stack = stack();
    let bucket = new_bucket(&stack, "silences").await;
    let (topic, queue) = topic_with_queue(&stack, "silences").await;
    // The whole of api's error burst (10:00 to 10:20), and the first ten minutes of catalog's
    // slow half hour (11:00 to 11:30), planned over history with explicit times.
    silence(
        &stack,
        &bucket,
        &[
            "add",
            "--match",
            "service=api",
            "--starts-at",
            "2026-11-03T09:50:00Z",
            "--ends-at",
            "2026-11-03T12:00:00Z",
            "--comment",
            "api deploy",
        ],
    )
    .expect("added");
    silence(
        &stack,
        &bucket,
        &[
            "add",
            "--match",
            "service=catalog",
            "--match",
            "check=~latency_.*",
            "--starts-at",
            "2026-11-03T10:50:00Z",
            "--ends-at",
            "2026-11-03T11:10:00Z",
            "--comment",
            "catalog migration",
            "--created-by",
            "alice",
        ],
    )
    .expect("added");
    let job = anomaly_job(
        &stack.prometheus_url,
        &stack.moto_url,
        &bucket,
        Some(&topic),
        &[("SILENCES_S3_URI", &format!("s3://{bucket}/silences.json"))],
    )
    .await;
    let mut silenced = 0;
    for event in minutes("2026-11-03T09:40:00Z", "2026-11-03T11:50:00Z") {
        let outcome = invoke(&job, &event, "silences", deadline_in(30))
            .await
            .unwrap_or_else(|error| panic!("{event}: {error}"));
        silenced += outcome.silenced;
    }
    let messages = received(&drain(&stack, &queue).await);
    let summary = without_times(&messages);
    assert_eq!(
        summary,
        [
            ("latency_p99", "catalog", "firing"),
            ("latency_p99", "catalog", "resolved")
        ],
        "nothing for api; catalog told when its silence ended"
    );
    assert_eq!(
        messages[0].3, "2026-11-03T11:10:00Z",
        "the firing goes out at the silence's end"
    );
    assert_eq!(
        silenced, 3,
        "api's firing and resolution and catalog's firing were kept back"
    );
    let list = silence(&stack, &bucket, &["list"]).expect("lists");
    assert_eq!(list.lines().count(), 2, "{list}");
    assert!(list.contains("by alice: catalog migration"), "{list}");
}

#[tokio::test]
async fn two_people_adding_at_once_both_keep_their_silence_and_bad_ones_are_refused() {
    let stack = stack();
    let bucket = new_bucket(&stack, "silences-race").await;
    let add = |service: String| {
        let (stack, bucket) = (stack.clone(), bucket.clone());
        std::thread::spawn(move || {
            let matcher = format!("service={service}");
            silence(
                &stack,
                &bucket,
                &[
                    "add",
                    "--match",
                    &matcher,
                    "--for",
                    "2h",
                    "--comment",
                    "race",
                    "--created-by",
                    &service,
                ],
            )
        })
    };
    let threads: Vec<_> = (0..4).map(|i| add(format!("svc-{i}"))).collect();
    for thread in threads {
        thread.join().expect("joins").expect("added");
    }
    let list = silence(&stack, &bucket, &["list"]).expect("lists");
    assert_eq!(list.lines().count(), 4, "every concurrent add kept: {list}");
    for (args, field) in [
        (
            vec![
                "add",
                "--match",
                "service=~(",
                "--for",
                "1h",
                "--comment",
                "x",
            ],
            "matchers[0]",
        ),
        (
            vec![
                "add",
                "--match",
                "service=a",
                "--starts-at",
                "2026-11-03T12:00:00Z",
                "--ends-at",
                "2026-11-03T11:00:00Z",
                "--comment",
                "x",
            ],
            "ends_at",
        ),
    ] {
        let error = silence(&stack, &bucket, &args).expect_err("refused");
        assert!(error.contains(&format!("{field}: ")), "{error}");
    }
    let id = list.split_whitespace().next().expect("an id");
    silence(&stack, &bucket, &["expire", id]).expect("expired");
    let after = silence(&stack, &bucket, &["list"]).expect("lists");
    assert!(
        after
            .lines()
            .any(|l| l.starts_with(id) && l.contains("expired")),
        "{after}"
    );
    assert_eq!(after.lines().count(), 4, "nothing else changed");
}

#[tokio::test]
async fn a_mute_window_and_annotations_from_the_checks_document_reach_the_subscriber() {
    let stack = stack();
    let bucket = new_bucket(&stack, "mute-windows").await;
    let (topic, queue) = topic_with_queue(&stack, "mute-windows").await;
    let mut checks = tempfile::NamedTempFile::new().expect("temp file");
    std::io::Write::write_all(
        &mut checks,
        br#"annotations:
  team: sre
  runbook_url: https://runbooks.example.com/{{service}}
mute_windows:
  - {start: 2026-11-03T10:50:00Z, end: 2026-11-03T11:10:00Z, match: [service=catalog], reason: "catalog migration"}
"#,
    )
    .expect("written");
    let job = anomaly_job(
        &stack.prometheus_url,
        &stack.moto_url,
        &bucket,
        Some(&topic),
        &[("CHECKS_FILE", checks.path().to_str().expect("utf-8"))],
    )
    .await;
    for event in minutes("2026-11-03T09:40:00Z", "2026-11-03T11:50:00Z") {
        invoke(&job, &event, "mute", deadline_in(30))
            .await
            .unwrap_or_else(|error| panic!("{event}: {error}"));
    }
    let envelopes = drain(&stack, &queue).await;
    let messages = received(&envelopes);
    let summary = without_times(&messages);
    assert_eq!(
        summary,
        [
            ("error_ratio", "api", "firing"),
            ("error_ratio", "api", "resolved"),
            ("latency_p99", "catalog", "firing"),
            ("latency_p99", "catalog", "resolved")
        ]
    );
    assert_eq!(
        messages[2].3, "2026-11-03T11:10:00Z",
        "catalog's firing waited for the window's end"
    );
    for envelope in &envelopes {
        assert_eq!(envelope["MessageAttributes"]["team"]["Value"], "sre");
        let document = message_document(envelope);
        let service = document["labels"]["service"].as_str().expect("service");
        assert_eq!(
            document["annotations"]["runbook_url"],
            format!("https://runbooks.example.com/{service}")
        );
    }
}
