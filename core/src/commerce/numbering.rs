//! Invoice numbers people can read out and that no two terminals ever share, without asking
//! anyone: `<branch>/<terminal>/<yymmdd>/<seq>`, e.g. `JKT-01/POS-1/261201/0007`, where `seq`
//! counts the terminal's invoices of that (local) day from 1.
//!
//! Unique per terminal by construction; a terminal takes the next `seq` after the greatest it
//! holds for the day (its own invoices, and the branch's invoices its store received), so a
//! terminal reinstalled the same day continues after what it synced.

/// An invoice number's parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceNumber {
    /// Branch code.
    pub branch: String,
    /// Terminal code.
    pub terminal: String,
    /// The local day, `yymmdd`.
    pub day: String,
    /// The day's sequence, from 1.
    pub seq: u32,
}

impl InvoiceNumber {
    /// The prefix shared by a terminal's numbers of one day (`JKT-01/POS-1/261201/`).
    #[must_use]
    pub fn day_prefix(branch: &str, terminal: &str, day: &str) -> String {
        format!("{branch}/{terminal}/{day}/")
    }

    /// The number after the greatest of `existing` with this branch, terminal and day
    /// (numbers of other days, terminals or shapes are ignored).
    #[must_use]
    pub fn next<'a>(
        branch: &str,
        terminal: &str,
        day: &str,
        existing: impl IntoIterator<Item = &'a str>,
    ) -> InvoiceNumber {
        let prefix = Self::day_prefix(branch, terminal, day);
        let last = existing
            .into_iter()
            .filter_map(|n| n.strip_prefix(&prefix))
            .filter_map(|s| s.parse::<u32>().ok())
            .max()
            .unwrap_or(0);
        InvoiceNumber {
            branch: branch.to_owned(),
            terminal: terminal.to_owned(),
            day: day.to_owned(),
            seq: last.saturating_add(1),
        }
    }

    /// `yymmdd` of a time, at a UTC offset in seconds (the terminal's time zone).
    #[must_use]
    pub fn day_of(at_ms: i64, utc_offset_s: i32) -> String {
        let local = at_ms.saturating_add(i64::from(utc_offset_s) * 1_000);
        chrono::DateTime::from_timestamp_millis(local)
            .map_or_else(|| "000000".into(), |t| t.format("%y%m%d").to_string())
    }
}

impl std::fmt::Display for InvoiceNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}/{:04}",
            self.branch, self.terminal, self.day, self.seq
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_continue_the_days_sequence_of_the_terminal() {
        let existing = [
            "JKT-01/POS-1/261201/0007",
            "JKT-01/POS-1/261201/0012",
            "JKT-01/POS-2/261201/0099",
            "JKT-01/POS-1/261130/0500",
            "nonsense",
        ];
        let n = InvoiceNumber::next("JKT-01", "POS-1", "261201", existing);
        assert_eq!(n.to_string(), "JKT-01/POS-1/261201/0013");
        let first = InvoiceNumber::next("JKT-01", "POS-3", "261201", existing);
        assert_eq!(first.to_string(), "JKT-01/POS-3/261201/0001");
        // 2026-11-30 20:00 UTC is already 1 December in Jakarta (UTC+7).
        assert_eq!(
            InvoiceNumber::day_of(1_796_068_800_000, 7 * 3_600),
            "261201"
        );
        assert_eq!(InvoiceNumber::day_of(1_796_068_800_000, 0), "261130");
    }
}
