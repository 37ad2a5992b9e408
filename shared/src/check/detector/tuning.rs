//! The decision's settings, in one place: every number the series' decision rests on besides
//! the check's own threshold, each in a unit an operator can reason about and validated.
//!
//! | setting | default | unit | what it does |
//! | --- | --- | --- | --- |
//! | `rarity` | 0.0015 | share of evaluations | a series' bar is the deviation it exceeded in no more than this share of its remembered evaluations (at a five-minute step; at a finer one the share shrinks with the square root of the step, [`Pace`](super::memory::Pace)) |
//! | `floor` | 0.8 | share of the check's bar | a series' bar never falls below this share of the deviation the check's threshold stands for |
//! | `week_factor` | 1.4 | multiple of the bar | the bar for a value inside the range the series spanned on the six days before today |
//! | `memory_half_life` | 10080 | evaluations | how fast a series' memory of its scores fades (a week of one-minute evaluations) |
//! | `min_evaluations` | 250 | evaluations | how much a memory holds before it sets the bar; until then the check's threshold applies |
//! | `sustained_points` | 6 | points | the sustained score judges the mean of this many newest points |
//! | `daily_share` | 0.05 | share per day | how far each hour of the daily profile moves towards that hour's values in a day |
//!
//! The defaults were chosen by leave-one-category-out cross-validation on NAB, with the false
//! alerts of calm series at a one-minute step as a constraint (docs/quality.md);
//! `anomaly-check score-csv --set NAME=VALUE` scores with another value, which is how
//! `make quality` chooses them.

use std::fmt;

use thiserror::Error;

/// A number strictly between 0 and 1.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Share(f64);

impl Share {
    /// `value` if it lies strictly between 0 and 1.
    pub fn new(value: f64) -> Option<Self> {
        (value > 0.0 && value < 1.0).then_some(Self(value))
    }

    /// The share.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A multiple of at least 1 and at most 100.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Factor(f64);

impl Factor {
    /// `value` if it lies in `[1, 100]`.
    pub fn new(value: f64) -> Option<Self> {
        (1.0..=100.0).contains(&value).then_some(Self(value))
    }

    /// The multiple.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// A count of evaluations or points, at least 1 and at most [`Count::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Count(u32);

impl Count {
    /// The largest count accepted: a year of one-minute evaluations.
    pub const MAX: u32 = 525_600;

    /// `value` if it lies in `[1, MAX]`.
    pub fn new(value: u32) -> Option<Self> {
        (1..=Self::MAX).contains(&value).then_some(Self(value))
    }

    /// The count.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// The decision's settings (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tuning {
    /// The share of remembered evaluations allowed above the series' bar, at a five-minute step.
    pub rarity: Share,
    /// The bar's lowest value, as a share of the check's.
    pub floor: Share,
    /// The bar's multiple for a value inside the week's range.
    pub week_factor: Factor,
    /// Evaluations after which a remembered score's weight has halved.
    pub memory_half_life: Count,
    /// Evaluations (in decayed weight) a memory holds before it sets the bar.
    pub min_evaluations: Count,
    /// Newest points whose mean the sustained score judges.
    pub sustained_points: Count,
    /// How far an hour of the daily profile moves towards that hour's values in a day.
    pub daily_share: Share,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            rarity: Share(0.0015),
            floor: Share(0.8),
            week_factor: Factor(1.4),
            memory_half_life: Count(10_080),
            min_evaluations: Count(250),
            sustained_points: Count(6),
            daily_share: Share(0.05),
        }
    }
}

/// A setting that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TuningError {
    /// Not `NAME=VALUE`.
    #[error("{0:?} is not NAME=VALUE")]
    Form(String),
    /// No setting of that name.
    #[error("{name:?} is not a setting; the settings are {}", Tuning::NAMES.join(", "))]
    Unknown {
        /// The name given.
        name: String,
    },
    /// The value is out of the setting's range.
    #[error("{name}: {value:?} {expected}")]
    Invalid {
        /// The setting.
        name: &'static str,
        /// The value given.
        value: String,
        /// What the setting accepts.
        expected: &'static str,
    },
}

