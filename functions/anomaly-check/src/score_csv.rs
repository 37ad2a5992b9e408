//! `anomaly-check score-csv`: the deployed decision, row by row, for offline evaluation.
//!
//! Reads `timestamp,value` CSV and writes `timestamp,value,anomaly_score,alert`. Each row is
//! treated as one invocation of a default-settings custom check (direction both, medium
//! sensitivity, default lifecycle) whose window holds the rows the Lambda would read: the row
//! itself and the `window_points − 1` rows before it, their spacing the evaluation step (the
//! memory's [`vigil_core::memory::Pace`]), and the series' score memory carries from row to
//! row. `anomaly_score` is the row's score in proportion to that memory, as evidence of a new
//! incident ([`opening_score`]: 0 while the series' alert is pending or firing, scaled to the
//! re-fire bar just after one; 0 where it cannot score), and `alert` is 1 exactly on the rows
//! where the lifecycle publishes a *firing* message. The row's timestamp is the evaluation
//! time, so hold, repeat and clear durations mean what they mean in production.

use std::io::{BufRead, Write};

use chrono::{DateTime, NaiveDateTime};
use thiserror::Error;
use vigil_core::alert::{AlertState, Observation, Transition};
use vigil_core::anomaly::{evaluate_window, mask_incident, opening_score, plan_check, AlertRecord};
use vigil_core::checks::{Check, CheckSpec};
use vigil_core::detect::Detector;
use vigil_core::memory::Memory;

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

/// The check `score-csv` evaluates: a custom check with every default.
pub fn default_custom_check() -> Check {
    let spec: CheckSpec =
        serde_json::from_value(serde_json::json!({"name": "score_csv", "query": "csv"}))
            .unwrap_or_else(|_| unreachable!("a name and a query make a valid spec"));
    let document = vigil_core::checks::ChecksDocument {
        default_checks: false,
        checks: vec![spec],
    };
    let conventions =
        vigil_core::conventions::MetricConventions::from_env(&vigil_core::config::Env::default())
            .unwrap_or_else(|_| unreachable!("the default conventions are valid"));
    vigil_core::checks::build_checks(document, &conventions)
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
    let capacity = check.window_points();
    let mut window: std::collections::VecDeque<(i64, f64)> =
        std::collections::VecDeque::with_capacity(capacity + 1);
    let mut records: Vec<AlertRecord> = Vec::new();
    let mut scratch = Vec::with_capacity(capacity);
    let mut times = Vec::with_capacity(capacity);
    let mut memory = Memory::default();
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
        window.push_back((now, raw_value.trim().parse::<f64>().unwrap_or(f64::NAN)));
        if window.len() > capacity {
            window.pop_front();
        }
        scratch.clear();
        scratch.extend(window.iter().map(|(_, value)| *value));
        // The series' own latest incident is not part of its normal, as in the Lambda.
        mask_incident(
            &mut scratch,
            window.iter().map(|(time, _)| *time),
            records
                .first()
                .filter(|r| matches!(r.state, AlertState::Recovered { .. }))
                .and_then(|r| r.incident),
        );
        times.clear();
        times.extend(window.iter().map(|(time, _)| *time));
        let evaluation = evaluate_window(check, detector, &scratch, &times, None, Some(&memory));
        let state = records.first().map(|r| r.state);
        let span = times
            .last()
            .zip(times.first())
            .map_or(0, |(last, first)| last - first);
        memory.observe(
            evaluation.detector_scores,
            evaluation.reading.value,
            evaluation.judged(check, span),
            now,
        );
        let (observation, reading) = (evaluation.observation, evaluation.reading);
        let plan = plan_check(check, vec![evaluation], &records, now);
        records = plan.next;
        let mut fired = false;
        for (notification, record) in plan.notifications {
            fired |= notification.transition == Transition::Firing;
            records.extend(record);
        }
        debug_assert!(observation != Observation::Anomalous || reading.score > Some(0.0));
        let score = opening_score(check, state, reading.score.unwrap_or(0.0), now);
        writeln!(
            output,
            "{timestamp},{raw_value},{score:.6},{}",
            u8::from(fired)
        )?;
    }
    output.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;
    use vigil_core::detect::RobustBaseline;

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
