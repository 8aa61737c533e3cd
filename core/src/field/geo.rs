//! Positions: the distance between two, whether a GPS reading can be trusted, and whether a
//! trusted one lies within a territory (its centre and radius, widened by the reading's
//! accuracy).

use crate::commerce::Refusal;

/// The fastest a salesperson moves between two positions, in km/h; faster is implausible.
pub const MAX_PLAUSIBLE_KMH: f64 = 200.0;
/// The worst GPS accuracy, in metres, taken as a position.
pub const MAX_PLAUSIBLE_ACCURACY_M: f64 = 500.0;

/// A GPS reading: degrees, and the accuracy the phone reported (metres), if any.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lng: f64,
    /// Accuracy, metres (the radius the phone is sure of).
    pub accuracy_m: Option<f64>,
}

/// The previous trusted position of the same person, and when (ms since the epoch).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fix {
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lng: f64,
    /// When, ms since the epoch.
    pub at_ms: i64,
}

impl Fix {
    /// The `lastpos:` tally's note, `lat,lng,at`.
    #[must_use]
    pub fn parse(note: &str) -> Option<Fix> {
        let mut parts = note.split(',').map(str::parse::<f64>);
        let (Some(Ok(lat)), Some(Ok(lng)), Some(Ok(at))) =
            (parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        #[allow(clippy::cast_possible_truncation)]
        Some(Fix {
            lat,
            lng,
            at_ms: at as i64,
        })
    }

    /// The note the `lastpos:` tally keeps.
    #[must_use]
    pub fn note(&self) -> String {
        format!("{},{},{}", self.lat, self.lng, self.at_ms)
    }
}

/// A territory's reach: its centre and radius.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Reach {
    /// Centre latitude, degrees.
    pub lat: f64,
    /// Centre longitude, degrees.
    pub lng: f64,
    /// Radius, metres.
    pub radius_m: i64,
}

/// Distance in metres between two positions (haversine).
#[must_use]
pub fn distance_m(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lng2 - lng1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * a.sqrt().asin()
}

/// Why a reading taken at `at_ms` cannot be trusted, if it cannot: no position, off the
/// Earth, (0, 0), an accuracy worse than [`MAX_PLAUSIBLE_ACCURACY_M`], or faster than
/// [`MAX_PLAUSIBLE_KMH`] from the previous trusted `last`.
#[must_use]
pub fn implausible(position: Option<Position>, at_ms: i64, last: Option<Fix>) -> Option<String> {
    let Some(Position {
        lat,
        lng,
        accuracy_m,
    }) = position
    else {
        return Some("no GPS position was recorded".into());
    };
    if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lng) {
        return Some(format!("({lat}, {lng}) is not a position on Earth"));
    }
    if lat == 0.0 && lng == 0.0 {
        return Some("the position is (0, 0), which a GPS reports when it has no fix".into());
    }
    if let Some(acc) = accuracy_m
        && acc > MAX_PLAUSIBLE_ACCURACY_M
    {
        return Some(format!(
            "the GPS accuracy was {acc:.0} m (more than {MAX_PLAUSIBLE_ACCURACY_M:.0} m)"
        ));
    }
    let last = last?;
    #[allow(clippy::cast_precision_loss)]
    let hours = (at_ms - last.at_ms) as f64 / 3_600_000.0;
    let km = distance_m(last.lat, last.lng, lat, lng) / 1000.0;
    if hours > 0.0 && km > 1.0 && km / hours > MAX_PLAUSIBLE_KMH {
        return Some(format!(
            "the position is {km:.1} km from the previous one {:.0} minutes earlier ({:.0} km/h)",
            hours * 60.0,
            km / hours
        ));
    }
    None
}

/// Whether a trusted `position` lies within `territory`'s reach (its radius plus the reading's
/// accuracy); `outside_territory`, naming both distances, when it does not.
///
/// # Errors
/// `outside_territory`.
pub fn within(
    position: Position,
    territory_code: &str,
    reach: Reach,
    kind: &str,
) -> Result<(), Refusal> {
    let d = distance_m(reach.lat, reach.lng, position.lat, position.lng);
    #[allow(clippy::cast_precision_loss)]
    let allowed = reach.radius_m as f64 + position.accuracy_m.unwrap_or(0.0);
    if d > allowed {
        return Err(Refusal::new(
            "outside_territory",
            format!(
                "this {kind} is {:.1} km from the centre of territory {territory_code}, which reaches {:.1} km: check in where you work, or ask your supervisor to change your territory",
                d / 1000.0,
                allowed / 1000.0
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lat: f64, lng: f64, acc: f64) -> Option<Position> {
        Some(Position {
            lat,
            lng,
            accuracy_m: Some(acc),
        })
    }

    #[test]
    fn a_degree_of_latitude_is_about_111_km() {
        let d = distance_m(0.0, 100.0, 1.0, 100.0);
        assert!((d - 111_195.0).abs() < 10.0, "{d}");
    }

    #[test]
    fn implausible_readings_say_why() {
        assert!(implausible(None, 0, None).unwrap().contains("no GPS"));
        assert!(
            implausible(at(91.0, 0.0, 5.0), 0, None)
                .unwrap()
                .contains("not a position")
        );
        assert!(
            implausible(at(0.0, 0.0, 5.0), 0, None)
                .unwrap()
                .contains("no fix")
        );
        assert!(
            implausible(at(-6.2, 106.8, 800.0), 0, None)
                .unwrap()
                .contains("800 m")
        );
        assert_eq!(implausible(at(-6.2, 106.8, 20.0), 0, None), None);
    }

    #[test]
    fn faster_than_a_car_from_the_last_fix_is_implausible() {
        let last = Fix {
            lat: -6.2,
            lng: 106.8,
            at_ms: 0,
        };
        // About 111 km in ten minutes.
        let far = implausible(at(-7.2, 106.8, 10.0), 600_000, Some(last)).unwrap();
        assert!(far.contains("km/h"), "{far}");
        // The same distance in an hour is a car on a toll road... still too fast at 111 km/h? no.
        assert_eq!(
            implausible(at(-7.2, 106.8, 10.0), 3_600_000, Some(last)),
            None
        );
        assert_eq!(Fix::parse(&last.note()), Some(last));
    }

    #[test]
    fn the_reach_is_the_radius_widened_by_the_accuracy() {
        let reach = Reach {
            lat: -6.2,
            lng: 106.8,
            radius_m: 1_000,
        };
        let p = |acc| Position {
            lat: -6.2 + 0.0135, // about 1.5 km north
            lng: 106.8,
            accuracy_m: Some(acc),
        };
        let refusal = within(p(10.0), "T-1", reach, "check_in").unwrap_err();
        assert_eq!(refusal.code, "outside_territory");
        assert!(refusal.message.contains("1.5 km"), "{}", refusal.message);
        assert!(within(p(600.0), "T-1", reach, "check_in").is_ok());
    }
}
