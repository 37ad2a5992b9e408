//! A series' memory of its own scores, and the bar it sets.
//!
//! A fixed threshold treats every series alike, but series are not alike: one that spikes to
//! ten standard deviations of its window every few hours would page every few hours, and one
//! that never strays past two hides a real four. So each series remembers how often its
//! scores reached how far: a histogram over the deviation a score stands for, each
//! evaluation's weight halving over the [`Tuning`]'s `memory_half_life`. Once it holds
//! `min_evaluations` the series' bar is the deviation it exceeded in no more than `rarity` of
//! its remembered evaluations, never below `floor` of the check's own bar; until then the
//! check's threshold applies unchanged. The rarity is a share of evaluations at a five-minute
//! step; a series evaluated more often is held to rarer deviations, so that it does not page
//! five times as often a day ([`Pace`]).
//!
//! Scores are compared as odds, `s / (1 − s)`: for a score that squashes a deviation `d` as
//! `d / (d + h)` the odds are `d / h`, so "1.4 × the odds" is "1.4 × the deviation" whatever
//! the detector's `h`. A series has three such memories ([`Memory`]), for its point, sustained
//! and daily scores, each at most 32 numbers (trailing empty buckets are not stored), kept in
//! the alert state with its daily profile and its week's range, which moves the bar once more
//! ([`crate::check::detector::week`]). Measured on NAB in docs/quality.md.

use serde::{Deserialize, Serialize};

use super::scale::{kept_per_evaluation, odds, score_of};
use super::tuning::Tuning;
use crate::check::detector::profile::DailyProfile;
use crate::check::detector::week::WeekRange;
use crate::check::detector::Direction;

/// The evaluation step the rarity is stated at: the five minutes of the benchmark it was
/// measured on (docs/quality.md).
pub const CALIBRATED_STEP_SECONDS: i64 = 300;
/// The check runs once a minute: evaluations come no more often than this, whatever the step.
pub const EVALUATION_INTERVAL_SECONDS: i64 = 60;

/// How often a series is evaluated. A bar allows a share of evaluations above it, but what an
/// operator feels is false alerts per day: a series evaluated every minute has five times the
/// chances of one evaluated every five minutes. So at a step finer than
/// [`CALIBRATED_STEP_SECONDS`] the rarity shrinks with the square root of the step (to 45 % of
/// it at one minute). In proportion (20 %) would be the same share per day, but it leaves the
/// bar to the few largest evaluations of a week, so that one incident of a few minutes sets it
/// and hides the next; at a coarser step it stays as stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    step_seconds: i64,
}

impl Pace {
    /// The pace the rarity is stated at.
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

    /// The share of evaluations allowed above the bar for a stated `rarity`.
    fn rarity(self, rarity: f64) -> f64 {
        let share = (self.step_seconds as f64 / CALIBRATED_STEP_SECONDS as f64).min(1.0);
        rarity * share.sqrt()
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
    /// The series (or the whole check) stopped reporting: a `no_data` alert.
    NoData,
}

impl Reason {
    /// The reason in words, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Point => "the newest point stands out from the window",
            Self::Sustained => "the mean of the newest points has moved",
            Self::Daily => "it is off its usual level for this hour of the day",
            Self::NoData => "it has reported no data for longer than the check allows",
        }
    }
}

/// What a series carries from one evaluation to the next: a memory for each of its
/// [`DetectorScores`], its daily profile and its week's range.
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
}

impl Memory {
    /// Takes the evaluation's scores and newest value at `at`. An evaluation with neither
    /// scores nor value is not taken, and neither is a second one for the same or an earlier
    /// time (a retried invocation).
    pub fn observe(
        &mut self,
        scores: DetectorScores,
        value: Option<f64>,
        at: i64,
        tuning: &Tuning,
    ) {
        let value = value.filter(|v| v.is_finite());
        if at <= self.seen || (scores.point.is_none() && value.is_none()) {
            return;
        }
        for (memory, score) in [
            (&mut self.point, scores.point),
            (&mut self.sustained, scores.sustained),
            (&mut self.daily, scores.daily),
        ] {
            if let Some(score) = score {
                memory.observe(score, tuning);
            }
        }
        if let Some(value) = value {
            let step = if self.seen > 0 { at - self.seen } else { 60 };
            self.profile.observe(value, at, step, tuning.daily_share);
            self.week.observe(value, at);
        }
        self.seen = at;
    }

