//! `sla-report`: the daily SLA report, as a job generic over its ports.
//!
//! [`SlaReportJob::run`] turns one scheduled event into a report: it derives the period from
//! the event, issues a fixed set of eight grouped queries (five instant queries pinned at the
//! end of the period, three hourly range queries) whatever the number of services, builds
//! the report, and writes `report.html`, `report.json` and then `latest.json` (a backfill of
//! any day but the latest complete one leaves `latest.json` alone). Nothing is
//! written until every query succeeded and both renderings exist, so a failed run leaves no
//! partial report.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lambda_runtime::Diagnostic;
use serde::Serialize;
use thiserror::Error;
use vigil_core::config::{ConfigError, Env, OneOf};
use vigil_core::conventions::MetricConventions;
use vigil_core::deadline::Deadline;
use vigil_core::ports::{MetricsSource, ReportStore};
use vigil_core::prometheus::ConnectError;
use vigil_core::prometheus::{PrometheusError, PrometheusSettings, Sample, Series};
use vigil_core::promql::{self, RangeSeconds};
use vigil_core::render;
use vigil_core::schedule::{EventError, PeriodError, ReportPeriod, ScheduledEvent};
use vigil_core::sla::{build_report, Measurements, SlaPolicy, SlaReport, SloTarget};
use vigil_core::store::{
    s3_client, ConfiguredReportStore, DirReportStore, S3ReportStore, StoreError,
};
use vigil_core::telemetry::{MetricsLine, Unit};

/// Where reports go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// An S3 bucket (`REPORT_BUCKET`).
    S3 {
        /// The bucket.
        bucket: String,
        /// `S3_FORCE_PATH_STYLE`: path-style addressing for S3-compatible endpoints.
        force_path_style: bool,
    },
    /// A local directory (`REPORT_DIR`), for runs outside AWS.
    Directory(PathBuf),
}

/// Everything `sla-report` reads from its environment.
#[derive(Debug, Clone)]
pub struct SlaReportConfig {
    /// How to reach Prometheus.
    pub prometheus: PrometheusSettings,
    /// Where reports go.
    pub output: Output,
    /// What the report settings are.
    pub report: ReportSettings,
}

/// The settings the job itself needs.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// `REPORT_PREFIX`, prepended to every key.
    pub prefix: String,
    /// `REPORT_TIME_ZONE`, whose calendar defines the day.
    pub time_zone: Tz,
    /// `SLO_TARGET` and `SLO_TARGETS`.
    pub policy: SlaPolicy,
    /// Metric and label names.
    pub metrics: MetricConventions,
    /// `WRITE_RESERVE_SECONDS`: time kept back from the deadline for writing the report (at
    /// most a quarter of the time left).
    pub write_reserve: Duration,
}

