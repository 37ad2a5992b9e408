//! Five weeks of daily runs in Europe/Berlin, the spring DST change inside: every SLO's day and
//! window and the month's compliance report equal the generator's truth, days before the
//! history (beyond what Prometheus holds) count as missing, and a lost ledger day is filled.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike as _, Days, NaiveDate, Utc};
use serde_json::{json, Value};
use sla_report::invoke;
use vigil_tests::{ledger_history, ledger_midnight, History, LEDGER_DAYS, LEDGER_OUTAGE_DAY};

use crate::support::{deadline_in, job, new_bucket, object, s3, stack};

/// Both SLIs, a 30-day and a monthly window, and a two-hour exclusion for `ledger-b`.
const DOCUMENT: &str = r#"window: 30d
slos:
  - {name: availability, services: [ledger-a, ledger-b], sli: availability, objective: 0.995}
  - {name: fast, services: [ledger-a, ledger-b], sli: latency, threshold_ms: 250, objective: 0.95, window: month}
exclusions:
  - {start: 2026-03-17T01:00:00Z, end: 2026-03-17T03:00:00Z, services: [ledger-b], reason: "db migration"}
"#;

const OBJECTIVES: [(&str, f64); 2] = [("availability", 0.995), ("fast", 0.95)];

fn date(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("a time")
}

/// Good and total events of one SLO and service on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Events {
    good: f64,
    total: f64,
}

impl Events {
    fn add(self, other: Self) -> Self {
        Self {
            good: self.good + other.good,
            total: self.total + other.total,
        }
    }

    fn sli(self) -> f64 {
        self.good / self.total
    }
}

/// Each SLO's events per service on `day`, from the generator, the exclusion left out.
fn day_truth(history: &History, day: NaiveDate) -> BTreeMap<(&'static str, String), Events> {
    let truth = history.truth(ledger_midnight(day), ledger_midnight(day + Days::new(1)));
    let excluded = if day == date("2026-03-17") {
        history.truth(utc("2026-03-17T01:00:00Z"), utc("2026-03-17T03:00:00Z"))
    } else {
        BTreeMap::new()
    };
    let mut events = BTreeMap::new();
    for (service, all) in truth {
        let left_out = excluded.get(&service).filter(|_| service == "ledger-b");
        let (mut total, mut errors, mut observed, mut fast) = (
            all.total,
            all.errors,
            all.cumulative_buckets[10],
            all.cumulative_buckets[5],
        );
        if let Some(out) = left_out {
            total -= out.total;
            errors -= out.errors;
            observed -= out.cumulative_buckets[10];
            fast -= out.cumulative_buckets[5];
        }
        let availability = Events {
            good: total - errors,
            total,
        };
        let latency = Events {
            good: fast,
            total: observed,
        };
        events.insert(("availability", service.clone()), availability);
        events.insert(("fast", service), latency);
    }
    events
}

fn close(actual: &Value, expected: f64, what: &str) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is a number, not {actual}"));
    assert!(
        (actual - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{what}: {actual} vs truth {expected}"
    );
}

fn status(sli: f64, objective: f64) -> &'static str {
    if sli >= objective {
        "met"
    } else {
        "breached"
    }
}

/// The report's SLO `name` for `service`.
fn slo<'a>(report: &'a Value, service: &str, name: &str) -> &'a Value {
    report["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["service"] == service)
        .and_then(|s| s["slos"].as_array())
        .and_then(|slos| slos.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("{service} {name} is in the report"))
}

