//! The custom types the bindings pass: ids as `Uuid` (Kotlin `java.util.UUID`, Swift `UUID`,
//! Python `uuid.UUID`; see `uniffi.toml`), times as `SystemTime` (Kotlin `Instant`, Swift
//! `Date`, Python `datetime`), positions as [`Position`], and a day as `YYYY-MM-DD`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::LapakError;

/// A record id made on a device (a UUIDv7).
pub type Uuid = uuid::Uuid;

uniffi::custom_type!(Uuid, String, {
    remote,
    try_lift: |s| Ok(uuid::Uuid::parse_str(&s)?),
    lower: |u| u.to_string(),
});

/// A GPS reading as the phone gives it.
#[derive(Clone, Copy, Debug, PartialEq, uniffi::Record)]
pub struct Position {
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lng: f64,
    /// The accuracy the phone reports, metres (`null` when it reports none).
    pub accuracy_m: Option<f64>,
}

impl From<Position> for lapak_core::field::Position {
    fn from(p: Position) -> Self {
        lapak_core::field::Position {
            lat: p.lat,
            lng: p.lng,
            accuracy_m: p.accuracy_m,
        }
    }
}

/// Milliseconds since the epoch of `t` (0 before the epoch).
pub(crate) fn to_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The time of `ms` since the epoch.
pub(crate) fn from_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// Now, in ms since the epoch.
pub(crate) fn now_ms() -> i64 {
    to_ms(SystemTime::now())
}

/// The midnight (UTC) of a `YYYY-MM-DD` day, in ms since the epoch.
pub(crate) fn day_ms(day: &str) -> Result<i64, LapakError> {
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
        .ok_or_else(|| {
            LapakError::invalid(format!(
                "`{day}` is not a day: give it as YYYY-MM-DD (2026-12-01)"
            ))
        })
}

/// A record id the store made, as a [`Uuid`].
pub(crate) fn parse_id(id: &str) -> Result<Uuid, LapakError> {
    uuid::Uuid::parse_str(id).map_err(|_| LapakError::Storage {
        reason: "the device made a record id it cannot read back: restart the app".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_times_round_trip() {
        assert_eq!(day_ms("1970-01-02").unwrap(), 86_400_000);
        assert!(matches!(
            day_ms("2026-13-01"),
            Err(LapakError::Invalid { .. })
        ));
        assert_eq!(to_ms(from_ms(1_764_547_200_123)), 1_764_547_200_123);
    }
}
