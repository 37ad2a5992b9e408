//! Anomaly detectors: pure, causal, deterministic code over slices.
//!
//! A [`Detector`] scores the newest point of a window against the points before it, and only
//! those: what one `anomaly-check` invocation reads from Prometheus is exactly what it scores.
//! Scores lie in `[0, 1]`, grow smoothly with the size of the deviation (they do not saturate
//! at a modest one), and are `None` where nothing can be said (the newest point is missing, or
//! the history is too short). A check decides "anomalous" when the score reaches its threshold.
//!
//! Several detectors sit behind the one trait so they can be compared on the same data:
//!
//! - [`RollingZScore`]: the seed's rule, mean and standard deviation of the last 100 values,
//!   |z| > 3. Kept as the baseline to beat.
//! - [`RobustBaseline`]: a resistant line through the window (optionally through the
//!   residuals against the same window a day earlier), extended to the newest point, so a
//!   daily ramp is expected and past spikes, gaps and short bursts barely move it; the noise
//!   level from the points' spread around that line — the larger of the MAD estimate and the
//!   99th-percentile estimate, so spikes that recur in more than 1 % of the window count as
//!   this series' normal; a scale floor keeps flat lines and low-volume noise from turning
//!   tiny wiggles into huge scores.

pub mod memory;
mod packed;
pub mod profile;
pub mod scale;
pub mod tuning;
pub mod week;

use serde::{Deserialize, Serialize};

/// Which deviations matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Only values above the baseline (error ratios, latency).
    Up,
    /// Only values below the baseline.
    Down,
    /// Both (request rates: a drop matters as much as a spike).
    #[default]
    Both,
}

impl Direction {
    /// Keeps the deviation `z` if it points the way that matters, else 0.
    pub fn filter(self, z: f64) -> f64 {
        match self {
            Self::Up => z.max(0.0),
            Self::Down => (-z).max(0.0),
            Self::Both => z.abs(),
        }
    }

    /// Whether `value` lies outside `[low, high]` on the side that matters.
    pub fn beyond(self, value: f64, low: f64, high: f64) -> bool {
        match self {
            Self::Up => value > high,
            Self::Down => value < low,
            Self::Both => value > high || value < low,
        }
    }
}

/// Scores the newest point of a window.
pub trait Detector: Send + Sync {
    /// A short name for tables and logs.
    fn name(&self) -> &'static str;

    /// The score in `[0, 1]` of `window`'s last point against the points before it;
    /// `seasonal`, when given, is the same window one season earlier, point for point.
    /// `NaN` marks missing points. `None` when the last point is missing or the history is
    /// too short to judge.
    fn score(&self, window: &[f64], seasonal: Option<&[f64]>, direction: Direction) -> Option<f64>;
}

/// The detectors a check can be scored with, by the name configuration uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DetectorChoice {
    /// [`RobustBaseline`] (`robust-baseline`), the default.
    #[default]
    RobustBaseline,
    /// [`RollingZScore`] (`rolling-zscore`), the seed's rule, for comparison.
    RollingZScore,
}

impl DetectorChoice {
    /// Every choice.
    pub const ALL: [Self; 2] = [Self::RobustBaseline, Self::RollingZScore];

    /// The name configuration and `score-csv --detector` use.
    pub const fn name(self) -> &'static str {
        match self {
            Self::RobustBaseline => "robust-baseline",
            Self::RollingZScore => "rolling-zscore",
        }
    }

    /// The choice named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|choice| choice.name() == name)
    }

    /// The detector.
    pub fn build(self) -> Box<dyn Detector> {
        match self {
            Self::RobustBaseline => Box::new(RobustBaseline::default()),
            Self::RollingZScore => Box::new(RollingZScore::default()),
        }
    }
}

/// Maps a non-negative deviation (in robust standard deviations) onto `[0, 1)`: 0.5 at
/// `half`, 0.75 at `3 × half`, 0.9 at `9 × half`; never 1, so large deviations stay ordered.
pub fn squash(deviation: f64, half: f64) -> f64 {
    let deviation = deviation.max(0.0);
    deviation / (deviation + half)
}

/// The seed's rule: z-score against the mean and standard deviation of the previous `span`
/// values; its score is 0.5 at |z| = 3, the seed's threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RollingZScore {
    /// How many previous values make the baseline (the seed used 100).
    pub span: usize,
}

