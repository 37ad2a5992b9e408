//! What the burn-rate rules read each minute: for every distinct range the rules use, the
//! queries of each SLI shape once, grouped by the service label, so the number of queries
//! grows with neither the services nor the SLOs that share a shape — the request counter's
//! increase and the errors' (availability SLIs), the latency histogram's by `le` (every
//! latency SLI), and each ratio SLI's two expressions, exactly as the report's ledger counts
//! a day.

use std::collections::BTreeMap;

use super::burn::{burn_ranges, RangeCounts};
use crate::conventions::MetricConventions;
use crate::promql::{self, RangeSeconds};
use crate::report::figures::Measurements;
use crate::report::queries::Results;
use crate::report::slos::{counts, SloQueries, SloResults};
use crate::series::Sample;
use crate::slo::document::{Sli, Slo};

/// Which part of an SLI shape a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// All requests (availability SLIs).
    Total,
    /// Error requests (availability SLIs).
    Errors,
    /// The latency histogram by `le` (latency SLIs).
    Latency,
    /// The good or bad events of the `n`-th ratio SLI.
    RatioEvents(usize),
    /// All events of the `n`-th ratio SLI.
    RatioTotal(usize),
}

/// One instant query of the burn-rate rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BurnQuery {
    /// The range, in seconds.
    pub range: u32,
    /// What it reads.
    pub part: Part,
    /// The PromQL.
    pub query: String,
}

/// The SLOs that have burn-rate rules.
pub fn alerting_slos(slos: &[Slo]) -> Vec<Slo> {
    slos.iter()
        .filter(|slo| !slo.alerting.burn_rules.is_empty())
        .cloned()
        .collect()
}

/// Every query the rules of `slos` (those with rules, [`alerting_slos`]) need under the metric
/// `conventions`.
pub fn burn_queries(slos: &[Slo], conventions: &MetricConventions) -> Vec<BurnQuery> {
    burn_ranges(slos)
        .into_iter()
        .flat_map(|range| shape_queries(slos, conventions, range))
        .collect()
}

/// The queries of every SLI shape of `slos` over one `range` (seconds): also today's so far,
/// for the budget.
pub fn shape_queries(slos: &[Slo], conventions: &MetricConventions, range: u32) -> Vec<BurnQuery> {
    let by = [&conventions.service_label];
    let seconds = RangeSeconds(u64::from(range));
    let mut queries = Vec::new();
    let mut add = |part, query| queries.push(BurnQuery { range, part, query });
    if slos.iter().any(|s| matches!(s.sli, Sli::Availability)) {
        add(
            Part::Total,
            promql::sum_increase_by(&by, &conventions.requests(), seconds),
        );
        add(
            Part::Errors,
            promql::sum_increase_by(&by, &conventions.errors(), seconds),
        );
    }
    let shapes = SloQueries::new(slos, conventions, seconds);
    if let Some(latency) = shapes.latency {
        add(Part::Latency, latency);
    }
    for (index, (events, total)) in shapes.ratios.into_iter().enumerate() {
        add(Part::RatioEvents(index), events);
        add(Part::RatioTotal(index), total);
    }
    queries
}

/// Why an SLO could not be evaluated this minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SloFailure {
    /// What went wrong.
    pub error: String,
    /// Whether a later evaluation could succeed.
    pub retryable: bool,
}

/// The SLOs a query's part serves.
fn served(slos: &[Slo], part: Part) -> Vec<&str> {
    let mut ratio = 0;
    let mut names = Vec::new();
    for slo in slos {
        let serves = match (&slo.sli, part) {
            (Sli::Availability, Part::Total | Part::Errors)
            | (Sli::Latency { .. }, Part::Latency) => true,
            (Sli::Ratio { .. }, Part::RatioEvents(n) | Part::RatioTotal(n)) => {
                ratio += 1;
                ratio - 1 == n
            }
            (Sli::Ratio { .. }, _) => {
                ratio += 1;
                false
            }
            _ => false,
        };
        if serves {
            names.push(slo.name.as_str());
        }
    }
    names
}

