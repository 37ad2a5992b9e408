//! Prometheus connection settings from the environment, shared by every function.
//!
//! | variable | meaning |
//! | --- | --- |
//! | `PROMETHEUS_URL` | API root, `http(s)://host[:port][/prefix]`; no credentials in it |
//! | `PROMETHEUS_AUTH` | `none` (default), `bearer`, `basic` or `sigv4` |
//! | `PROMETHEUS_SECRET_ARN` | Secrets Manager or SSM parameter ARN holding the credentials (`bearer`, `basic`) |
//! | `PROMETHEUS_HEADERS` | JSON object of extra headers, e.g. `{"X-Scope-OrgID": "team-a"}` |
//! | `PROMETHEUS_SIGV4_REGION` | region of an Amazon Managed Prometheus workspace; default `AWS_REGION` |
//! | `PROMETHEUS_TIMEOUT_SECONDS` | longest single request, default 30 |

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use http::header::{HeaderName, HeaderValue, AUTHORIZATION};
use http::HeaderMap;
use thiserror::Error;
use url::Url;

use super::{Auth, PrometheusClient, PrometheusClientOptions, PrometheusError};
use crate::adapters::aws::secrets::{basic_credentials, bearer_token, SecretError, SecretSource};
use crate::config::{ConfigError, Env};

/// How to authenticate, before the secret is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthSetting {
    /// No authentication.
    None,
    /// A bearer token from the secret.
    Bearer(SecretSource),
    /// Basic credentials (`{"username", "password"}`) from the secret.
    Basic(SecretSource),
    /// SigV4 with the function's role, for this region.
    SigV4 {
        /// The workspace region.
        region: String,
    },
}

/// Validated Prometheus settings.
#[derive(Debug, Clone)]
pub struct PrometheusSettings {
    /// The API root.
    pub url: Url,
    /// Authentication.
    pub auth: AuthSetting,
    /// Extra headers.
    pub headers: HeaderMap,
    /// The longest single request.
    pub request_timeout: Duration,
}

/// Start-up failed while connecting the Prometheus client.
#[derive(Debug, Error)]
pub enum ConnectError {
    /// The secret named by `PROMETHEUS_SECRET_ARN` could not be read or understood.
    #[error("PROMETHEUS_SECRET_ARN: {source}")]
    Secret {
        /// What went wrong.
        #[source]
        source: SecretError,
    },
    /// `sigv4` was chosen but no AWS credentials are available to sign with.
    #[error("PROMETHEUS_AUTH: sigv4 needs AWS credentials (the function's role), and none are configured")]
    NoCredentials,
    /// The client could not be built.
    #[error("prometheus client: {source}")]
    Client {
        /// What went wrong.
        #[source]
        source: PrometheusError,
    },
}

