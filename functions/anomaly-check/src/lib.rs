//! `anomaly-check`: every minute, evaluate the checks and publish what changed.
//!
//! One invocation:
//!
//! 1. derives the evaluation time from the scheduled event (`time`, less
//!    `EVALUATION_DELAY_SECONDS` so the newest scrape has arrived), on the minute, and its
//!    shard (`shard` of `shards`; one without them);
//! 2. reads its shard's alert state (after a reshard, takes over what it owns of the other
//!    count's states, [`vigil_core::check::shard`]); a live lease held by another invocation
//!    means that one is sending, so this one stops;
//! 3. brings each check's stored window up to date ([`vigil_core::check::history`]): one
//!    `query_range` per check over the steps since its last evaluation (plus last season's
//!    and its presence query's where it has them), concurrently, older slices of a window
//!    read afresh while time allows; keeps the series its shard owns and scores each one's
//!    newest point;
//! 4. advances every alert through the lifecycle;
//! 5. with messages to send: claims them (outbox + lease, written conditionally on the version
//!    read; a conflict means another invocation won, and this one sends nothing), publishes,
//!    then writes the advanced states, keeping unaccepted messages in the outbox for the next
//!    minute. Without messages: writes the advanced states conditionally.
//!
//! With an SLO document (`SLOS_FILE` or `SLOS_S3_URI`), shard 0 also issues the burn-rate
//! rules' queries in step 3 ([`slos`]) and advances the SLOs' alerts in step 4 the same way.
//!
//! A check or SLO whose query fails keeps its alerts as they were; the others still run, and
//! the invocation then fails so the failure is seen.

use std::time::{Duration, Instant};

use chrono::DateTime;
use futures_util::future::{join, join_all};
use vigil_core::check::absence::plan_absence;
use vigil_core::check::detector::Detector;
use vigil_core::check::history::{History, Read, Span};
use vigil_core::check::model::Check;
use vigil_core::check::plan::AlertRecord;
use vigil_core::check::run::{evaluation_time, held_by_another, Outcome, Round};
use vigil_core::check::shard::{owned, Shard};
use vigil_core::check::state::StateDocument;
use vigil_core::conventions::MetricConventions;
use vigil_core::deadline::Deadline;
use vigil_core::event::ScheduledEvent;
use vigil_core::ports::{AlertPublisher, MetricsError, MetricsSource, StateStore};
use vigil_core::slo::document::SloDocument;
use vigil_core::telemetry::Event;

pub mod config;
pub mod connect;
mod handler;
mod outcome;
pub mod score_csv;
pub mod silence_cli;
mod silences;
pub mod slos;
mod state;

pub use config::{AnomalyCheckConfig, ChecksSource, JobSettings, StateLocation};
pub use connect::{connect, DeployedJob, StartupError};
pub use handler::invoke;
pub use outcome::{CheckOutcome, CheckRunError};

use outcome::{finish, log_published, Failures};
use silences::{keep_back, Silences};
use slos::{advance_slos, Ledger, SloReading, SloRules};
use vigil_core::adapters::silences::SilencesStore;
use vigil_core::slo::mute::MuteWindow;

/// The job, generic over its ports.
pub struct AnomalyCheckJob<M, S, P> {
    metrics: M,
    state: S,
    publisher: P,
    checks: Vec<Check>,
    detector: Box<dyn Detector>,
    settings: JobSettings,
    slo_rules: Option<SloRules>,
    silences: Option<SilencesStore>,
    mute_windows: Vec<MuteWindow>,
}

impl<M: MetricsSource, S: StateStore, P: AlertPublisher> AnomalyCheckJob<M, S, P> {
    /// Builds the job.
    pub fn new(
        metrics: M,
        state: S,
        publisher: P,
        checks: Vec<Check>,
        settings: JobSettings,
    ) -> Self {
        Self {
            metrics,
            state,
            publisher,
            checks,
            detector: settings.detector.build(),
            settings,
            slo_rules: None,
            silences: None,
            mute_windows: Vec::new(),
        }
    }

    /// The job with the checks and SLO documents' mute windows.
    #[must_use]
    pub fn with_mute_windows(self, mute_windows: Vec<MuteWindow>) -> Self {
        Self {
            mute_windows,
            ..self
        }
    }

