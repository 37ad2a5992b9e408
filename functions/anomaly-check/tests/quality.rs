//! A quick quality check on labelled series this test generates itself: the shipped decision
//! (`score-csv`'s `alert` column with default settings) must catch the labelled anomalies and
//! stay quiet elsewhere. The floor is set a little below what the detector achieves, to catch
//! regressions; the full evaluation on real data is `make quality NAB=DIR`.

use std::fmt::Write as _;

use anomaly_check::score_csv::{default_custom_check, score_csv};
use vigil_core::check::detector::{Detector, RobustBaseline, RollingZScore};

/// A deterministic uniform number in [0, 1) for (seed, index).
fn uniform(seed: u64, index: u64) -> f64 {
    let mut x =
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 11) as f64 / (1_u64 << 53) as f64
}

/// Roughly normal noise: the sum of four uniforms, centred, unit variance.
fn noise(seed: u64, index: u64) -> f64 {
    let sum: f64 = (0..4).map(|k| uniform(seed, index * 4 + k)).sum();
    (sum - 2.0) * 3.0_f64.sqrt()
}

/// Normal noise with normal tails (Box–Muller), which the sum of four uniforms lacks: that
/// never strays past 3.5 σ.
fn gaussian(seed: u64, index: u64) -> f64 {
    let radius = (-2.0 * uniform(seed, 2 * index).max(f64::MIN_POSITIVE).ln()).sqrt();
    radius * (std::f64::consts::TAU * uniform(seed, 2 * index + 1)).cos()
}

/// A named series with the indices where its anomalies start (none for a normal series).
struct Case {
    name: &'static str,
    values: Vec<f64>,
    anomalies: Vec<usize>,
}

const POINTS: usize = 3000;
const DAY: f64 = 288.0;

fn cases() -> Vec<Case> {
    let n = |seed: u64, i: usize| noise(seed, i as u64);
    let daily = |i: usize| 50.0 + 30.0 * (i as f64 / DAY * std::f64::consts::TAU).sin();
    vec![
        Case { name: "calm noise", values: (0..POINTS).map(|i| 100.0 + 5.0 * n(1, i)).collect(), anomalies: vec![] },
        Case { name: "daily cycle", values: (0..POINTS).map(|i| daily(i) + 2.0 * n(2, i)).collect(), anomalies: vec![] },
        Case {
            name: "spikes are normal here",
            values: (0..POINTS).map(|i| 20.0 + 2.0 * n(3, i) + if uniform(30, i as u64) < 0.03 { 25.0 } else { 0.0 }).collect(),
            anomalies: vec![],
        },
        Case { name: "a spike", values: (0..POINTS).map(|i| 100.0 + 5.0 * n(4, i) + if i == 2000 { 80.0 } else { 0.0 }).collect(), anomalies: vec![2000] },
        Case { name: "a level shift up", values: (0..POINTS).map(|i| 100.0 + 5.0 * n(5, i) + if i >= 2000 { 60.0 } else { 0.0 }).collect(), anomalies: vec![2000] },
        Case { name: "a drop to a fifth", values: (0..POINTS).map(|i| if i >= 2000 { 20.0 } else { 100.0 } + 4.0 * n(6, i)).collect(), anomalies: vec![2000] },
        Case {
            name: "a flat line in a daily cycle",
            values: (0..POINTS).map(|i| if (2000..2150).contains(&i) { 50.0 } else { daily(i) } + 1.0 * n(7, i)).collect(),
            anomalies: vec![2000],
        },
        Case {
            name: "a drift",
            values: (0..POINTS).map(|i| 100.0 + 3.0 * n(8, i) + if i >= 2000 { (i - 2000) as f64 * 0.8 } else { 0.0 }).collect(),
            anomalies: vec![2000],
        },
        Case {
            name: "a spike eight hours after a far bigger one",
            values: (0..POINTS)
                .map(|i| 100.0 + 5.0 * n(10, i) + match i { 1500 => 800.0, 1600 => 70.0, _ => 0.0 })
                .collect(),
            anomalies: vec![1500, 1600],
        },
        Case {
            name: "a big spike among small ones",
            values: (0..POINTS)
                .map(|i| 20.0 + 2.0 * n(9, i) + if i == 2000 { 150.0 } else if uniform(90, i as u64) < 0.03 { 25.0 } else { 0.0 })
                .collect(),
            anomalies: vec![2000],
        },
    ]
}

