//! Times of a trace on the wall clock: records carry CLOCK_MONOTONIC, the
//! header the wall-clock time of the recording's start on that clock.

use ptrec_format::Header;

/// The wall-clock time (nanoseconds since the epoch) of monotonic `time`.
pub fn wall(h: &Header, time: u64) -> u64 {
    let d = time as i128 - h.start_mono_ns as i128;
    (h.start_wall_ns as i128 + d).max(0) as u64
}

/// `2026-12-02 03:04:05.123456 +0100`: a wall-clock time in the local time
/// zone of this machine (as `date` prints it), with the offset, so that it
/// reads the same anywhere.
pub fn local_text(wall_ns: u64) -> String {
    let t = (wall_ns / 1_000_000_000) as libc::time_t;
    let micros = (wall_ns % 1_000_000_000) / 1000;
    // SAFETY: localtime_r only reads `t` and writes the `tm` we own; an
    // all-zero `tm` is a valid value of the plain C struct.
    let tm = unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return format!("{}.{micros:06} (epoch seconds)", wall_ns / 1_000_000_000);
        }
        tm
    };
    let off = tm.tm_gmtoff / 60;
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{micros:06} {}{:02}{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        if off < 0 { '-' } else { '+' },
        off.abs() / 60,
        off.abs() % 60
    )
}

/// RFC 3339 in UTC with microseconds, for JSON: `2026-12-02T03:04:05.123456Z`.
pub fn rfc3339(wall_ns: u64) -> String {
    let secs = (wall_ns / 1_000_000_000) as i64;
    let micros = (wall_ns % 1_000_000_000) / 1000;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's days_from_civil, inverted).
fn civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_are_civil_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            rfc3339(1_796_180_645_123_456_789),
            "2026-12-02T03:04:05.123456Z"
        );
        assert_eq!(
            rfc3339(951_782_400_000_000_000),
            "2000-02-29T00:00:00.000000Z"
        );
    }
}
