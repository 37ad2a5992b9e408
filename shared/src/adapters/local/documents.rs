//! Documents read from local files, such as a checks document bundled with the function.

use std::path::PathBuf;

use crate::ports::{DocumentError, DocumentSource};

/// A local file read as UTF-8 text.
#[derive(Debug, Clone)]
pub struct FileDocument {
    path: PathBuf,
}

impl FileDocument {
    /// The document at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

impl DocumentSource for FileDocument {
    async fn read(&self) -> Result<String, DocumentError> {
        tokio::fs::read_to_string(&self.path)
            .await
            .map_err(|error| DocumentError {
                address: self.path.display().to_string(),
                source: Box::new(error),
            })
    }
}
