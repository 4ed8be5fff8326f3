//! HL7 v3 `TS` (point in time) parsing and conversion to the FHIR STU3
//! `date`, `dateTime` and `instant` primitives (crosswalk §2.1.2).
//!
//! Accepted shapes: `YYYY`, `YYYYMM`, `YYYYMMDD`, `YYYYMMDDHH`,
//! `YYYYMMDDHHMM`, `YYYYMMDDHHMMSS`, the last optionally followed by a
//! fraction `.f+` (1–9 digits), and any of them optionally followed by a zone:
//! `Z`, `±HH` or `±HHMM`.
//!
//! * Partial dates keep their precision (`2011` → `2011`).
//! * A time part is padded to seconds (`201105192000` → `2011-05-19T20:00:00…`).
//! * `+01` is written `+01:00`; `Z` is kept as `Z`.
//! * A time without a zone is Europe/London civil time (Rec. R15). The offset
//!   in force is written; a spring-gap time is shifted forward by the gap and
//!   an autumn-overlap time takes the earlier (BST) offset. Either case is
//!   reported as an [`Adjustment`] so the caller can log it.
//!
//! The London resolution happens once, in [`parse_ts`], so the conversions
//! themselves cannot fail.

use std::cmp::Ordering;
use std::sync::OnceLock;

use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};

/// Why a TS value was rejected. [`TsError::rule`] gives a stable rule name
/// for conversion reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TsError {
    #[error("empty timestamp")]
    Empty,
    #[error("timestamp is a placeholder ({rule})")]
    Placeholder { rule: &'static str },
    #[error("timestamp contains a character that is not a digit")]
    NonDigit,
    #[error("timestamp has {len} digits; expected 4, 6, 8, 10, 12 or 14")]
    BadLength { len: usize },
    #[error("month {0} out of range 01-12")]
    Month(u8),
    #[error("day {day} does not exist in {year:04}-{month:02}")]
    Day { year: u16, month: u8, day: u8 },
    #[error("hour {0} out of range 00-23")]
    Hour(u8),
    #[error("minute {0} out of range 00-59")]
    Minute(u8),
    #[error("second {0} out of range 00-59")]
    Second(u8),
    #[error("fractional seconds need a seconds part (YYYYMMDDHHMMSS.f)")]
    FractionWithoutSeconds,
    #[error("fractional seconds must have 1 to 9 digits")]
    Fraction,
    #[error("zone offset must be Z, ±HH or ±HHMM within ±14:00")]
    Offset,
    #[error("Europe/London time zone data unavailable or out of range")]
    TimeZone,
}

impl TsError {
    /// Stable rule name, e.g. `ts.month`.
    pub fn rule(&self) -> &'static str {
        match self {
            TsError::Empty => "ts.empty",
            TsError::Placeholder { .. } => "ts.placeholder",
            TsError::NonDigit => "ts.non-digit",
            TsError::BadLength { .. } => "ts.shape",
            TsError::Month(_) => "ts.month",
            TsError::Day { .. } => "ts.day",
            TsError::Hour(_) => "ts.hour",
            TsError::Minute(_) => "ts.minute",
            TsError::Second(_) => "ts.second",
            TsError::FractionWithoutSeconds => "ts.fraction-without-seconds",
            TsError::Fraction => "ts.fraction",
            TsError::Offset => "ts.offset",
            TsError::TimeZone => "ts.timezone",
        }
    }
}

/// A change made while resolving a zone-less time as Europe/London civil time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Adjustment {
    /// The local time does not exist (spring-forward gap); it was moved
    /// forward by the length of the gap (one hour).
    SpringGapShiftedForward,
    /// The local time occurs twice (autumn overlap); the earlier (BST)
    /// offset was used.
    AutumnOverlapEarlierOffset,
    /// Before 1847 London kept local mean time (offset with seconds, not
    /// expressible as ±hh:mm); GMT `+00:00` was written instead.
    LocalMeanTimeAsGmt,
}

