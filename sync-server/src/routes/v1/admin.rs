//! `/v1/admin/*`, for the back office: users and their grants, devices (list, revoke), the
//! changes rejected from them, reference data (upsert and delete rows), the outbox, the
//! exceptions the business rules raise (list, resolve) and the tallies they keep (stock per
//! branch and item), and the day at a glance (`/admin/today`). Administrators may do all of
//! it; supervisors may read the day, the devices, the rejections and the exceptions of their
//! region, and resolve those exceptions.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::{self, Grant, Role};
use crate::error::ApiError;
use crate::routes::{Authed, JsonBody, WebAuthed, trace_id};
use crate::storage::back_office::Today;
use crate::storage::{
    DeviceFilter, DeviceRow, ExceptionFilter, ExceptionRecord, Page, Rejection, RejectionFilter,
    UserInfo, Visibility, WriteContext,
};

/// The admin routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list_users).post(create_user))
        .route("/admin/users/{username}/grants", put(set_grants))
        .route("/admin/users/{username}/disabled", put(set_disabled))
        .route("/admin/users/{username}/password", put(reset_password))
        .route("/admin/devices", get(list_devices))
        .route("/admin/devices/{id}/revoke", post(revoke_device))
        .route("/admin/reference/{collection}", put(put_reference))
        .route("/admin/outbox", get(outbox))
        .route("/admin/exceptions", get(list_exceptions))
        .route("/admin/exceptions/{id}/resolve", post(resolve_exception))
        .route("/admin/tallies", get(list_tallies))
        .route(
            "/admin/records/{collection}/{id}/photos",
            get(record_photos),
        )
        .route("/admin/photos/{hex}", get(admin_photo))
        .route("/admin/photos/gc", post(collect_photos))
        .route("/admin/today", get(today))
        .route("/admin/rejections", get(list_rejections))
}

/// Refuses callers who are neither administrators nor supervisors; returns what they may see.
pub(crate) fn require_back_office(authed: &Authed) -> Result<Visibility, ApiError> {
    match authed.principal.role {
        Role::Admin | Role::Supervisor => Ok(Visibility::of(&authed.principal)),
        role => Err(ApiError::forbidden(
            "forbidden",
            format!(
                "user `{}` is a {}; only administrators and supervisors may use the back office",
                authed.principal.username,
                role.as_str()
            ),
        )),
    }
}

/// When the business's day that holds `now_ms` began, ms since the epoch.
#[must_use]
pub fn day_start(now_ms: i64, utc_offset_seconds: i32) -> i64 {
    let offset_ms = i64::from(utc_offset_seconds) * 1000;
    (now_ms + offset_ms).div_euclid(86_400_000) * 86_400_000 - offset_ms
}

async fn today(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
) -> Result<Json<Today>, ApiError> {
    let visibility = require_back_office(&authed)?;
    let now = AppState::now_ms();
    let start = day_start(now, state.config.utc_offset_seconds);
    Ok(Json(state.storage.today(&visibility, start, now).await?))
}

pub(crate) fn require_admin(authed: &Authed) -> Result<(), ApiError> {
    if authed.principal.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "forbidden",
            format!(
                "user `{}` is a {}; only administrators may use /v1/admin",
                authed.principal.username,
                authed.principal.role.as_str()
            ),
        ))
    }
}

/// A new user.
#[derive(Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login name.
    pub username: String,
    /// Password (at least 8 characters).
    pub password: String,
    /// Role.
    #[ts(type = "Role")]
    pub role: String,
    /// Grants.
    #[serde(default)]
    pub grants: Vec<Grant>,
}

fn check_grants(grants: &[Grant]) -> Result<(), ApiError> {
    for g in grants {
        if g.scope.is_empty() || g.scope.len() > 200 || g.scope.chars().any(char::is_control) {
            return Err(ApiError::bad_request(
                "invalid_scope",
                "a scope name is 1 to 200 characters without control characters",
            ));
        }
    }
    Ok(())
}

