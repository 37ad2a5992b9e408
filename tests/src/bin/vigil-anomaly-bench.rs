//! Where one anomaly check's time goes, for many series: Prometheus' own evaluation, the
//! response, our parsing, and our scoring with each detector.
//!
//! `vigil-anomaly-bench --prometheus URL --at TIME` runs the check
//! `sum by (service) (rate(http_requests_total[300s]))` over the 6-hour window ending at
//! TIME at a one-minute step, as anomaly-check does, and prints one JSON object.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use clap::Parser;
use vigil_core::adapters::prometheus::wire::Envelope;
use vigil_core::adapters::prometheus::QueryResponse;
use vigil_core::check::detector::memory::{DetectorScores, Memory};
use vigil_core::check::detector::{Detector, RobustBaseline, RollingZScore};
use vigil_core::check::document::{build_checks, ChecksDocument};
use vigil_core::check::evaluate::{evaluate_check, remember};
use vigil_core::check::lifecycle::AlertKey;
use vigil_core::check::model::Check;
use vigil_core::check::state::{SeriesMemory, StateDocument};
use vigil_core::config::Env;
use vigil_core::conventions::MetricConventions;
use vigil_core::series::Series;

/// Times one anomaly check over many series.
#[derive(Debug, Parser)]
#[command(about)]
struct Args {
    /// The Prometheus API root.
    #[arg(long)]
    prometheus: String,
    /// The evaluation time (RFC 3339).
    #[arg(long)]
    at: DateTime<Utc>,
    /// Also write an alert state holding every series' full memory here (a `STATE_DIR`
    /// state file), for timing the real binary with it.
    #[arg(long)]
    state_out: Option<std::path::PathBuf>,
}

const QUERY: &str = "sum by (service) (rate(http_requests_total[300s]))";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let document: ChecksDocument = serde_json::from_value(serde_json::json!({
        "default_checks": false,
        "checks": [{"name": "request_rate", "query": QUERY}],
    }))?;
    let check = build_checks(document, &MetricConventions::from_env(&Env::default())?)?
        .pop()
        .ok_or("no check")?;
    let end = args.at.timestamp();
    let start = args.at - Duration::seconds(i64::try_from(check.window_seconds)?);
    let url = format!(
        "{}/api/v1/query_range",
        args.prometheus.trim_end_matches('/')
    );
    let params = [
        ("query", QUERY.to_owned()),
        ("start", start.timestamp().to_string()),
        ("end", end.to_string()),
        ("step", "60".to_owned()),
        ("stats", "all".to_owned()),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // reqwest is built without a default TLS provider; the SDK and the client share this one.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let client = reqwest::Client::new();
    let fetch =
        || runtime.block_on(async { client.post(&url).form(&params).send().await?.bytes().await });
    fetch()?;
    let started = Instant::now();
    let body = fetch()?;
    let response_ms = started.elapsed().as_secs_f64() * 1000.0;

    let started = Instant::now();
    let Envelope::Success { data, .. } = serde_json::from_slice::<Envelope>(&body)? else {
        return Err("prometheus returned an error".into());
    };
    let series = QueryResponse::from(data).result.into_matrix()?;
    let parse_ms = started.elapsed().as_secs_f64() * 1000.0;
    let stats: serde_json::Value = serde_json::from_slice(&body)?;
    let eval_ms = stats["data"]["stats"]["timings"]["evalTotalTime"]
        .as_f64()
        .unwrap_or(f64::NAN)
        * 1000.0;

    let points = series.len() * check.window_points();
    let mut report = serde_json::json!({
        "series": series.len(),
        "points_per_series": check.window_points(),
        "response_bytes": body.len(),
        "prometheus_eval_ms": eval_ms,
        "prometheus_response_ms": response_ms,
        "parse_ms": parse_ms,
    });
    let detectors: [Box<dyn Detector>; 2] = [
        Box::new(RobustBaseline::default()),
        Box::new(RollingZScore::default()),
    ];
    let memories = full_memories(&check, &series, end);
    let mut robust = Vec::new();
    for detector in detectors {
        let input = series.clone();
        let started = Instant::now();
        let evaluations =
            evaluate_check(&check, detector.as_ref(), input, &[], end, &[], &memories);
        let score_ms = started.elapsed().as_secs_f64() * 1000.0;
        let anomalous = evaluations
            .iter()
            .filter(|e| e.observation == vigil_core::check::lifecycle::Observation::Anomalous)
            .count();
        report[format!("{}_score_ms", detector.name())] = serde_json::json!(score_ms);
        report[format!("{}_points_per_second", detector.name())] =
            serde_json::json!(points as f64 / (score_ms / 1000.0));
        report[format!("{}_anomalous", detector.name())] = serde_json::json!(anomalous);
        if robust.is_empty() {
            robust = evaluations;
        }
    }
    // Taking the minute into every memory, timed on a copy: the state written below is as it
    // was before this minute, so the real binary does the same work.
    let mut taken = memories.clone();
    let started = Instant::now();
    remember(&check, &robust, &mut taken, end);
    report["remember_ms"] = serde_json::json!(started.elapsed().as_secs_f64() * 1000.0);
    let stored: Vec<SeriesMemory> = memories
        .into_iter()
        .map(|(key, memory)| SeriesMemory { key, memory })
        .collect();
    report["memory_state_bytes"] = serde_json::json!(serde_json::to_vec(&stored)?.len());
    if let Some(path) = args.state_out {
        let document = StateDocument {
            memories: stored,
            ..StateDocument::default()
        };
        std::fs::write(path, serde_json::to_vec(&document)?)?;
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{report}")?;
    Ok(())
}

/// Every series with a memory as full as a long-lived one's: each bucket up to a score of
/// 0.95 taken, a ready daily profile and seven days of highs and lows, so the stored state is
/// at its largest.
fn full_memories(check: &Check, series: &[Series], end: i64) -> BTreeMap<AlertKey, Memory> {
    let tuning = check.tuning;
    series
        .iter()
        .map(|s| {
            let mut memory = Memory::default();
            // Every seventh minute of the last 175 hours: each hour of the day seen at least
            // three times, so the daily profile is in use, and seven days of highs and lows.
            for step in 0..1_500 {
                let score = Some(f64::from(step % 96) / 100.0);
                memory.observe(
                    DetectorScores {
                        point: score,
                        sustained: score,
                        daily: score,
                    },
                    Some(f64::from(step)),
                    end - 420 * i64::from(1_500 - step),
                    &tuning,
                );
            }
            (
                AlertKey {
                    check: check.name.clone(),
                    labels: s.labels.clone(),
                },
                memory,
            )
        })
        .collect()
}
