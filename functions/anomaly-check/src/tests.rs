//! The job against in-memory fakes: the claim/publish/commit protocol and failure handling.

use std::sync::Mutex;

use chrono::Utc;
use lambda_runtime::Diagnostic;
use serde_json::json;
use vigil_core::check::detector::DetectorChoice;
use vigil_core::check::lifecycle::Transition;
use vigil_core::check::plan::Notification;
use vigil_core::check::state::{Corruption, Histories, Lease, Loaded, StateDocument};
use vigil_core::config::Env;
use vigil_core::conventions::MetricConventions;
use vigil_core::ports::StateError;

use crate::config::load_checks;
use vigil_core::adapters::silences::SilencesStore;
use vigil_core::ports::{Answer, MetricsFailure, PublishError};
use vigil_core::series::{Sample, Series};

use super::*;

const START: i64 = 1_800_000_000;

/// One series per check; the newest value comes from `newest`, history is calm.
struct FakeMetrics {
    newest: Mutex<f64>,
    fail_query: Option<&'static str>,
    /// The SLO queries' error ratio for `api` at 1,000 requests a minute; `None` fails them.
    error_ratio: Mutex<Option<f64>>,
    /// The instant queries' ranges, in seconds, in the order asked.
    instant_ranges: Mutex<Vec<u64>>,
    /// The range queries' points per series, in the order asked.
    range_points: Mutex<Vec<i64>>,
}

impl MetricsSource for &FakeMetrics {
    async fn query(
        &self,
        query: &str,
        _: DateTime<Utc>,
        _: Deadline,
    ) -> Result<Answer<Vec<Sample>>, MetricsError> {
        let Some(ratio) = *self.error_ratio.lock().expect("lock") else {
            return Err(MetricsError {
                failure: MetricsFailure::Unavailable,
                transient: true,
                source: "503".into(),
            });
        };
        let seconds: f64 = query
            .rsplit_once('[')
            .and_then(|(_, rest)| rest.split_once("s]"))
            .and_then(|(seconds, _)| seconds.parse().ok())
            .expect("a range in seconds");
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        self.instant_ranges
            .lock()
            .expect("lock")
            .push(seconds as u64);
        let total = 1_000.0 * seconds / 60.0;
        let value = if query.contains("status=~") {
            total * ratio
        } else {
            total
        };
        Ok(Answer {
            values: vec![Sample {
                labels: [("service".to_owned(), "api".to_owned())].into(),
                value,
            }],
            ..Answer::default()
        })
    }

    async fn query_range(
        &self,
        query: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: Duration,
        _: Deadline,
    ) -> Result<Answer<Vec<Series>>, MetricsError> {
        if self.fail_query == Some(query) {
            return Err(MetricsError {
                failure: MetricsFailure::Rejected,
                transient: false,
                source: "bad_data: parse error".into(),
            });
        }
        let step = i64::try_from(step.as_secs()).expect("small");
        self.range_points
            .lock()
            .expect("lock")
            .push((end.timestamp() - start.timestamp()) / step + 1);
        let newest = *self.newest.lock().expect("lock");
        let points = (start.timestamp()..=end.timestamp())
            .step_by(usize::try_from(step).expect("small"))
            .map(|t| {
                (
                    t as f64,
                    if t == end.timestamp() {
                        newest
                    } else {
                        100.0 + f64::from(i32::try_from(t / 60 % 5).expect("small"))
                    },
                )
            })
            .collect();
        Ok(Answer {
            values: vec![Series {
                labels: [("service".to_owned(), "api".to_owned())].into(),
                points,
            }],
            ..Answer::default()
        })
    }
}

#[derive(Default)]
struct MemoryState {
    stored: Mutex<Option<(StateDocument, u64)>>,
    /// Bumps the version once just before the next save, as a racing invocation would.
    race_next_save: Mutex<bool>,
    saves: Mutex<Vec<StateDocument>>,
}