/// Checks the day's report against the truth of every day of the history.
fn check_day(
    report: &Value,
    day: NaiveDate,
    truth: &BTreeMap<NaiveDate, BTreeMap<(&'static str, String), Events>>,
) {
    let (first, _) = LEDGER_DAYS;
    for ((name, service), today) in &truth[&day] {
        let objective = OBJECTIVES.iter().find(|(n, _)| n == name).expect("SLO").1;
        let item = slo(report, service, name);
        let what = format!("{day} {service} {name}");
        close(&item["good"], today.good, &format!("{what} day good"));
        close(&item["total"], today.total, &format!("{what} day total"));
        assert_eq!(item["status"], status(today.sli(), objective), "{what}");
        let start = if *name == "fast" {
            day.with_day(1).expect("first of the month")
        } else {
            day - Days::new(29)
        };
        let mut window = Events::default();
        let mut missing = 0;
        for d in start.iter_days().take_while(|d| *d <= day) {
            if let Some(events) = truth.get(&d) {
                window = window.add(events[&(*name, service.clone())]);
            } else {
                assert!(d < first, "{d}");
                missing += 1;
            }
        }
        let figures = &item["window"];
        assert_eq!(figures["start"], start.to_string(), "{what}");
        assert_eq!(figures["end"], day.to_string(), "{what}");
        assert_eq!(
            figures["days_missing"], missing,
            "{what}: days Prometheus does not hold count as missing"
        );
        close(
            &figures["good"],
            window.good,
            &format!("{what} window good"),
        );
        close(
            &figures["total"],
            window.total,
            &format!("{what} window total"),
        );
        close(
            &figures["sli_value"],
            window.sli(),
            &format!("{what} window SLI"),
        );
        close(
            &figures["error_budget_remaining"],
            1.0 - (window.total - window.good) / ((1.0 - objective) * window.total),
            &format!("{what} budget left"),
        );
        assert_eq!(
            figures["status"],
            status(window.sli(), objective),
            "{what} window"
        );
    }
}

/// Checks March's compliance report against the truth of its days.
fn check_march(
    month: &Value,
    truth: &BTreeMap<NaiveDate, BTreeMap<(&'static str, String), Events>>,
) {
    assert_eq!(month["period"]["name"], "2026-03");
    let days: Vec<NaiveDate> = date("2026-03-01")
        .iter_days()
        .take_while(|d| *d <= date("2026-03-31"))
        .collect();
    for (name, service) in truth[&days[0]].keys() {
        let objective = OBJECTIVES.iter().find(|(n, _)| n == name).expect("SLO").1;
        let key = (*name, service.clone());
        let each: Vec<(NaiveDate, Events)> = days.iter().map(|d| (*d, truth[d][&key])).collect();
        let sum = each
            .iter()
            .fold(Events::default(), |sum, (_, events)| sum.add(*events));
        let breached = each
            .iter()
            .filter(|(_, events)| events.sli() < objective)
            .count();
        let worst = each
            .iter()
            .min_by(|a, b| a.1.sli().total_cmp(&b.1.sli()))
            .expect("days");
        let item = slo(month, service, name);
        let what = format!("March {service} {name}");
        close(&item["good"], sum.good, &format!("{what} good"));
        close(&item["total"], sum.total, &format!("{what} total"));
        close(&item["sli_value"], sum.sli(), &format!("{what} SLI"));
        close(
            &item["budget_consumed"],
            (sum.total - sum.good) / ((1.0 - objective) * sum.total),
            &format!("{what} budget consumed"),
        );
        assert_eq!(item["status"], status(sum.sli(), objective), "{what}");
        assert_eq!(item["days_breached"], breached, "{what}");
        assert_eq!(item["days_missing"], 0, "{what}");
        assert_eq!(item["worst_day"]["date"], worst.0.to_string(), "{what}");
        close(
            &item["worst_day"]["sli_value"],
            worst.1.sli(),
            &format!("{what} worst day"),
        );
    }
}

#[tokio::test]
async fn five_weeks_of_daily_runs_in_berlin_match_the_truth_of_every_window_and_of_the_month() {
    let stack = stack();
    let bucket = new_bucket(&stack, "ledger-weeks").await;
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    std::io::Write::write_all(&mut file, DOCUMENT.as_bytes()).expect("document written");
    let path = file.path().to_str().expect("utf-8 path");
    let job = job(
        &stack.prometheus_url,
        &stack.moto_url,
        &bucket,
        &[
            ("SLOS_FILE", path),
            ("REPORT_TIME_ZONE", "Europe/Berlin"),
            ("REPORT_PERIODS", "month"),
        ],
    )
    .await;
    let history = ledger_history();
    let (first, last) = LEDGER_DAYS;
    let truth: BTreeMap<_, _> = first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|d| (d, day_truth(&history, d)))
        .collect();
    let outage = truth[&LEDGER_OUTAGE_DAY][&("availability", "ledger-a".to_owned())];
    assert!(outage.sli() < 0.9, "the outage day: {outage:?}");

    for day in first.iter_days().take_while(|d| *d <= last) {
        let outcome = invoke(&job, &json!({"date": day.to_string()}), deadline_in(120))
            .await
            .unwrap_or_else(|error| panic!("{day}: {error}"));
        let report: Value =
            serde_json::from_slice(&object(&stack, &bucket, &outcome.json_key).await.0)
                .expect("json");
        if day == date("2026-03-29") {
            assert_eq!(
                report["period"]["duration_seconds"], 82_800,
                "the day clocks go forward has 23 hours"
            );
        }
        check_day(&report, day, &truth);
    }

    let march_key = "sla-reports/monthly/2026/03/report.json";
    let march_bytes = object(&stack, &bucket, march_key).await.0;
    check_march(&serde_json::from_slice(&march_bytes).expect("json"), &truth);
    for (key, missing) in [
        ("sla-reports/monthly/2026/02/report.json", 24),
        ("sla-reports/monthly/2026/04/report.json", 28),
    ] {
        let month: Value =
            serde_json::from_slice(&object(&stack, &bucket, key).await.0).expect("json");
        assert_eq!(
            slo(&month, "ledger-a", "availability")["days_missing"],
            missing,
            "{key}: days before and after the history count as missing, never as good"
        );
    }

    // A lost ledger day is filled again, and the month's report rewritten the same.
    let deleted = "sla-reports/daily/2026/03/15/ledger.json";
    let kept = object(&stack, &bucket, deleted).await.0;
    s3(&stack.moto_url)
        .await
        .delete_object()
        .bucket(&bucket)
        .key(deleted)
        .send()
        .await
        .expect("deleted");
    invoke(&job, &json!({"date": "2026-03-31"}), deadline_in(120))
        .await
        .expect("report written");
    assert_eq!(
        object(&stack, &bucket, deleted).await.0,
        kept,
        "filled again"
    );
    assert_eq!(object(&stack, &bucket, march_key).await.0, march_bytes);
}