impl SlaReportConfig {
    /// Reads and validates the configuration.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable at fault.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let output = match env.one_of("REPORT_BUCKET, REPORT_DIR", "REPORT_BUCKET", "REPORT_DIR")? {
            OneOf::First(bucket) => Output::S3 {
                bucket: bucket.to_owned(),
                force_path_style: env.flag("S3_FORCE_PATH_STYLE", false)?,
            },
            OneOf::Second(dir) => Output::Directory(PathBuf::from(dir)),
            OneOf::Neither => {
                return Err(ConfigError::Missing {
                    variable: "REPORT_BUCKET",
                    expected: "the S3 bucket for reports (or REPORT_DIR for a local directory)"
                        .to_owned(),
                })
            }
        };
        let prefix = env
            .get("REPORT_PREFIX")
            .unwrap_or("sla-reports/")
            .trim()
            .to_owned();
        if prefix.starts_with('/') || prefix.split('/').any(|part| part == "..") {
            return Err(ConfigError::Invalid {
                variable: "REPORT_PREFIX",
                expected: "a relative key prefix such as sla-reports/".to_owned(),
                found: prefix,
            });
        }
        let time_zone = env
            .parse_with(
                "REPORT_TIME_ZONE",
                "an IANA time zone such as UTC or Europe/Berlin",
                str::parse::<Tz>,
            )?
            .unwrap_or(Tz::UTC);
        let target = |variable: &'static str, value: f64| {
            SloTarget::try_from(value).map_err(|error| ConfigError::Invalid {
                variable,
                expected: error.to_string(),
                found: value.to_string(),
            })
        };
        let default_target = target(
            "SLO_TARGET",
            env.parse_or("SLO_TARGET", "a number strictly between 0 and 1", 0.999_f64)?,
        )?;
        let mut overrides = BTreeMap::new();
        let raw_overrides: BTreeMap<String, f64> = env
            .parse_with(
                "SLO_TARGETS",
                r#"a JSON object of service names to targets, such as {"checkout": 0.9995}"#,
                |raw| serde_json::from_str::<BTreeMap<String, f64>>(raw),
            )?
            .unwrap_or_default();
        for (service, value) in raw_overrides {
            overrides.insert(service, target("SLO_TARGETS", value)?);
        }
        let metrics = MetricConventions::from_env(env)?;
        Ok(Self {
            prometheus: PrometheusSettings::from_env(env)?,
            output,
            report: ReportSettings {
                prefix,
                time_zone,
                policy: SlaPolicy {
                    default_target,
                    overrides,
                },
                metrics,
                write_reserve: env.seconds("WRITE_RESERVE_SECONDS", Duration::from_secs(5))?,
            },
        })
    }
}

/// Why an invocation failed.
#[derive(Debug, Error)]
pub enum ReportError {
    /// The event does not say which day to report.
    #[error("malformed event: {0}")]
    Event(#[from] EventError),
    /// The day cannot be placed on the calendar.
    #[error("bad period: {0}")]
    Period(#[from] PeriodError),
    /// The day asked for has not ended yet.
    #[error("the period {date} ends at {end}, which is still in the future: its report would be partial")]
    PeriodNotOver {
        /// The day asked for.
        date: String,
        /// When it ends.
        end: String,
    },
    /// A query failed.
    #[error("query {name} failed: {source}")]
    Query {
        /// Which of the fixed queries.
        name: &'static str,
        /// The query text.
        query: String,
        /// Why.
        #[source]
        source: PrometheusError,
    },
    /// The report could not be serialised.
    #[error("could not serialise the report: {0}")]
    Render(#[from] serde_json::Error),
    /// A report object could not be written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ReportError {
    /// Whether the same invocation could succeed if tried again later.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Query { source, .. } => {
                source.is_retryable()
                    || matches!(
                        source,
                        PrometheusError::DeadlineExceeded { .. } | PrometheusError::NoTimeLeft
                    )
            }
            Self::Store(StoreError::Write { .. }) | Self::PeriodNotOver { .. } => true,
            Self::Event(_)
            | Self::Period(_)
            | Self::Render(_)
            | Self::Store(StoreError::UnsafeKey { .. }) => false,
        }
    }

    /// A short, stable name for the kind of failure.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Event(_) => "BadEvent",
            Self::Period(_) => "BadPeriod",
            Self::PeriodNotOver { .. } => "PeriodNotOver",
            Self::Query { source, .. } if source.is_timeout() => "PrometheusTimeout",
            Self::Query { source, .. }
                if source.is_retryable()
                    || matches!(source, PrometheusError::DeadlineExceeded { .. }) =>
            {
                "PrometheusUnavailable"
            }
            Self::Query { .. } => "QueryRejected",
            Self::Render(_) => "RenderFailed",
            Self::Store(_) => "StoreFailed",
        }
    }
}

impl From<ReportError> for Diagnostic {
    fn from(error: ReportError) -> Self {
        vigil_core::telemetry::diagnostic(error.is_retryable(), error.kind(), error.to_string())
    }
}