impl StateStore for &MemoryState {
    async fn load(&self, shard: Shard) -> Result<Loaded, StateError> {
        assert_eq!(shard, Shard::ONE, "one shard in these tests");
        Ok(match &*self.stored.lock().expect("lock") {
            None => Loaded::Missing,
            Some((document, version)) if document.schema_version != 1 => Loaded::Corrupt {
                version: version.to_string(),
                problem: Corruption::Schema(document.schema_version),
            },
            Some((document, version)) => Loaded::Found {
                document: document.clone(),
                version: version.to_string(),
            },
        })
    }

    async fn save(
        &self,
        shard: Shard,
        document: &StateDocument,
        expected: Option<&str>,
    ) -> Result<String, StateError> {
        assert_eq!(shard, Shard::ONE, "one shard in these tests");
        let mut stored = self.stored.lock().expect("lock");
        if std::mem::take(&mut *self.race_next_save.lock().expect("lock")) {
            let (doc, version) = stored.clone().unwrap_or_default();
            *stored = Some((doc, version + 1));
        }
        let current = stored.as_ref().map(|(_, v)| v.to_string());
        if current.as_deref() != expected {
            return Err(StateError::Conflict);
        }
        let next = stored.as_ref().map_or(1, |(_, v)| v + 1);
        *stored = Some((document.clone(), next));
        self.saves.lock().expect("lock").push(document.clone());
        Ok(next.to_string())
    }

    async fn stored_shards(&self) -> Result<Vec<Shard>, StateError> {
        Ok(self
            .stored
            .lock()
            .expect("lock")
            .iter()
            .map(|_| Shard::ONE)
            .collect())
    }
}

#[derive(Default)]
struct RecordingPublisher {
    sent: Mutex<Vec<(String, Transition)>>,
    failing: Mutex<bool>,
}

impl AlertPublisher for &RecordingPublisher {
    async fn publish(&self, notification: &Notification) -> Result<(), PublishError> {
        if *self.failing.lock().expect("lock") {
            return Err(PublishError {
                check: notification.key.check.clone(),
                transition: "firing".into(),
                source: "sns is down".into(),
            });
        }
        self.sent
            .lock()
            .expect("lock")
            .push((notification.key.check.clone(), notification.transition));
        Ok(())
    }
}

/// Calm metrics, empty state, a publisher that accepts everything.
fn fakes() -> (FakeMetrics, MemoryState, RecordingPublisher) {
    (
        FakeMetrics {
            newest: Mutex::new(100.0),
            fail_query: None,
            error_ratio: Mutex::new(Some(0.0)),
            instant_ranges: Mutex::default(),
            range_points: Mutex::default(),
        },
        MemoryState::default(),
        RecordingPublisher::default(),
    )
}

fn one_check() -> Vec<Check> {
    let mut checks = load_checks(
        None,
        &MetricConventions::from_env(&Env::default()).expect("defaults"),
    )
    .expect("valid");
    checks.truncate(1);
    checks[0].window_seconds = 3600;
    checks[0].lifecycle.clear_after_seconds = 120;
    checks
}

fn settings() -> JobSettings {
    JobSettings {
        evaluation_delay_seconds: 0,
        lease_seconds: 120,
        detector: DetectorChoice::RobustBaseline,
        read_overlap_seconds: 60,
        series_budget: 10_000,
    }
}

async fn minute<'a>(
    job: &AnomalyCheckJob<&'a FakeMetrics, &'a MemoryState, &'a RecordingPublisher>,
    metrics: &FakeMetrics,
    minute: i64,
    newest: f64,
) -> Result<CheckOutcome, CheckRunError> {
    *metrics.newest.lock().expect("lock") = newest;
    let time = DateTime::from_timestamp(START + 60 * minute, 0)
        .expect("time")
        .to_rfc3339();
    job.run(
        &json!({ "time": time }),
        &format!("request-{minute}"),
        START + 60 * minute,
        Deadline::after(Duration::from_secs(30)),
    )
    .await
}

