//! Lexical forms of the common FHIR primitives, checked by hand.
//!
//! # Why
//!
//! Every primitive of every resource is checked; with the regex crate the
//! date/time and code patterns were the largest single cost of validation.
//! These functions accept exactly the strings the STU3 regexes (in the
//! embedded element table) accept — a property test compares them — and the
//! rarer types (oid, uuid, time) still go through the regexes.

/// A type whose lexical form is checked here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fmt {
    Date,
    DateTime,
    Instant,
    Id,
    Code,
    Uri,
    Decimal,
    Integer,
    PositiveInt,
    UnsignedInt,
}

impl Fmt {
    /// The check for a type code, if it is handled here.
    pub(crate) fn of(ty: &str) -> Option<Fmt> {
        Some(match ty {
            "date" => Fmt::Date,
            "dateTime" => Fmt::DateTime,
            "instant" => Fmt::Instant,
            "id" => Fmt::Id,
            "code" => Fmt::Code,
            "uri" => Fmt::Uri,
            "decimal" => Fmt::Decimal,
            "integer" => Fmt::Integer,
            "positiveInt" => Fmt::PositiveInt,
            "unsignedInt" => Fmt::UnsignedInt,
            _ => return None,
        })
    }

    /// Whether `s` is a valid lexical form.
    pub(crate) fn check(self, s: &str) -> bool {
        let b = s.as_bytes();
        match self {
            Fmt::Date => date_time(b, DateTimeKind::Date, 59),
            Fmt::DateTime => date_time(b, DateTimeKind::DateTime, 59),
            Fmt::Instant => date_time(b, DateTimeKind::Instant, 59),
            Fmt::Id => !b.is_empty() && b.len() <= 64 && b.iter().all(|&c| ID[c as usize]),
            Fmt::Code => code(s),
            Fmt::Uri => uri(s),
            Fmt::Decimal => decimal(b),
            Fmt::Integer => integer(b),
            Fmt::PositiveInt => {
                matches!(b.first(), Some(b'1'..=b'9')) && b.iter().all(u8::is_ascii_digit)
            }
            Fmt::UnsignedInt => unsigned(b),
        }
    }
}

/// `Some(valid)` for the types handled here, `None` for the others.
#[cfg(test)]
pub(crate) fn check(ty: &str, s: &str) -> Option<bool> {
    Fmt::of(ty).map(|f| f.check(s))
}

/// The bytes of an `id`: ASCII letters and digits, `-` and `.`.
const ID: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = (c as u8).is_ascii_alphanumeric() || c as u8 == b'-' || c as u8 == b'.';
        c += 1;
    }
    t
};

