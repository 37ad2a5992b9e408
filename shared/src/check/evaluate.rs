//! One evaluation of one check: series in, observations, next alert states and notifications
//! out. Pure code; the clock is the scheduled event's time, passed in.
//!
//! For each series of the check's `query_range` result the newest point is scored by the
//! [`Detector`] against the rest of the window (and, with seasonality, against the same window
//! one season earlier), and so is the mean of its newest few points (the tuning's
//! `sustained_points`) against the window's means of as many, and the window's residuals
//! against the series' daily profile. Each score is put in proportion to the series' own past
//! (its [`Memory`], whose bar is higher for a value inside the series' week's range), and the
//! largest counts. It is anomalous when that score reaches the check's threshold **and** the change is
//! material: at least `min_absolute_change`, and at least `min_relative_change` of the
//! baseline. A sensitive detector, then a materiality filter. The
//! [`alert`](crate::check::lifecycle) lifecycle turns observations into notifications. A series that was
//! alerting and is absent now counts as no data; a check whose query failed changes nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::detector::memory::{DetectorScores, Memory, Pace, Reason};
use super::detector::{baseline_and_noise, means_of, Detector};
use super::lifecycle::{AlertKey, AlertState, Observation};
use super::model::Check;
use super::plan::AlertRecord;
use crate::series::{Labels, Points, Series};

/// The newest point of a series and what was expected of it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// The newest value; `None` when missing.
    pub value: Option<f64>,
    /// The baseline: the window's resistant trend line at the newest point (plus last
    /// season's value with seasonality).
    pub expected: Option<f64>,
    /// The typical range: the baseline ± 3 robust standard deviations of the history.
    pub expected_low: Option<f64>,
    /// See `expected_low`.
    pub expected_high: Option<f64>,
    /// The detector's score in proportion to the series' memory: it reaches the check's
    /// threshold exactly when the detector's score reaches the series' bar (raised for a value
    /// inside the series' week's range, [`crate::check::detector::week`]).
    pub score: Option<f64>,
    /// Which score that is; `None` where there is no score.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "known_reason"
    )]
    pub reason: Option<Reason>,
}

impl Reading {
    /// A reading with nothing in it: an SLO alert's figures are in its facts.
    pub const NONE: Self = Self {
        value: None,
        expected: None,
        expected_low: None,
        expected_high: None,
        score: None,
        reason: None,
    };
}

/// A stored reason, `None` for one this version no longer gives (an alert stored by an earlier
/// version keeps its state; its next message names the reason of the day).
fn known_reason<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Reason>, D::Error> {
    let stored = Option::<serde_json::Value>::deserialize(deserializer)?;
    Ok(stored.and_then(|value| serde_json::from_value(value).ok()))
}

/// The decision for one series.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesEvaluation {
    /// The series labels.
    pub labels: Labels,
    /// Anomalous, normal or no data.
    pub observation: Observation,
    /// The numbers behind it.
    pub reading: Reading,
    /// The detector's own scores, before the series' memory puts them in proportion (what the
    /// memory takes in).
    pub detector_scores: DetectorScores,
}

/// Marks the window's points inside the series' latest incident as missing, all but the
/// newest; `times` gives each slot's unix time.
pub fn mask_incident(
    window: &mut [f64],
    times: impl Iterator<Item = i64>,
    incident: Option<(i64, Option<i64>)>,
) {
    let Some((since, until)) = incident else {
        return;
    };
    let last = window.len().saturating_sub(1);
    for (slot, time) in window[..last].iter_mut().zip(times) {
        if time >= since && until.is_none_or(|until| time < until) {
            *slot = f64::NAN;
        }
    }
}

/// Puts a series' points on the window grid `start, start + step, …` (`points` slots);
/// missing slots are `NaN`.
pub fn align(points: &Points, start: i64, step: i64, slots: usize) -> Vec<f64> {
    let mut values = vec![f64::NAN; slots];
    for (time, value) in points.iter() {
        // Range results are on the query's grid; round away float noise in the timestamps.
        #[allow(clippy::cast_possible_truncation)]
        let offset = (time.round() as i64) - start;
        if offset >= 0 && offset % step == 0 {
            if let Some(slot) = usize::try_from(offset / step)
                .ok()
                .and_then(|i| values.get_mut(i))
            {
                *slot = value;
            }
        }
    }
    values
}

