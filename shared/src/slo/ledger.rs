//! The ledger: each SLO's day per service (good, total, excluded), one small object per day
//! beside that day's report, so a window's figures are sums of days that outlive Prometheus'
//! retention, and reading a quarter is 92 small objects, not 92 reports.
//!
//! The object is input like any other: one that does not parse, names another day, or holds a
//! count that is negative, not a number, or good above total is corrupt, and its day is
//! recomputed, never summed as if complete.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::window::LedgerDay;

/// The version of the ledger object's schema.
pub const LEDGER_SCHEMA_VERSION: u32 = 1;

/// One day of the ledger: SLO name → service → the day's counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerObject {
    /// [`LEDGER_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The day, in the report's time zone.
    pub date: NaiveDate,
    /// SLO name → service → counts.
    pub slos: BTreeMap<String, BTreeMap<String, LedgerDay>>,
}

/// A ledger object that cannot be summed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LedgerError {
    /// Not a ledger object.
    #[error("not a ledger object: {0}")]
    Unreadable(String),
    /// Another schema.
    #[error("schema_version {0} is not {LEDGER_SCHEMA_VERSION}")]
    Schema(u32),
    /// Another day's object at this day's key.
    #[error("holds {found}, not {expected}")]
    Date {
        /// The day expected.
        expected: NaiveDate,
        /// The day found.
        found: NaiveDate,
    },
    /// A count that cannot be.
    #[error("slos.{slo}.{service}: counts must be finite, not negative, and good at most total")]
    Count {
        /// The SLO.
        slo: String,
        /// The service.
        service: String,
    },
}

/// The key of `date`'s ledger object under `prefix`, beside that day's report.
pub fn ledger_key(prefix: &str, date: NaiveDate) -> String {
    format!("{prefix}daily/{}/ledger.json", date.format("%Y/%m/%d"))
}

impl LedgerObject {
    /// An empty day.
    pub fn new(date: NaiveDate) -> Self {
        Self {
            schema_version: LEDGER_SCHEMA_VERSION,
            date,
            slos: BTreeMap::new(),
        }
    }

    /// Reads `date`'s object, checking everything a sum relies on.
    ///
    /// # Errors
    /// [`LedgerError`] when it cannot be summed.
    pub fn parse(bytes: &[u8], date: NaiveDate) -> Result<Self, LedgerError> {
        let object: Self = serde_json::from_slice(bytes)
            .map_err(|error| LedgerError::Unreadable(error.to_string()))?;
        if object.schema_version != LEDGER_SCHEMA_VERSION {
            return Err(LedgerError::Schema(object.schema_version));
        }
        if object.date != date {
            return Err(LedgerError::Date {
                expected: date,
                found: object.date,
            });
        }
        for (slo, services) in &object.slos {
            for (service, day) in services {
                let sane = [day.good, day.total, day.excluded]
                    .iter()
                    .all(|count| count.is_finite() && *count >= 0.0)
                    && day.good <= day.total * (1.0 + 1e-12);
                if !sane {
                    return Err(LedgerError::Count {
                        slo: slo.clone(),
                        service: service.clone(),
                    });
                }
            }
        }
        Ok(object)
    }

    /// The object's bytes: sorted keys, so a rerun writes the same bytes.
    ///
    /// # Errors
    /// Only if a count cannot be written as JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

/// One SLO's and service's days out of the ledger objects read. A day whose object holds the
/// SLO but not the service is a day without its events (zero), not a missing one; a day whose
/// object lacks the SLO (it was added later) is missing.
pub fn days_of<'a>(
    objects: impl IntoIterator<Item = &'a LedgerObject>,
    slo: &str,
    service: &str,
) -> BTreeMap<NaiveDate, LedgerDay> {
    const NONE: LedgerDay = LedgerDay {
        good: 0.0,
        total: 0.0,
        excluded: 0.0,
    };
    objects
        .into_iter()
        .filter_map(|object| {
            let services = object.slos.get(slo)?;
            Some((object.date, services.get(service).copied().unwrap_or(NONE)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn day() -> LedgerObject {
        let mut object = LedgerObject::new(date("2026-11-03"));
        object.slos.insert(
            "availability".to_owned(),
            [(
                "checkout".to_owned(),
                LedgerDay {
                    good: 999.0,
                    total: 1_000.0,
                    excluded: 0.0,
                },
            )]
            .into(),
        );
        object
    }

    #[test]
    fn a_day_round_trips_and_lives_beside_its_report() {
        let object = day();
        let bytes = object.to_json().expect("json");
        assert_eq!(
            LedgerObject::parse(&bytes, date("2026-11-03")).expect("reads"),
            object
        );
        assert_eq!(
            ledger_key("sla/", date("2026-11-03")),
            "sla/daily/2026/11/03/ledger.json"
        );
        let days = days_of([&object], "availability", "checkout");
        assert!((days[&date("2026-11-03")].total - 1_000.0).abs() < 1e-9);
        let quiet = days_of([&object], "availability", "payments");
        assert!(
            quiet[&date("2026-11-03")].total.abs() < f64::EPSILON,
            "a day without its events"
        );
        assert!(
            days_of([&object], "latency", "checkout").is_empty(),
            "an SLO added later"
        );
    }

    #[test]
    fn a_hand_edited_or_foreign_object_is_refused() {
        let bytes = String::from_utf8(day().to_json().expect("json")).expect("utf-8");
        let on = date("2026-11-03");
        for (edited, error) in [
            (
                bytes.replace("999.0", "1001.0"),
                "slos.availability.checkout",
            ),
            (bytes.replace("999.0", "-1.0"), "slos.availability.checkout"),
            (
                bytes.replace("\"schema_version\":1", "\"schema_version\":2"),
                "schema_version 2",
            ),
            (
                bytes.replace("2026-11-03", "2026-11-04"),
                "holds 2026-11-04",
            ),
            (bytes.replace("999.0", "\"many\""), "not a ledger object"),
            ("{".to_owned(), "not a ledger object"),
        ] {
            let found = LedgerObject::parse(edited.as_bytes(), on)
                .expect_err(error)
                .to_string();
            assert!(found.starts_with(error), "{error}: {found}");
        }
    }
}
