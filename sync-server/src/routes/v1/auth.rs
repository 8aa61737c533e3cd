//! `/v1/auth/*` and `/v1/me`: logging in (which registers the device), rotating refresh
//! tokens, logging out, changing a password, and who the caller is.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::{self, ACCESS_TOKEN_SECONDS, Grant, REFRESH_TOKEN_SECONDS, Role};
use crate::error::ApiError;
use crate::routes::{Authed, JsonBody, SMALL_BODY, WebAuthed};
use crate::storage::{Refresh, StoredUser};

/// `/v1/auth/login`, `/v1/auth/refresh`, `/v1/auth/logout`, `/v1/auth/password`, `/v1/me`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/auth/password", post(password))
        .route("/me", get(me))
}

/// A login.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
    /// The device's id (its store's device id, a UUID).
    pub device_id: Uuid,
    /// A name for the device, shown to administrators (`POS 2, Jakarta 01`).
    #[serde(default)]
    pub device_name: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

/// Tokens and who they are for.
#[derive(Serialize)]
pub struct TokenResponse {
    /// The access JWT.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: i64,
    /// The refresh token (rotates on every use).
    pub refresh_token: String,
    /// Seconds the refresh token lives.
    pub refresh_expires_in: i64,
    /// The user.
    pub user_id: String,
    /// The user's role.
    pub role: Role,
    /// The device.
    pub device_id: Uuid,
    /// The user's grants: the scopes to follow.
    pub grants: Vec<Grant>,
}

/// A new access token for `device`'s current `session`, which counts as the device being seen
/// at `now_ms`: devices at login and refresh, browsers at sign-in and refresh.
pub(crate) async fn access_token(
    state: &AppState,
    user_id: &str,
    device: Uuid,
    session: &crate::storage::Session,
    generation: i64,
    now_ms: i64,
) -> Result<String, ApiError> {
    let token = state
        .keys
        .issue(
            user_id,
            device,
            session.principal.role,
            generation,
            now_ms / 1000,
        )
        .map_err(|e| ApiError::internal(&e))?;
    state.storage.touch_device(device, now_ms).await?;
    Ok(token)
}

/// Issues an access token, with `refresh_token` (already stored by a rotation) or a new one.
async fn issue(
    state: &AppState,
    user_id: &str,
    device: Uuid,
    generation: i64,
    refresh_token: Option<String>,
) -> Result<TokenResponse, ApiError> {
    let session = state
        .storage
        .session(user_id, device)
        .await?
        .ok_or_else(|| {
            ApiError::unauthorized("invalid_credentials", "the user or device no longer exists")
        })?;
    let now = AppState::now_ms();
    let access_token = access_token(state, user_id, device, &session, generation, now).await?;
    let refresh_token = match refresh_token {
        Some(t) => t,
        None => {
            let t = auth::new_refresh_token();
            state
                .storage
                .store_refresh(
                    &auth::token_hash(&t),
                    device,
                    generation,
                    now,
                    now + REFRESH_TOKEN_SECONDS * 1000,
                )
                .await?;
            t
        }
    };
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_SECONDS,
        refresh_token,
        refresh_expires_in: REFRESH_TOKEN_SECONDS,
        user_id: user_id.to_owned(),
        role: session.principal.role,
        device_id: device,
        grants: session.principal.grants,
    })
}

/// The app a device runs, from the first word of its `User-Agent` (`lapak-pos/0.1.0`), in
/// printable ASCII and at most 60 characters.
fn app_version(headers: &HeaderMap) -> Option<String> {
    let agent = headers.get(axum::http::header::USER_AGENT)?.to_str().ok()?;
    let app: String = agent
        .split_whitespace()
        .next()?
        .chars()
        .filter(char::is_ascii_graphic)
        .take(60)
        .collect();
    (!app.is_empty()).then_some(app)
}

fn too_many(wait: u64, what: &str) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many login attempts {what}: wait {wait} s"),
    );
    e.retry_after = Some(wait);
    e
}

