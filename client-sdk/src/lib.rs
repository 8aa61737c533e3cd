//! `lapak-client`: keeps a device's store in sync with `lapak-server`, by itself, through bad
//! networks, restarts and expired tokens, and says honestly where things stand.
//!
//! - [`client`]: [`Client`], the async API (tokio): login, writes and reads, one sync, and a
//!   background sync loop with a live socket; [`Status`] on a watch channel.
//! - [`blocking`]: [`BlockingClient`], the same for callers without a runtime (the desktop
//!   app, the phone bindings).
//! - [`photos`]: the device's photos by content address, and which wait for upload.
//! - [`transport`]: the HTTP and WebSocket calls.
//! - [`credentials`]: the session kept on disk, owner-only.
//! - [`error`]: the client's errors, [`ClientError`].
//!
//! The `lapak` command-line client (`src/bin/lapak.rs`) is built on it.

pub mod blocking;
pub mod client;
pub mod credentials;
pub mod error;
pub mod photos;
pub mod transport;

pub use blocking::BlockingClient;
pub use client::{Client, ClientOptions, LoginInfo, Progress, Status, SyncReport, SyncTask};
pub use error::{ClientError, Result};
pub use transport::identify_app;
