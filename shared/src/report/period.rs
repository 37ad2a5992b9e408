//! The report period: one calendar day in the report's time zone, derived from the event.
//!
//! ```
//! use vigil_core::event::ScheduledEvent;
//! use vigil_core::report::period::ReportPeriod;
//!
//! let event = ScheduledEvent::from_json(&serde_json::json!({"time": "2026-11-24T00:15:00Z"})).unwrap();
//! let period = ReportPeriod::for_event(&event, chrono_tz::Europe::Berlin).unwrap();
//! assert_eq!(period.date.to_string(), "2026-11-23");
//! assert_eq!(period.start.to_rfc3339(), "2026-11-22T23:00:00+00:00");
//! ```

use chrono::{DateTime, Days, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use thiserror::Error;

use crate::event::ScheduledEvent;

/// A report period `[start, end)`: one calendar day in a time zone, 23, 24 or 25 hours long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportPeriod {
    /// The calendar day reported.
    pub date: NaiveDate,
    /// The zone whose calendar defines the day.
    pub time_zone: Tz,
    /// The first instant of the day.
    pub start: DateTime<Utc>,
    /// The first instant of the next day.
    pub end: DateTime<Utc>,
}

/// A day that cannot be placed on the calendar.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{date} has no start in time zone {time_zone}")]
pub struct PeriodError {
    date: NaiveDate,
    time_zone: Tz,
}

impl ReportPeriod {
    /// The period of `date` in `time_zone`.
    ///
    /// # Errors
    /// [`PeriodError`] for dates at the end of the calendar's range.
    pub fn for_date(date: NaiveDate, time_zone: Tz) -> Result<Self, PeriodError> {
        let error = || PeriodError { date, time_zone };
        let next = date.checked_add_days(Days::new(1)).ok_or_else(error)?;
        Ok(Self {
            date,
            time_zone,
            start: start_of_day(date, time_zone).ok_or_else(error)?,
            end: start_of_day(next, time_zone).ok_or_else(error)?,
        })
    }

    /// The previous calendar day (in `time_zone`) of the moment `at`.
    ///
    /// # Errors
    /// [`PeriodError`] for dates at the end of the calendar's range.
    pub fn previous_day(at: DateTime<Utc>, time_zone: Tz) -> Result<Self, PeriodError> {
        let today = at.with_timezone(&time_zone).date_naive();
        let yesterday = today.pred_opt().ok_or(PeriodError {
            date: today,
            time_zone,
        })?;
        Self::for_date(yesterday, time_zone)
    }

    /// The period an event asks for: its day when it names one, otherwise the day before its
    /// scheduled time.
    ///
    /// # Errors
    /// [`PeriodError`] for dates at the end of the calendar's range.
    pub fn for_event(event: &ScheduledEvent, time_zone: Tz) -> Result<Self, PeriodError> {
        match *event {
            ScheduledEvent::At(time) => Self::previous_day(time, time_zone),
            ScheduledEvent::Day(date) => Self::for_date(date, time_zone),
        }
    }

    /// The length of the period in whole seconds.
    pub fn seconds(&self) -> u64 {
        u64::try_from((self.end - self.start).num_seconds()).unwrap_or(0)
    }

    /// The end of every whole hour in the period, in order: `start + 1h`, …, up to `end`.
    pub fn hour_ends(&self) -> Vec<DateTime<Utc>> {
        let mut ends = Vec::with_capacity(25);
        let mut end = self.start + chrono::Duration::hours(1);
        while end <= self.end {
            ends.push(end);
            end += chrono::Duration::hours(1);
        }
        ends
    }
}

/// The first instant of `date` in `time_zone`: local midnight, or the first valid local time
/// after it where a DST change skips midnight.
fn start_of_day(date: NaiveDate, time_zone: Tz) -> Option<DateTime<Utc>> {
    (0..=24 * 4).find_map(|quarter: u32| {
        let time = NaiveTime::from_hms_opt(quarter / 4, (quarter % 4) * 15, 0)?;
        match time_zone.from_local_datetime(&date.and_time(time)) {
            LocalResult::Single(start) => Some(start.with_timezone(&Utc)),
            LocalResult::Ambiguous(earliest, _) => Some(earliest.with_timezone(&Utc)),
            LocalResult::None => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::tests::{date, utc};

    #[test]
    fn a_utc_day_is_24_hours() {
        let period =
            ReportPeriod::previous_day(utc("2026-11-24T00:15:00Z"), Tz::UTC).expect("valid");
        assert_eq!(period.date, date("2026-11-23"));
        assert_eq!(period.start, utc("2026-11-23T00:00:00Z"));
        assert_eq!(period.end, utc("2026-11-24T00:00:00Z"));
        assert_eq!(period.seconds(), 86_400);
        assert_eq!(period.hour_ends().len(), 24);
        assert_eq!(period.hour_ends()[0], utc("2026-11-23T01:00:00Z"));
    }

    #[test]
    fn dst_days_are_23_and_25_hours() {
        let cases = [
            (
                "spring forward in Berlin",
                "2026-03-29",
                chrono_tz::Europe::Berlin,
                23,
            ),
            (
                "fall back in Berlin",
                "2026-10-25",
                chrono_tz::Europe::Berlin,
                25,
            ),
            (
                "spring forward in New York",
                "2026-03-08",
                chrono_tz::America::New_York,
                23,
            ),
            (
                "an ordinary day in Sydney",
                "2026-06-01",
                chrono_tz::Australia::Sydney,
                24,
            ),
        ];
        for (name, day, zone, hours) in cases {
            let period = ReportPeriod::for_date(date(day), zone).expect("valid");
            assert_eq!(period.seconds(), hours * 3600, "{name}");
            assert_eq!(
                period.hour_ends().len(),
                usize::try_from(hours).expect("small"),
                "{name}"
            );
        }
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_at_the_first_valid_time() {
        // Santiago springs forward at local midnight: 2026-09-06 starts at 01:00 local.
        let period = ReportPeriod::for_date(date("2026-09-06"), chrono_tz::America::Santiago)
            .expect("valid");
        assert_eq!(period.start, utc("2026-09-06T04:00:00Z"));
        assert_eq!(period.seconds(), 23 * 3600);
    }

    #[test]
    fn the_previous_day_is_taken_in_the_configured_zone() {
        // 23:30 UTC on the 23rd is already the 24th in Tokyo, so Tokyo reports the 23rd.
        let period =
            ReportPeriod::previous_day(utc("2026-11-23T23:30:00Z"), chrono_tz::Asia::Tokyo)
                .expect("valid");
        assert_eq!(period.date, date("2026-11-23"));
        assert_eq!(period.start, utc("2026-11-22T15:00:00Z"));
    }
}
