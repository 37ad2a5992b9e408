//! Report objects as files under a directory, for runs outside AWS.

use std::path::{Component, Path, PathBuf};

use crate::ports::{ReportStore, StoreError};

/// Writes report objects as files under a directory, keys as relative paths.
#[derive(Debug, Clone)]
pub struct DirReportStore {
    root: PathBuf,
}

impl DirReportStore {
    /// A store writing under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        let relative = Path::new(key);
        if key.is_empty()
            || !relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(StoreError::UnsafeKey {
                key: key.to_owned(),
            });
        }
        Ok(self.root.join(relative))
    }
}

impl ReportStore for DirReportStore {
    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        _content_type: &'static str,
    ) -> Result<(), StoreError> {
        let path = self.path(key)?;
        let write_error = |source: std::io::Error| StoreError::Write {
            key: key.to_owned(),
            source: Box::new(source),
        };
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(write_error)?;
        }
        // Write beside the target and rename, so a reader never sees half a file.
        let partial = path.with_extension("partial");
        tokio::fs::write(&partial, body)
            .await
            .map_err(write_error)?;
        tokio::fs::rename(&partial, &path)
            .await
            .map_err(write_error)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(StoreError::Read {
                key: key.to_owned(),
                source: Box::new(error),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_cannot_escape_the_directory() {
        let store = DirReportStore::new("/reports");
        for key in ["../etc/passwd", "/etc/passwd", "a/../../b", ""] {
            assert!(store.path(key).is_err(), "{key}");
        }
        assert_eq!(
            store
                .path("sla-reports/daily/2026/11/23/report.json")
                .expect("safe"),
            Path::new("/reports/sla-reports/daily/2026/11/23/report.json")
        );
    }
}
