//! The version 1 API.
//!
//! - [`auth`]: login, refresh, logout, password, `me`.
//! - [`sync`]: push, pull, bootstrap and the live socket.
//! - [`photos`]: photo uploads (resumable) and downloads, within the scopes of the records
//!   that reference them.
//! - [`admin`]: users, grants, devices, reference data and the outbox, for the back office.
//! - [`users`]: users, grants, disabling, passwords (administrators).
//! - [`fleet`]: devices (how far behind, revoke) and the changes rejected from them.
//! - [`data`]: master data for the admin web: pages of rows, CSV import with progress.
//! - [`reports`]: the admin web's reports, as JSON or CSV.
//! - [`web`]: the admin web's browser sessions (cookies, anti-forgery tokens).

use axum::Router;

use crate::app::AppState;

pub mod admin;
pub mod auth;
pub mod data;
pub mod fleet;
pub mod photos;
pub mod reports;
pub mod sync;
pub mod users;
pub mod web;

/// Every `/v1` route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(sync::router())
        .merge(photos::router())
        .merge(admin::router().layer(super::compression()))
        .merge(data::router().layer(super::compression()))
        .merge(reports::router().layer(super::compression()))
        .merge(web::router())
}
