//! A series' daily profile: what it usually is at each hour of the day (UTC), learnt one
//! evaluation at a time and kept in the alert state.
//!
//! Seasonality that reads the same window a day earlier doubles every query; this costs 24
//! numbers per series instead. Each hour's mean moves towards the values seen in that hour by
//! the `daily_share` ([`crate::check::detector::tuning`]) a day, whatever the evaluation step (a one-minute check and a five-minute
//! one learn at the same pace), so a lasting change of rhythm is learnt within weeks and a
//! single odd day barely moves it; until an hour has been seen 255 times its mean is the plain
//! average of its values, so a young profile is not one noisy point. Once every hour has been
//! seen [`READY_VISITS`] times the
//! profile gives an expected value for any time, and the window's residuals against it can be
//! scored like any series. Measured on NAB in docs/quality.md.

use serde::{Deserialize, Serialize};

use super::tuning::Share;

/// Evaluations every hour needs before the profile is used.
pub const READY_VISITS: u8 = 3;

const HOURS: usize = 24;
const HOUR: i64 = 3_600;

/// The hour-of-day means and how often each hour was seen (counted up to 255).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DailyProfile {
    /// One mean per hour of the day (UTC); empty until the first value.
    #[serde(
        serialize_with = "crate::check::detector::packed::serialize",
        deserialize_with = "stored_means"
    )]
    means: Vec<f32>,
    /// Evaluations per hour, up to 255.
    #[serde(
        serialize_with = "crate::check::detector::packed::serialize",
        deserialize_with = "stored_visits"
    )]
    visits: Vec<u8>,
}

/// Means as stored, made sane: exactly 24 finite ones, or none.
fn stored_means<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<f32>, D::Error> {
    let means: Vec<f32> = crate::check::detector::packed::deserialize(deserializer)?;
    Ok(
        if means.len() == HOURS && means.iter().all(|m| m.is_finite()) {
            means
        } else {
            Vec::new()
        },
    )
}

/// Visits as stored, made sane: exactly 24, or none.
fn stored_visits<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let visits: Vec<u8> = crate::check::detector::packed::deserialize(deserializer)?;
    Ok(if visits.len() == HOURS {
        visits
    } else {
        Vec::new()
    })
}

fn hour(at: i64) -> usize {
    usize::try_from(at.rem_euclid(86_400) / HOUR).unwrap_or(0)
}

impl DailyProfile {
    /// Takes the value of the evaluation at `at`, `step` seconds after the previous one, each
    /// hour's mean moving by `daily_share` a day; a value that is not a number is ignored.
    pub fn observe(&mut self, value: f64, at: i64, step: i64, daily_share: Share) {
        if !value.is_finite() {
            return;
        }
        if self.means.len() != HOURS || self.visits.len() != HOURS {
            self.means = vec![0.0; HOURS];
            self.visits = vec![0; HOURS];
        }
        // At most an hour: an hour's worth of values moves the mean by the daily share,
        // however many evaluations make it.
        #[allow(clippy::cast_precision_loss)]
        let step = step.clamp(1, HOUR) as f64;
        #[allow(clippy::cast_precision_loss)]
        let share = 1.0 - (1.0 - daily_share.get()).powf(step / HOUR as f64);
        let slot = hour(at);
        let mean = f64::from(self.means[slot]);
        // Until an hour has been seen often, its mean is the plain average of what was seen.
        let visits = self.visits[slot];
        let share = if visits < u8::MAX {
            share.max(1.0 / (f64::from(visits) + 1.0))
        } else {
            share
        };
        #[allow(clippy::cast_possible_truncation)]
        let next = (mean + share * (value - mean)) as f32;
        if next.is_finite() {
            self.means[slot] = next;
            self.visits[slot] = self.visits[slot].saturating_add(1);
        }
    }

    /// The usual values at `times`, once every hour has been seen [`READY_VISITS`] times.
    pub fn expected_at(&self, times: &[i64]) -> Option<Vec<f64>> {
        let ready = self.means.len() == HOURS
            && self.visits.len() == HOURS
            && self.visits.iter().all(|v| *v >= READY_VISITS);
        ready.then(|| {
            times
                .iter()
                .map(|at| f64::from(self.means[hour(*at)]))
                .collect()
        })
    }

    /// The usual value at `at` (see [`DailyProfile::expected_at`]).
    pub fn expected(&self, at: i64) -> Option<f64> {
        self.expected_at(&[at]).map(|usual| usual[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::detector::tuning::Tuning;

    fn share() -> Share {
        Tuning::default().daily_share
    }

    fn day(at: i64) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let phase = at.rem_euclid(86_400) as f64 / 86_400.0;
        100.0 + 50.0 * (phase * std::f64::consts::TAU).sin()
    }

    fn learn(days: i64, step: i64) -> DailyProfile {
        let mut profile = DailyProfile::default();
        for at in (step..=days * 86_400).step_by(usize::try_from(step).expect("positive")) {
            profile.observe(day(at), at, step, share());
        }
        profile
    }

    #[test]
    fn it_learns_a_daily_cycle_once_every_hour_is_seen() {
        let mut profile = DailyProfile::default();
        for at in (60..=2 * 3_600).step_by(60) {
            profile.observe(day(at), at, 60, share());
        }
        assert_eq!(profile.expected(3_000), None, "most hours are still unseen");
        let profile = learn(3, 300);
        for hour in 0..24 {
            let at = 4 * 86_400 + hour * 3_600 + 1_800;
            let expected = profile.expected(at).expect("ready");
            assert!((expected - day(at)).abs() < 8.0, "{hour}: {expected}");
        }
    }

    #[test]
    fn the_pace_does_not_depend_on_the_step() {
        // Four weeks of the cycle (every hour seen 255 times, past the plain average), then a
        // day 40 higher: each hour moves by about the daily share, at a one-minute step as at
        // a five-minute one.
        for step in [60, 300] {
            let mut profile = learn(28, step);
            let before = profile.expected(29 * 86_400 + 43_200).expect("ready");
            for at in (28 * 86_400 + step..=29 * 86_400).step_by(usize::try_from(step).expect("+"))
            {
                profile.observe(day(at) + 40.0, at, step, share());
            }
            let moved = profile.expected(29 * 86_400 + 43_200).expect("ready") - before;
            assert!(
                (moved - 40.0 * share().get()).abs() < 0.5,
                "step {step}: moved {moved}"
            );
        }
    }

    #[test]
    fn a_missing_value_is_ignored() {
        let mut profile = learn(4, 300);
        let stored = profile.clone();
        profile.observe(f64::NAN, 4 * 86_400 + 300, 300, share());
        assert_eq!(profile, stored);
    }

    #[test]
    fn a_hostile_stored_profile_is_made_sane() {
        let short: DailyProfile =
            serde_json::from_str(r#"{"means":[1.0,2.0],"visits":[3,3]}"#).expect("parses");
        assert_eq!(short.expected(0), None);
        let visits = vec!["3"; HOURS].join(",");
        let means_lost: DailyProfile =
            serde_json::from_str(&format!(r#"{{"means":[1.0,2.0],"visits":[{visits}]}}"#))
                .expect("parses");
        assert_eq!(means_lost.expected(0), None, "no means, no expectation");
        let mut short = short;
        short.observe(7.0, 60, 60, share());
        assert_eq!(short.means.len(), HOURS);
        let json = serde_json::to_string(&learn(4, 300)).expect("serialises");
        let back: DailyProfile = serde_json::from_str(&json).expect("parses");
        assert!(back.expected(0).is_some());
        assert!(json.len() < 400, "{}", json.len());
    }
}
