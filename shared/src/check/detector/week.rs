//! A series' range over the past week, and how it moves the series' bar.
//!
//! A spike to a level the series reached three days ago is less news than one to a level it has
//! not reached all week, however the two compare with the noise of the window around them: on a
//! busy series the first kind recurs every day or two, the second is what an operator calls
//! unusual. So each series keeps the lowest and highest value of each of its last [`DAYS`] UTC
//! days (today so far included, for tomorrow's range), 14 numbers in the alert state. The range
//! is that of the days before today: today's own values are already what the deviation scores'
//! window and the alert's lifecycle judge against. Once an earlier day is known, the series'
//! bar is multiplied by the `week_factor` ([`crate::check::detector::tuning`]) for a newest
//! value inside that range; a value beyond it (a new high, or low, of the week, in the check's
//! direction) meets the bar unchanged. The range is of raw values, so it tells what the
//! deviation scores cannot: where the newest value stands against everything the series did
//! this week. Measured on NAB in docs/quality.md.

use serde::{Deserialize, Serialize};

use crate::check::detector::Direction;

/// Days whose extremes are kept: today and the six before, whose range is the week's.
pub const DAYS: usize = 7;

const DAY: i64 = 86_400;

/// [`DAYS`] as a number of days to compare with.
fn span() -> i64 {
    i64::try_from(DAYS).unwrap_or(i64::MAX)
}

/// The lowest and highest value of each of the series' last [`DAYS`] days.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WeekRange {
    /// The UTC day (days since the epoch) of the newest entry.
    #[serde(default)]
    day: i64,
    /// Each day's lowest value, oldest first, the last one of `day`; a day the series was not
    /// seen is not a number. Rounded down to `f32`.
    #[serde(
        default,
        serialize_with = "crate::check::detector::packed::serialize",
        deserialize_with = "stored_extremes"
    )]
    lows: Vec<f32>,
    /// Each day's highest value, rounded up; as `lows`.
    #[serde(
        default,
        serialize_with = "crate::check::detector::packed::serialize",
        deserialize_with = "stored_extremes"
    )]
    highs: Vec<f32>,
}

/// Extremes as stored, made sane: at most [`DAYS`], none infinite (a day not seen is `NaN`).
fn stored_extremes<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<f32>, D::Error> {
    let mut extremes: Vec<f32> = crate::check::detector::packed::deserialize(deserializer)?;
    let keep = extremes.len().saturating_sub(DAYS);
    extremes.drain(..keep);
    for extreme in &mut extremes {
        if extreme.is_infinite() {
            *extreme = f32::NAN;
        }
    }
    Ok(extremes)
}

/// The largest `f32` not above `value`.
#[allow(clippy::cast_possible_truncation)]
fn at_most(value: f64) -> f32 {
    let near = value as f32;
    if f64::from(near) > value {
        near.next_down()
    } else {
        near
    }
}

/// The smallest `f32` not below `value`.
#[allow(clippy::cast_possible_truncation)]
fn at_least(value: f64) -> f32 {
    let near = value as f32;
    if f64::from(near) < value {
        near.next_up()
    } else {
        near
    }
}

impl WeekRange {
    /// Takes the value of the evaluation at `at` (unix seconds); a value that is not a number is
    /// ignored. A value from a day before the newest kept one (a state from another clock) or
    /// over a week after it starts the range afresh.
    pub fn observe(&mut self, value: f64, at: i64) {
        if !value.is_finite() {
            return;
        }
        let day = at.div_euclid(DAY);
        let (low, high) = (at_most(value), at_least(value));
        let gap = day.saturating_sub(self.day);
        let fresh = self.lows.is_empty() || self.lows.len() != self.highs.len();
        if fresh || !(0..span()).contains(&gap) {
            *self = Self {
                day,
                lows: vec![low],
                highs: vec![high],
            };
            return;
        }
        for _ in 0..gap {
            self.lows.push(f32::NAN);
            self.highs.push(f32::NAN);
        }
        self.day = day;
        let keep = self.lows.len().saturating_sub(DAYS);
        self.lows.drain(..keep);
        self.highs.drain(..keep);
        // A day not seen yet is NaN, and `min` and `max` take the number over a NaN.
        if let (Some(last_low), Some(last_high)) = (self.lows.last_mut(), self.highs.last_mut()) {
            *last_low = last_low.min(low);
            *last_high = last_high.max(high);
        }
    }