/// Scores the newest point of `window` (whose points are at `times`, unix seconds), puts the
/// scores in proportion to the series' `memory`, and decides whether it is anomalous (the
/// evaluation's labels are left empty).
pub fn evaluate_window(
    check: &Check,
    detector: &dyn Detector,
    window: &[f64],
    times: &[i64],
    seasonal: Option<&[f64]>,
    memory: Option<&Memory>,
) -> SeriesEvaluation {
    let value = window.last().copied().filter(|v| v.is_finite());
    let seasonal = seasonal.filter(|s| s.len() == window.len());
    let point = detector.score(window, seasonal, check.direction);
    let sustained_points = usize::try_from(check.tuning.sustained_points.get()).unwrap_or(1);
    let sustained = point.and_then(|_| {
        let season = seasonal.map(|s| means_of(s, sustained_points));
        detector.score(
            &means_of(window, sustained_points),
            season.as_deref(),
            check.direction,
        )
    });
    // A series seen for the first time is judged like one whose memory is still young.
    let fresh = Memory::default();
    let memory = memory.unwrap_or(&fresh);
    let daily = point.filter(|_| times.len() == window.len()).and_then(|_| {
        let usual = memory.profile.expected_at(times)?;
        let residuals: Vec<f64> = window.iter().zip(usual).map(|(v, u)| v - u).collect();
        detector.score(&residuals, None, check.direction)
    });
    let detector_scores = DetectorScores {
        point,
        sustained,
        daily,
    };
    let newest = value.zip(times.last().copied());
    let (score, reason) = memory
        .relative(
            detector_scores,
            check.threshold,
            newest,
            check.direction,
            Pace::of_window(times),
            &check.tuning,
        )
        .unzip();
    let history = &window[..window.len().saturating_sub(1)];
    let points: Vec<(f64, f64)> = match seasonal {
        Some(season) => history
            .iter()
            .zip(season)
            .enumerate()
            .map(|(i, (v, s))| (i as f64, v - s))
            .collect(),
        None => history
            .iter()
            .enumerate()
            .map(|(i, v)| (i as f64, *v))
            .collect(),
    };
    let points: Vec<(f64, f64)> = points.into_iter().filter(|p| p.1.is_finite()).collect();
    let shift = match seasonal {
        Some(season) => season.last().copied().filter(|s| s.is_finite()),
        None => Some(0.0),
    };
    let (expected, expected_low, expected_high) = match (points.is_empty(), shift) {
        (false, Some(shift)) => {
            let (baseline, noise) = baseline_and_noise(&points, history.len() as f64);
            let expected = shift + baseline;
            (
                Some(expected),
                Some(expected - 3.0 * noise),
                Some(expected + 3.0 * noise),
            )
        }
        _ => (None, None, None),
    };
    let reading = Reading {
        value,
        expected,
        expected_low,
        expected_high,
        score,
        reason,
    };
    let observation = match (value, score) {
        (Some(value), Some(score)) => {
            let deviation = expected.map_or(f64::INFINITY, |e| check.direction.filter(value - e));
            let material = deviation > 0.0
                && deviation >= check.min_absolute_change
                && deviation >= expected.map_or(0.0, |e| check.min_relative_change * e.abs());
            if score >= check.threshold && material {
                Observation::Anomalous
            } else {
                Observation::Normal
            }
        }
        _ => Observation::NoData,
    };
    SeriesEvaluation {
        labels: Labels::new(),
        observation,
        reading,
        detector_scores,
    }
}

