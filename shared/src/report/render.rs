//! Renders an [`SlaReport`] as JSON for machines and as one self-contained HTML page for people.
//!
//! Both renderings are deterministic: the same report gives the same bytes, so re-running a
//! day with the same data rewrites identical objects. The HTML page has no scripts and loads
//! nothing: a summary table, each service's status at a glance, and inline SVG charts of the
//! day's hourly availability and p99 latency. Every text from the data is HTML-escaped.

use std::fmt::Write as _;

use crate::report::figures::{HourlyPoint, ServiceReport, SlaReport, SloStatus};
use crate::report::periods::{PeriodReport, PeriodSlo};
use crate::report::slos::ServiceSlo;
use crate::slo::window::Status;

/// The report as pretty-printed JSON with a trailing newline.
///
/// # Errors
/// Only if serialisation fails, which the report's types rule out in practice.
pub fn to_json(report: &SlaReport) -> Result<Vec<u8>, serde_json::Error> {
    let mut bytes = serde_json::to_vec_pretty(report)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{:.3} %", v * 100.0))
}

fn millis(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.1} ms"))
}

fn number(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.0}"))
}

fn status_badge(status: SloStatus) -> &'static str {
    match status {
        SloStatus::Met => r#"<span class="badge met">met</span>"#,
        SloStatus::Breached => r#"<span class="badge breached">breached</span>"#,
        SloStatus::NoData => r#"<span class="badge nodata">no data</span>"#,
    }
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2328;background:#fff}\
h1{font-size:1.5rem;margin-bottom:.25rem}.muted{color:#656d76}\
table{border-collapse:collapse;margin:1rem 0;width:100%}th,td{padding:.35rem .6rem;border-bottom:1px solid #d0d7de;text-align:right}\
th:first-child,td:first-child{text-align:left}th{background:#f6f8fa}\
.badge{display:inline-block;padding:.1rem .5rem;border-radius:1rem;font-size:.85rem;font-weight:600}\
.met{background:#dafbe1;color:#1a7f37}.breached{background:#ffebe9;color:#cf222e}.nodata{background:#eaeef2;color:#57606a}\
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #d0d7de;border-radius:.5rem;padding:.75rem 1rem;min-width:9rem}\
.card b{display:block;font-size:1.4rem}section{margin-top:2rem}.charts{display:flex;gap:1.5rem;flex-wrap:wrap}\
svg text{font-size:10px;fill:#656d76}";

const CHART_WIDTH: f64 = 480.0;
const CHART_HEIGHT: f64 = 140.0;
const MARGIN_LEFT: f64 = 56.0;
const MARGIN_BOTTOM: f64 = 20.0;

/// An inline SVG line chart of `values` (one per hour; `None` breaks the line).
fn chart(
    title: &str,
    values: &[Option<f64>],
    format: impl Fn(f64) -> String,
    floor: Option<f64>,
) -> String {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<figure><figcaption>{}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{CHART_HEIGHT}" role="img" aria-label="{}">"#,
        escape_html(title),
        escape_html(title)
    );
    let plot_width = CHART_WIDTH - MARGIN_LEFT - 8.0;
    let plot_height = CHART_HEIGHT - MARGIN_BOTTOM - 8.0;
    let _ = write!(
        svg,
        r##"<rect x="{MARGIN_LEFT}" y="8" width="{plot_width}" height="{plot_height}" fill="#f6f8fa"/>"##
    );
    if present.is_empty() {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle">no data</text></svg></figure>"#,
            MARGIN_LEFT + plot_width / 2.0,
            8.0 + plot_height / 2.0
        );
        return svg;
    }
    let mut low = present.iter().copied().fold(f64::INFINITY, f64::min);
    let mut high = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if let Some(floor) = floor {
        low = low.min(floor);
    }
    if (high - low).abs() < f64::EPSILON {
        high = low + low.abs().max(1.0) * 0.01;
    }
    let slots = values.len().max(2) - 1;
    let x = |index: usize| MARGIN_LEFT + plot_width * index as f64 / slots as f64;
    let y = |value: f64| 8.0 + plot_height * (1.0 - (value - low) / (high - low));
    for (value, anchor_y) in [(high, y(high)), (low, y(low))] {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{:.1}" text-anchor="end" dominant-baseline="middle">{}</text>"#,
            MARGIN_LEFT - 4.0,
            anchor_y,
            escape_html(&format(value))
        );
    }
    let _ = write!(
        svg,
        r#"<text x="{MARGIN_LEFT}" y="{}">00:00</text><text x="{}" y="{}" text-anchor="end">24:00</text>"#,
        CHART_HEIGHT - 4.0,
        MARGIN_LEFT + plot_width,
        CHART_HEIGHT - 4.0
    );
    if let Some(floor) = floor.filter(|f| *f >= low && *f <= high) {
        let _ = write!(
            svg,
            r##"<line x1="{MARGIN_LEFT}" x2="{}" y1="{:.1}" y2="{:.1}" stroke="#cf222e" stroke-dasharray="4 3"/>"##,
            MARGIN_LEFT + plot_width,
            y(floor),
            y(floor)
        );
    }
    let mut segment: Vec<String> = Vec::new();
    let flush = |segment: &mut Vec<String>, svg: &mut String| {
        if segment.len() == 1 {
            let (px, py) = segment[0].split_once(',').unwrap_or(("0", "0"));
            let _ = write!(
                svg,
                r##"<circle cx="{px}" cy="{py}" r="2" fill="#0969da"/>"##
            );
        } else if segment.len() > 1 {
            let _ = write!(
                svg,
                r##"<polyline fill="none" stroke="#0969da" stroke-width="2" points="{}"/>"##,
                segment.join(" ")
            );
        }
        segment.clear();
    };
    for (index, value) in values.iter().enumerate() {
        match value {
            Some(value) => segment.push(format!("{:.1},{:.1}", x(index), y(*value))),
            None => flush(&mut segment, &mut svg),
        }
    }
    flush(&mut segment, &mut svg);
    svg.push_str("</svg></figure>");
    svg
}

fn service_section(service: &ServiceReport) -> String {
    let availability: Vec<Option<f64>> = service
        .hourly
        .iter()
        .map(|h: &HourlyPoint| h.availability.map(|a| a * 100.0))
        .collect();
    let p99: Vec<Option<f64>> = service.hourly.iter().map(|h| h.p99_ms).collect();
    let name = escape_html(&service.service);
    format!(
        r#"<section><h2>{name} {}</h2><p class="muted">availability {} · target {} · p99 {} · budget remaining {}</p><div class="charts">{}{}</div></section>"#,
        status_badge(service.slo.status),
        percent(service.availability),
        percent(Some(service.slo.target.value())),
        millis(service.latency_ms.p99),
        percent(service.slo.error_budget_remaining),
        chart(
            &format!("{} hourly availability (%)", service.service),
            &availability,
            |v| format!("{v:.2}%"),
            Some(service.slo.target.value() * 100.0)
        ),
        chart(
            &format!("{} hourly p99 latency (ms)", service.service),
            &p99,
            |v| format!("{v:.0} ms"),
            None
        ),
    )
}

/// A period-close report as one self-contained HTML page: every SLO of every service over the
/// period, the most budget spent first.
pub fn period_html(report: &PeriodReport) -> String {
    let period = &report.period;
    let mut html = String::with_capacity(8 * 1024);
    let _ = write!(
        html,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>SLO report {name}</title><style>{CSS}</style></head><body><h1>SLO report for {name}</h1><p class="muted">{start} to {end} ({zone})</p>"#,
        name = escape_html(&period.name),
        start = period.start,
        end = period.end,
        zone = escape_html(&period.time_zone),
    );
    let mut rows: Vec<(&str, &PeriodSlo)> = report
        .services
        .iter()
        .flat_map(|service| {
            service
                .slos
                .iter()
                .map(|slo| (service.service.as_str(), slo))
        })
        .collect();
    rows.sort_by(|a, b| {
        let spent = |slo: &PeriodSlo| slo.budget_consumed.unwrap_or(f64::NEG_INFINITY);
        spent(b.1)
            .total_cmp(&spent(a.1))
            .then_with(|| a.0.cmp(b.0))
            .then_with(|| a.1.name.cmp(&b.1.name))
    });
    html.push_str("<table><thead><tr><th>service</th><th>SLO</th><th>status</th><th>SLI</th><th>objective</th><th>budget spent</th><th>events</th><th>days breached</th><th>days missing</th><th>worst day</th></tr></thead><tbody>");
    for (service, slo) in rows {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape_html(service),
            escape_html(&slo.name),
            status_badge(slo_status(slo.status)),
            percent(slo.sli_value),
            percent(Some(slo.objective)),
            percent(slo.budget_consumed),
            number(Some(slo.total)),
            slo.days_breached,
            slo.days_missing,
            slo.worst_day.map_or_else(
                || "—".to_owned(),
                |day| format!("{} ({})", day.date, percent(Some(day.sli_value)))
            ),
        );
    }
    html.push_str("</tbody></table></body></html>\n");
    html
}

fn slo_status(status: Status) -> SloStatus {
    match status {
        Status::Met => SloStatus::Met,
        Status::Breached => SloStatus::Breached,
        Status::NoData => SloStatus::NoData,
    }
}

/// A small inline SVG of an SLO's budget left after each day of its window (1 at the top, a
/// dashed line at 0, overspending below it down to −1).
fn burndown_sparkline(values: &[Option<f64>]) -> String {
    sparkline(values, "budget left, day by day", -1.0, 1.0, 0.0)
}

/// A small inline SVG of `values` (one per day, `None` left out) between `low` and `high`, with
/// a dashed line at `mark`.
fn sparkline(values: &[Option<f64>], label: &str, low: f64, high: f64, mark: f64) -> String {
    const WIDTH: f64 = 160.0;
    const HEIGHT: f64 = 32.0;
    let slots = values.len().max(2) - 1;
    let x = |index: usize| WIDTH * index as f64 / slots as f64;
    let y = |value: f64| (HEIGHT - 2.0) * (high - value.clamp(low, high)) / (high - low) + 1.0;
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .filter_map(|(index, value)| value.map(|v| format!("{:.1},{:.1}", x(index), y(v))))
        .collect();
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{label}"><line x1="0" x2="{WIDTH}" y1="{mark:.1}" y2="{mark:.1}" stroke="#cf222e" stroke-dasharray="3 2"/><polyline fill="none" stroke="#0969da" stroke-width="1.5" points="{points}"/></svg>"##,
        label = escape_html(label),
        mark = y(mark),
        points = points.join(" "),
    )
}

