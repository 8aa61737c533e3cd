//! `/v1/admin/users/*`, administrators only: create and list users, replace their grants,
//! disable or enable them, set their password (the last two end every session of theirs).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;

use super::admin::require_admin;
use crate::app::AppState;
use crate::auth::{self, Grant, Role};
use crate::error::ApiError;
use crate::routes::{JsonBody, WebAuthed};
use crate::storage::UserInfo;

/// The user routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list_users).post(create_user))
        .route("/admin/users/{username}/grants", put(set_grants))
        .route("/admin/users/{username}/disabled", put(set_disabled))
        .route("/admin/users/{username}/password", put(reset_password))
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