impl PrometheusSettings {
    /// Reads and validates the settings.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable at fault.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        const URL_EXPECTED: &str = "an http(s) URL of the Prometheus API root without credentials, such as http://prometheus:9090";
        let raw_url = env.required("PROMETHEUS_URL", URL_EXPECTED)?;
        let invalid_url = |why: &str| ConfigError::Invalid {
            variable: "PROMETHEUS_URL",
            expected: format!("{URL_EXPECTED} ({why})"),
            found: if why.contains("credentials") {
                "<redacted>".to_owned()
            } else {
                raw_url.to_owned()
            },
        };
        let url = Url::parse(raw_url.trim()).map_err(|error| invalid_url(&error.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid_url("scheme must be http or https, with a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid_url(
                "credentials belong in PROMETHEUS_SECRET_ARN, not in the URL",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid_url("no query string or fragment"));
        }
        let secret = || -> Result<SecretSource, ConfigError> {
            let arn = env.required(
                "PROMETHEUS_SECRET_ARN",
                "the ARN of the secret holding the credentials when PROMETHEUS_AUTH is bearer or basic",
            )?;
            SecretSource::from_arn(arn.trim()).map_err(|expected| ConfigError::Invalid {
                variable: "PROMETHEUS_SECRET_ARN",
                expected,
                found: arn.to_owned(),
            })
        };
        let auth = match env
            .get("PROMETHEUS_AUTH")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("none") => AuthSetting::None,
            Some("bearer") => AuthSetting::Bearer(secret()?),
            Some("basic") => AuthSetting::Basic(secret()?),
            Some("sigv4") => AuthSetting::SigV4 {
                region: env
                    .get("PROMETHEUS_SIGV4_REGION")
                    .or_else(|| env.get("AWS_REGION"))
                    .ok_or(ConfigError::Missing {
                        variable: "PROMETHEUS_SIGV4_REGION",
                        expected:
                            "the region of the Amazon Managed Prometheus workspace (or AWS_REGION)"
                                .to_owned(),
                    })?
                    .to_owned(),
            },
            Some(other) => {
                return Err(ConfigError::Invalid {
                    variable: "PROMETHEUS_AUTH",
                    expected: "one of none, bearer, basic, sigv4".to_owned(),
                    found: other.to_owned(),
                })
            }
        };
        let headers = env
            .parse_with(
                "PROMETHEUS_HEADERS",
                r#"a JSON object of header names to values, such as {"X-Scope-OrgID": "team-a"}"#,
                parse_headers,
            )?
            .unwrap_or_default();
        Ok(Self {
            url,
            auth,
            headers,
            request_timeout: env.seconds("PROMETHEUS_TIMEOUT_SECONDS", Duration::from_secs(30))?,
        })
    }

    /// Reads the secret (if any) and builds the client.
    ///
    /// # Errors
    /// [`ConnectError`] when the secret cannot be read or the client cannot be built.
    pub async fn connect(&self, sdk: &SdkConfig) -> Result<PrometheusClient, ConnectError> {
        let secret_error = |source| ConnectError::Secret { source };
        let auth = match &self.auth {
            AuthSetting::None => Auth::None,
            AuthSetting::Bearer(source) => {
                let secret = source.read(sdk).await.map_err(secret_error)?;
                Auth::Bearer(bearer_token(&secret).map_err(secret_error)?)
            }
            AuthSetting::Basic(source) => {
                let secret = source.read(sdk).await.map_err(secret_error)?;
                let (username, password) = basic_credentials(&secret).map_err(secret_error)?;
                Auth::Basic { username, password }
            }
            AuthSetting::SigV4 { region } => Auth::SigV4 {
                region: region.clone(),
                credentials: sdk
                    .credentials_provider()
                    .ok_or(ConnectError::NoCredentials)?,
            },
        };
        PrometheusClient::new(PrometheusClientOptions {
            base_url: self.url.clone(),
            auth,
            headers: self.headers.clone(),
            request_timeout: self.request_timeout,
            retry_min_delay: Duration::from_millis(200),
            retry_max_delay: Duration::from_secs(5),
        })
        .map_err(|source| ConnectError::Client { source })
    }
}