    /// The lowest and highest value of the days before `at`'s within the week (at most six),
    /// if one of them was seen: `at`'s own day is not in it.
    pub fn range(&self, at: i64) -> Option<(f64, f64)> {
        if self.lows.len() != self.highs.len() {
            return None;
        }
        let day = at.div_euclid(DAY);
        let newest = self.day;
        let mut range: Option<(f64, f64)> = None;
        for (index, (low, high)) in self.lows.iter().zip(&self.highs).enumerate() {
            let age = self.lows.len() - 1 - index;
            let entry = newest.saturating_sub(i64::try_from(age).unwrap_or(i64::MAX));
            if low.is_nan() || high.is_nan() || !(1..span()).contains(&day.saturating_sub(entry)) {
                continue;
            }
            let (low, high) = (f64::from(*low), f64::from(*high));
            range = Some(range.map_or((low, high), |(l, h)| (l.min(low), h.max(high))));
        }
        range
    }

    /// Whether `value` at `at` lies inside the week's range, judged in `direction` (not
    /// beyond it on the side that matters); `false` while no earlier day is known.
    pub fn contains(&self, value: f64, at: i64, direction: Direction) -> bool {
        self.range(at)
            .is_some_and(|(low, high)| !direction.beyond(value, low, high))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hourly values for `days` days: `low` at night, `high` at noon.
    fn learn(days: i64, low: f64, high: f64) -> WeekRange {
        let mut week = WeekRange::default();
        for hour in 0..days * 24 {
            let value = if hour % 24 == 12 { high } else { low };
            week.observe(value, hour * 3_600);
        }
        week
    }

    /// Asserts whether `value` at `at` lies inside `week`'s range.
    fn assert_inside(week: &WeekRange, value: f64, at: i64, direction: Direction, inside: bool) {
        assert_eq!(
            week.contains(value, at, direction),
            inside,
            "{value} at {at} {direction:?}"
        );
    }

    #[test]
    fn it_knows_nothing_on_its_first_day() {
        let week = learn(1, 10.0, 20.0);
        assert_eq!(week.range(23 * 3_600), None);
        for value in [15.0, 100.0] {
            assert_inside(&week, value, 23 * 3_600, Direction::Both, false);
        }
    }

    #[test]
    fn a_value_is_inside_unless_beyond_the_range_on_the_side_that_matters() {
        let week = learn(3, 10.0, 20.0);
        let now = 3 * DAY - 60;
        assert_eq!(week.range(now), Some((10.0, 20.0)));
        for (value, direction, inside) in [
            (20.5, Direction::Both, false),
            (9.5, Direction::Both, false),
            (20.0, Direction::Both, true),
            (15.0, Direction::Both, true),
            (9.5, Direction::Up, true),
            (20.5, Direction::Down, true),
            (9.5, Direction::Down, false),
            (20.5, Direction::Up, false),
        ] {
            assert_inside(&week, value, now, direction, inside);
        }
    }

    #[test]
    fn today_s_own_values_are_not_in_the_range() {
        let mut week = learn(3, 10.0, 20.0);
        let morning = 3 * DAY + 9 * 3_600;
        week.observe(50.0, morning);
        week.observe(5.0, morning + 60);
        assert_eq!(week.range(morning + 3_600), Some((10.0, 20.0)));
        for value in [45.0, 50.0, 5.0] {
            assert_inside(&week, value, morning + 3_600, Direction::Both, false);
            assert_inside(&week, value, 4 * DAY, Direction::Both, true);
        }
    }

    #[test]
    fn a_day_older_than_a_week_is_forgotten() {
        let mut week = learn(2, 10.0, 100.0);
        for hour in 48..9 * 24 {
            week.observe(if hour % 24 == 12 { 20.0 } else { 10.0 }, hour * 3_600);
        }
        assert_eq!(week.lows.len(), DAYS);
        assert_eq!(week.range(9 * DAY - 60), Some((10.0, 20.0)));
        // Read a day later without a new value, the oldest kept day falls out as well.
        let mut quiet = learn(3, 10.0, 20.0);
        quiet.observe(50.0, 3 * DAY + 3_600);
        assert_eq!(quiet.range(4 * DAY), Some((10.0, 50.0)));
        assert_eq!(
            quiet.range(9 * DAY),
            Some((50.0, 50.0)),
            "only day 3 is still in the week"
        );
        assert_eq!(quiet.range(10 * DAY), None, "all kept days are too old");
    }

    #[test]
    fn days_unseen_leave_gaps_and_a_long_absence_starts_afresh() {
        let mut week = learn(2, 10.0, 20.0);
        week.observe(30.0, 4 * DAY + 60);
        assert_eq!(week.lows.len(), 5);
        assert!(week.lows[2].is_nan() && week.highs[3].is_nan());
        assert_eq!(week.range(5 * DAY), Some((10.0, 30.0)));
        week.observe(40.0, 20 * DAY);
        assert_eq!(week.lows.len(), 1);
        assert_eq!(week.range(20 * DAY + 60), None, "no earlier day");
        let before = week.clone();
        week.observe(f64::NAN, 20 * DAY + 60);
        assert_eq!(week, before, "a missing value is not taken");
        week.observe(1.0, 19 * DAY);
        assert_eq!(
            (week.day, week.lows.len()),
            (19, 1),
            "an earlier day starts afresh"
        );
    }

    #[test]
    fn rounding_to_f32_keeps_every_seen_value_inside() {
        let value = 0.1_f64 + 1e-12;
        let mut week = WeekRange::default();
        week.observe(value, 0);
        week.observe(value, DAY);
        assert_inside(&week, value, DAY, Direction::Both, true);
        week.observe(1e39, 2 * DAY);
        week.observe(-1e39, 2 * DAY + 60);
        assert_inside(&week, 1e39, 3 * DAY, Direction::Both, true);
    }

    #[test]
    fn a_hostile_stored_range_is_made_sane() {
        let many = vec!["1.0"; 40].join(",");
        let json = format!(r#"{{"day":5,"lows":[{many}],"highs":[2.0,1e39]}}"#);
        let week: WeekRange = serde_json::from_str(&json).expect("parses");
        assert_eq!(week.lows.len(), DAYS);
        assert!(week.highs[1].is_nan(), "beyond f32 is no extreme");
        assert_eq!(week.range(5 * DAY), None, "lows and highs do not pair up");
        let mut week = week;
        week.observe(3.0, 5 * DAY);
        assert_eq!((week.lows.len(), week.highs.len()), (1, 1));
        let json = serde_json::to_string(&learn(9, 10.0, 20.0)).expect("serialises");
        let back: WeekRange = serde_json::from_str(&json).expect("parses");
        assert_eq!(back.range(9 * DAY - 60), Some((10.0, 20.0)));
        assert!(json.len() < 120, "{json}");
        let old: WeekRange = serde_json::from_str("{}").expect("an older state has none");
        assert_eq!(old, WeekRange::default());
        for day in [i64::MIN, i64::MAX] {
            let json = format!(r#"{{"day":{day},"lows":[1.0,1.0],"highs":[2.0,2.0]}}"#);
            let mut week: WeekRange = serde_json::from_str(&json).expect("parses");
            assert_eq!(week.range(DAY), None, "day {day}");
            week.observe(1.5, DAY);
            week.observe(1.5, 2 * DAY);
            assert_eq!(week.range(2 * DAY), Some((1.5, 1.5)), "day {day}");
        }
    }
}
