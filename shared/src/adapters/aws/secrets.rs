//! Credentials for Prometheus, read from AWS Secrets Manager or an SSM SecureString parameter
//! named by configuration — never from a plain environment variable — and never printed.

use aws_config::SdkConfig;
use serde::Deserialize;
use thiserror::Error;

/// A secret string whose `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where a secret is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// A Secrets Manager secret, by ARN.
    SecretsManager(String),
    /// An SSM parameter (SecureString), by ARN.
    SsmParameter(String),
}

impl SecretSource {
    /// Recognises a Secrets Manager secret ARN or an SSM parameter ARN.
    ///
    /// # Errors
    /// A description of what was expected when `arn` is neither.
    pub fn from_arn(arn: &str) -> Result<Self, String> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        match parts.as_slice() {
            ["arn", _, "secretsmanager", _, _, resource] if resource.starts_with("secret:") => {
                Ok(Self::SecretsManager(arn.to_owned()))
            }
            ["arn", _, "ssm", _, _, resource] if resource.starts_with("parameter/") => {
                Ok(Self::SsmParameter(arn.to_owned()))
            }
            _ => Err(
                "a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME) \
                 or an SSM parameter ARN (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME)"
                    .to_owned(),
            ),
        }
    }

    /// Reads the secret's current value.
    ///
    /// # Errors
    /// [`SecretError`] when the service call fails or the secret has no string value.
    pub async fn read(&self, sdk: &SdkConfig) -> Result<Secret, SecretError> {
        match self {
            Self::SecretsManager(arn) => {
                let client = aws_sdk_secretsmanager::Client::new(sdk);
                let output = client
                    .get_secret_value()
                    .secret_id(arn)
                    .send()
                    .await
                    .map_err(|error| SecretError::Read {
                        source: Box::new(aws_sdk_secretsmanager::Error::from(error)),
                    })?;
                output
                    .secret_string
                    .map(Secret)
                    .ok_or(SecretError::NotAString)
            }
            Self::SsmParameter(arn) => {
                let client = aws_sdk_ssm::Client::new(sdk);
                let output = client
                    .get_parameter()
                    .name(arn)
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|error| SecretError::Read {
                        source: Box::new(aws_sdk_ssm::Error::from(error)),
                    })?;
                output
                    .parameter
                    .and_then(|parameter| parameter.value)
                    .map(Secret)
                    .ok_or(SecretError::NotAString)
            }
        }
    }
}

/// A secret that could not be read or understood. Messages never contain the value.
#[derive(Debug, Error)]
pub enum SecretError {
    /// The service call failed (permissions, not found, network).
    #[error("could not read the secret: {source}")]
    Read {
        /// The service's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The secret holds binary data.
    #[error("the secret has no string value")]
    NotAString,
    /// The secret's content does not have the expected form.
    #[error("the secret's content is not {expected}")]
    Malformed {
        /// The expected form.
        expected: &'static str,
    },
}

/// Basic-auth credentials as stored: `{"username": "...", "password": "..."}`.
#[derive(Deserialize)]
struct BasicCredentials {
    username: String,
    password: String,
}

/// A bearer token as stored: `{"token": "..."}` or the bare token.
#[derive(Deserialize)]
struct BearerCredentials {
    token: String,
}

/// Reads `username` and `password` from a JSON secret.
///
/// # Errors
/// [`SecretError::Malformed`] when the secret is not that JSON object.
pub fn basic_credentials(secret: &Secret) -> Result<(String, Secret), SecretError> {
    serde_json::from_str::<BasicCredentials>(secret.expose())
        .map(|c| (c.username, Secret(c.password)))
        .map_err(|_| SecretError::Malformed {
            expected: r#"a JSON object {"username": "...", "password": "..."}"#,
        })
}

/// Reads a bearer token: a JSON `{"token": "..."}` or the whole secret string.
///
/// # Errors
/// [`SecretError::Malformed`] when the token is empty or has characters a header cannot carry.
pub fn bearer_token(secret: &Secret) -> Result<Secret, SecretError> {
    let token = serde_json::from_str::<BearerCredentials>(secret.expose())
        .map_or_else(|_| secret.expose().trim().to_owned(), |c| c.token);
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SecretError::Malformed {
            expected: r#"a non-empty token of visible ASCII characters, or {"token": "..."}"#,
        });
    }
    Ok(Secret(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        let (user, password) =
            basic_credentials(&Secret::new(r#"{"username":"123","password":"hunter2"}"#))
                .expect("valid");
        assert_eq!(user, "123");
        assert!(!format!("{password:?}").contains("hunter2"));
    }

    #[test]
    fn arns_name_the_store() {
        let cases = [
            (
                "arn:aws:secretsmanager:eu-west-1:123456789012:secret:vigil/prom-AbCdEf",
                Some(true),
            ),
            (
                "arn:aws:ssm:eu-west-1:123456789012:parameter/vigil/prom",
                Some(false),
            ),
            ("arn:aws:s3:::bucket", None),
            ("vigil/prom", None),
            ("", None),
        ];
        for (arn, expected) in cases {
            let parsed = SecretSource::from_arn(arn).ok();
            assert_eq!(
                parsed.map(|s| matches!(s, SecretSource::SecretsManager(_))),
                expected,
                "{arn}"
            );
        }
    }

    #[test]
    fn tokens_come_bare_or_in_json() {
        let bare = bearer_token(&Secret::new("glc_abc123\n")).expect("bare");
        assert_eq!(bare.expose(), "glc_abc123");
        let json = bearer_token(&Secret::new(r#"{"token":"t0k"}"#)).expect("json");
        assert_eq!(json.expose(), "t0k");
        assert!(bearer_token(&Secret::new("with space")).is_err());
        assert!(bearer_token(&Secret::new("")).is_err());
        assert!(basic_credentials(&Secret::new("user:pass")).is_err());
    }
}
