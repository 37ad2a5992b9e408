//! Reading typed settings from the environment, with errors that name the variable.
//!
//! Each function reads its environment once at start-up through an [`Env`]; a bad value stops
//! start-up with a [`ConfigError`] such as
//! `SLO_TARGET: expected a number strictly between 0 and 1, found "1.5"`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use chrono_tz::Tz;
use thiserror::Error;

/// A setting that is missing or malformed.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// A required variable is not set (or empty).
    #[error("{variable}: required, expected {expected}")]
    Missing {
        /// The environment variable.
        variable: &'static str,
        /// What it should hold.
        expected: String,
    },
    /// A variable's value is not acceptable.
    #[error("{variable}: expected {expected}, found {found:?}")]
    Invalid {
        /// The environment variable.
        variable: &'static str,
        /// What it should hold.
        expected: String,
        /// What it holds (never a secret: secrets are not read from variables).
        found: String,
    },
    /// A variable's value does not parse.
    #[error("{variable}: expected {expected} ({source}), found {found:?}")]
    Unparsable {
        /// The environment variable.
        variable: &'static str,
        /// What it should hold.
        expected: String,
        /// What it holds (never a secret: secrets are not read from variables).
        found: String,
        /// The parser's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Two variables that exclude or require each other.
    #[error("{variables}: {problem}")]
    Conflict {
        /// The variables involved.
        variables: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// Which of two mutually exclusive variables is set, with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneOf<'a> {
    /// The first variable.
    First(&'a str),
    /// The second variable.
    Second(&'a str),
    /// Neither.
    Neither,
}

/// A view of the environment; tests build one from pairs.
#[derive(Debug, Clone, Default)]
pub struct Env(HashMap<String, String>);

impl Env {
    /// The process environment (variables that are not valid Unicode are ignored).
    pub fn from_process() -> Self {
        Self(std::env::vars().collect())
    }

    /// An environment made of `pairs`.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    /// The variable's value; empty counts as unset.
    pub fn get(&self, variable: &str) -> Option<&str> {
        self.0
            .get(variable)
            .map(String::as_str)
            .filter(|value| !value.trim().is_empty())
    }

    /// Which of two mutually exclusive variables is set.
    ///
    /// # Errors
    /// [`ConfigError::Conflict`] naming both when both are set.
    pub fn one_of(
        &self,
        variables: &'static str,
        first: &str,
        second: &str,
    ) -> Result<OneOf<'_>, ConfigError> {
        match (self.get(first), self.get(second)) {
            (Some(value), None) => Ok(OneOf::First(value.trim())),
            (None, Some(value)) => Ok(OneOf::Second(value.trim())),
            (None, None) => Ok(OneOf::Neither),
            (Some(_), Some(_)) => Err(ConfigError::Conflict {
                variables,
                problem: "set one of them, not both".to_owned(),
            }),
        }
    }

    /// `uri`, the value of `variable`, as an S3 bucket and key (`s3://bucket/key`);
    /// `example` names a key for the error.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the variable when it is not such a URI.
    pub fn s3_uri(
        variable: &'static str,
        uri: &str,
        example: &str,
    ) -> Result<(String, String), ConfigError> {
        uri.strip_prefix("s3://")
            .and_then(|rest| rest.split_once('/'))
            .filter(|(bucket, key)| !bucket.is_empty() && !key.is_empty())
            .map(|(bucket, key)| (bucket.to_owned(), key.to_owned()))
            .ok_or_else(|| ConfigError::Invalid {
                variable,
                expected: format!("an S3 URI such as s3://my-bucket/{example}"),
                found: uri.to_owned(),
            })
    }

    /// The required variable's value.
    ///
    /// # Errors
    /// [`ConfigError::Missing`] when unset.
    pub fn required(&self, variable: &'static str, expected: &str) -> Result<&str, ConfigError> {
        self.get(variable).ok_or_else(|| ConfigError::Missing {
            variable,
            expected: expected.to_owned(),
        })
    }

    /// Parses the variable with `parse`, or returns `None` when unset.
    ///
    /// # Errors
    /// [`ConfigError::Unparsable`] naming `variable` and `expected` when `parse` fails.
    pub fn parse_with<T, E>(
        &self,
        variable: &'static str,
        expected: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, ConfigError>
    where
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.get(variable)
            .map(|raw| {
                parse(raw.trim()).map_err(|error| ConfigError::Unparsable {
                    variable,
                    expected: expected.to_owned(),
                    found: raw.to_owned(),
                    source: error.into(),
                })
            })
            .transpose()
    }

    /// Parses the variable with [`FromStr`], or returns `default` when unset.
    ///
    /// # Errors
    /// [`ConfigError::Unparsable`] when the value does not parse.
    pub fn parse_or<T>(
        &self,
        variable: &'static str,
        expected: &str,
        default: T,
    ) -> Result<T, ConfigError>
    where
        T: FromStr,
        T::Err: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        Ok(self
            .parse_with(variable, expected, str::parse::<T>)?
            .unwrap_or(default))
    }

    /// A boolean: `true`/`false`/`1`/`0`/`yes`/`no`, case-insensitive.
    ///
    /// # Errors
    /// [`ConfigError::Unparsable`] for anything else.
    pub fn flag(&self, variable: &'static str, default: bool) -> Result<bool, ConfigError> {
        Ok(self
            .parse_with(variable, "true or false", |raw| {
                match raw.to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" => Ok(true),
                    "false" | "0" | "no" => Ok(false),
                    _ => Err("not a boolean"),
                }
            })?
            .unwrap_or(default))
    }

    /// A positive number of seconds (fractions allowed).
    ///
    /// # Errors
    /// [`ConfigError::Unparsable`] when not a positive finite number.
    pub fn seconds(
        &self,
        variable: &'static str,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        Ok(self
            .parse_with(variable, "a positive number of seconds", |raw| {
                raw.parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9)
                    .map(Duration::from_secs_f64)
                    .ok_or("not a positive number")
            })?
            .unwrap_or(default))
    }
}