/// Runs score-csv on `values` as rows `step` seconds apart; returns the rows that alerted.
fn alerts_every(values: &[f64], detector: &dyn Detector, step: i64) -> Vec<usize> {
    let mut csv = "timestamp,value\n".to_owned();
    for (i, value) in values.iter().enumerate() {
        let time = chrono::DateTime::from_timestamp(
            1_400_000_000 + step * i64::try_from(i).expect("small"),
            0,
        )
        .expect("time");
        let _ = writeln!(csv, "{},{value:.4}", time.format("%Y-%m-%d %H:%M:%S"));
    }
    let mut out = Vec::new();
    score_csv(csv.as_bytes(), &mut out, detector, &default_custom_check()).expect("scores");
    String::from_utf8(out)
        .expect("utf-8")
        .lines()
        .skip(1)
        .enumerate()
        .filter(|(_, line)| line.ends_with(",1"))
        .map(|(row, _)| row)
        .collect()
}

/// (anomalies caught within 60 rows, alerts outside those windows), after 500 rows of warm-up,
/// with rows five minutes apart.
fn evaluate(detector: &dyn Detector) -> (usize, usize, Vec<String>) {
    evaluate_every(detector, 300)
}

/// As [`evaluate`], with rows `step` seconds apart.
fn evaluate_every(detector: &dyn Detector, step: i64) -> (usize, usize, Vec<String>) {
    let (mut caught, mut false_alerts, mut notes) = (0, 0, Vec::new());
    for case in cases() {
        let rows: Vec<usize> = alerts_every(&case.values, detector, step)
            .into_iter()
            .filter(|row| *row >= 500)
            .collect();
        let window = |at: usize| at..at + 60;
        let hits = case
            .anomalies
            .iter()
            .filter(|at| rows.iter().any(|row| window(**at).contains(row)))
            .count();
        let outside = rows
            .iter()
            .filter(|row| !case.anomalies.iter().any(|at| window(*at).contains(*row)))
            .count();
        caught += hits;
        false_alerts += outside;
        notes.push(format!(
            "{}: {} alert(s), {} outside the windows{}",
            case.name,
            rows.len(),
            outside,
            if hits < case.anomalies.len() {
                format!(", {} MISSED", case.anomalies.len() - hits)
            } else {
                String::new()
            }
        ));
    }
    (caught, false_alerts, notes)
}

#[test]
fn the_shipped_decision_catches_the_labelled_anomalies_and_stays_quiet() {
    let (caught, false_alerts, notes) = evaluate(&RobustBaseline::default());
    let anomalies: usize = cases().iter().map(|c| c.anomalies.len()).sum();
    // Measured: 7 of 8 caught and 2 false alerts, both on the series whose frequent spikes are
    // normal. The flat line in a daily cycle is missed: it stays inside the week's range and
    // within the daily score's bar; only the accumulated evidence of earlier versions caught it,
    // and that gained nothing under cross-validation (docs/quality.md).
    let missed: Vec<&String> = notes.iter().filter(|n| n.contains("MISSED")).collect();
    assert!(
        caught == anomalies - 1
            && missed.len() == 1
            && missed[0].starts_with("a flat line in a daily cycle")
            && false_alerts <= 3,
        "caught {caught} of {anomalies}, {false_alerts} false alert(s):\n{}",
        notes.join("\n")
    );
}

