//! The HTTP adapter: requests, authentication, retries and response decoding.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use http::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use http::HeaderValue;
use url::Url;

use super::wire::Envelope;
use super::{PrometheusError, QueryResponse};
use crate::adapters::aws::secrets::Secret;
use crate::deadline::Deadline;

/// Encoded parameters longer than this go as a POST form body instead of a URL query.
const MAX_GET_PARAMS_BYTES: usize = 2_000;
/// How much of an unexpected body is kept for the error message.
const BODY_START_CHARS: usize = 200;
/// Bytes kept of a streamed body for its first characters (UTF-8: at most 4 a character).
const BODY_START_BYTES: usize = 4 * BODY_START_CHARS;
/// An attempt is not started with less time than this left before the deadline.
const MIN_ATTEMPT_TIME: Duration = Duration::from_millis(100);

/// How the client authenticates.
#[derive(Clone)]
pub enum Auth {
    /// No authentication.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// HTTP basic authentication.
    Basic {
        /// The user name (Grafana Cloud: the instance id).
        username: String,
        /// The password or API token.
        password: Secret,
    },
    /// AWS SigV4 for Amazon Managed Service for Prometheus (service `aps`).
    SigV4 {
        /// The region of the workspace.
        region: String,
        /// Where credentials come from (the Lambda's role).
        credentials: SharedCredentialsProvider,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Self::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Self::SigV4 { region, .. } => write!(f, "SigV4({region})"),
        }
    }
}

/// Everything the client is built from.
#[derive(Debug, Clone)]
pub struct PrometheusClientOptions {
    /// The API root, e.g. `http://prometheus:9090/` or a Mimir `.../prometheus/` prefix.
    pub base_url: Url,
    /// Authentication.
    pub auth: Auth,
    /// Extra headers on every request, e.g. `X-Scope-OrgID`.
    pub headers: HeaderMap,
    /// The longest one attempt may take (also sent to Prometheus as `timeout`).
    pub request_timeout: Duration,
    /// The first retry delay; later ones grow exponentially, with jitter.
    pub retry_min_delay: Duration,
    /// The longest delay between two attempts.
    pub retry_max_delay: Duration,
}

/// A Prometheus HTTP API client. Cheap to clone; build it once per process.
#[derive(Debug, Clone)]
pub struct PrometheusClient {
    http: reqwest::Client,
    options: PrometheusClientOptions,
    query_url: Url,
    query_range_url: Url,
}

enum Endpoint {
    Query,
    QueryRange,
}

impl PrometheusClient {
    /// Builds the client.
    ///
    /// # Errors
    /// [`PrometheusError::Transport`] when the HTTP client cannot be built (TLS set-up).
    pub fn new(mut options: PrometheusClientOptions) -> Result<Self, PrometheusError> {
        if !options.base_url.path().ends_with('/') {
            let path = format!("{}/", options.base_url.path());
            options.base_url.set_path(&path);
        }
        let query_url = options
            .base_url
            .join("api/v1/query")
            .map_err(request_error)?;
        let query_range_url = options
            .base_url
            .join("api/v1/query_range")
            .map_err(request_error)?;
        // rustls needs a process-wide crypto provider; the AWS SDK uses the same one.
        // Installing fails only when one is already installed, which is fine.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|source| PrometheusError::Transport { source })?;
        Ok(Self {
            http,
            options,
            query_url,
            query_range_url,
        })
    }

    /// Evaluates an instant query at `time`.
    ///
    /// # Errors
    /// Any [`PrometheusError`]; retryable failures are retried until `deadline`.
    pub async fn query(
        &self,
        query: &str,
        time: DateTime<Utc>,
        deadline: Deadline,
    ) -> Result<QueryResponse, PrometheusError> {
        let params = vec![("query", query.to_owned()), ("time", unix_seconds(time))];
        self.with_retries(Endpoint::Query, params, deadline).await
    }

