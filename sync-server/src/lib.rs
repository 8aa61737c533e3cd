//! `lapak-server`: the central sync server (auth, push/pull/live endpoints, Postgres and
//! embedded SQLite storage, materialized tables, outbox). Not built yet: its issue comes after
//! the core engine's. Today this crate only re-exports the engine's protocol so that the
//! workspace's crate graph is already the final one.

pub use lapak_core::protocol;
