//! The wall clock: now, in the microseconds `tikker.db` stores, and the RFC 3339 form of such an
//! instant that the status, the logs and the API print.

use std::time::{SystemTime, UNIX_EPOCH};

/// The wall clock in microseconds since the Unix epoch (0 before 1970, which no clock shows).
pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The RFC 3339 form of a time in microseconds (UTC); the bare number if no calendar holds it.
pub fn rfc3339(time_us: i64) -> String {
    jiff::Timestamp::from_microsecond(time_us)
        .map_or_else(|_| time_us.to_string(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_print_in_rfc3339_and_impossible_ones_as_numbers() {
        assert_eq!(rfc3339(1_500_000), "1970-01-01T00:00:01.5Z");
        assert_eq!(rfc3339(i64::MAX), i64::MAX.to_string());
        assert!(now_us() > 1_700_000_000_000_000);
    }
}