#[test]
fn evaluated_every_minute_it_still_catches_them() {
    let (caught, false_alerts, notes) = evaluate_every(&RobustBaseline::default(), 60);
    let anomalies: usize = cases().iter().map(|c| c.anomalies.len()).sum();
    // Measured: 7 of 8 and 4 false alerts (on the series whose frequent spikes are normal). A
    // minute apart, the daily cycle's 288 rows are 4.8 hours, not a day, so the flattened
    // cycle is not a day unlike the others; everything else is caught, the spike 100 minutes
    // after a far bigger one too.
    let missed: Vec<&String> = notes.iter().filter(|n| n.contains("MISSED")).collect();
    assert!(
        caught == anomalies - 1
            && missed.len() == 1
            && missed[0].starts_with("a flat line in a daily cycle")
            && false_alerts <= 5,
        "caught {caught} of {anomalies}, {false_alerts} false alert(s):\n{}",
        notes.join("\n")
    );
}

/// NAB's standard weighing: a caught anomaly earns 1, a false alert costs 0.11.
fn standard(caught: usize, false_alerts: usize) -> f64 {
    caught as f64 - 0.11 * false_alerts as f64
}

#[test]
fn the_shipped_detector_beats_the_old_rule_on_the_same_cases() {
    let (robust_caught, robust_false, robust_notes) = evaluate(&RobustBaseline::default());
    let (seed_caught, seed_false, seed_notes) = evaluate(&RollingZScore::default());
    // Measured: 7 caught and 2 false against the seed rule's 7 and 5, both through the same
    // lifecycle, sustained and daily scores, score memories and week's range. The
    // seed rule misses the spike eight hours after a far bigger one: that spike still in its
    // window inflates the standard deviation, where a robust noise estimate ignores one point.
    assert!(
        standard(robust_caught, robust_false) > standard(seed_caught, seed_false),
        "robust {robust_notes:?}\nseed {seed_notes:?}"
    );
}

/// A week of minutes of series with no anomaly: normal noise, autocorrelated noise, heavy
/// tails (Student's t, 3 degrees of freedom), and normal noise with spikes in 0.5 % of points.
fn calm_week() -> Vec<Case> {
    const WEEK: usize = 7 * 1_440;
    let mut level = 0.0;
    let autocorrelated: Vec<f64> = (0..WEEK)
        .map(|i| {
            level = 0.8 * level + 0.6 * gaussian(12, i as u64);
            100.0 + level
        })
        .collect();
    let student = |i: usize| {
        let chi: f64 = (1..=3)
            .map(|k| gaussian(13 + k, i as u64).powi(2))
            .sum::<f64>()
            / 3.0;
        gaussian(13, i as u64) / chi.sqrt()
    };
    let spike = |i: usize| {
        if uniform(15, i as u64) < 0.005 {
            -8.0 * uniform(16, i as u64).max(f64::MIN_POSITIVE).ln()
        } else {
            0.0
        }
    };
    vec![
        Case {
            name: "normal",
            values: (0..WEEK).map(|i| 100.0 + gaussian(11, i as u64)).collect(),
            anomalies: vec![],
        },
        Case {
            name: "autocorrelated",
            values: autocorrelated,
            anomalies: vec![],
        },
        Case {
            name: "heavy-tailed",
            values: (0..WEEK).map(|i| 100.0 + student(i)).collect(),
            anomalies: vec![],
        },
        Case {
            name: "spiky",
            values: (0..WEEK)
                .map(|i| 100.0 + gaussian(14, i as u64) + spike(i))
                .collect(),
            anomalies: vec![],
        },
    ]
}

#[test]
fn calm_series_evaluated_every_minute_raise_few_false_alerts_in_a_week() {
    let detector = RobustBaseline::default();
    let counts: Vec<(&str, usize, usize)> = calm_week()
        .iter()
        .map(|case| {
            // The same values a minute apart, and the first fifth of them five minutes apart:
            // both a week.
            let fifth = &case.values[..case.values.len() / 5];
            (
                case.name,
                alerts_every(&case.values, &detector, 60).len(),
                alerts_every(fifth, &detector, 300).len(),
            )
        })
        .collect();
    let (minutes, fives) = counts
        .iter()
        .fold((0, 0), |(m, f), (_, minute, five)| (m + minute, f + five));
    // Measured: 14 false alerts at one minute (heavy-tailed 9, spiky 5), 5 at five minutes
    // (2 and 3).
    assert!(minutes <= 16 && fives <= 6, "{counts:?}");
}
