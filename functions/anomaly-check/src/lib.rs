//! `anomaly-check`: every minute, evaluate the checks and publish what changed.
//!
//! One invocation:
//!
//! 1. derives the evaluation time from the scheduled event (`time`, less
//!    `EVALUATION_DELAY_SECONDS` so the newest scrape has arrived), on the minute;
//! 2. reads the alert state; a live lease held by another invocation means that one is
//!    sending, so this one stops;
//! 3. runs one `query_range` per check over its window (plus one for last season's window
//!    where the check asks for seasonality), concurrently, and scores each series' newest
//!    point;
//! 4. advances every alert through the lifecycle;
//! 5. with messages to send: claims them (outbox + lease, written conditionally on the version
//!    read; a conflict means another invocation won, and this one sends nothing), publishes,
//!    then writes the advanced states, keeping unaccepted messages in the outbox for the next
//!    minute. Without messages: writes the advanced states conditionally.
//!
//! A check whose query fails keeps its alerts as they were; the others still run, and the
//! invocation then fails so the failure is seen.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use lambda_runtime::Diagnostic;
use serde::Serialize;
use thiserror::Error;
use url::Url;
use vigil_core::alert::{AlertKey, AlertState, Transition};
use vigil_core::anomaly::{evaluate_check, plan_check, remember, AlertRecord, Notification};
use vigil_core::checks::{build_checks, parse_document, Check, ChecksDocument, ChecksError};
use vigil_core::config::{ConfigError, Env, OneOf};
use vigil_core::conventions::MetricConventions;
use vigil_core::deadline::Deadline;
use vigil_core::detect::{Detector, RobustBaseline, RollingZScore};
use vigil_core::memory::{Memory, FORGET_AFTER_SECONDS};
use vigil_core::ports::{AlertPublisher, MetricsSource, StateStore};
use vigil_core::prometheus::{PrometheusError, PrometheusSettings, Series};
use vigil_core::publish::PublishError;
use vigil_core::schedule::{EventError, ScheduledEvent};
use vigil_core::state::{Lease, Loaded, OutboxEntry, SeriesMemory, StateDocument, StateError};
use vigil_core::telemetry::{MetricsLine, Unit};

pub mod score_csv;

/// Where the alert state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    /// `STATE_BUCKET` and `STATE_KEY`.
    S3 {
        /// The bucket.
        bucket: String,
        /// The object key.
        key: String,
    },
    /// `STATE_DIR`: a local directory.
    Directory(PathBuf),
}

/// Where the checks document comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChecksSource {
    /// Only the default checks.
    Defaults,
    /// `CHECKS_FILE`: a file bundled with the function.
    File(PathBuf),
    /// `CHECKS_S3_URI`: `s3://bucket/key`.
    S3 {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
}

/// Which detector scores the points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetectorChoice {
    /// [`RobustBaseline`], the default.
    RobustBaseline,
    /// [`RollingZScore`], the seed's rule, for comparison.
    RollingZScore,
}

impl DetectorChoice {
    /// The detector.
    pub fn build(self) -> Box<dyn Detector> {
        match self {
            Self::RobustBaseline => Box::new(RobustBaseline::default()),
            Self::RollingZScore => Box::new(RollingZScore::default()),
        }
    }
}

/// Everything `anomaly-check` reads from its environment.
#[derive(Debug, Clone)]
pub struct AnomalyCheckConfig {
    /// How to reach Prometheus.
    pub prometheus: PrometheusSettings,
    /// Metric conventions for the default checks.
    pub conventions: MetricConventions,
    /// `ALERT_TOPIC_ARN`; without it alerts go to stdout as JSON lines.
    pub topic_arn: Option<String>,
    /// Where the state lives.
    pub state: StateLocation,
    /// `S3_FORCE_PATH_STYLE`.
    pub force_path_style: bool,
    /// Where the checks come from.
    pub checks: ChecksSource,
    /// `PROMETHEUS_GRAPH_URL`, default `PROMETHEUS_URL`: the UI linked from messages.
    pub graph_url: Url,
    /// The job's settings.
    pub job: JobSettings,
}

/// What the job needs besides its ports and checks.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// `EVALUATION_DELAY_SECONDS`: how far behind the event time to evaluate.
    pub evaluation_delay_seconds: i64,
    /// `STATE_LEASE_SECONDS`: how long a claim on the outbox holds.
    pub lease_seconds: i64,
    /// `DETECTOR`.
    pub detector: DetectorChoice,
}