#[tokio::test]
async fn each_minute_reads_only_the_new_steps_and_an_older_state_is_upgraded() {
    let (metrics, state, publisher) = fakes();
    let mut checks = one_check();
    checks[0].window_seconds = 6 * 3600;
    let job = AnomalyCheckJob::new(&metrics, &state, &publisher, checks, settings());
    let read = || std::mem::take(&mut *metrics.range_points.lock().expect("lock"));
    minute(&job, &metrics, 0, 100.0).await.expect("runs");
    assert_eq!(
        read(),
        [10, 90, 90, 90, 81],
        "the newest ten first, then older slices"
    );
    for m in 1..4 {
        minute(&job, &metrics, m, 100.0).await.expect("runs");
        assert_eq!(read(), [3], "the new step and two again");
    }
    let (mut document, version) = state.stored.lock().expect("lock").clone().expect("saved");
    let history = &document.histories.kept[0];
    assert_eq!((history.end - history.from) / 60 + 1, 361);
    assert_eq!(history.series[0].values.len(), 361);
    document.histories = Histories::default();
    *state.stored.lock().expect("lock") = Some((document, version));
    minute(&job, &metrics, 4, 100.0).await.expect("runs");
    assert_eq!(
        read(),
        [10, 90, 90, 90, 81],
        "a state without windows is read in full"
    );
    minute(&job, &metrics, 5, 100.0).await.expect("runs");
    assert_eq!(read(), [3]);
}

/// Runs eight minutes whose newest values jump for three minutes (an incident) and come back:
/// how many messages each minute kept back.
async fn incident<'a>(
    job: &AnomalyCheckJob<&'a FakeMetrics, &'a MemoryState, &'a RecordingPublisher>,
    metrics: &FakeMetrics,
) -> Vec<usize> {
    let mut kept_back = Vec::new();
    for (m, value) in [101.0, 400.0, 420.0, 430.0, 101.0, 102.0, 103.0, 101.0]
        .into_iter()
        .enumerate()
    {
        let outcome = minute(job, metrics, i64::try_from(m).expect("small"), value)
            .await
            .expect("runs");
        kept_back.push(outcome.silenced);
    }
    kept_back
}

#[tokio::test]
async fn an_incident_sends_one_firing_and_one_resolved() {
    let (metrics, state, publisher) = fakes();
    let job = AnomalyCheckJob::new(&metrics, &state, &publisher, one_check(), settings());
    incident(&job, &metrics).await;
    let sent = publisher.sent.lock().expect("lock").clone();
    assert_eq!(
        sent,
        [
            ("request_rate".to_owned(), Transition::Firing),
            ("request_rate".to_owned(), Transition::Resolved)
        ]
    );
    let (document, _) = state.stored.lock().expect("lock").clone().expect("saved");
    assert!(document.alerts.iter().all(|r| matches!(
        r.state,
        vigil_core::check::lifecycle::AlertState::Recovered { .. }
    )));
    assert!(document.outbox.is_empty() && document.lease.is_none());
}

#[tokio::test]
async fn each_series_remembers_its_scores_once_per_minute_and_is_forgotten_when_gone() {
    let (metrics, state, publisher) = fakes();
    let job = AnomalyCheckJob::new(&metrics, &state, &publisher, one_check(), settings());
    let remembered = || {
        let (document, _) = state.stored.lock().expect("lock").clone().expect("saved");
        document
            .memories
            .iter()
            .map(|m| (m.key.check.clone(), m.memory.point.weight(), m.memory.seen))
            .collect::<Vec<_>>()
    };
    for m in 0..3 {
        minute(&job, &metrics, m, 101.0).await.expect("runs");
    }
    let after_three = remembered();
    assert_eq!(after_three.len(), 1);
    assert_eq!(after_three[0].0, "request_rate");
    assert!((after_three[0].1 - 3.0).abs() < 0.01, "{after_three:?}");
    assert_eq!(after_three[0].2, START + 120);
    // A retried minute is not counted twice.
    minute(&job, &metrics, 2, 101.0).await.expect("runs");
    assert!((remembered()[0].1 - after_three[0].1).abs() < 1e-6);
    // A week and a day later (the series was away) it starts afresh.
    minute(&job, &metrics, 8 * 1440, 101.0).await.expect("runs");
    let fresh = remembered();
    assert!((fresh[0].1 - 1.0).abs() < 1e-6, "{fresh:?}");
}