    /// Evaluates a range query over `[start, end]` every `step`.
    ///
    /// # Errors
    /// Any [`PrometheusError`]; retryable failures are retried until `deadline`.
    pub async fn query_range(
        &self,
        query: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: Duration,
        deadline: Deadline,
    ) -> Result<QueryResponse, PrometheusError> {
        let params = vec![
            ("query", query.to_owned()),
            ("start", unix_seconds(start)),
            ("end", unix_seconds(end)),
            ("step", format!("{}", step.as_secs_f64())),
        ];
        self.with_retries(Endpoint::QueryRange, params, deadline)
            .await
    }

    async fn with_retries(
        &self,
        endpoint: Endpoint,
        params: Vec<(&'static str, String)>,
        deadline: Deadline,
    ) -> Result<QueryResponse, PrometheusError> {
        let attempts = AtomicU32::new(0);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.options.retry_min_delay)
            .with_max_delay(self.options.retry_max_delay)
            .with_jitter()
            .without_max_times();
        let result = (|| async {
            attempts.fetch_add(1, Ordering::Relaxed);
            self.attempt(&endpoint, &params, deadline).await
        })
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(PrometheusError::is_retryable)
        .adjust(|error, delay| {
            let wait = error.retry_after().or(delay)?;
            deadline.allows(wait, MIN_ATTEMPT_TIME).then_some(wait)
        })
        .notify(|error, wait| {
            tracing::warn!(
                error = %error,
                attempt = attempts.load(Ordering::Relaxed),
                retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "{}",
                crate::telemetry::Event::QueryRetried
            );
        })
        .await;
        match result {
            Err(last) if last.is_retryable() => Err(PrometheusError::DeadlineExceeded {
                attempts: attempts.load(Ordering::Relaxed),
                last: Box::new(last),
            }),
            other => other,
        }
    }

