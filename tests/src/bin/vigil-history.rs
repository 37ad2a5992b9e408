//! Writes synthetic Prometheus history as OpenMetrics text, for promtool to backfill.
//!
//! `vigil-history --preset test --out FILE` writes the integration tests' histories;
//! `--preset demo` a week of four services ending at the last UTC midnight, its last day bad;
//! `--preset bench --services N` many services for the report benchmark; `--preset series`
//! one request counter per service for the anomaly-check benchmark.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Duration, DurationRound, Utc};
use clap::{Parser, ValueEnum};
use vigil_tests::{
    bench_history, burn_history, demo_history, ledger_history, test_history, write_histories,
};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Preset {
    Test,
    Demo,
    Bench,
    /// One request counter per service, for anomaly-check benchmarks.
    Series,
}

/// Writes synthetic Prometheus history with known ground truth.
#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    /// Which history to write.
    #[arg(long, value_enum)]
    preset: Preset,
    /// Where to write the OpenMetrics text.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The end of the history for `demo` and `bench` (RFC 3339); default: the last UTC midnight.
    #[arg(long, value_name = "TIME")]
    end: Option<DateTime<Utc>>,
    /// Services for `bench`.
    #[arg(long, default_value_t = 200)]
    services: usize,
    /// Step in seconds for `bench` and `series`.
    #[arg(long, default_value_t = 300)]
    step_seconds: i64,
    /// Hours of history for `bench` and `series`.
    #[arg(long, default_value_t = 48)]
    hours: i64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let end = args.end.unwrap_or_else(|| {
        Utc::now()
            .duration_trunc(Duration::days(1))
            .unwrap_or_else(|_| Utc::now())
    });
    let histories = match args.preset {
        Preset::Test => vec![test_history(), ledger_history(), burn_history()],
        Preset::Demo => vec![demo_history(end, 8)],
        Preset::Bench | Preset::Series => vec![bench_history(
            end,
            args.services,
            args.step_seconds,
            args.hours,
        )],
    };
    let written = File::create(&args.out).and_then(|file| {
        let mut out = BufWriter::new(file);
        if matches!(args.preset, Preset::Series) {
            histories[0].write_request_counters(&mut out)?;
        } else {
            write_histories(&histories.iter().collect::<Vec<_>>(), &mut out)?;
        }
        out.flush()
    });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!(
                "vigil-history: cannot write {}: {error}",
                args.out.display()
            );
            ExitCode::FAILURE
        }
    }
}