#[tokio::test]
async fn a_failed_publish_keeps_the_state_and_is_sent_next_minute() {
    let (metrics, state, publisher) = fakes();
    let job = AnomalyCheckJob::new(&metrics, &state, &publisher, one_check(), settings());
    minute(&job, &metrics, 0, 101.0).await.expect("calm");
    *publisher.failing.lock().expect("lock") = true;
    let error = minute(&job, &metrics, 1, 400.0)
        .await
        .expect_err("publish fails");
    assert_eq!(
        Diagnostic::from(error).error_type,
        "Retryable.PublishFailed"
    );
    let (document, _) = state.stored.lock().expect("lock").clone().expect("saved");
    assert!(document.alerts.is_empty(), "the alert did not advance");
    assert_eq!(document.outbox.len(), 1, "the message waits in the outbox");
    *publisher.failing.lock().expect("lock") = false;
    minute(&job, &metrics, 2, 410.0).await.expect("sends now");
    minute(&job, &metrics, 3, 420.0)
        .await
        .expect("still firing");
    assert_eq!(
        publisher.sent.lock().expect("lock").clone(),
        [("request_rate".to_owned(), Transition::Firing)]
    );
}

#[tokio::test]
async fn a_racing_invocation_that_loses_the_claim_sends_nothing() {
    let (metrics, state, publisher) = fakes();
    let job = AnomalyCheckJob::new(&metrics, &state, &publisher, one_check(), settings());
    minute(&job, &metrics, 0, 101.0).await.expect("calm");
    *state.race_next_save.lock().expect("lock") = true;
    let outcome = minute(&job, &metrics, 1, 400.0).await.expect("runs");
    assert!(outcome.skipped);
    assert!(publisher.sent.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_live_lease_of_another_invocation_is_respected() {
    let (metrics, state, publisher) = fakes();
    let job = AnomalyCheckJob::new(&metrics, &state, &publisher, one_check(), settings());
    let leased = StateDocument {
        lease: Some(Lease {
            holder: "someone-else".into(),
            expires_at: START + 600,
        }),
        ..StateDocument::default()
    };
    *state.stored.lock().expect("lock") = Some((leased, 7));
    let outcome = minute(&job, &metrics, 1, 400.0).await.expect("runs");
    assert!(outcome.skipped && publisher.sent.lock().expect("lock").is_empty());
    assert!(
        state.saves.lock().expect("lock").is_empty(),
        "nothing written"
    );
}

#[tokio::test]
async fn a_rejected_query_fails_its_check_only() {
    let mut checks = one_check();
    let mut second = checks[0].clone();
    second.name = "broken".into();
    second.query = "sum(".into();
    checks.push(second);
    let (metrics, state, publisher) = (
        FakeMetrics {
            newest: Mutex::new(100.0),
            fail_query: Some("sum("),
            error_ratio: Mutex::new(Some(0.0)),
            instant_ranges: Mutex::default(),
            range_points: Mutex::default(),
        },
        MemoryState::default(),
        RecordingPublisher::default(),
    );
    let job = AnomalyCheckJob::new(&metrics, &state, &publisher, checks, settings());
    minute(&job, &metrics, 0, 101.0)
        .await
        .expect_err("one check fails");
    let error = minute(&job, &metrics, 1, 400.0)
        .await
        .expect_err("one check fails");
    assert!(
        error
            .to_string()
            .starts_with("1 of 2 checks failed; first: broken:"),
        "{error}"
    );
    assert_eq!(
        Diagnostic::from(error).error_type,
        "NonRetryable.ChecksFailed"
    );
    assert_eq!(
        publisher.sent.lock().expect("lock").len(),
        1,
        "the healthy check still alerted"
    );
}

#[tokio::test]
async fn a_backfill_event_is_not_a_minute() {
    let (metrics, state, publisher) = fakes();
    let job = AnomalyCheckJob::new(&metrics, &state, &publisher, one_check(), settings());
    let error = job
        .run(
            &json!({"date": "2026-11-02"}),
            "r",
            START,
            Deadline::after(Duration::from_secs(5)),
        )
        .await
        .expect_err("a day is not a minute");
    assert_eq!(Diagnostic::from(error).error_type, "NonRetryable.BadEvent");
    assert!(state.saves.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn corrupt_state_is_replaced_not_a_crash_loop() {
    let (metrics, state, publisher) = fakes();
    let job = AnomalyCheckJob::new(&metrics, &state, &publisher, one_check(), settings());
    *state.stored.lock().expect("lock") = Some((
        StateDocument {
            schema_version: 99,
            ..StateDocument::default()
        },
        3,
    ));
    minute(&job, &metrics, 0, 101.0)
        .await
        .expect("runs despite the corrupt state");
    let (document, version) = state.stored.lock().expect("lock").clone().expect("saved");
    assert_eq!(
        (document.schema_version, version),
        (1, 4),
        "replaced at the corrupt object's version"
    );
    minute(&job, &metrics, 1, 400.0)
        .await
        .expect("alerts again");
    assert_eq!(publisher.sent.lock().expect("lock").len(), 1);
}

#[test]
fn configuration_errors_name_the_variable() {
    let base = [("PROMETHEUS_URL", "http://p:9090")];
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[], "STATE_BUCKET"),
        (
            &[("STATE_BUCKET", "b"), ("STATE_DIR", "/tmp")],
            "STATE_BUCKET, STATE_DIR",
        ),
        (
            &[("STATE_DIR", "/tmp"), ("CHECKS_S3_URI", "bucket/key")],
            "CHECKS_S3_URI",
        ),
        (&[("STATE_DIR", "/tmp"), ("DETECTOR", "magic")], "DETECTOR"),
        (
            &[("STATE_DIR", "/tmp"), ("EVALUATION_DELAY_SECONDS", "-5")],
            "EVALUATION_DELAY_SECONDS",
        ),
        (
            &[("STATE_DIR", "/tmp"), ("READ_OVERLAP_SECONDS", "a minute")],
            "READ_OVERLAP_SECONDS",
        ),
        (
            &[("STATE_DIR", "/tmp"), ("SERIES_BUDGET", "0")],
            "SERIES_BUDGET",
        ),
        (
            &[("STATE_DIR", "/tmp"), ("SERIES_BUDGET", "-1")],
            "SERIES_BUDGET",
        ),
    ];
    for (extra, variable) in cases {
        let env = Env::from_pairs(base.iter().chain(extra.iter()).copied());
        let error = AnomalyCheckConfig::from_env(&env).expect_err(variable);
        assert!(
            error.to_string().starts_with(variable),
            "{variable}: {error}"
        );
    }
    let config = AnomalyCheckConfig::from_env(&Env::from_pairs([
        ("PROMETHEUS_URL", "http://p:9090"),
        ("STATE_BUCKET", "b"),
        ("CHECKS_S3_URI", "s3://cfg/vigil/checks.yaml"),
    ]))
    .expect("valid");
    assert_eq!(
        config.state,
        StateLocation::S3 {
            bucket: "b".into(),
            key: "anomaly-check/state.json".into()
        }
    );
    assert_eq!(
        config.checks,
        ChecksSource::S3 {
            bucket: "cfg".into(),
            key: "vigil/checks.yaml".into()
        }
    );
    assert_eq!(config.topic_arn, None);
}

/// The job with one check and a 99.9 % availability SLO with the default rules, no ledger.
fn with_an_slo<'a>(
    metrics: &'a FakeMetrics,
    state: &'a MemoryState,
    publisher: &'a RecordingPublisher,
) -> AnomalyCheckJob<&'a FakeMetrics, &'a MemoryState, &'a RecordingPublisher> {
    let document = vigil_core::slo::document::parse_slo_document(
        "slos:\n  - {name: availability, sli: availability, objective: 0.999}\n",
    )
    .expect("valid");
    let conventions = MetricConventions::from_env(&Env::default()).expect("defaults");
    AnomalyCheckJob::new(metrics, state, publisher, one_check(), settings()).with_slos(
        &document,
        &conventions,
        None,
    )
}

