//! Faults as they come: both functions run through fault-injecting proxies in front of
//! Prometheus and moto that mix 503 pages, 429s with `Retry-After`, bodies cut short, slow
//! answers, connection resets and S3 and SNS 500s, plus outages timed on purpose. A report is
//! whole or absent, never wrong; every incident fires once and resolves once.
//!
//! Seeded: a request's fate is drawn from the seed, the request (method, path, body) and how
//! many times that same request was seen before, so a run's faults do not depend on the order
//! in which concurrent queries arrive, and a failure reproduces with its seed
//! (`VIGIL_CHAOS_SEED`). `VIGIL_CHAOS_RUNS` sets how many report runs the report test makes.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::body::Bytes;
use lambda_runtime::Diagnostic;

use crate::support::{
    anomaly_job, deadline_in, drain, job, keys, minutes, new_bucket, object, replay_incidents,
    stack, summarise, topic_with_queue, Action, FaultProxy,
};

const REPORT_EVENT: &str = r#"{"time": "2026-11-03T00:15:00Z"}"#;

/// The share of requests each fault takes; the rest are passed on.
#[derive(Debug, Clone, Copy)]
struct Mix {
    /// 503 with an HTML page, as a load balancer gives.
    unavailable: f64,
    /// 200 whose body is cut in half.
    truncated: f64,
    /// Passed on after `slow_by`.
    slow: f64,
    slow_by: Duration,
    /// 429 with `Retry-After: 1`.
    throttled: f64,
    /// The connection closed without an answer.
    reset: f64,
    /// 500 with an S3- or SNS-style error document, before the request reaches the server.
    server_error: f64,
}

const QUIET: Mix = Mix {
    unavailable: 0.0,
    truncated: 0.0,
    slow: 0.0,
    slow_by: Duration::ZERO,
    throttled: 0.0,
    reset: 0.0,
    server_error: 0.0,
};

/// What the proxies did, by fault.
type Tally = Arc<Mutex<BTreeMap<&'static str, usize>>>;

/// Draws each request's fate.
struct Chaos {
    seed: u64,
    seen: Mutex<HashMap<u64, u64>>,
    tally: Tally,
}

impl Chaos {
    fn new(seed: u64, tally: Tally) -> Arc<Self> {
        Arc::new(Self {
            seed,
            seen: Mutex::new(HashMap::new()),
            tally,
        })
    }

    /// The request's identity, and how many times it has been seen, this time included. An S3
    /// request is known by its object key, not its bucket, whose name carries the test
    /// process's id.
    fn sighting(&self, parts: &http::request::Parts, body: &Bytes) -> (u64, u64) {
        let path = parts.uri.path();
        let path = if is_s3(parts) {
            path.trim_start_matches('/')
                .split_once('/')
                .map_or("", |(_, key)| key)
        } else {
            path
        };
        let mut request = DefaultHasher::new();
        (
            parts.method.as_str(),
            path,
            parts.uri.query(),
            body.as_ref(),
        )
            .hash(&mut request);
        let request = request.finish();
        let mut seen = self.seen.lock().expect("lock");
        let count = seen.entry(request).or_insert(0);
        *count += 1;
        (request, *count)
    }

    /// A number in [0, 1) for this sighting of this request.
    fn draw(&self, parts: &http::request::Parts, body: &Bytes) -> f64 {
        let (request, nth) = self.sighting(parts, body);
        let mut draw = DefaultHasher::new();
        (self.seed, request, nth).hash(&mut draw);
        #[allow(clippy::cast_precision_loss)]
        let unit = (draw.finish() >> 11) as f64 / (1_u64 << 53) as f64;
        unit
    }

    fn count(&self, fault: &'static str) {
        *self.tally.lock().expect("lock").entry(fault).or_insert(0) += 1;
    }

