//! Failures: each fails the invocation with a clear, classified error and writes no object.

use std::time::{Duration, Instant};

use lambda_runtime::Diagnostic;
use sla_report::{connect, invoke, SlaReportConfig};
use vigil_core::config::Env;

use crate::support::{
    deadline_in, job, keys, new_bucket, object, sdk_config, stack, unused_port_url, Action,
    FaultProxy,
};

const EVENT: &str = r#"{"time": "2026-11-03T00:15:00Z"}"#;

fn event() -> serde_json::Value {
    serde_json::from_str(EVENT).expect("json")
}

#[tokio::test]
async fn prometheus_down_fails_after_retries_within_the_deadline() {
    let stack = stack();
    let bucket = new_bucket(&stack, "down").await;
    let job = job(&unused_port_url(), &stack.moto_url, &bucket, &[]).await;
    let started = Instant::now();
    let error = invoke(&job, &event(), deadline_in(4))
        .await
        .expect_err("fails");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped at the deadline: {:?}",
        started.elapsed()
    );
    let message = error.to_string();
    let diagnostic = Diagnostic::from(error);
    assert_eq!(
        diagnostic.error_type, "Retryable.PrometheusUnavailable",
        "{message}"
    );
    assert!(message.contains("attempt"), "{message}");
    assert!(keys(&stack, &bucket).await.is_empty());
}

#[tokio::test]
async fn prometheus_slower_than_the_deadline_fails_as_a_timeout() {
    let stack = stack();
    let bucket = new_bucket(&stack, "slow").await;
    let proxy = FaultProxy::start(&stack.prometheus_url, |_, _| {
        Action::Delay(Duration::from_secs(30))
    })
    .await;
    let job = job(&proxy.url, &stack.moto_url, &bucket, &[]).await;
    let started = Instant::now();
    let error = invoke(&job, &event(), deadline_in(4))
        .await
        .expect_err("fails");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        Diagnostic::from(error).error_type,
        "Retryable.PrometheusTimeout"
    );
    assert!(keys(&stack, &bucket).await.is_empty());
}

#[tokio::test]
async fn a_503_is_retried_and_the_report_is_the_same() {
    let stack = stack();
    let direct_bucket = new_bucket(&stack, "direct").await;
    let direct = job(&stack.prometheus_url, &stack.moto_url, &direct_bucket, &[]).await;
    let expected = invoke(&direct, &event(), deadline_in(60))
        .await
        .expect("direct run");
    let bucket = new_bucket(&stack, "flaky").await;
    let proxy = FaultProxy::start(&stack.prometheus_url, |index, _| {
        if index < 3 {
            Action::Respond {
                status: 503,
                content_type: "application/json",
                body: r#"{"status":"error","errorType":"unavailable","error":"overloaded"}"#.into(),
            }
        } else {
            Action::Forward
        }
    })
    .await;
    let job = job(&proxy.url, &stack.moto_url, &bucket, &[]).await;
    let outcome = invoke(&job, &event(), deadline_in(60))
        .await
        .expect("succeeds after retries");
    assert_eq!(
        proxy.requests(),
        8 + 3,
        "eight queries, three of them tried twice"
    );
    assert_eq!(
        object(&stack, &bucket, &outcome.json_key).await.0,
        object(&stack, &direct_bucket, &expected.json_key).await.0
    );
}

#[tokio::test]
async fn bad_data_fails_at_once_without_retrying() {
    let stack = stack();
    let bucket = new_bucket(&stack, "baddata").await;
    let proxy = FaultProxy::start(&stack.prometheus_url, |_, _| Action::Respond {
        status: 400,
        content_type: "application/json",
        body: r#"{"status":"error","errorType":"bad_data","error":"1:1: parse error: unexpected character"}"#.into(),
    })
    .await;
    let job = job(&proxy.url, &stack.moto_url, &bucket, &[]).await;
    let error = invoke(&job, &event(), deadline_in(30))
        .await
        .expect_err("fails");
    assert!(
        proxy.requests() <= 8,
        "no query was retried: {} requests",
        proxy.requests()
    );
    let message = error.to_string();
    assert!(
        message.contains("bad_data") && message.contains("parse error"),
        "{message}"
    );
    assert_eq!(
        Diagnostic::from(error).error_type,
        "NonRetryable.QueryRejected"
    );
    assert!(keys(&stack, &bucket).await.is_empty());
}

