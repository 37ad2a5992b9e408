//! `sla-report` entry point: wiring only.
//!
//! Under Lambda (`AWS_LAMBDA_RUNTIME_API` set) it serves invocations; elsewhere
//! `sla-report --event FILE` runs one invocation and exits non-zero if it failed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::Parser;
use lambda_runtime::{service_fn, LambdaEvent};
use sla_report::{connect, invoke, SlaReportConfig};
use vigil_core::config::Env;
use vigil_core::telemetry;

/// Runs one SLA report invocation locally, with the same environment configuration as the
/// Lambda function.
#[derive(Debug, Parser)]
#[command(version, about)]
struct LocalRun {
    /// The scheduled event to run, as JSON (see events/).
    #[arg(long, value_name = "FILE")]
    event: PathBuf,
    /// The invocation's time limit, like the Lambda function's timeout.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    timeout_seconds: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init();
    let local = if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        None
    } else {
        Some(LocalRun::parse())
    };
    let config = match SlaReportConfig::from_env(&Env::from_process()) {
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

    let Some(local) = local else {
        let job = &job;
        let served = lambda_runtime::run(service_fn(
            move |event: LambdaEvent<serde_json::Value>| async move {
                invoke(job, &event.payload, event.context.deadline()).await
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
    let event = match vigil_core::schedule::read_event_file(&local.event) {
        Ok(event) => event,
        Err(error) => {
            tracing::error!(error = %error, "EventUnreadable");
            return ExitCode::FAILURE;
        }
    };
    let span =
        tracing::info_span!("invocation", requestId = %format!("local-{}", std::process::id()));
    let deadline = SystemTime::now() + Duration::from_secs(local.timeout_seconds);
    let result = tracing::Instrument::instrument(invoke(&job, &event, deadline), span).await;
    if result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
