//! A series' memory of its own scores, and the bar it sets.
//!
//! A fixed threshold treats every series alike, but series are not alike: one that spikes to
//! ten standard deviations of its window every few hours would page every few hours, and one
//! that never strays past two hides a real four. So each series remembers how often its
//! scores reached how far: a histogram over the deviation a score stands for, each
//! evaluation's weight halving over [`HALF_LIFE_EVALUATIONS`] (a week of minutes). Once it
//! holds [`MIN_EVALUATIONS`] the series' bar is the deviation it exceeded in no more than
//! [`RARITY`] of its remembered evaluations, times [`MARGIN`]; never below [`FLOOR`] of the
//! check's own bar ([`YOUNG_FLOOR`] until it holds [`GROWN_EVALUATIONS`]). Until then the
//! check's threshold applies unchanged. The rarity is a share of evaluations, and the floors
//! are deviations noise crosses in a share of them: both are calibrated at a five-minute step,
//! and a series evaluated more often is held to rarer deviations, so that it does not page five
//! times as often a day ([`Pace`]).
//!
//! Scores are compared as odds, `s / (1 − s)`: for a score that squashes a deviation `d` as
//! `d / (d + h)` the odds are `d / h`, so "1.1 × the odds" is "1.1 × the deviation" whatever
//! the detector's `h`. A series has three such memories ([`Memory`]), for its point, sustained
//! and daily scores, each at most 32 numbers (trailing empty buckets are not stored), kept in
//! the alert state with its daily profile, its week's range, which moves the bar once more
//! ([`crate::check::detector::week`]), and its accumulated evidence of a moderate anomaly that lasts
//! ([`crate::check::detector::evidence`]). Measured on NAB in docs/quality.md.

use serde::{Deserialize, Serialize};

use super::scale::{kept_per_evaluation, odds, score_of};
use crate::check::detector::evidence::{Evidence, Judged};
use crate::check::detector::profile::DailyProfile;
use crate::check::detector::week::{Standing, WeekRange};
use crate::check::detector::Direction;

pub use super::scale::{HALF_LIFE_EVALUATIONS, MIN_EVALUATIONS};
/// The share of remembered evaluations allowed above the series' bar.
pub const RARITY: f64 = 0.002;
/// The bar is this multiple of the deviation exceeded in [`RARITY`] of evaluations.
pub const MARGIN: f64 = 1.1;
/// The bar never falls below this share of the check's configured deviation.
pub const FLOOR: f64 = 0.6;
/// Until a memory holds [`GROWN_EVALUATIONS`], its bar never falls below this share instead:
/// a young memory may raise the bar of a series it knows to be spiky, but a few quiet hours are
/// weaker evidence that a smaller deviation is news. Halfway between the check's own bar and
/// [`FLOOR`].
pub const YOUNG_FLOOR: f64 = 0.8;
/// Evaluations remembered before the bar may fall to [`FLOOR`], at the calibrated step (about
/// 42 hours); at a finer step as many more as it takes to span as long.
pub const GROWN_EVALUATIONS: f64 = 500.0;

/// The evaluation step [`RARITY`], [`FLOOR`] and [`YOUNG_FLOOR`] are calibrated at: the five
/// minutes of the benchmark they were measured on (docs/quality.md).
pub const CALIBRATED_STEP_SECONDS: i64 = 300;
/// The check runs once a minute: evaluations come no more often than this, whatever the step.
pub const EVALUATION_INTERVAL_SECONDS: i64 = 60;
/// At a step finer than [`CALIBRATED_STEP_SECONDS`] the floors rise by
/// `(calibrated / step) ^ FLOOR_STEP_EXPONENT`: at one minute from 3.6 to 4.0 σ of normal
/// noise, which it crosses there about as often per day as 3.6 σ at five minutes.
pub const FLOOR_STEP_EXPONENT: f64 = 0.07;

/// How often a series is evaluated. A bar allows a share of evaluations above it, but what an
/// operator feels is false alerts per day: a series evaluated every minute has five times the
/// chances of one evaluated every five minutes. So at a step finer than
/// [`CALIBRATED_STEP_SECONDS`] the floors rise ([`FLOOR_STEP_EXPONENT`]), a memory stays young
/// ([`YOUNG_FLOOR`]) for as long in time as at the calibrated step, and the share [`RARITY`]
/// shrinks with the square root of the step (0.09 % at one minute). In proportion (0.04 %)
/// would be the same share per day, but it leaves the bar to the six largest evaluations of a
/// week, so that one incident of a few minutes sets it and hides the next; at a coarser step
/// they all stay as calibrated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    step_seconds: i64,
}