#[tokio::test]
async fn an_html_error_page_is_reported_with_its_status_and_first_bytes() {
    let stack = stack();
    let bucket = new_bucket(&stack, "html").await;
    let page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let proxy = FaultProxy::start(&stack.prometheus_url, move |_, _| Action::Respond {
        status: 502,
        content_type: "text/html",
        body: page.into(),
    })
    .await;
    let failing = job(&proxy.url, &stack.moto_url, &bucket, &[]).await;
    let error = invoke(&failing, &event(), deadline_in(3))
        .await
        .expect_err("fails");
    let message = error.to_string();
    assert!(
        message.contains("http 502")
            && message.contains("text/html")
            && message.contains("502 Bad Gateway"),
        "{message}"
    );
    assert!(proxy.requests() > 8, "a 502 is retried");
    assert!(keys(&stack, &bucket).await.is_empty());

    let login = FaultProxy::start(&stack.prometheus_url, |_, _| Action::Respond {
        status: 200,
        content_type: "text/html",
        body: "<html>Sign in</html>".into(),
    })
    .await;
    let login_job = job(&login.url, &stack.moto_url, &bucket, &[]).await;
    let error = invoke(&login_job, &event(), deadline_in(30))
        .await
        .expect_err("fails");
    assert!(error.to_string().contains("<html>Sign in"), "{error}");
    assert!(
        error.to_string().contains("not the prometheus api"),
        "{error}"
    );
    assert_eq!(
        Diagnostic::from(error).error_type,
        "NonRetryable.PrometheusResponseInvalid"
    );
    assert!(keys(&stack, &bucket).await.is_empty());
}

#[tokio::test]
async fn an_s3_failure_fails_the_invocation_and_writes_nothing() {
    let stack = stack();
    let bucket = new_bucket(&stack, "s3down").await;
    let s3_proxy = FaultProxy::start(&stack.moto_url, |_, _| Action::Respond {
        status: 500,
        content_type: "application/xml",
        body: "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>".into(),
    })
    .await;
    let job = job(&stack.prometheus_url, &s3_proxy.url, &bucket, &[]).await;
    let error = invoke(&job, &event(), deadline_in(60))
        .await
        .expect_err("fails");
    assert!(error.to_string().contains("report.html"), "{error}");
    assert_eq!(Diagnostic::from(error).error_type, "Retryable.StoreFailed");
    assert!(keys(&stack, &bucket).await.is_empty());
}

