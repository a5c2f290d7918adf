//! Durations in scenario files: a whole number followed by `ms`, `s` or `m` (`"250ms"`,
//! `"2s"`, `"1m"`).

use std::time::Duration;

/// Parses `text` as a scenario duration. Zero is accepted here: whether zero is meaningful
/// depends on the key (a zero `ttl` is an input the table must refuse, a zero `by` is not).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    if digits.is_empty() {
        return Err(format!(
            "duration {text:?} must start with a whole number, as in \"250ms\", \"2s\" or \"1m\""
        ));
    }
    let per_unit: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "" => {
            return Err(format!(
                "duration {text:?} has no unit (use ms, s or m, as in \"{digits}s\")"
            ))
        }
        other => {
            return Err(format!(
                "duration {text:?} has unknown unit {other:?} (use ms, s or m)"
            ))
        }
    };
    let too_long = || format!("duration {text:?} is too long to represent");
    let value: u64 = digits.parse().map_err(|_| too_long())?;
    let millis = value.checked_mul(per_unit).ok_or_else(too_long)?;
    Ok(Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_three_units() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("3m"), Ok(Duration::from_secs(180)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_garbage_units_signs_and_overflow() {
        for bad in [
            "",
            "s",
            "2",
            "2h",
            "2 s",
            "-1s",
            "+1s",
            "1.5s",
            "2S",
            "1ms2",
            "abc",
            "99999999999999999999999m",
            "18446744073709551615m",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
