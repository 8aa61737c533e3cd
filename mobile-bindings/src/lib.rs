//! `lapak-mobile`: uniffi bindings of `lapak-client` for the field-sales phone apps. Not built
//! yet: its issue comes after the client SDK's.

pub use lapak_core::Store;