impl Pace {
    /// The pace the constants are calibrated at.
    pub const CALIBRATED: Self = Self {
        step_seconds: CALIBRATED_STEP_SECONDS,
    };

    /// Evaluations whose newest points are `step_seconds` apart (the check runs at most once
    /// a minute, so a finer step counts as a minute).
    pub fn every(step_seconds: i64) -> Self {
        Self {
            step_seconds: step_seconds.max(EVALUATION_INTERVAL_SECONDS),
        }
    }

    /// The pace of a window whose points are at `times`: their mean spacing (calibrated for a
    /// window of fewer than two points).
    pub fn of_window(times: &[i64]) -> Self {
        match (times.first(), times.last(), i64::try_from(times.len())) {
            (Some(first), Some(last), Ok(count)) if count >= 2 => {
                Self::every(last.saturating_sub(*first) / (count - 1))
            }
            _ => Self::CALIBRATED,
        }
    }

    /// The step as a share of the calibrated one, at most 1.
    fn share(self) -> f64 {
        (self.step_seconds as f64 / CALIBRATED_STEP_SECONDS as f64).min(1.0)
    }

    /// The share of evaluations allowed above the bar.
    fn rarity(self) -> f64 {
        RARITY * self.share().sqrt()
    }

    /// How much the floors rise.
    fn floor_factor(self) -> f64 {
        self.share().powf(-FLOOR_STEP_EXPONENT)
    }

    /// The evaluations a memory holds before its bar may fall to [`FLOOR`]: quiet hours are
    /// the evidence, not their number of evaluations.
    fn grown(self) -> f64 {
        GROWN_EVALUATIONS / self.share()
    }
}

/// A series unseen for this long (it went away, or its check failed) is forgotten.
pub const FORGET_AFTER_SECONDS: i64 = 7 * 86_400;

const BUCKETS: usize = 32;
/// Upper edge (as odds) of the first bucket; each next edge is [`RATIO`] times larger, so the
/// last bucket starts near 17 (a deviation of ~68 σ for the default detector) and the bar
/// never rises above odds of 21 (a score of 0.955): a deviation beyond that always passes.
const FIRST_EDGE: f64 = 0.25;
const RATIO: f64 = 1.15;

/// The detector's scores of one evaluation, before any memory puts them in proportion.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DetectorScores {
    /// The newest point against the window.
    pub point: Option<f64>,
    /// The mean of the newest few points against the window's means of as many.
    pub sustained: Option<f64>,
    /// The window's residuals against the series' daily profile, newest against the rest.
    pub daily: Option<f64>,
}

/// Which of a series' scores is the largest, and so decides: what an alert gives as its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The newest point stands out from the window.
    Point,
    /// The mean of the newest points has moved from the window's.
    Sustained,
    /// The window is off the series' usual level for the hour of the day.
    Daily,
    /// A moderate deviation has lasted ([`crate::check::detector::evidence`]).
    Evidence,
}

impl Reason {
    /// The reason in words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Point => "the newest point stands out from the window",
            Self::Sustained => "the mean of the newest points has moved",
            Self::Daily => "it is off its usual level for this hour of the day",
            Self::Evidence => "a moderate deviation has lasted",
        }
    }
}

/// What a series carries from one evaluation to the next: a memory for each of its
/// [`DetectorScores`], its daily profile, its week's range and its accumulated evidence.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Memory {
    /// The evaluation time (unix seconds) of the newest evaluation taken.
    #[serde(default)]
    pub seen: i64,
    /// Of the point scores.
    pub point: ScoreMemory,
    /// Of the sustained scores.
    #[serde(default)]
    pub sustained: ScoreMemory,
    /// Of the daily scores.
    #[serde(default)]
    pub daily: ScoreMemory,
    /// What the series usually is at each hour of the day.
    #[serde(default)]
    pub profile: DailyProfile,
    /// The lowest and highest value of each of the series' last seven days.
    #[serde(default)]
    pub week: WeekRange,
    /// Its accumulated evidence of a moderate anomaly that lasts.
    #[serde(default)]
    pub evidence: Evidence,
}

