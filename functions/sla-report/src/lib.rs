//! `sla-report`: the daily SLA report, as a job generic over its ports.
//!
//! [`SlaReportJob::run`] turns one scheduled event into a report: it derives the period from
//! the event, issues the report's fixed set of grouped queries
//! ([`Queries`](vigil_core::report::queries::Queries)) whatever the number of services, builds
//! the report with each SLO over its window from the ledger ([`ledger`]), and writes
//! `report.html`, `report.json`, the day's `ledger.json` and then `latest.json` (a backfill of
//! any day but the latest complete one leaves `latest.json` alone). Nothing of the day is written until
//! every query succeeded and both renderings exist, so a failed run leaves no partial report.

use std::time::Instant;

use chrono::{DateTime, Utc};
use vigil_core::deadline::Deadline;
use vigil_core::event::ScheduledEvent;
use vigil_core::ports::{Answer, MetricsError, MetricsSource, ReportStore};
use vigil_core::report::figures::build_report;
use vigil_core::report::keys::rewrites_latest;
use vigil_core::report::period::ReportPeriod;
use vigil_core::report::periods::{closed_periods, needed_days};
use vigil_core::report::queries::{HourlyRange, Queries, Results};
use vigil_core::report::slos::{attach_slos, trend_days};
use vigil_core::series::{Sample, Series};
use vigil_core::telemetry::Event;

pub mod config;
pub mod connect;
mod handler;
pub mod ledger;
mod outcome;
mod output;

pub use config::{Output, ReportSettings, SlaReportConfig};
pub use connect::{connect, DeployedJob, StartupError};
pub use handler::invoke;
pub use outcome::{ReportError, ReportOutcome, RunStats};
use output::Written;

/// The job, generic over where metrics come from and where reports go.
#[derive(Debug)]
pub struct SlaReportJob<M, S> {
    metrics: M,
    store: S,
    settings: ReportSettings,
}

impl<M: MetricsSource, S: ReportStore> SlaReportJob<M, S> {
    /// Builds the job from its ports and settings.
    pub fn new(metrics: M, store: S, settings: ReportSettings) -> Self {
        Self {
            metrics,
            store,
            settings,
        }
    }

    pub(crate) async fn instant(
        &self,
        name: &'static str,
        query: &str,
        time: DateTime<Utc>,
        deadline: Deadline,
    ) -> Result<(Vec<Sample>, f64), ReportError> {
        let started = Instant::now();
        let result = self.metrics.query(query, time, deadline).await;
        finish_query(name, query, started, result)
    }

    async fn range(
        &self,
        name: &'static str,
        query: &str,
        hours: HourlyRange,
        deadline: Deadline,
    ) -> Result<(Vec<Series>, f64), ReportError> {
        let started = Instant::now();
        let result = self
            .metrics
            .query_range(query, hours.start, hours.end, hours.step, deadline)
            .await;
        finish_query(name, query, started, result)
    }

