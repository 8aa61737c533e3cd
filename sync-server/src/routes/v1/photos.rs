//! `/v1/photos/*`: a device uploads the photos its records reference, resuming where an
//! upload stopped, and fetches those of records it may read.
//!
//! - `GET /v1/photos/{hex}/upload`: `{"stored": bool, "offset": n}`, the bytes held so far.
//! - `POST /v1/photos/upload-states` with `{"photos": [hex, ...]}`: the same for many photos
//!   in one request (a sync's waiting photos), each with whether the caller may upload it.
//! - `PATCH /v1/photos/{hex}/upload` with `Upload-Offset` and `Upload-Length` headers and the
//!   bytes from the offset on: the same answer; once whole and matching its name, the photo is
//!   stored.
//! - `GET /v1/photos/{hex}`: the photo's bytes.
//!
//! Uploading needs a record of the uploader's write scopes that references the photo (so it
//! comes after the record); fetching needs one of their read scopes. A photo outside them is
//! answered exactly like one that does not exist (`photo_not_referenced`, `photo_not_found`).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{StreamExt as _, TryStreamExt as _};
use lapak_core::photo::{self, MAX_PHOTO_BYTES};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::photos::uploads::{Received, UploadError, drain};
use crate::routes::{Authed, JsonBody, SMALL_BODY};

/// The photo routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/photos/{hex}", get(download))
        .route("/photos/{hex}/upload", get(upload_state).patch(upload))
        .route("/photos/upload-states", post(upload_states))
}

/// The most photos one `upload-states` request may ask about.
pub const MAX_STATES_PER_REQUEST: usize = 500;

/// Photos of one `upload-states` request looked up at once (an object store answers each
/// over the network).
const STATES_AT_ONCE: usize = 16;

/// Where an upload stands.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct UploadState {
    /// The whole photo is stored.
    pub stored: bool,
    /// Bytes held of an unfinished upload (the length once stored).
    pub offset: u64,
}

pub(crate) fn digest(hex: &str) -> Result<&str, ApiError> {
    photo::digest_of(hex).map_err(|e| ApiError::bad_request("invalid_photo_ref", e.to_string()))
}

fn internal(e: &dyn std::fmt::Display) -> ApiError {
    ApiError::internal(e)
}

/// Whether `principal` may upload (`write`) or fetch the photo: a record referencing it lies
/// in one of their scopes.
async fn may(
    state: &AppState,
    principal: &Principal,
    hex: &str,
    write: bool,
) -> Result<bool, ApiError> {
    let reference = format!("{}{hex}", photo::REF_PREFIX);
    let referrers = state.storage.photo_referrers(&reference).await?;
    Ok(referrers.iter().any(|r| {
        r.scopes.iter().any(|s| {
            if write {
                principal.can_write(s)
            } else {
                principal.can_read(s)
            }
        })
    }))
}

fn not_referenced() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "photo_not_referenced",
        "no record of yours references this photo yet: sync the record that holds it first, then upload the photo",
    )
}

async fn upload_state(
    State(state): State<AppState>,
    authed: Authed,
    Path(hex): Path<String>,
) -> Result<Json<UploadState>, ApiError> {
    let hex = digest(&hex)?;
    state_of(&state, &authed.principal, hex)
        .await?
        .map(Json)
        .ok_or_else(not_referenced)
}

/// Where `hex`'s upload stands, `None` when `principal` may not upload it.
async fn state_of(
    state: &AppState,
    principal: &Principal,
    hex: &str,
) -> Result<Option<UploadState>, ApiError> {
    if !may(state, principal, hex, true).await? {
        return Ok(None);
    }
    if state.photos.exists(hex).await.map_err(|e| internal(&e))? {
        return Ok(Some(UploadState {
            stored: true,
            offset: 0,
        }));
    }
    let offset = state.uploads.offset(hex).await.map_err(|e| internal(&e))?;
    Ok(Some(UploadState {
        stored: false,
        offset,
    }))
}

/// The photos an `upload-states` request asks about.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatesRequest {
    photos: Vec<String>,
}

/// One photo's answer in `upload-states`.
#[derive(Debug, Serialize)]
struct PhotoState {
    /// The photo, as asked.
    photo: String,
    /// A record of the caller's write scopes references it: they may upload it. When not,
    /// `stored` and `offset` say nothing (a photo outside the caller's scopes is answered
    /// exactly like one that does not exist).
    referenced: bool,
    stored: bool,
    offset: u64,
}

/// `POST /v1/photos/upload-states`: [`upload_state`] for many photos in one request, so a
/// sync with a hundred photos waiting asks once, not a hundred times.
async fn upload_states(
    State(state): State<AppState>,
    authed: Authed,
    JsonBody(req): JsonBody<StatesRequest, SMALL_BODY>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if req.photos.len() > MAX_STATES_PER_REQUEST {
        return Err(ApiError::bad_request(
            "too_many_photos",
            format!(
                "{} photos asked about at once; ask about at most {MAX_STATES_PER_REQUEST} per request",
                req.photos.len()
            ),
        ));
    }
    // Every name checked before any is looked up: a bad one refuses the request whole.
    let hexes = req
        .photos
        .iter()
        .map(|asked| digest(asked).map(str::to_owned))
        .collect::<Result<Vec<_>, _>>()?;
    let (state, principal) = (&state, &authed.principal);
    let answers: Vec<PhotoState> = futures_util::stream::iter(req.photos.into_iter().zip(hexes))
        .map(|(asked, hex)| async move {
            let known = state_of(state, principal, &hex).await?;
            Ok::<_, ApiError>(PhotoState {
                referenced: known.is_some(),
                stored: known.is_some_and(|k| k.stored),
                offset: known.map_or(0, |k| k.offset),
                photo: asked,
            })
        })
        .buffered(STATES_AT_ONCE)
        .try_collect()
        .await?;
    Ok(Json(serde_json::json!({ "photos": answers })))
}

