//! RFC 3339 instants, parsed without chrono on the hot path.
//!
//! An [`Instant`] is whole seconds since the Unix epoch plus a fraction in
//! attoseconds (10⁻¹⁸ s). Fractions longer than 18 digits fold their remaining
//! digits into a sticky bit, so an instant a hair after a grid point still
//! compares greater than that grid point: comparisons against plan boundaries
//! stay exact for any fraction length.

use std::fmt;

const ATTO_PER_SEC: u64 = 1_000_000_000_000_000_000;

/// A point in time, comparable across offsets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant {
    secs: i64,
    /// `attoseconds * 2 + sticky`, where sticky says "more non-zero digits followed".
    frac: u64,
}

/// Why a timestamp was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsError {
    NoOffset,
    Bad,
}

impl TsError {
    pub fn reason(self) -> &'static str {
        match self {
            TsError::NoOffset => "ts has no offset",
            TsError::Bad => "bad ts",
        }
    }
}

impl Instant {
    pub const MIN: Instant = Instant {
        secs: i64::MIN,
        frac: 0,
    };
    pub const MAX: Instant = Instant {
        secs: i64::MAX,
        frac: u64::MAX,
    };

    pub fn from_unix(secs: i64, nanos: u32) -> Instant {
        Instant {
            secs,
            frac: (nanos as u64).min(999_999_999) * 1_000_000_000 * 2,
        }
    }

    pub fn unix_seconds(self) -> i64 {
        self.secs
    }

    /// Attoseconds within the second (sticky bit dropped).
    pub fn attos(self) -> u64 {
        self.frac >> 1
    }

    /// `self - earlier` in attoseconds (the sticky bit is below measurement).
    pub fn attos_since(self, earlier: Instant) -> i128 {
        (self.secs as i128 - earlier.secs as i128) * ATTO_PER_SEC as i128
            + (self.attos() as i128 - earlier.attos() as i128)
    }

    /// Parses an RFC 3339 date-time with offset: `YYYY-MM-DDThh:mm:ss[.f+](Z|±hh:mm)`.
    /// `t`/space are accepted for `T` and `z` for `Z`, as RFC 3339 §5.6 allows.
    /// A leap second `:60` is taken as the first instant of the next minute.
    pub fn parse_rfc3339(s: &str) -> Result<Instant, TsError> {
        let b = s.as_bytes();
        if b.len() < 19 {
            return Err(if b.len() >= 10 && date_like(b) {
                TsError::NoOffset
            } else {
                TsError::Bad
            });
        }
        let year = digits(b, 0, 4)? as i64;
        if b[4] != b'-' || b[7] != b'-' {
            return Err(TsError::Bad);
        }
        let month = digits(b, 5, 2)?;
        let day = digits(b, 8, 2)?;
        if !matches!(b[10], b'T' | b't' | b' ') {
            return Err(TsError::Bad);
        }
        let hour = digits(b, 11, 2)?;
        if b[13] != b':' || b[16] != b':' {
            return Err(TsError::Bad);
        }
        let minute = digits(b, 14, 2)?;
        let second = digits(b, 17, 2)?;
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return Err(TsError::Bad);
        }
        let mut i = 19;
        let mut attos: u64 = 0;
        let mut sticky = 0u64;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let start = i;
            let mut scale = ATTO_PER_SEC / 10;
            while i < b.len() && b[i].is_ascii_digit() {
                let d = (b[i] - b'0') as u64;
                if scale > 0 {
                    attos += d * scale;
                    scale /= 10;
                } else if d != 0 {
                    sticky = 1;
                }
                i += 1;
            }
            if i == start {
                return Err(TsError::Bad);
            }
        }
        if i >= b.len() {
            return Err(TsError::NoOffset);
        }
        let offset_secs: i64 = match b[i] {
            b'Z' | b'z' => {
                i += 1;
                0
            }
            sign @ (b'+' | b'-') => {
                if b.len() < i + 6 || b[i + 3] != b':' {
                    return Err(TsError::Bad);
                }
                let oh = digits(b, i + 1, 2)?;
                let om = digits(b, i + 4, 2)?;
                if oh > 23 || om > 59 {
                    return Err(TsError::Bad);
                }
                i += 6;
                let o = (oh * 3600 + om * 60) as i64;
                if sign == b'-' {
                    -o
                } else {
                    o
                }
            }
            _ => return Err(TsError::Bad),
        };
        if i != b.len() {
            return Err(TsError::Bad);
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64 - offset_secs;
        Ok(Instant {
            secs,
            frac: attos * 2 + sticky,
        })
    }

    /// RFC 3339 in UTC, with the shortest fraction that is exact (none when whole).
    pub fn to_utc_string(self) -> String {
        let days = self.secs.div_euclid(86_400);
        let sod = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut out = if (0..=9999).contains(&y) {
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
                sod / 3600,
                sod / 60 % 60,
                sod % 60
            )
        } else {
            format!(
                "{y:+05}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
                sod / 3600,
                sod / 60 % 60,
                sod % 60
            )
        };
        let attos = self.attos();
        if attos != 0 {
            let f = format!("{attos:018}");
            out.push('.');
            out.push_str(f.trim_end_matches('0'));
        }
        out.push('Z');
        out
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_utc_string())
    }
}

fn date_like(b: &[u8]) -> bool {
    b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && b[7] == b'-'
}

fn digits(b: &[u8], at: usize, n: usize) -> Result<u32, TsError> {
    let mut v = 0u32;
    for &c in &b[at..at + n] {
        if !c.is_ascii_digit() {
            return Err(TsError::Bad);
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Ok(v)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(crate) fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Instant {
        Instant::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn offsets_compare_as_instants() {
        assert_eq!(p("2024-08-24T16:06:00+02:00"), p("2024-08-24T14:06:00Z"));
        assert_eq!(p("2024-08-24T15:06:00+01:00"), p("2024-08-24T14:06:00z"));
        assert!(p("2024-08-24T16:05:59.999999999999+02:00") < p("2024-08-24T14:06:00Z"));
        assert_eq!(
            p("2024-08-24T14:06:00.5Z").to_utc_string(),
            "2024-08-24T14:06:00.5Z"
        );
        assert_eq!(
            p("2024-08-24T16:06:00+02:00").to_utc_string(),
            "2024-08-24T14:06:00Z"
        );
    }

    #[test]
    fn long_fractions_stay_ordered() {
        let grid = p("2024-01-01T00:00:00Z");
        let hair = p("2024-01-01T00:00:00.0000000000000000000001Z");
        assert!(hair > grid);
        assert!(p("2024-01-01T00:00:00.000000000000000001Z") > hair);
    }

    #[test]
    fn refusals() {
        assert_eq!(
            Instant::parse_rfc3339("2018-08-20 21:12:00"),
            Err(TsError::NoOffset)
        );
        assert_eq!(
            Instant::parse_rfc3339("2018-08-20T21:12:00"),
            Err(TsError::NoOffset)
        );
        assert_eq!(
            Instant::parse_rfc3339("2018-02-30T21:12:00Z"),
            Err(TsError::Bad)
        );
        assert_eq!(
            Instant::parse_rfc3339("2018-08-20T21:12:00+2:00"),
            Err(TsError::Bad)
        );
        assert_eq!(Instant::parse_rfc3339("yesterday"), Err(TsError::Bad));
        assert_eq!(
            Instant::parse_rfc3339("2018-08-20T21:12:00.Z"),
            Err(TsError::Bad)
        );
    }
}