/// Evaluates every series of a check's result over the window ending at `end`.
///
/// `season` is the same query over the window one season earlier, matched by labels;
/// `previous` holds the stored alerts, whose incidents are left out of their windows;
/// `memories` the series' score memories, which set each one's bar. The series are consumed
/// one by one, so their points are freed as they are scored.
pub fn evaluate_check(
    check: &Check,
    detector: &dyn Detector,
    series: impl IntoIterator<Item = Series>,
    season: &[Series],
    end: i64,
    previous: &[AlertRecord],
    memories: &BTreeMap<AlertKey, Memory>,
) -> Vec<SeriesEvaluation> {
    let step = i64::try_from(check.step_seconds).unwrap_or(60);
    let slots = check.window_points();
    let start = end - step * i64::try_from(slots - 1).unwrap_or(0);
    let times: Vec<i64> = (0..).map(|i| start + i * step).take(slots).collect();
    let offset = check
        .seasonality
        .offset_seconds()
        .and_then(|o| i64::try_from(o).ok());
    let seasonal_by_labels: BTreeMap<&Labels, Vec<f64>> = match offset {
        Some(offset) => season
            .iter()
            .map(|s| (&s.labels, align(&s.points, start - offset, step, slots)))
            .collect(),
        None => BTreeMap::new(),
    };
    // Looked up once per series: during a wide incident thousands of alerts are stored.
    let recovered_incidents: BTreeMap<&Labels, (i64, Option<i64>)> = previous
        .iter()
        .filter(|r| r.key.check == check.name)
        .filter(|r| matches!(r.state, AlertState::Recovered { .. }))
        .filter_map(|r| Some((&r.key.labels, r.incident?)))
        .collect();
    series
        .into_iter()
        .map(|series| {
            let mut window = align(&series.points, start, step, slots);
            drop(series.points);
            let labels = series.labels;
            let incident = recovered_incidents.get(&labels).copied();
            mask_incident(&mut window, times.iter().copied(), incident);
            let seasonal = seasonal_by_labels.get(&labels).map(Vec::as_slice);
            let key = AlertKey {
                check: check.name.clone(),
                labels,
            };
            let evaluation = evaluate_window(
                check,
                detector,
                &window,
                &times,
                seasonal,
                memories.get(&key),
            );
            SeriesEvaluation {
                labels: key.labels,
                ..evaluation
            }
        })
        .collect()
}

