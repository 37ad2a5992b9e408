//! The silences object: `SILENCES_S3_URI` (S3, conditional writes) or `SILENCES_FILE` (a local
//! file), read by the check at every invocation and changed by `anomaly-check silence`.

use thiserror::Error;

use super::aws::S3Object;
use super::local::state::VersionedFile;
use crate::check::silence::{SilenceError, SilencesDocument};
use crate::ports::StateError;

/// Tries of a change that lost a race with another writer, each on a fresh read.
const CHANGE_ATTEMPTS: usize = 5;

/// Where the silences live.
#[derive(Debug, Clone)]
pub enum SilencesStore {
    /// An S3 object.
    S3(S3Object),
    /// A local file.
    File(VersionedFile),
}

/// The silences could not be read, changed or written.
#[derive(Debug, Error)]
pub enum SilencesError {
    /// The object could not be read, or is not a silences document.
    #[error("the silences object {location} could not be read: {problem}")]
    Unreadable {
        /// Where it is.
        location: String,
        /// Why.
        problem: String,
    },
    /// The change is refused, naming the field; nothing was written.
    #[error(transparent)]
    Invalid(#[from] SilenceError),
    /// The object could not be written.
    #[error("the silences object {location} could not be written: {problem}")]
    Unwritable {
        /// Where it is.
        location: String,
        /// Why.
        problem: String,
    },
}

impl SilencesStore {
    /// `s3://bucket/key` or the file's path.
    pub fn location(&self) -> String {
        match self {
            Self::S3(object) => object.uri(),
            Self::File(file) => file.path().display().to_string(),
        }
    }

    /// The silences and their version; an empty document (version `None`) when there is no
    /// object yet.
    ///
    /// # Errors
    /// [`SilencesError::Unreadable`] when the store fails or the object is not a silences
    /// document: never read as "no silences".
    pub async fn load(&self) -> Result<(SilencesDocument, Option<String>), SilencesError> {
        let unreadable = |problem: String| SilencesError::Unreadable {
            location: self.location(),
            problem,
        };
        let loaded = match self {
            Self::S3(object) => object.load_versioned().await,
            Self::File(file) => file.load_versioned().await,
        }
        .map_err(|error| unreadable(error.to_string()))?;
        match loaded {
            None => Ok((SilencesDocument::default(), None)),
            Some((bytes, version)) => SilencesDocument::parse(&bytes)
                .map(|document| (document, Some(version)))
                .map_err(unreadable),
        }
    }

    async fn save(
        &self,
        document: &SilencesDocument,
        expected: Option<&str>,
    ) -> Result<String, StateError> {
        let bytes = document.to_bytes();
        match self {
            Self::S3(object) => object.save_versioned(bytes, expected).await,
            Self::File(file) => file.save_versioned(bytes, expected).await,
        }
    }

    /// Applies `change` to the stored silences and writes them conditionally, reading again and
    /// retrying when another writer got there first, so concurrent changes are all kept.
    /// Returns the document as written.
    ///
    /// # Errors
    /// [`SilencesError`]; when `change` refuses, nothing is written.
    pub async fn change(
        &self,
        change: impl Fn(&mut SilencesDocument) -> Result<(), SilenceError>,
    ) -> Result<SilencesDocument, SilencesError> {
        for _ in 0..CHANGE_ATTEMPTS {
            let (mut document, version) = self.load().await?;
            change(&mut document)?;
            match self.save(&document, version.as_deref()).await {
                Ok(_) => return Ok(document),
                Err(StateError::Conflict) => {}
                Err(error) => {
                    return Err(SilencesError::Unwritable {
                        location: self.location(),
                        problem: error.to_string(),
                    })
                }
            }
        }
        Err(SilencesError::Unwritable {
            location: self.location(),
            problem: format!("it changed under every one of {CHANGE_ATTEMPTS} tries"),
        })
    }

    /// Writes `document` if the object is still at `version`; `false` when another writer
    /// changed it (the change is then left to a later run).
    ///
    /// # Errors
    /// [`SilencesError::Unwritable`] when the store fails.
    pub async fn replace(
        &self,
        document: &SilencesDocument,
        version: Option<&str>,
    ) -> Result<bool, SilencesError> {
        match self.save(document, version).await {
            Ok(_) => Ok(true),
            Err(StateError::Conflict) => Ok(false),
            Err(error) => Err(SilencesError::Unwritable {
                location: self.location(),
                problem: error.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::silence::{Matcher, Silence};

    fn silence(id: &str) -> Silence {
        Silence {
            id: id.to_owned(),
            matchers: vec![Matcher::parse("service=api").expect("valid")],
            starts_at: "2026-12-04T10:00:00Z".parse().expect("time"),
            ends_at: "2026-12-04T12:00:00Z".parse().expect("time"),
            created_by: "alice".to_owned(),
            comment: "deploy".to_owned(),
        }
    }

    #[tokio::test]
    async fn changes_are_conditional_and_a_bad_object_is_never_no_silences() {
        let dir = tempfile_dir();
        let store = SilencesStore::File(VersionedFile::new(dir.join("silences.json")));
        assert_eq!(store.load().await.expect("none yet").1, None);
        store.change(|d| d.add(silence("a"))).await.expect("added");
        let written = store.change(|d| d.add(silence("b"))).await.expect("added");
        assert_eq!(written.silences.len(), 2);
        let refused = store.change(|d| d.add(silence("a"))).await;
        assert!(matches!(refused, Err(SilencesError::Invalid(_))));
        assert_eq!(store.load().await.expect("reads").0.silences.len(), 2);
        tokio::fs::write(dir.join("silences.json"), b"{\"silences\": 3}")
            .await
            .expect("written");
        let error = store.load().await.expect_err("unreadable");
        assert!(error.to_string().contains("could not be read"), "{error}");
        std::fs::remove_dir_all(dir).ok();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "vigil-silences-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        dir
    }
}
