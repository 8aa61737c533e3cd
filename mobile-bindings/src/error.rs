//! The one error the bindings raise: a variant per thing the app can act on, each with a
//! message for people (never the internals of a failure).

use lapak_client::ClientError;
use lapak_core::commerce::Refusal;

/// Why a call failed. Each variant's `reason` says what was wrong and what to do (it is not
/// called `message`, which Kotlin's exceptions already have).
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum LapakError {
    /// No one is signed in on this device: call `login`.
    #[error("{reason}")]
    NotSignedIn { reason: String },
    /// The server refused the user name or password, or ended this device's session.
    #[error("{reason}")]
    Unauthorized { reason: String },
    /// The server cannot be reached: the work is kept and sent later.
    #[error("{reason}")]
    Offline { reason: String },
    /// Refused, by the server or by the device's own check of the server's rules (a check-in
    /// outside the territory, an order whose lines are wrong): `code` is the rule's code
    /// (`outside_territory`, `invalid_line`, ...), the message says what to do. Nothing was
    /// stored.
    #[error("{reason}")]
    Refused { code: String, reason: String },
    /// What the app asked for does not exist on this device (an outlet, a plan, a photo):
    /// sync, or pick it from a list.
    #[error("{reason}")]
    NotFound { reason: String },
    /// The app passed a value the call cannot take (a date that is not `YYYY-MM-DD`, a photo
    /// that is not a JPEG, PNG or WebP image, a field the record does not have).
    #[error("{reason}")]
    Invalid { reason: String },
    /// The device's storage failed: free space, restart the app.
    #[error("{reason}")]
    Storage { reason: String },
}

impl LapakError {
    /// `NotFound` with `message`.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        LapakError::NotFound {
            reason: message.into(),
        }
    }

    /// `Invalid` with `message`.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        LapakError::Invalid {
            reason: message.into(),
        }
    }
}

impl From<Refusal> for LapakError {
    fn from(r: Refusal) -> Self {
        LapakError::Refused {
            code: r.code.to_owned(),
            reason: r.message,
        }
    }
}

impl From<lapak_core::Error> for LapakError {
    fn from(e: lapak_core::Error) -> Self {
        use lapak_core::Error as E;
        match e {
            E::UnknownField { .. }
            | E::InvalidValue { .. }
            | E::WrongKind { .. }
            | E::TooLarge { .. }
            | E::BatchWrite { .. }
            | E::Document { .. }
            | E::InvalidScope(_) => LapakError::invalid(e.to_string()),
            E::NotFound { .. } => LapakError::not_found(e.to_string()),
            _ => storage(),
        }
    }
}

fn storage() -> LapakError {
    LapakError::Storage {
        reason: "this device could not read or write its data: free some space and restart the app"
            .into(),
    }
}

impl From<ClientError> for LapakError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::NotLoggedIn => LapakError::NotSignedIn {
                reason: "no one is signed in on this device: log in first".into(),
            },
            ClientError::Unauthorized { message, .. } => {
                LapakError::Unauthorized { reason: message }
            }
            ClientError::Offline { .. } => LapakError::Offline {
                reason: "the server cannot be reached: the work is kept and sent when it can be"
                    .into(),
            },
            ClientError::Server { code, message, .. } => LapakError::Refused {
                code,
                reason: message,
            },
            ClientError::Store(e) => e.into(),
            ClientError::Photo(e) => e.into(),
            _ => storage(),
        }
    }
}
