//! `lapak-server`: the central sync server. It authenticates users and devices, judges and
//! sequences every device's pushed changes, serves pulls and live notifications per scope,
//! materializes accepted changes into plain relational tables and an outbox of events, on
//! Postgres or an embedded SQLite file.
//!
//! - [`config`]: flags, environment and file settings.
//! - [`auth`]: passwords, tokens, roles and grants.
//! - [`engine`]: the judgement of writes, without I/O.
//! - [`rules`]: business rules and event names per collection.
//! - [`storage`]: the storage trait and its two backends.
//! - [`error`]: errors as HTTP clients see them.
//! - [`limits`]: per-device rate limits.
//! - [`import`]: master data imported from CSV: checked row by row, written by a background job.
//! - [`live`]: the hub that tells live devices about news.
//! - [`metrics`]: Prometheus metrics.
//! - [`photos`]: photos' bytes (files or S3), resumable uploads, garbage collection.
//! - [`relay`]: the outbox relayed to NATS JetStream and RabbitMQ, one leaseholder per sink.
//! - [`routes`]: the HTTP and WebSocket endpoints, and the admin web's pages under `/admin`.
//! - [`app`]: the server assembled: state, router, start and graceful shutdown.

pub mod app;
pub mod auth;
pub mod config;
pub mod demo;
pub mod engine;
pub mod error;
pub mod import;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod mirror;
pub mod photos;
pub mod relay;
pub mod routes;
pub mod rules;
pub mod storage;

#[cfg(test)]
mod bindings;

pub use app::Server;
pub use config::Config;
pub use storage::{Accounts, SqlStorage, Storage};
