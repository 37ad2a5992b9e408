//! What the integration tests share: the running stack, AWS clients pointed at moto, the
//! deployed job wired the way `main` wires it, and a fault-injecting HTTP proxy.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_s3::config::Credentials;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use sla_report::{connect, DeployedJob, SlaReportConfig};
use tokio::net::TcpListener;
use vigil_core::config::Env;

/// An http URL on loopback where nothing listens: a Prometheus that is down.
pub fn unused_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    url
}

/// The stack's addresses, from the environment `make test` exports.
#[derive(Debug, Clone)]
pub struct Stack {
    pub prometheus_url: String,
    pub moto_url: String,
}

pub fn stack() -> Stack {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: run the integration tests with `make test`, which starts the local stack")
        })
    };
    Stack {
        prometheus_url: var("VIGIL_TEST_PROMETHEUS_URL"),
        moto_url: var("VIGIL_TEST_MOTO_URL"),
    }
}

/// An SDK configuration for moto (or a proxy in front of it): static credentials, one region.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .load()
        .await
}

pub async fn s3(endpoint: &str) -> aws_sdk_s3::Client {
    vigil_core::adapters::aws::s3_client(&sdk_config(endpoint).await, true)
}

/// A bucket of its own for one test.
pub async fn new_bucket(stack: &Stack, name: &str) -> String {
    let bucket = format!("vigil-it-{name}-{}", std::process::id());
    s3(&stack.moto_url)
        .await
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("bucket created");
    bucket
}

/// Every key in `bucket`.
pub async fn keys(stack: &Stack, bucket: &str) -> Vec<String> {
    let listed = s3(&stack.moto_url)
        .await
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("listed");
    listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

pub async fn object(stack: &Stack, bucket: &str, key: &str) -> (Vec<u8>, Option<String>) {
    let output = s3(&stack.moto_url)
        .await
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("object exists");
    let content_type = output.content_type().map(str::to_owned);
    let body = output
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes()
        .to_vec();
    (body, content_type)
}

/// The job wired as `main` wires it, from environment pairs plus the stack's addresses.
pub async fn job(
    prometheus_url: &str,
    s3_endpoint: &str,
    bucket: &str,
    extra: &[(&str, &str)],
) -> DeployedJob {
    // A one-day window and no period reports read no earlier ledger days, so tests of the
    // day's queries count just those; the tests of windows and periods set them themselves.
    let mut pairs = vec![
        ("PROMETHEUS_URL", prometheus_url),
        ("REPORT_BUCKET", bucket),
        ("S3_FORCE_PATH_STYLE", "true"),
        ("WRITE_RESERVE_SECONDS", "1"),
        ("SLO_WINDOW", "1d"),
        ("REPORT_PERIODS", "none"),
    ];
    pairs.extend_from_slice(extra);
    let config = SlaReportConfig::from_env(&Env::from_pairs(pairs)).expect("valid config");
    connect(config, &sdk_config(s3_endpoint).await)
        .await
        .expect("connects")
}

pub fn deadline_in(seconds: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(seconds)
}

/// What the proxy does with one request.
pub enum Action {
    /// Pass it to the upstream server.
    Forward,
    /// Answer it directly.
    Respond {
        status: u16,
        content_type: &'static str,
        body: String,
    },
    /// Wait, then pass it on.
    Delay(Duration),
    /// Pass it on, then answer with the upstream's status and headers but only the first half
    /// of its body, as a proxy that cuts a response does.
    Truncate,
    /// Close the connection without an answer.
    Reset,
    /// Answer 429 with `Retry-After` in seconds.
    Throttle(u64),
}

type Plan = dyn Fn(usize, &http::request::Parts, &Bytes) -> Action + Send + Sync;

/// The connection was closed on purpose ([`Action::Reset`]).
#[derive(Debug)]
struct ResetByProxy;

impl std::fmt::Display for ResetByProxy {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("connection reset by the fault proxy")
    }
}

impl std::error::Error for ResetByProxy {}

/// An HTTP proxy on a free loopback port that forwards to `upstream` or injects faults,
/// request by request, and remembers what it saw.
pub struct FaultProxy {
    pub url: String,
    requests: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<http::request::Parts>>>,
}

impl FaultProxy {
    pub async fn start(
        upstream: &str,
        plan: impl Fn(usize, &http::request::Parts) -> Action + Send + Sync + 'static,
    ) -> Self {
        Self::start_with_body(upstream, move |index, parts, _| plan(index, parts)).await
    }