fn header_u64(headers: &HeaderMap, name: &str) -> Result<u64, ApiError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_upload",
                format!("the {name} header (a number of bytes) is missing or not a number"),
            )
        })
}

async fn upload(
    State(state): State<AppState>,
    authed: Authed,
    Path(hex): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<UploadState>, ApiError> {
    let hex = digest(&hex)?.to_owned();
    let offset = header_u64(&headers, "upload-offset")?;
    let length = header_u64(&headers, "upload-length")?;
    if length > MAX_PHOTO_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "photo_too_large",
            photo::PhotoError::TooLarge(length).to_string(),
        ));
    }
    // Answered before the body is read: read (and drop) it first, at most the photo's length,
    // so the client hears the answer instead of a connection cut while it was still sending.
    match before_body(&state, &authed.principal, &hex, offset, length).await {
        Ok(None) => {}
        Ok(Some(stored)) => {
            drain(body, length).await;
            return Ok(Json(stored));
        }
        Err(e) => {
            drain(body, length).await;
            return Err(e);
        }
    }
    let received = state
        .uploads
        .append(&hex, offset, length, body)
        .await
        .map_err(|e| upload_error(&e))?;
    let bytes = match received {
        Received::Partial(offset) => {
            return Ok(Json(UploadState {
                stored: false,
                offset,
            }));
        }
        Received::Whole(bytes) => bytes,
    };
    store(&state, &hex, bytes).await?;
    tracing::info!(photo = %hex, bytes = length, user = %authed.principal.username, "photo stored");
    Ok(Json(UploadState {
        stored: true,
        offset: length,
    }))
}

/// The checks an upload passes before its body is read: `Some` when the photo is stored
/// already (nothing to take).
async fn before_body(
    state: &AppState,
    principal: &Principal,
    hex: &str,
    offset: u64,
    length: u64,
) -> Result<Option<UploadState>, ApiError> {
    if length == 0 || offset > length {
        return Err(ApiError::bad_request(
            "invalid_upload",
            format!("an upload of {length} bytes cannot continue at byte {offset}"),
        ));
    }
    if !may(state, principal, hex, true).await? {
        return Err(not_referenced());
    }
    if state.photos.exists(hex).await.map_err(|e| internal(&e))? {
        return Ok(Some(UploadState {
            stored: true,
            offset: length,
        }));
    }
    Ok(None)
}

/// Checks the whole photo against its name and type, then stores it.
async fn store(state: &AppState, hex: &str, bytes: axum::body::Bytes) -> Result<(), ApiError> {
    if photo::hex_digest(&bytes) != hex || photo::check(&bytes).is_err() {
        state.uploads.discard(hex).await.map_err(|e| internal(&e))?;
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "photo_corrupt",
            "the bytes received are not the photo named (or not a JPEG, PNG or WebP image): upload it again from the start",
        ));
    }
    state
        .photos
        .put(hex, bytes)
        .await
        .map_err(|e| internal(&e))?;
    state.uploads.discard(hex).await.map_err(|e| internal(&e))?;
    state.metrics.photos_stored.inc();
    Ok(())
}

fn upload_error(e: &UploadError) -> ApiError {
    match e {
        UploadError::OffsetMismatch(_) | UploadError::Busy => {
            ApiError::new(StatusCode::CONFLICT, "offset_mismatch", e.to_string())
        }
        UploadError::TooLong => ApiError::bad_request(
            "invalid_upload",
            "more bytes were sent than Upload-Length announced: upload the photo again from the start",
        ),
        UploadError::Interrupted(_) => ApiError::bad_request("upload_interrupted", e.to_string()),
        UploadError::Io(io) => internal(io),
    }
}

/// A photo's bytes as a response: its sniffed type, cached for good (its bytes never change).
pub(crate) fn photo_response(bytes: axum::body::Bytes) -> Response {
    let kind = photo::sniff(&bytes).unwrap_or("application/octet-stream");
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=31536000, immutable"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub(crate) fn photo_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "photo_not_found",
        "there is no such photo in your scopes: sync, and check the record that holds it",
    )
}

async fn download(
    State(state): State<AppState>,
    authed: Authed,
    Path(hex): Path<String>,
) -> Result<Response, ApiError> {
    let hex = digest(&hex)?;
    if !may(&state, &authed.principal, hex, false).await? {
        return Err(photo_not_found());
    }
    let bytes = state
        .photos
        .get(hex)
        .await
        .map_err(|e| internal(&e))?
        .ok_or_else(photo_not_found)?;
    Ok(photo_response(bytes))
}