    async fn attempt(
        &self,
        endpoint: &Endpoint,
        params: &[(&'static str, String)],
        deadline: Deadline,
    ) -> Result<QueryResponse, PrometheusError> {
        let remaining = deadline.remaining();
        if remaining < MIN_ATTEMPT_TIME {
            return Err(PrometheusError::NoTimeLeft);
        }
        let timeout = self.options.request_timeout.min(remaining);
        let mut params = params.to_vec();
        params.push(("timeout", format!("{}ms", timeout.as_millis())));
        let request = self.build_request(endpoint, &params, timeout).await?;
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|source| PrometheusError::Transport { source })?;
        decode(response).await
    }

    async fn build_request(
        &self,
        endpoint: &Endpoint,
        params: &[(&'static str, String)],
        timeout: Duration,
    ) -> Result<reqwest::Request, PrometheusError> {
        let mut url = match endpoint {
            Endpoint::Query => self.query_url.clone(),
            Endpoint::QueryRange => self.query_range_url.clone(),
        };
        let encoded = serde_urlencoded::to_string(params).map_err(request_error)?;
        let mut builder = if encoded.len() <= MAX_GET_PARAMS_BYTES {
            url.set_query(Some(&encoded));
            http::Request::get(url.as_str())
        } else {
            http::Request::post(url.as_str()).header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
        };
        for (name, value) in &self.options.headers {
            builder = builder.header(name, value);
        }
        let body = if url.query().is_some() {
            Vec::new()
        } else {
            encoded.into_bytes()
        };
        let mut request = builder.body(body).map_err(request_error)?;
        match &self.options.auth {
            Auth::None => {}
            Auth::Bearer(token) => {
                let value = sensitive_header(&format!("Bearer {}", token.expose()))?;
                request.headers_mut().insert(AUTHORIZATION, value);
            }
            Auth::Basic { username, password } => {
                let credentials =
                    base64_encode(format!("{username}:{}", password.expose()).as_bytes());
                let value = sensitive_header(&format!("Basic {credentials}"))?;
                request.headers_mut().insert(AUTHORIZATION, value);
            }
            Auth::SigV4 {
                region,
                credentials,
            } => sign_sigv4(&mut request, region, credentials).await?,
        }
        let mut request = reqwest::Request::try_from(request).map_err(request_error)?;
        *request.timeout_mut() = Some(timeout);
        Ok(request)
    }
}

async fn sign_sigv4(
    request: &mut http::Request<Vec<u8>>,
    region: &str,
    credentials: &SharedCredentialsProvider,
) -> Result<(), PrometheusError> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;

    let identity = credentials
        .provide_credentials()
        .await
        .map_err(request_error)?
        .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("aps")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(request_error)?
        .into();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| value.to_str().map(|value| (name.as_str(), value)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(request_error)?;
    let uri = request.uri().to_string();
    let signable = SignableRequest::new(
        request.method().as_str(),
        &uri,
        headers.into_iter(),
        SignableBody::Bytes(request.body()),
    )
    .map_err(request_error)?;
    let (instructions, _signature) = sign(signable, &params).map_err(request_error)?.into_parts();
    instructions.apply_to_request_http1x(request);
    Ok(())
}

async fn decode(response: reqwest::Response) -> Result<QueryResponse, PrometheusError> {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("unknown")
        .to_owned();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_retry_after);
    let success = (200..300).contains(&status);
    if success && content_type.starts_with("application/json") {
        return decode_streaming(response, content_type).await;
    }
    let body = response
        .bytes()
        .await
        .map_err(|source| PrometheusError::Transport { source })?;
    match serde_json::from_slice::<Envelope>(&body) {
        Ok(Envelope::Error {
            error_type, error, ..
        }) => Err(PrometheusError::Api {
            status,
            error_type,
            message: error,
            retry_after,
        }),
        Ok(Envelope::Success {
            data,
            warnings,
            infos,
        }) if success => Ok(QueryResponse::with_notices(data, warnings, infos)),
        Err(source) if success => Err(undecodable(&body, body.len(), content_type, source)),
        _ => Err(PrometheusError::Http {
            status,
            content_type,
            body_start: body_start(&body),
            retry_after,
        }),
    }
}

/// Parses a JSON success body as it arrives, on a blocking thread, without ever holding the
/// whole body: a range result for 10,000 series is over 100 MB of JSON.
async fn decode_streaming(
    response: reqwest::Response,
    content_type: String,
) -> Result<QueryResponse, PrometheusError> {
    use futures_util::TryStreamExt as _;

    let stream = response.bytes_stream().map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(stream);
    let (parsed, head, received) = tokio::task::spawn_blocking(move || {
        let mut body = Recorded::new(tokio_util::io::SyncIoBridge::new(reader));
        let parsed = serde_json::from_reader::<_, Envelope>(std::io::BufReader::with_capacity(
            64 * 1024,
            &mut body,
        ));
        (parsed, body.head, body.received)
    })
    .await
    .map_err(request_error)?;
    match parsed {
        Ok(Envelope::Success {
            data,
            warnings,
            infos,
        }) => Ok(QueryResponse::with_notices(data, warnings, infos)),
        Ok(Envelope::Error {
            error_type, error, ..
        }) => Err(PrometheusError::Api {
            status: 200,
            error_type,
            message: error,
            retry_after: None,
        }),
        Err(source) if source.is_io() => Err(PrometheusError::Body { source }),
        Err(source) => Err(undecodable(&head, received, content_type, source)),
    }
}

/// A 2xx body that did not parse as the API's envelope: cut short or garbled part-way when it
/// began as a JSON object and broke off (the end of input, or a syntax error after the
/// start), else not the API at all.
fn undecodable(
    head: &[u8],
    received: usize,
    content_type: String,
    source: serde_json::Error,
) -> PrometheusError {
    let began_as_json = head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if began_as_json && (source.is_eof() || source.is_syntax()) {
        PrometheusError::Truncated {
            content_type,
            received,
            body_start: body_start(head),
            source,
        }
    } else {
        PrometheusError::Decode {
            content_type,
            body_start: body_start(head),
            source,
        }
    }
}

/// A reader that keeps the first bytes it passes on, and counts them all.
struct Recorded<R> {
    inner: R,
    head: Vec<u8>,
    received: usize,
}

impl<R> Recorded<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            head: Vec::with_capacity(BODY_START_BYTES),
            received: 0,
        }
    }
}

