//! The anomaly check replayed minute by minute over the generated history, against the real
//! Prometheus and moto's S3, SNS and an SQS subscriber.

use anomaly_check::invoke;
use lambda_runtime::Diagnostic;
use serde_json::Value;

use crate::support::{
    alerting_job, anomaly_job, deadline_in, drain, message_document, minutes, new_bucket, object,
    replay_incidents, s3, sns_down, stack, summarise, unused_port_url,
};

const STATE_KEY: &str = "anomaly-check/state.json";

/// Replays the incident day minute by minute, each minute's `invocations` (one per shard)
/// concurrently, with the job's `extra` settings: the SNS envelope of every message the
/// subscriber receives, and the bucket holding the state.
async fn replay(
    name: &str,
    invocations: &[Vec<Value>],
    extra: &[(&str, &str)],
) -> (Vec<Value>, String) {
    let stack = stack();
    let (job, bucket, _, queue) = alerting_job(&stack, name, extra).await;
    for (index, minute) in invocations.iter().enumerate() {
        let runs = minute.iter().enumerate().map(|(shard, event)| {
            let job = &job;
            async move {
                invoke(
                    job,
                    event,
                    &format!("{name}-{index}-{shard}"),
                    deadline_in(30),
                )
                .await
                .unwrap_or_else(|e| panic!("{name} {event}: {e}"));
            }
        });
        futures_util::future::join_all(runs).await;
    }
    (drain(&stack, &queue).await, bucket)
}

/// Each message whole (document and attributes), in a stable order.
fn whole(envelopes: &[Value]) -> Vec<String> {
    let mut messages: Vec<String> = envelopes
        .iter()
        .map(|envelope| {
            serde_json::json!([envelope["Message"], envelope["MessageAttributes"]]).to_string()
        })
        .collect();
    messages.sort();
    messages
}

/// The incident day's minutes, from 09:00 to 16:00, but those in `skip` (from, to); each
/// minute as `shards(time)` events.
fn day(skip: (&str, &str), shards: impl Fn(&Value) -> Vec<Value>) -> Vec<Vec<Value>> {
    minutes("2026-11-03T09:00:00Z", "2026-11-03T16:00:00Z")
        .iter()
        .filter(|event| {
            let time = event["time"].as_str().expect("time");
            !(skip.0..skip.1).contains(&time)
        })
        .map(shards)
        .collect()
}

/// The event of each of `count` shards at `event`'s time.
fn split(event: &Value, count: u32) -> Vec<Value> {
    (0..count)
        .map(|shard| serde_json::json!({"time": event["time"], "shard": shard, "shards": count}))
        .collect()
}

