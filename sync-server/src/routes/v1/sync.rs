//! `/v1/sync/*`: push (a device's changes, judged and sequenced), pull (what is past the
//! device's cursors, only in scopes it may read), bootstrap (one scope from its start) and the
//! live WebSocket.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use lapak_core::protocol::{Cursor, Message, Outcome, PullRequest};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::ApiError;
use crate::live::{self, Format, MAX_LIVE_MESSAGE_BYTES, MAX_SOCKETS_PER_DEVICE};
use crate::routes::{
    Authed, Encoding, LiveAuthed, ProtocolBody, message_response, response_encoding, trace_id,
};
use crate::storage::WriteContext;

/// `/v1/sync/push`, `/v1/sync/pull`, `/v1/sync/bootstrap`, `/v1/sync/live`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sync/push", post(push))
        .route("/sync/pull", post(pull))
        .route("/sync/bootstrap", get(bootstrap))
        .route("/sync/live", get(live_socket))
}

async fn push(
    State(state): State<AppState>,
    headers: HeaderMap,
    authed: Authed,
    body: ProtocolBody,
) -> Result<Response, ApiError> {
    let Message::PushRequest(request) = body.message else {
        return Err(ApiError::bad_request(
            "unexpected_message",
            "this endpoint takes a PushRequest",
        ));
    };
    if request.device_id != authed.claims.dev {
        return Err(ApiError::forbidden(
            "device_mismatch",
            format!(
                "the push names device {}, but the token was issued to device {}: push with the token of the device that made the changes",
                request.device_id, authed.claims.dev
            ),
        ));
    }
    let start = Instant::now();
    let ctx = WriteContext {
        now_ms: AppState::now_ms(),
        trace_id: trace_id(&headers),
    };
    let plan = state
        .storage
        .push(&ctx, &authed.principal, &request)
        .await?;
    state.hub.publish(&plan);
    state.metrics.head.set(plan.head);
    state
        .metrics
        .push_seconds
        .observe(start.elapsed().as_secs_f64());
    let (accepted, rejected) = plan.counts();
    let deferred = plan
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Deferred { .. }))
        .count() as u64;
    state.metrics.count_changes("accepted", accepted);
    state.metrics.count_changes("rejected", rejected);
    state.metrics.count_changes("deferred", deferred);
    tracing::debug!(device = %request.device_id, changes = request.changes.len(), accepted, rejected, deferred, "push");
    Ok(message_response(
        &Message::PushResponse(plan.response()),
        body.answer,
    ))
}

fn check_cursors(authed: &Authed, cursors: &[Cursor]) -> Result<(), ApiError> {
    let mut seen = std::collections::HashSet::new();
    for c in cursors {
        if c.scope.is_empty() || c.scope.len() > 200 || c.scope.chars().any(char::is_control) {
            return Err(ApiError::bad_request(
                "invalid_scope",
                "a scope name is 1 to 200 characters without control characters",
            ));
        }
        if !seen.insert(&c.scope) {
            return Err(ApiError::bad_request(
                "duplicate_scope",
                format!(
                    "scope `{}` appears twice in the cursors: send one cursor per scope",
                    c.scope
                ),
            ));
        }
    }
    let denied: Vec<&str> = cursors
        .iter()
        .map(|c| c.scope.as_str())
        .filter(|s| !authed.principal.can_read(s))
        .collect();
    if denied.is_empty() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "forbidden_scope",
            format!(
                "user `{}` may not read {}: follow only the scopes of your grants (GET /v1/me)",
                authed.principal.username,
                denied.join(", ")
            ),
        ))
    }
}

