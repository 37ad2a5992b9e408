//! The deployed job's wiring: reads the Prometheus secret and builds the clients, once per
//! process.

use vigil_core::adapters::aws::reports::S3ReportStore;
use vigil_core::adapters::aws::s3_client;
use vigil_core::adapters::local::reports::DirReportStore;
use vigil_core::adapters::prometheus::{ConnectError, PrometheusClient};
use vigil_core::adapters::ConfiguredReportStore;

use crate::config::{Output, SlaReportConfig};
use crate::SlaReportJob;

/// The job as deployed: Prometheus over HTTP, reports into S3 or a directory.
pub type DeployedJob = SlaReportJob<PrometheusClient, ConfiguredReportStore>;

/// Builds the deployed job from its configuration: reads the Prometheus secret and builds
/// the clients, once per process.
///
/// # Errors
/// [`ConnectError`] when the secret cannot be read or a client cannot be built.
pub async fn connect(
    config: SlaReportConfig,
    sdk: &aws_config::SdkConfig,
) -> Result<DeployedJob, ConnectError> {
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
    Ok(SlaReportJob::new(metrics, store, config.report))
}
