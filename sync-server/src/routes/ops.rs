//! Operations endpoints: liveness, readiness, Prometheus metrics and the JWKS.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::app::AppState;

/// `/healthz`, `/readyz`, `/metrics`, `/.well-known/jwks.json`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/.well-known/jwks.json", get(jwks))
}

async fn readyz(State(state): State<AppState>) -> Response {
    let backend = state.storage.dialect().name();
    match state.storage.ready().await {
        Ok(()) => {
            Json(serde_json::json!({ "status": "ready", "backend": backend })).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({
                    "status": "unavailable",
                    "backend": backend,
                    "error": { "code": "not_ready", "message": "the database is unreachable or its schema is not current; see the server's log" },
                })),
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    if let Ok(head) = state.storage.head().await {
        state.metrics.head.set(head);
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        state.metrics.render(),
    )
        .into_response()
}

async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.keys.jwks())
}