/// Parses `90s`, `30m`, `1h` or `2d` into seconds; `None` for anything else or zero.
pub fn duration_seconds(text: &str) -> Option<u64> {
    let split = text.len().checked_sub(1)?;
    let (number, unit) = text.split_at(split);
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return None,
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|seconds| *seconds > 0)
}

impl Env {
    /// `REPORT_PREFIX` (default `sla-reports/`): a relative key prefix, the reports' and the
    /// ledger's.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for an absolute prefix or one with `..`.
    pub fn report_prefix(&self) -> Result<String, ConfigError> {
        let prefix = self
            .get("REPORT_PREFIX")
            .unwrap_or("sla-reports/")
            .trim()
            .to_owned();
        if prefix.starts_with('/') || prefix.split('/').any(|part| part == "..") {
            return Err(ConfigError::Invalid {
                variable: "REPORT_PREFIX",
                expected: "a relative key prefix such as sla-reports/".to_owned(),
                found: prefix,
            });
        }
        Ok(prefix)
    }

    /// `REPORT_TIME_ZONE` (default UTC): the zone whose calendar days the ledger holds.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a name that is not an IANA zone.
    pub fn report_time_zone(&self) -> Result<Tz, ConfigError> {
        Ok(self
            .parse_with(
                "REPORT_TIME_ZONE",
                "an IANA time zone such as UTC or Europe/Berlin",
                str::parse::<Tz>,
            )?
            .unwrap_or(Tz::UTC))
    }
}

/// Where the SLO document comes from: `SLOS_FILE` or `SLOS_S3_URI`, read by the report and
/// the minute check alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlosSource {
    /// Neither is set: the report has one `availability` SLO per service over `SLO_WINDOW`;
    /// the minute check sends no SLO alerts.
    Absent,
    /// `SLOS_FILE`: a file deployed with the function.
    File(PathBuf),
    /// `SLOS_S3_URI`: `s3://bucket/key`.
    S3 {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
    },
}

impl SlosSource {
    /// Reads `SLOS_FILE` or `SLOS_S3_URI` (not both).
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(
            match env.one_of("SLOS_FILE, SLOS_S3_URI", "SLOS_FILE", "SLOS_S3_URI")? {
                OneOf::Neither => Self::Absent,
                OneOf::First(file) => Self::File(PathBuf::from(file)),
                OneOf::Second(uri) => {
                    let (bucket, key) = Env::s3_uri("SLOS_S3_URI", uri, "vigil/slos.yaml")?;
                    Self::S3 { bucket, key }
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_variable_and_what_was_expected() {
        let env = Env::from_pairs([
            ("TIMEOUT_SECONDS", "soon"),
            ("FLAG", "maybe"),
            ("EMPTY", " "),
        ]);
        let error = env
            .seconds("TIMEOUT_SECONDS", Duration::from_secs(1))
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("TIMEOUT_SECONDS: expected a positive number of seconds"),
            "{error}"
        );
        assert!(error.to_string().contains("\"soon\""));
        let error = env.flag("FLAG", false).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("FLAG: expected true or false"),
            "{error}"
        );
        let error = env.required("EMPTY", "a URL").unwrap_err();
        assert_eq!(error.to_string(), "EMPTY: required, expected a URL");
    }

    #[test]
    fn unset_values_take_their_defaults() {
        let env = Env::from_pairs([("ON", "Yes")]);
        assert!(env.flag("ON", false).expect("valid"));
        assert!(!env.flag("OFF", false).expect("valid"));
        assert_eq!(
            env.seconds("T", Duration::from_secs(3)).expect("valid"),
            Duration::from_secs(3)
        );
        assert_eq!(env.parse_or("N", "a count", 7_u32).expect("valid"), 7);
    }
}