async fn create_user(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    JsonBody(req): JsonBody<NewUser>,
) -> Result<(StatusCode, Json<UserInfo>), ApiError> {
    require_admin(&authed)?;
    let role = Role::parse(&req.role).map_err(|m| ApiError::bad_request("invalid_role", m))?;
    if req.username.is_empty()
        || req.username.len() > 100
        || req
            .username
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ApiError::bad_request(
            "invalid_username",
            "a username is 1 to 100 characters without spaces or control characters",
        ));
    }
    check_password_strength(&req.password)?;
    check_grants(&req.grants)?;
    let password = req.password;
    let hash = super::auth::hashing(&state, move || auth::hash_password(&password))
        .await?
        .map_err(|e| ApiError::internal(&e))?;
    let user = state
        .storage
        .create_user(&req.username, &hash, role, &req.grants, AppState::now_ms())
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

async fn list_users(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
) -> Result<Json<Vec<UserInfo>>, ApiError> {
    require_admin(&authed)?;
    Ok(Json(state.storage.list_users().await?))
}

async fn set_grants(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Path(username): Path<String>,
    JsonBody(grants): JsonBody<Vec<Grant>>,
) -> Result<Json<UserInfo>, ApiError> {
    require_admin(&authed)?;
    check_grants(&grants)?;
    Ok(Json(state.storage.set_grants(&username, &grants).await?))
}

/// `{"disabled": true}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disabled {
    /// Disable (`true`) or enable again (`false`).
    pub disabled: bool,
}

async fn set_disabled(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Path(username): Path<String>,
    JsonBody(req): JsonBody<Disabled>,
) -> Result<Json<UserInfo>, ApiError> {
    require_admin(&authed)?;
    if req.disabled && username == authed.principal.username {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "you cannot disable yourself: ask another administrator",
        ));
    }
    Ok(Json(
        state
            .storage
            .set_disabled(&username, req.disabled, AppState::now_ms())
            .await?,
    ))
}

/// `{"password": "..."}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// The new password (at least 8 characters).
    pub password: String,
}

async fn reset_password(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Path(username): Path<String>,
    JsonBody(req): JsonBody<NewPassword>,
) -> Result<StatusCode, ApiError> {
    require_admin(&authed)?;
    check_password_strength(&req.password)?;
    let user = state.storage.find_user(&username).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no user named `{username}`"),
        )
    })?;
    let password = req.password;
    let hash = super::auth::hashing(&state, move || auth::hash_password(&password))
        .await?
        .map_err(|e| ApiError::internal(&e))?;
    state.storage.set_password(&user.id, &hash).await?;
    // Whoever had the old password is signed out everywhere.
    state
        .storage
        .revoke_user_sessions(&user.id, None, AppState::now_ms())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn check_password_strength(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < 8 {
        return Err(ApiError::bad_request(
            "weak_password",
            "a password must be at least 8 characters",
        ));
    }
    Ok(())
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

/// Rows to write: `{"rows": [{"id": "SKU-1", "fields": {...}}, {"id": "SKU-2", "deleted": true}]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceRows {
    /// The rows, applied in order.
    pub rows: Vec<ReferenceRow>,
}

/// One row.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceRow {
    /// Row id.
    pub id: String,
    /// All the row's fields (absent for a deletion).
    #[serde(default)]
    pub fields: Option<serde_json::Map<String, serde_json::Value>>,
    /// Delete the row.
    #[serde(default)]
    pub deleted: bool,
}

