//! `/v1/admin/devices` and `/v1/admin/rejections`: the devices a back-office caller may see
//! (app version, last seen, how far behind), revoking one (administrators), and the changes
//! the server rejected from them.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use uuid::Uuid;

use super::admin::{require_admin, require_back_office};
use crate::app::AppState;
use crate::error::ApiError;
use crate::routes::WebAuthed;
use crate::storage::{DeviceFilter, DeviceRow, Page, Rejection, RejectionFilter};

/// The device routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/devices", get(list_devices))
        .route("/admin/devices/{id}/revoke", post(revoke_device))
        .route("/admin/rejections", get(list_rejections))
}

/// `?search=&include_revoked=true&offset=&limit=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceQuery {
    /// Only devices whose owner or name contains this.
    pub search: Option<String>,
    /// Also revoked devices.
    #[serde(default)]
    pub include_revoked: bool,
    /// Skip this many.
    #[serde(default)]
    pub offset: u32,
    /// At most this many (default 100, at most 500).
    pub limit: Option<u32>,
}

async fn list_devices(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Query(q): Query<DeviceQuery>,
) -> Result<Json<Page<DeviceRow>>, ApiError> {
    let visibility = require_back_office(&authed)?;
    let filter = DeviceFilter {
        search: q.search.map(|s| s.chars().take(100).collect()),
        include_revoked: q.include_revoked,
        offset: q.offset,
        limit: q.limit.unwrap_or(100).clamp(1, 500),
    };
    Ok(Json(state.storage.devices(&visibility, &filter).await?))
}

/// `?code=&collection=&username=&device=&since=<ms>&after=<received_at>/<change_id>&limit=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectionQuery {
    /// Only this code (`invalid`, `forbidden`, a rule's code).
    pub code: Option<String>,
    /// Only changes to this collection.
    pub collection: Option<String>,
    /// Only from this user's devices.
    pub username: Option<String>,
    /// Only from this device (its id).
    pub device: Option<String>,
    /// Only those received at or after this time (ms since the epoch).
    pub since: Option<i64>,
    /// The next page: `<received_at>/<change_id>` of the last row of the previous one.
    pub after: Option<String>,
    /// At most this many (default 100, at most 1,000).
    pub limit: Option<u32>,
}

/// `<received_at>/<change_id>`, where the previous page of rejections ended.
fn page_mark(after: &str) -> Result<(i64, String), ApiError> {
    after
        .split_once('/')
        .and_then(|(at, id)| Some((at.parse().ok()?, id.to_owned())))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid",
                format!("`after={after}` is not `<received_at>/<change_id>` of a listed rejection"),
            )
        })
}

async fn list_rejections(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Query(q): Query<RejectionQuery>,
) -> Result<Json<Vec<Rejection>>, ApiError> {
    let visibility = require_back_office(&authed)?;
    let filter = RejectionFilter {
        code: q.code,
        collection: q.collection,
        username: q.username,
        device_id: q.device,
        since: q.since,
        after: q.after.as_deref().map(page_mark).transpose()?,
        limit: q.limit.unwrap_or(100).clamp(1, 1_000),
    };
    Ok(Json(state.storage.rejections(&visibility, &filter).await?))
}

async fn revoke_device(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    require_admin(&authed)?;
    let id = Uuid::parse_str(&id).map_err(|_| {
        ApiError::bad_request("invalid", format!("`{id}` is not a device id (a UUID)"))
    })?;
    state.storage.revoke_device(id, AppState::now_ms()).await?;
    Ok(StatusCode::NO_CONTENT)
}