impl Memory {
    /// Takes the evaluation's scores, newest value and, once it is judged, its evidence at
    /// `at`. An evaluation with neither scores nor value is not taken, and neither is a second
    /// one for the same or an earlier time (a retried invocation).
    pub fn observe(
        &mut self,
        scores: DetectorScores,
        value: Option<f64>,
        judged: Option<Judged>,
        at: i64,
    ) {
        let value = value.filter(|v| v.is_finite());
        if at <= self.seen || (scores.point.is_none() && value.is_none()) {
            return;
        }
        if let Some(judged) = judged {
            self.evidence.observe(judged, at);
        }
        for (memory, score) in [
            (&mut self.point, scores.point),
            (&mut self.sustained, scores.sustained),
            (&mut self.daily, scores.daily),
        ] {
            if let Some(score) = score {
                memory.observe(score);
            }
        }
        if let Some(value) = value {
            let step = if self.seen > 0 { at - self.seen } else { 60 };
            self.profile.observe(value, at, step);
            self.week.observe(value, at);
        }
        self.seen = at;
    }

    /// The largest of the scores, each in proportion to its memory at `pace`, with the bar
    /// moved by where the newest `value` at `at` stands in the series' week ([`Standing`]),
    /// and which score it is (the point score on a tie); `None` without a point score (the
    /// newest point is missing or the history too short).
    pub fn relative(
        &self,
        scores: DetectorScores,
        threshold: f64,
        newest: Option<(f64, i64)>,
        direction: Direction,
        pace: Pace,
    ) -> Option<(f64, Reason)> {
        let standing = newest.map_or(Standing::Outside, |(value, at)| {
            self.week.standing(value, at, direction)
        });
        let (factor, point_factor) = standing.bar_factors();
        let point = (
            score_of(odds(self.point.relative(scores.point?, threshold, pace)) / point_factor),
            Reason::Point,
        );
        let largest = [
            (&self.sustained, scores.sustained, Reason::Sustained),
            (&self.daily, scores.daily, Reason::Daily),
        ]
        .into_iter()
        .filter_map(|(memory, score, reason)| {
            score.map(|s| {
                (
                    score_of(odds(memory.relative(s, threshold, pace)) / factor),
                    reason,
                )
            })
        })
        .fold(
            point,
            |best, next| if next.0 > best.0 { next } else { best },
        );
        Some(largest)
    }
}

/// A series' decayed histogram of one of its scores (as odds).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ScoreMemory {
    /// Decayed count per bucket; missing trailing buckets are empty.
    #[serde(
        serialize_with = "crate::check::detector::packed::serialize",
        deserialize_with = "stored_counts"
    )]
    counts: Vec<f32>,
}

/// Counts as stored, made sane: at most [`BUCKETS`], none negative or not finite (the state
/// object is input like any other).
fn stored_counts<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<f32>, D::Error> {
    let mut counts: Vec<f32> = crate::check::detector::packed::deserialize(deserializer)?;
    counts.truncate(BUCKETS);
    for count in &mut counts {
        if !count.is_finite() || *count < 0.0 {
            *count = 0.0;
        }
    }
    Ok(counts)
}

/// `score` rescaled so that `bar` reads as `threshold`: its odds (for our detectors,
/// proportional to the deviation) multiplied by `threshold`'s over `bar`'s.
pub fn rescale(score: f64, bar: f64, threshold: f64) -> f64 {
    let scale = odds(threshold) / odds(bar);
    if scale.is_finite() && scale > 0.0 {
        score_of(odds(score) * scale)
    } else {
        score
    }
}

/// Upper edge of bucket `index` (as odds).
fn edge(index: usize) -> f64 {
    FIRST_EDGE * RATIO.powi(i32::try_from(index).unwrap_or(i32::MAX))
}

fn bucket(odds: f64) -> usize {
    (0..BUCKETS - 1)
        .find(|&i| odds < edge(i))
        .unwrap_or(BUCKETS - 1)
}

impl ScoreMemory {
    /// The decayed number of evaluations remembered.
    pub fn weight(&self) -> f64 {
        self.counts.iter().map(|c| f64::from(*c)).sum()
    }