    /// The fault `mix` draws for this request, if any.
    fn act(&self, mix: &Mix, parts: &http::request::Parts, body: &Bytes, s3: bool) -> Action {
        let mut u = self.draw(parts, body);
        let mut pick = |share: f64| {
            let hit = u < share;
            u -= share;
            hit
        };
        let (fault, action) = if pick(mix.unavailable) {
            ("unavailable", unavailable())
        } else if pick(mix.truncated) {
            ("truncated", Action::Truncate)
        } else if pick(mix.slow) {
            ("slow", Action::Delay(mix.slow_by))
        } else if pick(mix.throttled) {
            ("throttled", Action::Throttle(1))
        } else if pick(mix.reset) {
            ("reset", Action::Reset)
        } else if pick(mix.server_error) {
            ("server_error", server_error(s3))
        } else {
            return Action::Forward;
        };
        self.count(fault);
        action
    }
}

fn unavailable() -> Action {
    Action::Respond {
        status: 503,
        content_type: "text/html",
        body: "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>".into(),
    }
}

fn server_error(s3: bool) -> Action {
    Action::Respond {
        status: 500,
        content_type: if s3 { "application/xml" } else { "text/xml" },
        body: if s3 {
            "<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>".into()
        } else {
            "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code><Message>internal</Message></Error></ErrorResponse>".into()
        },
    }
}

/// Whether a request to moto is for S3 (path-style bucket paths) rather than SNS or SQS
/// (form posts to `/`).
fn is_s3(parts: &http::request::Parts) -> bool {
    parts.uri.path() != "/"
}

/// A proxy in front of Prometheus drawing from `mix`.
async fn prometheus_proxy(upstream: &str, chaos: &Arc<Chaos>, mix: Mix) -> FaultProxy {
    let chaos = chaos.clone();
    FaultProxy::start_with_body(upstream, move |_, parts, body| {
        chaos.act(&mix, parts, body, false)
    })
    .await
}