/// The events per range, SLO and service from each query's answer (`answers[i]` is
/// `queries[i]`'s: its samples, or why it failed and whether that may pass). An SLO one of
/// whose queries failed, or that cannot be measured (a latency threshold that is not a bucket
/// boundary), is left out of every range and named.
pub fn burn_counts(
    slos: &[Slo],
    queries: &[BurnQuery],
    answers: Vec<Result<Vec<Sample>, SloFailure>>,
    service_label: &str,
) -> (RangeCounts, BTreeMap<String, SloFailure>) {
    let mut failed: BTreeMap<String, SloFailure> = BTreeMap::new();
    let mut by_range: BTreeMap<u32, (Results, SloResults)> = BTreeMap::new();
    for (query, answer) in queries.iter().zip(answers) {
        let (results, slo_results) = by_range.entry(query.range).or_default();
        let samples = match answer {
            Ok(samples) => samples,
            Err(failure) => {
                for name in served(slos, query.part) {
                    failed
                        .entry(name.to_owned())
                        .or_insert_with(|| failure.clone());
                }
                Vec::new()
            }
        };
        match query.part {
            Part::Total => results.total = samples,
            Part::Errors => results.errors = samples,
            Part::Latency => slo_results.latency = samples,
            Part::RatioEvents(n) | Part::RatioTotal(n) => {
                if slo_results.ratios.len() <= n {
                    slo_results.ratios.resize(n + 1, (Vec::new(), Vec::new()));
                }
                let pair = &mut slo_results.ratios[n];
                if matches!(query.part, Part::RatioEvents(_)) {
                    pair.0 = samples;
                } else {
                    pair.1 = samples;
                }
            }
        }
    }
    let mut counted = RangeCounts::new();
    for (range, (results, slo_results)) in by_range {
        let measurements: Measurements = results.into_measurements(service_label);
        let (mut range_counts, errors) = counts(&measurements, &slo_results, slos, service_label);
        for error in errors {
            failed.entry(error.slo).or_insert(SloFailure {
                error: error.error,
                retryable: false,
            });
        }
        range_counts.retain(|slo, _| !failed.contains_key(slo));
        counted.insert(range, range_counts);
    }
    (counted, failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Env;
    use crate::slo::document::parse_slo_document;
    use crate::slo::window::LedgerDay;

    fn slos() -> Vec<Slo> {
        parse_slo_document(
            "slos:\n  - {name: a, sli: availability, objective: 0.99}\n  - {name: b, sli: availability, objective: 0.999}\n  - {name: fast, sli: latency, threshold_ms: 250, objective: 0.99}\n  - name: jobs\n    sli: ratio\n    group_by: service\n    bad: sum by (service) (increase(jobs_failed_total[{{window}}]))\n    total: sum by (service) (increase(jobs_total[{{window}}]))\n    objective: 0.99\n  - {name: quiet, sli: availability, objective: 0.99, burn_rate_alerts: []}\n",
        )
        .expect("valid")
        .slos
    }

    fn conventions() -> MetricConventions {
        MetricConventions::from_env(&Env::from_pairs([("PROMETHEUS_URL", "http://p:9090")]))
            .expect("defaults")
    }

    fn sample(service: &str, extra: Option<(&str, &str)>, value: f64) -> Sample {
        let mut labels: BTreeMap<String, String> =
            [("service".to_owned(), service.to_owned())].into();
        if let Some((name, text)) = extra {
            labels.insert(name.to_owned(), text.to_owned());
        }
        Sample { labels, value }
    }

    #[test]
    fn one_query_per_range_per_shape_whatever_the_slos_sharing_it() {
        let slos = alerting_slos(&slos());
        assert_eq!(slos.len(), 4, "an SLO without rules reads nothing");
        let queries = burn_queries(&slos, &conventions());
        // Seven ranges × (total, errors, the histogram, the ratio's two).
        assert_eq!(queries.len(), 7 * 5);
        let hour: Vec<&BurnQuery> = queries.iter().filter(|q| q.range == 3_600).collect();
        assert_eq!(
            hour[0].query,
            "sum by (service) (increase(http_requests_total[3600s]))"
        );
        assert_eq!(
            hour[4].query,
            "sum by (service) (increase(jobs_total[3600s]))"
        );
    }

    #[test]
    fn answers_become_counts_and_a_failed_query_fails_only_the_slos_it_serves() {
        let slos = alerting_slos(&slos());
        let queries = burn_queries(&slos, &conventions());
        let answers = queries
            .iter()
            .map(|query| match query.part {
                Part::Total => Ok(vec![sample("api", None, 1_000.0)]),
                Part::Errors => Ok(vec![sample("api", None, 10.0)]),
                Part::Latency if query.range == 300 => Err(SloFailure {
                    error: "timeout".to_owned(),
                    retryable: true,
                }),
                Part::Latency => Ok(vec![
                    sample("api", Some(("le", "0.25")), 900.0),
                    sample("api", Some(("le", "+Inf")), 1_000.0),
                ]),
                Part::RatioEvents(_) => Ok(vec![sample("api", None, 5.0)]),
                Part::RatioTotal(_) => Ok(vec![sample("api", None, 100.0)]),
            })
            .collect();
        let (counted, failed) = burn_counts(&slos, &queries, answers, "service");
        assert_eq!(
            failed,
            BTreeMap::from([(
                "fast".to_owned(),
                SloFailure {
                    error: "timeout".to_owned(),
                    retryable: true
                }
            )])
        );
        let hour = &counted[&3_600];
        let day = |good, total| LedgerDay {
            good,
            total,
            excluded: 0.0,
        };
        assert_eq!(hour["a"]["api"], day(990.0, 1_000.0));
        assert_eq!(hour["b"]["api"], day(990.0, 1_000.0));
        assert_eq!(hour["jobs"]["api"], day(95.0, 100.0));
        assert!(!hour.contains_key("fast"), "left out of every range");
    }
}
