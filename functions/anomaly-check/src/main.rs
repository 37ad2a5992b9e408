//! `anomaly-check` entry point: wiring only.
//!
//! Under Lambda (`AWS_LAMBDA_RUNTIME_API` set) it serves invocations. Elsewhere:
//! `anomaly-check --event FILE` runs one invocation and exits non-zero if it failed;
//! `anomaly-check score-csv` scores `timestamp,value` CSV from stdin (no configuration needed).

use std::io::{BufReader, BufWriter};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anomaly_check::score_csv::{default_custom_check, score_csv};
use anomaly_check::{connect, invoke, AnomalyCheckConfig, DetectorChoice};
use clap::{Parser, Subcommand, ValueEnum};
use lambda_runtime::{service_fn, LambdaEvent};
use vigil_core::config::Env;
use vigil_core::telemetry;

/// Runs one anomaly-check invocation locally, with the same environment configuration as the
/// Lambda function, or scores CSV offline.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The scheduled event to run, as JSON (see events/).
    #[arg(long, value_name = "FILE")]
    event: Option<PathBuf>,
    /// The invocation's time limit, like the Lambda function's timeout.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    timeout_seconds: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DetectorName {
    RobustBaseline,
    RollingZscore,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Reads `timestamp,value` CSV on stdin; writes `timestamp,value,anomaly_score,alert`.
    ScoreCsv {
        /// The detector to score with.
        #[arg(long, value_enum, default_value_t = DetectorName::RobustBaseline)]
        detector: DetectorName,
    },
}

fn score(detector: DetectorName) -> ExitCode {
    let detector = match detector {
        DetectorName::RobustBaseline => DetectorChoice::RobustBaseline,
        DetectorName::RollingZscore => DetectorChoice::RollingZScore,
    }
    .build();
    let input = BufReader::new(std::io::stdin().lock());
    let output = BufWriter::new(std::io::stdout().lock());
    match score_csv(input, output, detector.as_ref(), &default_custom_check()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("anomaly-check score-csv: {error}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let in_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let cli = if in_lambda { None } else { Some(Cli::parse()) };
    if let Some(Cli {
        command: Some(Command::ScoreCsv { detector }),
        ..
    }) = cli
    {
        return score(detector);
    }
    telemetry::init();
    let config = match AnomalyCheckConfig::from_env(&Env::from_process()) {
        Ok(config) => config,
        Err(error) => {
            tracing::error!(error = %error, "ConfigRejected");
            return ExitCode::FAILURE;
        }
    };
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let job = match connect(config, &sdk).await {
        Ok(job) => job,
        Err(error) => {
            tracing::error!(error = %error, "StartupFailed");
            return ExitCode::FAILURE;
        }
    };

    let Some(cli) = cli else {
        let job = &job;
        let served = lambda_runtime::run(service_fn(
            move |event: LambdaEvent<serde_json::Value>| async move {
                invoke(
                    job,
                    &event.payload,
                    &event.context.request_id,
                    event.context.deadline(),
                )
                .await
            },
        ))
        .await;
        return match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!(error = %error, "RuntimeFailed");
                ExitCode::FAILURE
            }
        };
    };
    let Some(path) = cli.event else {
        tracing::error!("give --event FILE to run one invocation, or use score-csv");
        return ExitCode::FAILURE;
    };
    let event = match vigil_core::schedule::read_event_file(&path) {
        Ok(event) => event,
        Err(error) => {
            tracing::error!(error = %error, "EventUnreadable");
            return ExitCode::FAILURE;
        }
    };
    let request_id = format!("local-{}", std::process::id());
    let span = tracing::info_span!("invocation", requestId = %request_id);
    let deadline = SystemTime::now() + Duration::from_secs(cli.timeout_seconds);
    let result =
        tracing::Instrument::instrument(invoke(&job, &event, &request_id, deadline), span).await;
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