impl<R: std::io::Read> std::io::Read for Recorded<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        let keep = read.min(BODY_START_BYTES.saturating_sub(self.head.len()));
        self.head.extend_from_slice(&buffer[..keep]);
        self.received += read;
        Ok(read)
    }
}

/// `Retry-After` in delta-seconds; HTTP dates are not used by Prometheus or its proxies.
fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn body_start(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .take(BODY_START_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn unix_seconds(time: DateTime<Utc>) -> String {
    let millis = time.timestamp_millis();
    if millis % 1000 == 0 {
        (millis / 1000).to_string()
    } else {
        format!("{}.{:03}", millis.div_euclid(1000), millis.rem_euclid(1000))
    }
}

fn sensitive_header(value: &str) -> Result<HeaderValue, PrometheusError> {
    let mut value = HeaderValue::from_str(value).map_err(request_error)?;
    value.set_sensitive(true);
    Ok(value)
}

fn request_error(error: impl std::error::Error + Send + Sync + 'static) -> PrometheusError {
    PrometheusError::Request {
        source: Box::new(error),
    }
}

fn base64_encode(input: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(body: &str) -> PrometheusError {
        let source =
            serde_json::from_reader::<_, Envelope>(body.as_bytes()).expect_err("not an envelope");
        undecodable(
            body.as_bytes(),
            body.len(),
            "application/json".to_owned(),
            source,
        )
    }

    #[test]
    fn a_body_cut_short_is_a_fault_on_the_way_and_not_the_api_is_not() {
        let whole = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"service":"api"},"value":[1,"2"]}]}}"#;
        for cut in [whole.len() / 2, 3, whole.len() - 1] {
            let error = classify(&whole[..cut]);
            assert!(
                matches!(error, PrometheusError::Truncated { received, .. } if received == cut),
                "{error}"
            );
            assert!(error.is_retryable());
            assert!(
                error.to_string().contains(r#"body starts "{\"s"#),
                "{error}"
            );
        }
        let garbled = format!("{}\u{0}garbage", &whole[..40]);
        assert!(matches!(
            classify(&garbled),
            PrometheusError::Truncated { .. }
        ));
        for not_the_api in ["<html>Sign in</html>", r#"{"hello": "world"}"#, "[1, 2]"] {
            let error = classify(not_the_api);
            assert!(matches!(error, PrometheusError::Decode { .. }), "{error}");
            assert!(!error.is_retryable());
            assert!(
                error.to_string().contains("not the prometheus api"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_streamed_body_keeps_its_first_bytes_and_counts_the_rest() {
        use std::io::Read as _;
        let body = "x".repeat(BODY_START_BYTES * 3);
        let mut recorded = Recorded::new(body.as_bytes());
        let mut sink = Vec::new();
        recorded.read_to_end(&mut sink).expect("reads");
        assert_eq!(sink, body.as_bytes());
        assert_eq!(recorded.head.len(), BODY_START_BYTES);
        assert_eq!(recorded.received, body.len());
    }

    #[test]
    fn times_are_sent_as_unix_seconds() {
        let time = DateTime::parse_from_rfc3339("2026-11-23T00:00:00Z")
            .expect("valid")
            .with_timezone(&Utc);
        assert_eq!(unix_seconds(time), "1795392000");
        let fractional = time + chrono::Duration::milliseconds(1_250);
        assert_eq!(unix_seconds(fractional), "1795392001.250");
    }

    #[test]
    fn bodies_are_cut_and_flattened_for_the_log() {
        let html = format!("<html>\n<body>{}</body>", "x".repeat(500));
        let start = body_start(html.as_bytes());
        assert_eq!(start.chars().count(), BODY_START_CHARS);
        assert!(start.starts_with("<html> <body>"));
    }

    #[test]
    fn retry_after_seconds_are_honoured() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
