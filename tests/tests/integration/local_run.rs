//! The `sla-report` and `anomaly-check` binaries run locally, as `make demo` and users run
//! them: exit codes and the JSON log lines.

use std::process::Command;

use serde_json::Value;

use crate::support::{binary, new_bucket, stack};

fn run(env: &[(&str, &str)], args: &[&str]) -> (bool, Vec<Value>) {
    run_binary("sla-report", env, args)
}

fn run_binary(name: &str, env: &[(&str, &str)], args: &[&str]) -> (bool, Vec<Value>) {
    let output = Command::new(binary(name))
        .args(args)
        .env_clear()
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .envs(env.iter().copied())
        .output()
        .expect("runs");
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let lines = stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON line: {line}"))
        })
        .collect();
    (output.status.success(), lines)
}

fn event_file(content: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), content).expect("written");
    file
}

fn every_line_is_structured(lines: &[Value]) {
    for line in lines {
        assert!(
            line["timestamp"]
                .as_str()
                .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()),
            "{line}"
        );
        assert!(
            line["level"].is_string() && line["message"].is_string(),
            "{line}"
        );
    }
}

#[tokio::test]
async fn a_local_run_writes_the_report_and_logs_json() {
    let stack = stack();
    let bucket = new_bucket(&stack, "local").await;
    let event = event_file(r#"{"date": "2026-11-02"}"#);
    let path = event.path().to_str().expect("path");
    let (ok, lines) = run(
        &[
            ("PROMETHEUS_URL", &stack.prometheus_url),
            ("REPORT_BUCKET", &bucket),
            ("S3_FORCE_PATH_STYLE", "true"),
            ("AWS_ENDPOINT_URL", &stack.moto_url),
        ],
        &["--event", path],
    );
    assert!(ok, "{lines:?}");
    every_line_is_structured(&lines);
    let written = lines
        .iter()
        .find(|l| l["message"] == "ReportWritten")
        .expect("ReportWritten logged");
    assert_eq!(
        written["json_key"],
        "sla-reports/daily/2026/11/02/report.json"
    );
    assert!(written["span"]["requestId"].is_string(), "{written}");
    let metrics = lines
        .iter()
        .find(|l| l["message"] == "MetricsEmitted")
        .expect("EMF line");
    // The report's eight, and two for each day filled: the 29 earlier days of the default
    // 30-day window and the rest of November, which has ended (its report is written), 31 at
    // most in one run.
    assert_eq!(metrics["QueriesIssued"], 8.0 + 2.0 * 31.0);
    assert_eq!(
        metrics["ServicesReported"],
        vigil_tests::test_history().services.len() as f64
    );
}

#[test]
fn a_failed_local_run_exits_non_zero_with_a_json_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let event = event_file(r#"{"date": "2026-11-02"}"#);
    let (ok, lines) = run(
        &[
            ("PROMETHEUS_URL", "http://127.0.0.1:9"),
            ("REPORT_DIR", dir.path().to_str().expect("path")),
        ],
        &[
            "--event",
            event.path().to_str().expect("path"),
            "--timeout-seconds",
            "3",
        ],
    );
    assert!(!ok);
    every_line_is_structured(&lines);
    let failed = lines
        .iter()
        .find(|l| l["message"] == "InvocationFailed")
        .expect("InvocationFailed logged");
    assert_eq!(failed["level"], "ERROR");
    assert_eq!(failed["error_type"], "PrometheusUnavailable");
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        0,
        "nothing written"
    );
}

