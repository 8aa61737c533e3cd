//! Lapak's engine, shared by the desktop POS app, the phone bindings and the sync server.
//!
//! - [`catalog`]: the collections Lapak ships with (server and clients declare the same).
//! - [`commerce`]: the arithmetic and checks of selling (bills, prices, payments, vouchers),
//!   shared by the terminals and the server's rules.
//! - [`field`]: the checks of field sales (positions and territories, activities, orders),
//!   shared by the phones and the server's rules.
//! - [`schema`]: collections declared once in Rust (documents, ledgers, reference data).
//! - [`store`]: the device's SQLite store: plain tables, Automerge bytes, pending queue, cursors.
//! - [`document`]: Automerge documents: local edits and their projection to plain rows.
//! - [`sync`]: the sync model without I/O: next push, apply push answer, apply pull.
//! - [`photo`]: photos by content address (`sha256:<hex>`), the types and sizes taken.
//! - [`protocol`]: the messages, with a compact binary encoding and a JSON form.
//! - [`value`]: field values and records.
//! - [`chunk`]: cheap, bounded checks of an Automerge change's bytes (before parsing them).
//!
//! The engine does no network I/O and needs no async runtime; the client SDK carries its
//! messages. See `ARCHITECTURE.md` for how the pieces fit.

pub mod catalog;
pub mod chunk;
pub mod commerce;
pub mod document;
pub mod error;
pub mod field;
pub mod photo;
pub mod protocol;
pub mod schema;
pub mod store;
pub mod sync;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod value;

pub use document::Edit;
pub use error::{Error, Result};
pub use schema::{Collection, Kind, ScalarType, Schema};
/// A write of [`Store::write_batch`] (`store::Write`, named apart from `std::io::Write`).
pub use store::Write as StoreWrite;
pub use store::{ChangeSet, Durability, Op, Origin, Query, Rejection, Row, STATUS, Store, Verdict};
pub use value::{Item, Record, Scalar, Value};
