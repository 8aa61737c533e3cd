//! The device's photos: files named by their content address under `<device dir>/photos`,
//! written once (a temporary file, synced, then renamed) so a crash never leaves half a photo
//! under its name. A photo waiting to reach the server has a `<hex>.pending` marker beside it;
//! the marker goes when the server has stored the photo, so a killed app uploads after its
//! restart what it had not finished, and nothing twice.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use lapak_core::photo::{self, PhotoError};

/// The photo files of one device.
#[derive(Clone, Debug)]
pub struct PhotoStore {
    dir: PathBuf,
}

/// Why a photo could not be kept or read.
#[derive(Debug, thiserror::Error)]
pub enum PhotoStoreError {
    /// Not a photo Lapak takes, or not a photo reference.
    #[error(transparent)]
    Photo(#[from] PhotoError),
    /// The file system failed.
    #[error("cannot {what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> PhotoStoreError {
    let path = path.display().to_string();
    move |source| PhotoStoreError::Io { what, path, source }
}

impl PhotoStore {
    /// The photos under `device_dir/photos` (made when missing, owner-only).
    ///
    /// # Errors
    /// [`PhotoStoreError::Io`].
    pub fn open(device_dir: &Path) -> Result<PhotoStore, PhotoStoreError> {
        let dir = device_dir.join("photos");
        fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        owner_only_dir(&dir).map_err(io("protect", &dir))?;
        Ok(PhotoStore { dir })
    }

    fn file(&self, hex: &str) -> PathBuf {
        self.dir.join(hex)
    }

    fn marker(&self, hex: &str) -> PathBuf {
        self.dir.join(format!("{hex}.pending"))
    }

    /// Keeps `bytes` (a JPEG, PNG or WebP image) and returns its reference `sha256:<hex>`;
    /// unless the server already has it (`uploaded`), it waits to be uploaded. Adding the same
    /// bytes again writes nothing.
    ///
    /// # Errors
    /// [`PhotoError`] for bytes that are not a photo Lapak takes; [`PhotoStoreError::Io`].
    pub fn add(&self, bytes: &[u8], uploaded: bool) -> Result<String, PhotoStoreError> {
        let reference = photo::reference_of(bytes)?;
        let hex = photo::digest_of(&reference)?.to_owned();
        let path = self.file(&hex);
        if !path.exists() {
            let tmp = self.dir.join(format!("{hex}.tmp"));
            let mut f = fs::File::create(&tmp).map_err(io("write", &tmp))?;
            f.write_all(bytes).map_err(io("write", &tmp))?;
            f.sync_all().map_err(io("sync", &tmp))?;
            if !uploaded {
                self.mark_pending(&hex)?;
            }
            fs::rename(&tmp, &path).map_err(io("rename", &path))?;
            sync_dir(&self.dir);
        }
        Ok(reference)
    }

    fn mark_pending(&self, hex: &str) -> Result<(), PhotoStoreError> {
        let m = self.marker(hex);
        fs::File::create(&m)
            .and_then(|f| f.sync_all())
            .map_err(io("write", &m))
    }

    /// Whether the photo is on this device.
    ///
    /// # Errors
    /// [`PhotoError::BadRef`].
    pub fn has(&self, reference: &str) -> Result<bool, PhotoStoreError> {
        Ok(self.file(photo::digest_of(reference)?).exists())
    }

    /// The photo's bytes, when it is on this device.
    ///
    /// # Errors
    /// [`PhotoError::BadRef`]; [`PhotoStoreError::Io`].
    pub fn read(&self, reference: &str) -> Result<Option<Vec<u8>>, PhotoStoreError> {
        let path = self.file(photo::digest_of(reference)?);
        match fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("read", &path)(e)),
        }
    }

    /// The references of photos waiting for upload, in a stable order.
    ///
    /// # Errors
    /// [`PhotoStoreError::Io`].
    pub fn pending(&self) -> Result<Vec<String>, PhotoStoreError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io("list", &self.dir))? {
            let name = entry.map_err(io("list", &self.dir))?.file_name();
            if let Some(hex) = name.to_str().and_then(|n| n.strip_suffix(".pending"))
                && self.file(hex).exists()
            {
                out.push(format!("{}{hex}", photo::REF_PREFIX));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Forgets that the photo waits: the server has it. Not made durable: should the removal
    /// be lost in a crash, the next sync asks the server, which answers that it has the photo.
    ///
    /// # Errors
    /// [`PhotoError::BadRef`]; [`PhotoStoreError::Io`].
    pub fn uploaded(&self, reference: &str) -> Result<(), PhotoStoreError> {
        let m = self.marker(photo::digest_of(reference)?);
        match fs::remove_file(&m) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("remove", &m)(e)),
        }
    }
}

fn owner_only_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Makes a rename or removal in `dir` durable (best effort: not every platform can).
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0 a small picture";

    #[test]
    fn a_photo_is_kept_once_and_waits_until_uploaded() {
        let dir = tempfile::tempdir().unwrap();
        let store = PhotoStore::open(dir.path()).unwrap();
        let r = store.add(JPEG, false).unwrap();
        assert_eq!(store.add(JPEG, false).unwrap(), r);
        assert_eq!(store.pending().unwrap(), vec![r.clone()]);
        assert_eq!(store.read(&r).unwrap().unwrap(), JPEG);
        store.uploaded(&r).unwrap();
        assert!(store.pending().unwrap().is_empty());
        // Reopened (an app restart): still there, still not waiting.
        let again = PhotoStore::open(dir.path()).unwrap();
        assert!(again.has(&r).unwrap());
        assert!(again.pending().unwrap().is_empty());
        assert!(matches!(
            store.add(b"not a picture", false),
            Err(PhotoStoreError::Photo(PhotoError::NotAnImage))
        ));
        assert!(store.read("sha256:../x").is_err());
    }
}
