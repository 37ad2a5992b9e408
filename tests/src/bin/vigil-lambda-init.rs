//! Measures a function binary's Lambda init phase: process start to its first request for an
//! event on a local runtime API, with its configuration read and its SDK clients built.
//!
//! `vigil-lambda-init --binary target/lambda/sla-report/bootstrap --function sla-report`
//! starts it `--runs` times and prints one JSON line per run and a summary line.

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use vigil_tests::runtime_api::RuntimeApi;

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Function {
    SlaReport,
    AnomalyCheck,
}

/// Process start to first `GET /runtime/invocation/next`, over several cold starts.
#[derive(Debug, Parser)]
struct Args {
    /// The function's `bootstrap` (or any build of its binary).
    #[arg(long)]
    binary: PathBuf,
    /// Which function it is, for its configuration.
    #[arg(long, value_enum)]
    function: Function,
    /// Cold starts to measure.
    #[arg(long, default_value_t = 20)]
    runs: usize,
}

/// A deployed configuration that needs nothing remote at start-up (default checks; the
/// endpoints are only contacted by an invocation).
fn configuration(function: Function) -> Vec<(&'static str, &'static str)> {
    let mut env = vec![
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "init"),
        ("AWS_SECRET_ACCESS_KEY", "init"),
        ("AWS_SESSION_TOKEN", "init"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("PROMETHEUS_URL", "https://prometheus.example.com"),
    ];
    env.extend(match function {
        Function::SlaReport => vec![("REPORT_BUCKET", "vigil-init")],
        Function::AnomalyCheck => vec![
            ("STATE_BUCKET", "vigil-init"),
            (
                "ALERT_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:vigil",
            ),
        ],
    });
    env
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    let mut out = std::io::stdout().lock();
    let mut samples = Vec::with_capacity(args.runs);
    for run in 0..args.runs {
        let api = RuntimeApi::start().await;
        let started = Instant::now();
        let mut child = tokio::process::Command::new(&args.binary)
            .env_clear()
            .envs(api.function_environment("vigil-init", 256))
            .envs(configuration(args.function))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|error| format!("{}: {error}", args.binary.display()))?;
        let polled = api.first_poll(Duration::from_secs(10)).await;
        let _ = child.kill().await;
        let polled = polled.ok_or_else(|| {
            format!(
                "{} never asked for an event (exit: {:?})",
                args.binary.display(),
                child.try_wait()
            )
        })?;
        let init_ms = polled.duration_since(started).as_secs_f64() * 1000.0;
        writeln!(out, r#"{{"run": {run}, "init_ms": {init_ms:.2}}}"#).map_err(|e| e.to_string())?;
        samples.push(init_ms);
    }
    samples.sort_by(f64::total_cmp);
    let at = |percent: usize| samples[(samples.len() - 1) * percent / 100];
    writeln!(
        out,
        r#"{{"binary": "{}", "runs": {}, "min_ms": {:.2}, "median_ms": {:.2}, "p90_ms": {:.2}, "max_ms": {:.2}}}"#,
        args.binary.display(),
        samples.len(),
        at(0),
        at(50),
        at(90),
        at(100)
    )
    .map_err(|e| e.to_string())
}
