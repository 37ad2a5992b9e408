//! `anomaly-check silence add | list | expire`: manage the silences object the check reads,
//! with the same settings (`SILENCES_S3_URI` or `SILENCES_FILE`, `S3_FORCE_PATH_STYLE`, the AWS
//! SDK's credentials). Writes are conditional, so two people adding at once both keep theirs.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher as _;
use std::io::Write as _;
use std::process::ExitCode;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use clap::Subcommand;
use vigil_core::adapters::aws::{s3_client, S3Object};
use vigil_core::adapters::local::state::VersionedFile;
use vigil_core::adapters::silences::SilencesStore;
use vigil_core::check::silence::{Matcher, Silence, SilenceError, SilencesDocument};
use vigil_core::config::{duration_seconds, ConfigError, Env};

use crate::config::SilencesLocation;

/// What to do with the silences.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Adds a silence: alerts matching every `--match` are not published in its window.
    Add {
        /// `label=value` or `label=~regex` (RE2, whole value) on `service`, `check`, `slo`,
        /// `rule`, `severity` or any series label; repeatable, all must match.
        #[arg(long = "match", value_name = "MATCHER", required = true)]
        matchers: Vec<String>,
        /// How long from `--starts-at` (default now): `90m`, `2h`, `3d`; or give `--ends-at`.
        #[arg(long = "for", value_name = "DURATION", conflicts_with = "ends_at")]
        length: Option<String>,
        /// When it starts (RFC 3339); default now. May lie in the past or the future.
        #[arg(long, value_name = "TIME")]
        starts_at: Option<DateTime<Utc>>,
        /// When it ends (RFC 3339).
        #[arg(long, value_name = "TIME")]
        ends_at: Option<DateTime<Utc>>,
        /// Why, for whoever is paged next.
        #[arg(long)]
        comment: String,
        /// Who adds it; default the caller's AWS identity (S3) or `$USER` (a file).
        #[arg(long, value_name = "NAME")]
        created_by: Option<String>,
    },
    /// Lists every stored silence with its window, status and comment.
    List,
    /// Ends a silence now.
    Expire {
        /// The silence's id, as `list` shows it.
        id: String,
    },
}