impl Default for RollingZScore {
    fn default() -> Self {
        Self { span: 100 }
    }
}

impl Detector for RollingZScore {
    fn name(&self) -> &'static str {
        "rolling-zscore"
    }

    fn score(
        &self,
        window: &[f64],
        _seasonal: Option<&[f64]>,
        direction: Direction,
    ) -> Option<f64> {
        let (&last, history) = window.split_last()?;
        if !last.is_finite() {
            return None;
        }
        let history: Vec<f64> = history
            .iter()
            .rev()
            .filter(|v| v.is_finite())
            .take(self.span)
            .copied()
            .collect();
        if history.len() < 2 {
            return None;
        }
        let n = history.len() as f64;
        let mean = history.iter().sum::<f64>() / n;
        let variance = history.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let deviation = variance.sqrt();
        let z = if deviation > 0.0 {
            (last - mean) / deviation
        } else if (last - mean).abs() > 0.0 {
            f64::INFINITY.copysign(last - mean)
        } else {
            0.0
        };
        let z = direction.filter(z);
        Some(if z.is_infinite() { 1.0 } else { squash(z, 3.0) })
    }
}

/// A resistant line through the history (or its residuals against last season) as the
/// baseline, the MAD around it as the noise scale, with a floor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RobustBaseline {
    /// Points of history needed before scoring.
    pub min_history: usize,
    /// Deviation (in robust standard deviations) that scores 0.5.
    pub half_score_deviation: f64,
    /// The scale is at least this fraction of the baseline's magnitude.
    pub relative_floor: f64,
    /// The scale is at least this much in absolute terms.
    pub absolute_floor: f64,
}

impl Default for RobustBaseline {
    fn default() -> Self {
        Self {
            min_history: 30,
            half_score_deviation: 4.0,
            relative_floor: 0.01,
            absolute_floor: 1e-9,
        }
    }
}

/// The means of consecutive groups of `size` points, the last group ending with the newest
/// point; a partial group at the start is dropped, missing points are skipped, and a group
/// with none present is missing.
pub fn means_of(window: &[f64], size: usize) -> Vec<f64> {
    let mut means: Vec<f64> = window
        .rchunks_exact(size.max(1))
        .map(|group| {
            let (sum, count) = group
                .iter()
                .filter(|v| v.is_finite())
                .fold((0.0, 0.0), |(sum, count), v| (sum + v, count + 1.0));
            if count > 0.0 {
                sum / count
            } else {
                f64::NAN
            }
        })
        .collect();
    means.reverse();
    means
}

/// The median of `values` (reorders them).
fn median(values: &mut [f64]) -> f64 {
    let middle = values.len() / 2;
    let (_, upper, _) = values.select_nth_unstable_by(middle, f64::total_cmp);
    let upper = *upper;
    if values.len() % 2 == 1 {
        upper
    } else {
        let lower = values[..middle]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        lower.midpoint(upper)
    }
}

/// Tukey's three-group resistant line through `points` (`x` ascending): the slope joins the
/// medians of the first and last thirds, the intercept balances all three. Linear time, and a
/// burst shorter than a third of the window barely moves it.
fn resistant_line(points: &[(f64, f64)]) -> (f64, f64) {
    let third = points.len() / 3;
    let group = |range: &[(f64, f64)]| {
        let mut xs: Vec<f64> = range.iter().map(|p| p.0).collect();
        let mut ys: Vec<f64> = range.iter().map(|p| p.1).collect();
        (median(&mut xs), median(&mut ys))
    };
    if third == 0 {
        let mut ys: Vec<f64> = points.iter().map(|p| p.1).collect();
        return (0.0, median(&mut ys));
    }
    let (xl, yl) = group(&points[..third]);
    let (xm, ym) = group(&points[third..points.len() - third]);
    let (xr, yr) = group(&points[points.len() - third..]);
    let slope = if xr > xl { (yr - yl) / (xr - xl) } else { 0.0 };
    let intercept = (yl + ym + yr - slope * (xl + xm + xr)) / 3.0;
    (slope, intercept)
}

