//! The SLO document's burn-rate rules in the minute check: their queries at the evaluation
//! time, all at once (see [`vigil_core::check::burn_reads`]), and the exclusions that mute them.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::DateTime;
use futures_util::future::join_all;
use vigil_core::check::burn::{
    long_ranges_due, plan_burn, RangeCounts, SloCache, LONG_RANGE_REFRESH_SECONDS,
    LONG_RANGE_SECONDS,
};
use vigil_core::check::burn_reads::{
    alerting_slos, burn_counts, burn_queries, BurnQuery, SloFailure,
};
use vigil_core::check::run::Round;
use vigil_core::check::state::StateDocument;
use vigil_core::conventions::MetricConventions;
use vigil_core::deadline::Deadline;
use vigil_core::ports::{AlertPublisher, MetricsSource, StateStore};
use vigil_core::slo::document::{Exclusion, Slo, SloDocument};
use vigil_core::slo::exclusions::stretches;
use vigil_core::telemetry::Event;

use crate::{AnomalyCheckJob, CheckOutcome};

/// The SLOs with burn-rate rules, their exclusions and their queries.
#[derive(Debug, Clone)]
pub(crate) struct SloRules {
    pub(crate) slos: Vec<Slo>,
    exclusions: Vec<Exclusion>,
    queries: Vec<BurnQuery>,
    service_label: String,
}

/// What the rules' queries returned at one evaluation time.
#[derive(Debug, Default)]
pub(crate) struct SloReading {
    /// Events per range, SLO and service.
    pub(crate) counts: RangeCounts,
    /// The SLOs that could not be evaluated, and why.
    pub(crate) failed: BTreeMap<String, SloFailure>,
    /// Each query's wall time, in milliseconds.
    pub(crate) latency_ms: Vec<f64>,
    /// The long ranges' counts to keep.
    pub(crate) cache: Option<SloCache>,
}

impl SloRules {
    /// The rules of `document` under the metric `conventions`.
    pub(crate) fn new(document: &SloDocument, conventions: &MetricConventions) -> Self {
        let slos = alerting_slos(&document.slos);
        Self {
            queries: burn_queries(&slos, conventions),
            slos,
            exclusions: document.exclusions.clone(),
            service_label: conventions.service_label.as_str().to_owned(),
        }
    }

    /// How many queries an evaluation issues.
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
    /// Issues the queries of the `rules` at `now`, concurrently: those of the long ranges only
    /// when they are due ([`long_ranges_due`]); otherwise their counts come from `cache`.
    pub(crate) async fn read_slos(
        &self,
        rules: &SloRules,
        cache: Option<&SloCache>,
        now: i64,
        deadline: Deadline,
    ) -> SloReading {
        let at = DateTime::from_timestamp(now, 0).unwrap_or_default();
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
        let answers = join_all(queries.iter().map(|query| async move {
            let started = Instant::now();
            let answer = self.metrics.query(&query.query, at, deadline).await;
            (answer, started.elapsed().as_secs_f64() * 1000.0)
        }))
        .await;
        let mut latency_ms = Vec::with_capacity(answers.len());
        let answers = answers
            .into_iter()
            .zip(&queries)
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
        let (mut counts, failed) =
            burn_counts(&rules.slos, &queries, answers, &rules.service_label);
        let cache = match cached {
            Some(cache) => {
                counts.extend(cache.ranges.clone());
                cache.clone()
            }
            // A failed read is tried again at the next evaluation.
            None => SloCache {
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
            },
        };
        SloReading {
            counts,
            failed,
            latency_ms,
            cache: Some(cache),
        }
    }
}

/// Advances the SLOs' burn-rate alerts in `round` from `reading` (`document` holds the stored
/// alerts), logging and returning the SLOs that could not be evaluated.
pub(crate) fn advance_slos(
    rules: &SloRules,
    reading: SloReading,
    round: &mut Round,
    document: &StateDocument,
    outcome: &mut CheckOutcome,
) -> Vec<(String, SloFailure)> {
    let now = round.now();
    round.keep_slo_cache(reading.cache);
    outcome.slos = rules.slos.len();
    outcome.query_latency_ms.extend(reading.latency_ms);
    for (slo, failure) in &reading.failed {
        tracing::error!(slo = %slo, error = %failure.error, retryable = failure.retryable, "{}", Event::SloFailed);
    }
    let muted = |_: &Slo, service: &str| rules.muted(service, now);
    round.absorb(plan_burn(
        &rules.slos,
        &reading.counts,
        &muted,
        &document.alerts,
        now,
    ));
    reading.failed.into_iter().collect()
}