    /// As [`Self::start`], the plan seeing the request's body too.
    pub async fn start_with_body(
        upstream: &str,
        plan: impl Fn(usize, &http::request::Parts, &Bytes) -> Action + Send + Sync + 'static,
    ) -> Self {
        // reqwest is built without a default TLS provider; the functions install this one.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let requests = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let plan: Arc<Plan> = Arc::new(plan);
        let upstream = upstream.trim_end_matches('/').to_owned();
        let client = reqwest::Client::new();
        let (counter, log) = (requests.clone(), seen.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (plan, upstream, client, counter, log) = (
                    plan.clone(),
                    upstream.clone(),
                    client.clone(),
                    counter.clone(),
                    log.clone(),
                );
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                        let (plan, upstream, client, counter, log) = (
                            plan.clone(),
                            upstream.clone(),
                            client.clone(),
                            counter.clone(),
                            log.clone(),
                        );
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(http_body_util::Collected::to_bytes)
                                .unwrap_or_default();
                            let index = counter.fetch_add(1, Ordering::SeqCst);
                            let action = plan(index, &parts, &body);
                            log.lock().expect("lock").push(parts.clone());
                            let response = match action {
                                Action::Reset => return Err(ResetByProxy),
                                Action::Throttle(seconds) => Response::builder()
                                    .status(429)
                                    .header("retry-after", seconds.to_string())
                                    .header("content-type", "text/plain")
                                    .body(Full::new(Bytes::from("slow down")))
                                    .expect("response"),
                                Action::Truncate => {
                                    let whole = forward(&client, &upstream, parts, body).await;
                                    let (head, full) = whole.into_parts();
                                    let bytes = full
                                        .collect()
                                        .await
                                        .map(http_body_util::Collected::to_bytes)
                                        .unwrap_or_default();
                                    Response::from_parts(
                                        head,
                                        Full::new(bytes.slice(..bytes.len() / 2)),
                                    )
                                }
                                Action::Respond {
                                    status,
                                    content_type,
                                    body,
                                } => Response::builder()
                                    .status(status)
                                    .header("content-type", content_type)
                                    .body(Full::new(Bytes::from(body)))
                                    .expect("response"),
                                Action::Delay(wait) => {
                                    tokio::time::sleep(wait).await;
                                    forward(&client, &upstream, parts, body).await
                                }
                                Action::Forward => forward(&client, &upstream, parts, body).await,
                            };
                            Ok::<_, ResetByProxy>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            url,
            requests,
            seen,
        }
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<http::request::Parts> {
        self.seen.lock().expect("lock").clone()
    }
}

async fn forward(
    client: &reqwest::Client,
    upstream: &str,
    parts: http::request::Parts,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = client
        .request(parts.method.clone(), format!("{upstream}{path}"))
        .body(body);
    for (name, value) in &parts.headers {
        if name != http::header::HOST {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(upstream_response) => {
            let mut response = Response::builder().status(upstream_response.status().as_u16());
            for (name, value) in upstream_response.headers() {
                if name != http::header::TRANSFER_ENCODING && name != http::header::CONTENT_LENGTH {
                    response = response.header(name, value);
                }
            }
            let bytes = upstream_response.bytes().await.unwrap_or_default();
            response.body(Full::new(bytes)).expect("response")
        }
        Err(error) => Response::builder()
            .status(502)
            .body(Full::new(Bytes::from(error.to_string())))
            .expect("response"),
    }
}

/// The workspace's binary `name`, built by `make test` before the tests run.
pub fn binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let binary = dir.join(name);
    assert!(
        binary.exists(),
        "{} is missing: build the workspace first (make test does)",
        binary.display()
    );
    binary
}

/// A proxy in front of moto at `moto_url` that answers every SNS call with a 500 and passes
/// S3 on: SNS is down, the state store is not.
pub async fn sns_down(moto_url: &str) -> FaultProxy {
    FaultProxy::start(moto_url, |_, parts| {
        if parts.uri.path() == "/" && parts.method == http::Method::POST {
            Action::Respond {
                status: 500,
                content_type: "text/xml",
                body: "<ErrorResponse><Error><Code>InternalError</Code></Error></ErrorResponse>"
                    .into(),
            }
        } else {
            Action::Forward
        }
    })
    .await
}

/// A fresh SNS topic with a fresh SQS queue subscribed to it (raw delivery off, as a
/// subscriber would have it by default).
pub async fn topic_with_queue(stack: &Stack, name: &str) -> (String, String) {
    let sdk = sdk_config(&stack.moto_url).await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let unique = format!("vigil-it-{name}-{}", std::process::id());
    let topic = sns
        .create_topic()
        .name(&unique)
        .send()
        .await
        .expect("topic")
        .topic_arn()
        .expect("arn")
        .to_owned();
    let queue = sqs
        .create_queue()
        .queue_name(&unique)
        .send()
        .await
        .expect("queue")
        .queue_url()
        .expect("url")
        .to_owned();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("attributes");
    let queue_arn = attributes
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .expect("queue arn")
        .clone();
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .expect("subscribed");
    (topic, queue)
}

/// Everything waiting in the queue: the SNS envelopes, parsed.
pub async fn drain(stack: &Stack, queue: &str) -> Vec<serde_json::Value> {
    let sqs = aws_sdk_sqs::Client::new(&sdk_config(&stack.moto_url).await);
    let mut messages = Vec::new();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("received");
        let batch = received.messages();
        if batch.is_empty() {
            return messages;
        }
        for message in batch {
            messages
                .push(serde_json::from_str(message.body().expect("body")).expect("SNS envelope"));
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(message.receipt_handle().expect("handle"))
                .send()
                .await
                .expect("deleted");
        }
    }
}

