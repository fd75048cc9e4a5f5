//! Time as OTLP, the SLO engine and slotel's files carry it: `u64` nanoseconds (Unix
//! nanoseconds for instants). One conversion for every duration, saturating at `u64::MAX`
//! (584 years) rather than wrapped, and one reading of the wall clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `d` in nanoseconds, `u64::MAX` past it.
pub fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The wall clock in Unix nanoseconds; 0 for a clock set before 1970.
pub fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, nanos)
}

/// The wall clock in whole Unix seconds; 0 for a clock set before 1970.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_past_u64_nanoseconds_saturate() {
        assert_eq!(nanos(Duration::ZERO), 0);
        assert_eq!(nanos(Duration::new(1, 5)), 1_000_000_005);
        assert_eq!(nanos(Duration::from_nanos(u64::MAX)), u64::MAX);
        assert_eq!(
            nanos(Duration::from_nanos(u64::MAX) + Duration::from_nanos(1)),
            u64::MAX
        );
        assert_eq!(nanos(Duration::MAX), u64::MAX);
    }

    #[test]
    fn the_wall_clock_reads_the_same_in_both_units() {
        let (s, n, s2) = (now_secs(), now_nanos(), now_secs());
        // After 2020 and in step with each other.
        assert!(s > 1_577_836_800, "{s}");
        assert!((s..=s2).contains(&(n / 1_000_000_000)), "{s} {n} {s2}");
    }
}