impl AnomalyCheckConfig {
    /// Reads and validates the configuration.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable at fault.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let prometheus = PrometheusSettings::from_env(env)?;
        let state = match env.one_of("STATE_BUCKET, STATE_DIR", "STATE_BUCKET", "STATE_DIR")? {
            OneOf::First(bucket) => StateLocation::S3 {
                bucket: bucket.to_owned(),
                key: env
                    .get("STATE_KEY")
                    .unwrap_or("anomaly-check/state.json")
                    .trim()
                    .to_owned(),
            },
            OneOf::Second(dir) => StateLocation::Directory(PathBuf::from(dir)),
            OneOf::Neither => {
                return Err(ConfigError::Missing {
                    variable: "STATE_BUCKET",
                    expected:
                        "the S3 bucket for the alert state (or STATE_DIR for a local directory)"
                            .to_owned(),
                })
            }
        };
        let checks =
            match env.one_of("CHECKS_FILE, CHECKS_S3_URI", "CHECKS_FILE", "CHECKS_S3_URI")? {
                OneOf::Neither => ChecksSource::Defaults,
                OneOf::First(file) => ChecksSource::File(PathBuf::from(file)),
                OneOf::Second(uri) => {
                    let (bucket, key) = uri
                        .strip_prefix("s3://")
                        .and_then(|rest| rest.split_once('/'))
                        .filter(|(bucket, key)| !bucket.is_empty() && !key.is_empty())
                        .ok_or_else(|| ConfigError::Invalid {
                            variable: "CHECKS_S3_URI",
                            expected: "an S3 URI such as s3://my-bucket/vigil/checks.yaml"
                                .to_owned(),
                            found: uri.to_owned(),
                        })?;
                    ChecksSource::S3 {
                        bucket: bucket.to_owned(),
                        key: key.to_owned(),
                    }
                }
            };
        let graph_url = env
            .parse_with(
                "PROMETHEUS_GRAPH_URL",
                "an http(s) URL of the Prometheus UI",
                Url::parse,
            )?
            .unwrap_or_else(|| prometheus.url.clone());
        let detector = match env.get("DETECTOR").map(str::trim) {
            None | Some("robust-baseline") => DetectorChoice::RobustBaseline,
            Some("rolling-zscore") => DetectorChoice::RollingZScore,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    variable: "DETECTOR",
                    expected: "robust-baseline or rolling-zscore".to_owned(),
                    found: other.to_owned(),
                })
            }
        };
        let whole_seconds = |variable: &'static str, default: i64, max: i64| {
            let value = env.parse_or(variable, "a whole number of seconds", default)?;
            if (0..=max).contains(&value) {
                Ok(value)
            } else {
                Err(ConfigError::Invalid {
                    variable,
                    expected: format!("a whole number of seconds from 0 to {max}"),
                    found: value.to_string(),
                })
            }
        };
        Ok(Self {
            conventions: MetricConventions::from_env(env)?,
            topic_arn: env.get("ALERT_TOPIC_ARN").map(|arn| arn.trim().to_owned()),
            state,
            force_path_style: env.flag("S3_FORCE_PATH_STYLE", false)?,
            checks,
            graph_url,
            job: JobSettings {
                evaluation_delay_seconds: whole_seconds("EVALUATION_DELAY_SECONDS", 60, 3600)?,
                lease_seconds: whole_seconds("STATE_LEASE_SECONDS", 120, 3600)?,
                detector,
            },
            prometheus,
        })
    }
}

/// Turns the checks document's text (if any) into checks.
///
/// # Errors
/// [`ChecksError`] naming the check and field at fault.
pub fn load_checks(
    text: Option<&str>,
    conventions: &MetricConventions,
) -> Result<Vec<Check>, ChecksError> {
    let document = match text {
        Some(text) => parse_document(text)?,
        None => ChecksDocument {
            default_checks: true,
            checks: Vec::new(),
        },
    };
    build_checks(document, conventions)
}

