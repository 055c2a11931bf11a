//! Parsers for the typed fields of a record. Each returns the reason a value
//! is wrong, phrased to follow `column X: "value" `.

use chrono::{DateTime, NaiveDate, Utc};

/// RFC 3339 with an explicit offset or `Z` (`2026-10-25T01:30:00+01:00`).
pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => {
            use chrono::Timelike;
            if t.nanosecond() >= 1_000_000_000 {
                return Err("is a leap second (:60); expected seconds 00 to 59 (UTC leap seconds are not billed apart)".into());
            }
            let fraction = text.find('.').map_or(0, |dot| {
                text[dot + 1..]
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .count()
            });
            if fraction > 9 {
                return Err(format!(
                    "has {fraction} fractional digits; at most 9 (nanoseconds) are kept"
                ));
            }
            Ok(t.with_timezone(&Utc))
        }
        Err(_) => {
            let local = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"));
            if local.is_ok() {
                Err("has no UTC offset; expected RFC 3339 with an offset or Z, e.g. 2026-10-01T09:30:00Z".into())
            } else {
                Err("is not a timestamp; expected RFC 3339, e.g. 2026-10-01T09:30:00+01:00".into())
            }
        }
    }
}

/// A calendar date `YYYY-MM-DD` that exists.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return Err("is not a date; expected YYYY-MM-DD".into());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| "is not a date that exists".into())
}

/// Whole seconds, zero or more.
pub fn parse_duration(text: &str) -> Result<u32, String> {
    let t = text.trim();
    if t.starts_with('-') {
        return Err("is negative; expected whole seconds >= 0".into());
    }
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err("is not whole seconds; expected an integer >= 0".into());
    }
    t.parse::<u32>()
        .map_err(|_| "is too large for a call duration in seconds".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leap_seconds_and_sub_nanosecond_digits_are_refused() {
        assert!(parse_timestamp("2026-06-30T23:59:60Z")
            .unwrap_err()
            .contains("leap second"));
        assert!(parse_timestamp("2026-10-01T10:00:00.1234567891Z")
            .unwrap_err()
            .contains("10 fractional digits"));
        assert!(parse_timestamp("2026-10-01T10:00:00.123456789+01:00").is_ok());
    }

    #[test]
    fn timestamps_need_an_offset() {
        assert!(parse_timestamp("2026-10-25T01:30:00+01:00").is_ok());
        assert!(parse_timestamp("2026-10-25T00:30:00Z").is_ok());
        assert!(parse_timestamp("2026-10-25T01:30:00")
            .unwrap_err()
            .contains("no UTC offset"));
        assert!(parse_timestamp("yesterday")
            .unwrap_err()
            .contains("not a timestamp"));
    }

    #[test]
    fn dates_must_exist() {
        assert!(parse_date("2026-02-28").is_ok());
        assert_eq!(
            parse_date("2026-02-30").unwrap_err(),
            "is not a date that exists"
        );
        assert!(parse_date("28/02/2026").unwrap_err().contains("YYYY-MM-DD"));
    }

    #[test]
    fn durations_are_whole_non_negative_seconds() {
        assert_eq!(parse_duration("125"), Ok(125));
        assert!(parse_duration("-1").unwrap_err().contains("negative"));
        assert!(parse_duration("12.5")
            .unwrap_err()
            .contains("whole seconds"));
    }
}