#[tokio::test]
async fn credentials_come_from_the_secret_and_headers_are_sent() {
    let stack = stack();
    let sdk = sdk_config(&stack.moto_url).await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let created = secrets
        .create_secret()
        .name(format!("vigil-it-prom-{}", std::process::id()))
        .secret_string(r#"{"username":"grafana-123","password":"s3cr3t"}"#)
        .send()
        .await
        .expect("secret created");
    let arn = created.arn().expect("arn").to_owned();
    let proxy = FaultProxy::start(&stack.prometheus_url, |_, _| Action::Forward).await;
    let bucket = new_bucket(&stack, "auth").await;
    let job = job(
        &proxy.url,
        &stack.moto_url,
        &bucket,
        &[
            ("PROMETHEUS_AUTH", "basic"),
            ("PROMETHEUS_SECRET_ARN", &arn),
            ("PROMETHEUS_HEADERS", r#"{"X-Scope-OrgID": "team-a"}"#),
        ],
    )
    .await;
    invoke(&job, &event(), deadline_in(60))
        .await
        .expect("report written");
    let seen = proxy.seen();
    assert_eq!(seen.len(), 8);
    for request in seen {
        // base64("grafana-123:s3cr3t")
        assert_eq!(
            request.headers["authorization"],
            "Basic Z3JhZmFuYS0xMjM6czNjcjN0"
        );
        assert_eq!(request.headers["x-scope-orgid"], "team-a");
    }
}

#[tokio::test]
async fn an_unreadable_secret_stops_start_up_naming_the_setting() {
    let stack = stack();
    let config = SlaReportConfig::from_env(&Env::from_pairs([
        ("PROMETHEUS_URL", stack.prometheus_url.as_str()),
        ("REPORT_BUCKET", "unused"),
        ("PROMETHEUS_AUTH", "bearer"),
        (
            "PROMETHEUS_SECRET_ARN",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:does-not-exist-AbCdEf",
        ),
    ]))
    .expect("valid config");
    let error = connect(config, &sdk_config(&stack.moto_url).await)
        .await
        .expect_err("no such secret");
    assert!(
        error.to_string().starts_with("PROMETHEUS_SECRET_ARN: "),
        "{error}"
    );
}

#[tokio::test]
async fn sigv4_signs_every_request_for_the_aps_service() {
    let stack = stack();
    let proxy = FaultProxy::start(&stack.prometheus_url, |_, _| Action::Forward).await;
    let bucket = new_bucket(&stack, "sigv4").await;
    let job = job(
        &proxy.url,
        &stack.moto_url,
        &bucket,
        &[
            ("PROMETHEUS_AUTH", "sigv4"),
            ("PROMETHEUS_SIGV4_REGION", "eu-west-1"),
        ],
    )
    .await;
    invoke(&job, &event(), deadline_in(60))
        .await
        .expect("report written");
    let seen = proxy.seen();
    assert_eq!(seen.len(), 8);
    for request in seen {
        let authorization = request.headers["authorization"].to_str().expect("ascii");
        assert!(
            authorization.starts_with("AWS4-HMAC-SHA256 Credential=test/"),
            "{authorization}"
        );
        assert!(
            authorization.contains("/eu-west-1/aps/aws4_request"),
            "{authorization}"
        );
        assert!(
            authorization.contains("SignedHeaders=") && authorization.contains("Signature="),
            "{authorization}"
        );
        assert!(request.headers.contains_key("x-amz-date"));
    }
}

#[tokio::test]
async fn a_bearer_token_can_come_from_an_ssm_parameter() {
    let stack = stack();
    let sdk = sdk_config(&stack.moto_url).await;
    let name = format!("/vigil-it/prom-token-{}", std::process::id());
    aws_sdk_ssm::Client::new(&sdk)
        .put_parameter()
        .name(&name)
        .value("glc_t0ken")
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("parameter stored");
    let arn = format!("arn:aws:ssm:us-east-1:123456789012:parameter{name}");
    let proxy = FaultProxy::start(&stack.prometheus_url, |_, _| Action::Forward).await;
    let bucket = new_bucket(&stack, "ssm").await;
    let job = job(
        &proxy.url,
        &stack.moto_url,
        &bucket,
        &[
            ("PROMETHEUS_AUTH", "bearer"),
            ("PROMETHEUS_SECRET_ARN", &arn),
        ],
    )
    .await;
    invoke(&job, &event(), deadline_in(60))
        .await
        .expect("report written");
    assert!(proxy
        .seen()
        .iter()
        .all(|r| r.headers["authorization"] == "Bearer glc_t0ken"));
}

#[tokio::test]
async fn long_queries_go_as_post_forms_and_give_the_same_report() {
    let stack = stack();
    let direct_bucket = new_bucket(&stack, "shortq").await;
    let direct = job(&stack.prometheus_url, &stack.moto_url, &direct_bucket, &[]).await;
    let expected = invoke(&direct, &event(), deadline_in(60))
        .await
        .expect("direct run");
    // Alternatives that match no status make the error queries long without changing them.
    let regex = std::iter::once("5..".to_owned())
        .chain((0..300).map(|i| format!("never-{i}")))
        .collect::<Vec<_>>()
        .join("|");
    let proxy = FaultProxy::start(&stack.prometheus_url, |_, _| Action::Forward).await;
    let bucket = new_bucket(&stack, "longq").await;
    let job = job(
        &proxy.url,
        &stack.moto_url,
        &bucket,
        &[("ERROR_VALUE_REGEX", &regex)],
    )
    .await;
    let outcome = invoke(&job, &event(), deadline_in(60))
        .await
        .expect("report written");
    let seen = proxy.seen();
    let posts = seen
        .iter()
        .filter(|r| r.method == http::Method::POST)
        .count();
    assert_eq!(posts, 2, "the two error queries are long");
    assert!(seen
        .iter()
        .filter(|r| r.method == http::Method::POST)
        .all(|r| r.headers["content-type"] == "application/x-www-form-urlencoded"));
    assert_eq!(
        object(&stack, &bucket, &outcome.json_key).await.0,
        object(&stack, &direct_bucket, &expected.json_key).await.0
    );
}
