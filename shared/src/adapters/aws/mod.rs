//! Adapters over the AWS SDK: S3 for reports, the alert state and documents, SNS for alerts,
//! Secrets Manager and SSM for credentials.

pub mod documents;
pub mod reports;
pub mod secrets;
pub mod sns;
pub mod state;

use aws_config::SdkConfig;

/// Builds an S3 client; `force_path_style` for S3-compatible endpoints (moto, MinIO).
pub fn s3_client(sdk: &SdkConfig, force_path_style: bool) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(force_path_style)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}
