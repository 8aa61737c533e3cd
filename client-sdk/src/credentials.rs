//! What a logged-in device keeps between runs: the server, the user and the refresh token, in
//! `credentials.json` beside the store, readable by its owner only. The access token is never
//! stored: it lives 15 minutes and is refreshed on start.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{ClientError, Result};

/// The stored session of a device.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// The server's base URL (`http://127.0.0.1:8080`).
    pub server: String,
    /// The user's login name.
    pub username: String,
    /// The user's id.
    pub user_id: String,
    /// The user's role.
    pub role: String,
    /// The device (the store's device id).
    pub device_id: Uuid,
    /// The scopes the device follows.
    pub scopes: Vec<String>,
    /// The current refresh token (rotates on every use).
    pub refresh_token: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("device_id", &self.device_id)
            .field("scopes", &self.scopes)
            .field("refresh_token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// The credentials file in a client directory.
#[must_use]
pub fn path_in(dir: &Path) -> PathBuf {
    dir.join("credentials.json")
}

impl Credentials {
    /// Reads the credentials of `dir`, if any.
    ///
    /// # Errors
    /// [`ClientError::File`] when the file exists but cannot be read or parsed.
    pub fn load(dir: &Path) -> Result<Option<Self>> {
        let path = path_in(dir);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(ClientError::File {
                    what: "cannot read the credentials in",
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ClientError::File {
                what: "the credentials are damaged (log in again) in",
                path: path.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            })
    }

    /// Writes the credentials into `dir`, owner-only, replacing the old file atomically (a
    /// crash leaves the old token or the new one, never half of one).
    ///
    /// # Errors
    /// [`ClientError::File`].
    pub fn save(&self, dir: &Path) -> Result<()> {
        let path = path_in(dir);
        let err = |source| ClientError::File {
            what: "cannot write the credentials to",
            path: path.display().to_string(),
            source,
        };
        let tmp = dir.join("credentials.json.tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let text = serde_json::to_vec_pretty(self).unwrap_or_default();
        {
            use std::io::Write as _;
            let mut f = opts.open(&tmp).map_err(err)?;
            f.write_all(&text).map_err(err)?;
            f.sync_all().map_err(err)?;
        }
        std::fs::rename(&tmp, &path).map_err(err)?;
        // The rename itself must survive a power cut, or a spent token could come back.
        #[cfg(unix)]
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(err)?;
        Ok(())
    }

    /// Removes the credentials of `dir` (logging out).
    ///
    /// # Errors
    /// [`ClientError::File`] when the file exists and cannot be removed.
    pub fn remove(dir: &Path) -> Result<()> {
        let path = path_in(dir);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(ClientError::File {
                what: "cannot remove the credentials in",
                path: path.display().to_string(),
                source,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_owner_only_and_redacted() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Credentials::load(dir.path()).unwrap().is_none());
        let c = Credentials {
            server: "http://x".into(),
            username: "u".into(),
            user_id: "1".into(),
            role: "cashier".into(),
            device_id: Uuid::nil(),
            scopes: vec!["branch:A".into()],
            refresh_token: "lpr_secret".into(),
        };
        c.save(dir.path()).unwrap();
        c.save(dir.path()).unwrap();
        assert_eq!(Credentials::load(dir.path()).unwrap(), Some(c.clone()));
        assert!(!format!("{c:?}").contains("lpr_secret"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path_in(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0);
        }
        Credentials::remove(dir.path()).unwrap();
        assert!(Credentials::load(dir.path()).unwrap().is_none());
    }
}
