//! Virtual time: plain nanoseconds since the start of a run.

use lockstudio::Time;

/// Virtual nanoseconds since the start of the run.
pub type Nanos = u64;

/// Nanoseconds in a microsecond.
pub const US: Nanos = 1_000;
/// Nanoseconds in a millisecond.
pub const MS: Nanos = 1_000_000;
/// Nanoseconds in a second.
pub const SEC: Nanos = 1_000_000_000;
/// Nanoseconds in a minute.
pub const MINUTE: Nanos = 60 * SEC;

/// `v` milliseconds, saturating (workload values are validated, but never trust a product).
pub const fn ms(v: u64) -> Nanos {
    v.saturating_mul(MS)
}

/// The library's time type for virtual time `n`: the run starts at the library's epoch.
pub const fn to_time(n: Nanos) -> Time {
    Time::from_nanos(n)
}

/// `n` as seconds with millisecond precision, fixed width, for timelines.
pub fn fmt_time(n: Nanos) -> String {
    format!("{:>6}.{:03}s", n / SEC, (n % SEC) / MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_seconds_and_millis() {
        assert_eq!(fmt_time(1_234 * MS + 999), "     1.234s");
        assert_eq!(ms(u64::MAX), u64::MAX);
    }
}
