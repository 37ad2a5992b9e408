//! Reports computed by the real job from the generated history match its ground truth.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sla_report::invoke;
use vigil_tests::{test_history, HOSTILE_SERVICE};

use crate::support::{deadline_in, job, keys, new_bucket, object, s3, stack, Stack};

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("time")
        .with_timezone(&Utc)
}

fn service<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["service"] == name)
        .unwrap_or_else(|| panic!("{name:?} is in the report"))
}

fn assert_close(actual: &Value, expected: f64, relative: f64, what: &str) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is a number, not {actual}"));
    let scale = expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= relative * scale,
        "{what}: {actual} vs truth {expected}"
    );
}

/// Reports 2026-11-02 into a new bucket `name` with the SLO `document` as `SLOS_FILE`: the
/// bucket, the run's outcome and the report.
async fn report_with_document(
    stack: &Stack,
    name: &str,
    document: &str,
) -> (String, sla_report::ReportOutcome, Value) {
    let bucket = new_bucket(stack, name).await;
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    std::io::Write::write_all(&mut file, document.as_bytes()).expect("document written");
    let path = file.path().to_str().expect("utf-8 path");
    let job = job(
        &stack.prometheus_url,
        &stack.moto_url,
        &bucket,
        &[("SLOS_FILE", path)],
    )
    .await;
    let outcome = invoke(&job, &json!({"date": "2026-11-02"}), deadline_in(60))
        .await
        .expect("report written");
    let report =
        serde_json::from_slice(&object(stack, &bucket, &outcome.json_key).await.0).expect("json");
    (bucket, outcome, report)
}

/// Checks every service's default SLO window in `report` (starting `start`, `missing` days not
/// in Prometheus) against the generator's truth from its first day to the day reported.
fn check_window_against_truth(report: &Value, start: &str, missing: u64) {
    let end = report["period"]["end"].as_str().expect("end");
    let truth = test_history().truth(utc("2026-11-01T00:00:00Z"), utc(end));
    for (name, expected) in &truth {
        let window = &service(report, name)["slo"]["window"];
        assert_eq!(window["start"], start, "{name}");
        assert_eq!(window["end"], report["period"]["date"], "{name}");
        assert_eq!(window["days_missing"], missing, "{name}");
        if expected.total == 0.0 {
            assert_eq!(window["status"], "no_data", "{name}");
            continue;
        }
        assert_close(
            &window["total"],
            expected.total,
            1e-9,
            &format!("{name} window total"),
        );
        assert_close(
            &window["sli_value"],
            1.0 - expected.errors / expected.total,
            1e-9,
            &format!("{name} window SLI"),
        );
        let slos = service(report, name)["slos"].as_array().expect("slos");
        assert_eq!(slos.len(), 1, "{name}: the default SLO");
        assert_eq!(&slos[0]["window"], window, "{name}");
    }
}

/// Checks every service of `report` against the generator's truth over `[from, to]`.
fn check_against_truth(report: &Value, from: &str, to: &str) {
    let truth = test_history().truth(utc(from), utc(to));
    for (name, expected) in &truth {
        let line = service(report, name);
        if expected.total == 0.0 {
            assert_eq!(line["slo"]["status"], "no_data", "{name}");
            assert!(
                line["availability"].is_null() && line["total_requests"].is_null(),
                "{name}"
            );
            assert!(line["latency_ms"]["p99"].is_null(), "{name}");
            continue;
        }
        assert_close(
            &line["total_requests"],
            expected.total,
            1e-9,
            &format!("{name} total"),
        );
        assert_close(
            &line["error_requests"],
            expected.errors,
            1e-9,
            &format!("{name} errors"),
        );
        assert_close(
            &line["availability"],
            1.0 - expected.errors / expected.total,
            1e-9,
            &format!("{name} availability"),
        );
        for (key, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)] {
            let truth_ms = expected.quantile(q).expect("observations") * 1000.0;
            assert_close(
                &line["latency_ms"][key],
                truth_ms,
                1e-9,
                &format!("{name} {key}"),
            );
        }
        let status = if 1.0 - expected.errors / expected.total >= 0.999 {
            "met"
        } else {
            "breached"
        };
        assert_eq!(line["slo"]["status"], status, "{name}");
    }
}

