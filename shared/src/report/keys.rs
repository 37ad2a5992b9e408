//! Where a report is written: its object keys under the configured prefix, and whether a run
//! rewrites `latest.json`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::period::ReportPeriod;
use crate::event::ScheduledEvent;

/// The keys of one day's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportKeys {
    /// `{prefix}daily/YYYY/MM/DD/report.json`.
    pub json: String,
    /// `{prefix}daily/YYYY/MM/DD/report.html`.
    pub html: String,
    /// `{prefix}latest.json`: a copy of the newest day's JSON report.
    pub latest: String,
}

impl ReportKeys {
    /// The keys of the report for `date` (`YYYY-MM-DD`) under `prefix`.
    pub fn for_day(prefix: &str, date: &str) -> Self {
        let day = date.replace('-', "/");
        Self {
            json: format!("{prefix}daily/{day}/report.json"),
            html: format!("{prefix}daily/{day}/report.html"),
            latest: format!("{prefix}latest.json"),
        }
    }
}

/// Whether the run of `event` for `period` reports the newest complete day at `now`, and so
/// rewrites `latest.json`: a scheduled run always does; a backfill only of the day a scheduled
/// run at `now` would report, so `latest.json` never points back in time.
pub fn rewrites_latest(
    event: &ScheduledEvent,
    period: &ReportPeriod,
    now: DateTime<Utc>,
    time_zone: Tz,
) -> bool {
    match event {
        ScheduledEvent::At(_) => true,
        ScheduledEvent::Day(_) => ReportPeriod::previous_day(now, time_zone)
            .is_ok_and(|latest| latest.date == period.date),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn keys_are_dated_under_the_prefix() {
        let keys = ReportKeys::for_day("sla-reports/", "2026-11-23");
        assert_eq!(keys.json, "sla-reports/daily/2026/11/23/report.json");
        assert_eq!(keys.html, "sla-reports/daily/2026/11/23/report.html");
        assert_eq!(keys.latest, "sla-reports/latest.json");
    }

    #[test]
    fn only_the_newest_day_rewrites_latest() {
        let now = DateTime::parse_from_rfc3339("2026-11-24T00:15:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).expect("date");
        let period = |d| ReportPeriod::for_date(day(d), Tz::UTC).expect("period");
        assert!(rewrites_latest(
            &ScheduledEvent::At(now),
            &period(23),
            now,
            Tz::UTC
        ));
        assert!(rewrites_latest(
            &ScheduledEvent::Day(day(23)),
            &period(23),
            now,
            Tz::UTC
        ));
        assert!(!rewrites_latest(
            &ScheduledEvent::Day(day(20)),
            &period(20),
            now,
            Tz::UTC
        ));
    }
}