#[tokio::test]
async fn an_slo_s_fast_burn_pages_and_resolves_and_a_failed_slo_query_fails_the_invocation() {
    let (metrics, state, publisher) = fakes();
    let job = with_an_slo(&metrics, &state, &publisher);
    assert_eq!(
        job.slo_counts(),
        (1, 7 * 2),
        "seven ranges, two queries each"
    );
    let burn = "slo_burn:availability".to_owned();
    *metrics.error_ratio.lock().expect("lock") = Some(0.02);
    let outcome = minute(&job, &metrics, 0, 100.0).await.expect("runs");
    assert_eq!((outcome.slos, outcome.published), (1, 2));
    assert_eq!(
        *publisher.sent.lock().expect("lock"),
        [
            (burn.clone(), Transition::Firing),
            (burn.clone(), Transition::Firing)
        ],
        "both pages; the tickets stay quiet"
    );
    *metrics.error_ratio.lock().expect("lock") = None;
    let error = minute(&job, &metrics, 1, 100.0)
        .await
        .expect_err("the SLO could not be evaluated");
    assert_eq!(error.kind(), "SlosFailed");
    assert!(error.is_retryable());
    let stored = state.stored.lock().expect("lock").clone().expect("saved").0;
    assert_eq!(
        stored.alerts.iter().filter(|r| r.key.check == burn).count(),
        2,
        "its alerts stay as they were"
    );
    *metrics.error_ratio.lock().expect("lock") = Some(0.0);
    minute(&job, &metrics, 2, 100.0).await.expect("runs");
    assert_eq!(
        publisher.sent.lock().expect("lock")[2..],
        [
            (burn.clone(), Transition::Resolved),
            (burn, Transition::Resolved)
        ]
    );
}