/// Why an invocation failed.
#[derive(Debug, Error)]
pub enum CheckRunError {
    /// The event has no usable time.
    #[error("malformed event: {0}")]
    Event(#[from] EventError),
    /// A backfill event was sent to the minute check.
    #[error("malformed event: the anomaly check needs a \"time\", not a \"date\"")]
    DayEvent,
    /// The state could not be read or written.
    #[error(transparent)]
    State(#[from] StateError),
    /// Some checks failed; the others ran.
    #[error("{failed} of {total} checks failed; first: {first}")]
    Checks {
        /// Failed checks.
        failed: usize,
        /// All checks.
        total: usize,
        /// The first failure.
        first: String,
        /// Whether every failure may pass.
        retryable: bool,
    },
    /// Some messages were not accepted; they stay in the outbox for the next minute.
    #[error("{failed} alert message(s) not published, kept for the next run; first: {first}")]
    Publish {
        /// Messages not published.
        failed: usize,
        /// The first failure.
        first: String,
    },
}

impl CheckRunError {
    /// A short, stable name for the kind of failure.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Event(_) | Self::DayEvent => "BadEvent",
            Self::State(_) => "StateFailed",
            Self::Checks { .. } => "ChecksFailed",
            Self::Publish { .. } => "PublishFailed",
        }
    }

    /// Whether retrying could help (the next minute retries anyway).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Event(_) | Self::DayEvent => false,
            Self::State(_) | Self::Publish { .. } => true,
            Self::Checks { retryable, .. } => *retryable,
        }
    }
}

impl From<CheckRunError> for Diagnostic {
    fn from(error: CheckRunError) -> Self {
        vigil_core::telemetry::diagnostic(error.is_retryable(), error.kind(), error.to_string())
    }
}

/// What an invocation did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CheckOutcome {
    /// The evaluation time, RFC 3339.
    pub evaluated_at: String,
    /// Checks that ran.
    pub checks: usize,
    /// Series scored.
    pub series: usize,
    /// Messages accepted by the publisher.
    pub published: usize,
    /// Alerts not normal after the run.
    pub active_alerts: usize,
    /// Whether another invocation held the state, so this one sent nothing.
    pub skipped: bool,
    /// Query wall times in milliseconds.
    #[serde(skip)]
    pub query_latency_ms: Vec<f64>,
}

/// The job, generic over its ports.
pub struct AnomalyCheckJob<M, S, P> {
    metrics: M,
    state: S,
    publisher: P,
    checks: Vec<Check>,
    detector: Box<dyn Detector>,
    settings: JobSettings,
}

struct CheckResult {
    check_index: usize,
    outcome: Result<(Vec<Series>, Vec<Series>), PrometheusError>,
    elapsed_ms: f64,
}

impl<M: MetricsSource, S: StateStore, P: AlertPublisher> AnomalyCheckJob<M, S, P> {
    /// Builds the job.
    pub fn new(
        metrics: M,
        state: S,
        publisher: P,
        checks: Vec<Check>,
        settings: JobSettings,
    ) -> Self {
        Self {
            metrics,
            state,
            publisher,
            checks,
            detector: settings.detector.build(),
            settings,
        }
    }

    async fn query(&self, check_index: usize, end: i64, deadline: Deadline) -> CheckResult {
        let check = &self.checks[check_index];
        let started = Instant::now();
        let step = Duration::from_secs(check.step_seconds);
        let window = i64::try_from(check.window_seconds).unwrap_or(0);
        let range = |shift: i64| {
            let from = DateTime::from_timestamp(end - window - shift, 0).unwrap_or_default();
            let to = DateTime::from_timestamp(end - shift, 0).unwrap_or_default();
            self.metrics
                .query_range(&check.query, from, to, step, deadline)
        };
        let outcome = async {
            let current = range(0).await?.into_matrix()?;
            let season = match check
                .seasonality
                .offset_seconds()
                .and_then(|o| i64::try_from(o).ok())
            {
                Some(offset) => range(offset).await?.into_matrix()?,
                None => Vec::new(),
            };
            Ok((current, season))
        }
        .await;
        CheckResult {
            check_index,
            outcome,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        }
    }