impl Adjustment {
    /// Stable rule name for logs.
    pub fn rule(self) -> &'static str {
        match self {
            Adjustment::SpringGapShiftedForward => "ts.london-gap-shifted",
            Adjustment::AutumnOverlapEarlierOffset => "ts.london-overlap-earlier",
            Adjustment::LocalMeanTimeAsGmt => "ts.london-lmt-as-gmt",
        }
    }
}

/// How much of the value the source gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
}

/// The zone as written in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceZone {
    /// No zone: Europe/London assumed (only matters when a time is present).
    None,
    /// `Z`.
    Utc,
    /// `±HH[MM]`, in minutes east of UTC.
    Offset(i16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Time {
    hour: u8,
    minute: u8,
    second: u8,
    /// Fraction digits as an integer and their count (0 = no fraction).
    frac: u32,
    frac_len: u8,
    /// Offset written in the output, minutes east of UTC (resolved for
    /// zone-less values).
    offset_min: i16,
}

/// A parsed, validated HL7 TS value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ts {
    year: u16,
    month: Option<u8>,
    day: Option<u8>,
    time: Option<Time>,
    zone: SourceZone,
    precision: Precision,
    adjustment: Option<Adjustment>,
}

/// Sort key: the first instant the value denotes (UTC, nanoseconds since the
/// Unix epoch), then precision. Compare keys with `<=` to check `start ≤ end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TsKey {
    pub start_nanos: i128,
    pub precision: Precision,
}

fn london() -> Option<&'static TimeZone> {
    static TZ: OnceLock<Option<TimeZone>> = OnceLock::new();
    TZ.get_or_init(|| TimeZone::get("Europe/London").ok())
        .as_ref()
}

fn is_leap(y: u16) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month may be 13,
/// meaning January of the next year).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let (y, m) = if m > 12 { (y + 1, m - 12) } else { (y, m) };
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits2(b: &[u8]) -> u8 {
    (b[0] - b'0') * 10 + (b[1] - b'0')
}

fn parse_zone(z: &str) -> Result<SourceZone, TsError> {
    if z == "Z" {
        return Ok(SourceZone::Utc);
    }
    let b = z.as_bytes();
    let sign: i16 = match b.first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return Err(TsError::Offset),
    };
    let rest = &b[1..];
    if !(rest.len() == 2 || rest.len() == 4) || !rest.iter().all(u8::is_ascii_digit) {
        return Err(TsError::Offset);
    }
    let hh = digits2(&rest[0..2]);
    let mm = if rest.len() == 4 {
        digits2(&rest[2..4])
    } else {
        0
    };
    // FHIR: (0[0-9]|1[0-3]):[0-5][0-9] | 14:00
    if mm > 59 || hh > 14 || (hh == 14 && mm != 0) {
        return Err(TsError::Offset);
    }
    Ok(SourceZone::Offset(sign * (hh as i16 * 60 + mm as i16)))
}

/// Resolve a Europe/London civil time: returns the (possibly shifted) civil
/// time, the offset in minutes, and any adjustment made.
fn resolve_london(dt: DateTime) -> Result<(DateTime, i16, Option<Adjustment>), TsError> {
    let tz = london().ok_or(TsError::TimeZone)?;
    let (dt, off, adj) = match tz.to_ambiguous_timestamp(dt).offset() {
        AmbiguousOffset::Unambiguous { offset } => (dt, offset, None),
        AmbiguousOffset::Gap { before, after } => {
            let ts = before.to_timestamp(dt).map_err(|_| TsError::TimeZone)?;
            (
                after.to_datetime(ts),
                after,
                Some(Adjustment::SpringGapShiftedForward),
            )
        }
        AmbiguousOffset::Fold { before, .. } => {
            (dt, before, Some(Adjustment::AutumnOverlapEarlierOffset))
        }
    };
    let secs = off.seconds();
    if secs % 60 != 0 {
        return Ok((dt, 0, Some(Adjustment::LocalMeanTimeAsGmt)));
    }
    Ok((dt, (secs / 60) as i16, adj))
}