impl Tuning {
    /// The settings' names, as `--set` takes them.
    pub const NAMES: [&'static str; 7] = [
        "rarity",
        "floor",
        "week_factor",
        "memory_half_life",
        "min_evaluations",
        "sustained_points",
        "daily_share",
    ];

    /// Applies `NAME=VALUE`.
    ///
    /// # Errors
    /// [`TuningError`] naming the setting when the name is unknown or the value out of range.
    pub fn set(&mut self, assignment: &str) -> Result<(), TuningError> {
        let (name, value) = assignment
            .split_once('=')
            .ok_or_else(|| TuningError::Form(assignment.to_owned()))?;
        let (name, value) = (name.trim(), value.trim());
        let name = Self::NAMES
            .into_iter()
            .find(|known| *known == name)
            .ok_or_else(|| TuningError::Unknown {
                name: name.to_owned(),
            })?;
        let invalid = |expected| TuningError::Invalid {
            name,
            value: value.to_owned(),
            expected,
        };
        let share = || {
            value
                .parse()
                .ok()
                .and_then(Share::new)
                .ok_or_else(|| invalid("must be a number strictly between 0 and 1"))
        };
        let count = || {
            value
                .parse()
                .ok()
                .and_then(Count::new)
                .ok_or_else(|| invalid("must be a whole number from 1 to 525600"))
        };
        match name {
            "rarity" => self.rarity = share()?,
            "floor" => self.floor = share()?,
            "week_factor" => {
                self.week_factor = value
                    .parse()
                    .ok()
                    .and_then(Factor::new)
                    .ok_or_else(|| invalid("must be a number from 1 to 100"))?;
            }
            "memory_half_life" => self.memory_half_life = count()?,
            "min_evaluations" => self.min_evaluations = count()?,
            "sustained_points" => self.sustained_points = count()?,
            _ => self.daily_share = share()?,
        }
        Ok(())
    }
}

impl fmt::Display for Tuning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rarity={} floor={} week_factor={} memory_half_life={} min_evaluations={} \
             sustained_points={} daily_share={}",
            self.rarity.0,
            self.floor.0,
            self.week_factor.0,
            self.memory_half_life.0,
            self.min_evaluations.0,
            self.sustained_points.0,
            self.daily_share.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_applied_by_name() {
        let mut tuning = Tuning::default();
        tuning.set("rarity=0.003").expect("valid");
        tuning.set(" week_factor = 2 ").expect("valid");
        tuning.set("sustained_points=4").expect("valid");
        assert!((tuning.rarity.get() - 0.003).abs() < 1e-12);
        assert!((tuning.week_factor.get() - 2.0).abs() < 1e-12);
        assert_eq!(tuning.sustained_points.get(), 4);
        assert_eq!(tuning.floor, Tuning::default().floor);
    }

    #[test]
    fn a_bad_setting_is_named() {
        let mut tuning = Tuning::default();
        for (assignment, message) in [
            ("rarity", "\"rarity\" is not NAME=VALUE"),
            (
                "margin=1.1",
                "\"margin\" is not a setting; the settings are rarity, floor",
            ),
            (
                "rarity=1",
                "rarity: \"1\" must be a number strictly between 0 and 1",
            ),
            (
                "floor=NaN",
                "floor: \"NaN\" must be a number strictly between 0 and 1",
            ),
            (
                "week_factor=0.5",
                "week_factor: \"0.5\" must be a number from 1 to 100",
            ),
            (
                "min_evaluations=0",
                "min_evaluations: \"0\" must be a whole number",
            ),
            (
                "sustained_points=2.5",
                "sustained_points: \"2.5\" must be a whole number",
            ),
        ] {
            let error = tuning.set(assignment).expect_err(assignment).to_string();
            assert!(error.starts_with(message), "{assignment}: {error}");
        }
        assert_eq!(tuning, Tuning::default(), "nothing applied");
    }

    #[test]
    fn the_display_lists_every_setting_in_set_s_form() {
        let shown = Tuning::default().to_string();
        let mut parsed = Tuning {
            rarity: Share(0.1),
            ..Tuning::default()
        };
        for assignment in shown.split(' ') {
            parsed.set(assignment).expect(assignment);
        }
        assert_eq!(parsed, Tuning::default());
        assert_eq!(shown.split(' ').count(), Tuning::NAMES.len());
    }
}