/// The ASCII characters `char::is_whitespace` accepts.
#[inline]
fn ascii_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Eight bytes of `b` from `at` as a little-endian word.
#[inline]
fn word(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Whether some byte of a word of ASCII bytes is below 0x21 (every ASCII
/// whitespace byte is): exact for words without a byte >= 0x80.
#[inline]
fn low_byte(w: u64) -> bool {
    w.wrapping_sub(LO * 0x21) & !w & HI != 0
}

/// `\S*`: no whitespace (ASCII fast path eight bytes at a time;
/// `char::is_whitespace` on any non-ASCII string).
fn uri(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i + 8 <= b.len() {
        let w = word(b, i);
        if w & HI != 0 {
            return !s.chars().any(char::is_whitespace);
        }
        if low_byte(w) && b[i..i + 8].iter().any(|&c| ascii_ws(c)) {
            return false;
        }
        i += 8;
    }
    for &c in &b[i..] {
        if c >= 0x80 {
            return !s.chars().any(char::is_whitespace);
        }
        if ascii_ws(c) {
            return false;
        }
    }
    true
}

#[derive(Clone, Copy, PartialEq)]
enum DateTimeKind {
    Date,
    DateTime,
    Instant,
}

fn digits(b: &[u8], at: usize, n: usize) -> bool {
    b.len() >= at + n && b[at..at + n].iter().all(u8::is_ascii_digit)
}

fn two(b: &[u8], at: usize) -> Option<u32> {
    digits(b, at, 2).then(|| u32::from(b[at] - b'0') * 10 + u32::from(b[at + 1] - b'0'))
}

/// An `instant` that may also end its minute on a leap second (`:60`), as
/// the ITK harness's pattern for MessageHeader.timestamp allows.
pub(crate) fn instant_or_leap_second(s: &str) -> bool {
    date_time(s.as_bytes(), DateTimeKind::Instant, 60)
}

/// Days in `month` (1-12) of `year` (proleptic Gregorian; the year's sign
/// does not change whether it is a leap year).
fn days_in(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `max_sec`: the largest seconds value (59, or 60 to allow a leap second).
fn date_time(b: &[u8], kind: DateTimeKind, max_sec: u32) -> bool {
    let mut i = usize::from(b.first() == Some(&b'-'));
    if !digits(b, i, 4) {
        return false;
    }
    i += 4;
    if i == b.len() {
        return kind != DateTimeKind::Instant;
    }
    // -MM (01-12)
    if b[i] != b'-' || !two(b, i + 1).is_some_and(|m| (1..=12).contains(&m)) {
        return false;
    }
    i += 3;
    if i == b.len() {
        return kind != DateTimeKind::Instant;
    }
    // -DD: a day of that month. The STU3 patterns allow 00-31 whatever the
    // month, but the datatypes page says "Dates SHALL be valid dates", and
    // 2024-02-30 or 2023-04-00 is no date a receiver can read.
    let month = u32::from(b[i - 2] - b'0') * 10 + u32::from(b[i - 1] - b'0');
    let year = b[i - 7..i - 3]
        .iter()
        .fold(0u32, |y, d| y * 10 + u32::from(d - b'0'));
    if b[i] != b'-' || !two(b, i + 1).is_some_and(|d| (1..=days_in(year, month)).contains(&d)) {
        return false;
    }
    i += 3;
    if i == b.len() {
        return kind != DateTimeKind::Instant;
    }
    if kind == DateTimeKind::Date {
        return false;
    }
    // Thh:mm:ss
    if b[i] != b'T'
        || two(b, i + 1).is_none_or(|h| h > 23)
        || b.get(i + 3) != Some(&b':')
        || two(b, i + 4).is_none_or(|m| m > 59)
        || b.get(i + 6) != Some(&b':')
        || two(b, i + 7).is_none_or(|s| s > max_sec)
    {
        return false;
    }
    i += 9;
    // .fraction
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    // Z | (+|-)hh:mm with hh 00-13, or 14:00
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            if b.len() != i + 6 || b[i + 3] != b':' {
                return false;
            }
            match (two(b, i + 1), two(b, i + 4)) {
                (Some(h), Some(m)) => (h <= 13 && m <= 59) || (h == 14 && m == 0),
                _ => false,
            }
        }
        _ => false,
    }
}

/// `[^\s]+([\s]?[^\s]+)*`: no leading, trailing or doubled whitespace
/// (ASCII fast path eight bytes at a time; chars on any non-ASCII string).
fn code(s: &str) -> bool {
    let b = s.as_bytes();
    let mut prev_ws = true; // so a leading space fails
    let mut i = 0;
    while i + 8 <= b.len() {
        let w = word(b, i);
        if w & HI != 0 {
            return code_chars(s);
        }
        if low_byte(w) {
            for &c in &b[i..i + 8] {
                let ws = ascii_ws(c);
                if ws && prev_ws {
                    return false;
                }
                prev_ws = ws;
            }
        } else {
            prev_ws = false;
        }
        i += 8;
    }
    for &c in &b[i..] {
        if c >= 0x80 {
            return code_chars(s);
        }
        let ws = ascii_ws(c);
        if ws && prev_ws {
            return false;
        }
        prev_ws = ws;
    }
    !b.is_empty() && !prev_ws
}

fn code_chars(s: &str) -> bool {
    let mut prev_ws = true;
    let mut any = false;
    for c in s.chars() {
        let ws = c.is_whitespace();
        if ws && prev_ws {
            return false;
        }
        prev_ws = ws;
        any = true;
    }
    any && !prev_ws
}

fn unsigned(b: &[u8]) -> bool {
    match b {
        [b'0'] => true,
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

fn integer(b: &[u8]) -> bool {
    unsigned(b.strip_prefix(b"-").unwrap_or(b))
}

fn decimal(b: &[u8]) -> bool {
    let b = b.strip_prefix(b"-").unwrap_or(b);
    match b.iter().position(|&c| c == b'.') {
        None => unsigned(b),
        Some(p) => {
            unsigned(&b[..p]) && p + 1 < b.len() && b[p + 1..].iter().all(u8::is_ascii_digit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::fhir::defs::defs;
    use proptest::prelude::*;
    use regex::Regex;

    fn reference(ty: &str) -> Regex {
        let re = match ty {
            "instant" => r"-?[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))".to_string(),
            "uri" => r"\S*".to_string(),
            t => defs().primitive_regex(t).unwrap_or_else(|| panic!("{t}")).to_string(),
        };
        Regex::new(&format!("^(?:{re})$")).unwrap()
    }

    /// The STU3 pattern, and for the date types a real calendar day ("Dates
    /// SHALL be valid dates"; the patterns allow day 00 and 31 in any month).
    fn reference_ok(ty: &str, s: &str) -> bool {
        if !reference(ty).is_match(s) {
            return false;
        }
        if !matches!(ty, "date" | "dateTime" | "instant") {
            return true;
        }
        let s = s.strip_prefix('-').unwrap_or(s);
        let (Some(y), Some(m), Some(d)) = (s.get(0..4), s.get(5..7), s.get(8..10)) else {
            return true;
        };
        let (y, m, d): (i16, i8, i8) = (y.parse().unwrap(), m.parse().unwrap(), d.parse().unwrap());
        jiff::civil::Date::new(y, m, d).is_ok()
    }

    const TYPES: &[&str] = &[
        "date",
        "dateTime",
        "id",
        "code",
        "uri",
        "decimal",
        "integer",
        "positiveInt",
        "unsignedInt",
    ];

    #[test]
    fn examples() {
        for (ty, s, ok) in [
            ("date", "2020", true),
            ("date", "2020-02", true),
            ("date", "2020-02-29", true),
            ("date", "2020-02-30", false),
            ("date", "2021-02-29", false),
            ("date", "1900-02-29", false),
            ("date", "2000-02-29", true),
            ("date", "2020-04-31", false),
            ("date", "2020-01-00", false),
            ("dateTime", "2023-02-29T10:00:00Z", false),
            ("instant", "2023-11-31T10:00:00Z", false),
            ("date", "2020-13", false),
            ("date", "01/01/1970", false),
            ("date", "2020-01-01T10:00:00Z", false),
            ("dateTime", "2020-01-01T10:00:00Z", true),
            ("dateTime", "2020-01-01T10:00:00.123+01:00", true),
            ("dateTime", "2020-01-01T10:00:00", false),
            ("dateTime", "2020-01-01T10:00Z", false),
            ("dateTime", "2020-01-01T24:00:00Z", false),
            ("dateTime", "2020-01-01T10:00:00+14:00", true),
            ("dateTime", "2020-01-01T10:00:00+14:01", false),
            ("instant", "2020-01-01", false),
            ("instant", "2020-01-01T10:00:00Z", true),
            ("instant", "2020-01-00T10:00:00Z", false),
            ("id", "a-b.C9", true),
            ("id", "bad id!", false),
            ("code", "a b", true),
            ("code", " a", false),
            ("code", "a  b", false),
            ("decimal", "1.50", true),
            ("decimal", "4E1", false),
            ("decimal", "01", false),
            ("integer", "-0", true),
            ("positiveInt", "0", false),
        ] {
            assert_eq!(check(ty, s), Some(ok), "{ty} {s:?}");
            assert_eq!(reference_ok(ty, s), ok, "reference {ty} {s:?}");
        }
        assert_eq!(check("oid", "urn:oid:1.2"), None);
    }

    proptest! {
        #[test]
        fn agrees_with_the_stu3_patterns(
            t in 0usize..9,
            s in r"-?[0-9]{0,5}(-[0-9]{1,3}(-[0-9]{1,3}(T[0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3}(\.[0-9]{0,3})?(Z|[+-][0-9]{1,3}:[0-9]{1,3})?)?)?)?"
        ) {
            let ty = TYPES[t];
            prop_assert_eq!(check(ty, &s), Some(reference_ok(ty, &s)), "{} {:?}", ty, s);
        }

        #[test]
        fn agrees_on_arbitrary_text(t in 0usize..9, s in r"\PC{0,12}|[ a-zA-Z0-9.\-]{0,10}|[ \t\n\x0b\x0c\r\u{85}\u{a0}\u{2003}ab:/]{0,8}|[ \t\n\x0b\x0c\r\x1f!\u{85}\u{a0}\u{2003}abc:/]{8,40}|[a-z:/.]{6,30}[ \t\u{85}]?[a-z:/.]{0,30}") {
            let ty = TYPES[t];
            prop_assert_eq!(check(ty, &s), Some(reference_ok(ty, &s)), "{} {:?}", ty, s);
        }
    }
}
