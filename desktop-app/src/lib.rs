//! `lapak-desktop`: the Tauri 2 POS app for cashiers, on `lapak-client`. Not built yet: its issue
//! comes after the client SDK's.

pub use lapak_core::Store;