async fn serve_pull(
    state: &AppState,
    authed: &Authed,
    request: &PullRequest,
    answer: Encoding,
) -> Result<Response, ApiError> {
    check_cursors(authed, &request.cursors)?;
    let start = Instant::now();
    let limit = request.limit.min(state.config.max_pull_entries);
    let response = state.storage.pull(&request.cursors, limit).await?;
    let entries: usize = response.batches.iter().map(|b| b.entries.len()).sum();
    state.metrics.pulled_entries.inc_by(entries as u64);
    state
        .metrics
        .pull_seconds
        .observe(start.elapsed().as_secs_f64());
    let behind = response
        .batches
        .iter()
        .filter(|b| b.has_more)
        .map(|b| b.upto)
        .min();
    let lag = match behind {
        Some(at) => state
            .storage
            .head()
            .await
            .map_or(0, |h| h.saturating_sub(at)),
        None => 0,
    };
    state.metrics.observe_lag(lag);
    let served: Vec<Cursor> = response
        .batches
        .iter()
        .map(|b| Cursor {
            scope: b.scope.clone(),
            position: b.upto,
        })
        .collect();
    let device = authed.principal.device_id;
    if let Err(e) = state
        .storage
        .record_pulled(device, &served, AppState::now_ms())
        .await
    {
        // The pull itself succeeded: the admin web's "behind" is only a little staler.
        tracing::warn!(%device, error = %e, "could not record the positions a pull served");
    }
    Ok(message_response(&Message::PullResponse(response), answer))
}

async fn pull(
    State(state): State<AppState>,
    authed: Authed,
    body: ProtocolBody,
) -> Result<Response, ApiError> {
    let Message::PullRequest(request) = body.message else {
        return Err(ApiError::bad_request(
            "unexpected_message",
            "this endpoint takes a PullRequest",
        ));
    };
    serve_pull(&state, &authed, &request, body.answer).await
}

/// `GET /v1/sync/bootstrap?scope=org&after=0&limit=100000`.
#[derive(Debug, Deserialize)]
pub struct BootstrapQuery {
    /// The scope.
    pub scope: String,
    /// Continue after this position (0: from the start).
    #[serde(default)]
    pub after: u64,
    /// Most entries wanted.
    pub limit: Option<u32>,
}

/// One scope from its start. The log keeps only the newest entry of each reference row, so
/// this is a snapshot of the scope's reference data (plus its documents and ledger entries),
/// not a replay of every version; the answer is an ordinary `PullResponse`.
async fn bootstrap(
    State(state): State<AppState>,
    headers: HeaderMap,
    authed: Authed,
    Query(q): Query<BootstrapQuery>,
) -> Result<Response, ApiError> {
    let request = PullRequest {
        cursors: vec![Cursor {
            scope: q.scope,
            position: q.after,
        }],
        limit: q.limit.unwrap_or(state.config.max_pull_entries),
    };
    serve_pull(
        &state,
        &authed,
        &request,
        response_encoding(&headers, Encoding::Binary),
    )
    .await
}

/// `GET /v1/sync/live?format=binary|json`.
#[derive(Debug, Deserialize)]
pub struct LiveQuery {
    /// Frame encoding (default binary).
    pub format: Option<String>,
}

async fn live_socket(
    State(state): State<AppState>,
    LiveAuthed(authed): LiveAuthed,
    Query(q): Query<LiveQuery>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let format = match q.format.as_deref() {
        None | Some("binary") => Format::Binary,
        Some("json") => Format::Json,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid",
                format!("unknown live format `{other}`: use binary or json"),
            ));
        }
    };
    let Some(slot) = state.sockets.claim(authed.claims.dev) else {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_sockets",
            format!(
                "this device already holds {MAX_SOCKETS_PER_DEVICE} live sockets: close one, or reconnect once the server has closed a dead one"
            ),
        );
        e.retry_after = Some(state.config.live_ping_seconds.saturating_mul(2));
        return Err(e);
    };
    let expires = u64::try_from(authed.claims.exp - AppState::now_ms() / 1000).unwrap_or(0);
    let _ = state
        .storage
        .touch_device(authed.claims.dev, AppState::now_ms())
        .await;
    // Small buffers: an idle socket then costs a few kilobytes (see docs/benchmarks.md). A
    // device's frames and messages are bounded by the protocol's live limit, so a declared
    // 16 MiB frame is refused from its header instead of buffered.
    Ok(ws
        .read_buffer_size(4096)
        .write_buffer_size(4096)
        .max_message_size(MAX_LIVE_MESSAGE_BYTES)
        .max_frame_size(MAX_LIVE_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            // Counted until the socket ends.
            let _slot = slot;
            live::run_socket(
                socket,
                state,
                authed.principal,
                authed.claims.session,
                format,
                Duration::from_secs(expires),
            )
            .await;
        }))
}
