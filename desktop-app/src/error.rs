//! [`PosError`]: what a POS action can fail with, and its [`CommandError`] for the page (a code
//! to branch on and a message for the cashier; never the internals of a failure on this machine).

use lapak_client::ClientError;
use lapak_core::commerce::Refusal;

use crate::api::{CommandError, ErrorCode};

/// What a POS action can fail with.
#[derive(Debug, thiserror::Error)]
pub enum PosError {
    /// Refused for a reason the cashier can act on.
    #[error("{message}")]
    Refused {
        /// For the page.
        code: ErrorCode,
        /// For the cashier.
        message: String,
    },
    /// The client (store, server, files) failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] lapak_core::Error),
    /// The terminal's settings file cannot be parsed.
    #[error("{path} is damaged ({detail}): delete it and pick the terminal again")]
    Damaged {
        /// The file.
        path: String,
        /// What the parser said.
        detail: String,
    },
    /// A file of the terminal could not be read or written.
    #[error("{what}: {source}")]
    File {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// Shorthand.
pub type Result<T> = std::result::Result<T, PosError>;

impl PosError {
    /// A refusal with `code` and `message`.
    pub fn refused(code: ErrorCode, message: impl Into<String>) -> PosError {
        PosError::Refused {
            code,
            message: message.into(),
        }
    }

    /// A refusal of the shared selling logic, with the code that fits it.
    #[must_use]
    pub fn from_refusal(r: Refusal) -> PosError {
        let code = match r.code {
            "overpaid" | "underpaid" | "invalid_payment" | "payment_mismatch" => ErrorCode::Payment,
            c if c.starts_with("voucher") => ErrorCode::Voucher,
            "return_exceeds_sale" | "refund_exceeds_sale" => ErrorCode::Return,
            _ => ErrorCode::Invalid,
        };
        PosError::refused(code, r.message)
    }

    /// What the page gets: internals are logged, not shown.
    #[must_use]
    pub fn to_command_error(&self) -> CommandError {
        let (code, message) = match self {
            PosError::Refused { code, message } => (*code, message.clone()),
            PosError::Client(ClientError::Unauthorized { message, .. }) => {
                (ErrorCode::BadCredentials, message.clone())
            }
            PosError::Client(ClientError::Offline { .. }) => (
                ErrorCode::Unreachable,
                "the server cannot be reached: check the address and the network, then try again"
                    .to_owned(),
            ),
            PosError::Client(ClientError::NotLoggedIn) => (
                ErrorCode::NotSignedIn,
                "no cashier is signed in on this terminal".to_owned(),
            ),
            PosError::Client(ClientError::Server { message, .. }) => {
                (ErrorCode::Invalid, message.clone())
            }
            PosError::Store(lapak_core::Error::InvalidValue { field, detail, .. }) => {
                (ErrorCode::Invalid, format!("{field}: {detail}"))
            }
            other => {
                tracing::error!(error = %other, "a POS action failed");
                (
                    ErrorCode::Internal,
                    "this terminal could not save or read its data: check the disk space, restart the app, and call support if it happens again".to_owned(),
                )
            }
        };
        CommandError { code, message }
    }
}
