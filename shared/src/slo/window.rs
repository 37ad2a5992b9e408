//! An SLO's window and its figures, from the ledger of daily reports.
//!
//! A window is rolling (the last `N` days up to and including the day reported) or a calendar
//! period (the ISO week, month or quarter, in the report's time zone, that contains the day
//! reported, from its first day to that day). Its figures are sums of ledger days: exact at day
//! boundaries, whatever Prometheus still holds. A day the ledger lacks is missing, never good.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::Serialize;

/// How long an SLO's window is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The last `N` days, the day reported included (1 to 400).
    Rolling(u16),
    /// The calendar week (Monday to Sunday) of the day reported.
    Week,
    /// The calendar month of the day reported.
    Month,
    /// The calendar quarter of the day reported.
    Quarter,
}

impl Window {
    /// The longest rolling window: what the ledger keeps.
    pub const MAX_DAYS: u16 = 400;

    /// Parses `30d`, `week`, `month` or `quarter`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "week" => Some(Self::Week),
            "month" => Some(Self::Month),
            "quarter" => Some(Self::Quarter),
            _ => text
                .strip_suffix('d')
                .and_then(|days| days.parse::<u16>().ok())
                .filter(|days| (1..=Self::MAX_DAYS).contains(days))
                .map(Self::Rolling),
        }
    }

    /// The window's first day and its last when it ends (the calendar period's end; a rolling
    /// window ends on `day`), for the day reported.
    pub fn bounds(self, day: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self {
            Self::Rolling(days) => (
                day.checked_sub_days(Days::new(u64::from(days) - 1))
                    .unwrap_or(NaiveDate::MIN),
                day,
            ),
            Self::Week => {
                let start = day
                    .checked_sub_days(Days::new(u64::from(day.weekday().num_days_from_monday())))
                    .unwrap_or(day);
                (start, start.checked_add_days(Days::new(6)).unwrap_or(day))
            }
            Self::Month => period(day, 1),
            Self::Quarter => period(day, 3),
        }
    }

    /// The name documents use.
    pub fn name(self) -> String {
        match self {
            Self::Rolling(days) => format!("{days}d"),
            Self::Week => "week".to_owned(),
            Self::Month => "month".to_owned(),
            Self::Quarter => "quarter".to_owned(),
        }
    }
}

/// The calendar period of `months` months (1 or 3) that holds `day`.
fn period(day: NaiveDate, months: u32) -> (NaiveDate, NaiveDate) {
    let first_month = (day.month0() / months) * months + 1;
    let start = NaiveDate::from_ymd_opt(day.year(), first_month, 1).unwrap_or(day);
    let end = start
        .checked_add_months(Months::new(months))
        .and_then(|next| next.pred_opt())
        .unwrap_or(day);
    (start, end)
}

/// One SLO's day in the ledger: good and total events after exclusions, and the events the
/// exclusions removed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct LedgerDay {
    /// Good events.
    pub good: f64,
    /// All events.
    pub total: f64,
    /// Events left out by exclusions (from good and total alike).
    #[serde(default)]
    pub excluded: f64,
}

/// Whether an SLO is met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The SLI is at or above the objective.
    Met,
    /// Below it.
    Breached,
    /// No events: neither met nor breached.
    NoData,
}

impl Status {
    /// The verdict on an SLI of `sli_value` (`None`: no events) against `objective`.
    pub fn of(sli_value: Option<f64>, objective: f64) -> Self {
        match sli_value {
            None => Self::NoData,
            Some(sli) if sli >= objective => Self::Met,
            Some(_) => Self::Breached,
        }
    }
}

/// An SLO's figures over its window, as of the day reported.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WindowFigures {
    /// The window's first day.
    pub start: NaiveDate,
    /// The day reported (the last day counted).
    pub end: NaiveDate,
    /// Good events over the days known.
    pub good: f64,
    /// All events over the days known.
    pub total: f64,
    /// `good / total`; `null` without events.
    pub sli_value: Option<f64>,
    /// The share of the window's error budget left: `1 − bad / ((1 − objective) × total)`,
    /// negative when overspent; `null` without events.
    pub error_budget_remaining: Option<f64>,
    /// The window's error ratio over the allowed one; `null` without events.
    pub burn_rate: Option<f64>,
    /// Days of the window up to the day reported that the ledger lacks.
    pub days_missing: u32,
    /// Met, breached or no data.
    pub status: Status,
    /// The day the budget runs out at the last seven days' burn, if it does before the window
    /// ends (a rolling window: within its length); `null` when it does not.
    pub budget_exhausted_on: Option<NaiveDate>,
}