/// Offset in force in London at local midnight of a date (0 on any failure).
fn london_midnight_offset_min(y: u16, m: u8, d: u8) -> i64 {
    let Some(tz) = london() else { return 0 };
    let Ok(dt) = DateTime::new(y as i16, m as i8, d as i8, 0, 0, 0, 0) else {
        return 0;
    };
    let off: Offset = match tz.to_ambiguous_timestamp(dt).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset,
        AmbiguousOffset::Gap { before, .. } | AmbiguousOffset::Fold { before, .. } => before,
    };
    (off.seconds() / 60) as i64
}

/// Parse and validate an HL7 v3 TS value (surrounding whitespace ignored).
pub fn parse_ts(s: &str) -> Result<Ts, TsError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(TsError::Empty);
    }
    if let Some(rule) = crate::convert::placeholder::is_placeholder(s) {
        return Err(TsError::Placeholder { rule });
    }
    // Split off the zone: the first '+', '-' or 'Z'.
    let (main, zone) = match s.find(['+', '-', 'Z']) {
        Some(i) => (&s[..i], parse_zone(&s[i..])?),
        None => (s, SourceZone::None),
    };
    let (digits, frac) = match main.split_once('.') {
        Some((d, f)) => (d, Some(f)),
        None => (main, None),
    };
    let b = digits.as_bytes();
    if !b.iter().all(u8::is_ascii_digit) {
        return Err(TsError::NonDigit);
    }
    let precision = match b.len() {
        4 => Precision::Year,
        6 => Precision::Month,
        8 => Precision::Day,
        10 => Precision::Hour,
        12 => Precision::Minute,
        14 => Precision::Second,
        len => return Err(TsError::BadLength { len }),
    };
    let (frac, frac_len) = match frac {
        None => (0u32, 0u8),
        Some(_) if precision != Precision::Second => return Err(TsError::FractionWithoutSeconds),
        Some(f) => {
            if f.is_empty() || f.len() > 9 || !f.bytes().all(|c| c.is_ascii_digit()) {
                return Err(TsError::Fraction);
            }
            (
                f.parse::<u32>().map_err(|_| TsError::Fraction)?,
                f.len() as u8,
            )
        }
    };
    let year = digits2(&b[0..2]) as u16 * 100 + digits2(&b[2..4]) as u16;
    let month = if b.len() >= 6 {
        let m = digits2(&b[4..6]);
        if !(1..=12).contains(&m) {
            return Err(TsError::Month(m));
        }
        Some(m)
    } else {
        None
    };
    let day = if b.len() >= 8 {
        let d = digits2(&b[6..8]);
        let m = month.unwrap_or(1);
        if d == 0 || d > days_in_month(year, m) {
            return Err(TsError::Day {
                year,
                month: m,
                day: d,
            });
        }
        Some(d)
    } else {
        None
    };
    let mut ts = Ts {
        year,
        month,
        day,
        time: None,
        zone,
        precision,
        adjustment: None,
    };
    if b.len() >= 10 {
        let hour = digits2(&b[8..10]);
        if hour > 23 {
            return Err(TsError::Hour(hour));
        }
        let minute = if b.len() >= 12 {
            digits2(&b[10..12])
        } else {
            0
        };
        if minute > 59 {
            return Err(TsError::Minute(minute));
        }
        let second = if b.len() >= 14 {
            digits2(&b[12..14])
        } else {
            0
        };
        if second > 59 {
            return Err(TsError::Second(second));
        }
        let mut t = Time {
            hour,
            minute,
            second,
            frac,
            frac_len,
            offset_min: 0,
        };
        match zone {
            SourceZone::Utc => {}
            SourceZone::Offset(m) => t.offset_min = m,
            SourceZone::None => {
                let (m, d) = (month.unwrap_or(1), day.unwrap_or(1));
                let dt = DateTime::new(
                    year as i16,
                    m as i8,
                    d as i8,
                    hour as i8,
                    minute as i8,
                    second as i8,
                    0,
                )
                .map_err(|_| TsError::TimeZone)?;
                let (dt, off, adj) = resolve_london(dt)?;
                if dt.year() < 0 || dt.year() > 9999 {
                    return Err(TsError::TimeZone);
                }
                ts.year = dt.year() as u16;
                ts.month = Some(dt.month() as u8);
                ts.day = Some(dt.day() as u8);
                t.hour = dt.hour() as u8;
                t.minute = dt.minute() as u8;
                t.second = dt.second() as u8;
                t.offset_min = off;
                ts.adjustment = adj;
            }
        }
        ts.time = Some(t);
    }
    Ok(ts)
}