impl Detector for RobustBaseline {
    fn name(&self) -> &'static str {
        "robust-baseline"
    }

    fn score(&self, window: &[f64], seasonal: Option<&[f64]>, direction: Direction) -> Option<f64> {
        let (&last, history) = window.split_last()?;
        if !last.is_finite() {
            return None;
        }
        let season = seasonal.filter(|s| s.len() == window.len() && s[s.len() - 1].is_finite());
        let (target, points): (f64, Vec<(f64, f64)>) = match season {
            Some(season) => (
                last - season[season.len() - 1],
                history
                    .iter()
                    .zip(season)
                    .enumerate()
                    .map(|(i, (value, past))| (i as f64, value - past))
                    .filter(|p| p.1.is_finite())
                    .collect(),
            ),
            None => (
                last,
                history
                    .iter()
                    .enumerate()
                    .map(|(i, value)| (i as f64, *value))
                    .filter(|p| p.1.is_finite())
                    .collect(),
            ),
        };
        if points.len() < self.min_history {
            return None;
        }
        let (baseline, noise) = baseline_and_noise(&points, history.len() as f64);
        let level = history
            .iter()
            .rev()
            .find(|v| v.is_finite())
            .copied()
            .unwrap_or(baseline);
        let scale = noise
            .max(self.relative_floor * level.abs())
            .max(self.absolute_floor);
        Some(squash(
            direction.filter((target - baseline) / scale),
            self.half_score_deviation,
        ))
    }
}

