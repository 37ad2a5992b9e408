//! The process around a job, shared by both functions: under Lambda it serves invocations;
//! elsewhere it runs one invocation of an event file, as the local-run flags ask. Either way
//! the handler sees the same [`Invocation`].

use std::fmt::{Debug, Display};
use std::future::Future;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;

use crate::event::read_event_file;
use crate::telemetry::Event;

/// One invocation: its event, its id and when it must be done.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The event, as sent.
    pub payload: Value,
    /// The Lambda request id (`local-<pid>` for a local run).
    pub request_id: String,
    /// When the invocation is stopped.
    pub deadline: SystemTime,
}

/// Whether the process runs under Lambda (`AWS_LAMBDA_RUNTIME_API` is set).
pub fn in_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// The AWS SDK's configuration from the environment, loaded once per process.
pub async fn aws_sdk() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// Logs `error` as `event` and gives the failing exit code.
pub fn failed(event: Event, error: &dyn Display) -> ExitCode {
    tracing::error!(error = %error, "{}", event);
    ExitCode::FAILURE
}

/// Runs `handler` on one local event file, `(path, timeout in seconds)`, or else on the Lambda
/// runtime's invocations.
pub async fn run<H, F, T, E>(local: Option<(&Path, u64)>, handler: H) -> ExitCode
where
    H: Fn(Invocation) -> F,
    F: Future<Output = Result<T, E>>,
    T: Serialize,
    E: Into<Diagnostic> + Debug,
{
    match local {
        Some((path, seconds)) => run_local(path, Duration::from_secs(seconds), handler).await,
        None => serve(handler).await,
    }
}

/// Serves Lambda invocations with `handler` until the runtime stops.
pub async fn serve<H, F, T, E>(handler: H) -> ExitCode
where
    H: Fn(Invocation) -> F,
    F: Future<Output = Result<T, E>>,
    T: Serialize,
    E: Into<Diagnostic> + Debug,
{
    let handler = &handler;
    let served = lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler(Invocation {
            request_id: event.context.request_id.clone(),
            deadline: event.context.deadline(),
            payload: event.payload,
        })
        .await
    }))
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => failed(Event::RuntimeFailed, &error),
    }
}

/// Runs one invocation of the event in the file at `path`, stopped after `timeout` like the
/// function; exits non-zero if it failed.
pub async fn run_local<H, F, T, E>(path: &Path, timeout: Duration, handler: H) -> ExitCode
where
    H: FnOnce(Invocation) -> F,
    F: Future<Output = Result<T, E>>,
{
    let payload = match read_event_file(path) {
        Ok(payload) => payload,
        Err(error) => return failed(Event::EventUnreadable, &error),
    };
    let request_id = format!("local-{}", std::process::id());
    let span = tracing::info_span!("invocation", requestId = %request_id);
    let invocation = Invocation {
        payload,
        request_id,
        deadline: SystemTime::now() + timeout,
    };
    match tracing::Instrument::instrument(handler(invocation), span).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}