/// How long a password check waits for one of the hashing permits before it is refused.
const HASH_WAIT: Duration = Duration::from_secs(5);

/// Takes one of the server's hashing permits, waiting at most `wait`; when they stay taken,
/// 503 `busy` with `Retry-After`.
async fn hash_permit(
    permits: Arc<Semaphore>,
    wait: Duration,
) -> Result<OwnedSemaphorePermit, ApiError> {
    match tokio::time::timeout(wait, permits.acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(e)) => Err(ApiError::internal(&e)),
        Err(_) => {
            let mut e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the server is checking too many passwords at once: try again in a moment",
            );
            e.retry_after = Some(1);
            Err(e)
        }
    }
}

/// Hashes or verifies passwords off the async threads, at most `AppState::hashing`'s permits at
/// once (each takes ~19 MiB). The permit goes with the work: a caller that disconnects does not
/// free it before the hashing ends.
pub(crate) async fn hashing<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let permit = hash_permit(state.hashing.clone(), HASH_WAIT).await?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(|e| ApiError::internal(&e))
}

/// Checks a user name and password within the login rate limits (per address and per user),
/// hashing even for unknown users so timing does not tell which names exist. Returns the user
/// when the password is right and the user is not disabled.
pub(crate) async fn check_password(
    state: &AppState,
    peer: SocketAddr,
    username: &str,
    password: &str,
) -> Result<StoredUser, ApiError> {
    let bad = || {
        ApiError::unauthorized(
            "invalid_credentials",
            "wrong username or password (ask an administrator to reset it if you forgot it)",
        )
    };
    state
        .login_by_address
        .check(peer.ip())
        .map_err(|w| too_many(w, "from this address"))?;
    state
        .login_by_user
        .check(username.to_owned())
        .map_err(|w| too_many(w, "for this user"))?;
    // Postgres cannot even compare a NUL: refused before any lookup, alike on both backends.
    if username.contains('\0') {
        return Err(bad());
    }
    let user = state.storage.find_user(username).await?;
    let password = password.to_owned();
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = hashing(state, move || match hash {
        Some(h) => auth::verify_password(&password, &h),
        None => {
            let _ = auth::hash_password(&password);
            false
        }
    })
    .await?;
    let Some(user) = user.filter(|_| ok) else {
        return Err(bad());
    };
    if user.disabled {
        return Err(ApiError::forbidden(
            "revoked",
            "this user is disabled: ask an administrator",
        ));
    }
    Ok(user)
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<LoginRequest, SMALL_BODY>,
) -> Result<Json<TokenResponse>, ApiError> {
    if req.device_id.is_nil() {
        return Err(ApiError::bad_request(
            "invalid",
            "device_id must be the device's own UUID, not the nil UUID",
        ));
    }
    // Text no device name holds is refused before the password is checked.
    if req.device_name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid",
            "device_name may not contain control characters",
        ));
    }
    let user = check_password(&state, peer, &req.username, &req.password).await?;
    let name = if req.device_name.is_empty() {
        format!("device of {}", user.username)
    } else {
        req.device_name.chars().take(100).collect()
    };
    let generation = state
        .storage
        .register_device(req.device_id, &user.id, &name, AppState::now_ms())
        .await?;
    state
        .storage
        .record_app_version(req.device_id, app_version(&headers).as_deref())
        .await?;
    tracing::info!(user = %user.username, device = %req.device_id, "login");
    Ok(Json(
        issue(&state, &user.id, req.device_id, generation, None).await?,
    ))
}

/// A refresh.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token last received.
    pub refresh_token: String,
}