/// The SLI of each of the trend's days, scaled so that the objective sits in the middle and
/// the budget's width above and below it shows.
fn trend_sparkline(values: &[Option<f64>], objective: f64) -> String {
    let allowed = 1.0 - objective;
    sparkline(
        values,
        "SLI, 90 days",
        objective - 2.0 * allowed,
        1.0,
        objective,
    )
}

/// Every SLO of every service over its window, the least budget left first.
fn slo_table(html: &mut String, report: &SlaReport) {
    let mut rows: Vec<(&str, &ServiceSlo)> = report
        .services
        .iter()
        .flat_map(|service| {
            service
                .slos
                .iter()
                .map(|slo| (service.service.as_str(), slo))
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    rows.sort_by(|a, b| {
        let left = |slo: &ServiceSlo| slo.window.error_budget_remaining.unwrap_or(f64::INFINITY);
        left(a.1)
            .total_cmp(&left(b.1))
            .then_with(|| a.0.cmp(b.0))
            .then_with(|| a.1.name.cmp(&b.1.name))
    });
    html.push_str("<h2>SLOs over their windows</h2><table><thead><tr><th>service</th><th>SLO</th><th>window</th><th>status</th><th>SLI</th><th>objective</th><th>budget left</th><th>burn rate</th><th>days missing</th><th>budget runs out</th><th>budget left, day by day</th><th>SLI, 90 days</th></tr></thead><tbody>");
    for (service, slo) in rows {
        let window = &slo.window;
        let status = slo_status(window.status);
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{} ({} to {})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape_html(service),
            escape_html(&slo.name),
            escape_html(&slo.window_name),
            window.start,
            window.end,
            status_badge(status),
            percent(window.sli_value),
            percent(Some(slo.objective)),
            percent(window.error_budget_remaining),
            window.burn_rate.map_or_else(|| "—".to_owned(), |b| format!("{b:.2}×")),
            window.days_missing,
            window.budget_exhausted_on.map_or_else(|| "—".to_owned(), |d| d.to_string()),
            burndown_sparkline(&slo.burndown),
            trend_sparkline(&slo.trend, slo.objective),
        );
    }
    html.push_str("</tbody></table>");
}

/// The report as one self-contained HTML page.
pub fn to_html(report: &SlaReport) -> String {
    let period = &report.period;
    let summary = &report.summary;
    let mut html = String::with_capacity(16 * 1024);
    let _ = write!(
        html,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>SLA report {date}</title><style>{CSS}</style></head><body><h1>SLA report for {date}</h1><p class="muted">{start} to {end} ({zone}, {hours} h)</p>"#,
        date = escape_html(&period.date),
        start = escape_html(&period.start),
        end = escape_html(&period.end),
        zone = escape_html(&period.time_zone),
        hours = period.duration_seconds / 3600,
    );
    let _ = write!(
        html,
        r#"<div class="cards"><div class="card">services<b>{}</b></div><div class="card">met<b>{}</b></div><div class="card">breached<b>{}</b></div><div class="card">no data<b>{}</b></div><div class="card">fleet availability<b>{}</b></div><div class="card">requests<b>{}</b></div></div>"#,
        summary.services,
        summary.met,
        summary.breached,
        summary.no_data,
        percent(summary.availability),
        number(summary.total_requests),
    );
    html.push_str("<table><thead><tr><th>service</th><th>status</th><th>requests</th><th>errors</th><th>availability</th><th>target</th><th>budget left</th><th>burn rate</th><th>p50</th><th>p95</th><th>p99</th></tr></thead><tbody>");
    for service in &report.services {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape_html(&service.service),
            status_badge(service.slo.status),
            number(service.total_requests),
            number(service.error_requests),
            percent(service.availability),
            percent(Some(service.slo.target.value())),
            percent(service.slo.error_budget_remaining),
            service.slo.burn_rate.map_or_else(|| "—".to_owned(), |b| format!("{b:.2}×")),
            millis(service.latency_ms.p50),
            millis(service.latency_ms.p95),
            millis(service.latency_ms.p99),
        );
    }
    html.push_str("</tbody></table>");
    slo_table(&mut html, report);
    for service in &report.services {
        html.push_str(&service_section(service));
    }
    html.push_str("</body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::figures::{build_report, Measurements, SlaPolicy, SloTarget};
    use crate::report::period::ReportPeriod;

    fn report() -> SlaReport {
        let period = ReportPeriod::for_date(
            chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid"),
            chrono_tz::Tz::UTC,
        )
        .expect("valid");
        let first = period.hour_ends()[0].timestamp();
        let measurements = Measurements {
            total: [
                ("<script>alert(1)</script>".to_owned(), 100.0),
                ("idle".to_owned(), 0.0),
            ]
            .into(),
            hourly_total: [("<script>alert(1)</script>".to_owned(), vec![(first, 100.0)])].into(),
            hourly_p99: [("<script>alert(1)</script>".to_owned(), vec![(first, 0.2)])].into(),
            ..Measurements::default()
        };
        let policy = SlaPolicy {
            default_target: SloTarget::try_from(0.999).expect("valid"),
            overrides: std::collections::BTreeMap::new(),
        };
        build_report(&period, &measurements, &policy)
    }

    #[test]
    fn service_names_cannot_inject_markup() {
        let html = to_html(&report());
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }

    #[test]
    fn the_page_shows_statuses_and_charts() {
        let html = to_html(&report());
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains(r#"<span class="badge met">met</span>"#));
        assert!(html.contains(r#"<span class="badge nodata">no data</span>"#));
        assert_eq!(html.matches("<svg").count(), 4);
        assert!(
            html.contains(">no data</text>"),
            "the idle service's charts say so"
        );
        assert!(
            html.matches("http").count()
                == html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
            "the only URL is the SVG namespace: the page loads nothing"
        );
    }

    #[test]
    fn rendering_is_deterministic() {
        assert_eq!(to_html(&report()), to_html(&report()));
        assert_eq!(
            to_json(&report()).expect("json"),
            to_json(&report()).expect("json")
        );
    }
}
