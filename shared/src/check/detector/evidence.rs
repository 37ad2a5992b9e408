//! A series' accumulated evidence: a moderate anomaly that lasts.
//!
//! Every score the check compares with its threshold judges one evaluation. A series that
//! sits at half its bar for hours, a day of taxi demand that stays low through a snow storm or
//! a temperature that drifts away from where it was, never crosses the bar on any one
//! evaluation, yet an operator looking at it calls it an incident. So each series keeps the
//! level of its recent evidence: the moving average of its score as a share of the bar (in
//! odds, capped at [`CAP`]), each evaluation's weight halving after
//! [`HALF_LIFE_EVALUATIONS`]. The level is evidence of an incident when it reaches
//! [`LEVEL_BAR`] of the bar and is also unusual for this series: at least [`UNUSUAL_SIGMAS`]
//! standard deviations above the level's own long-run mean (which the series needs
//! [`MIN_EVALUATIONS`](super::scale::MIN_EVALUATIONS) to know), so that a series whose scores are always
//! moderate, a regular pattern the detector never quite expects, does not page every day. It
//! then counts as a score that reaches the threshold exactly at that bar.
//!
//! An incident spends the evidence once it has been anomalous for the check's hold, when its
//! alert fires (at once by default): the level starts again from nothing, and only once the
//! window no longer holds the incident (a window's span later). Until then the incident's own
//! points in the window make what follows look moderately unusual, which is not news. Five
//! numbers in the alert state, and the start of an anomaly while its alert is pending. This is the role the short-term average of
//! HTM's anomaly likelihood plays, judged against the series' own long run. Measured on NAB
//! in docs/quality.md.

use serde::{Deserialize, Serialize};

use super::scale::{
    kept_per_evaluation, odds, score_of, HALF_LIFE_EVALUATIONS as LONG_RUN_EVALUATIONS,
    MIN_EVALUATIONS,
};

/// Weight of an evaluation in the level halves after this many later evaluations.
pub const HALF_LIFE_EVALUATIONS: f64 = 12.0;
/// The level, as a share of the bar, that is evidence of an incident.
pub const LEVEL_BAR: f64 = 0.5;
/// An evaluation adds at most this share of the bar: one huge spike is judged by its own
/// score, not spread over the evaluations that follow it.
pub const CAP: f64 = 2.0;
/// How far above its long-run mean, in its standard deviations, the level must also be.
pub const UNUSUAL_SIGMAS: f64 = 3.0;

/// One evaluation as the evidence takes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judged {
    /// The evaluation's own score, the series' bar read as `threshold`.
    pub score: f64,
    /// The check's threshold.
    pub threshold: f64,
    /// Whether the evaluation was judged anomalous (its evidence included).
    pub anomalous: bool,
    /// How long the check's alerts stay pending before they fire, in seconds.
    pub hold: i64,
    /// The span of the check's window, in seconds.
    pub span: i64,
}

/// A series' accumulated evidence (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(from = "Stored", into = "Stored")]
pub struct Evidence {
    level: f64,
    quiet_until: i64,
    anomalous_since: Option<i64>,
    weight: f64,
    mean: f64,
    square: f64,
}

/// [`Evidence`] as stored: its level, long-run weight, mean and mean square as base64 of four
/// `f32`, made sane when read (the state object is input like any other).
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(
        default,
        serialize_with = "crate::check::detector::packed::serialize",
        deserialize_with = "crate::check::detector::packed::deserialize"
    )]
    numbers: Vec<f32>,
    #[serde(default)]
    quiet_until: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    anomalous_since: Option<i64>,
}

impl From<Stored> for Evidence {
    fn from(stored: Stored) -> Self {
        let number = |index: usize| {
            let x = f64::from(stored.numbers.get(index).copied().unwrap_or(0.0));
            if x.is_finite() && x >= 0.0 {
                x
            } else {
                0.0
            }
        };
        // The level never exceeds the cap, so neither do its mean and mean square; the weight
        // never exceeds that of an endless run of evaluations.
        let mean = number(2).min(CAP);
        let most = 1.0 / (1.0 - kept_per_evaluation(LONG_RUN_EVALUATIONS));
        Self {
            level: number(0).min(CAP),
            quiet_until: stored.quiet_until,
            anomalous_since: stored.anomalous_since,
            weight: number(1).min(most),
            mean,
            square: number(3).clamp(mean * mean, CAP * CAP),
        }
    }
}

impl From<Evidence> for Stored {
    #[allow(clippy::cast_possible_truncation)]
    fn from(evidence: Evidence) -> Self {
        Self {
            numbers: [
                evidence.level,
                evidence.weight,
                evidence.mean,
                evidence.square,
            ]
            .map(|x| x as f32)
            .to_vec(),
            quiet_until: evidence.quiet_until,
            anomalous_since: evidence.anomalous_since,
        }
    }
}

