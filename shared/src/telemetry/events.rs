//! Every log event's name, defined once. A log line's `message` is one of these, so a
//! metric filter or an Insights query written against a name keeps working.

use std::fmt;

macro_rules! events {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// A log event, named `NounVerb` in the past tense.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Event {
            $($(#[$doc])* $name,)*
        }

        impl Event {
            /// Every event, in the order defined.
            pub const ALL: &'static [Event] = &[$(Event::$name,)*];

            /// The event's name, as logged in `message`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Event::$name => stringify!($name),)*
                }
            }
        }
    };
}

events! {
    /// An alert was written to stdout (runs without a topic).
    AlertNotified,
    /// A message was not accepted by the topic; it stays in the outbox.
    AlertPublishFailed,
    /// A message was kept back: a silence covers its alert, or it resolves a firing nobody was
    /// told about.
    AlertSilenced,
    /// The silences object could not be read: the invocation fails, the state untouched.
    SilencesUnreadable,
    /// Silences that ended a week ago were removed from the silences object.
    SilencesPruned,
    /// A message was accepted by the topic.
    AlertPublished,
    /// One check's series were evaluated.
    CheckEvaluated,
    /// One check's query failed; its alerts stay as they were.
    CheckFailed,
    /// The checks document was read and validated.
    ChecksLoaded,
    /// An anomaly-check invocation finished.
    ChecksCompleted,
    /// The configuration was rejected at start-up.
    ConfigRejected,
    /// The local run's event file could not be read.
    EventUnreadable,
    /// An invocation failed.
    InvocationFailed,
    /// Another invocation holds the state's lease; this one sends nothing.
    LeaseHeld,
    /// A ledger object could not be summed; its day is recomputed.
    LedgerDayCorrupt,
    /// A day missing from the ledger was computed from Prometheus and written.
    LedgerDayFilled,
    /// A day missing from the ledger is not in Prometheus either; it counts as missing.
    LedgerDayMissing,
    /// The invocation's EMF metrics line.
    MetricsEmitted,
    /// A period-close report (week, month or quarter) was written.
    PeriodReportWritten,
    /// The report's period was derived from the event.
    PeriodSelected,
    /// A query succeeded.
    QueryCompleted,
    /// A query failed after its retries.
    QueryFailed,
    /// Prometheus sent an informational notice with an answer.
    QueryNoticed,
    /// A query attempt failed and is tried again.
    QueryRetried,
    /// Prometheus sent a warning with an answer.
    QueryWarned,
    /// The daily report was written.
    ReportWritten,
    /// The Lambda runtime loop failed.
    RuntimeFailed,
    /// Start-up failed after the configuration was read.
    StartupFailed,
    /// The state changed since it was read: another invocation won.
    StateConflict,
    /// An SLO could not be measured (a query failed, or a latency threshold is not a bucket
    /// boundary); the others are reported or evaluated.
    SloFailed,
    /// The SLO document was read and validated (the minute check: its burn-rate alerts).
    SlosLoaded,
    /// The minute check has an SLO document but no ledger to read (`REPORT_BUCKET` or
    /// `REPORT_DIR`): budget alerts are off; burn-rate alerts run.
    BudgetAlertsOff,
    /// The stored state could not be read; it is replaced.
    StateCorrupt,
    /// The invocation evaluated more series than `SERIES_BUDGET`: raise the shard count.
    SeriesOverBudget,
    /// After a reshard, a shard took over what it owns of the other shard count's states.
    StateAdopted,
    /// After a reshard, a state of the other shard count is still being sent from (a live
    /// lease) or was written meanwhile: the shard waits for the next minute.
    ReshardWaiting,
    /// A check's stored window could not be read; the check reads its window afresh.
    WindowUnreadable,
    /// A check's window is not yet complete (first run, a changed query, a long gap): it
    /// evaluates what has been read and reads older slices while the invocation has time.
    WindowFilling,
    /// An older slice of a check's window could not be read; the check evaluates what it has
    /// and reads it again at the next minute.
    WindowSliceFailed,
    /// A ledger day of the page's SLI trend could not be read; the trend leaves it out.
    TrendDayUnread,
}

impl fmt::Display for Event {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_is_documented_for_operators() {
        let operations = include_str!("../../../docs/operations.md");
        for event in Event::ALL {
            assert!(
                operations.contains(&format!("| `{event}` |")),
                "docs/operations.md has no row for {event}"
            );
        }
    }
}