/// A silence's status at `now`.
fn status(silence: &Silence, now: DateTime<Utc>) -> &'static str {
    if now < silence.starts_at {
        "pending"
    } else if now < silence.ends_at {
        "active"
    } else {
        "expired"
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A fresh id: 64 random bits.
fn new_id() -> String {
    format!("{:016x}", RandomState::new().hash_one(std::process::id()))
}

/// Builds the silence `add` asks for, at wall-clock `now`.
fn silence(
    matchers: &[String],
    length: Option<&str>,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    comment: &str,
    created_by: String,
    now: DateTime<Utc>,
) -> Result<Silence, SilenceError> {
    let invalid = |field: &str, problem: String| SilenceError {
        field: field.to_owned(),
        problem,
    };
    let matchers = matchers
        .iter()
        .enumerate()
        .map(|(index, text)| {
            Matcher::parse(text).map_err(|problem| invalid(&format!("matchers[{index}]"), problem))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let starts_at = starts_at.unwrap_or(now);
    let ends_at = match (length, ends_at) {
        (_, Some(end)) => end,
        (Some(text), None) => {
            let seconds = duration_seconds(text)
                .and_then(|s| i64::try_from(s).ok())
                .ok_or_else(|| {
                    invalid(
                        "for",
                        format!("{text:?} is not a duration such as 90m, 2h or 3d"),
                    )
                })?;
            starts_at + Duration::seconds(seconds)
        }
        (None, None) => return Err(invalid("ends_at", "give --for or --ends-at".to_owned())),
    };
    let silence = Silence {
        id: new_id(),
        matchers,
        starts_at,
        ends_at,
        created_by,
        comment: comment.to_owned(),
    };
    silence.validate()?;
    Ok(silence)
}

/// The silences store the environment names.
async fn store(env: &Env) -> Result<(SilencesStore, Option<aws_config::SdkConfig>), ConfigError> {
    match SilencesLocation::from_env(env)? {
        None => Err(ConfigError::Missing {
            variable: "SILENCES_S3_URI",
            expected: "the s3://bucket/key of the silences (or SILENCES_FILE for a local file)"
                .to_owned(),
        }),
        Some(SilencesLocation::File(path)) => {
            Ok((SilencesStore::File(VersionedFile::new(path)), None))
        }
        Some(SilencesLocation::S3 { bucket, key }) => {
            let sdk = vigil_core::runtime::aws_sdk().await;
            let client = s3_client(&sdk, env.flag("S3_FORCE_PATH_STYLE", false)?);
            Ok((
                SilencesStore::S3(S3Object::new(client, bucket, key)),
                Some(sdk),
            ))
        }
    }
}

/// Who calls: the AWS principal's ARN when the silences are in S3, else `$USER`.
async fn caller(sdk: Option<&aws_config::SdkConfig>) -> String {
    if let Some(sdk) = sdk {
        if let Ok(identity) = aws_sdk_sts::Client::new(sdk)
            .get_caller_identity()
            .send()
            .await
        {
            if let Some(arn) = identity.arn() {
                return arn.to_owned();
            }
        }
    }
    std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned())
}

/// One line per silence: id, status at `now`, window, matchers, author and comment.
fn list(document: &SilencesDocument, now: DateTime<Utc>) -> String {
    if document.silences.is_empty() {
        return "no silences".to_owned();
    }
    let mut lines = Vec::with_capacity(document.silences.len());
    for silence in &document.silences {
        let matchers: Vec<String> = silence
            .matchers
            .iter()
            .map(|m| {
                let op = match m.op {
                    vigil_core::check::silence::MatchOp::Equal => "=",
                    vigil_core::check::silence::MatchOp::Regex => "=~",
                };
                format!("{}{op}{:?}", m.label, m.value)
            })
            .collect();
        lines.push(format!(
            "{}  {:<7}  {} .. {}  {}  by {}: {}",
            silence.id,
            status(silence, now),
            time(silence.starts_at),
            time(silence.ends_at),
            matchers.join(","),
            silence.created_by,
            silence.comment.replace(char::is_control, " "),
        ));
    }
    lines.join("\n")
}

/// Runs one `silence` command; prints what it did, or the error on stderr.
pub async fn run(args: &Args) -> ExitCode {
    let env = Env::from_process();
    let (store, sdk) = match store(&env).await {
        Ok(found) => found,
        Err(error) => {
            eprintln!("anomaly-check silence: {error}");
            return ExitCode::FAILURE;
        }
    };
    let now = Utc::now();
    let result = match &args.command {
        Command::Add {
            matchers,
            length,
            starts_at,
            ends_at,
            comment,
            created_by,
        } => {
            let created_by = match created_by {
                Some(name) => name.clone(),
                None => caller(sdk.as_ref()).await,
            };
            match silence(
                matchers,
                length.as_deref(),
                *starts_at,
                *ends_at,
                comment,
                created_by,
                now,
            ) {
                Err(error) => Err(error.to_string()),
                Ok(new) => {
                    let id = new.id.clone();
                    store
                        .change(|document| document.add(new.clone()))
                        .await
                        .map(|_| format!("added {id} to {}", store.location()))
                        .map_err(|error| error.to_string())
                }
            }
        }
        Command::List => store
            .load()
            .await
            .map(|(document, _)| list(&document, now))
            .map_err(|error| error.to_string()),
        Command::Expire { id } => store
            .change(|document| document.expire(id, now))
            .await
            .map(|_| format!("expired {id}"))
            .map_err(|error| error.to_string()),
    };
    match result {
        Ok(said) => {
            let mut stdout = std::io::stdout().lock();
            if writeln!(stdout, "{said}").is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("anomaly-check silence: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("time")
    }

    #[test]
    fn add_builds_the_window_from_for_or_ends_at_and_names_what_is_wrong() {
        let now = at("2026-12-04T10:00:00Z");
        let built = silence(
            &["service=checkout".to_owned()],
            Some("2h"),
            None,
            None,
            "deploy 4711",
            "alice".to_owned(),
            now,
        )
        .expect("valid");
        assert_eq!(
            (built.starts_at, built.ends_at),
            (now, at("2026-12-04T12:00:00Z"))
        );
        let planned = silence(
            &["service=checkout".to_owned()],
            None,
            Some(at("2026-12-05T02:00:00Z")),
            Some(at("2026-12-05T04:00:00Z")),
            "db migration",
            "alice".to_owned(),
            now,
        )
        .expect("valid");
        assert_eq!(status(&planned, now), "pending");
        let field = |matchers: &[&str], length: Option<&str>| {
            silence(
                &matchers.iter().map(|m| (*m).to_owned()).collect::<Vec<_>>(),
                length,
                None,
                None,
                "x",
                "alice".to_owned(),
                now,
            )
            .expect_err("refused")
            .field
        };
        assert_eq!(field(&["service=~("], Some("1h")), "matchers[0]");
        assert_eq!(field(&["service=a"], Some("soon")), "for");
        assert_eq!(field(&["service=a"], Some("100d")), "ends_at");
        assert_eq!(field(&["service=a"], None), "ends_at");
        assert_ne!(new_id(), new_id());
    }
}
