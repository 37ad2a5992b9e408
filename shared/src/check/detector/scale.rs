//! The arithmetic a series' memories share: how fast what they remember fades, and the odds
//! scale on which scores are compared.

/// The share of its weight a remembered evaluation keeps at each later evaluation, for a
/// weight that halves after `half_life` evaluations.
pub fn kept_per_evaluation(half_life: f64) -> f64 {
    0.5_f64.powf(1.0 / half_life)
}

/// A score's odds, `s / (1 − s)`: for our detectors, proportional to the deviation.
pub fn odds(score: f64) -> f64 {
    if score >= 1.0 {
        f64::INFINITY
    } else {
        score.max(0.0) / (1.0 - score.max(0.0))
    }
}

/// The score whose odds are `odds`.
pub fn score_of(odds: f64) -> f64 {
    if odds.is_infinite() {
        1.0
    } else {
        odds / (1.0 + odds)
    }
}
