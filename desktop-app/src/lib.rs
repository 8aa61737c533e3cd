//! `lapak-desktop`: the Tauri 2 POS app for cashiers, with `lapak-client` in-process.
//!
//! - [`api`]: the typed boundary (requests, answers, error codes) the page is generated from.
//! - [`pos`]: one terminal: sign-in, the cart, held bills, checkout, history, returns, shift,
//!   sync status. All the logic; no Tauri.
//! - [`commands`]: the Tauri commands (thin: each calls [`Pos`]); [`app`]: data directory
//!   and the events sent to the page.
//! - [`error`]: [`error::PosError`] and the page's `CommandError`.

pub mod api;
pub mod app;
pub mod commands;
pub mod error;
pub mod pos;

#[cfg(test)]
mod bindings;

pub use pos::Pos;