#[tokio::test]
async fn the_day_long_ranges_are_read_every_ten_minutes_and_kept_in_the_state_between() {
    let (metrics, state, publisher) = fakes();
    let job = with_an_slo(&metrics, &state, &publisher);
    let mut long_reads = Vec::new();
    for at in 0..12 {
        metrics.instant_ranges.lock().expect("lock").clear();
        minute(&job, &metrics, at, 100.0).await.expect("runs");
        let ranges = metrics.instant_ranges.lock().expect("lock").clone();
        assert_eq!(
            ranges.iter().filter(|r| **r < 86_400).count(),
            5 * 2,
            "the short ranges every minute"
        );
        long_reads.push(ranges.iter().filter(|r| **r >= 86_400).count());
    }
    assert_eq!(long_reads, [4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0]);
    let stored = state.stored.lock().expect("lock").clone().expect("saved").0;
    let cache = stored.slo_cache.expect("kept");
    assert_eq!(cache.at, START + 600);
    assert_eq!(
        cache.ranges.keys().copied().collect::<Vec<_>>(),
        [86_400, 259_200]
    );
}

/// A silences file in a fresh directory holding one silence of `service=api` over minutes
/// `[from, to)` of the test clock.
fn silences_file(from: i64, to: i64) -> (tempfile::TempDir, SilencesStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let time = |minute: i64| DateTime::from_timestamp(START + 60 * minute, 0).expect("time");
    let document = vigil_core::check::silence::SilencesDocument {
        schema_version: 1,
        silences: vec![vigil_core::check::silence::Silence {
            id: "s1".to_owned(),
            matchers: vec![
                vigil_core::check::silence::Matcher::parse("service=api").expect("valid")
            ],
            starts_at: time(from),
            ends_at: time(to),
            created_by: "alice".to_owned(),
            comment: "deploy 4711".to_owned(),
        }],
    };
    let path = dir.path().join("silences.json");
    std::fs::write(&path, document.to_bytes()).expect("written");
    let store = SilencesStore::File(vigil_core::adapters::local::state::VersionedFile::new(path));
    (dir, store)
}