/// The figures of an SLO at `objective` over `window` as of `day`, from the ledger's `days`.
pub fn window_figures(
    window: Window,
    objective: f64,
    day: NaiveDate,
    days: &BTreeMap<NaiveDate, LedgerDay>,
) -> WindowFigures {
    let (start, period_end) = window.bounds(day);
    let (mut good, mut total, mut days_missing) = (0.0, 0.0, 0_u32);
    for date in start.iter_days().take_while(|d| *d <= day) {
        match days.get(&date) {
            Some(entry) => {
                good += entry.good;
                total += entry.total;
            }
            None => days_missing += 1,
        }
    }
    let allowed = 1.0 - objective;
    let has_events = total > 0.0 && total.is_finite() && good.is_finite();
    let sli_value = has_events.then(|| good / total);
    let error_ratio = sli_value.map(|sli| 1.0 - sli);
    let status = Status::of(sli_value, objective);
    let budget_exhausted_on = error_ratio.and_then(|_| {
        exhaustion(
            window,
            objective,
            day,
            period_end,
            days,
            total - good,
            total,
        )
    });
    WindowFigures {
        start,
        end: day,
        good,
        total,
        sli_value,
        error_budget_remaining: error_ratio.map(|ratio| 1.0 - ratio / allowed),
        burn_rate: error_ratio.map(|ratio| ratio / allowed),
        days_missing,
        status,
        budget_exhausted_on,
    }
}

/// The day the budget runs out if the last seven days' bad and total events go on each day:
/// the first day after `day` on which the window's bad events exceed its allowance (`day`
/// itself when they already do).
fn exhaustion(
    window: Window,
    objective: f64,
    day: NaiveDate,
    period_end: NaiveDate,
    days: &BTreeMap<NaiveDate, LedgerDay>,
    bad: f64,
    total: f64,
) -> Option<NaiveDate> {
    let recent: Vec<&LedgerDay> = (0..7)
        .filter_map(|back| day.checked_sub_days(Days::new(back)))
        .filter_map(|date| days.get(&date))
        .collect();
    if recent.is_empty() {
        return None;
    }
    let count = recent.len() as f64;
    let daily_total = recent.iter().map(|d| d.total).sum::<f64>() / count;
    let daily_bad = recent.iter().map(|d| d.total - d.good).sum::<f64>() / count;
    if !(daily_bad > 0.0 && daily_total.is_finite()) {
        return None;
    }
    let allowed = 1.0 - objective;
    if bad > allowed * total {
        return Some(day);
    }
    let horizon = match window {
        Window::Rolling(days) => u64::from(days),
        _ => u64::try_from((period_end - day).num_days()).unwrap_or(0),
    };
    let (mut bad, mut total) = (bad, total);
    let mut leaving = window_days_leaving(window, day, days);
    for ahead in 1..=horizon {
        bad += daily_bad;
        total += daily_total;
        if let Some(old) = leaving.next() {
            bad -= old.total - old.good;
            total -= old.total;
        }
        if bad > allowed * total {
            return day.checked_add_days(Days::new(ahead));
        }
    }
    None
}