#[tokio::test]
async fn the_report_in_s3_matches_the_ground_truth() {
    let stack = stack();
    let bucket = new_bucket(&stack, "truth").await;
    let job = job(
        &stack.prometheus_url,
        &stack.moto_url,
        &bucket,
        &[("SLO_WINDOW", "30d")],
    )
    .await;
    let outcome = invoke(
        &job,
        &json!({"time": "2026-11-03T00:15:00Z"}),
        deadline_in(60),
    )
    .await
    .expect("report written");
    assert_eq!(outcome.json_key, "sla-reports/daily/2026/11/02/report.json");
    let mut stored = keys(&stack, &bucket).await;
    stored.sort();
    assert_eq!(
        stored,
        [
            "sla-reports/daily/2026/11/01/ledger.json",
            "sla-reports/daily/2026/11/02/ledger.json",
            "sla-reports/daily/2026/11/02/report.html",
            "sla-reports/daily/2026/11/02/report.json",
            "sla-reports/latest.json",
        ],
        "the day before filled from Prometheus; the 28 before it are not there"
    );
    let (body, content_type) = object(&stack, &bucket, &outcome.json_key).await;
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let report: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(report["schema_version"], 2);
    check_window_against_truth(&report, "2026-10-04", 28);
    assert_eq!(
        report["period"],
        json!({
            "date": "2026-11-02", "start": "2026-11-02T00:00:00Z", "end": "2026-11-03T00:00:00Z",
            "time_zone": "UTC", "duration_seconds": 86400
        })
    );
    check_against_truth(&report, "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z");
    assert_eq!(report["summary"]["services"], test_history().services.len());
    assert_eq!(report["summary"]["no_data"], 1);
    assert!(report["services"]
        .as_array()
        .expect("array")
        .iter()
        .any(|s| s["service"] == HOSTILE_SERVICE));
    let (html, html_type) = object(&stack, &bucket, &outcome.html_key).await;
    assert_eq!(html_type.as_deref(), Some("text/html; charset=utf-8"));
    let html = String::from_utf8(html).expect("utf-8");
    assert!(
        html.contains("edge &quot;eu&quot;"),
        "the hostile name is escaped in the page"
    );
}

#[tokio::test]
async fn hourly_figures_show_the_incident_hours() {
    let stack = stack();
    let bucket = new_bucket(&stack, "hourly").await;
    let job = job(&stack.prometheus_url, &stack.moto_url, &bucket, &[]).await;
    let outcome = invoke(&job, &json!({"date": "2026-11-02"}), deadline_in(60))
        .await
        .expect("report written");
    let report: Value =
        serde_json::from_slice(&object(&stack, &bucket, &outcome.json_key).await.0).expect("json");
    let hourly = service(&report, "search")["hourly"]
        .as_array()
        .expect("hourly")
        .clone();
    assert_eq!(hourly.len(), 24);
    let history = test_history();
    for (index, hour) in hourly.iter().enumerate() {
        let end = utc(hour["end"].as_str().expect("end"));
        let truth = &history.truth(end - chrono::Duration::hours(1), end)["search"];
        assert_close(
            &hour["availability"],
            1.0 - truth.errors / truth.total,
            1e-9,
            &format!("hour {index}"),
        );
        assert_close(
            &hour["p99_ms"],
            truth.quantile(0.99).expect("data") * 1000.0,
            1e-9,
            &format!("hour {index} p99"),
        );
    }
    let during = hourly[9]["availability"].as_f64().expect("number");
    let before = hourly[8]["availability"].as_f64().expect("number");
    assert!(
        during < 0.97 && before > 0.99,
        "the 09:00-11:00 incident shows: {before} then {during}"
    );
}