/// Takes each evaluated series' scores and newest value, at evaluation time `now`, into its
/// memory.
pub fn remember(
    check: &Check,
    evaluations: &[SeriesEvaluation],
    memories: &mut BTreeMap<AlertKey, Memory>,
    now: i64,
) {
    for evaluation in evaluations {
        if evaluation.detector_scores.point.is_some() || evaluation.reading.value.is_some() {
            memories
                .entry(AlertKey {
                    check: check.name.clone(),
                    labels: evaluation.labels.clone(),
                })
                .or_default()
                .observe(
                    evaluation.detector_scores,
                    evaluation.reading.value,
                    now,
                    &check.tuning,
                );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::detector::RobustBaseline;
    use crate::check::lifecycle::{AlertState, Transition};
    use crate::check::model::{default_checks, Seasonality};
    use crate::check::plan::{opening_score, plan_check, Plan, SETTLE_AFTER_SECONDS};
    use crate::config::Env;
    use crate::conventions::MetricConventions;

    fn check() -> Check {
        let mut check =
            default_checks(&MetricConventions::from_env(&Env::default()).expect("defaults"))[0]
                .clone();
        check.window_seconds = 3600;
        check.lifecycle.clear_after_seconds = 120;
        check
    }

    fn labels(service: &str) -> Labels {
        [("service".to_owned(), service.to_owned())].into()
    }

    /// A calm series over the window ending at `end`, with `last` as its newest value.
    fn series(service: &str, end: i64, last: f64) -> Series {
        let points = (0..=60)
            .map(|i| {
                let time = end - 60 * (60 - i);
                let value = if i == 60 {
                    last
                } else {
                    100.0 + f64::from(i32::try_from(i % 5).expect("small"))
                };
                (time as f64, value)
            })
            .collect();
        Series {
            labels: labels(service),
            points,
        }
    }

    /// `series` with its points passed through `edit`.
    fn edited(series: Series, edit: impl FnOnce(Vec<(f64, f64)>) -> Vec<(f64, f64)>) -> Series {
        Series {
            points: edit(series.points.iter().collect()).into_iter().collect(),
            ..series
        }
    }

    #[test]
    fn points_land_on_the_grid_and_gaps_stay_gaps() {
        let window = align(
            &[(100.0, 1.0), (220.0, 3.0), (230.0, 9.0), (40.0, 7.0)]
                .into_iter()
                .collect(),
            100,
            60,
            4,
        );
        assert_eq!(window[0].to_bits(), 1.0_f64.to_bits());
        assert!(window[1].is_nan());
        assert_eq!(window[2].to_bits(), 3.0_f64.to_bits());
        assert!(window[3].is_nan());
    }

    #[test]
    fn a_shift_too_small_for_one_point_is_caught_by_the_sustained_score() {
        let mut check = check();
        check.window_seconds = 21_600;
        // As a custom check by default: no materiality filter.
        check.min_relative_change = 0.0;
        let calm =
            |i: usize| 100.0 + 5.0 * ((i as f64 * 1.7).sin() + (i as f64 * 0.31).cos()) / 2.0;
        let mut window: Vec<f64> = (0..361).map(calm).collect();
        let before = evaluate_window(&check, &RobustBaseline::default(), &window, &[], None, None);
        for (i, value) in window.iter_mut().enumerate().skip(355) {
            *value = calm(i) + 14.0;
        }
        let after = evaluate_window(&check, &RobustBaseline::default(), &window, &[], None, None);
        let (point, sustained) = (
            after.detector_scores.point.expect("scored"),
            after.detector_scores.sustained.expect("scored"),
        );
        assert!(
            point < check.threshold,
            "one point of it is unremarkable: {point}"
        );
        assert!(sustained >= check.threshold, "six are not: {sustained}");
        assert_eq!(after.observation, Observation::Anomalous);
        assert_eq!(after.reading.score, Some(sustained));
        assert_eq!(after.reading.reason, Some(Reason::Sustained));
        assert_eq!(before.observation, Observation::Normal);
        assert!(before.detector_scores.sustained.expect("scored") < 0.3);
    }

    #[test]
    fn a_dip_hidden_by_the_curve_of_the_day_is_caught_by_the_daily_score() {
        let mut check = check();
        check.window_seconds = 21_600;
        check.min_relative_change = 0.0;
        let usual = |at: i64| {
            let phase = at.rem_euclid(86_400) as f64 / 86_400.0;
            100.0 + 50.0 * (phase * std::f64::consts::TAU).sin() + (at / 60 % 7) as f64
        };
        let mut memory = Memory::default();
        for at in (60..=4 * 86_400).step_by(60) {
            memory.observe(
                DetectorScores::default(),
                Some(usual(at)),
                at,
                &check.tuning,
            );
        }
        // Six hours down into the evening trough of day 5, the newest point 20 below its usual:
        // around the window's own trend line the curve of the day is as large as that.
        let end = 4 * 86_400 + 18 * 3_600;
        let times: Vec<i64> = (0..361).map(|i| end - 60 * (360 - i)).collect();
        let window: Vec<f64> = times
            .iter()
            .map(|&at| usual(at) - if at == end { 20.0 } else { 0.0 })
            .collect();
        let evaluation = evaluate_window(
            &check,
            &RobustBaseline::default(),
            &window,
            &times,
            None,
            Some(&memory),
        );
        let scores = evaluation.detector_scores;
        let (point, daily) = (
            scores.point.expect("scored"),
            scores.daily.expect("profile ready"),
        );
        assert!(
            point < check.threshold,
            "against the window's own line: {point}"
        );
        assert!(
            daily >= check.threshold,
            "against the usual evening: {daily}"
        );
        assert_eq!(evaluation.observation, Observation::Anomalous);
        assert_eq!(evaluation.reading.reason, Some(Reason::Daily));
        let usual_evening: Vec<f64> = times.iter().map(|&at| usual(at)).collect();
        let calm = evaluate_window(
            &check,
            &RobustBaseline::default(),
            &usual_evening,
            &times,
            None,
            Some(&memory),
        );
        assert_eq!(calm.observation, Observation::Normal);
    }

    #[test]
    fn a_series_memory_sets_its_bar() {
        let check = check();
        let now = 1_800_000_000;
        let spike = vec![series("api", now, 160.0)];
        let evaluate = |memories: &BTreeMap<AlertKey, Memory>| {
            evaluate_check(
                &check,
                &RobustBaseline::default(),
                spike.clone(),
                &[],
                now,
                &[],
                memories,
            )[0]
            .clone()
        };
        let plain = evaluate(&BTreeMap::new());
        assert_eq!(plain.observation, Observation::Anomalous);
        // A series that scored as high as this spike in 5 % of its past minutes is not
        // alarmed by it, and its score says so.
        let scores = plain.detector_scores;
        assert_eq!(
            scores.sustained, None,
            "an hour holds too few 6-minute means"
        );
        let score = scores.point.expect("scored");
        let mut memory = Memory::default();
        for minute in 1..=2_000 {
            let point = Some(if minute % 20 == 0 { score } else { 0.1 });
            memory.observe(
                DetectorScores { point, ..scores },
                None,
                60 * minute,
                &check.tuning,
            );
        }
        let key = AlertKey {
            check: check.name.clone(),
            labels: labels("api"),
        };
        let used_to_it = evaluate(&[(key.clone(), memory.clone())].into());
        assert_eq!(used_to_it.observation, Observation::Normal);
        assert_eq!(used_to_it.detector_scores, scores);
        assert_eq!(plain.reading.score, scores.point);
        let relative = used_to_it.reading.score.expect("scored");
        assert!(relative < check.threshold, "{relative}");
        assert_eq!(
            Reading {
                score: None,
                ..used_to_it.reading
            },
            Reading {
                score: None,
                ..plain.reading
            }
        );
        let other = AlertKey {
            labels: labels("web"),
            ..key
        };
        assert_eq!(
            evaluate(&[(other, memory)].into()).observation,
            Observation::Anomalous,
            "another series' memory does not apply"
        );
    }

    #[test]
    fn a_reading_stored_with_a_reason_no_longer_given_still_reads() {
        let stored = r#"{"value":1.0,"expected":1.0,"expected_low":0.0,"expected_high":2.0,"score":0.7,"reason":"evidence"}"#;
        let reading: Reading = serde_json::from_str(stored).expect("reads");
        assert_eq!(reading.reason, None);
        assert_eq!(reading.score, Some(0.7));
        let reading: Reading =
            serde_json::from_str(&stored.replace("evidence", "daily")).expect("reads");
        assert_eq!(reading.reason, Some(Reason::Daily));
    }

    #[test]
    fn a_spike_fires_once_and_resolves_once() {
        let check = check();
        let detector = RobustBaseline::default();
        let mut records: Vec<AlertRecord> = Vec::new();
        let mut messages = Vec::new();
        for (minute, last) in [101.0, 400.0, 420.0, 410.0, 102.0, 101.0, 103.0]
            .into_iter()
            .enumerate()
        {
            let now = 1_800_000_000 + 60 * i64::try_from(minute).expect("small");
            let evaluations = evaluate_check(
                &check,
                &detector,
                vec![series("api", now, last)],
                &[],
                now,
                &records,
                &BTreeMap::new(),
            );
            let plan = plan_check(&check, evaluations, &records, now);
            records = plan.next;
            for (notification, record) in plan.notifications {
                messages.push((minute, notification.transition, notification.reading.reason));
                records.extend(record);
            }
        }
        assert_eq!(
            messages,
            [
                (1, Transition::Firing, Some(Reason::Point)),
                (6, Transition::Resolved, Some(Reason::Point))
            ]
        );
        assert!(
            records
                .iter()
                .all(|r| matches!(r.state, AlertState::Recovered { .. })),
            "only remembered: {records:?}"
        );
    }

    #[test]
    fn a_recovered_series_past_incident_is_left_out_of_its_window() {
        let check = check();
        let now = 1_800_000_000;
        let incident = (now - 1800, Some(now - 600));
        // Calm at 100 but for twenty minutes at 5 that ended ten minutes ago; 5 again now.
        let points: Points = (0..=60)
            .map(|i| {
                let t = now - 60 * (60 - i);
                let during = (incident.0..now - 600).contains(&t) || t == now;
                (t as f64, if during { 5.0 } else { 100.0 + (i % 5) as f64 })
            })
            .collect();
        let record = |check_name: &str, state: AlertState| AlertRecord {
            key: AlertKey {
                check: check_name.to_owned(),
                labels: labels("api"),
            },
            state,
            severity: check.severity,
            reading: Reading {
                value: Some(100.0),
                expected: Some(100.0),
                expected_low: Some(95.0),
                expected_high: Some(105.0),
                score: Some(0.0),
                reason: Some(Reason::Point),
            },
            reference: None,
            incident: Some(incident),
            slo: None,
            untold: false,
        };
        let observe = |previous: &[AlertRecord]| {
            evaluate_check(
                &check,
                &RobustBaseline::default(),
                vec![Series {
                    labels: labels("api"),
                    points: points.clone(),
                }],
                &[],
                now,
                previous,
                &BTreeMap::new(),
            )[0]
            .observation
        };
        let recovered = AlertState::Recovered { until: now + 3600 };
        assert_eq!(observe(&[]), Observation::Normal, "the incident hides it");
        assert_eq!(
            observe(&[record("other_check", recovered)]),
            Observation::Normal,
            "another check's incident is not this one's"
        );
        assert_eq!(
            observe(&[record(&check.name, recovered)]),
            Observation::Anomalous,
            "left out, it no longer hides the next"
        );
    }

    #[test]
    fn a_recovered_series_fires_again_on_a_new_deviation_but_not_on_its_way_back() {
        let check = check();
        let now = 1_800_000_000;
        let reading = |value: f64| Reading {
            value: Some(value),
            expected: Some(100.0),
            expected_low: Some(90.0),
            expected_high: Some(110.0),
            score: Some(check.threshold),
            reason: Some(Reason::Point),
        };
        let recovered = AlertRecord {
            key: AlertKey {
                check: check.name.clone(),
                labels: labels("api"),
            },
            state: AlertState::Recovered { until: now + 3600 },
            severity: check.severity,
            reading: reading(100.0),
            reference: Some(reading(100.0)),
            incident: Some((now - 1800, Some(now - 600))),
            slo: None,
            untold: false,
        };
        let fired = |value: f64| {
            let evaluation = SeriesEvaluation {
                labels: labels("api"),
                observation: Observation::Anomalous,
                reading: reading(value),
                detector_scores: DetectorScores {
                    point: Some(check.threshold),
                    ..DetectorScores::default()
                },
            };
            plan_check(
                &check,
                vec![evaluation],
                std::slice::from_ref(&recovered),
                now,
            )
            .notifications
            .iter()
            .any(|(n, _)| n.transition == Transition::Firing)
        };
        assert!(fired(400.0), "a recurrence fires at the check's bar");
        assert!(
            !fired(104.0),
            "back inside the range from before the incident is no news"
        );
    }

    #[test]
    #[allow(clippy::float_cmp)]
    fn the_opening_score_is_what_a_new_incident_must_beat() {
        let now = 1_800_000_000;
        let firing = AlertState::Firing {
            since: now - 600,
            notified_at: now - 600,
            normal_since: None,
        };
        assert_eq!(opening_score(Some(firing), 0.99), 0.0);
        let pending = AlertState::Pending { since: now - 60 };
        assert_eq!(opening_score(Some(pending), 0.99), 0.0);
        let recovered = AlertState::Recovered { until: now + 60 };
        assert_eq!(opening_score(Some(recovered), 0.7), 0.7);
        assert_eq!(opening_score(None, 0.7), 0.7);
    }

    /// Runs `check` every minute for `minutes` from `start` over one series whose value at
    /// `t` is `value(t)`: the messages it sends, as (unix time, transition).
    fn every_minute(
        check: &Check,
        start: i64,
        minutes: i64,
        value: impl Fn(i64) -> f64,
    ) -> Vec<(i64, Transition)> {
        let detector = RobustBaseline::default();
        let mut records: Vec<AlertRecord> = Vec::new();
        let mut messages = Vec::new();
        for minute in 0..minutes {
            let now = start + 60 * minute;
            let series = Series {
                labels: labels("api"),
                points: (0..=60)
                    .map(|i| {
                        let t = now - 60 * (60 - i);
                        (t as f64, value(t))
                    })
                    .collect(),
            };
            let evaluations = evaluate_check(
                check,
                &detector,
                vec![series],
                &[],
                now,
                &records,
                &BTreeMap::new(),
            );
            let plan = plan_check(check, evaluations, &records, now);
            records = plan.next;
            for (notification, record) in plan.notifications {
                messages.push((notification.at, notification.transition));
                records.extend(record);
            }
        }
        messages
    }

    #[test]
    fn a_long_incident_is_not_resolved_while_it_lasts() {
        let check = check();
        let incident = 1_800_000_000 + 60 * 60;
        // Traffic at 100 falls to 40 at `incident` for three hours: three windows' worth.
        let value = |t: i64| {
            if (incident..incident + 3 * 3600).contains(&t) {
                40.0
            } else {
                100.0 + ((t / 60) % 5) as f64
            }
        };
        let messages: Vec<(i64, Transition)> = every_minute(&check, 1_800_000_000, 300, value)
            .into_iter()
            .map(|(at, transition)| ((at - incident) / 60, transition))
            .collect();
        // Fires at once, resolves two minutes (clear_after) after the traffic came back.
        assert_eq!(
            messages,
            [(0, Transition::Firing), (182, Transition::Resolved)]
        );
    }

    #[test]
    fn a_lasting_shift_resolves_after_a_day_and_the_series_can_fire_again() {
        let check = check();
        let start = 1_800_000_000;
        let shift = start + 60 * 60;
        let spike = shift + SETTLE_AFTER_SECONDS + 3 * 3600;
        // Traffic at 100 falls to 60 at `shift` and stays there; a day and three hours later
        // it drops to 5 for a minute.
        let value = |t: i64| {
            let noise = ((t / 60) % 5) as f64;
            match t {
                t if t == spike => 5.0,
                t if t >= shift => 60.0 + noise,
                _ => 100.0 + noise,
            }
        };
        let messages: Vec<(i64, Transition)> =
            every_minute(&check, start, (spike - start) / 60 + 5, value)
                .into_iter()
                .filter(|(_, transition)| *transition != Transition::Repeat)
                .map(|(at, transition)| ((at - shift) / 60, transition))
                .collect();
        // Resolves once the day is up and `clear_after` has passed.
        let settled = (SETTLE_AFTER_SECONDS + check.lifecycle.clear_after_seconds) / 60;
        assert_eq!(
            messages,
            [
                (0, Transition::Firing),
                (settled, Transition::Resolved),
                ((spike - shift) / 60, Transition::Firing),
            ]
        );
    }

    #[test]
    fn nan_inf_gaps_and_series_that_come_and_go_are_handled() {
        let check = check();
        let detector = RobustBaseline::default();
        let now = 1_800_000_000;
        let odd = edited(series("odd", now, f64::INFINITY), |points| {
            let odd = |(i, (time, value)): (usize, (f64, f64))| match i % 7 {
                0 => (time, f64::NAN),
                1 => (time, f64::NEG_INFINITY),
                _ => (time, value),
            };
            points.into_iter().enumerate().map(odd).collect()
        });
        let late = edited(series("late", now, 100.0), |points| points[50..].to_vec());
        let gone = edited(series("gone", now, 100.0), |points| points[..20].to_vec());
        let evaluations = evaluate_check(
            &check,
            &detector,
            vec![odd, late, gone],
            &[],
            now,
            &[],
            &BTreeMap::new(),
        );
        let by_service = |name: &str| {
            evaluations
                .iter()
                .find(|e| e.labels["service"] == name)
                .expect("evaluated")
        };
        assert_eq!(
            by_service("odd").observation,
            Observation::NoData,
            "an infinite newest value is no data"
        );
        assert_eq!(
            by_service("late").observation,
            Observation::NoData,
            "too little history to judge"
        );
        assert_eq!(
            by_service("gone").observation,
            Observation::NoData,
            "no newest point"
        );
        assert!(plan_check(&check, evaluations, &[], now)
            .notifications
            .is_empty());
    }

    #[test]
    fn small_changes_below_the_minimum_do_not_count() {
        let mut check = check();
        check.min_absolute_change = 500.0;
        let now = 1_800_000_000;
        let evaluations = evaluate_check(
            &check,
            &RobustBaseline::default(),
            vec![series("api", now, 400.0)],
            &[],
            now,
            &[],
            &BTreeMap::new(),
        );
        assert_eq!(evaluations[0].observation, Observation::Normal);
        assert!(evaluations[0].reading.score.expect("scored") > check.threshold);
        let expected = evaluations[0].reading.expected.expect("baseline");
        assert!((expected - 102.0).abs() < 1e-9, "{expected}");
        let (low, high) = (
            evaluations[0].reading.expected_low.expect("low"),
            evaluations[0].reading.expected_high.expect("high"),
        );
        assert!(low <= 100.0 + 1e-9 && high >= 104.0 - 1e-9, "{low}..{high}");
    }

    #[test]
    fn a_vanished_series_resolves_as_no_data_and_a_failed_check_changes_nothing() {
        let check = check();
        let detector = RobustBaseline::default();
        let now = 1_800_000_000;
        let plan = plan_check(
            &check,
            evaluate_check(
                &check,
                &detector,
                vec![series("api", now, 400.0)],
                &[],
                now,
                &[],
                &BTreeMap::new(),
            ),
            &[],
            now,
        );
        let records: Vec<AlertRecord> = plan
            .notifications
            .into_iter()
            .filter_map(|(_, r)| r)
            .collect();
        assert_eq!(records.len(), 1);
        let gone_1 = plan_check(&check, vec![], &records, now + 60);
        assert!(gone_1.notifications.is_empty());
        let gone_2 = plan_check(&check, vec![], &gone_1.next, now + 180);
        assert_eq!(gone_2.notifications.len(), 1);
        assert_eq!(gone_2.notifications[0].0.transition, Transition::Resolved);
        assert_eq!(gone_2.notifications[0].0.since, now);
        let mut other = check.clone();
        other.name = "other".into();
        assert_eq!(
            plan_check(&other, vec![], &records, now + 600),
            Plan::default(),
            "other checks' alerts are left alone"
        );
    }

    #[test]
    fn seasonality_compares_with_the_same_window_a_day_earlier() {
        let mut check = check();
        check.seasonality = Seasonality::Daily;
        let now = 1_800_000_000;
        // Today's window is a steep ramp, exactly like yesterday's: nothing unusual.
        let ramp = |end: i64| Series {
            labels: labels("api"),
            points: (0..=60)
                .map(|i| {
                    (
                        (end - 60 * (60 - i)) as f64,
                        100.0
                            + 10.0 * f64::from(i32::try_from(i).expect("small"))
                            + f64::from(i32::try_from(i % 3).expect("small")),
                    )
                })
                .collect(),
        };
        let plain = evaluate_check(
            &check,
            &RobustBaseline::default(),
            vec![ramp(now)],
            &[],
            now,
            &[],
            &BTreeMap::new(),
        );
        let seasonal = evaluate_check(
            &check,
            &RobustBaseline::default(),
            vec![ramp(now)],
            &[ramp(now - 86_400)],
            now,
            &[],
            &BTreeMap::new(),
        );
        assert_eq!(seasonal[0].observation, Observation::Normal);
        assert!(seasonal[0].reading.score < plain[0].reading.score);
        assert!((seasonal[0].reading.expected.expect("expected") - 700.0).abs() < 3.0);
    }
}