/// Each incident gives one firing and one resolved message and calm gives none. Reading each
/// sample once gives exactly the messages that reading the whole window every minute gives,
/// also across a 20-minute gap in the minutes (mid-incident); so do four shards, and two
/// shards resharded to three mid-incident.
#[tokio::test]
async fn each_incident_alerts_once_whether_read_once_in_full_or_in_shards() {
    let no_gap = ("", "");
    let gap = ("2026-11-03T11:10:00", "2026-11-03T11:30:00");
    let one = |event: &Value| vec![event.clone()];
    let resharded = |event: &Value| {
        let time = event["time"].as_str().expect("time");
        split(event, if time < "2026-11-03T11:10" { 2 } else { 3 })
    };
    let full = [("READ_OVERLAP_SECONDS", "86400")];
    let (whole_day, with_gap) = (day(no_gap, one), day(gap, one));
    let (in_four, two_to_three) = (day(no_gap, |e| split(e, 4)), day(no_gap, resharded));
    let (incremental, full_reads, incremental_gap, full_gap, four, two_then_three) = tokio::join!(
        replay("incremental", &whole_day, &[]),
        replay("full-reads", &whole_day, &full),
        replay("incremental-gap", &with_gap, &[]),
        replay("full-reads-gap", &with_gap, &full),
        replay("four-shards", &in_four, &[]),
        replay("reshard", &two_to_three, &[]),
    );
    let mut summary = summarise(&incremental.0);
    summary.sort();
    assert_eq!(summary, replay_incidents());
    let messages = whole(&incremental.0);
    assert_eq!(messages, whole(&full_reads.0), "message for message");
    assert!(!incremental_gap.0.is_empty());
    assert_eq!(
        whole(&incremental_gap.0),
        whole(&full_gap.0),
        "message for message, across the gap"
    );
    assert_eq!(messages, whole(&four.0), "four shards, message for message");
    assert_eq!(
        messages,
        whole(&two_then_three.0),
        "resharded mid-incident, message for message"
    );
    let stack = stack();
    let state = |key: String| {
        let stack = &stack;
        let bucket = &two_then_three.1;
        async move {
            serde_json::from_slice::<Value>(&object(stack, bucket, &key).await.0).expect("json")
        }
    };
    for shard in 0..2 {
        let old = state(format!("anomaly-check/state.shard-{shard}-of-2.json")).await;
        assert_eq!(old["moved_to"], 3, "the old states are marked as moved");
    }
    for shard in 0..3 {
        let new = state(format!("anomaly-check/state.shard-{shard}-of-3.json")).await;
        assert_eq!(new["generation"], 1);
        assert!(new["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .all(|alert| { alert["key"]["labels"]["service"].as_str().is_some() }));
    }
}

#[tokio::test]
async fn prometheus_down_fails_and_leaves_the_state_untouched() {
    let stack = stack();
    let bucket = new_bucket(&stack, "anomaly-down").await;
    let job = anomaly_job(&stack.prometheus_url, &stack.moto_url, &bucket, None, &[]).await;
    for event in minutes("2026-11-03T09:50:00Z", "2026-11-03T10:05:00Z") {
        invoke(&job, &event, "warm-up", deadline_in(30))
            .await
            .expect("runs");
    }
    let before = object(&stack, &bucket, STATE_KEY).await.0;
    let down = anomaly_job(&unused_port_url(), &stack.moto_url, &bucket, None, &[]).await;
    let error = invoke(
        &down,
        &minutes("2026-11-03T10:05:00Z", "2026-11-03T10:06:00Z")[0],
        "down",
        deadline_in(4),
    )
    .await
    .expect_err("fails");
    assert_eq!(Diagnostic::from(error).error_type, "Retryable.ChecksFailed");
    assert_eq!(
        object(&stack, &bucket, STATE_KEY).await.0,
        before,
        "state untouched"
    );
}

#[tokio::test]
async fn an_sns_failure_keeps_the_alert_and_sends_it_on_the_next_run() {
    let stack = stack();
    let (healthy, bucket, topic, queue) = alerting_job(&stack, "anomaly-sns", &[]).await;
    for event in minutes("2026-11-03T09:40:00Z", "2026-11-03T10:00:00Z") {
        invoke(&healthy, &event, "calm", deadline_in(30))
            .await
            .expect("runs");
    }
    // S3 goes straight to moto; SNS through a proxy that fails everything.
    let sns_down = sns_down(&stack.moto_url).await;
    let failing = anomaly_job(
        &stack.prometheus_url,
        &sns_down.url,
        &bucket,
        Some(&topic),
        &[],
    )
    .await;
    let mut failed = 0;
    for event in minutes("2026-11-03T10:00:00Z", "2026-11-03T10:10:00Z") {
        if let Err(error) = invoke(&failing, &event, "sns-down", deadline_in(30)).await {
            assert_eq!(
                Diagnostic::from(error).error_type,
                "Retryable.PublishFailed"
            );
            failed += 1;
        }
    }
    assert!(
        failed > 0,
        "the error burst tried to alert while SNS was down"
    );
    let state: Value =
        serde_json::from_slice(&object(&stack, &bucket, STATE_KEY).await.0).expect("state");
    assert!(
        state["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .all(|a| a["key"]["labels"]["service"] != "api"),
        "not advanced: {state}"
    );
    assert_eq!(state["outbox"].as_array().expect("outbox").len(), 1);
    assert!(drain(&stack, &queue).await.is_empty());
    for event in minutes("2026-11-03T10:10:00Z", "2026-11-03T10:15:00Z") {
        invoke(&healthy, &event, "sns-back", deadline_in(30))
            .await
            .expect("runs");
    }
    assert_eq!(
        summarise(&drain(&stack, &queue).await),
        [(
            "error_ratio".to_owned(),
            "api".to_owned(),
            "firing".to_owned()
        )]
    );
}

#[tokio::test]
async fn two_racing_invocations_send_one_message() {
    let stack = stack();
    let (job, bucket, topic, queue) = alerting_job(&stack, "anomaly-race", &[]).await;
    let other = anomaly_job(
        &stack.prometheus_url,
        &stack.moto_url,
        &bucket,
        Some(&topic),
        &[],
    )
    .await;
    let mut received = Vec::new();
    for event in minutes("2026-11-03T09:50:00Z", "2026-11-03T10:20:00Z") {
        let (a, b) = tokio::join!(
            invoke(&job, &event, "a", deadline_in(30)),
            invoke(&other, &event, "b", deadline_in(30))
        );
        a.expect("a runs");
        b.expect("b runs");
        received.extend(summarise(&drain(&stack, &queue).await));
    }
    assert_eq!(
        received,
        [(
            "error_ratio".to_owned(),
            "api".to_owned(),
            "firing".to_owned()
        )],
        "one message, not two"
    );
}

#[tokio::test]
async fn corrupt_state_is_logged_and_replaced() {
    let stack = stack();
    let bucket = new_bucket(&stack, "anomaly-corrupt").await;
    s3(&stack.moto_url)
        .await
        .put_object()
        .bucket(&bucket)
        .key(STATE_KEY)
        .body(b"{\"alerts\": [".to_vec().into())
        .send()
        .await
        .expect("written");
    let job = anomaly_job(&stack.prometheus_url, &stack.moto_url, &bucket, None, &[]).await;
    invoke(
        &job,
        &minutes("2026-11-03T09:00:00Z", "2026-11-03T09:01:00Z")[0],
        "corrupt",
        deadline_in(30),
    )
    .await
    .expect("runs");
    let state: Value = serde_json::from_slice(&object(&stack, &bucket, STATE_KEY).await.0)
        .expect("replaced with valid JSON");
    assert_eq!(state["schema_version"], 1);
}

#[tokio::test]
async fn a_service_that_stops_reporting_fires_one_no_data_per_check_and_resolves_when_back() {
    let stack = stack();
    let (job, _, _, queue) = alerting_job(&stack, "no-data", &[]).await;
    let mut received = Vec::new();
    for event in minutes("2026-06-04T11:50:00Z", "2026-06-04T12:50:00Z") {
        invoke(&job, &event, "no-data", deadline_in(30))
            .await
            .unwrap_or_else(|e| panic!("minute {event}: {e}"));
        for envelope in drain(&stack, &queue).await {
            let document = message_document(&envelope);
            if document["labels"]["service"] == "burn-gone" && document["reason"] == "no_data" {
                received.push((event["time"].as_str().expect("time").to_owned(), document));
            }
        }
    }
    let mut summary: Vec<(String, String)> = received
        .iter()
        .map(|(_, d)| {
            (
                d["check"].as_str().expect("check").to_owned(),
                d["state"].as_str().expect("state").to_owned(),
            )
        })
        .collect();
    summary.sort();
    let expected: Vec<(String, String)> = ["error_ratio", "latency_p99", "request_rate"]
        .iter()
        .flat_map(|check| {
            [
                ((*check).to_owned(), "firing".to_owned()),
                ((*check).to_owned(), "resolved".to_owned()),
            ]
        })
        .collect();
    assert_eq!(
        summary, expected,
        "one no_data alert per check, each firing and resolving once (the traffic drop itself \
         is request_rate's anomaly, apart)"
    );
    for (at, document) in &received {
        if document["state"] == "firing" {
            // Its last sample is at 12:00; ten minutes without a point after the last rate.
            assert!(
                ("2026-06-04T12:10:00+00:00"..="2026-06-04T12:16:00+00:00").contains(&at.as_str()),
                "fired at {at}"
            );
        } else {
            assert!(
                ("2026-06-04T12:31:00+00:00"..="2026-06-04T12:37:00+00:00").contains(&at.as_str()),
                "resolved at {at}, data returns at 12:31"
            );
        }
    }
}
