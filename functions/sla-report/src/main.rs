//! `sla-report` entry point, wiring only: under Lambda (`AWS_LAMBDA_RUNTIME_API` set) it
//! serves invocations; elsewhere `sla-report --event FILE` runs one invocation and exits
//! non-zero if it failed.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use sla_report::{connect, invoke, SlaReportConfig};
use vigil_core::{config::Env, runtime, runtime::Invocation, telemetry, telemetry::Event};

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
    let local = (!runtime::in_lambda()).then(LocalRun::parse);
    let config = match SlaReportConfig::from_env(&Env::from_process()) {
        Ok(config) => config,
        Err(error) => return runtime::failed(Event::ConfigRejected, &error),
    };
    let job = &match connect(config, &runtime::aws_sdk().await).await {
        Ok(job) => job,
        Err(error) => return runtime::failed(Event::StartupFailed, &error),
    };
    let handler = move |i: Invocation| async move { invoke(job, &i.payload, i.deadline).await };
    let local = local
        .as_ref()
        .map(|l| (l.event.as_path(), l.timeout_seconds));
    runtime::run(local, handler).await
}
