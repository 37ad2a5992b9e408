//! Adapters over the AWS SDK: S3 for reports, the alert state and documents, SNS for alerts,
//! Secrets Manager and SSM for credentials.

pub mod documents;
pub mod reports;
pub mod secrets;
pub mod sns;
pub mod state;

use aws_config::SdkConfig;

use crate::ports::StateError;

/// Attempts an S3 request gets when S3 answers 5xx, throttles or drops the connection: the
/// SDK's standard backoff over five attempts waits at most about 15 seconds in all, well inside
/// either function's timeout, and a write is only lost to five faults in a row.
const S3_MAX_ATTEMPTS: u32 = 5;

/// Builds an S3 client; `force_path_style` for S3-compatible endpoints (moto, MinIO).
pub fn s3_client(sdk: &SdkConfig, force_path_style: bool) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(force_path_style)
        .retry_config(
            aws_sdk_s3::config::retry::RetryConfig::standard().with_max_attempts(S3_MAX_ATTEMPTS),
        )
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// One object in a bucket, with the client that reaches it.
#[derive(Debug, Clone)]
pub struct S3Object {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
}

impl S3Object {
    /// The object at `s3://bucket/key`.
    pub fn new(
        client: aws_sdk_s3::Client,
        bucket: impl Into<String>,
        key: impl Into<String>,
    ) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            key: key.into(),
        }
    }

    /// A GET of the object, to send.
    pub fn get(&self) -> aws_sdk_s3::operation::get_object::builders::GetObjectFluentBuilder {
        self.client.get_object().bucket(&self.bucket).key(&self.key)
    }

    /// A PUT of the object, to complete and send.
    pub fn put(&self) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
        self.client.put_object().bucket(&self.bucket).key(&self.key)
    }

    /// The object at `key` in the same bucket.
    #[must_use]
    pub fn sibling(&self, key: impl Into<String>) -> Self {
        Self {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: key.into(),
        }
    }

    /// The object's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The keys in the bucket that start with `prefix`, every page.
    ///
    /// # Errors
    /// [`StateError::Store`] when S3 fails.
    pub async fn keys_under(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| store_error(aws_sdk_s3::Error::from(e)))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
        }
        Ok(keys)
    }

    /// `s3://bucket/key`.
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    /// The object's bytes and version (ETag); `None` when there is none.
    ///
    /// # Errors
    /// [`StateError::Store`] when S3 fails.
    pub async fn load_versioned(&self) -> Result<Option<(Vec<u8>, String)>, StateError> {
        let output = match self.get().send().await {
            Ok(output) => output,
            Err(error)
                if error.as_service_error().is_some_and(
                    aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                ) =>
            {
                return Ok(None);
            }
            Err(error) => return Err(store_error(aws_sdk_s3::Error::from(error))),
        };
        let version = output.e_tag().unwrap_or_default().to_owned();
        let bytes = output
            .body
            .collect()
            .await
            .map_err(store_error)?
            .into_bytes();
        Ok(Some((bytes.to_vec(), version)))
    }

    /// Writes `bytes` if the object is still at `expected` (`None`: if there is none), with
    /// `If-Match` or `If-None-Match: *`; the new version.
    ///
    /// # Errors
    /// [`StateError::Conflict`] when it changed; [`StateError::Store`] when S3 fails.
    pub async fn save_versioned(
        &self,
        bytes: Vec<u8>,
        expected: Option<&str>,
    ) -> Result<String, StateError> {
        let request = self
            .put()
            .content_type("application/json")
            .body(bytes.into());
        let request = match expected {
            Some(version) => request.if_match(version),
            None => request.if_none_match("*"),
        };
        match request.send().await {
            Ok(output) => Ok(output.e_tag().unwrap_or_default().to_owned()),
            Err(error) => {
                let status = error.raw_response().map(|r| r.status().as_u16());
                if matches!(status, Some(409 | 412)) {
                    Err(StateError::Conflict)
                } else {
                    Err(store_error(aws_sdk_s3::Error::from(error)))
                }
            }
        }
    }
}

fn store_error(error: impl std::error::Error + Send + Sync + 'static) -> StateError {
    StateError::Store {
        source: Box::new(error),
    }
}
