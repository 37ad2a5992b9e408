//! The SLO document's alerts in the minute check: the burn-rate rules' queries at the
//! evaluation time, all at once (see [`vigil_core::check::burn_reads`]); every ten minutes the
//! day-long ranges and, where the ledger is read, each SLO's budget (ledger days plus today so
//! far); and the exclusions that mute them.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use futures_util::future::join_all;
use futures_util::{stream, StreamExt as _};
use vigil_core::adapters::ConfiguredReportStore;
use vigil_core::annotations::Annotations;
use vigil_core::check::budget::{budgets, day_start, ledger_days, plan_budget, today, Budgets};
use vigil_core::check::burn::{
    long_ranges_due, note_events, plan_burn, plan_slo_absence, RangeCounts, SloCache,
    LONG_RANGE_REFRESH_SECONDS, LONG_RANGE_SECONDS,
};
use vigil_core::check::burn_reads::{
    burn_counts, burn_queries, shape_queries, BurnQuery, SloFailure,
};
use vigil_core::check::run::Round;
use vigil_core::check::state::StateDocument;
use vigil_core::conventions::MetricConventions;
use vigil_core::deadline::Deadline;
use vigil_core::ports::{AlertPublisher, MetricsSource, ReportStore, StateStore};
use vigil_core::slo::document::{Exclusion, Slo, SloDocument};
use vigil_core::slo::exclusions::stretches;
use vigil_core::slo::ledger::{ledger_key, LedgerObject};
use vigil_core::telemetry::Event;

use crate::{AnomalyCheckJob, CheckOutcome};

/// Ledger objects read at once.
const READS_AT_ONCE: usize = 8;

/// Where the budget alerts read the ledger the daily report writes.
#[derive(Debug)]
pub struct Ledger {
    store: ConfiguredReportStore,
    prefix: String,
    time_zone: Tz,
    /// Days already read: a past day's object changes only when the report fills or backfills
    /// it, and a warm process reads each once.
    read: Mutex<BTreeMap<NaiveDate, LedgerObject>>,
}

impl Ledger {
    /// The ledger under `prefix` in `store`, whose days are `time_zone`'s.
    pub fn new(store: ConfiguredReportStore, prefix: String, time_zone: Tz) -> Self {
        Self {
            store,
            prefix,
            time_zone,
            read: Mutex::default(),
        }
    }
}

/// The SLOs that alert, their exclusions, their queries and the ledger.
#[derive(Debug)]
pub(crate) struct SloRules {
    /// SLOs with burn-rate rules.
    burn: Vec<Slo>,
    /// SLOs with budget thresholds, where the ledger is read.
    budget: Vec<Slo>,
    exclusions: Vec<Exclusion>,
    queries: Vec<BurnQuery>,
    conventions: MetricConventions,
    ledger: Option<Ledger>,
}

/// What the rules' reads returned at one evaluation time.
#[derive(Debug, Default)]
pub(crate) struct SloReading {
    /// Events per range, SLO and service.
    pub(crate) counts: RangeCounts,
    /// The SLOs that could not be evaluated, and why.
    pub(crate) failed: BTreeMap<String, SloFailure>,
    /// Each query's wall time, in milliseconds.
    pub(crate) latency_ms: Vec<f64>,
    /// The long ranges' counts and the budgets to keep.
    pub(crate) cache: Option<SloCache>,
}

