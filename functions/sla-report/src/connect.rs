//! The deployed job's wiring: reads the SLO document and the Prometheus secret and builds the
//! clients, once per process.

use thiserror::Error;
use vigil_core::adapters::aws::documents::S3Document;
use vigil_core::adapters::aws::reports::S3ReportStore;
use vigil_core::adapters::aws::{s3_client, S3Object};
use vigil_core::adapters::local::documents::FileDocument;
use vigil_core::adapters::local::reports::DirReportStore;
use vigil_core::adapters::prometheus::{ConnectError, PrometheusClient};
use vigil_core::adapters::{ConfiguredDocument, ConfiguredReportStore};
use vigil_core::ports::{DocumentError, DocumentSource};
use vigil_core::report::slos::SloSet;
use vigil_core::slo::document::SloDocumentError;
use vigil_core::slo::formats::parse_any;

use crate::config::{Output, SlaReportConfig, SlosSource};
use crate::SlaReportJob;

/// The job as deployed: Prometheus over HTTP, reports into S3 or a directory.
pub type DeployedJob = SlaReportJob<PrometheusClient, ConfiguredReportStore>;

/// Start-up failed after the configuration was read.
#[derive(Debug, Error)]
pub enum StartupError {
    /// The Prometheus client could not be set up.
    #[error(transparent)]
    Prometheus(#[from] ConnectError),
    /// The SLO document could not be read.
    #[error("{variable}: could not read the SLO document: {source}")]
    SlosUnreadable {
        /// `SLOS_FILE` or `SLOS_S3_URI`.
        variable: &'static str,
        /// Why.
        #[source]
        source: DocumentError,
    },
    /// The SLO document is invalid.
    #[error("{variable}: {source}")]
    Slos {
        /// `SLOS_FILE` or `SLOS_S3_URI`.
        variable: &'static str,
        /// What is wrong, naming the SLO and field.
        #[source]
        source: SloDocumentError,
    },
}

/// Builds the deployed job from its configuration: reads the SLO document and the Prometheus
/// secret and builds the clients, once per process.
///
/// # Errors
/// [`StartupError`] naming the setting at fault.
pub async fn connect(
    config: SlaReportConfig,
    sdk: &aws_config::SdkConfig,
) -> Result<DeployedJob, StartupError> {
    let mut settings = config.report;
    let force_path_style = match &config.output {
        Output::S3 {
            force_path_style, ..
        } => *force_path_style,
        Output::Directory(_) => false,
    };
    let document = match config.slos {
        SlosSource::Default => None,
        SlosSource::File(path) => Some((
            "SLOS_FILE",
            ConfiguredDocument::File(FileDocument::new(path)),
        )),
        SlosSource::S3 { bucket, key } => Some((
            "SLOS_S3_URI",
            ConfiguredDocument::S3(S3Document::new(S3Object::new(
                s3_client(sdk, force_path_style),
                bucket,
                key,
            ))),
        )),
    };
    if let Some((variable, document)) = document {
        let text = document
            .read()
            .await
            .map_err(|source| StartupError::SlosUnreadable { variable, source })?;
        let parsed = parse_any(&text).map_err(|source| StartupError::Slos { variable, source })?;
        settings.slos = SloSet::Document(parsed);
    }
    let metrics = config.prometheus.connect(sdk).await?;
    let store = match config.output {
        Output::S3 {
            bucket,
            force_path_style,
        } => {
            ConfiguredReportStore::S3(S3ReportStore::new(s3_client(sdk, force_path_style), bucket))
        }
        Output::Directory(dir) => ConfiguredReportStore::Directory(DirReportStore::new(dir)),
    };
    Ok(SlaReportJob::new(metrics, store, settings))
}
