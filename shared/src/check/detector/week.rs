//! A series' range over the past week, and how it moves the series' bar.
//!
//! A spike to a level the series reached three days ago is less news than one to a level it has
//! not reached all week, however the two compare with the noise of the window around them: on a
//! busy series the first kind recurs every day or two, the second is what an operator calls
//! unusual. So each series keeps the lowest and highest value of each of its last [`DAYS`] UTC
//! days (today so far included, for tomorrow's range), 14 numbers in the alert state. The range
//! is that of the days before today: today's own values are already what the deviation scores'
//! window and the alert's lifecycle judge against, and counting them too only raised the bar
//! for whatever followed the day's first spike. Once an earlier day is known, the series' bar
//! is multiplied by [`WITHIN_FACTOR`] for a newest value inside that range, and the point
//! score's by [`POINT_WITHIN_FACTOR`] as well, out to [`POINT_REACH`] of the range's width
//! beyond each edge; a value beyond it (a new high, or low, of the week, in the check's
//! direction) meets the bar unchanged, and so does a lone point beyond the point score's reach.
//! The range is of raw values, so it tells what the deviation scores cannot: where the newest
//! value stands against everything the series did this week. Measured on NAB in
//! docs/quality.md.

use serde::{Deserialize, Serialize};

use crate::check::detector::Direction;

/// Days whose extremes are kept: today and the six before, whose range is the week's.
pub const DAYS: usize = 7;
/// The bar's multiple (in odds, so in deviation) for a value inside the week's range.
pub const WITHIN_FACTOR: f64 = 1.4;
/// Inside the week's range the point score's bar is multiplied by this as well (2.8 in all):
/// one point at a level the series reached this week is the weakest evidence there is, where a
/// shifted mean or a day off its pattern can be news at any level (docs/quality.md).
pub const POINT_WITHIN_FACTOR: f64 = 2.0;
/// For the point score the range reaches this share of its width beyond each edge: a lone point
/// just past the week's high or low is as weak evidence as one inside (docs/quality.md).
pub const POINT_REACH: f64 = 0.4;

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

    /// Where `value` at `at` stands against the week's range, judged in `direction`.
    pub fn standing(&self, value: f64, at: i64, direction: Direction) -> Standing {
        let Some((low, high)) = self.range(at) else {
            return Standing::Outside;
        };
        let within = |reach: f64| {
            let margin = reach * (high - low);
            !direction.beyond(value, low - margin, high + margin)
        };
        if within(0.0) {
            Standing::Inside
        } else if within(POINT_REACH) {
            Standing::WithinPointReach
        } else {
            Standing::Outside
        }
    }
}

/// Where the newest value stands against the week's range, in the check's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Not beyond the range: the series' bar is multiplied by [`WITHIN_FACTOR`], the point
    /// score's by [`POINT_WITHIN_FACTOR`] as well.
    Inside,
    /// Beyond the range by at most [`POINT_REACH`] of its width: the point score's bar is
    /// multiplied as inside, the others' not.
    WithinPointReach,
    /// Beyond the point score's reach, or no earlier day of the week known: the bar unchanged.
    Outside,
}

impl Standing {
    /// The multiples of the bar (in odds) at this standing: the sustained and daily scores',
    /// then the point score's.
    pub fn bar_factors(self) -> (f64, f64) {
        let point = WITHIN_FACTOR * POINT_WITHIN_FACTOR;
        match self {
            Self::Inside => (WITHIN_FACTOR, point),
            Self::WithinPointReach => (1.0, point),
            Self::Outside => (1.0, 1.0),
        }
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

    /// Asserts where `value` at `at` stands in `week`'s range.
    fn assert_standing(
        week: &WeekRange,
        value: f64,
        at: i64,
        direction: Direction,
        expected: Standing,
    ) {
        assert_eq!(
            week.standing(value, at, direction),
            expected,
            "{value} at {at} {direction:?}"
        );
    }

    #[test]
    fn it_knows_nothing_on_its_first_day() {
        let week = learn(1, 10.0, 20.0);
        assert_eq!(week.range(23 * 3_600), None);
        for value in [15.0, 100.0] {
            assert_standing(&week, value, 23 * 3_600, Direction::Both, Standing::Outside);
        }
    }

    #[test]
    fn a_value_inside_the_week_s_range_needs_a_higher_bar() {
        let week = learn(3, 10.0, 20.0);
        let now = 3 * DAY - 60;
        assert_eq!(week.range(now), Some((10.0, 20.0)));
        for (value, direction, standing) in [
            (20.5, Direction::Both, Standing::WithinPointReach),
            (9.5, Direction::Both, Standing::WithinPointReach),
            (20.0, Direction::Both, Standing::Inside),
            (15.0, Direction::Both, Standing::Inside),
            (9.5, Direction::Up, Standing::Inside),
            (20.5, Direction::Down, Standing::Inside),
            (9.5, Direction::Down, Standing::WithinPointReach),
        ] {
            assert_standing(&week, value, now, direction, standing);
        }
    }

    #[test]
    fn the_point_score_s_range_reaches_beyond_the_edges() {
        let week = learn(3, 10.0, 20.0);
        let now = 3 * DAY - 60;
        let margin = POINT_REACH * 10.0;
        for (value, direction, standing) in [
            (15.0, Direction::Both, Standing::Inside),
            (
                20.0 + margin * 0.9,
                Direction::Both,
                Standing::WithinPointReach,
            ),
            (20.0 + margin * 1.1, Direction::Both, Standing::Outside),
            (
                10.0 - margin * 0.9,
                Direction::Both,
                Standing::WithinPointReach,
            ),
            (10.0 - margin * 1.1, Direction::Both, Standing::Outside),
            (10.0 - margin * 1.1, Direction::Up, Standing::Inside),
            (20.0 + margin * 1.1, Direction::Down, Standing::Inside),
            (
                20.0 + margin * 0.9,
                Direction::Up,
                Standing::WithinPointReach,
            ),
            (10.0 - margin * 1.1, Direction::Down, Standing::Outside),
        ] {
            assert_standing(&week, value, now, direction, standing);
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
            assert_standing(
                &week,
                value,
                morning + 3_600,
                Direction::Both,
                Standing::Outside,
            );
            assert_standing(&week, value, 4 * DAY, Direction::Both, Standing::Inside);
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
        assert_standing(&week, value, DAY, Direction::Both, Standing::Inside);
        week.observe(1e39, 2 * DAY);
        week.observe(-1e39, 2 * DAY + 60);
        assert_standing(&week, 1e39, 3 * DAY, Direction::Both, Standing::Inside);
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