async fn put_reference(
    State(state): State<AppState>,
    headers: HeaderMap,
    WebAuthed(authed): WebAuthed,
    Path(collection): Path<String>,
    JsonBody(req): JsonBody<ReferenceRows>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_admin(&authed)?;
    let c = state
        .storage
        .schema()
        .collection(&collection)
        .map_err(|_| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_collection",
                format!("no collection `{collection}`"),
            )
        })?
        .clone();
    let mut rows = Vec::with_capacity(req.rows.len());
    for r in &req.rows {
        let fields = match (&r.fields, r.deleted) {
            (Some(_), true) => {
                return Err(ApiError::bad_request(
                    "invalid",
                    format!("row `{}` has both fields and deleted: true", r.id),
                ));
            }
            (Some(f), false) => Some(c.record_from_json(f).map_err(|m| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    format!("row `{}`: {m}", r.id),
                )
            })?),
            (None, true) => None,
            (None, false) => {
                return Err(ApiError::bad_request(
                    "invalid",
                    format!("row `{}` needs fields, or deleted: true", r.id),
                ));
            }
        };
        rows.push((r.id.clone(), fields));
    }
    let ctx = WriteContext {
        now_ms: AppState::now_ms(),
        trace_id: trace_id(&headers),
    };
    let plan = state
        .storage
        .put_reference(&ctx, &collection, &rows)
        .await?;
    state.hub.publish(&plan);
    state.metrics.head.set(plan.head);
    // The rows of `collection` (not the derived rows that followed them, a customer's dues).
    let written = plan
        .references
        .iter()
        .filter(|((c, _), _)| *c == collection)
        .count();
    Ok(Json(
        serde_json::json!({ "written": written, "head": plan.head }),
    ))
}

/// `?after=<seq>&limit=<n>`.
#[derive(Debug, Deserialize)]
pub struct OutboxQuery {
    /// Events after this sequence number.
    #[serde(default)]
    pub after: i64,
    /// At most this many (default 100, at most 10,000).
    pub limit: Option<u32>,
}

async fn outbox(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Query(q): Query<OutboxQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_admin(&authed)?;
    let events = state
        .storage
        .outbox(q.after, q.limit.unwrap_or(100).min(10_000))
        .await?;
    Ok(Json(serde_json::Value::Array(
        events
            .into_iter()
            .map(|(seq, e)| {
                serde_json::json!({
                    "seq": seq,
                    "event_id": e.event_id,
                    "event_type": e.event_type,
                    "version": e.version,
                    "timestamp": e.timestamp,
                    "trace_id": e.trace_id,
                    "source": e.source,
                    "payload": e.payload,
                })
            })
            .collect(),
    )))
}

/// `?status=open|resolved|all&kind=&collection=&before=<ms>&limit=<n>`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExceptionQuery {
    /// `open` (the default), `resolved` or `all`.
    pub status: Option<String>,
    /// Only this kind (`price_mismatch`, ...).
    pub kind: Option<String>,
    /// Only exceptions about records of this collection.
    pub collection: Option<String>,
    /// Only those raised before this time (ms since the epoch), for the next page.
    pub before: Option<i64>,
    /// At most this many (default 100, at most 1,000).
    pub limit: Option<u32>,
}

async fn list_exceptions(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Query(q): Query<ExceptionQuery>,
) -> Result<Json<Vec<ExceptionRecord>>, ApiError> {
    let visibility = require_back_office(&authed)?;
    let open = match q.status.as_deref().unwrap_or("open") {
        "open" => Some(true),
        "resolved" => Some(false),
        "all" => None,
        other => {
            return Err(ApiError::bad_request(
                "invalid",
                format!("status `{other}` is not one of open, resolved, all"),
            ));
        }
    };
    let filter = ExceptionFilter {
        open,
        kind: q.kind,
        collection: q.collection,
        before: q.before,
        scopes: visibility.scopes(),
        limit: q.limit.unwrap_or(100).min(1_000),
    };
    Ok(Json(state.storage.exceptions(&filter).await?))
}

/// How an exception was resolved.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resolution {
    /// What was done (a credit note issued, the shelf counted): at least a few words.
    pub note: String,
}

async fn resolve_exception(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Path(id): Path<String>,
    JsonBody(r): JsonBody<Resolution>,
) -> Result<Json<ExceptionRecord>, ApiError> {
    let visible = require_back_office(&authed)?.scopes();
    let note = r.note.trim();
    if note.is_empty() || note.len() > 2_000 {
        return Err(ApiError::bad_request(
            "invalid",
            "say in the note (1 to 2,000 characters) what was done about the exception",
        ));
    }
    Ok(Json(
        state
            .storage
            .resolve_exception(
                &id,
                visible.as_deref(),
                &authed.principal.username,
                note,
                AppState::now_ms(),
            )
            .await?,
    ))
}

