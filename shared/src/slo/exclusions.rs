//! When exclusions apply within a day: the stretches of the day that some exclusion covers,
//! cut at every exclusion's edge, so each stretch is measured once and every service subtracts
//! the stretches an exclusion covering it spans, never one twice.

use std::collections::BTreeSet;
use std::str::FromStr as _;

use chrono::{DateTime, Duration, Utc};

use super::document::{Exclusion, When};

/// A stretch of the day, `[start, end)`, and which exclusions cover it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stretch {
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// Indices into the document's exclusions.
    pub exclusions: Vec<usize>,
}

impl Stretch {
    /// Its length in whole seconds.
    pub fn seconds(&self) -> u64 {
        u64::try_from((self.end - self.start).num_seconds()).unwrap_or(0)
    }

    /// Whether an exclusion covering `service` covers this stretch.
    pub fn covers(&self, exclusions: &[Exclusion], service: &str) -> bool {
        self.exclusions
            .iter()
            .filter_map(|index| exclusions.get(*index))
            .any(|exclusion| exclusion.services.covers(service))
    }
}

/// Whether `when` applies at `at`.
pub fn applies_at(when: &When, at: DateTime<Utc>) -> bool {
    !occurrences(when, at, at + Duration::seconds(1)).is_empty()
}

/// The times `when` applies that overlap `[start, end)`, clipped to it.
fn occurrences(
    when: &When,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let clip = |from: DateTime<Utc>, to: DateTime<Utc>| {
        let (from, to) = (from.max(start), to.min(end));
        (from < to).then_some((from, to))
    };
    match when {
        When::Once {
            start: from,
            end: to,
        } => clip(*from, *to).into_iter().collect(),
        When::Recurring {
            cron,
            seconds,
            time_zone,
        } => {
            let Ok(cron) = croner::Cron::from_str(cron) else {
                return Vec::new();
            };
            let length = Duration::seconds(i64::from(*seconds));
            // An occurrence that began before the day may still cover its start.
            let from = (start - length).with_timezone(time_zone);
            cron.iter_after(from)
                .map(|at| at.with_timezone(&Utc))
                .take_while(|at| *at < end)
                .filter_map(|at| clip(at, at + length))
                .collect()
        }
    }
}

/// The stretches of `[start, end)` the `exclusions` cover, in order, cut at every edge.
pub fn stretches(
    exclusions: &[Exclusion],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<Stretch> {
    let spans: Vec<(usize, DateTime<Utc>, DateTime<Utc>)> = exclusions
        .iter()
        .enumerate()
        .flat_map(|(index, exclusion)| {
            occurrences(&exclusion.when, start, end)
                .into_iter()
                .map(move |(from, to)| (index, from, to))
        })
        .collect();
    let edges: BTreeSet<DateTime<Utc>> = spans
        .iter()
        .flat_map(|(_, from, to)| [*from, *to])
        .collect();
    let edges: Vec<DateTime<Utc>> = edges.into_iter().collect();
    edges
        .windows(2)
        .filter_map(|pair| {
            let (from, to) = (pair[0], pair[1]);
            let mut covering: Vec<usize> = spans
                .iter()
                .filter(|(_, a, b)| *a <= from && to <= *b)
                .map(|(index, _, _)| *index)
                .collect();
            covering.dedup();
            (!covering.is_empty()).then_some(Stretch {
                start: from,
                end: to,
                exclusions: covering,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::document::Services;
    use chrono_tz::Tz;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("a time")
            .with_timezone(&Utc)
    }

    fn once(from: &str, to: &str, services: Services) -> Exclusion {
        Exclusion {
            when: When::Once {
                start: utc(from),
                end: utc(to),
            },
            services,
            reason: "test".to_owned(),
        }
    }

    #[test]
    fn overlapping_exclusions_are_cut_so_no_stretch_counts_twice() {
        let payments = Services::Only(["payments".to_owned()].into());
        let exclusions = [
            once("2026-12-06T02:00:00Z", "2026-12-06T04:00:00Z", payments),
            once(
                "2026-12-06T03:00:00Z",
                "2026-12-06T05:00:00Z",
                Services::All,
            ),
            once(
                "2026-12-05T22:00:00Z",
                "2026-12-06T00:30:00Z",
                Services::All,
            ),
        ];
        let day = stretches(
            &exclusions,
            utc("2026-12-06T00:00:00Z"),
            utc("2026-12-07T00:00:00Z"),
        );
        let spans: Vec<(String, String, Vec<usize>)> = day
            .iter()
            .map(|s| {
                (
                    s.start.format("%H:%M").to_string(),
                    s.end.format("%H:%M").to_string(),
                    s.exclusions.clone(),
                )
            })
            .collect();
        assert_eq!(
            spans,
            [
                ("00:00".to_owned(), "00:30".to_owned(), vec![2]),
                ("02:00".to_owned(), "03:00".to_owned(), vec![0]),
                ("03:00".to_owned(), "04:00".to_owned(), vec![0, 1]),
                ("04:00".to_owned(), "05:00".to_owned(), vec![1]),
            ]
        );
        assert!(day[1].covers(&exclusions, "payments") && !day[1].covers(&exclusions, "checkout"));
        assert!(day[3].covers(&exclusions, "checkout"));
        assert_eq!(day[0].seconds(), 1_800, "clipped to the day");
    }

    #[test]
    fn a_weekly_cron_exclusion_applies_in_its_time_zone_across_dst() {
        let weekly = Exclusion {
            when: When::Recurring {
                cron: "0 3 * * SUN".to_owned(),
                seconds: 3_600,
                time_zone: Tz::Europe__Berlin,
            },
            services: Services::All,
            reason: "weekly restart".to_owned(),
        };
        // Sunday 2026-03-29 is the spring change: 03:00 Berlin is 01:00 UTC (CEST).
        let sunday = stretches(
            std::slice::from_ref(&weekly),
            utc("2026-03-29T00:00:00Z"),
            utc("2026-03-30T00:00:00Z"),
        );
        assert_eq!(sunday.len(), 1);
        assert_eq!(sunday[0].start, utc("2026-03-29T01:00:00Z"));
        // A winter Sunday: 03:00 CET is 02:00 UTC.
        let winter = stretches(
            std::slice::from_ref(&weekly),
            utc("2026-12-06T00:00:00Z"),
            utc("2026-12-07T00:00:00Z"),
        );
        assert_eq!(winter[0].start, utc("2026-12-06T02:00:00Z"));
        assert_eq!(winter[0].seconds(), 3_600);
        let monday = stretches(
            &[weekly],
            utc("2026-12-07T00:00:00Z"),
            utc("2026-12-08T00:00:00Z"),
        );
        assert!(monday.is_empty());
    }
}
