//! The deployed job's wiring: reads the checks document and the Prometheus secret and builds
//! the clients, once per process.

use thiserror::Error;
use vigil_core::adapters::aws::documents::S3Document;
use vigil_core::adapters::aws::reports::S3ReportStore;
use vigil_core::adapters::aws::sns::SnsPublisher;
use vigil_core::adapters::aws::state::S3StateStore;
use vigil_core::adapters::aws::{s3_client, S3Object};
use vigil_core::adapters::local::documents::FileDocument;
use vigil_core::adapters::local::reports::DirReportStore;
use vigil_core::adapters::local::state::FileStateStore;
use vigil_core::adapters::local::stdout::StdoutPublisher;
use vigil_core::adapters::prometheus::{ConnectError, PrometheusClient};
use vigil_core::adapters::{
    read_slos, ConfiguredDocument, ConfiguredPublisher, ConfiguredReportStore,
    ConfiguredStateStore, SlosStartupError,
};
use vigil_core::check::document::ChecksError;
use vigil_core::ports::{DocumentError, DocumentSource};
use vigil_core::telemetry::Event;

use vigil_core::adapters::local::state::VersionedFile;
use vigil_core::adapters::silences::SilencesStore;

use crate::config::{
    load_checks_and_windows, AnomalyCheckConfig, ChecksSource, LedgerLocation, SilencesLocation,
    StateLocation,
};
use crate::slos::Ledger;
use crate::AnomalyCheckJob;

/// The job as deployed.
pub type DeployedJob = AnomalyCheckJob<PrometheusClient, ConfiguredStateStore, ConfiguredPublisher>;

/// Start-up failed after the configuration was read.
#[derive(Debug, Error)]
pub enum StartupError {
    /// The Prometheus client could not be set up.
    #[error(transparent)]
    Prometheus(#[from] ConnectError),
    /// The checks document could not be read.
    #[error("{variable}: could not read the checks document: {source}")]
    ChecksUnreadable {
        /// `CHECKS_FILE` or `CHECKS_S3_URI`.
        variable: &'static str,
        /// Why.
        #[source]
        source: DocumentError,
    },
    /// The checks document is invalid.
    #[error("{variable}: {source}")]
    Checks {
        /// `CHECKS_FILE`, `CHECKS_S3_URI`, or the default.
        variable: &'static str,
        /// What is wrong.
        #[source]
        source: ChecksError,
    },
    /// The SLO document could not be read or is invalid.
    #[error(transparent)]
    Slos(#[from] SlosStartupError),
}

/// Builds the deployed job.
///
/// # Errors
/// [`StartupError`] naming the setting at fault.
pub async fn connect(
    config: AnomalyCheckConfig,
    sdk: &aws_config::SdkConfig,
) -> Result<DeployedJob, StartupError> {
    let s3 = s3_client(sdk, config.force_path_style);
    let (variable, document) = match &config.checks {
        ChecksSource::Defaults => ("CHECKS_FILE", None),
        ChecksSource::File(path) => (
            "CHECKS_FILE",
            Some(ConfiguredDocument::File(FileDocument::new(path))),
        ),
        ChecksSource::S3 { bucket, key } => (
            "CHECKS_S3_URI",
            Some(ConfiguredDocument::S3(S3Document::new(S3Object::new(
                s3.clone(),
                bucket,
                key,
            )))),
        ),
    };
    let text = match document {
        Some(document) => Some(
            document
                .read()
                .await
                .map_err(|source| StartupError::ChecksUnreadable { variable, source })?,
        ),
        None => None,
    };
    let slos = read_slos(&config.slos, &s3).await?;
    // With SLOs to alert on, a document may turn every anomaly check off.
    let (checks, mut windows) =
        load_checks_and_windows(text.as_deref(), &config.conventions, slos.is_some())
            .map_err(|source| StartupError::Checks { variable, source })?;
    windows.extend(
        slos.iter()
            .flat_map(|document| document.mute_windows.clone()),
    );
    let metrics = config.prometheus.connect(sdk).await?;
    let state = match config.state {
        StateLocation::S3 { bucket, key } => {
            ConfiguredStateStore::S3(S3StateStore::new(S3Object::new(s3.clone(), bucket, key)))
        }
        StateLocation::Directory(dir) => {
            ConfiguredStateStore::File(FileStateStore::in_directory(dir))
        }
    };
    let graph = Some(config.graph_url);
    let publisher = match config.topic_arn {
        Some(topic) => ConfiguredPublisher::Sns(SnsPublisher::new(
            aws_sdk_sns::Client::new(sdk),
            topic,
            graph,
        )),
        None => ConfiguredPublisher::Stdout(StdoutPublisher::new(graph)),
    };
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    tracing::info!(checks = checks.len(), names = %names.join(","), "{}", Event::ChecksLoaded);
    let mut job = AnomalyCheckJob::new(metrics, state, publisher, checks, config.job)
        .with_mute_windows(windows);
    if let Some(location) = config.silences {
        job = job.with_silences(match location {
            SilencesLocation::S3 { bucket, key } => {
                SilencesStore::S3(S3Object::new(s3.clone(), bucket, key))
            }
            SilencesLocation::File(path) => SilencesStore::File(VersionedFile::new(path)),
        });
    }
    let Some(document) = slos else {
        return Ok(job);
    };
    let names: Vec<&str> = document.slos.iter().map(|s| s.name.as_str()).collect();
    tracing::info!(slos = names.len(), names = %names.join(","), "{}", Event::SlosLoaded);
    let ledger = config.ledger.map(|location| {
        let store = match location {
            LedgerLocation::S3(bucket) => {
                ConfiguredReportStore::S3(S3ReportStore::new(s3.clone(), bucket))
            }
            LedgerLocation::Directory(dir) => {
                ConfiguredReportStore::Directory(DirReportStore::new(dir))
            }
        };
        Ledger::new(store, config.report_prefix, config.report_time_zone)
    });
    if ledger.is_none() {
        tracing::warn!("{}", Event::BudgetAlertsOff);
    }
    Ok(job.with_slos(&document, &config.conventions, ledger))
}