    /// Runs one invocation. `request_id` names the lease; `wall_now` (unix seconds) only
    /// times the lease, the evaluation time comes from the event.
    ///
    /// # Errors
    /// [`CheckRunError`]; state already written stays consistent.
    #[allow(clippy::too_many_lines)]
    pub async fn run(
        &self,
        event: &serde_json::Value,
        request_id: &str,
        wall_now: i64,
        deadline: Deadline,
    ) -> Result<CheckOutcome, CheckRunError> {
        let time = match ScheduledEvent::from_json(event)? {
            ScheduledEvent::At(time) => time,
            ScheduledEvent::Day(_) => return Err(CheckRunError::DayEvent),
        };
        let now = (time.timestamp() - self.settings.evaluation_delay_seconds).div_euclid(60) * 60;
        let (mut document, version) = match self.state.load().await? {
            Loaded::Missing => (StateDocument::default(), None),
            Loaded::Found { document, version } => (document, Some(version)),
            Loaded::Corrupt { version, problem } => {
                tracing::error!(problem = %problem, "StateCorrupt");
                (StateDocument::default(), Some(version))
            }
        };
        let mut outcome = CheckOutcome {
            evaluated_at: DateTime::from_timestamp(now, 0)
                .unwrap_or_default()
                .to_rfc3339(),
            checks: self.checks.len(),
            ..CheckOutcome::default()
        };
        if let Some(lease) = document
            .lease
            .as_ref()
            .filter(|l| l.expires_at > wall_now && l.holder != request_id)
        {
            tracing::warn!(holder = %lease.holder, expires_at = lease.expires_at, "LeaseHeld");
            outcome.skipped = true;
            return Ok(outcome);
        }

        let results = futures_util::future::join_all(
            (0..self.checks.len())
                .map(|index| self.query(index, self.checks[index].window_end(now), deadline)),
        )
        .await;

        let mut alerts: BTreeMap<AlertKey, AlertRecord> = BTreeMap::new();
        // Memories are moved, never copied: at 10,000 series they are megabytes.
        let mut memories: BTreeMap<AlertKey, Memory> = std::mem::take(&mut document.memories)
            .into_iter()
            .filter(|m| now - m.memory.seen <= FORGET_AFTER_SECONDS)
            .filter(|m| self.checks.iter().any(|c| c.name == m.key.check))
            .map(|m| (m.key, m.memory))
            .collect();
        let mut pending: Vec<OutboxEntry> = Vec::new();
        let mut failures: Vec<(String, bool)> = Vec::new();
        for result in results {
            let check = &self.checks[result.check_index];
            outcome.query_latency_ms.push(result.elapsed_ms);
            match result.outcome {
                Ok((series, season)) => {
                    let end = check.window_end(now);
                    let evaluations = evaluate_check(
                        check,
                        self.detector.as_ref(),
                        series,
                        &season,
                        end,
                        &document.alerts,
                        &memories,
                    );
                    remember(check, &evaluations, &mut memories, now);
                    outcome.series += evaluations.len();
                    tracing::debug!(check = %check.name, series = evaluations.len(), elapsed_ms = result.elapsed_ms, "CheckEvaluated");
                    let plan = plan_check(check, evaluations, &document.alerts, now);
                    alerts.extend(plan.next.into_iter().map(|r| (r.key.clone(), r)));
                    pending.extend(
                        plan.notifications
                            .into_iter()
                            .map(|(notification, record)| OutboxEntry {
                                notification,
                                record,
                            }),
                    );
                }
                Err(error) => {
                    tracing::error!(check = %check.name, query = %check.query, error = %error, retryable = error.is_retryable(), "CheckFailed");
                    failures.push((
                        format!("{}: {error}", check.name),
                        error.is_retryable()
                            || matches!(
                                error,
                                PrometheusError::DeadlineExceeded { .. }
                                    | PrometheusError::NoTimeLeft
                            ),
                    ));
                    alerts.extend(
                        document
                            .alerts
                            .iter()
                            .filter(|r| r.key.check == check.name)
                            .map(|r| (r.key.clone(), r.clone())),
                    );
                }
            }
        }
        // Alerts of checks that no longer exist are dropped; unsent messages from an earlier
        // run go first, unless this run has a newer message for the same alert.
        let newer: Vec<AlertKey> = pending.iter().map(|e| e.notification.key.clone()).collect();
        let mut outbox: Vec<OutboxEntry> = document
            .outbox
            .iter()
            .filter(|e| !newer.contains(&e.notification.key))
            .cloned()
            .collect();
        outbox.extend(pending);

        let memories: Vec<SeriesMemory> = memories
            .into_iter()
            .map(|(key, memory)| SeriesMemory { key, memory })
            .collect();
        let finish = |alerts: BTreeMap<AlertKey, AlertRecord>,
                      outbox: Vec<OutboxEntry>,
                      memories: Vec<SeriesMemory>| StateDocument {
            alerts: alerts.into_values().collect(),
            outbox,
            memories,
            ..StateDocument::default()
        };
        if outbox.is_empty() {
            outcome.active_alerts = active(&alerts);
            match self
                .state
                .save(&finish(alerts, Vec::new(), memories), version.as_deref())
                .await
            {
                Err(StateError::Conflict) => {
                    tracing::warn!("StateConflict");
                    outcome.skipped = true;
                }
                other => {
                    other?;
                }
            }
        } else {
            let claim = StateDocument {
                lease: Some(Lease {
                    holder: request_id.to_owned(),
                    expires_at: wall_now + self.settings.lease_seconds,
                }),
                outbox: outbox.clone(),
                memories,
                ..document.clone()
            };
            let claimed = match self.state.save(&claim, version.as_deref()).await {
                Err(StateError::Conflict) => {
                    tracing::warn!("StateConflict");
                    outcome.skipped = true;
                    return self.finish_run(outcome, &failures, &[]);
                }
                other => other?,
            };
            let mut unsent = Vec::new();
            let mut publish_errors = Vec::new();
            for entry in outbox {
                let notification = &entry.notification;
                match self.publisher.publish(notification).await {
                    Ok(()) => {
                        outcome.published += 1;
                        log_published(notification);
                        alerts.remove(&notification.key);
                        if let Some(record) = entry.record {
                            alerts.insert(record.key.clone(), record);
                        }
                    }
                    Err(error) => {
                        tracing::error!(check = %notification.key.check, error = %error, "AlertPublishFailed");
                        publish_errors.push(error);
                        if let Some(before) =
                            document.alerts.iter().find(|r| r.key == notification.key)
                        {
                            alerts.insert(before.key.clone(), before.clone());
                        }
                        unsent.push(entry);
                    }
                }
            }
            outcome.active_alerts = active(&alerts);
            self.state
                .save(&finish(alerts, unsent, claim.memories), Some(&claimed))
                .await?;
            return self.finish_run(outcome, &failures, &publish_errors);
        }
        self.finish_run(outcome, &failures, &[])
    }

