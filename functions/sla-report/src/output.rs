//! What one run writes, in order: the day's HTML and JSON report, its ledger day, the reports of
//! the periods the day closes, and last `latest.json`.

use chrono::NaiveDate;
use vigil_core::ports::{MetricsSource, ReportStore};
use vigil_core::report::figures::SlaReport;
use vigil_core::report::keys::ReportKeys;
use vigil_core::report::periods::PeriodKind;
use vigil_core::report::render;
use vigil_core::slo::ledger::LedgerObject;
use vigil_core::telemetry::Event;

use crate::{ReportError, ReportOutcome, SlaReportJob};

/// Everything a run writes.
pub(crate) struct Written<'a> {
    /// The day's report.
    pub report: &'a SlaReport,
    /// The day reported.
    pub day: NaiveDate,
    /// The day's ledger object.
    pub ledger: &'a LedgerObject,
    /// The periods the day closes.
    pub closing: &'a [PeriodKind],
    /// The ledger objects read, the day's included.
    pub ledger_days: &'a [LedgerObject],
}

impl<M: MetricsSource, S: ReportStore> SlaReportJob<M, S> {
    /// Writes `written`, then `latest.json` when `latest`.
    pub(crate) async fn write(
        &self,
        written: Written<'_>,
        queries: usize,
        latest: bool,
    ) -> Result<ReportOutcome, ReportError> {
        let report = written.report;
        let json = render::to_json(report)?;
        let html = render::to_html(report).into_bytes();
        let keys = ReportKeys::for_day(&self.settings.prefix, &report.period.date);
        self.store
            .put(&keys.html, html, "text/html; charset=utf-8")
            .await?;
        self.store
            .put(&keys.json, json.clone(), "application/json")
            .await?;
        self.write_ledger(written.ledger).await?;
        self.write_periods(written.closing, written.day, written.ledger_days)
            .await?;
        if latest {
            self.store
                .put(&keys.latest, json, "application/json")
                .await?;
        }
        let outcome = ReportOutcome {
            date: report.period.date.clone(),
            services: report.summary.services,
            breached: report.summary.breached,
            no_data: report.summary.no_data,
            json_key: keys.json,
            html_key: keys.html,
            latest_key: latest.then_some(keys.latest),
            queries,
        };
        tracing::info!(
            date = %outcome.date,
            services = outcome.services,
            breached = outcome.breached,
            no_data = outcome.no_data,
            json_key = %outcome.json_key,
            html_key = %outcome.html_key,
            latest_key = outcome.latest_key.as_deref().unwrap_or(""),
            "{}",
            Event::ReportWritten
        );
        Ok(outcome)
    }
}
