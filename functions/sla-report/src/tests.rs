//! The job against in-memory fakes of its ports.

use std::sync::Mutex;

use std::time::Duration;

use chrono::NaiveDate;
use lambda_runtime::Diagnostic;
use serde_json::json;
use vigil_core::config::Env;
use vigil_core::ports::{MetricsFailure, StoreError};

use super::*;

/// Answers each query from a table keyed by a fragment of the query text, and records calls.
#[derive(Default)]
struct FakeMetrics {
    instant: Vec<(&'static str, Vec<(&'static str, f64)>)>,
    fail_with: Option<fn() -> MetricsError>,
    calls: Mutex<Vec<(String, DateTime<Utc>)>>,
}

impl FakeMetrics {
    /// One service, `api`, with `total` requests and `errors` errors over any range.
    fn api(total: f64, errors: f64) -> Self {
        Self {
            instant: vec![
                (
                    "sum by (service) (increase(http_requests_total[",
                    vec![("api", total)],
                ),
                (
                    "sum by (service) (increase(http_requests_total{",
                    vec![("api", errors)],
                ),
            ],
            ..Self::default()
        }
    }

    fn answer(&self, query: &str) -> Vec<Sample> {
        self.instant
            .iter()
            .find(|(fragment, _)| query.starts_with(fragment))
            .map(|(_, rows)| {
                rows.iter()
                    .map(|(service, value)| Sample {
                        labels: [("service".to_owned(), (*service).to_owned())].into(),
                        value: *value,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct FakeStore {
    objects: Mutex<Vec<(String, Vec<u8>, &'static str)>>,
    fail: bool,
    /// Keys read once, without retries.
    peeked: Mutex<Vec<String>>,
    /// A key whose one-attempt read fails.
    unreadable: Option<&'static str>,
}

impl ReportStore for &FakeStore {
    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        content_type: &'static str,
    ) -> Result<(), StoreError> {
        if self.fail {
            return Err(StoreError::Write {
                key: key.to_owned(),
                source: "access denied".into(),
            });
        }
        self.objects
            .lock()
            .expect("lock")
            .push((key.to_owned(), body, content_type));
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .objects
            .lock()
            .expect("lock")
            .iter()
            .rev()
            .find(|(stored, _, _)| stored == key)
            .map(|(_, body, _)| body.clone()))
    }

    async fn peek(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.peeked.lock().expect("lock").push(key.to_owned());
        if self.unreadable == Some(key) {
            return Err(StoreError::Read {
                key: key.to_owned(),
                source: "slow down".into(),
            });
        }
        self.get(key).await
    }
}

fn settings() -> ReportSettings {
    let env = Env::from_pairs([
        ("PROMETHEUS_URL", "http://prometheus:9090"),
        ("REPORT_DIR", "/tmp/unused"),
    ]);
    SlaReportConfig::from_env(&env).expect("valid").report
}

fn services(count: usize) -> Vec<(&'static str, f64)> {
    (0..count)
        .map(|i| (&*Box::leak(format!("svc-{i:03}").into_boxed_str()), 1000.0))
        .collect()
}

fn after(date: &str) -> DateTime<Utc> {
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .expect("date")
        .and_hms_opt(12, 0, 0)
        .expect("time")
        .and_utc()
}

async fn run(
    metrics: &FakeMetrics,
    store: &FakeStore,
    event: serde_json::Value,
) -> Result<(ReportOutcome, RunStats), ReportError> {
    let job = SlaReportJob::new(metrics, store, settings());
    job.run(
        &event,
        after("2026-11-25"),
        Deadline::after(Duration::from_secs(30)),
    )
    .await
}

impl MetricsSource for &FakeMetrics {
    async fn query(
        &self,
        query: &str,
        time: DateTime<Utc>,
        _deadline: Deadline,
    ) -> Result<Answer<Vec<Sample>>, MetricsError> {
        self.calls
            .lock()
            .expect("lock")
            .push((query.to_owned(), time));
        if let Some(fail) = self.fail_with {
            return Err(fail());
        }
        Ok(Answer {
            values: self.answer(query),
            ..Answer::default()
        })
    }

    async fn query_range(
        &self,
        query: &str,
        _start: DateTime<Utc>,
        end: DateTime<Utc>,
        _step: Duration,
        _deadline: Deadline,
    ) -> Result<Answer<Vec<Series>>, MetricsError> {
        self.calls
            .lock()
            .expect("lock")
            .push((query.to_owned(), end));
        Ok(Answer::default())
    }
}

#[tokio::test]
async fn the_number_of_queries_does_not_grow_with_the_services() {
    let mut counts = Vec::new();
    for count in [3, 200] {
        let metrics = FakeMetrics {
            instant: vec![(
                "sum by (service) (increase(http_requests_total[",
                services(count),
            )],
            ..FakeMetrics::default()
        };
        let store = FakeStore::default();
        // An empty ledger: the 29 days before fill the 30-day window, two queries each.
        let (first, _) = run(&metrics, &store, json!({"time": "2026-11-24T00:15:00Z"}))
            .await
            .expect("runs");
        assert_eq!(first.services, count);
        assert_eq!(first.queries, 8 + 2 * 29, "{count} services");
        // The next day finds its window in the ledger.
        let (next, _) = run(&metrics, &store, json!({"time": "2026-11-25T00:15:00Z"}))
            .await
            .expect("runs");
        assert_eq!(next.queries, 8, "{count} services");
        counts.push(metrics.calls.lock().expect("lock").len());
    }
    assert_eq!(counts, [8 + 2 * 29 + 8; 2]);
}

#[tokio::test]
async fn every_query_is_pinned_to_the_end_of_its_day() {
    let metrics = FakeMetrics::api(10.0, 0.0);
    let store = FakeStore::default();
    run(&metrics, &store, json!({"time": "2026-11-24T00:15:00Z"}))
        .await
        .expect("runs");
    let end = after("2026-11-24") - chrono::Duration::hours(12);
    let calls = metrics.calls.lock().expect("lock");
    assert_eq!(calls.iter().filter(|(_, time)| *time == end).count(), 8);
    let mut filled: Vec<DateTime<Utc>> = calls
        .iter()
        .filter(|(_, time)| *time != end)
        .map(|(_, time)| *time)
        .collect();
    filled.dedup();
    assert_eq!(filled.len(), 29, "each earlier day of the window once");
    for (back, time) in filled.iter().enumerate() {
        let days = i64::try_from(back).expect("small") + 1;
        assert_eq!(*time, end - chrono::Duration::days(days), "newest first");
    }
}

#[tokio::test]
async fn reports_go_to_deterministic_keys_with_latest_last() {
    let metrics = FakeMetrics::api(10.0, 0.0);
    let store = FakeStore::default();
    let (outcome, _) = run(&metrics, &store, json!({"date": "2026-11-24"}))
        .await
        .expect("runs");
    assert_eq!(
        outcome.latest_key.as_deref(),
        Some("sla-reports/latest.json")
    );
    let objects = store.objects.lock().expect("lock");
    let keys: Vec<(&str, &str)> = objects.iter().map(|(k, _, t)| (k.as_str(), *t)).collect();
    assert_eq!(keys.len(), 29 + 4, "the window's days filled first");
    assert!(keys[..29]
        .iter()
        .all(|(key, _)| key.ends_with("/ledger.json") && !key.contains("11/24")));
    let objects = &objects[29..];
    let keys = &keys[29..];
    assert_eq!(
        keys,
        [
            (
                "sla-reports/daily/2026/11/24/report.html",
                "text/html; charset=utf-8"
            ),
            (
                "sla-reports/daily/2026/11/24/report.json",
                "application/json"
            ),
            (
                "sla-reports/daily/2026/11/24/ledger.json",
                "application/json"
            ),
            ("sla-reports/latest.json", "application/json"),
        ]
    );
    assert_eq!(objects[1].1, objects[3].1);
    let report: serde_json::Value = serde_json::from_slice(&objects[1].1).expect("json");
    assert_eq!(report["services"][0]["service"], "api");
    assert_eq!(report["period"]["date"], "2026-11-24");
}

#[tokio::test]
async fn backfilling_an_older_day_leaves_latest_alone_and_scheduled_runs_always_update_it() {
    let metrics = FakeMetrics::default();
    let store = FakeStore::default();
    let (backfill, _) = run(&metrics, &store, json!({"date": "2026-11-20"}))
        .await
        .expect("runs");
    assert_eq!(backfill.latest_key, None);
    let written = |store: &FakeStore| -> Vec<String> {
        let objects = store.objects.lock().expect("lock");
        objects.iter().map(|(k, _, _)| k.clone()).collect()
    };
    assert_eq!(
        written(&store),
        [
            "sla-reports/daily/2026/11/20/report.html",
            "sla-reports/daily/2026/11/20/report.json",
            "sla-reports/daily/2026/11/20/ledger.json",
        ],
        "nothing to fill the window with: those days stay missing"
    );
    let store = FakeStore::default();
    let (scheduled, _) = run(&metrics, &store, json!({"time": "2026-11-21T00:15:00Z"}))
        .await
        .expect("runs");
    assert_eq!(
        scheduled.latest_key.as_deref(),
        Some("sla-reports/latest.json"),
        "a scheduled event is the newest day when it was sent"
    );
    assert_eq!(written(&store).len(), 4, "HTML, JSON, ledger and latest");
}

#[tokio::test]
async fn a_failed_query_writes_nothing_and_bad_data_is_not_retryable() {
    let metrics = FakeMetrics {
        fail_with: Some(|| MetricsError {
            failure: MetricsFailure::Rejected,
            transient: false,
            source: "bad_data: parse error".into(),
        }),
        ..FakeMetrics::default()
    };
    let store = FakeStore::default();
    let error = run(&metrics, &store, json!({"time": "2026-11-24T00:15:00Z"}))
        .await
        .expect_err("fails");
    assert!(store.objects.lock().expect("lock").is_empty());
    assert_eq!(
        Diagnostic::from(error).error_type,
        "NonRetryable.QueryRejected"
    );
}

#[tokio::test]
async fn a_malformed_event_fails_before_any_query() {
    let metrics = FakeMetrics::default();
    let store = FakeStore::default();
    let error = run(&metrics, &store, json!({"detail-type": "Scheduled Event"}))
        .await
        .expect_err("fails");
    assert!(metrics.calls.lock().expect("lock").is_empty());
    let diagnostic = Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "NonRetryable.BadEvent");
    assert!(
        diagnostic.error_message.contains("\"time\""),
        "{}",
        diagnostic.error_message
    );
}

#[tokio::test]
async fn a_day_that_has_not_ended_is_refused() {
    let metrics = FakeMetrics::default();
    let store = FakeStore::default();
    let error = run(&metrics, &store, json!({"date": "2026-11-25"}))
        .await
        .expect_err("fails");
    assert!(
        matches!(error, ReportError::PeriodNotOver { .. }),
        "{error}"
    );
    assert!(metrics.calls.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_store_failure_fails_the_invocation_as_retryable() {
    let metrics = FakeMetrics::default();
    let store = FakeStore {
        fail: true,
        ..FakeStore::default()
    };
    let error = run(&metrics, &store, json!({"time": "2026-11-24T00:15:00Z"}))
        .await
        .expect_err("fails");
    assert_eq!(Diagnostic::from(error).error_type, "Retryable.StoreFailed");
}

#[test]
fn bad_configuration_names_the_variable() {
    let base = [
        ("PROMETHEUS_URL", "http://p:9090"),
        ("REPORT_DIR", "/tmp/r"),
    ];
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("SLO_TARGET", "1.5")], "SLO_TARGET"),
        (&[("SLO_TARGET", "99.9")], "SLO_TARGET"),
        (&[("SLO_TARGETS", r#"{"api": 0}"#)], "SLO_TARGETS"),
        (&[("SLO_TARGETS", "api=0.99")], "SLO_TARGETS"),
        (&[("REPORT_TIME_ZONE", "Mars/Olympus")], "REPORT_TIME_ZONE"),
        (&[("SERVICE_LABEL", "service name")], "SERVICE_LABEL"),
        (&[("REQUESTS_METRIC", "http-requests")], "REQUESTS_METRIC"),
        (&[("REPORT_PREFIX", "../up")], "REPORT_PREFIX"),
        (&[("REPORT_BUCKET", "b")], "REPORT_BUCKET, REPORT_DIR"),
    ];
    for (extra, variable) in cases {
        let env = Env::from_pairs(base.iter().chain(extra.iter()).copied());
        let error = SlaReportConfig::from_env(&env).expect_err(variable);
        assert!(
            error.to_string().starts_with(variable),
            "{variable}: {error}"
        );
    }
    let path_style = Env::from_pairs([
        ("PROMETHEUS_URL", "http://p"),
        ("REPORT_BUCKET", "b"),
        ("S3_FORCE_PATH_STYLE", "sure"),
    ]);
    let error = SlaReportConfig::from_env(&path_style).expect_err("not a boolean");
    assert!(
        error.to_string().starts_with("S3_FORCE_PATH_STYLE"),
        "{error}"
    );
    let missing = SlaReportConfig::from_env(&Env::from_pairs([("PROMETHEUS_URL", "http://p")]))
        .expect_err("no output");
    assert!(
        missing.to_string().starts_with("REPORT_BUCKET"),
        "{missing}"
    );
}

#[tokio::test]
async fn a_corrupt_ledger_day_is_recomputed_and_a_window_is_summed_from_the_ledger() {
    let metrics = FakeMetrics::api(1_000.0, 10.0);
    let store = FakeStore::default();
    run(&metrics, &store, json!({"date": "2026-11-23"}))
        .await
        .expect("runs");
    let corrupt = "sla-reports/daily/2026/11/20/ledger.json";
    store.objects.lock().expect("lock").push((
        corrupt.to_owned(),
        b"{\"hand\": \"edited\"}".to_vec(),
        "x",
    ));
    metrics.calls.lock().expect("lock").clear();
    let (outcome, _) = run(&metrics, &store, json!({"date": "2026-11-24"}))
        .await
        .expect("runs");
    assert_eq!(outcome.queries, 8 + 2, "only the corrupt day is recomputed");
    let objects = store.objects.lock().expect("lock");
    let (_, body, _) = objects
        .iter()
        .rev()
        .find(|(key, _, _)| key == corrupt)
        .expect("rewritten");
    let day: serde_json::Value = serde_json::from_slice(body).expect("json");
    assert_eq!(day["slos"]["availability"]["api"]["total"], 1_000.0);
    let (_, report, _) = objects
        .iter()
        .rev()
        .find(|(key, _, _)| key.ends_with("11/24/report.json"))
        .expect("written");
    let report: serde_json::Value = serde_json::from_slice(report).expect("json");
    assert_eq!(report["schema_version"], 2);
    let window = &report["services"][0]["slo"]["window"];
    assert_eq!(window["start"], "2026-10-26");
    assert_eq!(window["total"], 30_000.0, "thirty days of 1,000");
    assert_eq!(window["good"], 29_700.0);
    assert_eq!(window["days_missing"], 0);
    assert_eq!(window["status"], "breached");
}

#[tokio::test]
async fn the_page_s_trend_reads_each_earlier_day_once_and_leaves_out_one_it_cannot_read() {
    let metrics = FakeMetrics::api(1_000.0, 10.0);
    let store = FakeStore {
        unreadable: Some("sla-reports/daily/2026/09/01/ledger.json"),
        ..FakeStore::default()
    };
    let (outcome, _) = run(&metrics, &store, json!({"date": "2026-11-23"}))
        .await
        .expect("an unreadable trend day fails nothing");
    let peeked = store.peeked.lock().expect("lock").clone();
    assert_eq!(peeked.len(), 89 - 29, "the trend's days outside the window");
    assert_eq!(
        peeked.first().map(String::as_str),
        Some("sla-reports/daily/2026/10/24/ledger.json"),
        "the day before the 30-day window"
    );
    assert_eq!(
        peeked.last().map(String::as_str),
        Some("sla-reports/daily/2026/08/26/ledger.json"),
        "89 days before the day reported"
    );
    assert!(outcome.json_key.ends_with("2026/11/23/report.json"));
}

#[test]
fn the_slo_document_setting_is_validated_by_name() {
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut pairs = vec![
            ("PROMETHEUS_URL", "http://prometheus:9090"),
            ("REPORT_DIR", "/tmp/unused"),
        ];
        pairs.extend_from_slice(extra);
        SlaReportConfig::from_env(&Env::from_pairs(pairs))
    };
    assert_eq!(
        with(&[]).expect("valid").slos,
        vigil_core::config::SlosSource::Absent
    );
    assert_eq!(
        with(&[("SLOS_S3_URI", "s3://cfg/vigil/slos.yaml")])
            .expect("valid")
            .slos,
        vigil_core::config::SlosSource::S3 {
            bucket: "cfg".to_owned(),
            key: "vigil/slos.yaml".to_owned()
        }
    );
    for (extra, variable) in [
        (&[("SLOS_S3_URI", "cfg/slos.yaml")][..], "SLOS_S3_URI"),
        (
            &[
                ("SLOS_FILE", "slos.yaml"),
                ("SLOS_S3_URI", "s3://cfg/slos.yaml"),
            ][..],
            "SLOS_FILE",
        ),
        (&[("SLO_WINDOW", "fortnight")][..], "SLO_WINDOW"),
        (&[("SLO_WINDOW", "401d")][..], "SLO_WINDOW"),
    ] {
        let error = with(extra).expect_err(variable).to_string();
        assert!(error.starts_with(variable), "{error}");
    }
}

#[tokio::test]
async fn the_last_day_of_a_month_writes_its_compliance_report_before_latest() {
    let metrics = FakeMetrics::api(1_000.0, 2.0);
    let store = FakeStore::default();
    let job = SlaReportJob::new(&metrics, &store, settings());
    job.run(
        &json!({"time": "2026-12-01T00:15:00Z"}),
        after("2026-12-01"),
        Deadline::after(Duration::from_secs(30)),
    )
    .await
    .expect("runs");
    let objects = store.objects.lock().expect("lock");
    let keys: Vec<&str> = objects.iter().map(|(k, _, _)| k.as_str()).collect();
    let tail = &keys[keys.len() - 3..];
    assert_eq!(
        tail,
        [
            "sla-reports/monthly/2026/11/report.html",
            "sla-reports/monthly/2026/11/report.json",
            "sla-reports/latest.json"
        ]
    );
    let (_, body, _) = &objects[objects.len() - 2];
    let month: serde_json::Value = serde_json::from_slice(body).expect("json");
    assert_eq!(month["period"]["name"], "2026-11");
    let slo = &month["services"][0]["slos"][0];
    assert_eq!(
        slo["total"], 30_000.0,
        "every day of November, filled or reported"
    );
    assert_eq!(slo["good"], 29_940.0);
    assert_eq!(slo["days_missing"], 0);
    assert_eq!(slo["status"], "breached", "99.8 % against 99.9 %");
    assert_eq!(slo["days_breached"], 30);
    let consumed = slo["budget_consumed"].as_f64().expect("a number");
    assert!((consumed - 2.0).abs() < 1e-9, "{consumed}");
}

#[tokio::test]
async fn an_slo_added_later_is_computed_for_the_days_the_ledger_has_without_it() {
    let metrics = FakeMetrics::api(1_000.0, 0.0);
    let store = FakeStore::default();
    run(&metrics, &store, json!({"date": "2026-11-23"}))
        .await
        .expect("runs");
    let document = vigil_core::slo::document::parse_slo_document(
        "slos:\n  - {name: availability, sli: availability, objective: 0.999}\n  - {name: strict, sli: availability, objective: 0.9999}\n",
    )
    .expect("valid");
    let mut later = settings();
    later.slos = vigil_core::report::slos::SloSet::Document(document);
    let job = SlaReportJob::new(&metrics, &store, later);
    let (outcome, _) = job
        .run(
            &json!({"date": "2026-11-24"}),
            after("2026-11-25"),
            Deadline::after(Duration::from_secs(30)),
        )
        .await
        .expect("runs");
    assert_eq!(
        outcome.queries,
        8 + 2 * 29,
        "every earlier day lacks the new SLO"
    );
    let objects = store.objects.lock().expect("lock");
    let (_, report, _) = objects
        .iter()
        .rev()
        .find(|(key, _, _)| key.ends_with("11/24/report.json"))
        .expect("written");
    let report: serde_json::Value = serde_json::from_slice(report).expect("json");
    let strict = &report["services"][0]["slos"][1];
    assert_eq!(strict["name"], "strict");
    assert_eq!(strict["window"]["days_missing"], 0);
    assert_eq!(strict["window"]["total"], 30_000.0);
}