/// For a rolling window, the ledger days that leave it as it moves forward one day at a time
/// (a day the ledger lacks leaves nothing); for a calendar window, none.
fn window_days_leaving(
    window: Window,
    day: NaiveDate,
    days: &BTreeMap<NaiveDate, LedgerDay>,
) -> Box<dyn Iterator<Item = LedgerDay> + '_> {
    match window {
        Window::Rolling(_) => {
            let (start, _) = window.bounds(day);
            Box::new(start.iter_days().take_while(move |d| *d <= day).map(|d| {
                days.get(&d).copied().unwrap_or(LedgerDay {
                    good: 0.0,
                    total: 0.0,
                    excluded: 0.0,
                })
            }))
        }
        _ => Box::new(std::iter::empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn ledger(
        from: &str,
        days: u64,
        day: impl Fn(u64) -> (f64, f64),
    ) -> BTreeMap<NaiveDate, LedgerDay> {
        (0..days)
            .map(|i| {
                let (good, total) = day(i);
                (
                    date(from).checked_add_days(Days::new(i)).expect("a date"),
                    LedgerDay {
                        good,
                        total,
                        excluded: 0.0,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn windows_parse_and_bound() {
        assert_eq!(Window::parse("30d"), Some(Window::Rolling(30)));
        assert_eq!(Window::parse("400d"), Some(Window::Rolling(400)));
        for bad in ["0d", "401d", "30", "d", "month ", "Month", "-1d"] {
            assert_eq!(Window::parse(bad), None, "{bad}");
        }
        let day = date("2026-11-18");
        assert_eq!(
            Window::Rolling(30).bounds(day),
            (date("2026-10-20"), day),
            "thirty days, the day reported included"
        );
        assert_eq!(
            Window::Week.bounds(day),
            (date("2026-11-16"), date("2026-11-22"))
        );
        assert_eq!(
            Window::Month.bounds(day),
            (date("2026-11-01"), date("2026-11-30"))
        );
        assert_eq!(
            Window::Quarter.bounds(day),
            (date("2026-10-01"), date("2026-12-31"))
        );
        assert_eq!(
            Window::Month.bounds(date("2028-02-10")).1,
            date("2028-02-29"),
            "a leap February"
        );
        assert_eq!(
            Window::Quarter.bounds(date("2026-08-10")),
            (date("2026-07-01"), date("2026-09-30"))
        );
    }

    #[test]
    fn figures_are_sums_of_ledger_days() {
        // Ten days of 1,000 events with 1 bad, then a day with 200 bad.
        let days = ledger("2026-11-01", 11, |i| {
            if i == 10 {
                (800.0, 1_000.0)
            } else {
                (999.0, 1_000.0)
            }
        });
        let figures = window_figures(Window::Month, 0.99, date("2026-11-11"), &days);
        assert_eq!(figures.start, date("2026-11-01"));
        assert!((figures.good - 10_790.0).abs() < 1e-9);
        assert!((figures.total - 11_000.0).abs() < 1e-9);
        let sli = 10_790.0 / 11_000.0;
        assert!((figures.sli_value.expect("events") - sli).abs() < 1e-12);
        assert!((figures.burn_rate.expect("events") - (1.0 - sli) / 0.01).abs() < 1e-9);
        assert!(
            (figures.error_budget_remaining.expect("events") - (1.0 - 210.0 / 110.0)).abs() < 1e-9
        );
        assert_eq!(figures.status, Status::Breached);
        assert_eq!(figures.days_missing, 0);
    }

    #[test]
    fn a_missing_day_is_counted_never_good() {
        let mut days = ledger("2026-11-01", 5, |_| (990.0, 1_000.0));
        days.remove(&date("2026-11-03"));
        let figures = window_figures(Window::Rolling(7), 0.98, date("2026-11-05"), &days);
        assert_eq!(figures.start, date("2026-10-30"));
        assert_eq!(
            figures.days_missing, 3,
            "two before the ledger began and one deleted"
        );
        assert!((figures.total - 4_000.0).abs() < 1e-9);
        assert_eq!(figures.status, Status::Met);
        let empty = window_figures(
            Window::Rolling(7),
            0.98,
            date("2026-11-05"),
            &BTreeMap::new(),
        );
        assert_eq!(empty.status, Status::NoData);
        assert_eq!(empty.sli_value, None);
        assert_eq!(empty.error_budget_remaining, None);
        assert_eq!(empty.days_missing, 7);
    }

    #[test]
    fn the_budget_runs_out_at_the_last_week_s_burn() {
        // A month at 0.999: 1,000 events a day and 2 bad burns the budget at twice the pace.
        let days = ledger("2026-11-01", 10, |_| (998.0, 1_000.0));
        let figures = window_figures(Window::Month, 0.999, date("2026-11-10"), &days);
        // Bad 20 of 10,000 already exceeds 1 ‰: spent, as of the day reported.
        assert_eq!(figures.budget_exhausted_on, Some(date("2026-11-10")));
        // Half the allowed pace never runs out within the month.
        let calm = ledger("2026-11-01", 10, |_| (999.5, 1_000.0));
        let figures = window_figures(Window::Month, 0.999, date("2026-11-10"), &calm);
        assert_eq!(figures.budget_exhausted_on, None);
        // A calm start, then a week at 1.5 × the allowed pace: 15.5 bad of 17,000 after the
        // 17th, and the month's budget runs out n days later when 15.5 + 1.5 n > 17 + n.
        let days = ledger("2026-11-01", 17, |i| {
            if i < 10 {
                (999.5, 1_000.0)
            } else {
                (998.5, 1_000.0)
            }
        });
        let figures = window_figures(Window::Month, 0.999, date("2026-11-17"), &days);
        assert!(figures.error_budget_remaining.expect("events") > 0.0);
        assert_eq!(figures.budget_exhausted_on, Some(date("2026-11-21")));
    }
}
