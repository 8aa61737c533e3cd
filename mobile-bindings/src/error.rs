//! The one error the bindings raise: a variant per thing the app can act on, each with a
//! message for people (never the internals of a failure).

use lapak_client::ClientError;

/// Why a call failed.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum LapakError {
    /// No one is signed in on this device: call `login`.
    #[error("{message}")]
    NotSignedIn { message: String },
    /// The server refused the user name or password, or ended this device's session.
    #[error("{message}")]
    Unauthorized { message: String },
    /// The server cannot be reached: the work is kept and sent later.
    #[error("{message}")]
    Offline { message: String },
    /// The server refused the request; `code` says why.
    #[error("{message}")]
    Refused { code: String, message: String },
    /// The device's storage failed: free space, restart the app.
    #[error("{message}")]
    Storage { message: String },
}

impl From<ClientError> for LapakError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::NotLoggedIn => LapakError::NotSignedIn {
                message: "no one is signed in on this device: log in first".into(),
            },
            ClientError::Unauthorized { message, .. } => LapakError::Unauthorized { message },
            ClientError::Offline { .. } => LapakError::Offline {
                message: "the server cannot be reached: the work is kept and sent when it can be"
                    .into(),
            },
            ClientError::Server { code, message, .. } => LapakError::Refused { code, message },
            _ => LapakError::Storage {
                message: "this device could not read or write its data: free some space and restart the app".into(),
            },
        }
    }
}
