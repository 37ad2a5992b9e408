//! The ledger's I/O for one run: read the days the SLOs' windows need, fill the missing ones
//! from Prometheus while it still holds them, and write the reported day's.

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::{stream, StreamExt as _, TryStreamExt as _};
use vigil_core::deadline::Deadline;
use vigil_core::ports::{MetricsSource, ReportStore};
use vigil_core::promql::{self, RangeSeconds};
use vigil_core::report::figures::Measurements;
use vigil_core::report::period::ReportPeriod;
use vigil_core::report::periods::{period_report, PeriodKind};
use vigil_core::report::queries::{Queries, Results};
use vigil_core::report::render;
use vigil_core::report::slos::{ledger_of_day, ExcludedStretch, SloError, SloQueries, SloResults};
use vigil_core::slo::document::Slo;
use vigil_core::slo::exclusions::{stretches, Stretch};
use vigil_core::slo::ledger::{ledger_key, LedgerObject};
use vigil_core::telemetry::Event;

use crate::{ReportError, SlaReportJob};

/// Days filled from Prometheus in one run at most; the rest on later runs.
pub const MAX_FILLED_PER_RUN: usize = 31;
/// Ledger objects read at once.
const READS_AT_ONCE: usize = 16;

impl<M: MetricsSource, S: ReportStore> SlaReportJob<M, S> {
    /// The ledger objects of the `needed` days (newest first): read, or computed from
    /// Prometheus and written where missing, corrupt, or without one of the `slos` (added to
    /// the document later; those that `failed` today aside), at most [`MAX_FILLED_PER_RUN`],
    /// newest first. A day Prometheus has nothing for keeps what the ledger had. Returns them and
    /// the queries the fills cost (their latencies, in milliseconds).
    pub(crate) async fn ledger(
        &self,
        needed: Vec<NaiveDate>,
        slos: &[Slo],
        failed: &[SloError],
        deadline: Deadline,
    ) -> Result<(Vec<LedgerObject>, Vec<f64>), ReportError> {
        let read = self.read_ledger(needed).await?;
        let mut objects = Vec::with_capacity(read.len() + 1);
        let mut latencies = Vec::new();
        let mut filled = 0;
        let expected: Vec<&str> = slos
            .iter()
            .map(|slo| slo.name.as_str())
            .filter(|name| failed.iter().all(|error| error.slo != *name))
            .collect();
        for (date, object) in read {
            let whole = object
                .as_ref()
                .is_some_and(|o| expected.iter().all(|name| o.slos.contains_key(*name)));
            if whole || filled == MAX_FILLED_PER_RUN {
                objects.extend(object);
                continue;
            }
            filled += 1;
            let (computed, spent) = self.fill(date, slos, deadline).await?;
            latencies.extend(spent);
            objects.extend(computed.or(object));
        }
        Ok((objects, latencies))
    }

    /// The ledger objects of `days` as stored, `None` for a missing or corrupt one (logged).
    pub(crate) async fn read_ledger(
        &self,
        days: Vec<NaiveDate>,
    ) -> Result<Vec<(NaiveDate, Option<LedgerObject>)>, ReportError> {
        let prefix = &self.settings.prefix;
        stream::iter(days)
            .map(|date| async move {
                let key = ledger_key(prefix, date);
                let Some(bytes) = self.store.get(&key).await? else {
                    return Ok::<_, ReportError>((date, None));
                };
                match LedgerObject::parse(&bytes, date) {
                    Ok(object) => Ok((date, Some(object))),
                    Err(error) => {
                        tracing::warn!(%date, key, error = %error, "{}", Event::LedgerDayCorrupt);
                        Ok((date, None))
                    }
                }
            })
            .buffered(READS_AT_ONCE)
            .try_collect()
            .await
    }

    /// The ledger objects of the trend's `days` that can be read: the trend is for the page
    /// alone, so each day is read in one attempt and one that cannot be read is left out of it
    /// (logged), never failing the run nor spending the retries the writes may need.
    pub(crate) async fn read_trend(&self, days: Vec<NaiveDate>) -> Vec<LedgerObject> {
        let prefix = &self.settings.prefix;
        stream::iter(days)
            .map(|date| async move {
                let key = ledger_key(prefix, date);
                match self.store.peek(&key).await {
                    Ok(bytes) => bytes.and_then(|bytes| LedgerObject::parse(&bytes, date).ok()),
                    Err(error) => {
                        tracing::warn!(%date, key, error = %error, "{}", Event::TrendDayUnread);
                        None
                    }
                }
            })
            .buffered(READS_AT_ONCE)
            .filter_map(std::future::ready)
            .collect()
            .await
    }

    /// Computes `date`'s ledger object from Prometheus and writes it; `None` when Prometheus
    /// has no requests that day (beyond its retention, or none at all).
    async fn fill(
        &self,
        date: NaiveDate,
        slos: &[Slo],
        deadline: Deadline,
    ) -> Result<(Option<LedgerObject>, Vec<f64>), ReportError> {
        let settings = &self.settings;
        let period = ReportPeriod::for_date(date, settings.time_zone)?;
        let queries = Queries::new(&settings.metrics, &period);
        let (total, errors) = tokio::try_join!(
            self.instant("ledger_total", &queries.total, period.end, deadline),
            self.instant("ledger_errors", &queries.errors, period.end, deadline),
        )?;
        let mut latencies = vec![total.1, errors.1];
        let results = Results {
            total: total.0,
            errors: errors.0,
            ..Results::default()
        };
        let measurements = results.into_measurements(settings.metrics.service_label.as_str());
        let (object, _, spent) = self
            .day_ledger(&period, &measurements, slos, deadline)
            .await?;
        latencies.extend(spent);
        if object
            .slos
            .values()
            .all(std::collections::BTreeMap::is_empty)
        {
            tracing::warn!(%date, "{}", Event::LedgerDayMissing);
            return Ok((None, latencies));
        }
        self.write_ledger(&object).await?;
        tracing::info!(%date, "{}", Event::LedgerDayFilled);
        Ok((Some(object), latencies))
    }

