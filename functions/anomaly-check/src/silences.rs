//! Silences in the minute check: read at every invocation (an unreadable object fails it, the
//! state untouched), applied to every message before it is published, and pruned a week after
//! their end.

use vigil_core::adapters::silences::SilencesError;
use vigil_core::annotations::Annotations;
use vigil_core::check::burn::slo_annotations;
use vigil_core::check::model::Unit;
use vigil_core::check::plan::{AlertRecord, Notification};
use vigil_core::check::run::Outcome;
use vigil_core::check::silence::{alert_labels, SilencesDocument};
use vigil_core::check::state::OutboxEntry;
use vigil_core::ports::{AlertPublisher, MetricsSource, StateStore};
use vigil_core::slo::mute::MuteWindow;
use vigil_core::telemetry::Event;

use crate::AnomalyCheckJob;

/// The silences as read at the start of an invocation, with their version.
#[derive(Debug, Default)]
pub(crate) struct Silences {
    pub(crate) document: SilencesDocument,
    version: Option<String>,
}

impl Silences {
    /// Whether a silence, or one of the mute `windows`, covers `notification` at `now`.
    fn covers(&self, windows: &[MuteWindow], notification: &Notification, now: i64) -> bool {
        let labels = alert_labels(notification);
        self.document.silencing(&labels, now).is_some()
            || windows.iter().any(|window| window.mutes(&labels, now))
    }
}

/// Why a message is kept back.
enum KeptBack<'a> {
    /// A silence covers it.
    Silenced(&'a str),
    /// A mute window covers it.
    Muted(&'a str),
    /// It resolves a firing nobody was told about.
    Untold,
}

impl<M: MetricsSource, S: StateStore, P: AlertPublisher> AnomalyCheckJob<M, S, P> {
    /// The silences, or none without a silences store.
    ///
    /// # Errors
    /// [`SilencesError::Unreadable`], logged `SilencesUnreadable`.
    pub(crate) async fn load_silences(&self) -> Result<Silences, SilencesError> {
        let Some(store) = &self.silences else {
            return Ok(Silences::default());
        };
        match store.load().await {
            Ok((document, version)) => Ok(Silences { document, version }),
            Err(error) => {
                tracing::error!(error = %error, "{}", Event::SilencesUnreadable);
                Err(error)
            }
        }
    }

    /// Removes the silences that ended a week before `now`, if another writer did not change
    /// the object since it was read (then a later run does it).
    pub(crate) async fn prune_silences(&self, mut silences: Silences, now: i64) {
        let Some(store) = &self.silences else {
            return;
        };
        if !silences.document.prune(now) {
            return;
        }
        match store
            .replace(&silences.document, silences.version.as_deref())
            .await
        {
            Ok(written) => {
                tracing::info!(
                    written,
                    left = silences.document.silences.len(),
                    "{}",
                    Event::SilencesPruned
                );
            }
            Err(error) => tracing::warn!(error = %error, "{}", Event::SilencesPruned),
        }
    }

    /// The query and annotations of an alert told late: its check's, or its SLO's.
    fn about(&self, record: &AlertRecord) -> (String, Annotations, Unit) {
        if let Some(facts) = &record.slo {
            let annotations = self
                .slo_annotations(&facts.slo)
                .map(|annotations| slo_annotations(annotations, facts))
                .unwrap_or_default();
            return (String::new(), annotations, Unit::None);
        }
        self.checks
            .iter()
            .find(|check| check.name == record.key.check)
            .map(|check| {
                (
                    check.query.clone(),
                    check.annotations.resolve(&record.key.labels),
                    check.unit,
                )
            })
            .unwrap_or_default()
    }

    /// Tells the untold alerts no silence covers any more (see [`Outcome::tell_untold`]).
    pub(crate) fn tell_untold(&self, round: &mut Outcome, silences: &Silences, now: i64) {
        round.tell_untold(now, &|record| self.about(record), &|n| {
            silences.covers(&self.mute_windows, n, now)
        });
    }
}

/// Keeps `entry` back if a silence covers it at `now`, or it resolves a firing nobody was told
/// about (`previous` holds the stored alerts): its alert advances as if it were sent.
/// Otherwise the entry comes back, to publish.
pub(crate) fn keep_back(
    round: &mut Outcome,
    entry: OutboxEntry,
    silences: &Silences,
    windows: &[MuteWindow],
    previous: &[AlertRecord],
    now: i64,
) -> Option<OutboxEntry> {
    let labels = alert_labels(&entry.notification);
    let window = windows.iter().find(|window| window.mutes(&labels, now));
    let why = match (silences.document.silencing(&labels, now), window) {
        (Some(silence), _) => KeptBack::Silenced(&silence.id),
        (None, Some(window)) => KeptBack::Muted(&window.reason),
        (None, None) if Outcome::resolves_untold(&entry, previous) => KeptBack::Untold,
        (None, None) => return Some(entry),
    };
    let (silence, reason) = match why {
        KeptBack::Silenced(id) => (Some(id), "silenced"),
        KeptBack::Muted(reason) => (None, reason),
        KeptBack::Untold => (None, "resolves a firing nobody was told about"),
    };
    tracing::info!(
        check = %entry.notification.key.check,
        labels = %serde_json::to_string(&entry.notification.key.labels).unwrap_or_default(),
        transition = entry.notification.transition.as_str(),
        silence,
        reason,
        "{}",
        Event::AlertSilenced
    );
    match why {
        KeptBack::Silenced(_) | KeptBack::Muted(_) => round.silenced(entry, previous),
        KeptBack::Untold => round.sent(entry),
    }
    None
}