/// `v` in decimal, zero-padded to `width` (what `{:0width$}` writes).
fn push_num(out: &mut String, v: u64, width: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut x = v;
    loop {
        i -= 1;
        buf[i] = b'0' + (x % 10) as u8;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    for _ in buf.len() - i..width {
        out.push('0');
    }
    for &d in &buf[i..] {
        out.push(d as char);
    }
}

fn push_offset(out: &mut String, zone: SourceZone, offset_min: i16) {
    if zone == SourceZone::Utc {
        out.push('Z');
        return;
    }
    let sign = if offset_min < 0 { '-' } else { '+' };
    let a = offset_min.unsigned_abs();
    out.push(sign);
    push_num(out, (a / 60) as u64, 2);
    out.push(':');
    push_num(out, (a % 60) as u64, 2);
}

impl Ts {
    /// Precision the source gave.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Whether the value has a time part.
    pub fn has_time(&self) -> bool {
        self.time.is_some()
    }

    /// The zone as written in the source ([`SourceZone::None`] = London assumed).
    pub fn source_zone(&self) -> SourceZone {
        self.zone
    }

    /// The adjustment made when resolving London civil time, if any.
    pub fn adjustment(&self) -> Option<Adjustment> {
        self.adjustment
    }

    /// FHIR `date`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (a time part is dropped).
    pub fn to_date(&self) -> String {
        let mut out = String::with_capacity(10);
        self.push_date(&mut out);
        out
    }

    fn push_date(&self, out: &mut String) {
        push_num(out, self.year as u64, 4);
        if let Some(m) = self.month {
            out.push('-');
            push_num(out, m as u64, 2);
            if let Some(d) = self.day {
                out.push('-');
                push_num(out, d as u64, 2);
            }
        }
    }

    /// FHIR `dateTime`. Partial dates stay partial; a time is written to the
    /// second with a zone. The adjustment (if any) is returned for logging.
    pub fn to_date_time(&self) -> (String, Option<Adjustment>) {
        let mut out = String::with_capacity(35);
        self.push_date(&mut out);
        if let Some(t) = &self.time {
            out.push('T');
            push_num(&mut out, t.hour as u64, 2);
            out.push(':');
            push_num(&mut out, t.minute as u64, 2);
            out.push(':');
            push_num(&mut out, t.second as u64, 2);
            if t.frac_len > 0 {
                out.push('.');
                push_num(&mut out, t.frac as u64, t.frac_len as usize);
            }
            push_offset(&mut out, self.zone, t.offset_min);
        }
        (out, self.adjustment)
    }

    /// FHIR `instant`; `None` for a value without a time (not derivable).
    pub fn to_instant(&self) -> Option<(String, Option<Adjustment>)> {
        self.time.as_ref()?;
        Some(self.to_date_time())
    }

    /// First instant the value denotes, as nanoseconds since the Unix epoch.
    /// Date-only values start at local midnight (the source zone if given,
    /// else Europe/London).
    fn start_nanos(&self) -> i128 {
        let m = self.month.unwrap_or(1);
        let d = self.day.unwrap_or(1);
        let days = days_from_civil(self.year as i64, m as i64, d as i64);
        match &self.time {
            Some(t) => {
                let secs =
                    days * 86_400 + t.hour as i64 * 3600 + t.minute as i64 * 60 + t.second as i64
                        - t.offset_min as i64 * 60;
                let mut nanos = t.frac as i128;
                for _ in t.frac_len..9 {
                    nanos *= 10;
                }
                secs as i128 * 1_000_000_000 + nanos
            }
            None => {
                let off = self.date_offset_min(m, d);
                (days * 86_400 - off * 60) as i128 * 1_000_000_000
            }
        }
    }

    fn date_offset_min(&self, m: u8, d: u8) -> i64 {
        match self.zone {
            SourceZone::Utc => 0,
            SourceZone::Offset(o) => o as i64,
            SourceZone::None => london_midnight_offset_min(self.year, m, d),
        }
    }

    /// Ordering key (start of the denoted period). `a.cmp_key() <= b.cmp_key()`
    /// checks `start ≤ end` for values of the same precision.
    pub fn cmp_key(&self) -> TsKey {
        TsKey {
            start_nanos: self.start_nanos(),
            precision: self.precision,
        }
    }

    /// Last nanosecond of the period a date-only value denotes (e.g. the end
    /// of 2011 for `2011`); for a value with a time, the instant itself.
    pub fn range_end_nanos(&self) -> i128 {
        if self.time.is_some() {
            return self.start_nanos();
        }
        let (y, m, d) = (self.year as i64, self.month, self.day);
        let (ny, nm, nd) = match (m, d) {
            (None, _) => (y + 1, 1, 1),
            (Some(m), None) => (y, m as i64 + 1, 1),
            (Some(m), Some(d)) => {
                if d < days_in_month(self.year, m) {
                    (y, m as i64, d as i64 + 1)
                } else {
                    (y, m as i64 + 1, 1)
                }
            }
        };
        let days = days_from_civil(ny, nm, nd);
        let off = self.date_offset_min(m.unwrap_or(1), d.unwrap_or(1));
        (days * 86_400 - off * 60) as i128 * 1_000_000_000 - 1
    }

    /// Lenient interval check for FHIR per-1 across precisions: `true` when
    /// `self` (a period start) can be at or before `end`.
    pub fn starts_not_after(&self, end: &Ts) -> bool {
        self.start_nanos() <= end.range_end_nanos()
    }

    /// Strict comparison of the period starts (ties broken by precision).
    pub fn cmp_start(&self, other: &Ts) -> Ordering {
        self.cmp_key().cmp(&other.cmp_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_num_is_zero_padded_format() {
        for (v, w) in [
            (0u64, 2usize),
            (7, 2),
            (12, 2),
            (123, 2),
            (5, 4),
            (2024, 4),
            (12345, 4),
            (42, 0),
            (9, 9),
            (123456789, 3),
        ] {
            let mut s = String::new();
            push_num(&mut s, v, w);
            assert_eq!(s, format!("{v:0w$}"));
        }
    }

    fn dt(s: &str) -> String {
        parse_ts(s).unwrap().to_date_time().0
    }

    #[test]
    fn partial_dates_keep_precision() {
        assert_eq!(dt("2011"), "2011");
        assert_eq!(dt("201105"), "2011-05");
        assert_eq!(dt("20110519"), "2011-05-19");
        assert_eq!(parse_ts("20110519").unwrap().to_date(), "2011-05-19");
        assert_eq!(parse_ts("2011").unwrap().to_instant(), None);
        assert_eq!(parse_ts("20110519").unwrap().to_instant(), None);
    }

    #[test]
    fn offsets() {
        assert_eq!(dt("201105192000+01"), "2011-05-19T20:00:00+01:00");
        assert_eq!(dt("20210917095654+0000"), "2021-09-17T09:56:54+00:00");
        assert_eq!(dt("20210917095654-0500"), "2021-09-17T09:56:54-05:00");
        assert_eq!(dt("20210917095654.123Z"), "2021-09-17T09:56:54.123Z");
        assert_eq!(dt("2021091709+0530"), "2021-09-17T09:00:00+05:30");
        assert_eq!(
            dt("20210917095654.0500-0100"),
            "2021-09-17T09:56:54.0500-01:00"
        );
        assert_eq!(dt("200605012036+01"), "2006-05-01T20:36:00+01:00");
    }

    #[test]
    fn london_assumed() {
        // GMT in winter, BST in summer.
        assert_eq!(dt("202101151030"), "2021-01-15T10:30:00+00:00");
        assert_eq!(dt("20210715103015"), "2021-07-15T10:30:15+01:00");
        let ts = parse_ts("20210715103015").unwrap();
        assert_eq!(ts.source_zone(), SourceZone::None);
        assert_eq!(ts.to_date_time().1, None);
        assert_eq!(
            ts.to_instant().unwrap().0,
            "2021-07-15T10:30:15+01:00".to_string()
        );
    }

    #[test]
    fn spring_gap_shifts_forward() {
        // 2021-03-28 01:00 GMT → 02:00 BST; 01:30 does not exist.
        let ts = parse_ts("202103280130").unwrap();
        assert_eq!(
            ts.to_date_time(),
            (
                "2021-03-28T02:30:00+01:00".to_string(),
                Some(Adjustment::SpringGapShiftedForward)
            )
        );
    }

    #[test]
    fn autumn_overlap_takes_bst() {
        // 2021-10-31 02:00 BST → 01:00 GMT; 01:30 happens twice.
        let ts = parse_ts("202110310130").unwrap();
        assert_eq!(
            ts.to_date_time(),
            (
                "2021-10-31T01:30:00+01:00".to_string(),
                Some(Adjustment::AutumnOverlapEarlierOffset)
            )
        );
        assert_eq!(ts.to_date(), "2021-10-31");
    }

    #[test]
    fn date_of_datetime_is_date_part() {
        assert_eq!(
            parse_ts("20110519200000+0100").unwrap().to_date(),
            "2011-05-19"
        );
    }

    #[test]
    fn errors_name_rules() {
        assert_eq!(parse_ts("201121121305+00"), Err(TsError::Month(21)));
        assert_eq!(parse_ts("201121121305+00").unwrap_err().rule(), "ts.month");
        assert!(matches!(parse_ts("20110532"), Err(TsError::Day { .. })));
        assert!(matches!(parse_ts("20110229"), Err(TsError::Day { .. })));
        assert!(parse_ts("20120229").is_ok());
        assert_eq!(parse_ts(""), Err(TsError::Empty));
        assert_eq!(parse_ts("2011a519"), Err(TsError::NonDigit));
        assert_eq!(parse_ts("20115"), Err(TsError::BadLength { len: 5 }));
        assert_eq!(parse_ts("2011052425"), Err(TsError::Hour(25)));
        assert_eq!(parse_ts("201105241260"), Err(TsError::Minute(60)));
        assert_eq!(parse_ts("20110524121260"), Err(TsError::Second(60)));
        assert_eq!(
            parse_ts("201105241212.5"),
            Err(TsError::FractionWithoutSeconds)
        );
        assert_eq!(parse_ts("20110524121210."), Err(TsError::Fraction));
        assert_eq!(parse_ts("201105241212+1"), Err(TsError::Offset));
        assert_eq!(parse_ts("201105241212+1430"), Err(TsError::Offset));
        assert_eq!(parse_ts("201105241212+15"), Err(TsError::Offset));
        assert!(parse_ts("201105241212+14").is_ok());
        assert_eq!(parse_ts("201105241212Z0"), Err(TsError::Offset));
        assert!(matches!(
            parse_ts("@@nhs111-encounter-date-time-start@@+00"),
            Err(TsError::Placeholder { .. })
        ));
        assert!(matches!(
            parse_ts("__TIMESTAMP__"),
            Err(TsError::Placeholder { .. })
        ));
        assert_eq!(parse_ts("２０１１"), Err(TsError::NonDigit));
    }

    #[test]
    fn ordering() {
        let a = parse_ts("201105192000+01").unwrap();
        let b = parse_ts("201105191930Z").unwrap();
        assert!(a.cmp_key() < b.cmp_key()); // 19:00Z < 19:30Z
        let d = parse_ts("20110519").unwrap();
        assert!(d.cmp_key() < a.cmp_key());
        assert!(a.starts_not_after(&d)); // same day
        let y = parse_ts("2011").unwrap();
        assert!(a.starts_not_after(&y));
        assert!(!parse_ts("2012").unwrap().starts_not_after(&a));
        assert_eq!(a.cmp_start(&a), Ordering::Equal);
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;
        use regex::Regex;

        const DATE_TIME: &str = r"^-?[0-9]{4}(-(0[1-9]|1[0-2])(-(0[0-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$";
        const INSTANT: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$";
        const DATE: &str = r"^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$";

        fn ts_string() -> impl Strategy<Value = (String, usize)> {
            (
                1u16..=9999,
                1u8..=12,
                1u8..=31,
                0u8..=23,
                0u8..=59,
                0u8..=59,
                0usize..6,
                proptest::option::of("[0-9]{1,9}"),
                0u8..5,
                0u8..=14,
                0u8..=59,
            )
                .prop_map(|(y, mo, d, h, mi, s, prec, frac, zk, zh, zm)| {
                    let d = d.min(days_in_month(y, mo));
                    let full = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}");
                    let len = [4, 6, 8, 10, 12, 14][prec];
                    let mut out = full[..len].to_string();
                    if len == 14 {
                        if let Some(f) = frac {
                            out.push('.');
                            out.push_str(&f);
                        }
                    }
                    let zm = if zh == 14 { 0 } else { zm };
                    match zk {
                        0 => {}
                        1 => out.push('Z'),
                        2 => out.push_str(&format!("+{zh:02}")),
                        3 => out.push_str(&format!("-{zh:02}{zm:02}")),
                        _ => out.push_str(&format!("+{zh:02}{zm:02}")),
                    }
                    (out, len)
                })
        }

        proptest! {
            #[test]
            fn valid_ts_converts_to_valid_fhir((s, len) in ts_string()) {
                let dt_re = Regex::new(DATE_TIME).unwrap();
                let inst_re = Regex::new(INSTANT).unwrap();
                let date_re = Regex::new(DATE).unwrap();
                let ts = parse_ts(&s).unwrap();
                let (dt, _) = ts.to_date_time();
                prop_assert!(dt_re.is_match(&dt), "{} -> {}", s, dt);
                let date = ts.to_date();
                prop_assert!(date_re.is_match(&date), "{} -> {}", s, date);
                let want_len = match len { 4 => 4, 6 => 7, _ => 10 };
                prop_assert_eq!(date.len(), want_len);
                if len <= 8 {
                    prop_assert_eq!(&dt, &date);
                    prop_assert!(ts.to_instant().is_none());
                } else {
                    let (inst, _) = ts.to_instant().unwrap();
                    prop_assert!(inst_re.is_match(&inst), "{} -> {}", s, inst);
                    if ts.source_zone() != SourceZone::None {
                        // Explicit zone: the civil date is exactly the source's.
                        prop_assert_eq!(date.replace('-', ""), s[..8].to_string());
                    }
                }
            }

            #[test]
            fn never_panics(s in "\\PC{0,24}") {
                let _ = parse_ts(&s);
            }

            #[test]
            fn never_panics_digitish(s in "[0-9+\\-Z.]{0,24}") {
                if let Ok(ts) = parse_ts(&s) {
                    let _ = ts.to_date_time();
                    let _ = ts.cmp_key();
                    let _ = ts.range_end_nanos();
                }
            }
        }
    }
}