    /// Runs one invocation.
    ///
    /// `now` is only used to refuse days that have not ended; the period itself comes from
    /// the event.
    ///
    /// # Errors
    /// [`ReportError`]; see [`ReportError::is_retryable`].
    pub async fn run(
        &self,
        event: &serde_json::Value,
        now: DateTime<Utc>,
        deadline: Deadline,
    ) -> Result<(ReportOutcome, RunStats), ReportError> {
        let event = ScheduledEvent::from_json(event)?;
        let time_zone = self.settings.time_zone;
        let period = ReportPeriod::for_event(&event, time_zone)?;
        if period.end > now {
            return Err(ReportError::PeriodNotOver {
                date: period.date.to_string(),
                end: period.end.to_rfc3339(),
            });
        }
        tracing::info!(date = %period.date, start = %period.start, end = %period.end, time_zone = %period.time_zone, "{}", Event::PeriodSelected);
        // Keep time for the writes, but never so much that short deadlines leave none to query.
        let reserve = self.settings.write_reserve.min(deadline.remaining() / 4);
        let deadline = Deadline::after(deadline.remaining().saturating_sub(reserve));
        let q = Queries::new(&self.settings.metrics, &period);
        let (at, hours) = (period.end, HourlyRange::of(&period));
        let (total, errors, p50, p95, p99, hourly_total, hourly_errors, hourly_p99) = tokio::try_join!(
            self.instant("total", &q.total, at, deadline),
            self.instant("errors", &q.errors, at, deadline),
            self.instant("p50", &q.p50, at, deadline),
            self.instant("p95", &q.p95, at, deadline),
            self.instant("p99", &q.p99, at, deadline),
            self.range("hourly_total", &q.hourly_total, hours, deadline),
            self.range("hourly_errors", &q.hourly_errors, hours, deadline),
            self.range("hourly_p99", &q.hourly_p99, hours, deadline),
        )?;
        let mut stats = RunStats {
            query_latency_ms: vec![
                total.1,
                errors.1,
                p50.1,
                p95.1,
                p99.1,
                hourly_total.1,
                hourly_errors.1,
                hourly_p99.1,
            ],
        };
        let results = Results {
            total: total.0,
            errors: errors.0,
            p50: p50.0,
            p95: p95.0,
            p99: p99.0,
            hourly_total: hourly_total.0,
            hourly_errors: hourly_errors.0,
            hourly_p99: hourly_p99.0,
        };
        let measurements = results.into_measurements(self.settings.metrics.service_label.as_str());
        let mut report = build_report(&period, &measurements, &self.settings.policy);
        let slos = self.settings.slos.slos(&self.settings.policy);
        let latest_day = ReportPeriod::previous_day(now, time_zone)?.date;
        let closing = closed_periods(&self.settings.periods, period.date, latest_day);
        let needed = needed_days(
            &self.settings.slos,
            &self.settings.policy,
            period.date,
            &closing,
        );
        let (today, slo_errors, spent) = self
            .day_ledger(&period, &measurements, &slos, deadline)
            .await?;
        stats.query_latency_ms.extend(spent);
        let trend: Vec<_> = trend_days(period.date)
            .into_iter()
            .filter(|d| !needed.contains(d))
            .collect();
        let (mut ledger, fills) = self.ledger(needed, &slos, &slo_errors, deadline).await?;
        stats.query_latency_ms.extend(fills);
        ledger.extend(self.read_trend(trend).await);
        report.slo_errors = slo_errors;
        ledger.push(today.clone());
        let policy = &self.settings.policy;
        attach_slos(
            &mut report,
            &self.settings.slos,
            policy,
            period.date,
            &ledger,
        );
        let latest = rewrites_latest(&event, &period, now, time_zone);
        let written = Written {
            report: &report,
            day: period.date,
            ledger: &today,
            closing: &closing,
            ledger_days: &ledger,
        };
        let outcome = self
            .write(written, stats.query_latency_ms.len(), latest)
            .await?;
        Ok((outcome, stats))
    }
}

fn finish_query<T>(
    name: &'static str,
    query: &str,
    started: Instant,
    result: Result<Answer<T>, MetricsError>,
) -> Result<(T, f64), ReportError> {
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(answer) => {
            for warning in &answer.warnings {
                tracing::warn!(query_name = name, warning = %warning, "{}", Event::QueryWarned);
            }
            for info in &answer.infos {
                tracing::debug!(query_name = name, info = %info, "{}", Event::QueryNoticed);
            }
            tracing::debug!(
                query_name = name,
                query,
                elapsed_ms,
                "{}",
                Event::QueryCompleted
            );
            Ok((answer.values, elapsed_ms))
        }
        Err(source) => {
            tracing::error!(query_name = name, query, elapsed_ms, error = %source, retryable = source.is_transient(), "{}", Event::QueryFailed);
            Err(ReportError::Query {
                name,
                query: query.to_owned(),
                source,
            })
        }
    }
}

#[cfg(test)]
mod tests;