/// `?prefix=stock:JKT-01/&limit=<n>`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TallyQuery {
    /// Keys starting with this (`stock:`, `stock:<branch>/`, `due:`).
    pub prefix: String,
    /// At most this many (default 1,000, at most 10,000).
    pub limit: Option<u32>,
}

async fn list_tallies(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Query(q): Query<TallyQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    require_admin(&authed)?;
    let rows = state
        .storage
        .tallies(&q.prefix, q.limit.unwrap_or(1_000).min(10_000))
        .await?;
    Ok(Json(serde_json::Value::Array(
        rows.into_iter()
            .map(|(k, t)| serde_json::json!({ "key": k, "value": t.value, "note": t.note }))
            .collect(),
    )))
}

/// A record's photo, with whether its bytes have arrived.
#[derive(serde::Serialize, ts_rs::TS)]
pub struct ListedPhoto {
    /// The list field it is in (`photos`).
    pub field: String,
    /// Its reference, `sha256:<hex>`.
    #[serde(rename = "ref")]
    #[ts(rename = "ref")]
    pub reference: String,
    /// When it was taken, ms since the epoch.
    #[ts(type = "number | null")]
    pub taken_at: Option<i64>,
    /// Its caption.
    pub caption: Option<String>,
    /// The photo's bytes are stored (uploaded).
    pub stored: bool,
    /// Where to fetch it.
    pub url: String,
}

/// A record's photos.
#[derive(serde::Serialize, ts_rs::TS)]
pub struct RecordPhotos {
    /// The record's collection.
    pub collection: String,
    /// The record.
    pub id: String,
    /// Its photos, in list order.
    pub photos: Vec<ListedPhoto>,
}

async fn record_photos(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Path((collection, id)): Path<(String, String)>,
) -> Result<Json<RecordPhotos>, ApiError> {
    require_admin(&authed)?;
    let photos = state
        .storage
        .record_photos(&collection, &id)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!(
                    "there is no record `{id}` in a collection `{collection}` that keeps photos"
                ),
            )
        })?;
    let mut listed = Vec::with_capacity(photos.len());
    for photo in photos {
        let hex = lapak_core::photo::digest_of(&photo.reference)
            .unwrap_or_default()
            .to_owned();
        let stored = !hex.is_empty()
            && state
                .photos
                .exists(&hex)
                .await
                .map_err(|e| ApiError::internal(&e))?;
        listed.push(ListedPhoto {
            url: format!("/v1/admin/photos/{hex}"),
            field: photo.field,
            reference: photo.reference,
            taken_at: photo.taken_at,
            caption: photo.caption,
            stored,
        });
    }
    Ok(Json(RecordPhotos {
        collection,
        id,
        photos: listed,
    }))
}

async fn admin_photo(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Path(hex): Path<String>,
) -> Result<axum::response::Response, ApiError> {
    require_admin(&authed)?;
    let hex = super::photos::digest(&hex)?;
    let bytes = state
        .photos
        .get(hex)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(super::photos::photo_not_found)?;
    Ok(super::photos::photo_response(bytes))
}

/// `?dry_run=true` reports without deleting.
#[derive(Deserialize)]
struct GcQuery {
    #[serde(default)]
    dry_run: bool,
}

async fn collect_photos(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Query(q): Query<GcQuery>,
) -> Result<Json<crate::photos::gc::GcReport>, ApiError> {
    require_admin(&authed)?;
    let report = crate::photos::gc::collect(
        state.storage.as_ref(),
        state.photos.as_ref(),
        &state.uploads,
        AppState::now_ms(),
        crate::photos::gc::GRACE_MS,
        q.dry_run,
    )
    .await
    .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(report))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_day_begins_at_the_business_midnight() {
        // 2026-11-30 20:00 UTC is 1 December 03:00 in Jakarta: its day began at 17:00 UTC.
        let now = 1_796_068_800_000;
        assert_eq!(super::day_start(now, 7 * 3600), now - 3 * 3_600_000);
        assert_eq!(super::day_start(now, 0), now - 20 * 3_600_000);
    }
}
