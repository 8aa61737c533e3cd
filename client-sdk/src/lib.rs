//! `lapak-client`: the transport over `lapak-core` (HTTP push/pull, the live WebSocket,
//! background sync loop, token refresh) and the `lapak` command-line client. Not built yet: its
//! issue comes after the sync server's. Today it re-exports the engine's store.

pub use lapak_core::{Store, sync};
