//! What `sla-report` reads from its environment, validated once at start-up.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono_tz::Tz;
use vigil_core::adapters::prometheus::PrometheusSettings;
use vigil_core::config::{ConfigError, Env, OneOf, SlosSource};
use vigil_core::conventions::MetricConventions;
use vigil_core::report::figures::{SlaPolicy, SloTarget};
use vigil_core::report::periods::PeriodKind;
use vigil_core::report::slos::SloSet;
use vigil_core::slo::window::Window;

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
    /// Where the SLO document comes from; read at start-up.
    pub slos: SlosSource,
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
    /// The SLOs judged over their windows: without an SLO document, one `availability` SLO
    /// per service over `SLO_WINDOW`.
    pub slos: SloSet,
    /// `REPORT_PERIODS`: the periods whose close writes a period report.
    pub periods: Vec<PeriodKind>,
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
        let prefix = env.report_prefix()?;
        let time_zone = env.report_time_zone()?;
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
        let window = env
            .parse_with(
                "SLO_WINDOW",
                "Nd (1 to 400 days, such as 30d), week, month or quarter",
                |text| Window::parse(text.trim()).ok_or("not a window"),
            )?
            .unwrap_or(Window::Rolling(30));
        let periods = report_periods(env)?;
        let slos = SlosSource::from_env(env)?;
        Ok(Self {
            prometheus: PrometheusSettings::from_env(env)?,
            output,
            slos,
            report: ReportSettings {
                prefix,
                time_zone,
                policy: SlaPolicy {
                    default_target,
                    overrides,
                },
                slos: SloSet::Default(window),
                periods,
                metrics,
                write_reserve: env.seconds("WRITE_RESERVE_SECONDS", Duration::from_secs(5))?,
            },
        })
    }
}

/// `REPORT_PERIODS`: the periods whose close writes a period report (default `month`).
fn report_periods(env: &Env) -> Result<Vec<PeriodKind>, ConfigError> {
    Ok(env
        .parse_with(
            "REPORT_PERIODS",
            "a comma-separated list of week, month and quarter, or none",
            |text| {
                let mut kinds = text
                    .split(',')
                    .map(str::trim)
                    .filter(|kind| !kind.is_empty() && *kind != "none")
                    .map(|kind| PeriodKind::parse(kind).ok_or(kind))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|kind| format!("{kind:?} is not week, month or quarter"))?;
                kinds.sort_unstable();
                kinds.dedup();
                Ok::<_, String>(kinds)
            },
        )?
        .unwrap_or_else(|| vec![PeriodKind::Month]))
}
