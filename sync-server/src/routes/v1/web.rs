//! `/v1/web/session`: browser sessions of the admin web. A browser signs in with a user name
//! and password like a device, but its tokens travel in cookies page scripts cannot read
//! (`HttpOnly`, `SameSite=Strict`): the access token in `lapak_access`, the refresh token in
//! `lapak_refresh` (sent only to this endpoint). Each sign-in is a device of its own, named
//! after the browser, so an administrator sees and revokes browser sessions like devices.
//!
//! - `POST /v1/web/session` signs in (administrators and supervisors only).
//! - `GET /v1/web/session` says who is signed in, with the session's anti-forgery token.
//! - `POST /v1/web/session/refresh` exchanges the refresh cookie for fresh cookies.
//! - `DELETE /v1/web/session` signs out: the session ends on the server and the cookies go.
//!
//! A session idles out after [`WEB_SESSION_IDLE_SECONDS`] without a refresh. Requests that
//! change state with the cookie must carry the anti-forgery token (`X-Lapak-CSRF`) and come
//! from this server's own origin (see [`crate::routes::check_forgery`]).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::{self, ACCESS_TOKEN_SECONDS, Grant, Role};
use crate::error::ApiError;
use crate::routes::{ACCESS_COOKIE, JsonBody, SMALL_BODY, WebAuthed, cookie, same_origin};
use crate::storage::Refresh;

/// The cookie of a browser session's refresh token.
pub const REFRESH_COOKIE: &str = "lapak_refresh";
/// The only path the refresh cookie is sent to.
const REFRESH_PATH: &str = "/v1/web/session";
/// A browser session ends after this long without a refresh (the page refreshes while it is
/// open, every [`ACCESS_TOKEN_SECONDS`]): 12 hours, a working day and then some.
pub const WEB_SESSION_IDLE_SECONDS: i64 = 12 * 60 * 60;

/// `/v1/web/session` and `/v1/web/session/refresh`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/web/session", get(current).post(sign_in).delete(sign_out))
        .route("/web/session/refresh", post(refresh))
}

/// A browser's sign-in.
#[derive(Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Who is signed in, as the page sees it (no token: those stay in cookies).
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct WebSession {
    /// The user's login name.
    pub username: String,
    /// The user's role (`admin` or `supervisor`).
    pub role: Role,
    /// What the user may see: a supervisor's regions.
    pub grants: Vec<Grant>,
    /// Send this as `X-Lapak-CSRF` with every request that changes state.
    pub csrf_token: String,
    /// Seconds until the access cookie must be refreshed.
    #[ts(type = "number")]
    pub expires_in: i64,
}

/// Whether `X-Forwarded-Proto` (a TLS proxy in front) or the page's origin says the browser
/// speaks HTTPS, so cookies are marked `Secure`.
fn over_https(headers: &HeaderMap) -> bool {
    let says = |name: &str, prefix: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().starts_with(prefix))
    };
    says("x-forwarded-proto", "https") || says("origin", "https://")
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, `Secure` over HTTPS; `max_age` 0 deletes.
fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("cookie values are tokens of URL-safe characters")
}

