//! What `anomaly-check` reads from its environment, validated once at start-up.

use std::path::PathBuf;

use chrono_tz::Tz;
use url::Url;
use vigil_core::adapters::prometheus::PrometheusSettings;
use vigil_core::check::detector::DetectorChoice;
use vigil_core::check::document::{
    build_checks, mute_windows, parse_document, ChecksDocument, ChecksError,
};
use vigil_core::check::model::Check;
use vigil_core::config::{ConfigError, Env, OneOf, SlosSource};
use vigil_core::conventions::MetricConventions;
use vigil_core::slo::mute::MuteWindow;

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

/// Where the daily report's ledger is read from, for SLO budget alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerLocation {
    /// `REPORT_BUCKET`.
    S3(String),
    /// `REPORT_DIR`.
    Directory(PathBuf),
}

/// Where the silences live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SilencesLocation {
    /// `SILENCES_S3_URI`.
    S3 {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
    /// `SILENCES_FILE`.
    File(PathBuf),
}

impl SilencesLocation {
    /// `SILENCES_S3_URI` or `SILENCES_FILE`; `None` without either (no silences).
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable.
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        Ok(
            match env.one_of(
                "SILENCES_S3_URI, SILENCES_FILE",
                "SILENCES_S3_URI",
                "SILENCES_FILE",
            )? {
                OneOf::Neither => None,
                OneOf::First(uri) => {
                    let (bucket, key) = Env::s3_uri("SILENCES_S3_URI", uri, "vigil/silences.json")?;
                    Some(Self::S3 { bucket, key })
                }
                OneOf::Second(file) => Some(Self::File(PathBuf::from(file))),
            },
        )
    }
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
    /// Where the SLO document comes from: its SLOs' burn-rate alerts; none without one.
    pub slos: SlosSource,
    /// `REPORT_BUCKET` or `REPORT_DIR`: the ledger the SLO budget alerts read, under
    /// `REPORT_PREFIX`; none turns budget alerts off.
    pub ledger: Option<LedgerLocation>,
    /// `REPORT_PREFIX`.
    pub report_prefix: String,
    /// `REPORT_TIME_ZONE`: the ledger's calendar.
    pub report_time_zone: Tz,
    /// `SILENCES_S3_URI` or `SILENCES_FILE`.
    pub silences: Option<SilencesLocation>,
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
    /// `READ_OVERLAP_SECONDS`: how much of its stored window a check reads again each minute,
    /// for samples that arrived late; at least the window means a full read every minute.
    pub read_overlap_seconds: i64,
    /// `SERIES_BUDGET`: how many series one invocation (one shard) is meant to evaluate; past
    /// it, each run logs `SeriesOverBudget`, and the template's alarm asks for more shards.
    pub series_budget: usize,
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
                    let (bucket, key) = Env::s3_uri("CHECKS_S3_URI", uri, "vigil/checks.yaml")?;
                    ChecksSource::S3 { bucket, key }
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
            None => DetectorChoice::default(),
            Some(name) => DetectorChoice::from_name(name).ok_or_else(|| ConfigError::Invalid {
                variable: "DETECTOR",
                expected: "robust-baseline or rolling-zscore".to_owned(),
                found: name.to_owned(),
            })?,
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
            slos: SlosSource::from_env(env)?,
            ledger: match env.one_of("REPORT_BUCKET, REPORT_DIR", "REPORT_BUCKET", "REPORT_DIR")? {
                OneOf::Neither => None,
                OneOf::First(bucket) => Some(LedgerLocation::S3(bucket.trim().to_owned())),
                OneOf::Second(dir) => Some(LedgerLocation::Directory(PathBuf::from(dir))),
            },
            report_prefix: env.report_prefix()?,
            report_time_zone: env.report_time_zone()?,
            silences: SilencesLocation::from_env(env)?,
            graph_url,
            job: JobSettings {
                evaluation_delay_seconds: whole_seconds("EVALUATION_DELAY_SECONDS", 60, 3600)?,
                lease_seconds: whole_seconds("STATE_LEASE_SECONDS", 120, 3600)?,
                detector,
                read_overlap_seconds: whole_seconds("READ_OVERLAP_SECONDS", 60, 31 * 86_400)?,
                series_budget: match env.parse_or(
                    "SERIES_BUDGET",
                    "a whole number of series",
                    8_000,
                )? {
                    0 => {
                        return Err(ConfigError::Invalid {
                            variable: "SERIES_BUDGET",
                            expected: "a whole number of series, at least 1".to_owned(),
                            found: "0".to_owned(),
                        })
                    }
                    budget => budget,
                },
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
    load_checks_and_windows(text, conventions, false).map(|(checks, _)| checks)
}

/// Turns the checks document's text (if any) into checks and mute windows; with
/// `none_allowed` (SLO alerts run beside them) a document may turn every check off.
///
/// # Errors
/// [`ChecksError`] naming the check or mute window and the field at fault.
pub fn load_checks_and_windows(
    text: Option<&str>,
    conventions: &MetricConventions,
    none_allowed: bool,
) -> Result<(Vec<Check>, Vec<MuteWindow>), ChecksError> {
    let document = match text {
        Some(text) => parse_document(text)?,
        None => ChecksDocument {
            default_checks: true,
            checks: Vec::new(),
            annotations: vigil_core::annotations::Annotations::default(),
            mute_windows: None,
        },
    };
    let windows = mute_windows(&document)?;
    match build_checks(document, conventions) {
        Err(ChecksError::Empty) if none_allowed => Ok((Vec::new(), windows)),
        other => other.map(|checks| (checks, windows)),
    }
}