/// Runs the incident of `an_incident_sends_one_firing_and_one_resolved` under `store`.
async fn incident_under(store: SilencesStore) -> (Vec<(String, Transition)>, usize) {
    let (metrics, state, publisher) = fakes();
    let job = AnomalyCheckJob::new(&metrics, &state, &publisher, one_check(), settings())
        .with_silences(store);
    let silenced = incident(&job, &metrics).await.iter().sum();
    let sent = publisher.sent.lock().expect("lock").clone();
    (sent, silenced)
}

#[tokio::test]
async fn a_silenced_firing_goes_out_when_the_silence_ends_while_it_still_fires() {
    let (_dir, store) = silences_file(0, 3);
    let (sent, silenced) = incident_under(store).await;
    assert_eq!(
        sent,
        [
            ("request_rate".to_owned(), Transition::Firing),
            ("request_rate".to_owned(), Transition::Resolved)
        ]
    );
    assert_eq!(silenced, 1, "the firing at minute 1 was kept back");
}

#[tokio::test]
async fn an_incident_inside_a_silence_sends_nothing_not_even_its_resolution() {
    let (_dir, store) = silences_file(0, 60);
    let (sent, silenced) = incident_under(store).await;
    assert!(sent.is_empty(), "{sent:?}");
    assert_eq!(silenced, 2, "the firing and the resolution");
}

#[tokio::test]
async fn an_unreadable_silences_object_fails_the_invocation_and_leaves_the_state() {
    let (dir, store) = silences_file(0, 3);
    std::fs::write(dir.path().join("silences.json"), b"{\"silences\": [").expect("written");
    let (metrics, state, publisher) = fakes();
    let job = AnomalyCheckJob::new(&metrics, &state, &publisher, one_check(), settings())
        .with_silences(store);
    let error = minute(&job, &metrics, 1, 400.0)
        .await
        .expect_err("never read as no silences");
    assert_eq!(error.kind(), "SilencesUnreadable");
    assert!(error.is_retryable());
    assert!(
        state.saves.lock().expect("lock").is_empty(),
        "the state untouched"
    );
    assert!(publisher.sent.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_mute_window_keeps_messages_back_as_a_silence_does() {
    let (metrics, state, publisher) = fakes();
    let time = |minute: i64| {
        DateTime::from_timestamp(START + 60 * minute, 0)
            .expect("time")
            .to_rfc3339()
    };
    let windows = vigil_core::slo::mute::parse_mute_windows(Some(&json!([{
        "start": time(0), "end": time(3), "match": ["service=api", "check=request_rate"],
        "reason": "nightly batch",
    }])))
    .expect("valid");
    let job = AnomalyCheckJob::new(&metrics, &state, &publisher, one_check(), settings())
        .with_mute_windows(windows);
    let muted = incident(&job, &metrics).await;
    assert_eq!(
        muted,
        [0, 1, 0, 0, 0, 0, 0, 0],
        "the firing at minute 1 was kept back"
    );
    let sent = publisher.sent.lock().expect("lock").clone();
    assert_eq!(
        sent,
        [
            ("request_rate".to_owned(), Transition::Firing),
            ("request_rate".to_owned(), Transition::Resolved)
        ],
        "told when the window ended, while it still fired"
    );
}
