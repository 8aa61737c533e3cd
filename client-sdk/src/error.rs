//! The client's errors. Each says what happened and what the user can do.

use lapak_core::protocol::DecodeError;

/// Everything that can go wrong in the client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No credentials are stored.
    #[error("not logged in: run `lapak login --server <url> --user <name>` first")]
    NotLoggedIn,
    /// The server refused the credentials or the session (wrong password, revoked session).
    #[error("{message} ({code})")]
    Unauthorized {
        /// Machine-readable code from the server.
        code: String,
        /// The server's message.
        message: String,
    },
    /// The server cannot be reached (no network, server down, timeout).
    #[error(
        "the server at {server} cannot be reached ({detail}): your work is kept and will sync when it is back"
    )]
    Offline {
        /// The server's address.
        server: String,
        /// What failed.
        detail: String,
    },
    /// The server answered with an error.
    #[error("the server refused the request: {message} ({code}, HTTP {status})")]
    Server {
        /// HTTP status.
        status: u16,
        /// Machine-readable code.
        code: String,
        /// The server's message.
        message: String,
    },
    /// The server's answer could not be decoded.
    #[error("the server's answer could not be read: {0}")]
    Decode(#[from] DecodeError),
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] lapak_core::Error),
    /// A local file (credentials) could not be read or written.
    #[error("{what} {path}: {source}")]
    File {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// Another process has this device open.
    #[error(
        "the device in {dir} is open in another process (an app, or `lapak sync --watch`): close it first"
    )]
    Busy {
        /// The device directory.
        dir: String,
    },
    /// A photo could not be kept or read (not an image, too large, the disk).
    #[error(transparent)]
    Photo(#[from] crate::photos::PhotoStoreError),
    /// The client was shut down.
    #[error("the client was shut down")]
    Closed,
}

impl ClientError {
    /// Whether the user must log in again (retrying will not help).
    #[must_use]
    pub fn needs_login(&self) -> bool {
        matches!(
            self,
            ClientError::NotLoggedIn | ClientError::Unauthorized { .. }
        )
    }

    /// Whether the failure is the network's or a busy server's (retrying later may help).
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Offline { .. } => true,
            ClientError::Server { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

/// Result of client calls.
pub type Result<T, E = ClientError> = std::result::Result<T, E>;
