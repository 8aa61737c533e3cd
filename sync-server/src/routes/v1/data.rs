//! `/v1/admin/data/*` and `/v1/admin/imports/*`, administrators' master data: the reference
//! collections with their fields and sizes, a page of one collection's rows (searched), and
//! bulk import from CSV, checked row by row before anything is written, then written by a
//! background job whose progress the page polls. Single rows are written with
//! `PUT /v1/admin/reference/{collection}` ([`super::admin`]).

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lapak_core::Collection;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::AppState;
use crate::error::ApiError;
use crate::import::{self, CHUNK_ROWS, ImportProgress};
use crate::routes::{WebAuthed, read_body, trace_id};
use crate::storage::master_data::{DataCollection, DataRow, is_master_data};
use crate::storage::{Page, WriteContext};

/// The master-data routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/data", get(collections))
        .route("/admin/data/{collection}", get(rows))
        .route("/admin/data/{collection}/import", post(import_csv))
        .route("/admin/imports/{id}", get(progress))
}

/// The master-data collection named `name`.
fn master_collection(state: &AppState, name: &str) -> Result<Collection, ApiError> {
    state
        .storage
        .schema()
        .collection(name)
        .ok()
        .filter(|c| is_master_data(c))
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_collection",
                format!("no master-data collection `{name}`: GET /v1/admin/data lists them"),
            )
        })
}

async fn collections(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
) -> Result<Json<Vec<DataCollection>>, ApiError> {
    super::admin::require_admin(&authed)?;
    Ok(Json(state.storage.data_collections().await?))
}

/// `?search=&offset=&limit=`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowQuery {
    /// Only rows with this in their id or a text field, any case.
    pub search: Option<String>,
    /// Skip this many.
    #[serde(default)]
    pub offset: u32,
    /// At most this many (default 50, at most 500).
    pub limit: Option<u32>,
}

async fn rows(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Path(collection): Path<String>,
    Query(q): Query<RowQuery>,
) -> Result<Json<Page<DataRow>>, ApiError> {
    super::admin::require_admin(&authed)?;
    let c = master_collection(&state, &collection)?;
    let search: Option<String> = q.search.map(|s| s.chars().take(100).collect());
    Ok(Json(
        state
            .storage
            .data_page(
                &c,
                search.as_deref(),
                q.offset,
                q.limit.unwrap_or(50).clamp(1, 500),
            )
            .await?,
    ))
}

/// `?dry_run=true`: check only.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Read and check the file, write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

async fn import_csv(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Path(collection): Path<String>,
    Query(q): Query<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    super::admin::require_admin(&authed)?;
    let c = master_collection(&state, &collection)?;
    if c.is_derived() {
        return Err(ApiError::forbidden(
            "derived_collection",
            format!("`{collection}` is derived by the server from sales and cannot be imported"),
        ));
    }
    let bytes = read_body(&headers, body, import::MAX_BYTES).await?;
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        ApiError::bad_request(
            "malformed",
            "the file is not UTF-8 text: save it as CSV UTF-8 and try again",
        )
    })?;
    let offset = state.config.utc_offset_seconds;
    let checked = tokio::task::spawn_blocking({
        let c = c.clone();
        let text = text.to_owned();
        move || import::check(&c, &text, offset)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| ApiError::bad_request("invalid_file", e.to_string()))?;
    if q.dry_run {
        return Ok(Json(checked.report).into_response());
    }
    if checked.report.error_count > 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_rows",
            format!(
                "{} of {} rows have errors and nothing was written: check the file with ?dry_run=true, fix them and import it again",
                checked.report.error_count, checked.report.rows
            ),
        ));
    }
    if state.imports.running(&collection) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "import_running",
            format!("an import into `{collection}` is still running: wait for it to end"),
        ));
    }
    let job = start_job(&state, &collection, checked.rows, trace_id(&headers));
    let progress = state.imports.progress(job).ok_or_else(|| {
        ApiError::internal(&std::io::Error::other(
            "an import job vanished as it started",
        ))
    })?;
    Ok((StatusCode::ACCEPTED, Json(progress)).into_response())
}

/// Starts writing `rows` into `collection` in chunks, in the background; the job's id.
fn start_job(
    state: &AppState,
    collection: &str,
    rows: Vec<(String, Option<lapak_core::Record>)>,
    trace_id: String,
) -> Uuid {
    let job = state
        .imports
        .start(collection, rows.len() as u64, AppState::now_ms());
    let state = state.clone();
    let collection = collection.to_owned();
    tokio::spawn(async move {
        let mut written = 0u64;
        for chunk in rows.chunks(CHUNK_ROWS) {
            let ctx = WriteContext {
                now_ms: AppState::now_ms(),
                trace_id: trace_id.clone(),
            };
            match state.storage.put_reference(&ctx, &collection, chunk).await {
                Ok(plan) => {
                    state.hub.publish(&plan);
                    state.metrics.head.set(plan.head);
                    written += chunk.len() as u64;
                    state.imports.update(job, written, false, None);
                }
                Err(e) => {
                    tracing::error!(%job, %collection, written, error = %e, "an import stopped");
                    let message = format!(
                        "the server could not write the rows after the first {written}: import the same file again to finish (rows already written are only updated)"
                    );
                    state.imports.update(job, written, true, Some(message));
                    return;
                }
            }
        }
        tracing::info!(%job, %collection, written, "import done");
        state.imports.update(job, written, true, None);
    });
    job
}

async fn progress(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
    Path(id): Path<String>,
) -> Result<Json<ImportProgress>, ApiError> {
    super::admin::require_admin(&authed)?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no import `{id}` on this server (jobs are kept an hour after they end)"),
        )
    };
    let job = Uuid::parse_str(&id).map_err(|_| not_found())?;
    state.imports.progress(job).map(Json).ok_or_else(not_found)
}