#[tokio::test]
async fn a_day_in_another_time_zone_is_its_own_calendar_day() {
    let stack = stack();
    let bucket = new_bucket(&stack, "berlin").await;
    let job = job(
        &stack.prometheus_url,
        &stack.moto_url,
        &bucket,
        &[("REPORT_TIME_ZONE", "Europe/Berlin")],
    )
    .await;
    let outcome = invoke(
        &job,
        &json!({"time": "2026-11-02T23:30:00Z"}),
        deadline_in(60),
    )
    .await
    .expect("report written");
    let report: Value =
        serde_json::from_slice(&object(&stack, &bucket, &outcome.json_key).await.0).expect("json");
    assert_eq!(report["period"]["start"], "2026-11-01T23:00:00Z");
    assert_eq!(report["period"]["time_zone"], "Europe/Berlin");
    check_against_truth(&report, "2026-11-01T23:00:00Z", "2026-11-02T23:00:00Z");
}

#[tokio::test]
async fn rerunning_a_day_writes_the_same_bytes() {
    let stack = stack();
    let bucket = new_bucket(&stack, "rerun").await;
    let job = job(&stack.prometheus_url, &stack.moto_url, &bucket, &[]).await;
    let scheduled = invoke(
        &job,
        &json!({"time": "2026-11-03T00:15:00Z"}),
        deadline_in(60),
    )
    .await
    .expect("first run");
    let first_json = object(&stack, &bucket, &scheduled.json_key).await.0;
    let first_html = object(&stack, &bucket, &scheduled.html_key).await.0;
    let backfill = invoke(&job, &json!({"date": "2026-11-02"}), deadline_in(60))
        .await
        .expect("backfill");
    assert_eq!(
        object(&stack, &bucket, &backfill.json_key).await.0,
        first_json
    );
    assert_eq!(
        object(&stack, &bucket, &backfill.html_key).await.0,
        first_html
    );
}

#[tokio::test]
async fn a_window_is_the_sum_of_ledger_days_and_a_lost_or_corrupt_day_is_filled_again() {
    let stack = stack();
    let bucket = new_bucket(&stack, "ledger").await;
    let job = job(
        &stack.prometheus_url,
        &stack.moto_url,
        &bucket,
        &[("SLO_WINDOW", "7d")],
    )
    .await;
    let day = json!({"date": "2026-11-02"});
    let first = invoke(&job, &day, deadline_in(60))
        .await
        .expect("report written");
    assert_eq!(first.queries, 8 + 2 * 6, "six earlier days looked for");
    let first_bytes = object(&stack, &bucket, &first.json_key).await.0;
    let report: Value = serde_json::from_slice(&first_bytes).expect("json");
    // 2026-10-27 to 2026-10-31 precede the history: missing, never good.
    check_window_against_truth(&report, "2026-10-27", 5);
    let ledger_key = "sla-reports/daily/2026/11/01/ledger.json";
    let filled = object(&stack, &bucket, ledger_key).await.0;
    let client = s3(&stack.moto_url).await;
    for lose in ["delete", "corrupt"] {
        if lose == "delete" {
            client
                .delete_object()
                .bucket(&bucket)
                .key(ledger_key)
                .send()
                .await
                .expect("deleted");
        } else {
            client
                .put_object()
                .bucket(&bucket)
                .key(ledger_key)
                .body(b"{\"schema_version\": 1, \"date\": \"2026-11-01\", \"slos\": {\"availability\": {\"search\": {\"good\": 5, \"total\": 1}}}}".to_vec().into())
                .send()
                .await
                .expect("hand-edited");
        }
        let again = invoke(&job, &day, deadline_in(60))
            .await
            .expect("report written");
        assert_eq!(
            again.queries,
            8 + 2 * 6,
            "{lose}: the lost day is computed again"
        );
        assert_eq!(
            object(&stack, &bucket, ledger_key).await.0,
            filled,
            "{lose}"
        );
        assert_eq!(
            object(&stack, &bucket, &again.json_key).await.0,
            first_bytes,
            "{lose}: the same report"
        );
    }
}

