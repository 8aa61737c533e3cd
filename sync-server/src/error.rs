//! Errors as HTTP clients see them: a status and a JSON body
//! `{"error": {"code": "...", "message": "..."}}` whose message says what was wrong and what
//! to do. Database and internal details are logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lapak_core::protocol::DecodeError;

use crate::storage::StorageError;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable code.
    pub code: &'static str,
    /// For the person reading it.
    pub message: String,
    /// Seconds to wait before retrying (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 500, with the detail logged only.
    pub fn internal(detail: &dyn std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed to handle the request; it was logged. Try again, and tell the operator if it persists",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            // Text Postgres cannot store (a NUL) that no check before the query caught: the
            // request's fault, not the database's; never a 503 the client would retry forever.
            StorageError::Database(sqlx::Error::Database(db))
                if matches!(db.code().as_deref(), Some("22021" | "22P05")) =>
            {
                tracing::warn!(detail = %db, "text Postgres cannot store reached a query");
                ApiError::bad_request(
                    "invalid",
                    "the request holds text that cannot be stored (a NUL character): remove it",
                )
            }
            StorageError::Database(detail) => {
                tracing::error!(%detail, "database error");
                let mut e = ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "the server's database is unavailable or busy; nothing was changed. Try again shortly",
                );
                e.retry_after = Some(2);
                e
            }
            StorageError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            StorageError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, "not_found", m),
            StorageError::Forbidden(m) => ApiError::forbidden("forbidden", m),
            StorageError::Reference(r @ crate::engine::ReferenceError::Derived(_)) => {
                ApiError::forbidden("derived_collection", r.to_string())
            }
            StorageError::Reference(r) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", r.to_string())
            }
            e @ StorageError::CursorAhead { .. } => {
                ApiError::new(StatusCode::CONFLICT, "cursor_ahead", e.to_string())
            }
            other => ApiError::internal(&other),
        }
    }
}

impl From<DecodeError> for ApiError {
    fn from(e: DecodeError) -> Self {
        match e {
            DecodeError::TooLarge { .. } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", e.to_string())
            }
            DecodeError::UnsupportedVersion { .. } => {
                ApiError::bad_request("unsupported_version", e.to_string())
            }
            DecodeError::LimitExceeded(_) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "limit_exceeded",
                e.to_string(),
            ),
            _ => ApiError::bad_request("malformed", e.to_string()),
        }
    }
}
