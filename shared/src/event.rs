//! Scheduled events: what an invocation is asked to do, and when.
//!
//! The time always comes from the event, never from the wall clock, so replaying an event
//! reproduces its run. Two shapes are accepted:
//!
//! - the classic EventBridge "Scheduled Event", whose `time` is the scheduled time;
//! - an EventBridge Scheduler (`ScheduleV2`) `Input` such as
//!   `{"time": "<aws.scheduler.scheduled-time>"}`, which the scheduler fills in.
//!
//! A report event may instead name a day to backfill: `{"date": "2026-11-20"}`.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use thiserror::Error;

/// What a scheduled invocation asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduledEvent {
    /// A run scheduled at this time.
    At(DateTime<Utc>),
    /// A backfill of this calendar day (reports only).
    Day(NaiveDate),
}

/// An event that says neither when nor which day.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EventError {
    /// The payload is not a JSON object.
    #[error("the event is not a JSON object")]
    NotAnObject,
    /// Neither `time` nor `date` is present.
    #[error("the event has neither a \"time\" (RFC 3339 scheduled time) nor a \"date\" (YYYY-MM-DD to backfill)")]
    NoTime,
    /// `time` is present but not an RFC 3339 time.
    #[error("the event's \"time\" is not an RFC 3339 time such as 2026-11-24T00:15:00Z: {found}")]
    BadTime {
        /// The value found.
        found: String,
    },
    /// `date` is present but not `YYYY-MM-DD`.
    #[error("the event's \"date\" is not a calendar date such as 2026-11-20: {found}")]
    BadDate {
        /// The value found.
        found: String,
    },
}

/// An event file that a local run cannot use.
#[derive(Debug, Error)]
pub enum EventFileError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("{path}: not JSON: {source}")]
    NotJson {
        /// The file.
        path: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
}

/// Reads an event file for a local run: its JSON, unvalidated (the handler validates it, as
/// it does under Lambda).
///
/// # Errors
/// [`EventFileError`] when the file cannot be read or is not JSON.
pub fn read_event_file(path: &std::path::Path) -> Result<Value, EventFileError> {
    let bytes = std::fs::read(path).map_err(|source| EventFileError::Unreadable {
        path: path.display().to_string(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| EventFileError::NotJson {
        path: path.display().to_string(),
        source,
    })
}

impl ScheduledEvent {
    /// Reads the event; `date` wins over `time` so a backfill event may carry both.
    ///
    /// # Errors
    /// [`EventError`] describing what is missing or malformed.
    pub fn from_json(event: &Value) -> Result<Self, EventError> {
        let object = event.as_object().ok_or(EventError::NotAnObject)?;
        if let Some(date) = object.get("date") {
            let found = date.to_string();
            return date
                .as_str()
                .and_then(|text| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
                .map(Self::Day)
                .ok_or(EventError::BadDate { found });
        }
        let time = object.get("time").ok_or(EventError::NoTime)?;
        let found = time.to_string();
        time.as_str()
            .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
            .map(|time| Self::At(time.with_timezone(&Utc)))
            .ok_or(EventError::BadTime { found })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// The instant written in RFC 3339.
    pub(crate) fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("valid time")
            .with_timezone(&Utc)
    }

    /// The calendar day written `YYYY-MM-DD`.
    pub(crate) fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("valid date")
    }

    #[test]
    fn the_classic_scheduled_event_gives_its_time() {
        let event = ScheduledEvent::from_json(
            &serde_json::from_str(include_str!("../../events/scheduled-classic.json"))
                .expect("json"),
        )
        .expect("valid");
        assert_eq!(event, ScheduledEvent::At(utc("2026-11-24T00:15:00Z")));
    }

    #[test]
    fn the_scheduler_input_and_a_backfill_are_accepted() {
        let scheduler = ScheduledEvent::from_json(
            &serde_json::from_str(include_str!("../../events/scheduler.json")).expect("json"),
        );
        assert_eq!(
            scheduler,
            Ok(ScheduledEvent::At(utc("2026-11-24T00:15:00Z")))
        );
        let backfill = ScheduledEvent::from_json(
            &serde_json::from_str(include_str!("../../events/backfill.json")).expect("json"),
        );
        assert_eq!(backfill, Ok(ScheduledEvent::Day(date("2026-11-20"))));
    }

    #[test]
    fn malformed_events_say_what_is_wrong() {
        let cases = [
            (json!([1, 2]), EventError::NotAnObject),
            (json!({"detail": {}}), EventError::NoTime),
            (
                json!({"time": "yesterday"}),
                EventError::BadTime {
                    found: "\"yesterday\"".into(),
                },
            ),
            (
                json!({"time": 5}),
                EventError::BadTime { found: "5".into() },
            ),
            (
                json!({"date": "2026-13-01"}),
                EventError::BadDate {
                    found: "\"2026-13-01\"".into(),
                },
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(ScheduledEvent::from_json(&event), Err(expected), "{event}");
        }
    }
}
