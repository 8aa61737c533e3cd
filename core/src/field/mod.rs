//! The checks of field sales, in one place for the phones and the server: a salesperson's
//! phone judges a check-in, an activity or an order with the same functions the server's rules
//! use, so the phone refuses at once what the server would refuse later.
//!
//! - [`geo`]: positions, distances, whether a GPS position can be trusted, and whether it lies
//!   within a territory.
//! - [`activity`]: the kinds of activity and attendance, and an activity's checks.
//! - [`order`]: a submitted order's lines and total.
//!
//! Nothing here does I/O: callers read the territory and the last position from their store.

pub mod activity;
pub mod geo;
pub mod order;

pub use geo::Position;