/// What a successful run wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportOutcome {
    /// The day reported.
    pub date: String,
    /// Services in the report.
    pub services: usize,
    /// Services that breached their SLO.
    pub breached: usize,
    /// Services without data.
    pub no_data: usize,
    /// The JSON report's key.
    pub json_key: String,
    /// The HTML report's key.
    pub html_key: String,
    /// `latest.json`'s key when this run rewrote it (scheduled runs, and a backfill of the
    /// latest complete day); `None` for a backfill of an older day.
    pub latest_key: Option<String>,
    /// Queries issued.
    pub queries: usize,
}

/// Timings of one run, for the metrics line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunStats {
    /// Each query's wall time in milliseconds, retries included.
    pub query_latency_ms: Vec<f64>,
}

/// The job, generic over where metrics come from and where reports go.
#[derive(Debug)]
pub struct SlaReportJob<M, S> {
    metrics: M,
    store: S,
    settings: ReportSettings,
}

struct Queries {
    total: String,
    errors: String,
    p50: String,
    p95: String,
    p99: String,
    hourly_total: String,
    hourly_errors: String,
    hourly_p99: String,
}

impl<M: MetricsSource, S: ReportStore> SlaReportJob<M, S> {
    /// Builds the job from its ports and settings.
    pub fn new(metrics: M, store: S, settings: ReportSettings) -> Self {
        Self {
            metrics,
            store,
            settings,
        }
    }

    fn queries(&self, period: &ReportPeriod) -> Queries {
        let conventions = &self.settings.metrics;
        let by = [&conventions.service_label];
        let requests = conventions.requests();
        let errors = conventions.errors();
        let buckets = conventions.latency_buckets();
        let day = RangeSeconds(period.seconds());
        let hour = RangeSeconds(3600);
        Queries {
            total: promql::sum_increase_by(&by, &requests, day),
            errors: promql::sum_increase_by(&by, &errors, day),
            p50: promql::histogram_quantile_by(0.5, &by, &buckets, day),
            p95: promql::histogram_quantile_by(0.95, &by, &buckets, day),
            p99: promql::histogram_quantile_by(0.99, &by, &buckets, day),
            hourly_total: promql::sum_increase_by(&by, &requests, hour),
            hourly_errors: promql::sum_increase_by(&by, &errors, hour),
            hourly_p99: promql::histogram_quantile_by(0.99, &by, &buckets, hour),
        }
    }

    async fn instant(
        &self,
        name: &'static str,
        query: &str,
        time: DateTime<Utc>,
        deadline: Deadline,
    ) -> Result<(Vec<Sample>, f64), ReportError> {
        let started = Instant::now();
        let result = self
            .metrics
            .query(query, time, deadline)
            .await
            .and_then(|response| {
                log_notices(name, &response.warnings, &response.infos);
                response.into_vector()
            });
        finish_query(name, query, started, result)
    }

    async fn range(
        &self,
        name: &'static str,
        query: &str,
        period: &ReportPeriod,
        deadline: Deadline,
    ) -> Result<(Vec<Series>, f64), ReportError> {
        let started = Instant::now();
        let first_hour_end = period.start + chrono::Duration::hours(1);
        let result = self
            .metrics
            .query_range(
                query,
                first_hour_end,
                period.end,
                Duration::from_hours(1),
                deadline,
            )
            .await
            .and_then(|response| {
                log_notices(name, &response.warnings, &response.infos);
                response.into_matrix()
            });
        finish_query(name, query, started, result)
    }