/// The alert document an SQS subscriber received in an SNS envelope.
pub fn message_document(envelope: &serde_json::Value) -> serde_json::Value {
    serde_json::from_str(envelope["Message"].as_str().expect("message"))
        .expect("the sqs document is JSON")
}

/// A new bucket and a topic with a subscribed queue, both named after `name`, and the
/// anomaly-check job publishing to them with `extra` settings: the job, bucket, topic and queue.
pub async fn alerting_job(
    stack: &Stack,
    name: &str,
    extra: &[(&str, &str)],
) -> (anomaly_check::DeployedJob, String, String, String) {
    let bucket = new_bucket(stack, name).await;
    let (topic, queue) = topic_with_queue(stack, name).await;
    let job = anomaly_job(
        &stack.prometheus_url,
        &stack.moto_url,
        &bucket,
        Some(&topic),
        extra,
    )
    .await;
    (job, bucket, topic, queue)
}

/// The anomaly-check job wired as `main` wires it.
pub async fn anomaly_job(
    prometheus_url: &str,
    aws_endpoint: &str,
    state_bucket: &str,
    topic: Option<&str>,
    extra: &[(&str, &str)],
) -> anomaly_check::DeployedJob {
    let mut pairs = vec![
        ("PROMETHEUS_URL", prometheus_url),
        ("STATE_BUCKET", state_bucket),
        ("S3_FORCE_PATH_STYLE", "true"),
        ("EVALUATION_DELAY_SECONDS", "0"),
    ];
    if let Some(topic) = topic {
        pairs.push(("ALERT_TOPIC_ARN", topic));
    }
    pairs.extend_from_slice(extra);
    let config =
        anomaly_check::AnomalyCheckConfig::from_env(&Env::from_pairs(pairs)).expect("valid config");
    anomaly_check::connect(config, &sdk_config(aws_endpoint).await)
        .await
        .expect("connects")
}

/// The minute events from `from` (inclusive) to `to` (exclusive), RFC 3339.
pub fn minutes(from: &str, to: &str) -> Vec<serde_json::Value> {
    let parse = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .expect("time")
            .timestamp()
    };
    (parse(from)..parse(to))
        .step_by(60)
        .map(|t| serde_json::json!({"time": chrono::DateTime::from_timestamp(t, 0).expect("time").to_rfc3339()}))
        .collect()
}

/// `(check, service, state)` of each message, from the SQS subscriber's SNS envelopes.
pub fn summarise(envelopes: &[serde_json::Value]) -> Vec<(String, String, String)> {
    envelopes
        .iter()
        .map(|envelope| {
            let document = message_document(envelope);
            let attributes = &envelope["MessageAttributes"];
            assert_eq!(
                attributes["state"]["Value"], document["state"],
                "{envelope}"
            );
            assert_eq!(attributes["check"]["Value"], document["check"]);
            assert!(envelope["Subject"].as_str().expect("subject").len() <= 100);
            let reason = &document["reason"];
            if document["state"] == "firing" {
                let reason = reason.as_str().expect("a firing alert says why");
                assert!(
                    ["point", "sustained", "daily", "no_data"].contains(&reason),
                    "{document}"
                );
            } else {
                assert!(
                    reason.is_null() || reason == "no_data",
                    "a resolution gives no reason but no_data: {document}"
                );
            }
            (
                document["check"].as_str().expect("check").to_owned(),
                document["labels"]["service"]
                    .as_str()
                    .unwrap_or("-")
                    .to_owned(),
                document["state"].as_str().expect("state").to_owned(),
            )
        })
        .collect()
}

/// What the incident replay of 09:00 to 16:00 on the test history's third day must send: one
/// firing and one resolved message for each of its four incidents, sorted.
pub fn replay_incidents() -> Vec<(String, String, String)> {
    [
        ("error_ratio", "api", "firing"),
        ("error_ratio", "api", "resolved"),
        ("latency_p99", "catalog", "firing"),
        ("latency_p99", "catalog", "resolved"),
        ("latency_p99", "reports", "firing"),
        ("latency_p99", "reports", "resolved"),
        ("request_rate", "cart", "firing"),
        ("request_rate", "cart", "resolved"),
    ]
    .iter()
    .map(|(c, s, t)| ((*c).to_owned(), (*s).to_owned(), (*t).to_owned()))
    .collect()
}