fn parse_headers(raw: &str) -> Result<HeaderMap, Box<dyn std::error::Error + Send + Sync>> {
    let pairs: BTreeMap<String, String> = serde_json::from_str(raw)?;
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::try_from(name.as_str())
            .map_err(|_| format!("{name:?} is not a header name"))?;
        if name == AUTHORIZATION {
            return Err("Authorization belongs in PROMETHEUS_SECRET_ARN".into());
        }
        let value = HeaderValue::try_from(value.as_str())
            .map_err(|_| format!("the value of {name} is not a valid header value"))?;
        headers.insert(name, value);
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<PrometheusSettings, ConfigError> {
        PrometheusSettings::from_env(&Env::from_pairs(pairs.iter().copied()))
    }

    fn variable_of(error: &ConfigError) -> &'static str {
        match error {
            ConfigError::Missing { variable, .. }
            | ConfigError::Invalid { variable, .. }
            | ConfigError::Unparsable { variable, .. } => variable,
            ConfigError::Conflict { variables, .. } => variables,
        }
    }

    /// A named case: the environment pairs and the variable the error must name.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);

    #[test]
    fn bad_settings_name_their_variable() {
        let cases: &[Case] = &[
            ("no url", &[], "PROMETHEUS_URL"),
            (
                "not a url",
                &[("PROMETHEUS_URL", "prometheus:9090")],
                "PROMETHEUS_URL",
            ),
            (
                "ftp",
                &[("PROMETHEUS_URL", "ftp://prometheus")],
                "PROMETHEUS_URL",
            ),
            (
                "credentials in the url",
                &[("PROMETHEUS_URL", "https://user:pw@prom")],
                "PROMETHEUS_URL",
            ),
            (
                "unknown auth",
                &[
                    ("PROMETHEUS_URL", "http://p"),
                    ("PROMETHEUS_AUTH", "kerberos"),
                ],
                "PROMETHEUS_AUTH",
            ),
            (
                "bearer without secret",
                &[
                    ("PROMETHEUS_URL", "http://p"),
                    ("PROMETHEUS_AUTH", "bearer"),
                ],
                "PROMETHEUS_SECRET_ARN",
            ),
            (
                "secret not an arn",
                &[
                    ("PROMETHEUS_URL", "http://p"),
                    ("PROMETHEUS_AUTH", "basic"),
                    ("PROMETHEUS_SECRET_ARN", "my-secret"),
                ],
                "PROMETHEUS_SECRET_ARN",
            ),
            (
                "sigv4 without region",
                &[("PROMETHEUS_URL", "http://p"), ("PROMETHEUS_AUTH", "sigv4")],
                "PROMETHEUS_SIGV4_REGION",
            ),
            (
                "headers not json",
                &[
                    ("PROMETHEUS_URL", "http://p"),
                    ("PROMETHEUS_HEADERS", "X-Scope-OrgID: a"),
                ],
                "PROMETHEUS_HEADERS",
            ),
            (
                "authorization header",
                &[
                    ("PROMETHEUS_URL", "http://p"),
                    ("PROMETHEUS_HEADERS", r#"{"Authorization":"Bearer x"}"#),
                ],
                "PROMETHEUS_HEADERS",
            ),
            (
                "timeout",
                &[
                    ("PROMETHEUS_URL", "http://p"),
                    ("PROMETHEUS_TIMEOUT_SECONDS", "-1"),
                ],
                "PROMETHEUS_TIMEOUT_SECONDS",
            ),
        ];
        for (name, pairs, variable) in cases {
            let error = settings(pairs).expect_err(name);
            assert_eq!(variable_of(&error), *variable, "{name}: {error}");
            assert!(error.to_string().starts_with(variable), "{name}: {error}");
        }
    }

    #[test]
    fn credentials_in_the_url_are_not_echoed() {
        let error =
            settings(&[("PROMETHEUS_URL", "https://user:hunter2@prom")]).expect_err("rejected");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[test]
    fn good_settings_are_typed() {
        let parsed = settings(&[
            ("PROMETHEUS_URL", "https://mimir.example/prometheus"),
            ("PROMETHEUS_AUTH", "basic"),
            (
                "PROMETHEUS_SECRET_ARN",
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prom-AbC",
            ),
            ("PROMETHEUS_HEADERS", r#"{"X-Scope-OrgID":"team-a"}"#),
        ])
        .expect("valid");
        assert!(matches!(
            parsed.auth,
            AuthSetting::Basic(SecretSource::SecretsManager(_))
        ));
        assert_eq!(parsed.headers["x-scope-orgid"], "team-a");
        assert_eq!(parsed.request_timeout, Duration::from_secs(30));
        let sigv4 = settings(&[
            ("PROMETHEUS_URL", "http://p"),
            ("PROMETHEUS_AUTH", "SigV4"),
            ("AWS_REGION", "eu-west-1"),
        ])
        .expect("valid");
        assert_eq!(
            sigv4.auth,
            AuthSetting::SigV4 {
                region: "eu-west-1".into()
            }
        );
    }
}