    /// Runs one invocation.
    ///
    /// `now` is only used to refuse days that have not ended; the period itself comes from
    /// the event.
    ///
    /// # Errors
    /// [`ReportError`]; see [`ReportError::is_retryable`].
    pub async fn run(
        &self,
        event: &serde_json::Value,
        now: DateTime<Utc>,
        deadline: Deadline,
    ) -> Result<(ReportOutcome, RunStats), ReportError> {
        let event = ScheduledEvent::from_json(event)?;
        let period = ReportPeriod::for_event(&event, self.settings.time_zone)?;
        if period.end > now {
            return Err(ReportError::PeriodNotOver {
                date: period.date.to_string(),
                end: period.end.to_rfc3339(),
            });
        }
        tracing::info!(date = %period.date, start = %period.start, end = %period.end, time_zone = %period.time_zone, "PeriodSelected");
        // Keep time for the writes, but never so much that short deadlines leave none to query.
        let reserve = self.settings.write_reserve.min(deadline.remaining() / 4);
        let query_deadline = Deadline::after(deadline.remaining().saturating_sub(reserve));
        let q = self.queries(&period);
        let at = period.end;
        let (total, errors, p50, p95, p99, hourly_total, hourly_errors, hourly_p99) = tokio::try_join!(
            self.instant("total", &q.total, at, query_deadline),
            self.instant("errors", &q.errors, at, query_deadline),
            self.instant("p50", &q.p50, at, query_deadline),
            self.instant("p95", &q.p95, at, query_deadline),
            self.instant("p99", &q.p99, at, query_deadline),
            self.range("hourly_total", &q.hourly_total, &period, query_deadline),
            self.range("hourly_errors", &q.hourly_errors, &period, query_deadline),
            self.range("hourly_p99", &q.hourly_p99, &period, query_deadline),
        )?;
        let label = self.settings.metrics.service_label.as_str();
        let stats = RunStats {
            query_latency_ms: vec![
                total.1,
                errors.1,
                p50.1,
                p95.1,
                p99.1,
                hourly_total.1,
                hourly_errors.1,
                hourly_p99.1,
            ],
        };
        let measurements = Measurements {
            total: by_service(label, total.0),
            errors: by_service(label, errors.0),
            p50: by_service(label, p50.0),
            p95: by_service(label, p95.0),
            p99: by_service(label, p99.0),
            hourly_total: series_by_service(label, hourly_total.0),
            hourly_errors: series_by_service(label, hourly_errors.0),
            hourly_p99: series_by_service(label, hourly_p99.0),
        };
        let report = build_report(&period, &measurements, &self.settings.policy);
        // A scheduled run reports the newest day; a backfill of an older day must not make
        // `latest.json` point back in time.
        let newest = match event {
            ScheduledEvent::At(_) => true,
            ScheduledEvent::Day(_) => ReportPeriod::previous_day(now, self.settings.time_zone)
                .is_ok_and(|latest| latest.date == period.date),
        };
        let outcome = self
            .write(&report, stats.query_latency_ms.len(), newest)
            .await?;
        Ok((outcome, stats))
    }

    async fn write(
        &self,
        report: &SlaReport,
        queries: usize,
        newest: bool,
    ) -> Result<ReportOutcome, ReportError> {
        let json = render::to_json(report)?;
        let html = render::to_html(report).into_bytes();
        let day = report.period.date.replace('-', "/");
        let prefix = &self.settings.prefix;
        let json_key = format!("{prefix}daily/{day}/report.json");
        let html_key = format!("{prefix}daily/{day}/report.html");
        let latest_key = format!("{prefix}latest.json");
        self.store
            .put(&html_key, html, "text/html; charset=utf-8")
            .await?;
        self.store
            .put(&json_key, json.clone(), "application/json")
            .await?;
        if newest {
            self.store
                .put(&latest_key, json, "application/json")
                .await?;
        }
        let outcome = ReportOutcome {
            date: report.period.date.clone(),
            services: report.summary.services,
            breached: report.summary.breached,
            no_data: report.summary.no_data,
            json_key,
            html_key,
            latest_key: newest.then_some(latest_key),
            queries,
        };
        tracing::info!(
            date = %outcome.date,
            services = outcome.services,
            breached = outcome.breached,
            no_data = outcome.no_data,
            json_key = %outcome.json_key,
            html_key = %outcome.html_key,
            latest_key = outcome.latest_key.as_deref().unwrap_or(""),
            "ReportWritten"
        );
        Ok(outcome)
    }
}

fn finish_query<T>(
    name: &'static str,
    query: &str,
    started: Instant,
    result: Result<T, PrometheusError>,
) -> Result<(T, f64), ReportError> {
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(value) => {
            tracing::debug!(query_name = name, query, elapsed_ms, "QueryCompleted");
            Ok((value, elapsed_ms))
        }
        Err(source) => {
            tracing::error!(query_name = name, query, elapsed_ms, error = %source, retryable = source.is_retryable(), "QueryFailed");
            Err(ReportError::Query {
                name,
                query: query.to_owned(),
                source,
            })
        }
    }
}