    fn finish_run(
        &self,
        outcome: CheckOutcome,
        failures: &[(String, bool)],
        publish_errors: &[PublishError],
    ) -> Result<CheckOutcome, CheckRunError> {
        if let Some(first) = publish_errors.first() {
            return Err(CheckRunError::Publish {
                failed: publish_errors.len(),
                first: first.to_string(),
            });
        }
        if let Some((first, _)) = failures.first() {
            return Err(CheckRunError::Checks {
                failed: failures.len(),
                total: self.checks.len(),
                first: first.clone(),
                retryable: failures.iter().all(|(_, retryable)| *retryable),
            });
        }
        Ok(outcome)
    }
}

/// Alerts pending or firing (recovered ones are only remembered).
fn active(alerts: &BTreeMap<AlertKey, AlertRecord>) -> usize {
    alerts
        .values()
        .filter(|r| !matches!(r.state, AlertState::Recovered { .. }))
        .count()
}

fn log_published(notification: &Notification) {
    let transition = match notification.transition {
        Transition::Firing => "firing",
        Transition::Repeat => "repeat",
        Transition::Resolved => "resolved",
    };
    tracing::info!(
        check = %notification.key.check,
        labels = %serde_json::to_string(&notification.key.labels).unwrap_or_default(),
        transition,
        severity = notification.severity.as_str(),
        value = notification.reading.value,
        "AlertPublished"
    );
}

/// Handles one invocation: runs the job, logs the outcome and emits the metrics line.
///
/// # Errors
/// The job's [`CheckRunError`], after it was logged as `InvocationFailed`.
pub async fn invoke<M: MetricsSource, S: StateStore, P: AlertPublisher>(
    job: &AnomalyCheckJob<M, S, P>,
    event: &serde_json::Value,
    request_id: &str,
    lambda_deadline: std::time::SystemTime,
) -> Result<CheckOutcome, CheckRunError> {
    let started = Instant::now();
    let deadline = Deadline::from_system_time(lambda_deadline, Duration::from_secs(2));
    let result = job
        .run(event, request_id, Utc::now().timestamp(), deadline)
        .await;
    let line = MetricsLine::new("anomaly-check").metric(
        "ChecksConfigured",
        Unit::Count,
        vec![job.checks.len() as f64],
    );
    let line = match &result {
        Ok(outcome) => {
            tracing::info!(
                evaluated_at = %outcome.evaluated_at,
                series = outcome.series,
                published = outcome.published,
                active_alerts = outcome.active_alerts,
                skipped = outcome.skipped,
                "ChecksCompleted"
            );
            line.dimension("Outcome", "success")
                .metric("SeriesEvaluated", Unit::Count, vec![outcome.series as f64])
                .metric(
                    "AlertsPublished",
                    Unit::Count,
                    vec![outcome.published as f64],
                )
                .metric(
                    "ActiveAlerts",
                    Unit::Count,
                    vec![outcome.active_alerts as f64],
                )
                .metric(
                    "QueryLatency",
                    Unit::Milliseconds,
                    outcome.query_latency_ms.clone(),
                )
        }
        Err(error) => {
            tracing::error!(error_type = error.kind(), retryable = error.is_retryable(), error = %error, "InvocationFailed");
            let failed = match error {
                CheckRunError::Checks { failed, .. } => *failed,
                _ => 0,
            };
            line.dimension("Outcome", "failure").metric(
                "ChecksFailed",
                Unit::Count,
                vec![failed as f64],
            )
        }
    };
    line.metric(
        "Duration",
        Unit::Milliseconds,
        vec![started.elapsed().as_secs_f64() * 1000.0],
    )
    .emit();
    result
}

