//! `anomaly-check score-csv`: the deployed decision, row by row, for offline evaluation.
//!
//! Reads `timestamp,value` CSV and writes `timestamp,value,anomaly_score,alert`. Each row is
//! one invocation of a default-settings custom check (direction both, medium sensitivity,
//! default lifecycle), replayed by [`Replay`]: `anomaly_score` is the row's score as evidence
//! of a new incident, and `alert` is 1 exactly on the rows where the lifecycle publishes a
//! *firing* message.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::process::ExitCode;

use chrono::{DateTime, NaiveDateTime};
use clap::ValueEnum;
use thiserror::Error;
use vigil_core::check::detector::tuning::Tuning;
use vigil_core::check::detector::{Detector, DetectorChoice};
use vigil_core::check::document::{build_checks, CheckSpec, ChecksDocument};
use vigil_core::check::model::Check;
use vigil_core::check::replay::Replay;
use vigil_core::config::Env;
use vigil_core::conventions::MetricConventions;

/// Input that cannot be scored.
#[derive(Debug, Error)]
pub enum ScoreCsvError {
    /// Reading or writing failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The header lacks `timestamp` or `value`.
    #[error("the header must name the columns timestamp and value, found {0:?}")]
    Header(String),
    /// A row's timestamp is not a time.
    #[error("row {row}: timestamp {found:?} is not YYYY-MM-DD HH:MM:SS or RFC 3339")]
    Timestamp {
        /// 1-based data row.
        row: usize,
        /// The text found.
        found: String,
    },
}

/// The detectors `--detector` names.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DetectorName {
    /// The default detector.
    RobustBaseline,
    /// The seed's rule, for comparison.
    RollingZscore,
}

impl From<DetectorName> for DetectorChoice {
    fn from(name: DetectorName) -> Self {
        match name {
            DetectorName::RobustBaseline => Self::RobustBaseline,
            DetectorName::RollingZscore => Self::RollingZScore,
        }
    }
}

/// The subcommand's flags.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The detector to score with.
    #[arg(long, value_enum, default_value_t = DetectorName::RobustBaseline)]
    pub detector: DetectorName,
    /// The check's score threshold, strictly between 0 and 1 (default: the medium
    /// sensitivity's); what `make quality`'s cross-validation chooses.
    #[arg(long, value_name = "SCORE", value_parser = score_threshold)]
    pub threshold: Option<f64>,
    /// A decision setting other than its default, `NAME=VALUE` (repeatable): rarity, floor,
    /// week_factor, memory_half_life, min_evaluations, sustained_points, daily_share
    /// (docs/alerts.md); what `make quality`'s cross-validation chooses.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = setting)]
    pub settings: Vec<String>,
}

fn setting(text: &str) -> Result<String, String> {
    Tuning::default()
        .set(text)
        .map(|()| text.to_owned())
        .map_err(|error| error.to_string())
}

fn score_threshold(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|t| *t > 0.0 && *t < 1.0)
        .ok_or_else(|| format!("{text:?} is not a number strictly between 0 and 1"))
}

/// The subcommand: scores stdin into stdout.
pub fn run(args: &Args) -> ExitCode {
    let detector = DetectorChoice::from(args.detector).build();
    let mut check = default_custom_check();
    if let Some(threshold) = args.threshold {
        check.threshold = threshold;
    }
    for setting in &args.settings {
        if let Err(error) = check.tuning.set(setting) {
            eprintln!("anomaly-check score-csv: --set {error}");
            return ExitCode::FAILURE;
        }
    }
    let input = BufReader::new(std::io::stdin().lock());
    let output = BufWriter::new(std::io::stdout().lock());
    match score_csv(input, output, detector.as_ref(), &check) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("anomaly-check score-csv: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The check `score-csv` evaluates: a custom check with every default.
pub fn default_custom_check() -> Check {
    let spec: CheckSpec =
        serde_json::from_value(serde_json::json!({"name": "score_csv", "query": "csv"}))
            .unwrap_or_else(|_| unreachable!("a name and a query make a valid spec"));
    let document = ChecksDocument {
        default_checks: false,
        checks: vec![spec],
        annotations: vigil_core::annotations::Annotations::default(),
        mute_windows: None,
    };
    let conventions = MetricConventions::from_env(&Env::default())
        .unwrap_or_else(|_| unreachable!("the default conventions are valid"));
    build_checks(document, &conventions)
        .ok()
        .and_then(|mut checks| checks.pop())
        .unwrap_or_else(|| unreachable!("a valid spec builds"))
}

fn parse_time(text: &str) -> Option<i64> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .map(|t| t.and_utc().timestamp())
        .ok()
        .or_else(|| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| t.timestamp())
        })
}