    /// Takes one evaluation's score (a score that is not a number is ignored).
    pub fn observe(&mut self, score: f64) {
        if !score.is_finite() {
            return;
        }
        let decay = kept_per_evaluation(HALF_LIFE_EVALUATIONS);
        let target = bucket(odds(score));
        if self.counts.len() <= target {
            self.counts.resize(target + 1, 0.0);
        }
        for (index, count) in self.counts.iter_mut().enumerate() {
            let kept = f64::from(*count) * decay + if index == target { 1.0 } else { 0.0 };
            #[allow(clippy::cast_possible_truncation)]
            let kept = kept as f32;
            *count = kept;
        }
        while self.counts.last().is_some_and(|c| *c < 1e-3) {
            self.counts.pop();
        }
    }

    /// `score` in proportion to the series' bar, for a check configured at `threshold` and
    /// evaluated at `pace`: the score whose odds stand to `threshold`'s as `score`'s stand to
    /// the bar's. It reaches `threshold` exactly when `score` reaches the bar; without enough
    /// memory it is `score`.
    pub fn relative(&self, score: f64, threshold: f64, pace: Pace) -> f64 {
        if self.weight() < MIN_EVALUATIONS {
            return score;
        }
        rescale(score, self.threshold(threshold, pace), threshold)
    }