#[test]
fn bad_configuration_stops_start_up_naming_the_variable() {
    let event = event_file(r#"{"date": "2026-11-02"}"#);
    let path = event.path().to_str().expect("path");
    let (ok, lines) = run(
        &[
            ("PROMETHEUS_URL", "http://127.0.0.1:9"),
            ("REPORT_DIR", "/tmp"),
            ("SLO_TARGET", "99.9"),
        ],
        &["--event", path],
    );
    assert!(!ok);
    let rejected = lines
        .iter()
        .find(|l| l["message"] == "ConfigRejected")
        .expect("ConfigRejected logged");
    assert!(
        rejected["error"]
            .as_str()
            .expect("error")
            .starts_with("SLO_TARGET: "),
        "{rejected}"
    );
}

#[test]
fn a_local_run_can_write_into_a_directory() {
    let stack = stack();
    let dir = tempfile::tempdir().expect("temp dir");
    let event = event_file(r#"{"date": "2026-11-02"}"#);
    let (ok, lines) = run(
        &[
            ("PROMETHEUS_URL", &stack.prometheus_url),
            ("REPORT_DIR", dir.path().to_str().expect("path")),
            ("REPORT_PREFIX", "team/"),
        ],
        &["--event", event.path().to_str().expect("path")],
    );
    assert!(ok, "{lines:?}");
    for file in [
        "team/daily/2026/11/02/report.json",
        "team/daily/2026/11/02/report.html",
    ] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    assert!(
        !dir.path().join("team/latest.json").exists(),
        "a backfill of an old day leaves latest.json alone"
    );
}

#[test]
fn a_local_check_evaluates_the_slo_document_s_rules_at_the_event_s_time() {
    let stack = stack();
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("written");
        path.to_str().expect("utf-8").to_owned()
    };
    let slos = write(
        "slos.yaml",
        "slos:\n  - {name: availability, services: [burn-fast], sli: availability, objective: 0.999}\n",
    );
    let checks = write("checks.yaml", "default_checks: false\n");
    // Twelve minutes into the fast burn: the hour burns above 14.4.
    let event = event_file(r#"{"time": "2026-06-04T10:12:00Z"}"#);
    let state = dir.path().join("state");
    let env = [
        ("PROMETHEUS_URL", stack.prometheus_url.as_str()),
        ("STATE_DIR", state.to_str().expect("utf-8")),
        ("SLOS_FILE", slos.as_str()),
        ("CHECKS_FILE", checks.as_str()),
        ("EVALUATION_DELAY_SECONDS", "0"),
    ];
    let (ok, lines) = run_binary(
        "anomaly-check",
        &env,
        &["--event", event.path().to_str().expect("path")],
    );
    assert!(ok, "{lines:?}");
    every_line_is_structured(&lines);
    assert!(lines.iter().any(|l| l["message"] == "BudgetAlertsOff"));
    let alerts: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "AlertNotified")
        .collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        alerts[0]["subject"],
        "[FIRING critical] SLO availability burn-fast 1h/5m"
    );
    assert_eq!(alerts[0]["alert"]["check"], "slo_burn");
    assert_eq!(alerts[0]["alert"]["at"], "2026-06-04T10:12:00Z");
    let metrics = lines
        .iter()
        .find(|l| l["message"] == "MetricsEmitted")
        .expect("EMF line");
    assert_eq!(metrics["SlosConfigured"], 1.0);
    // A bad document stops start-up, naming the variable, the SLO and the field.
    let bad = write(
        "bad.yaml",
        "slos:\n  - {name: availability, sli: availability, objective: 0.999, burn_rate_alerts: [{severity: critical, burn_rate: -1, long_window: 1h, short_window: 5m}]}\n",
    );
    let env = [
        ("PROMETHEUS_URL", stack.prometheus_url.as_str()),
        ("STATE_DIR", state.to_str().expect("utf-8")),
        ("SLOS_FILE", bad.as_str()),
    ];
    let (ok, lines) = run_binary(
        "anomaly-check",
        &env,
        &["--event", event.path().to_str().expect("path")],
    );
    assert!(!ok);
    let failed = lines
        .iter()
        .find(|l| l["message"] == "StartupFailed")
        .expect("StartupFailed logged");
    assert_eq!(
        failed["error"],
        "SLOS_FILE: slos[0] \"availability\": burn_rate_alerts[0].burn_rate: must be a number above 0"
    );
}
