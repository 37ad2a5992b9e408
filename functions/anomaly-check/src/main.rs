//! `anomaly-check` entry point, wiring only: under Lambda it serves invocations; elsewhere
//! `--event FILE` runs one and exits non-zero if it failed, `score-csv` scores
//! `timestamp,value` CSV from stdin (no configuration needed), and `silence add | list |
//! expire` manages the silences the check reads.

use std::path::PathBuf;
use std::process::ExitCode;

use anomaly_check::{connect, invoke, score_csv, silence_cli, AnomalyCheckConfig};
use clap::{Parser, Subcommand};
use vigil_core::{config::Env, runtime, runtime::Invocation, telemetry, telemetry::Event};

/// Runs one anomaly-check invocation locally, with the same environment configuration as the
/// Lambda function, or scores CSV offline.
#[derive(Debug, Parser)]
#[command(
    version,
    about,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The scheduled event to run, as JSON (see events/).
    #[arg(long, value_name = "FILE", required = true)]
    event: Option<PathBuf>,
    /// The invocation's time limit, like the Lambda function's timeout.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout_seconds: u64,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Reads `timestamp,value` CSV on stdin; writes `timestamp,value,anomaly_score,alert`.
    ScoreCsv(score_csv::Args),
    /// Adds, lists or expires silences (`SILENCES_S3_URI` or `SILENCES_FILE`).
    Silence(silence_cli::Args),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = (!runtime::in_lambda()).then(Cli::parse);
    match cli.as_ref().and_then(|c| c.command.as_ref()) {
        Some(Command::ScoreCsv(args)) => return score_csv::run(args),
        Some(Command::Silence(args)) => return silence_cli::run(args).await,
        None => {}
    }
    telemetry::init();
    let config = match AnomalyCheckConfig::from_env(&Env::from_process()) {
        Ok(config) => config,
        Err(error) => return runtime::failed(Event::ConfigRejected, &error),
    };
    let job = &match connect(config, &runtime::aws_sdk().await).await {
        Ok(job) => job,
        Err(error) => return runtime::failed(Event::StartupFailed, &error),
    };
    let handler = move |i: Invocation| async move {
        invoke(job, &i.payload, &i.request_id, i.deadline).await
    };
    let local = cli
        .as_ref()
        .and_then(|c| Some((c.event.as_deref()?, c.timeout_seconds)));
    runtime::run(local, handler).await
}