    /// The detector score a new point needs to be anomalous, for a check configured at
    /// `threshold` and evaluated at `pace`.
    pub fn threshold(&self, threshold: f64, pace: Pace) -> f64 {
        let total = self.weight();
        if total < MIN_EVALUATIONS {
            return threshold;
        }
        let mut above = 0.0;
        let mut bar = 0.0;
        for (index, count) in self.counts.iter().enumerate().rev() {
            above += f64::from(*count);
            if above > pace.rarity() * total {
                bar = edge(index);
                break;
            }
        }
        let floor = if total < pace.grown() {
            YOUNG_FLOOR
        } else {
            FLOOR
        };
        score_of((floor * pace.floor_factor() * odds(threshold)).max(MARGIN * bar))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::detector::week::{POINT_WITHIN_FACTOR, WITHIN_FACTOR};

    /// The pace the constants are calibrated at, five minutes.
    const FIVE: Pace = Pace::CALIBRATED;

    fn remember(scores: impl IntoIterator<Item = f64>) -> ScoreMemory {
        let mut memory = ScoreMemory::default();
        for score in scores {
            memory.observe(score);
        }
        memory
    }

    #[test]
    fn a_new_series_uses_the_configured_threshold() {
        let memory = remember(std::iter::repeat_n(0.1, 249));
        assert!((memory.threshold(0.6, FIVE) - 0.6).abs() < 1e-12);
        let memory = remember(std::iter::repeat_n(0.1, 260));
        assert!(
            memory.threshold(0.6, FIVE) < 0.6,
            "its own bar from about 250"
        );
    }

    #[test]
    fn a_calm_series_gets_a_lower_bar_but_not_below_the_floor() {
        let memory = remember(std::iter::repeat_n(0.1, 2_000));
        let bar = memory.threshold(0.6, FIVE);
        // Odds 1.5 × 0.6 = 0.9: a score of 0.9 / 1.9.
        assert!((bar - 0.9 / 1.9).abs() < 1e-9, "{bar}");
        // A young memory lowers it less: odds 1.5 × 0.8 = 1.2.
        let young = remember(std::iter::repeat_n(0.1, 300)).threshold(0.6, FIVE);
        assert!((young - 1.2 / 2.2).abs() < 1e-9, "{young}");
    }

    #[test]
    fn a_series_evaluated_every_minute_is_held_to_rarer_deviations() {
        let minute = Pace::every(60);
        assert_eq!(Pace::of_window(&[0, 60, 120, 180]), minute);
        assert_eq!(
            Pace::every(10),
            minute,
            "the check runs once a minute at most"
        );
        assert_eq!(Pace::of_window(&[0, 300, 600]), FIVE);
        assert_eq!(Pace::of_window(&[7]), FIVE);
        // A calm series grown at both paces (over 42 hours of minutes): its bar is the floor,
        // which rises by 5^0.07 at one minute.
        let calm = remember(std::iter::repeat_n(0.1, 3_000));
        let floor = odds(calm.threshold(0.6, minute)) / odds(calm.threshold(0.6, FIVE));
        assert!(
            (floor - 5_f64.powf(FLOOR_STEP_EXPONENT)).abs() < 1e-9,
            "{floor}"
        );
        // Scores of 0.75 in 0.14 % of evaluations: under the 0.2 % allowed at five minutes,
        // over the 0.09 % allowed at one minute, so the bar rises above them.
        let spiky = remember((0..5_000).map(|i| if i % 700 == 0 { 0.75 } else { 0.1 }));
        assert!(spiky.threshold(0.6, FIVE) < 0.6);
        assert!(spiky.threshold(0.6, minute) > 0.75);
        // A memory of 1,000 calm minutes (under 17 hours) is still young, of 1,000 calm
        // five-minute steps grown.
        let young = remember(std::iter::repeat_n(0.1, 1_000));
        let ratio = odds(young.threshold(0.6, minute)) / odds(young.threshold(0.6, FIVE));
        assert!(
            (ratio - YOUNG_FLOOR / FLOOR * floor).abs() < 1e-9,
            "{ratio}"
        );
        // A coarser step keeps the calibrated bar.
        for memory in [&calm, &spiky] {
            let hourly = memory.threshold(0.6, Pace::every(3_600));
            assert!((hourly - memory.threshold(0.6, FIVE)).abs() < f64::EPSILON);
        }
    }

    #[test]
    fn a_series_that_often_spikes_needs_a_bigger_spike() {
        // Every 100th evaluation scores 0.75 (odds 3, about 12 σ): 1 % of the time, so the
        // bar moves above it.
        let memory = remember((0..5_000).map(|i| if i % 100 == 0 { 0.75 } else { 0.1 }));
        let bar = memory.threshold(0.6, FIVE);
        assert!(bar > 0.75, "{bar}");
        assert!(bar < 0.8, "{bar}");
        // A rare spike (0.05 %) does not lift it.
        let memory = remember((0..6_000).map(|i| if i % 2_000 == 0 { 0.75 } else { 0.1 }));
        assert!(memory.threshold(0.6, FIVE) < 0.6);
    }

    #[test]
    fn a_relative_score_reaches_the_threshold_exactly_at_the_bar() {
        let fresh = ScoreMemory::default();
        assert!((fresh.relative(0.42, 0.6, FIVE) - 0.42).abs() < 1e-12);
        let spiky = remember((0..5_000).map(|i| if i % 100 == 0 { 0.75 } else { 0.1 }));
        let bar = spiky.threshold(0.6, FIVE);
        assert!((spiky.relative(bar, 0.6, FIVE) - 0.6).abs() < 1e-9);
        assert!(spiky.relative(0.75, 0.6, FIVE) < 0.6);
        assert!(spiky.relative(0.9, 0.6, FIVE) > 0.6);
        assert!((spiky.relative(1.0, 0.6, FIVE) - 1.0).abs() < f64::EPSILON);
        let calm = remember(std::iter::repeat_n(0.1, 2_000));
        assert!(calm.relative(0.5, 0.6, FIVE) > 0.6);
        assert!(calm.relative(0.0, 0.6, FIVE).abs() < f64::EPSILON);
    }

    #[test]
    fn the_memory_fades() {
        let mut memory = remember((0..3_000).map(|i| if i % 50 == 0 { 0.9 } else { 0.1 }));
        assert!(memory.threshold(0.6, FIVE) > 0.9);
        for _ in 0..40_000 {
            memory.observe(0.1);
        }
        assert!(memory.threshold(0.6, FIVE) < 0.6);
        assert!(memory.weight() < 1.0 / (1.0 - 0.5_f64.powf(1.0 / HALF_LIFE_EVALUATIONS)) + 1.0);
    }

    #[test]
    fn a_value_inside_the_week_s_range_needs_a_larger_deviation() {
        let mut memory = Memory::default();
        // Two days of values between 10 and 19.9, every minute.
        for minute in 0..2 * 1_440 {
            memory.observe(
                DetectorScores {
                    point: Some(0.1),
                    ..DetectorScores::default()
                },
                Some(10.0 + f64::from(minute % 100) / 10.0),
                None,
                i64::from(minute) * 60 + 60,
            );
        }
        let scores = DetectorScores {
            point: Some(0.7),
            ..DetectorScores::default()
        };
        let now = 2 * 86_400 + 60;
        let judge = |newest| {
            memory
                .relative(scores, 0.6, newest, Direction::Both, FIVE)
                .map(|(score, reason)| {
                    assert_eq!(reason, Reason::Point, "the only score there is");
                    score
                })
        };
        let unknown = judge(None).expect("a point score");
        let beyond = judge(Some((25.0, now))).expect("a point score");
        let below = judge(Some((5.0, now))).expect("a point score");
        let inside = judge(Some((15.0, now))).expect("a point score");
        let near = judge(Some((21.0, now))).expect("a point score");
        assert!((beyond - unknown).abs() < 1e-12 && (below - unknown).abs() < 1e-12);
        assert!(
            (odds(beyond) / odds(inside) - WITHIN_FACTOR * POINT_WITHIN_FACTOR).abs() < 1e-9,
            "a lone point inside the range: {beyond} {inside}"
        );
        assert!(
            (near - inside).abs() < 1e-12,
            "a lone point just past the range's high: {near} {inside}"
        );
        let up_only = memory.relative(scores, 0.6, Some((5.0, now)), Direction::Up, FIVE);
        assert_eq!(
            up_only,
            Some((inside, Reason::Point)),
            "a low is no news to an upward check"
        );
        let shifted = DetectorScores {
            point: Some(0.1),
            sustained: Some(0.7),
            ..DetectorScores::default()
        };
        let judge = |newest| memory.relative(shifted, 0.6, newest, Direction::Both, FIVE);
        let (beyond, reason) = judge(Some((25.0, now))).expect("a point score");
        assert_eq!(reason, Reason::Sustained);
        let (inside, reason) = judge(Some((15.0, now))).expect("a point score");
        assert_eq!(reason, Reason::Sustained);
        assert!(
            (odds(beyond) / odds(inside) - WITHIN_FACTOR).abs() < 1e-9,
            "a shifted mean inside the range: {beyond} {inside}"
        );
        assert_eq!(
            judge(Some((21.0, now))),
            Some((beyond, Reason::Sustained)),
            "a shifted mean just past the range's high meets the plain bar"
        );
    }

    #[test]
    fn a_repeated_or_empty_evaluation_is_not_taken() {
        let scores = DetectorScores {
            point: Some(0.5),
            sustained: Some(0.5),
            daily: None,
        };
        let mut memory = Memory::default();
        memory.observe(scores, Some(10.0), None, 120);
        memory.observe(scores, Some(10.0), None, 120);
        memory.observe(scores, Some(10.0), None, 60);
        assert!((memory.point.weight() - 1.0).abs() < 1e-6);
        assert!((memory.sustained.weight() - 1.0).abs() < 1e-6);
        assert!(memory.daily.weight().abs() < 1e-6);
        assert_eq!(memory.seen, 120);
        memory.observe(DetectorScores::default(), Some(f64::NAN), None, 180);
        assert_eq!(memory.seen, 120, "nothing to take");
        memory.point.observe(f64::NAN);
        assert!((memory.point.weight() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn a_hostile_stored_memory_is_made_sane() {
        let mut json = String::from("{\"counts\":[-5.0,1e39");
        for _ in 0..1_000 {
            json.push_str(",1.0");
        }
        json.push_str("]}");
        let memory: ScoreMemory = serde_json::from_str(&json).expect("parses");
        assert_eq!(memory.counts.len(), BUCKETS);
        assert!(memory.counts[0].abs() < f32::EPSILON, "negative");
        assert!(memory.counts[1].abs() < f32::EPSILON, "beyond f32");
        assert!((memory.weight() - 30.0).abs() < 1e-6);
        assert!((memory.threshold(0.6, FIVE) - 0.6).abs() < f64::EPSILON);
    }

    #[test]
    fn it_is_small_when_stored() {
        let memory = remember((0..20_000).map(|i| f64::from(i % 7) / 10.0));
        let json = serde_json::to_string(&memory).expect("serialises");
        assert!(json.len() < 400, "{json}");
        let back: ScoreMemory = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, memory);
    }
}