    /// The job with the silences in `store`, read at every invocation.
    #[must_use]
    pub fn with_silences(self, store: SilencesStore) -> Self {
        Self {
            silences: Some(store),
            ..self
        }
    }

    /// The job with the alerts of the SLO `document`, read under the metric `conventions`:
    /// burn-rate alerts, and budget alerts where the `ledger` is read.
    #[must_use]
    pub fn with_slos(
        self,
        document: &SloDocument,
        conventions: &MetricConventions,
        ledger: Option<Ledger>,
    ) -> Self {
        Self {
            slo_rules: Some(SloRules::new(document, conventions, ledger)),
            ..self
        }
    }

    /// How many checks the job runs.
    pub fn check_count(&self) -> usize {
        self.checks.len()
    }

    /// The annotations of the SLO `name`, if the job alerts on it.
    fn slo_annotations(&self, name: &str) -> Option<&vigil_core::annotations::Annotations> {
        self.slo_rules.as_ref()?.annotations(name)
    }

    /// How many SLOs alert, and the burn-rate queries an evaluation issues at most.
    pub fn slo_counts(&self) -> (usize, usize) {
        self.slo_rules
            .as_ref()
            .map_or((0, 0), |rules| (rules.slo_count(), rules.query_count()))
    }

    /// Reads one check's window at evaluation time `now`: the steps since its `stored`
    /// history (and last season's, and its presence query's, where it has them), then, while
    /// the window is incomplete, older slices as `fill` allows.
    async fn fetch(
        &self,
        check: &Check,
        shard: Shard,
        stored: Option<History>,
        now: i64,
        deadline: Deadline,
        fill: Fill,
    ) -> Fetched {
        let started = Instant::now();
        if stored.as_ref().is_some_and(|h| !h.consistent()) {
            tracing::error!(check = %check.name, problem = "a series' values do not match the window's steps", "{}", Event::WindowUnreadable);
        }
        let overlap = self.settings.read_overlap_seconds;
        let (mut history, span) = History::resume(stored, check, check.window_end(now), overlap);
        let outcome = match self.read_span(check, span, deadline).await {
            Ok(read) => {
                history.take(check, shard, span, read);
                self.fill(check, shard, &mut history, (span, started.elapsed()), fill)
                    .await;
                Ok(())
            }
            Err(error) => Err(error),
        };
        Fetched {
            history,
            outcome,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        }
    }

    /// Reads older slices of an incomplete window, each sized from what the last read
    /// (`cost`: its span and time) took, while `fill` allows.
    async fn fill(
        &self,
        check: &Check,
        shard: Shard,
        history: &mut History,
        mut cost: (Span, Duration),
        fill: Fill,
    ) {
        while let Some(older) = history.older(check, slice_points(cost, check, fill.finish_by)) {
            if fill.start_before.remaining().is_zero() {
                break;
            }
            let began = Instant::now();
            match self.read_span(check, older, fill.finish_by).await {
                Ok(read) => {
                    cost = (older, began.elapsed());
                    history.take(check, shard, older, read);
                }
                Err(error) => {
                    tracing::warn!(check = %check.name, error = %error, "{}", Event::WindowSliceFailed);
                    break;
                }
            }
        }
        if !history.complete(check) {
            tracing::info!(check = %check.name, from = history.from, end = history.end, "{}", Event::WindowFilling);
        }
    }

