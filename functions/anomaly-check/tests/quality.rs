//! A quick quality check on labelled series this test generates itself: the shipped decision
//! (`score-csv`'s `alert` column with default settings) must catch the labelled anomalies and
//! stay quiet elsewhere. The floor is set a little below what the detector achieves, to catch
//! regressions; the full evaluation on real data is `make quality NAB=DIR`.

use std::fmt::Write as _;

use anomaly_check::score_csv::{default_custom_check, score_csv};
use vigil_core::detect::{Detector, RobustBaseline, RollingZScore};

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

/// Runs score-csv on a case; returns the rows that alerted.
fn alerts(case: &Case, detector: &dyn Detector) -> Vec<usize> {
    let mut csv = "timestamp,value\n".to_owned();
    for (i, value) in case.values.iter().enumerate() {
        let time = chrono::DateTime::from_timestamp(
            1_400_000_000 + 300 * i64::try_from(i).expect("small"),
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

/// (anomalies caught within 60 rows, alerts outside those windows), after 500 rows of warm-up.
fn evaluate(detector: &dyn Detector) -> (usize, usize, Vec<String>) {
    let (mut caught, mut false_alerts, mut notes) = (0, 0, Vec::new());
    for case in cases() {
        let rows: Vec<usize> = alerts(&case, detector)
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
    // Measured: 8 of 8 caught (the flattened daily cycle by the daily profile), 3 false
    // alerts, all on the series whose frequent spikes are normal.
    assert!(
        caught == anomalies && false_alerts <= 4,
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
    // Measured: 8 caught and 3 false against the seed rule's 7 and 4, both through the same
    // lifecycle, sustained and daily scores, score memories and week's range. The seed rule
    // misses the spike eight hours after a far bigger one: that spike still in its window
    // inflates the standard deviation, where a robust noise estimate ignores one point.
    assert!(
        standard(robust_caught, robust_false) > standard(seed_caught, seed_false),
        "robust {robust_notes:?}\nseed {seed_notes:?}"
    );
}