fn log_notices(name: &'static str, warnings: &[String], infos: &[String]) {
    for warning in warnings {
        tracing::warn!(query_name = name, warning = %warning, "QueryWarned");
    }
    for info in infos {
        tracing::debug!(query_name = name, info = %info, "QueryNoticed");
    }
}

fn by_service(label: &str, samples: Vec<Sample>) -> BTreeMap<String, f64> {
    samples
        .into_iter()
        .map(|mut sample| {
            (
                sample.labels.remove(label).unwrap_or_default(),
                sample.value,
            )
        })
        .collect()
}

/// Range results are on the hourly grid: whole seconds, far inside `i64`.
#[allow(clippy::cast_possible_truncation)]
fn whole_seconds(time: f64) -> i64 {
    time.round() as i64
}

fn series_by_service(label: &str, series: Vec<Series>) -> BTreeMap<String, Vec<(i64, f64)>> {
    series
        .into_iter()
        .map(|mut series| {
            let points = series
                .points
                .iter()
                .map(|(time, value)| (whole_seconds(time), value))
                .collect();
            (series.labels.remove(label).unwrap_or_default(), points)
        })
        .collect()
}

#[cfg(test)]
mod tests;

/// The job as deployed: Prometheus over HTTP, reports into S3 or a directory.
pub type DeployedJob =
    SlaReportJob<vigil_core::prometheus::PrometheusClient, ConfiguredReportStore>;

/// Builds the deployed job from its configuration: reads the Prometheus secret and builds
/// the clients, once per process.
///
/// # Errors
/// [`ConnectError`] when the secret cannot be read or a client cannot be built.
pub async fn connect(
    config: SlaReportConfig,
    sdk: &aws_config::SdkConfig,
) -> Result<DeployedJob, ConnectError> {
    let metrics = config.prometheus.connect(sdk).await?;
    let store = match config.output {
        Output::S3 {
            bucket,
            force_path_style,
        } => {
            ConfiguredReportStore::S3(S3ReportStore::new(s3_client(sdk, force_path_style), bucket))
        }
        Output::Directory(dir) => ConfiguredReportStore::Directory(DirReportStore::new(dir)),
    };
    Ok(SlaReportJob::new(metrics, store, config.report))
}

/// Handles one invocation: runs the job, logs the outcome and emits the metrics line.
///
/// # Errors
/// The job's [`ReportError`], after it was logged as `InvocationFailed`.
pub async fn invoke<M: MetricsSource, S: ReportStore>(
    job: &SlaReportJob<M, S>,
    event: &serde_json::Value,
    lambda_deadline: std::time::SystemTime,
) -> Result<ReportOutcome, ReportError> {
    let started = Instant::now();
    let deadline = Deadline::from_system_time(lambda_deadline, Duration::from_millis(500));
    let result = job.run(event, Utc::now(), deadline).await;
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let line = MetricsLine::new("sla-report");
    let line = match &result {
        Ok((outcome, stats)) => line
            .dimension("Outcome", "success")
            .metric(
                "ServicesReported",
                Unit::Count,
                vec![outcome.services as f64],
            )
            .metric(
                "ServicesBreached",
                Unit::Count,
                vec![outcome.breached as f64],
            )
            .metric("QueriesIssued", Unit::Count, vec![outcome.queries as f64])
            .metric(
                "QueryLatency",
                Unit::Milliseconds,
                stats.query_latency_ms.clone(),
            ),
        Err(error) => {
            tracing::error!(error_type = error.kind(), retryable = error.is_retryable(), error = %error, "InvocationFailed");
            line.dimension("Outcome", "failure")
        }
    };
    line.metric("Duration", Unit::Milliseconds, vec![duration_ms])
        .emit();
    result.map(|(outcome, _)| outcome)
}