/// The resistant line's value at `x`, and the spread of the points around the line: the
/// larger of the MAD-based and the 95th-percentile-based estimates of σ.
pub fn baseline_and_noise(points: &[(f64, f64)], x: f64) -> (f64, f64) {
    let (slope, intercept) = resistant_line(points);
    let mut residuals: Vec<f64> = points
        .iter()
        .map(|(px, py)| py - (intercept + slope * px))
        .collect();
    let centre = median(&mut residuals);
    for residual in &mut residuals {
        *residual = (*residual - centre).abs();
    }
    let mad = 1.4826 * median(&mut residuals);
    // Where spikes are part of normal life the MAD ignores them; the 99th percentile of the
    // deviations (÷ 2.576: the same σ for normal noise) does not.
    let tail_index = (residuals.len() * 99 / 100).min(residuals.len() - 1);
    let (_, tail, _) = residuals.select_nth_unstable_by(tail_index, f64::total_cmp);
    (intercept + slope * x + centre, mad.max(*tail / 2.576))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(n: usize, level: f64, amplitude: f64) -> Vec<f64> {
        // A deterministic wiggle: no randomness in tests.
        (0..n)
            .map(|i| level + amplitude * ((i as f64 * 1.7).sin() + (i as f64 * 0.31).cos()) / 2.0)
            .collect()
    }

    fn detectors() -> Vec<Box<dyn Detector>> {
        vec![
            Box::new(RollingZScore::default()),
            Box::new(RobustBaseline::default()),
        ]
    }

    #[test]
    fn a_spike_scores_high_and_calm_scores_low() {
        for detector in detectors() {
            let mut window = noise(200, 100.0, 5.0);
            let calm = detector
                .score(&window, None, Direction::Both)
                .expect("scored");
            window.push(180.0);
            let spike = detector
                .score(&window, None, Direction::Both)
                .expect("scored");
            assert!(calm < 0.3, "{}: calm {calm}", detector.name());
            assert!(spike > 0.7, "{}: spike {spike}", detector.name());
        }
    }

    #[test]
    fn direction_ignores_the_other_side() {
        let detector = RobustBaseline::default();
        let mut window = noise(200, 100.0, 5.0);
        window.push(20.0);
        assert!(
            detector
                .score(&window, None, Direction::Down)
                .expect("scored")
                > 0.7
        );
        assert!(
            detector
                .score(&window, None, Direction::Both)
                .expect("scored")
                > 0.7
        );
        assert!(
            detector
                .score(&window, None, Direction::Up)
                .expect("scored")
                .abs()
                < f64::EPSILON
        );
    }

    #[test]
    fn rare_past_spikes_do_not_mask_a_new_one_but_frequent_ones_are_normal() {
        let robust = RobustBaseline::default();
        let mut window = noise(360, 100.0, 5.0);
        for i in [40, 160, 280] {
            window[i] = 1_000.0;
        }
        window.push(180.0);
        let score = robust.score(&window, None, Direction::Up).expect("scored");
        assert!(
            score > 0.7,
            "three old spikes in 360 points do not blind it: {score}"
        );
        let seed = RollingZScore::default()
            .score(&window, None, Direction::Up)
            .expect("scored");
        assert!(seed < score, "the seed rule is masked by them: {seed}");
        for i in (5..355).step_by(12) {
            window[i] = 160.0;
        }
        let usual = robust.score(&window, None, Direction::Up).expect("scored");
        assert!(
            usual < 0.6,
            "spikes in 8 % of the points are this series' normal: {usual}"
        );
    }

    #[test]
    fn a_flat_line_does_not_turn_a_tiny_wiggle_into_an_alarm() {
        let detector = RobustBaseline::default();
        let mut window = vec![50.0; 100];
        window.push(50.2);
        assert!(
            detector
                .score(&window, None, Direction::Both)
                .expect("scored")
                < 0.5
        );
        window.push(80.0);
        assert!(
            detector
                .score(&window, None, Direction::Both)
                .expect("scored")
                > 0.9
        );
    }

    #[test]
    fn a_level_shift_stops_being_anomalous_once_it_is_the_norm() {
        let detector = RobustBaseline::default();
        let mut window = noise(120, 100.0, 5.0);
        window.extend(noise(60, 200.0, 5.0));
        assert!(
            detector
                .score(&window[..121], None, Direction::Both)
                .expect("scored")
                > 0.7
        );
        window.extend(noise(80, 200.0, 5.0));
        let settled = &window[window.len() - 120..];
        assert!(
            detector
                .score(settled, None, Direction::Both)
                .expect("scored")
                < 0.3
        );
    }

    #[test]
    fn a_daily_pattern_is_expected_when_last_season_is_given() {
        let detector = RobustBaseline::default();
        let day = |i: usize| 100.0 + 80.0 * (i as f64 / 1440.0 * std::f64::consts::TAU).sin();
        // A window of 6 hours across the daily ramp, and the same window a day earlier.
        let window: Vec<f64> = (300..660).map(|i| day(i) + ((i * 7) % 5) as f64).collect();
        let season: Vec<f64> = (300..660).map(|i| day(i) + ((i * 3) % 5) as f64).collect();
        let plain = detector
            .score(&window, None, Direction::Both)
            .expect("scored");
        let seasonal = detector
            .score(&window, Some(&season), Direction::Both)
            .expect("scored");
        assert!(
            seasonal < 0.5 && seasonal < plain,
            "seasonal {seasonal} vs plain {plain}"
        );
    }

    #[test]
    fn missing_points_are_skipped_and_a_missing_newest_point_is_not_scored() {
        for detector in detectors() {
            let mut window = noise(200, 100.0, 5.0);
            for i in (0..200).step_by(3) {
                window[i] = f64::NAN;
            }
            window.push(f64::NAN);
            assert_eq!(
                detector.score(&window, None, Direction::Both),
                None,
                "{}",
                detector.name()
            );
            window.push(180.0);
            assert!(
                detector
                    .score(&window, None, Direction::Both)
                    .expect("scored")
                    > 0.7,
                "{}",
                detector.name()
            );
            assert_eq!(
                detector.score(&[f64::INFINITY, 1.0], None, Direction::Both),
                None
            );
        }
    }

    #[test]
    fn means_are_of_groups_ending_with_the_newest_point() {
        let window = [9.0, 1.0, 2.0, f64::NAN, 4.0, f64::NAN, f64::NAN];
        let means = means_of(&window, 2);
        assert_eq!(means.len(), 3, "the partial group at the start is dropped");
        assert!((means[0] - 1.5).abs() < 1e-12);
        assert!((means[1] - 4.0).abs() < 1e-12, "a missing point is skipped");
        assert!(means[2].is_nan(), "a group with nothing present is missing");
        assert_eq!(means_of(&window, 1).len(), window.len());
    }

    #[test]
    fn scores_stay_ordered_for_large_deviations() {
        assert!(squash(100.0, 6.0) < squash(1_000.0, 6.0));
        assert!(squash(1_000.0, 6.0) < 1.0);
        assert!((squash(6.0, 6.0) - 0.5).abs() < 1e-12);
        assert!(squash(-3.0, 6.0).abs() < f64::EPSILON);
    }
}