#[tokio::test]
async fn an_slo_document_s_latency_and_ratio_slis_match_the_truth_and_a_bad_threshold_fails_alone()
{
    let stack = stack();
    let (_, outcome, report) = report_with_document(
        &stack,
        "slodoc",
        r#"window: 7d
slos:
  - name: availability
    sli: availability
    objective: 0.999
  - name: fast
    sli: latency
    threshold_ms: 250
    objective: 0.9
  - name: slow-edge
    sli: latency
    threshold_ms: 300
    objective: 0.9
  - name: requests-ratio
    sli: ratio
    group_by: service
    bad: sum by (service) (increase(http_requests_total{status=~"5.."}[{{window}}]))
    total: sum by (service) (increase(http_requests_total[{{window}}]))
    objective: 0.999
"#,
    )
    .await;
    assert_eq!(
        outcome.queries,
        (8 + 3) + 6 * (2 + 3),
        "the day's 8 and its SLO queries (one histogram, two for the ratio), then each of six earlier days"
    );
    assert_eq!(
        report["slo_errors"],
        json!([{"slo": "slow-edge", "error": "threshold_ms: 300 is not a bucket boundary (250, 500)"}])
    );
    let truth = test_history().truth(utc("2026-11-01T00:00:00Z"), utc("2026-11-03T00:00:00Z"));
    for (name, expected) in &truth {
        let slos = service(&report, name)["slos"]
            .as_array()
            .expect("slos")
            .clone();
        let names: Vec<&str> = slos
            .iter()
            .map(|s| s["name"].as_str().expect("name"))
            .collect();
        assert_eq!(names, ["availability", "fast", "requests-ratio"], "{name}");
        if expected.total == 0.0 {
            continue;
        }
        let fast = &slos[1]["window"];
        assert_eq!(fast["start"], "2026-10-27", "{name}");
        let observed = expected.cumulative_buckets[10];
        assert_close(
            &fast["total"],
            observed,
            1e-9,
            &format!("{name} observations"),
        );
        assert_close(
            &fast["sli_value"],
            expected.cumulative_buckets[5] / observed,
            1e-9,
            &format!("{name} share at or under 250 ms"),
        );
        assert_close(
            &slos[2]["window"]["sli_value"],
            1.0 - expected.errors / expected.total,
            1e-9,
            &format!("{name} ratio SLI"),
        );
        assert_eq!(
            slos[2]["window"], slos[0]["window"],
            "{name}: the same events"
        );
        assert!(service(&report, name)["slo"]["window"].is_null(), "{name}");
    }
}

#[tokio::test]
async fn an_ended_month_s_compliance_report_sums_its_ledger_days() {
    let stack = stack();
    let bucket = new_bucket(&stack, "monthly").await;
    let job = job(
        &stack.prometheus_url,
        &stack.moto_url,
        &bucket,
        &[("REPORT_PERIODS", "month")],
    )
    .await;
    // November has ended: reporting one of its days writes its report, from every day of it
    // the ledger has or Prometheus still holds (the history covers the first days).
    let outcome = invoke(&job, &json!({"date": "2026-11-02"}), deadline_in(60))
        .await
        .expect("report written");
    assert_eq!(
        outcome.queries,
        8 + 2 * 29,
        "the rest of November looked for"
    );
    let (body, content_type) =
        object(&stack, &bucket, "sla-reports/monthly/2026/11/report.json").await;
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let month: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(month["period"]["name"], "2026-11");
    let stored: Vec<String> = keys(&stack, &bucket)
        .await
        .into_iter()
        .filter(|key| key.ends_with("/ledger.json"))
        .collect();
    let days = stored.len();
    let end = format!("2026-11-{:02}T00:00:00Z", days + 1);
    let truth = test_history().truth(utc("2026-11-01T00:00:00Z"), utc(&end));
    for (name, expected) in &truth {
        let line = month["services"]
            .as_array()
            .expect("services")
            .iter()
            .find(|s| s["service"] == *name);
        if expected.total == 0.0 {
            continue;
        }
        let slo = &line.unwrap_or_else(|| panic!("{name}"))["slos"][0];
        assert_close(
            &slo["total"],
            expected.total,
            1e-9,
            &format!("{name} month total"),
        );
        assert_close(
            &slo["sli_value"],
            1.0 - expected.errors / expected.total,
            1e-9,
            &format!("{name} month SLI"),
        );
        assert_eq!(slo["days_missing"], 30 - days, "{name}");
    }
    let html = String::from_utf8(
        object(&stack, &bucket, "sla-reports/monthly/2026/11/report.html")
            .await
            .0,
    )
    .expect("utf-8");
    assert!(html.contains("SLO report for 2026-11"));
}