#[cfg(test)]
mod tests;

/// The job as deployed.
pub type DeployedJob = AnomalyCheckJob<
    vigil_core::prometheus::PrometheusClient,
    vigil_core::state::ConfiguredStateStore,
    vigil_core::publish::ConfiguredPublisher,
>;

/// Start-up failed after the configuration was read.
#[derive(Debug, Error)]
pub enum StartupError {
    /// The Prometheus client could not be set up.
    #[error(transparent)]
    Prometheus(#[from] vigil_core::prometheus::ConnectError),
    /// The checks document could not be read.
    #[error("{variable}: could not read the checks document: {message}")]
    ChecksUnreadable {
        /// `CHECKS_FILE` or `CHECKS_S3_URI`.
        variable: &'static str,
        /// Why.
        message: String,
    },
    /// The checks document is invalid.
    #[error("{variable}: {source}")]
    Checks {
        /// `CHECKS_FILE`, `CHECKS_S3_URI`, or the default.
        variable: &'static str,
        /// What is wrong.
        #[source]
        source: ChecksError,
    },
}

/// Builds the deployed job: reads the checks document and the Prometheus secret, builds the
/// clients; once per process.
///
/// # Errors
/// [`StartupError`] naming the setting at fault.
pub async fn connect(
    config: AnomalyCheckConfig,
    sdk: &aws_config::SdkConfig,
) -> Result<DeployedJob, StartupError> {
    use vigil_core::publish::{ConfiguredPublisher, SnsPublisher, StdoutPublisher};
    use vigil_core::state::{ConfiguredStateStore, FileStateStore, S3StateStore};

    let s3 = vigil_core::store::s3_client(sdk, config.force_path_style);
    let (variable, text) = match &config.checks {
        ChecksSource::Defaults => ("CHECKS_FILE", None),
        ChecksSource::File(path) => {
            let text = tokio::fs::read_to_string(path).await.map_err(|error| {
                StartupError::ChecksUnreadable {
                    variable: "CHECKS_FILE",
                    message: format!("{}: {error}", path.display()),
                }
            })?;
            ("CHECKS_FILE", Some(text))
        }
        ChecksSource::S3 { bucket, key } => {
            let unreadable = |message: String| StartupError::ChecksUnreadable {
                variable: "CHECKS_S3_URI",
                message,
            };
            let object = s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|error| unreadable(aws_sdk_s3::Error::from(error).to_string()))?;
            let bytes = object
                .body
                .collect()
                .await
                .map_err(|error| unreadable(error.to_string()))?
                .into_bytes();
            let text =
                String::from_utf8(bytes.to_vec()).map_err(|error| unreadable(error.to_string()))?;
            ("CHECKS_S3_URI", Some(text))
        }
    };
    let checks = load_checks(text.as_deref(), &config.conventions)
        .map_err(|source| StartupError::Checks { variable, source })?;
    let metrics = config.prometheus.connect(sdk).await?;
    let state = match config.state {
        StateLocation::S3 { bucket, key } => {
            ConfiguredStateStore::S3(S3StateStore::new(s3, bucket, key))
        }
        StateLocation::Directory(dir) => {
            ConfiguredStateStore::File(FileStateStore::in_directory(dir))
        }
    };
    let graph = Some(config.graph_url);
    let publisher = match config.topic_arn {
        Some(topic) => ConfiguredPublisher::Sns(SnsPublisher::new(
            aws_sdk_sns::Client::new(sdk),
            topic,
            graph,
        )),
        None => ConfiguredPublisher::Stdout(StdoutPublisher::new(graph)),
    };
    tracing::info!(checks = checks.len(), names = %checks.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(","), "ChecksLoaded");
    Ok(AnomalyCheckJob::new(
        metrics, state, publisher, checks, config.job,
    ))
}
