//! `lapak-desktop`: the Tauri 2 POS app for cashiers, with `lapak-client` in-process.
//!
//! - [`api`]: the typed boundary (requests, answers, error codes) the page is generated from.

pub mod api;

#[cfg(test)]
mod bindings;