    /// The largest of the scores, each in proportion to its memory at `pace`, with the bar
    /// raised by the `week_factor` when the newest `value` at `at` lies inside the series'
    /// week's range, and which score it is (the point score on a tie); `None` without a point
    /// score (the newest point is missing or the history too short).
    pub fn relative(
        &self,
        scores: DetectorScores,
        threshold: f64,
        newest: Option<(f64, i64)>,
        direction: Direction,
        pace: Pace,
        tuning: &Tuning,
    ) -> Option<(f64, Reason)> {
        let inside = newest.is_some_and(|(value, at)| self.week.contains(value, at, direction));
        let factor = if inside {
            tuning.week_factor.get()
        } else {
            1.0
        };
        let judge = |memory: &ScoreMemory, score: f64| {
            score_of(odds(memory.relative(score, threshold, pace, tuning)) / factor)
        };
        let point = (judge(&self.point, scores.point?), Reason::Point);
        let largest = [
            (&self.sustained, scores.sustained, Reason::Sustained),
            (&self.daily, scores.daily, Reason::Daily),
        ]
        .into_iter()
        .filter_map(|(memory, score, reason)| score.map(|s| (judge(memory, s), reason)))
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
    pub fn observe(&mut self, score: f64, tuning: &Tuning) {
        if !score.is_finite() {
            return;
        }
        let decay = kept_per_evaluation(f64::from(tuning.memory_half_life.get()));
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
    pub fn relative(&self, score: f64, threshold: f64, pace: Pace, tuning: &Tuning) -> f64 {
        if self.weight() < f64::from(tuning.min_evaluations.get()) {
            return score;
        }
        rescale(score, self.threshold(threshold, pace, tuning), threshold)
    }

    /// The detector score a new point needs to be anomalous, for a check configured at
    /// `threshold` and evaluated at `pace`.
    pub fn threshold(&self, threshold: f64, pace: Pace, tuning: &Tuning) -> f64 {
        let total = self.weight();
        if total < f64::from(tuning.min_evaluations.get()) {
            return threshold;
        }
        let allowed = pace.rarity(tuning.rarity.get()) * total;
        let mut above = 0.0;
        let mut bar = 0.0;
        for (index, count) in self.counts.iter().enumerate().rev() {
            above += f64::from(*count);
            if above > allowed {
                bar = edge(index);
                break;
            }
        }
        score_of((tuning.floor.get() * odds(threshold)).max(bar))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::detector::tuning::Factor;

    /// The pace the rarity is stated at, five minutes.
    const FIVE: Pace = Pace::CALIBRATED;

    fn tuning() -> Tuning {
        Tuning::default()
    }

    fn remember(scores: impl IntoIterator<Item = f64>) -> ScoreMemory {
        let mut memory = ScoreMemory::default();
        for score in scores {
            memory.observe(score, &tuning());
        }
        memory
    }

    /// The score whose odds are `share` of those of 0.6.
    fn at_share(share: f64) -> f64 {
        score_of(share * odds(0.6))
    }

    #[test]
    fn a_new_series_uses_the_configured_threshold() {
        let memory = remember(std::iter::repeat_n(0.1, 249));
        assert!((memory.threshold(0.6, FIVE, &tuning()) - 0.6).abs() < 1e-12);
        let memory = remember(std::iter::repeat_n(0.1, 260));
        assert!(
            memory.threshold(0.6, FIVE, &tuning()) < 0.6,
            "its own bar from about 250"
        );
    }

    #[test]
    fn a_calm_series_gets_a_lower_bar_but_not_below_the_floor() {
        let memory = remember(std::iter::repeat_n(0.1, 2_000));
        let bar = memory.threshold(0.6, FIVE, &tuning());
        assert!((bar - at_share(tuning().floor.get())).abs() < 1e-9, "{bar}");
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
        // Scores of 0.75 in 0.1 % of evaluations: under the 0.15 % allowed at five minutes,
        // over the 0.067 % allowed at one minute, so the bar rises above them.
        let spiky = remember((0..5_000).map(|i| if i % 1_000 == 0 { 0.75 } else { 0.1 }));
        assert!(spiky.threshold(0.6, FIVE, &tuning()) < 0.6);
        assert!(spiky.threshold(0.6, minute, &tuning()) > 0.75);
        // A coarser step keeps the stated rarity.
        let hourly = spiky.threshold(0.6, Pace::every(3_600), &tuning());
        assert!((hourly - spiky.threshold(0.6, FIVE, &tuning())).abs() < f64::EPSILON);
    }

    #[test]
    fn a_series_that_often_spikes_needs_a_bigger_spike() {
        // Every 100th evaluation scores 0.75 (odds 3, about 12 σ): 1 % of the time, so the
        // bar moves above it.
        let memory = remember((0..5_000).map(|i| if i % 100 == 0 { 0.75 } else { 0.1 }));
        let bar = memory.threshold(0.6, FIVE, &tuning());
        assert!(bar > 0.75, "{bar}");
        assert!(bar < 0.8, "{bar}");
        // A rare spike (0.05 %) does not lift it.
        let memory = remember((0..6_000).map(|i| if i % 2_000 == 0 { 0.75 } else { 0.1 }));
        assert!(memory.threshold(0.6, FIVE, &tuning()) < 0.6);
    }

    #[test]
    fn a_relative_score_reaches_the_threshold_exactly_at_the_bar() {
        let tuning = tuning();
        let fresh = ScoreMemory::default();
        assert!((fresh.relative(0.42, 0.6, FIVE, &tuning) - 0.42).abs() < 1e-12);
        let spiky = remember((0..5_000).map(|i| if i % 100 == 0 { 0.75 } else { 0.1 }));
        let bar = spiky.threshold(0.6, FIVE, &tuning);
        assert!((spiky.relative(bar, 0.6, FIVE, &tuning) - 0.6).abs() < 1e-9);
        assert!(spiky.relative(0.75, 0.6, FIVE, &tuning) < 0.6);
        assert!(spiky.relative(0.9, 0.6, FIVE, &tuning) > 0.6);
        assert!((spiky.relative(1.0, 0.6, FIVE, &tuning) - 1.0).abs() < f64::EPSILON);
        let calm = remember(std::iter::repeat_n(0.1, 2_000));
        assert!(calm.relative(0.55, 0.6, FIVE, &tuning) > 0.6);
        assert!(calm.relative(0.0, 0.6, FIVE, &tuning).abs() < f64::EPSILON);
    }

    #[test]
    fn the_memory_fades() {
        let tuning = tuning();
        let mut memory = remember((0..3_000).map(|i| if i % 50 == 0 { 0.9 } else { 0.1 }));
        assert!(memory.threshold(0.6, FIVE, &tuning) > 0.9);
        for _ in 0..40_000 {
            memory.observe(0.1, &tuning);
        }
        assert!(memory.threshold(0.6, FIVE, &tuning) < 0.6);
        let half_life = f64::from(tuning.memory_half_life.get());
        assert!(memory.weight() < 1.0 / (1.0 - 0.5_f64.powf(1.0 / half_life)) + 1.0);
    }

    #[test]
    fn a_value_inside_the_week_s_range_needs_a_larger_deviation() {
        let mut tuning = tuning();
        tuning.week_factor = Factor::new(2.0).expect("valid");
        let mut memory = Memory::default();
        // Two days of values between 10 and 19.9, every minute.
        for minute in 0..2 * 1_440 {
            memory.observe(
                DetectorScores {
                    point: Some(0.1),
                    ..DetectorScores::default()
                },
                Some(10.0 + f64::from(minute % 100) / 10.0),
                i64::from(minute) * 60 + 60,
                &tuning,
            );
        }
        let now = 2 * 86_400 + 60;
        for scores in [
            DetectorScores {
                point: Some(0.7),
                ..DetectorScores::default()
            },
            DetectorScores {
                point: Some(0.1),
                sustained: Some(0.7),
                ..DetectorScores::default()
            },
        ] {
            let reason = if scores.sustained.is_some() {
                Reason::Sustained
            } else {
                Reason::Point
            };
            let judge = |newest| {
                let (score, given) = memory
                    .relative(scores, 0.6, newest, Direction::Both, FIVE, &tuning)
                    .expect("a point score");
                assert_eq!(given, reason, "the largest score");
                score
            };
            let unknown = judge(None);
            let beyond = judge(Some((25.0, now)));
            let below = judge(Some((5.0, now)));
            let inside = judge(Some((15.0, now)));
            assert!((beyond - unknown).abs() < 1e-12 && (below - unknown).abs() < 1e-12);
            assert!(
                (odds(beyond) / odds(inside) - 2.0).abs() < 1e-9,
                "inside the range: {beyond} {inside}"
            );
            let up_only =
                memory.relative(scores, 0.6, Some((5.0, now)), Direction::Up, FIVE, &tuning);
            assert_eq!(
                up_only,
                Some((inside, reason)),
                "a low is no news to an upward check"
            );
        }
    }

    #[test]
    fn a_repeated_or_empty_evaluation_is_not_taken() {
        let scores = DetectorScores {
            point: Some(0.5),
            sustained: Some(0.5),
            daily: None,
        };
        let tuning = tuning();
        let mut memory = Memory::default();
        memory.observe(scores, Some(10.0), 120, &tuning);
        memory.observe(scores, Some(10.0), 120, &tuning);
        memory.observe(scores, Some(10.0), 60, &tuning);
        assert!((memory.point.weight() - 1.0).abs() < 1e-6);
        assert!((memory.sustained.weight() - 1.0).abs() < 1e-6);
        assert!(memory.daily.weight().abs() < 1e-6);
        assert_eq!(memory.seen, 120);
        memory.observe(DetectorScores::default(), Some(f64::NAN), 180, &tuning);
        assert_eq!(memory.seen, 120, "nothing to take");
        memory.point.observe(f64::NAN, &tuning);
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
        assert!((memory.threshold(0.6, FIVE, &tuning()) - 0.6).abs() < f64::EPSILON);
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
