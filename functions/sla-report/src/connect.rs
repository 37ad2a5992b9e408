//! The deployed job's wiring: reads the SLO document and the Prometheus secret and builds the
//! clients, once per process.

use thiserror::Error;
use vigil_core::adapters::aws::reports::S3ReportStore;
use vigil_core::adapters::aws::s3_client;
use vigil_core::adapters::local::reports::DirReportStore;
use vigil_core::adapters::prometheus::{ConnectError, PrometheusClient};
use vigil_core::adapters::{read_slos, ConfiguredReportStore, SlosStartupError};
use vigil_core::report::slos::SloSet;

use crate::config::{Output, SlaReportConfig};
use crate::SlaReportJob;

/// The job as deployed: Prometheus over HTTP, reports into S3 or a directory.
pub type DeployedJob = SlaReportJob<PrometheusClient, ConfiguredReportStore>;

/// Start-up failed after the configuration was read.
#[derive(Debug, Error)]
pub enum StartupError {
    /// The Prometheus client could not be set up.
    #[error(transparent)]
    Prometheus(#[from] ConnectError),
    /// The SLO document could not be read or is invalid.
    #[error(transparent)]
    Slos(#[from] SlosStartupError),
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
    let s3 = s3_client(sdk, force_path_style);
    if let Some(document) = read_slos(&config.slos, &s3).await? {
        settings.slos = SloSet::Document(document);
    }
    let metrics = config.prometheus.connect(sdk).await?;
    let store = match config.output {
        Output::S3 { bucket, .. } => ConfiguredReportStore::S3(S3ReportStore::new(s3, bucket)),
        Output::Directory(dir) => ConfiguredReportStore::Directory(DirReportStore::new(dir)),
    };
    Ok(SlaReportJob::new(metrics, store, settings))
}