    /// Reads `check`'s queries over `span`: its own, last season's where it asks, and its
    /// presence query where it has one for its no-data alerts.
    async fn read_span<'a>(
        &'a self,
        check: &'a Check,
        span: Span,
        deadline: Deadline,
    ) -> Result<Read, MetricsError> {
        let range = |query: &'a str, shift: i64| {
            let time = |t| DateTime::from_timestamp(t, 0).unwrap_or_default();
            let step = Duration::from_secs(check.step_seconds);
            self.metrics.query_range(
                query,
                time(span.start - shift),
                time(span.end - shift),
                step,
                deadline,
            )
        };
        let current = range(&check.query, 0).await?.values;
        let season = match check
            .seasonality
            .offset_seconds()
            .and_then(|o| i64::try_from(o).ok())
        {
            Some(offset) => range(&check.query, offset).await?.values,
            None => Vec::new(),
        };
        let presence = match &check.presence_query {
            Some(query) if check.absent_after_seconds > 0 => range(query, 0).await?.values,
            _ => Vec::new(),
        };
        Ok(Read {
            current,
            season,
            presence,
        })
    }

    /// Evaluates each check on the window `fetched` holds for it, its series' absence first;
    /// a check whose queries failed keeps its alerts (`previous` holds the stored ones).
    fn evaluate<'a>(
        &'a self,
        shard: Shard,
        fetched: Vec<Fetched>,
        round: &mut Round,
        previous: &[AlertRecord],
        outcome: &mut CheckOutcome,
        failures: &mut Failures<'a>,
    ) {
        for (check, fetched) in self.checks.iter().zip(fetched) {
            outcome.query_latency_ms.push(fetched.elapsed_ms);
            match fetched.outcome {
                Ok(()) => {
                    let history = &fetched.history;
                    let seen = (round.has_seen(check), history.seen_elsewhere());
                    let absence = plan_absence(check, &history.seen(), seen, previous, round.now());
                    round.absorb(owned(shard, absence));
                    let series = round.evaluate(
                        check,
                        self.detector.as_ref(),
                        history.current(),
                        &history.season(check),
                        previous,
                    );
                    outcome.series += series;
                    tracing::debug!(check = %check.name, series, elapsed_ms = fetched.elapsed_ms, "{}", Event::CheckEvaluated);
                }
                Err(error) => {
                    tracing::error!(check = %check.name, query = %check.query, error = %error, retryable = error.is_transient(), "{}", Event::CheckFailed);
                    round.keep(check, previous);
                    failures.checks.push((check, error));
                }
            }
            if fetched.history.has_read() {
                round.keep_history(fetched.history);
            }
        }
    }

    /// Reads every check's new steps (each from its history, which it takes out of
    /// `document`) and, on shard 0, the SLOs' burn-rate queries, concurrently.
    async fn read(
        &self,
        shard: Shard,
        document: &mut StateDocument,
        now: i64,
        deadline: Deadline,
    ) -> (Vec<Fetched>, Option<SloReading>) {
        let mut stored = std::mem::take(&mut document.histories);
        for problem in &stored.dropped {
            tracing::error!(problem = %problem, "{}", Event::WindowUnreadable);
        }
        let left = deadline.remaining();
        let fill = Fill {
            start_before: Deadline::after(left / 2),
            finish_by: Deadline::after(left * 3 / 4),
        };
        let checks = join_all(self.checks.iter().map(|check| {
            let history = stored
                .kept
                .iter()
                .position(|h| h.check == check.name)
                .map(|at| stored.kept.swap_remove(at));
            self.fetch(check, shard, history, now, deadline, fill)
        }));
        let slos = async {
            match &self.slo_rules {
                Some(rules) if shard.index == 0 => Some(
                    self.read_slos(rules, document.slo_cache.as_ref(), now, deadline)
                        .await,
                ),
                _ => None,
            }
        };
        join(checks, slos).await
    }

    /// Runs one invocation. `request_id` names the lease; `wall_now` (unix seconds) only
    /// times the lease, the evaluation time comes from the event.
    ///
    /// # Errors
    /// [`CheckRunError`]; state already written stays consistent.
    pub async fn run(
        &self,
        event: &serde_json::Value,
        request_id: &str,
        wall_now: i64,
        deadline: Deadline,
    ) -> Result<CheckOutcome, CheckRunError> {
        let ScheduledEvent::At(time) = ScheduledEvent::from_json(event)? else {
            return Err(CheckRunError::DayEvent);
        };
        let shard = Shard::from_event(event)?;
        let now = evaluation_time(time.timestamp(), self.settings.evaluation_delay_seconds);
        let mut outcome = CheckOutcome {
            evaluated_at: DateTime::from_timestamp(now, 0)
                .unwrap_or_default()
                .to_rfc3339(),
            checks: self.checks.len(),
            ..CheckOutcome::default()
        };
        let Some((mut document, version)) = self.load(shard, wall_now).await? else {
            outcome.skipped = true;
            return Ok(outcome);
        };
        if let Some(lease) = held_by_another(&document, request_id, wall_now) {
            tracing::warn!(holder = %lease.holder, expires_at = lease.expires_at, "{}", Event::LeaseHeld);
            outcome.skipped = true;
            return Ok(outcome);
        }
        let silences = self.load_silences().await?;
        let (fetched, slo_reading) = self.read(shard, &mut document, now, deadline).await;
        let mut round = Round::start(&mut document, &self.checks, now);
        let mut failures = Failures::default();
        self.evaluate(
            shard,
            fetched,
            &mut round,
            &document.alerts,
            &mut outcome,
            &mut failures,
        );
        if outcome.series > self.settings.series_budget {
            tracing::warn!(
                series = outcome.series,
                budget = self.settings.series_budget,
                shard = shard.index,
                shards = shard.count,
                "{}",
                Event::SeriesOverBudget
            );
        }
        if let (Some(rules), Some(reading)) = (&self.slo_rules, slo_reading) {
            failures.slos = advance_slos(rules, reading, &mut round, &document, &mut outcome);
        }
        let mut round = round.finish(&document.outbox);
        self.tell_untold(&mut round, &silences, now);
        if round.outbox.is_empty() {
            outcome.active_alerts = round.active();
            outcome.skipped = self
                .save(shard, &round.into_state(), version.as_deref())
                .await?
                .is_none();
        } else {
            let claim = round.claim(
                &document,
                request_id,
                wall_now + self.settings.lease_seconds,
            );
            let saved = self.save(shard, &claim, version.as_deref()).await?;
            round.claimed(claim);
            let Some(claimed) = saved else {
                outcome.skipped = true;
                return finish(outcome, failures);
            };
            self.send(
                &mut round,
                &document.alerts,
                &silences,
                now,
                &mut outcome,
                &mut failures,
            )
            .await;
            outcome.active_alerts = round.active();
            self.state
                .save(shard, &round.into_state(), Some(&claimed))
                .await?;
        }
        if shard.index == 0 {
            self.prune_silences(silences, now).await;
        }
        finish(outcome, failures)
    }

    /// Publishes the outbox, keeping back what silences cover (`previous` holds the stored
    /// alerts); a message not accepted goes back to the outbox.
    async fn send(
        &self,
        round: &mut Outcome,
        previous: &[AlertRecord],
        silences: &Silences,
        now: i64,
        outcome: &mut CheckOutcome,
        failures: &mut Failures<'_>,
    ) {
        for entry in round.take_outbox() {
            let Some(entry) = keep_back(round, entry, silences, &self.mute_windows, previous, now)
            else {
                outcome.silenced += 1;
                continue;
            };
            match self.publisher.publish(&entry.notification).await {
                Ok(()) => {
                    outcome.published += 1;
                    log_published(&entry.notification);
                    round.sent(entry);
                }
                Err(error) => {
                    tracing::error!(check = %entry.notification.key.check, error = %error, "{}", Event::AlertPublishFailed);
                    failures.publish.push(error);
                    round.unsent(entry, previous);
                }
            }
        }
    }
}

/// How much of an invocation filling windows may take: it starts slices only in the first
/// half, and a slice not read by three quarters is left for the next minute.
#[derive(Debug, Clone, Copy)]
struct Fill {
    start_before: Deadline,
    finish_by: Deadline,
}

/// The steps of the next older slice ([`History::older`] bounds them): as many as would take
/// half the time left until `finish_by`, at the pace of the last read (`span` in `took`).
/// That pace counts the query's fixed cost as if it grew with the steps, so the estimate errs
/// long, and slices grow as the window fills.
fn slice_points((span, took): (Span, Duration), check: &Check, finish_by: Deadline) -> i64 {
    let step = i64::try_from(check.step_seconds).unwrap_or(60).max(1);
    let points = ((span.end - span.start) / step + 1) as f64;
    let per_point = took.as_secs_f64() / points;
    let time = finish_by.remaining().as_secs_f64() / 2.0;
    #[allow(clippy::cast_possible_truncation)]
    let fit = (time / per_point.max(1e-6)).min(1e9) as i64;
    fit
}

/// A check's window as read, and whether its newest steps could be read.
struct Fetched {
    history: History,
    outcome: Result<(), MetricsError>,
    elapsed_ms: f64,
}

#[cfg(test)]
mod tests;