impl Evidence {
    /// The level once an evaluation whose score is `score` is added, for a check at
    /// `threshold`.
    fn next_level(&self, score: f64, threshold: f64) -> f64 {
        let share = (odds(score) / odds(threshold)).min(CAP);
        let share = if share.is_nan() { 0.0 } else { share };
        let keep = kept_per_evaluation(HALF_LIFE_EVALUATIONS);
        self.level * keep + share * (1.0 - keep)
    }

    /// The score the evidence stands for once the evaluation at `at`, whose own score is
    /// `score`, is added: it reaches `threshold` when the level reaches [`LEVEL_BAR`]. `None`
    /// while the evidence is spent, the long run is not yet known, or the level is usual for
    /// this series.
    pub fn score(&self, score: f64, threshold: f64, at: i64) -> Option<f64> {
        if at < self.quiet_until || self.weight < MIN_EVALUATIONS {
            return None;
        }
        let level = self.next_level(score, threshold);
        let spread = (self.square - self.mean * self.mean).max(0.0).sqrt();
        if level < self.mean + UNUSUAL_SIGMAS * spread {
            return None;
        }
        Some(score_of(odds(threshold) * level / LEVEL_BAR))
    }

    /// Takes the evaluation at `at`. Anomalous ones spend the evidence once they have lasted
    /// the check's hold (when the alert fires), until a window's span later; until then it
    /// keeps counting, so that an alert it made pending can fire.
    pub fn observe(&mut self, judged: Judged, at: i64) {
        // A stored time further ahead than a window cannot come from this check.
        let span = judged.span.max(0);
        self.quiet_until = self.quiet_until.min(at.saturating_add(span));
        let level = self.next_level(judged.score, judged.threshold);
        if judged.anomalous {
            let since = (*self.anomalous_since.get_or_insert(at)).min(at);
            if at.saturating_sub(since) >= judged.hold {
                self.level = 0.0;
                self.quiet_until = at.saturating_add(span);
                self.anomalous_since = None;
            } else {
                self.level = level;
            }
            return;
        }
        self.anomalous_since = None;
        if at < self.quiet_until {
            return;
        }
        let keep = kept_per_evaluation(LONG_RUN_EVALUATIONS);
        self.weight = self.weight * keep + 1.0;
        self.mean += (level - self.mean) / self.weight;
        self.square += (level * level - self.square) / self.weight;
        self.level = level;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THRESHOLD: f64 = 0.6;
    const SPAN: i64 = 21_600;

    /// The score whose odds are `share` of the threshold's.
    fn at_share(share: f64) -> f64 {
        score_of(share * odds(THRESHOLD))
    }

    fn take(evidence: &mut Evidence, share: f64, at: i64, anomalous: bool) {
        evidence.observe(
            Judged {
                score: at_share(share),
                threshold: THRESHOLD,
                anomalous,
                hold: 0,
                span: SPAN,
            },
            at,
        );
    }

    /// Evidence grown on `count` minutes of scores from `share`, starting at minute 1.
    fn grown(count: i64, share: impl Fn(i64) -> f64) -> Evidence {
        let mut evidence = Evidence::default();
        for minute in 1..=count {
            take(&mut evidence, share(minute), 60 * minute, false);
        }
        evidence
    }

    /// The first minute from `start` at which scores of `share` make the evidence reach the
    /// threshold, within `limit` minutes.
    fn minutes_to_fire(evidence: &Evidence, start: i64, share: f64, limit: i64) -> Option<i64> {
        let mut evidence = evidence.clone();
        (0..limit).find(|&minute| {
            let at = 60 * (start + minute);
            let fires = evidence
                .score(at_share(share), THRESHOLD, at)
                .is_some_and(|s| s >= THRESHOLD);
            take(&mut evidence, share, at, false);
            fires
        })
    }

    #[test]
    fn a_moderate_anomaly_that_lasts_reaches_the_bar() {
        // A calm series: its scores a tenth of the bar.
        let calm = grown(2_000, |_| 0.1);
        // Scores at 0.7 of the bar, none anomalous on its own: the level climbs from 0.1 past
        // half the bar within a few half-lives.
        let minutes = minutes_to_fire(&calm, 2_001, 0.7, 200).expect("fires");
        assert!((8..=30).contains(&minutes), "{minutes}");
        // A single such score is not enough, and neither are scores at a third of the bar.
        let once = calm
            .score(at_share(0.7), THRESHOLD, 60 * 2_001)
            .expect("unusual");
        assert!(once < THRESHOLD, "{once}");
        assert_eq!(minutes_to_fire(&calm, 2_001, 0.33, 500), None);
    }

    #[test]
    fn a_huge_score_adds_no_more_than_the_cap() {
        let calm = grown(2_000, |_| 0.1);
        // One evaluation at a hundred times the bar moves the level by at most CAP's share.
        let level = calm
            .score(at_share(100.0), THRESHOLD, 60 * 2_001)
            .expect("unusual");
        let odds = level / (1.0 - level);
        let keep = kept_per_evaluation(HALF_LIFE_EVALUATIONS);
        let most = (0.1 * keep + CAP * (1.0 - keep)) / LEVEL_BAR * THRESHOLD / (1.0 - THRESHOLD);
        assert!(odds <= most + 1e-9, "{odds} {most}");
    }

    #[test]
    fn a_young_series_has_no_evidence_yet() {
        let young = grown(200, |_| 0.1);
        assert_eq!(minutes_to_fire(&young, 201, 0.9, 40), None);
        assert!(young.score(at_share(0.9), THRESHOLD, 60 * 201).is_none());
    }

    #[test]
    fn a_series_always_at_half_its_bar_is_not_news() {
        // A regular pattern the detector never quite expects: half of every day at 0.6 of the
        // bar, the other half at 0.1. The level reaches half the bar every day, but that is
        // its usual.
        let regular = grown(
            5 * 1_440,
            |minute| {
                if minute % 1_440 < 720 {
                    0.6
                } else {
                    0.1
                }
            },
        );
        assert_eq!(minutes_to_fire(&regular, 5 * 1_440 + 1, 0.6, 720), None);
        // A calm series at 0.6 of its bar for as long fires.
        let calm = grown(5 * 1_440, |_| 0.1);
        assert!(minutes_to_fire(&calm, 5 * 1_440 + 1, 0.6, 720).is_some());
    }

    #[test]
    fn an_anomalous_evaluation_spends_the_evidence_for_a_window_s_span() {
        let mut evidence = grown(2_000, |_| 0.1);
        take(&mut evidence, 3.0, 60 * 2_001, true);
        assert!(evidence.level.abs() < f64::EPSILON);
        // What follows the incident is moderately unusual for hours: not news while the
        // window still holds the incident.
        let quiet = 2_001 + SPAN / 60;
        for minute in 2_002..quiet {
            let at = 60 * minute;
            assert!(evidence.score(at_share(0.9), THRESHOLD, at).is_none());
            take(&mut evidence, 0.9, at, false);
        }
        assert!(evidence.level.abs() < f64::EPSILON, "nothing accumulated");
        assert!(minutes_to_fire(&evidence, quiet, 0.9, 60).is_some());
    }

    #[test]
    fn it_keeps_counting_through_the_check_s_hold_and_is_spent_when_the_alert_fires() {
        let mut evidence = grown(2_000, |_| 0.1);
        let start = 2_001;
        let fires = start + minutes_to_fire(&evidence, start, 0.9, 100).expect("fires");
        for minute in start..fires {
            take(&mut evidence, 0.9, 60 * minute, false);
        }
        // Held for five minutes: pending from `fires`, firing five minutes later.
        let hold = 300;
        for minute in fires..=fires + 5 {
            let at = 60 * minute;
            let score = evidence.score(at_share(0.9), THRESHOLD, at);
            assert!(score.is_some_and(|s| s >= THRESHOLD), "{minute}: {score:?}");
            evidence.observe(
                Judged {
                    score: at_share(0.9),
                    threshold: THRESHOLD,
                    anomalous: true,
                    hold,
                    span: SPAN,
                },
                at,
            );
        }
        assert!(evidence
            .score(at_share(0.9), THRESHOLD, 60 * (fires + 6))
            .is_none());
    }

    #[test]
    fn a_hostile_stored_evidence_is_made_sane() {
        let stored = r#"{"numbers":[1e30,1e30,1e30,0.1,7,8],"quiet_until":9000000000000}"#;
        let evidence: Evidence = serde_json::from_str(stored).expect("parses");
        assert!((evidence.level - CAP).abs() < f64::EPSILON);
        assert!((evidence.mean - CAP).abs() < f64::EPSILON);
        assert!((evidence.square - CAP * CAP).abs() < f64::EPSILON);
        assert!(evidence.weight < 15_000.0, "{}", evidence.weight);
        let stored = r#"{"numbers":[1e30,-3,0.5,0.1,7,8],"quiet_until":9000000000000}"#;
        let evidence: Evidence = serde_json::from_str(stored).expect("parses");
        assert!((evidence.level - CAP).abs() < f64::EPSILON);
        assert!(evidence.weight.abs() < f64::EPSILON);
        assert!(evidence.square >= evidence.mean * evidence.mean);
        assert!(
            evidence.score(0.99, THRESHOLD, 600).is_none(),
            "young again"
        );
        let mut quiet = grown(2_000, |_| 0.1);
        quiet.quiet_until = i64::MAX;
        take(&mut quiet, 0.1, 60 * 2_001, false);
        assert_eq!(
            quiet.quiet_until,
            60 * 2_001 + SPAN,
            "no longer than a window"
        );
        let short: Evidence = serde_json::from_str(r#"{"numbers":[1e39]}"#).expect("parses");
        assert_eq!(short, Evidence::default(), "beyond f32, and missing");
        let older: Evidence = serde_json::from_str("{}").expect("an older state");
        assert_eq!(older, Evidence::default());
        let json = serde_json::to_string(&grown(3_000, |_| 0.3)).expect("serialises");
        assert!(json.len() < 60, "{json}");
        let back: Evidence = serde_json::from_str(&json).expect("parses");
        assert_eq!(serde_json::to_string(&back).expect("serialises"), json);
    }
}
