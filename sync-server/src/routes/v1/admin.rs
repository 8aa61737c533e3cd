//! `/v1/admin/*`, for the back office: who may use it ([`require_admin`],
//! [`require_back_office`]), reference data (upsert and delete rows), the outbox, the
//! exceptions the business rules raise (list, resolve) and the tallies they keep (stock per
//! branch and item), records' photos, and the day at a glance (`/admin/today`). Users live in
//! [`super::users`], devices and their rejections in [`super::fleet`]. Administrators may do all of
//! it; supervisors may read the day, the devices, the rejections and the exceptions of their
//! region, and resolve those exceptions.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::Role;
use crate::error::ApiError;
use crate::routes::{Authed, JsonBody, WebAuthed, trace_id};
use crate::storage::back_office::Today;
use crate::storage::{ExceptionFilter, ExceptionRecord, Visibility, WriteContext};

/// The admin routes.
pub fn router() -> Router<AppState> {
    Router::new()
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
        .merge(super::users::router())
        .merge(super::fleet::router())
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
        events.into_iter().map(|(seq, e)| e.envelope(seq)).collect(),
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