/// A response with the session's JSON and its two cookies.
fn with_cookies(
    body: &WebSession,
    access: &str,
    refresh: &str,
    secure: bool,
    status: StatusCode,
) -> Response {
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(ACCESS_COOKIE, access, "/", ACCESS_TOKEN_SECONDS, secure),
    );
    headers.append(
        header::SET_COOKIE,
        set_cookie(
            REFRESH_COOKIE,
            refresh,
            REFRESH_PATH,
            WEB_SESSION_IDLE_SECONDS,
            secure,
        ),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A browser's device name: what its `User-Agent` says it is, for the devices page.
fn browser_name(headers: &HeaderMap) -> String {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let browser = ["Edg/", "Firefox/", "Chrome/", "Safari/"]
        .iter()
        .find(|b| agent.contains(*b))
        .map_or("a browser", |b| b.trim_end_matches('/'));
    format!("Admin web ({browser})")
}

/// The session's JSON and cookies for `user_id` on `device` at `generation`.
async fn session_response(
    state: &AppState,
    headers: &HeaderMap,
    user_id: &str,
    device: Uuid,
    generation: i64,
    refresh_token: &str,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let session = state
        .storage
        .session(user_id, device)
        .await?
        .filter(|s| !s.blocked)
        .ok_or_else(|| {
            ApiError::unauthorized("session_revoked", "this session has ended: sign in again")
        })?;
    let now = AppState::now_ms();
    let access =
        super::auth::access_token(state, user_id, device, &session, generation, now).await?;
    let body = WebSession {
        username: session.principal.username,
        role: session.principal.role,
        grants: session.principal.grants,
        csrf_token: state.keys.csrf_token(device, generation),
        expires_in: ACCESS_TOKEN_SECONDS,
    };
    Ok(with_cookies(
        &body,
        &access,
        refresh_token,
        over_https(headers),
        status,
    ))
}

async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<SignIn, SMALL_BODY>,
) -> Result<Response, ApiError> {
    same_origin(&headers)?;
    let user = super::auth::check_password(&state, peer, &req.username, &req.password).await?;
    if !matches!(user.role, Role::Admin | Role::Supervisor) {
        return Err(ApiError::forbidden(
            "not_for_role",
            format!(
                "the admin web is for administrators and supervisors; `{}` is a {}: use the POS or the field app",
                user.username,
                user.role.as_str()
            ),
        ));
    }
    let device = Uuid::now_v7();
    let now = AppState::now_ms();
    let generation = state
        .storage
        .register_device(device, &user.id, &browser_name(&headers), now)
        .await?;
    let refresh = auth::new_refresh_token();
    state
        .storage
        .store_refresh(
            &auth::token_hash(&refresh),
            device,
            generation,
            now,
            now + WEB_SESSION_IDLE_SECONDS * 1000,
        )
        .await?;
    tracing::info!(user = %user.username, device = %device, "admin web sign-in");
    session_response(
        &state,
        &headers,
        &user.id,
        device,
        generation,
        &refresh,
        StatusCode::CREATED,
    )
    .await
}

async fn current(
    State(state): State<AppState>,
    WebAuthed(authed): WebAuthed,
) -> Result<Json<WebSession>, ApiError> {
    let p = authed.principal;
    Ok(Json(WebSession {
        csrf_token: state.keys.csrf_token(p.device_id, authed.claims.session),
        expires_in: (authed.claims.exp - AppState::now_ms() / 1000).max(0),
        username: p.username,
        role: p.role,
        grants: p.grants,
    }))
}

async fn refresh(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    same_origin(&headers)?;
    let ended = || {
        ApiError::unauthorized(
            "session_expired",
            "the browser session has ended (signed out, idle too long, or revoked): sign in again",
        )
    };
    let presented = cookie(&headers, REFRESH_COOKIE).ok_or_else(ended)?;
    let presented = auth::token_hash(presented);
    let successor = state.keys.refresh_successor(&presented);
    let now = AppState::now_ms();
    let rotated = state
        .storage
        .rotate_refresh(
            &presented,
            &auth::token_hash(&successor),
            now,
            now + WEB_SESSION_IDLE_SECONDS * 1000,
        )
        .await?;
    match rotated {
        Refresh::Rotated {
            user_id,
            device_id,
            generation,
            ..
        } => {
            session_response(
                &state,
                &headers,
                &user_id,
                device_id,
                generation,
                &successor,
                StatusCode::OK,
            )
            .await
        }
        Refresh::Reused { device_id } => {
            tracing::warn!(device = %device_id, "a browser's rotated refresh cookie was presented again: its session is revoked");
            Err(ended())
        }
        Refresh::Invalid => Err(ended()),
    }
}

async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    WebAuthed(authed): WebAuthed,
) -> Result<Response, ApiError> {
    state
        .storage
        .revoke_sessions(authed.claims.dev, AppState::now_ms())
        .await?;
    let secure = over_https(&headers);
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(ACCESS_COOKIE, "", "/", 0, secure),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(REFRESH_COOKIE, "", REFRESH_PATH, 0, secure),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_http_only_strict_and_secure_over_https() {
        let c = set_cookie("a", "b", "/", 60, true);
        assert_eq!(
            c.to_str().unwrap(),
            "a=b; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure"
        );
        let mut h = HeaderMap::new();
        assert!(!over_https(&h));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(over_https(&h));
    }

    #[test]
    fn a_browser_is_named_after_its_user_agent() {
        let mut h = HeaderMap::new();
        h.insert(
            header::USER_AGENT,
            HeaderValue::from_static("Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"),
        );
        assert_eq!(browser_name(&h), "Admin web (Chrome)");
        assert_eq!(browser_name(&HeaderMap::new()), "Admin web (a browser)");
    }
}
