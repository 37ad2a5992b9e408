//! A local Lambda runtime API: the `2018-06-01` HTTP interface a `provided.al2023` function
//! polls for events and answers on.
//!
//! Start one, run a function binary with `AWS_LAMBDA_RUNTIME_API` set to [`RuntimeApi::address`]
//! (and the other variables from [`RuntimeApi::function_environment`]), then
//! [`RuntimeApi::invoke`] it: the event is handed out on the function's next
//! `GET /runtime/invocation/next`, and the call returns what the function posted to
//! `/response` or `/error`. The first poll's instant is kept, so process start to first poll
//! (Lambda's init phase) can be measured.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, Notify};

const PREFIX: &str = "/2018-06-01/runtime/";

/// How a function answered one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `POST /invocation/{id}/response` with this JSON body.
    Response(serde_json::Value),
    /// `POST /invocation/{id}/error` (or `/init/error`).
    Error {
        /// `errorType` of the body: `Retryable.…` or `NonRetryable.…` for Vigil.
        error_type: String,
        /// `errorMessage` of the body.
        message: String,
    },
}

struct Invocation {
    request_id: String,
    deadline: SystemTime,
    event: Bytes,
}

struct Shared {
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<Outcome>>,
    first_poll: Mutex<Option<Instant>>,
    polled: Notify,
}

/// A runtime API server on a free loopback port; it stops when dropped.
pub struct RuntimeApi {
    address: SocketAddr,
    events: mpsc::UnboundedSender<Invocation>,
    shared: Arc<Shared>,
    next_id: AtomicU64,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Binds a free loopback port and serves the runtime API on it.
    ///
    /// # Panics
    /// If no loopback port can be bound.
    pub async fn start() -> Self {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind a loopback port");
        let address = listener.local_addr().expect("bound address");
        let (events, queue) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queue: tokio::sync::Mutex::new(queue),
            waiting: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
            first_poll: Mutex::new(None),
            polled: Notify::new(),
        });
        let state = shared.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(route(&state, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            address,
            events,
            shared,
            next_id: AtomicU64::new(1),
            server,
        }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// The variables Lambda sets for every function, pointing at this server.
    pub fn function_environment(&self, name: &str, memory_mb: u32) -> Vec<(String, String)> {
        [
            ("AWS_LAMBDA_RUNTIME_API", self.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", name.to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "local".to_owned()),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
            ("AWS_LAMBDA_LOG_LEVEL", "INFO".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Hands `event` to the function's next poll, with `timeout` as its deadline, and waits
    /// for the answer (at most `timeout` plus a second).
    ///
    /// # Panics
    /// If the function does not answer in time, or the server stopped.
    pub async fn invoke(&self, event: &serde_json::Value, timeout: Duration) -> Outcome {
        let request_id = format!(
            "00000000-0000-4000-8000-{:012}",
            self.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let (answer, answered) = oneshot::channel();
        self.shared
            .waiting
            .lock()
            .expect("lock")
            .insert(request_id.clone(), answer);
        self.events
            .send(Invocation {
                request_id: request_id.clone(),
                deadline: SystemTime::now() + timeout,
                event: Bytes::from(serde_json::to_vec(event).expect("event serialises")),
            })
            .expect("server running");
        tokio::time::timeout(timeout + Duration::from_secs(1), answered)
            .await
            .unwrap_or_else(|_| panic!("invocation {request_id} not answered within {timeout:?}"))
            .expect("server running")
    }

    /// When the function first asked for an event, waiting up to `limit` for it.
    ///
    /// # Panics
    /// If a server task panicked while holding the lock.
    pub async fn first_poll(&self, limit: Duration) -> Option<Instant> {
        let polled = self.shared.polled.notified();
        if let Some(at) = *self.shared.first_poll.lock().expect("lock") {
            return Some(at);
        }
        let _ = tokio::time::timeout(limit, polled).await;
        *self.shared.first_poll.lock().expect("lock")
    }

    /// What the function posted to `/init/error`, if anything.
    ///
    /// # Panics
    /// If a server task panicked while holding the lock.
    pub fn init_error(&self) -> Option<Outcome> {
        self.shared.init_error.lock().expect("lock").clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn route(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return status(StatusCode::NOT_FOUND);
    };
    let body = request
        .into_body()
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    match (method, rest.split('/').collect::<Vec<_>>().as_slice()) {
        (Method::GET, ["invocation", "next"]) => next(shared).await,
        (Method::POST, ["invocation", id, kind @ ("response" | "error")]) => {
            let outcome = if *kind == "response" {
                match serde_json::from_slice(&body) {
                    Ok(value) => Outcome::Response(value),
                    Err(_) => return status(StatusCode::BAD_REQUEST),
                }
            } else {
                error_outcome(&body)
            };
            match shared.waiting.lock().expect("lock").remove(*id) {
                Some(answer) => {
                    let _ = answer.send(outcome);
                    status(StatusCode::ACCEPTED)
                }
                None => status(StatusCode::BAD_REQUEST),
            }
        }
        (Method::POST, ["init", "error"]) => {
            *shared.init_error.lock().expect("lock") = Some(error_outcome(&body));
            status(StatusCode::ACCEPTED)
        }
        _ => status(StatusCode::NOT_FOUND),
    }
}

async fn next(shared: &Shared) -> Response<Full<Bytes>> {
    {
        let mut first = shared.first_poll.lock().expect("lock");
        if first.is_none() {
            *first = Some(Instant::now());
            shared.polled.notify_waiters();
        }
    }
    let Some(invocation) = shared.queue.lock().await.recv().await else {
        return status(StatusCode::GONE);
    };
    let deadline_ms = invocation
        .deadline
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", &invocation.request_id)
        .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
        .header(
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:123456789012:function:local",
        )
        .header(
            "lambda-runtime-trace-id",
            "Root=1-00000000-000000000000000000000000;Sampled=0",
        )
        .body(Full::new(invocation.event))
        .expect("response")
}

fn error_outcome(body: &[u8]) -> Outcome {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = |name: &str| value[name].as_str().unwrap_or_default().to_owned();
    Outcome::Error {
        error_type: field("errorType"),
        message: field("errorMessage"),
    }
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    Response::builder()
        .status(code)
        .body(Full::new(Bytes::new()))
        .expect("response")
}
