//! The version 1 API.
//!
//! - [`auth`]: login, refresh, logout, password, `me`.
//! - [`sync`]: push, pull, bootstrap and the live socket.
//! - [`photos`]: photo uploads (resumable) and downloads, within the scopes of the records
//!   that reference them.
//! - [`admin`]: users, grants, devices, reference data and the outbox, for the back office.

use axum::Router;

use crate::app::AppState;

pub mod admin;
pub mod auth;
pub mod photos;
pub mod sync;

/// Every `/v1` route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(sync::router())
        .merge(photos::router())
        .merge(admin::router())
}