async fn refresh(
    State(state): State<AppState>,
    JsonBody(req): JsonBody<RefreshRequest, SMALL_BODY>,
) -> Result<Json<TokenResponse>, ApiError> {
    let presented = auth::token_hash(&req.refresh_token);
    let successor = state.keys.refresh_successor(&presented);
    let now = AppState::now_ms();
    match state
        .storage
        .rotate_refresh(
            &presented,
            &auth::token_hash(&successor),
            now,
            now + REFRESH_TOKEN_SECONDS * 1000,
        )
        .await?
    {
        Refresh::Rotated {
            user_id,
            device_id,
            generation,
            retry,
        } => {
            if retry {
                tracing::info!(device = %device_id, "a refresh was retried: the same successor is answered again");
            }
            Ok(Json(
                issue(&state, &user_id, device_id, generation, Some(successor)).await?,
            ))
        }
        Refresh::Reused { device_id } => {
            tracing::warn!(device = %device_id, "a rotated refresh token was presented again: the device's sessions are revoked");
            Err(ApiError::unauthorized(
                "refresh_reused",
                "this refresh token was already used, so it may have been stolen: every session of this device is revoked. Log in again",
            ))
        }
        Refresh::Invalid => Err(ApiError::unauthorized(
            "invalid_refresh_token",
            "the refresh token is unknown, expired or revoked: log in again",
        )),
    }
}

async fn logout(State(state): State<AppState>, authed: Authed) -> Result<StatusCode, ApiError> {
    state
        .storage
        .revoke_sessions(authed.claims.dev, AppState::now_ms())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A password change.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    /// The current password.
    pub current_password: String,
    /// The new one (at least 8 characters).
    pub new_password: String,
}

async fn password(
    State(state): State<AppState>,
    authed: Authed,
    JsonBody(req): JsonBody<PasswordRequest, SMALL_BODY>,
) -> Result<StatusCode, ApiError> {
    if req.new_password.chars().count() < 8 {
        return Err(ApiError::bad_request(
            "weak_password",
            "the new password must be at least 8 characters",
        ));
    }
    let user = state
        .storage
        .find_user(&authed.principal.username)
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "the user no longer exists"))?;
    // Guesses of the current password share the user's login budget.
    state
        .login_by_user
        .check(user.username.clone())
        .map_err(|w| too_many(w, "for this user"))?;
    let current = req.current_password;
    let old_hash = user.password_hash.clone();
    if !hashing(&state, move || auth::verify_password(&current, &old_hash)).await? {
        return Err(ApiError::forbidden(
            "invalid_credentials",
            "the current password is wrong",
        ));
    }
    let new = req.new_password;
    let hash = hashing(&state, move || auth::hash_password(&new))
        .await?
        .map_err(|e| ApiError::internal(&e))?;
    state.storage.set_password(&user.id, &hash).await?;
    // Whoever knew the old password may hold sessions on other devices: end them.
    state
        .storage
        .revoke_user_sessions(&user.id, Some(authed.claims.dev), AppState::now_ms())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(WebAuthed(authed): WebAuthed) -> Json<serde_json::Value> {
    let p = authed.principal;
    Json(serde_json::json!({
        "user_id": p.user_id,
        "username": p.username,
        "role": p.role,
        "device_id": p.device_id,
        "grants": p.grants,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashing_refuses_with_503_when_its_permits_stay_taken() {
        let permits = Arc::new(Semaphore::new(1));
        let held = hash_permit(permits.clone(), Duration::ZERO).await.unwrap();
        let e = hash_permit(permits.clone(), Duration::ZERO)
            .await
            .unwrap_err();
        assert_eq!(e.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.code, "busy");
        assert_eq!(e.retry_after, Some(1));
        drop(held);
        assert!(hash_permit(permits, Duration::ZERO).await.is_ok());
    }

    #[test]
    fn the_app_version_is_the_first_word_of_the_user_agent() {
        let mut h = HeaderMap::new();
        assert_eq!(app_version(&h), None);
        h.insert(
            axum::http::header::USER_AGENT,
            "lapak-pos/0.1.0 lapak-client/0.1.0".parse().unwrap(),
        );
        assert_eq!(app_version(&h).as_deref(), Some("lapak-pos/0.1.0"));
        h.insert(
            axum::http::header::USER_AGENT,
            "x".repeat(500).parse().unwrap(),
        );
        assert_eq!(app_version(&h).map(|v| v.len()), Some(60));
    }
}