impl SloRules {
    /// The alerts of `document` under the metric `conventions`; budget alerts only with a
    /// `ledger`.
    pub(crate) fn new(
        document: &SloDocument,
        conventions: &MetricConventions,
        ledger: Option<Ledger>,
    ) -> Self {
        let burn: Vec<Slo> = document
            .slos
            .iter()
            .filter(|slo| !slo.alerting.burn_rules.is_empty())
            .cloned()
            .collect();
        let budget = match ledger {
            Some(_) => document
                .slos
                .iter()
                .filter(|slo| {
                    !slo.alerting.burn_rules.is_empty()
                        || !slo.alerting.budget_thresholds.is_empty()
                })
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        Self {
            queries: burn_queries(&burn, conventions),
            burn,
            budget,
            exclusions: document.exclusions.clone(),
            conventions: conventions.clone(),
            ledger,
        }
    }

    /// The annotations of the SLO `name`.
    pub(crate) fn annotations(&self, name: &str) -> Option<&Annotations> {
        self.burn
            .iter()
            .chain(&self.budget)
            .find(|slo| slo.name == name)
            .map(|slo| &slo.annotations)
    }

    /// How many SLOs alert.
    pub(crate) fn slo_count(&self) -> usize {
        let mut names: Vec<&str> = self
            .burn
            .iter()
            .chain(&self.budget)
            .map(|slo| slo.name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        names.len()
    }

    /// How many burn-rate queries an evaluation issues at most.
    pub(crate) fn query_count(&self) -> usize {
        self.queries.len()
    }

    /// Whether an exclusion covers `service` in the minute up to `now` (unix seconds).
    pub(crate) fn muted(&self, service: &str, now: i64) -> bool {
        let time = |t| DateTime::from_timestamp(t, 0).unwrap_or_default();
        stretches(&self.exclusions, time(now - 60), time(now))
            .iter()
            .any(|stretch| stretch.covers(&self.exclusions, service))
    }
}

impl<M: MetricsSource, S: StateStore, P: AlertPublisher> AnomalyCheckJob<M, S, P> {
    /// Issues `queries` at `now`, concurrently, and counts their answers for `slos`.
    async fn count(
        &self,
        rules: &SloRules,
        slos: &[Slo],
        queries: &[BurnQuery],
        now: i64,
        deadline: Deadline,
        latency_ms: &mut Vec<f64>,
    ) -> (RangeCounts, BTreeMap<String, SloFailure>) {
        let at = DateTime::from_timestamp(now, 0).unwrap_or_default();
        let answers = join_all(queries.iter().map(|query| async move {
            let started = Instant::now();
            let answer = self.metrics.query(&query.query, at, deadline).await;
            (answer, started.elapsed().as_secs_f64() * 1000.0)
        }))
        .await;
        let answers = answers
            .into_iter()
            .zip(queries)
            .map(|((answer, elapsed), query)| {
                latency_ms.push(elapsed);
                tracing::debug!(query_name = "slo_burn", query = %query.query, range_seconds = query.range, elapsed_ms = elapsed, ok = answer.is_ok(), "{}", Event::QueryCompleted);
                answer
                    .map(|answer| answer.values)
                    .map_err(|error| SloFailure {
                        error: error.to_string(),
                        retryable: error.is_transient(),
                    })
            })
            .collect();
        burn_counts(
            slos,
            queries,
            answers,
            rules.conventions.service_label.as_str(),
        )
    }

    /// Reads what the `rules` need at `now`: the short ranges; the long ranges and the budgets
    /// only when they are due ([`long_ranges_due`]), otherwise from `cache`.
    pub(crate) async fn read_slos(
        &self,
        rules: &SloRules,
        cache: Option<&SloCache>,
        now: i64,
        deadline: Deadline,
    ) -> SloReading {
        let cached = cache.filter(|cache| {
            !long_ranges_due(Some(cache), now)
                && rules
                    .queries
                    .iter()
                    .filter(|q| q.range >= LONG_RANGE_SECONDS)
                    .all(|q| cache.ranges.contains_key(&q.range))
        });
        let queries: Vec<BurnQuery> = rules
            .queries
            .iter()
            .filter(|q| cached.is_none() || q.range < LONG_RANGE_SECONDS)
            .cloned()
            .collect();
        let mut latency_ms = Vec::with_capacity(queries.len());
        let (mut counts, mut failed) = self
            .count(rules, &rules.burn, &queries, now, deadline, &mut latency_ms)
            .await;
        let mut cache = if let Some(cache) = cached {
            counts.extend(cache.ranges.clone());
            cache.clone()
        } else {
            let (budgets, budget_failed) =
                self.budgets(rules, now, deadline, &mut latency_ms).await;
            failed.extend(budget_failed);
            // A failed read is tried again at the next evaluation.
            SloCache {
                at: if failed.is_empty() {
                    now
                } else {
                    now - LONG_RANGE_REFRESH_SECONDS
                },
                ranges: counts
                    .iter()
                    .filter(|(range, _)| **range >= LONG_RANGE_SECONDS)
                    .map(|(range, counts)| (*range, counts.clone()))
                    .collect(),
                budgets,
                seen: cache.map(|cache| cache.seen.clone()).unwrap_or_default(),
            }
        };
        note_events(&rules.burn, &counts, &mut cache.seen, now);
        SloReading {
            counts,
            failed,
            latency_ms,
            cache: Some(cache),
        }
    }

    /// Every budget SLO's budget at `now`: the ledger's days of its window before today, and
    /// today's events so far (one query per SLI shape over the time since midnight).
    async fn budgets(
        &self,
        rules: &SloRules,
        now: i64,
        deadline: Deadline,
        latency_ms: &mut Vec<f64>,
    ) -> (Budgets, BTreeMap<String, SloFailure>) {
        let Some(ledger) = &rules.ledger else {
            return (Budgets::new(), BTreeMap::new());
        };
        let day = today(now, ledger.time_zone);
        let since_midnight = u32::try_from(now - day_start(day, ledger.time_zone)).unwrap_or(0);
        let (today_counts, mut failed) = if since_midnight >= 60 {
            let queries = shape_queries(&rules.budget, &rules.conventions, since_midnight);
            let (mut counts, failed) = self
                .count(rules, &rules.budget, &queries, now, deadline, latency_ms)
                .await;
            (counts.remove(&since_midnight).unwrap_or_default(), failed)
        } else {
            let empty = rules
                .budget
                .iter()
                .map(|slo| (slo.name.clone(), BTreeMap::new()))
                .collect();
            (empty, BTreeMap::new())
        };
        let objects = match self
            .read_ledger(ledger, ledger_days(&rules.budget, day))
            .await
        {
            Ok(objects) => objects,
            Err(error) => {
                for slo in &rules.budget {
                    failed.entry(slo.name.clone()).or_insert(SloFailure {
                        error: error.clone(),
                        retryable: true,
                    });
                }
                return (Budgets::new(), failed);
            }
        };
        let mut all = budgets(
            &rules.budget,
            &objects,
            &today_counts,
            day,
            ledger.time_zone,
        );
        all.retain(|slo, _| !failed.contains_key(slo));
        (all, failed)
    }

    /// The ledger objects of `days` that exist (a missing or unreadable day is missing from the
    /// budget, never good); an error when the store fails.
    async fn read_ledger(
        &self,
        ledger: &Ledger,
        days: Vec<NaiveDate>,
    ) -> Result<Vec<LedgerObject>, String> {
        let known: BTreeMap<NaiveDate, LedgerObject> = {
            let mut read = ledger
                .read
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(first) = days.first() {
                read.retain(|day, _| day >= first);
            }
            read.clone()
        };
        let missing: Vec<NaiveDate> = days
            .iter()
            .copied()
            .filter(|day| !known.contains_key(day))
            .collect();
        let fetched: Vec<Result<Option<LedgerObject>, String>> = stream::iter(missing)
            .map(|date| async move {
                let key = ledger_key(&ledger.prefix, date);
                match ledger.store.get(&key).await {
                    Ok(None) => Ok(None),
                    Ok(Some(bytes)) => match LedgerObject::parse(&bytes, date) {
                        Ok(object) => Ok(Some(object)),
                        Err(error) => {
                            tracing::warn!(%date, key, error = %error, "{}", Event::LedgerDayCorrupt);
                            Ok(None)
                        }
                    },
                    Err(error) => Err(error.to_string()),
                }
            })
            .buffered(READS_AT_ONCE)
            .collect()
            .await;
        let mut objects: Vec<LedgerObject> = known.into_values().collect();
        let mut read = ledger
            .read
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for result in fetched {
            if let Some(object) = result? {
                read.insert(object.date, object.clone());
                objects.push(object);
            }
        }
        Ok(objects)
    }
}

/// Advances the SLOs' burn-rate and budget alerts in `round` from `reading` (`document` holds
/// the stored alerts), logging and returning the SLOs that could not be evaluated.
pub(crate) fn advance_slos(
    rules: &SloRules,
    reading: SloReading,
    round: &mut Round,
    document: &StateDocument,
    outcome: &mut CheckOutcome,
) -> Vec<(String, SloFailure)> {
    let now = round.now();
    outcome.slos = rules.slo_count();
    outcome.query_latency_ms.extend(reading.latency_ms);
    for (slo, failure) in &reading.failed {
        tracing::error!(slo = %slo, error = %failure.error, retryable = failure.retryable, "{}", Event::SloFailed);
    }
    let muted = |_: &Slo, service: &str| rules.muted(service, now);
    let budgets = reading
        .cache
        .as_ref()
        .map(|cache| cache.budgets.clone())
        .unwrap_or_default();
    round.absorb(plan_burn(
        &rules.burn,
        &reading.counts,
        &budgets,
        &muted,
        &document.alerts,
        now,
    ));
    if let Some(cache) = &reading.cache {
        round.absorb(plan_slo_absence(
            &rules.burn,
            &reading.counts,
            &cache.seen,
            &document.alerts,
            now,
        ));
    }
    if rules.ledger.is_some() {
        round.absorb(plan_budget(
            &rules.budget,
            &budgets,
            &muted,
            &document.alerts,
            now,
        ));
    }
    round.keep_slo_cache(reading.cache);
    reading.failed.into_iter().collect()
}