    /// The ledger object of `period`'s day: `measurements` hold the day's requests and errors;
    /// the SLO document's latency and ratio SLIs are queried here. Returns the SLOs that could
    /// not be measured and the queries' latencies.
    pub(crate) async fn day_ledger(
        &self,
        period: &ReportPeriod,
        measurements: &Measurements,
        slos: &[Slo],
        deadline: Deadline,
    ) -> Result<(LedgerObject, Vec<SloError>, Vec<f64>), ReportError> {
        let range = RangeSeconds(period.seconds());
        let (results, mut latencies) = self.slo_results(slos, range, period.end, deadline).await?;
        let exclusions = self.settings.slos.exclusions();
        let mut excluded = Vec::new();
        for stretch in stretches(exclusions, period.start, period.end) {
            let (during, spent) = self.stretch_events(slos, stretch, deadline).await?;
            latencies.extend(spent);
            excluded.push(during);
        }
        let label = self.settings.metrics.service_label.as_str();
        let (object, errors) = ledger_of_day(
            period.date,
            measurements,
            &results,
            slos,
            label,
            &excluded,
            exclusions,
        );
        for error in &errors {
            tracing::error!(slo = %error.slo, error = %error.error, "{}", Event::SloFailed);
        }
        Ok((object, errors, latencies))
    }

    /// The SLO document's latency and ratio queries over `range`, evaluated at `at`.
    async fn slo_results(
        &self,
        slos: &[Slo],
        range: RangeSeconds,
        at: DateTime<Utc>,
        deadline: Deadline,
    ) -> Result<(SloResults, Vec<f64>), ReportError> {
        let queries = SloQueries::new(slos, &self.settings.metrics, range);
        let mut results = SloResults::default();
        let mut latencies = Vec::with_capacity(queries.count());
        if let Some(query) = &queries.latency {
            let (samples, spent) = self.instant("slo_latency", query, at, deadline).await?;
            results.latency = samples;
            latencies.push(spent);
        }
        for (numerator, total) in &queries.ratios {
            let (counted, total) = tokio::try_join!(
                self.instant("slo_ratio_events", numerator, at, deadline),
                self.instant("slo_ratio_total", total, at, deadline),
            )?;
            latencies.extend([counted.1, total.1]);
            results.ratios.push((counted.0, total.0));
        }
        Ok((results, latencies))
    }

    /// Everything counted over a `stretch` that exclusions cover: requests, errors and the SLO
    /// queries over its length, evaluated at its end.
    async fn stretch_events(
        &self,
        slos: &[Slo],
        stretch: Stretch,
        deadline: Deadline,
    ) -> Result<(ExcludedStretch, Vec<f64>), ReportError> {
        let conventions = &self.settings.metrics;
        let range = RangeSeconds(stretch.seconds());
        let by = [&conventions.service_label];
        let total = promql::sum_increase_by(&by, &conventions.requests(), range);
        let errors = promql::sum_increase_by(&by, &conventions.errors(), range);
        let (total, errors) = tokio::try_join!(
            self.instant("excluded_total", &total, stretch.end, deadline),
            self.instant("excluded_errors", &errors, stretch.end, deadline),
        )?;
        let (results, mut latencies) = self.slo_results(slos, range, stretch.end, deadline).await?;
        latencies.extend([total.1, errors.1]);
        let measurements = Results {
            total: total.0,
            errors: errors.0,
            ..Results::default()
        }
        .into_measurements(conventions.service_label.as_str());
        Ok((
            ExcludedStretch {
                stretch: Some(stretch),
                measurements,
                results,
            },
            latencies,
        ))
    }

    /// Writes the report of each period in `closing` that holds `day`, from the `ledger`.
    pub(crate) async fn write_periods(
        &self,
        closing: &[PeriodKind],
        day: NaiveDate,
        ledger: &[LedgerObject],
    ) -> Result<(), ReportError> {
        let settings = &self.settings;
        for kind in closing {
            let report = period_report(
                *kind,
                day,
                settings.time_zone.name(),
                &settings.slos,
                &settings.policy,
                ledger,
            );
            let folder = kind.folder(&settings.prefix, day);
            let (html, json) = (
                format!("{folder}report.html"),
                format!("{folder}report.json"),
            );
            let body = serde_json::to_vec(&report)?;
            self.store
                .put(
                    &html,
                    render::period_html(&report).into_bytes(),
                    "text/html; charset=utf-8",
                )
                .await?;
            self.store.put(&json, body, "application/json").await?;
            tracing::info!(period = %report.period.name, json_key = %json, html_key = %html, "{}", Event::PeriodReportWritten);
        }
        Ok(())
    }

    /// Writes `object` at its day's key.
    pub(crate) async fn write_ledger(&self, object: &LedgerObject) -> Result<(), ReportError> {
        let key = ledger_key(&self.settings.prefix, object.date);
        self.store
            .put(&key, object.to_json()?, "application/json")
            .await?;
        Ok(())
    }
}