/// Scores `input` into `output` with `detector` and `check`.
///
/// # Errors
/// [`ScoreCsvError`] for unreadable input or a failed write.
pub fn score_csv(
    input: impl BufRead,
    mut output: impl Write,
    detector: &dyn Detector,
    check: &Check,
) -> Result<(), ScoreCsvError> {
    let mut lines = input.lines();
    let header = lines.next().transpose()?.unwrap_or_default();
    let columns: Vec<&str> = header.trim().split(',').map(str::trim).collect();
    let (Some(time_column), Some(value_column)) = (
        columns.iter().position(|c| *c == "timestamp"),
        columns.iter().position(|c| *c == "value"),
    ) else {
        return Err(ScoreCsvError::Header(header));
    };
    writeln!(output, "timestamp,value,anomaly_score,alert")?;
    let mut replay = Replay::new(check, detector);
    for (index, line) in lines.enumerate() {
        let line = line?;
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').collect();
        let timestamp = fields.get(time_column).copied().unwrap_or_default();
        let raw_value = fields.get(value_column).copied().unwrap_or_default();
        let now = parse_time(timestamp.trim()).ok_or_else(|| ScoreCsvError::Timestamp {
            row: index + 1,
            found: timestamp.to_owned(),
        })?;
        let decision = replay.push(now, raw_value.trim().parse::<f64>().unwrap_or(f64::NAN));
        writeln!(
            output,
            "{timestamp},{raw_value},{:.6},{}",
            decision.score,
            u8::from(decision.fired)
        )?;
    }
    output.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;
    use vigil_core::check::detector::RobustBaseline;

    fn run(csv: &str) -> Vec<(f64, u8)> {
        let mut out = Vec::new();
        score_csv(
            csv.as_bytes(),
            &mut out,
            &RobustBaseline::default(),
            &default_custom_check(),
        )
        .expect("scores");
        String::from_utf8(out)
            .expect("utf-8")
            .lines()
            .skip(1)
            .map(|line| {
                let fields: Vec<&str> = line.split(',').collect();
                (
                    fields[2].parse().expect("score"),
                    fields[3].parse().expect("alert"),
                )
            })
            .collect()
    }

    fn series(values: impl IntoIterator<Item = f64>) -> String {
        let mut csv = "timestamp,value\n".to_owned();
        for (i, value) in values.into_iter().enumerate() {
            let time =
                DateTime::from_timestamp(1_400_000_000 + 300 * i64::try_from(i).expect("small"), 0)
                    .expect("time");
            let _ = writeln!(csv, "{},{value}", time.format("%Y-%m-%d %H:%M:%S"));
        }
        csv
    }

    #[test]
    fn a_spike_alerts_once_on_its_row() {
        let values = (0..200).map(|i| {
            if i == 150 {
                500.0
            } else {
                100.0 + f64::from(i % 7)
            }
        });
        let rows = run(&series(values));
        assert_eq!(rows.len(), 200);
        let alerts: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.1 == 1)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(alerts, [150]);
        assert!(rows[150].0 > 0.9 && rows[149].0 < 0.5);
        assert!(rows.iter().all(|(score, _)| (0.0..=1.0).contains(score)));
    }

    #[test]
    fn a_sustained_anomaly_alerts_once_not_every_row() {
        let values = (0..300).map(|i| {
            if (150..170).contains(&i) {
                400.0
            } else {
                100.0 + f64::from(i % 7)
            }
        });
        let rows = run(&series(values));
        let alerts: usize = rows.iter().map(|r| usize::from(r.1)).sum();
        assert_eq!(alerts, 1);
        assert_eq!(rows[150].1, 1);
        assert!(
            rows[151..170].iter().all(|r| r.0 == 0.0),
            "while firing, no row is evidence of a new incident"
        );
    }

    #[test]
    fn the_threshold_flag_takes_a_score_strictly_between_0_and_1() {
        assert_eq!(score_threshold("0.55"), Ok(0.55));
        for bad in ["0", "1", "1.5", "-0.2", "NaN", "high"] {
            assert!(score_threshold(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_setting_flag_is_validated_and_changes_the_decision() {
        assert_eq!(setting("rarity=0.003"), Ok("rarity=0.003".to_owned()));
        let error = setting("rarity=2").expect_err("out of range");
        assert!(error.starts_with("rarity:"), "{error}");
        let values: Vec<f64> = (0..400).map(|i| 100.0 + f64::from(i % 7) * 3.0).collect();
        let spiky = series((0..400).map(|i| if i == 350 { 130.0 } else { values[i] }));
        let mut check = default_custom_check();
        let mut plain = Vec::new();
        score_csv(
            spiky.as_bytes(),
            &mut plain,
            &RobustBaseline::default(),
            &check,
        )
        .expect("scored");
        check.tuning.set("floor=0.99").expect("valid");
        check.tuning.set("min_evaluations=1").expect("valid");
        let mut strict = Vec::new();
        score_csv(
            spiky.as_bytes(),
            &mut strict,
            &RobustBaseline::default(),
            &check,
        )
        .expect("scored");
        assert_ne!(plain, strict, "the settings reach the decision");
    }

    #[test]
    fn bad_input_is_reported_with_its_row() {
        let mut out = Vec::new();
        let error = score_csv(
            "time,v\n".as_bytes(),
            &mut out,
            &RobustBaseline::default(),
            &default_custom_check(),
        )
        .expect_err("header");
        assert!(error.to_string().contains("timestamp and value"), "{error}");
        let error = score_csv(
            "timestamp,value\nyesterday,1\n".as_bytes(),
            &mut out,
            &RobustBaseline::default(),
            &default_custom_check(),
        )
        .expect_err("time");
        assert!(error.to_string().starts_with("row 1:"), "{error}");
        let rows = run("timestamp,value\n2014-01-01 00:00:00,abc\n");
        assert_eq!(rows, [(0.0, 0)], "an unreadable value is a missing point");
    }
}
