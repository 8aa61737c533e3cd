//! Photos from the phone's camera: kept on the device by content address, put on a record
//! (an outlet profile, an activity, a check-in) by their reference, uploaded by the sync after
//! that record, resumed after a dropped connection or a restart, never twice.

use lapak_core::Item;

use crate::rows::{item_int, item_text};
use crate::types::from_ms;
use crate::{LapakClient, LapakError};

/// A photo on a record.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct PhotoRef {
    /// Its reference, `sha256:<hex>` (fetch its bytes with `photo`).
    pub photo: String,
    /// When it was taken.
    pub taken_at: std::time::SystemTime,
    /// Its caption.
    pub caption: String,
}

/// A photo to put on a new record.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct NewPhoto {
    /// The reference `add_photo` returned.
    pub photo: String,
    /// A caption.
    #[uniffi(default = "")]
    pub caption: String,
}

/// The items of a `photos` list as [`PhotoRef`]s.
pub(crate) fn refs_of(list: &[Item]) -> Vec<PhotoRef> {
    list.iter()
        .map(|p| PhotoRef {
            photo: item_text(p, "ref"),
            taken_at: from_ms(item_int(p, "taken_at")),
            caption: item_text(p, "caption"),
        })
        .collect()
}

impl From<lapak_client::photos::PhotoStoreError> for LapakError {
    fn from(e: lapak_client::photos::PhotoStoreError) -> Self {
        match e {
            lapak_client::photos::PhotoStoreError::Photo(p) => LapakError::invalid(p.to_string()),
            lapak_client::photos::PhotoStoreError::Io { .. } => LapakError::Storage {
                reason: "this device could not keep the photo: free some space and try again"
                    .into(),
            },
        }
    }
}

impl LapakClient {
    /// `reference` when the photo is on this device, else `NotFound`.
    pub(crate) async fn known_photo(&self, reference: &str) -> Result<String, LapakError> {
        if self.client.photos().has(reference)? {
            Ok(reference.to_owned())
        } else {
            Err(LapakError::not_found(format!(
                "photo `{reference}` is not on this device: add it with add_photo first"
            )))
        }
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl LapakClient {
    /// Keeps a photo (the camera's JPEG, or a PNG or WebP image, at most 10 MiB) on the device
    /// and returns its reference, `sha256:<hex>`, to put on a record. The same bytes give the
    /// same reference and are kept once.
    ///
    /// # Errors
    /// `Invalid` for bytes that are not such an image or too large; `Storage` for a full disk.
    pub async fn add_photo(&self, bytes: Vec<u8>) -> Result<String, LapakError> {
        Ok(self.client.add_photo(bytes).await?)
    }

    /// A photo's bytes: from the device, or else fetched from the server (which gives it only
    /// for records this user may see). `null` when neither has it.
    ///
    /// # Errors
    /// `Invalid` for a malformed reference; `Offline` when it must be fetched and cannot be.
    pub async fn photo(&self, reference: String) -> Result<Option<Vec<u8>>, LapakError> {
        Ok(self.client.photo(&reference).await?)
    }
}