/// A proxy in front of moto drawing from `mix`.
async fn moto_proxy(upstream: &str, chaos: &Arc<Chaos>, mix: Mix) -> FaultProxy {
    let chaos = chaos.clone();
    FaultProxy::start_with_body(upstream, move |_, parts, body| {
        chaos.act(&mix, parts, body, is_s3(parts))
    })
    .await
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// The mix the issue measured: 15 % 503 pages, 10 % bodies cut in half, 5 % two seconds late
/// from Prometheus, 15 % 500s from S3; plus 429s and resets from both.
fn report_mixes(slow_by: Duration) -> (Mix, Mix) {
    let prometheus = Mix {
        unavailable: 0.15,
        truncated: 0.10,
        slow: 0.05,
        slow_by,
        throttled: 0.03,
        reset: 0.03,
        ..QUIET
    };
    let s3 = Mix {
        server_error: 0.15,
        reset: 0.03,
        ..QUIET
    };
    (prometheus, s3)
}

#[tokio::test]
async fn a_report_under_mixed_faults_is_whole_or_absent_and_failures_are_retryable() {
    let stack = stack();
    let event: serde_json::Value = serde_json::from_str(REPORT_EVENT).expect("json");
    let reference_bucket = new_bucket(&stack, "chaos-reference").await;
    let reference = job(
        &stack.prometheus_url,
        &stack.moto_url,
        &reference_bucket,
        &[],
    )
    .await;
    let expected = sla_report::invoke(&reference, &event, deadline_in(60))
        .await
        .expect("the fault-free run succeeds");
    let mut reference_objects = BTreeMap::new();
    for key in keys(&stack, &reference_bucket).await {
        reference_objects.insert(key.clone(), object(&stack, &reference_bucket, &key).await.0);
    }
    assert_eq!(
        reference_objects.len(),
        4,
        "HTML, JSON, the day's ledger and latest.json: {}",
        expected.json_key
    );

    let runs = env_number("VIGIL_CHAOS_RUNS", 8);
    let first_seed = env_number("VIGIL_CHAOS_SEED", 1);
    let slow_by = Duration::from_millis(env_number("VIGIL_CHAOS_SLOW_MS", 300));
    let (prometheus_mix, s3_mix) = report_mixes(slow_by);
    let tally = Tally::default();
    let mut outcomes = Vec::new();
    for seed in first_seed..first_seed + runs {
        let chaos = Chaos::new(seed, tally.clone());
        let prometheus = prometheus_proxy(&stack.prometheus_url, &chaos, prometheus_mix).await;
        let moto = moto_proxy(&stack.moto_url, &chaos, s3_mix).await;
        let bucket = new_bucket(&stack, &format!("chaos-report-{seed}")).await;
        let faulty = job(&prometheus.url, &moto.url, &bucket, &[]).await;
        let result = sla_report::invoke(&faulty, &event, deadline_in(60)).await;
        for key in keys(&stack, &bucket).await {
            let written = object(&stack, &bucket, &key).await.0;
            assert_eq!(
                Some(&written),
                reference_objects.get(&key),
                "seed {seed}: {key} differs from the fault-free run's"
            );
        }
        let outcome = match result {
            Ok(_) => "ok".to_owned(),
            Err(error) => {
                let message = error.to_string();
                let kind = Diagnostic::from(error).error_type;
                assert!(
                    kind.starts_with("Retryable."),
                    "seed {seed}: Prometheus rejected nothing, yet {kind}: {message}"
                );
                format!("{kind}: {message}")
            }
        };
        outcomes.push((seed, outcome));
    }
    let succeeded = outcomes.iter().filter(|(_, o)| o == "ok").count();
    let tally = tally.lock().expect("lock").clone();
    eprintln!("chaos report: {succeeded} of {runs} runs succeeded; {outcomes:?}; faults {tally:?}");
    for fault in ["unavailable", "truncated", "slow", "server_error"] {
        assert!(
            tally.get(fault).copied().unwrap_or(0) > 0,
            "no {fault} was injected: {tally:?}"
        );
    }
    // The issue's bar: at least nine runs in ten succeed (seeds 1 to 40 all do).
    assert!(
        succeeded * 10 >= usize::try_from(runs).expect("small") * 9,
        "{succeeded} of {runs} runs succeeded: {outcomes:?}"
    );
}

#[tokio::test]
async fn a_body_cut_short_is_retried_and_named_with_the_bytes_that_arrived() {
    let stack = stack();
    let event: serde_json::Value = serde_json::from_str(REPORT_EVENT).expect("json");
    let bucket = new_bucket(&stack, "chaos-truncated-once").await;
    // Every query's first answer is cut in half; the second is whole.
    let chaos = Chaos::new(0, Tally::default());
    let once = chaos.clone();
    let proxy = FaultProxy::start_with_body(&stack.prometheus_url, move |_, parts, body| {
        if once.sighting(parts, body).1 == 1 {
            Action::Truncate
        } else {
            Action::Forward
        }
    })
    .await;
    let recovering = job(&proxy.url, &stack.moto_url, &bucket, &[]).await;
    sla_report::invoke(&recovering, &event, deadline_in(60))
        .await
        .expect("a cut-short answer is retried");
    assert!(
        proxy.requests() >= 16,
        "each query asked twice: {}",
        proxy.requests()
    );

    let always = FaultProxy::start(&stack.prometheus_url, |_, _| Action::Truncate).await;
    let bucket = new_bucket(&stack, "chaos-truncated-always").await;
    let failing = job(&always.url, &stack.moto_url, &bucket, &[]).await;
    let error = sla_report::invoke(&failing, &event, deadline_in(4))
        .await
        .expect_err("every answer is cut short");
    let message = error.to_string();
    assert!(always.requests() > 8, "retried: {}", always.requests());
    assert!(message.contains("cut short"), "{message}");
    assert!(
        message.contains(r#"body starts "{\"status\":\"success\""#),
        "the bytes that arrived are shown: {message}"
    );
    assert_eq!(
        Diagnostic::from(error).error_type,
        "Retryable.PrometheusResponseTruncated"
    );
    assert!(keys(&stack, &bucket).await.is_empty());
}

/// The minutes (from the replay's start) of the timed outages.
struct Outages {
    prometheus_down: std::ops::Range<usize>,
    sns_down: std::ops::Range<usize>,
    state_write_failing: std::ops::Range<usize>,
}

/// The proxies of the incident replay: a light mix of faults from Prometheus, S3 and SNS, and
/// the outages at their minutes.
async fn replay_proxies(
    stack: &crate::support::Stack,
    chaos: &Arc<Chaos>,
    minute: &Arc<AtomicUsize>,
    outages: &Arc<Outages>,
) -> (FaultProxy, FaultProxy) {
    let prometheus_mix = Mix {
        unavailable: 0.05,
        truncated: 0.03,
        slow: 0.02,
        slow_by: Duration::from_millis(200),
        throttled: 0.005,
        reset: 0.02,
        ..QUIET
    };
    let aws_mix = Mix {
        server_error: 0.05,
        reset: 0.01,
        ..QUIET
    };
    let prometheus = {
        let (chaos, minute, outages) = (chaos.clone(), minute.clone(), outages.clone());
        FaultProxy::start_with_body(&stack.prometheus_url, move |_, parts, body| {
            if outages
                .prometheus_down
                .contains(&minute.load(Ordering::SeqCst))
            {
                chaos.count("prometheus_down");
                return unavailable();
            }
            chaos.act(&prometheus_mix, parts, body, false)
        })
        .await
    };
    let moto = {
        let (chaos, minute, outages) = (chaos.clone(), minute.clone(), outages.clone());
        FaultProxy::start_with_body(&stack.moto_url, move |_, parts, body| {
            let now = minute.load(Ordering::SeqCst);
            let publish = !is_s3(parts) && String::from_utf8_lossy(body).contains("Action=Publish");
            if publish && outages.sns_down.contains(&now) {
                chaos.count("sns_down");
                return server_error(false);
            }
            let state_write = is_s3(parts) && parts.method == http::Method::PUT;
            if state_write && outages.state_write_failing.contains(&now) {
                chaos.count("state_write_failing");
                return server_error(true);
            }
            chaos.act(&aws_mix, parts, body, is_s3(parts))
        })
        .await
    };
    (prometheus, moto)
}

#[tokio::test]
async fn an_incident_replay_under_mixed_faults_and_outages_fires_and_resolves_each_once() {
    let stack = stack();
    let bucket = new_bucket(&stack, "chaos-replay").await;
    let (topic, queue) = topic_with_queue(&stack, "chaos-replay").await;
    let seed = env_number("VIGIL_CHAOS_SEED", 1);
    let tally = Tally::default();
    let chaos = Chaos::new(seed, tally.clone());
    let minute = Arc::new(AtomicUsize::new(0));
    // The replay starts at 09:00; api's errors rise at 10:00, catalog's latency at 11:00,
    // cart's traffic drops at 12:00.
    let outages = Arc::new(Outages {
        sns_down: 60..66,
        prometheus_down: 125..128,
        state_write_failing: 180..184,
    });
    let (prometheus, moto) = replay_proxies(&stack, &chaos, &minute, &outages).await;
    let job = anomaly_job(&prometheus.url, &moto.url, &bucket, Some(&topic), &[]).await;
    let mut failed = Vec::new();
    for (index, event) in minutes("2026-11-03T09:00:00Z", "2026-11-03T16:00:00Z")
        .iter()
        .enumerate()
    {
        minute.store(index, Ordering::SeqCst);
        if let Err(error) =
            anomaly_check::invoke(&job, event, &format!("chaos-{index}"), deadline_in(6)).await
        {
            failed.push((index, error.to_string()));
        }
    }
    let mut received = summarise(&drain(&stack, &queue).await);
    received.sort();
    let tally = tally.lock().expect("lock").clone();
    eprintln!(
        "chaos replay (seed {seed}): {} of 420 invocations failed; faults {tally:?}",
        failed.len()
    );
    assert_eq!(
        received,
        replay_incidents(),
        "seed {seed}; failed minutes: {failed:?}"
    );
    for (fault, window) in [
        ("prometheus_down", &outages.prometheus_down),
        ("sns_down", &outages.sns_down),
        ("state_write_failing", &outages.state_write_failing),
    ] {
        assert!(
            tally.get(fault).copied().unwrap_or(0) > 0,
            "{fault} never happened: {tally:?}"
        );
        assert!(
            failed.iter().any(|(index, _)| window.contains(index)),
            "{fault}: no invocation failed in window {window:?}"
        );
    }
}