#[tokio::test]
async fn an_exclusion_removes_its_hours_from_good_and_total_for_its_services_only() {
    let stack = stack();
    let (bucket, outcome, report) = report_with_document(
        &stack,
        "exclusion",
        "window: 1d\nslos:\n  - {name: availability, sli: availability, objective: 0.999}\nexclusions:\n  - {start: 2026-11-02T09:00:00Z, end: 2026-11-02T11:00:00Z, services: [search], reason: \"the incident, planned\"}\n",
    )
    .await;
    assert_eq!(
        outcome.queries,
        8 + 2,
        "the excluded stretch's requests and errors"
    );
    let history = test_history();
    let day = history.truth(utc("2026-11-02T00:00:00Z"), utc("2026-11-03T00:00:00Z"));
    let during = history.truth(utc("2026-11-02T09:00:00Z"), utc("2026-11-02T11:00:00Z"));
    let search = &service(&report, "search")["slos"][0];
    let (total, errors) = (
        day["search"].total - during["search"].total,
        day["search"].errors - during["search"].errors,
    );
    assert_close(
        &search["total"],
        total,
        1e-9,
        "search total without the incident",
    );
    assert_close(
        &search["good"],
        total - errors,
        1e-9,
        "search good without the incident",
    );
    assert_eq!(search["status"], "met", "the incident was the breach");
    let api = &service(&report, "api")["slos"][0];
    assert_close(&api["total"], day["api"].total, 1e-9, "api is not excluded");
    let ledger: Value = serde_json::from_slice(
        &object(&stack, &bucket, "sla-reports/daily/2026/11/02/ledger.json")
            .await
            .0,
    )
    .expect("json");
    assert_close(
        &ledger["slos"]["availability"]["search"]["excluded"],
        during["search"].total,
        1e-9,
        "the ledger records what was left out",
    );
}

#[tokio::test]
async fn openslo_and_sloth_documents_give_what_the_native_one_gives() {
    let stack = stack();
    let openslo = r#"apiVersion: openslo/v1
kind: SLO
metadata:
  name: search-availability
spec:
  service: search
  indicator:
    metadata:
      name: search-good-requests
    spec:
      ratioMetric:
        counter: true
        good:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{service="search",status!~"5.."}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: http_requests_total{service="search"}
  timeWindow:
    - duration: 7d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: Good
      target: 0.999
"#;
    let sloth = r#"version: "prometheus/v1"
service: "search"
slos:
  - name: "search-availability"
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="search",status=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="search"}[{{.window}}]))
    alerting:
      name: SearchHighErrorRate
      page_alert:
        labels:
          severity: page
"#;
    let history = test_history();
    let truth = &history.truth(utc("2026-11-01T00:00:00Z"), utc("2026-11-03T00:00:00Z"))["search"];
    for (format, text) in [("openslo", openslo), ("sloth", sloth)] {
        let (_, _, report) = report_with_document(&stack, format, text).await;
        let slos = service(&report, "search")["slos"]
            .as_array()
            .expect("slos")
            .clone();
        assert_eq!(slos.len(), 1, "{format}");
        assert_eq!(slos[0]["name"], "search-availability", "{format}");
        let window = &slos[0]["window"];
        assert_close(
            &window["total"],
            truth.total,
            1e-9,
            &format!("{format} total"),
        );
        assert_close(
            &window["sli_value"],
            1.0 - truth.errors / truth.total,
            1e-9,
            &format!("{format} SLI"),
        );
        assert!(
            service(&report, "api")["slos"]
                .as_array()
                .expect("slos")
                .is_empty(),
            "{format}: the SLO covers its service only"
        );
    }
}
