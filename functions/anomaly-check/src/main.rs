//! `anomaly-check` entry point. Until its own issue lands it only wires what every Vigil
//! function shares: JSON logs and validated Prometheus configuration. Invocations fail with a
//! non-retryable error that says the check is not built yet, so nothing pretends to watch.

use std::process::ExitCode;

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use vigil_core::config::Env;
use vigil_core::prometheus::PrometheusSettings;
use vigil_core::telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init();
    let settings = match PrometheusSettings::from_env(&Env::from_process()) {
        Ok(settings) => settings,
        Err(error) => {
            tracing::error!(error = %error, "ConfigRejected");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(prometheus_url = %settings.url, "ConfigLoaded");
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        tracing::error!("anomaly detection is not implemented yet");
        return ExitCode::FAILURE;
    }
    let served = lambda_runtime::run(service_fn(|_: LambdaEvent<serde_json::Value>| async {
        Err::<(), _>(Diagnostic {
            error_type: "NonRetryable.NotImplemented".to_owned(),
            error_message: "anomaly detection is not implemented yet".to_owned(),
        })
    }))
    .await;
    if served.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
