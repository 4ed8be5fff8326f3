//! NHS-specific identifier checks: NHS number (Modulus 11, crosswalk
//! §2.1.7), UK postcodes (§2.1.5) and ODS codes (§2.1.1).

use std::borrow::Cow;

/// `true` when `s` is exactly 10 ASCII digits whose last digit is the
/// Modulus 11 check digit of the first nine (weights 10..2;
/// check = 11 − (sum mod 11); 11 → 0; 10 → never valid).
///
/// The value is not trimmed: an id with padding must be trimmed by the
/// caller first (which is what gets written to the output).
pub fn nhs_number_valid(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b[..9]
        .iter()
        .zip((2..=10u32).rev())
        .map(|(&c, w)| (c - b'0') as u32 * w)
        .sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return false,
        c => c,
    };
    (b[9] - b'0') as u32 == check
}

fn is_alpha(c: u8) -> bool {
    c.is_ascii_uppercase()
}

fn is_digit(c: u8) -> bool {
    c.is_ascii_digit()
}

/// Validates a normalised postcode (`OUTWARD INWARD`, upper case, one space).
fn postcode_shape_valid(p: &str) -> bool {
    if p == "GIR 0AA" {
        return true;
    }
    let Some((out, inw)) = p.split_once(' ') else {
        return false;
    };
    let i = inw.as_bytes();
    if i.len() != 3 || !is_digit(i[0]) || !is_alpha(i[1]) || !is_alpha(i[2]) {
        return false;
    }
    let o = out.as_bytes();
    match o.len() {
        // A9
        2 => is_alpha(o[0]) && is_digit(o[1]),
        // A99, A9A, AA9
        3 => {
            is_alpha(o[0])
                && ((is_digit(o[1]) && (is_digit(o[2]) || is_alpha(o[2])))
                    || (is_alpha(o[1]) && is_digit(o[2])))
        }
        // AA99, AA9A
        4 => {
            is_alpha(o[0]) && is_alpha(o[1]) && is_digit(o[2]) && (is_digit(o[3]) || is_alpha(o[3]))
        }
        _ => false,
    }
}

/// Normalise a UK postcode: upper-case, drop all whitespace, one space before
/// the last three characters. Returns `(normalised, true)` when the result
/// matches a UK pattern (`A9 9AA`, `A99 9AA`, `A9A 9AA`, `AA9 9AA`,
/// `AA99 9AA`, `AA9A 9AA`, `GIR 0AA`); otherwise `(trimmed input, false)` —
/// invalid values are kept verbatim, never "fixed".
pub fn normalise_postcode(s: &str) -> (String, bool) {
    let trimmed = s.trim();
    let compact: String = trimmed
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if compact.is_ascii() && compact.len() >= 5 && compact.len() <= 7 {
        let split = compact.len() - 3;
        let mut out = String::with_capacity(compact.len() + 1);
        out.push_str(&compact[..split]);
        out.push(' ');
        out.push_str(&compact[split..]);
        if postcode_shape_valid(&out) {
            return (out, true);
        }
    }
    (trimmed.to_string(), false)
}

/// Normalise an ODS code: trim and upper-case (borrowed when already clean).
pub fn normalise_ods(s: &str) -> Cow<'_, str> {
    let t = s.trim();
    if t.chars().any(char::is_lowercase) {
        Cow::Owned(t.to_uppercase())
    } else {
        Cow::Borrowed(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nhs_numbers() {
        assert!(nhs_number_valid("9434765919"));
        assert!(nhs_number_valid("9449306060"));
        assert!(nhs_number_valid("4010232137"));
        assert!(!nhs_number_valid("9434765918"));
        assert!(!nhs_number_valid("9999345201"));
        assert!(!nhs_number_valid("993254128"));
        assert!(!nhs_number_valid("94347659190"));
        assert!(!nhs_number_valid(" 9434765919"));
        assert!(!nhs_number_valid("943476591X"));
        assert!(!nhs_number_valid("@@nhs-number@@"));
        assert!(!nhs_number_valid(""));
        // Check digit 11 → 0.
        assert!(nhs_number_valid("0000000000"));
    }

    #[test]
    fn check_digit_ten_is_invalid() {
        // 1,0,0,0,0,0,0,0,0: sum = 10 → 11 - 10 = 1; find a prefix with sum%11 == 1.
        // 000000001: sum = 2 → check 9. 000000005: sum 10 → check 1.
        // 100000001: sum = 10 + 2 = 12 → 12 % 11 = 1 → check 10 → invalid.
        for last in 0..=9 {
            assert!(!nhs_number_valid(&format!("100000001{last}")));
        }
    }

    #[test]
    fn postcodes() {
        assert_eq!(normalise_postcode("ne31 2tq"), ("NE31 2TQ".into(), true));
        assert_eq!(normalise_postcode(" NE312TQ "), ("NE31 2TQ".into(), true));
        assert_eq!(normalise_postcode("LS1   4AP"), ("LS1 4AP".into(), true));
        assert_eq!(normalise_postcode("M1 1AE"), ("M1 1AE".into(), true));
        assert_eq!(normalise_postcode("B33 8TH"), ("B33 8TH".into(), true));
        assert_eq!(normalise_postcode("CR2 6XH"), ("CR2 6XH".into(), true));
        assert_eq!(normalise_postcode("W1A 0AX"), ("W1A 0AX".into(), true));
        assert_eq!(normalise_postcode("EC1A 1BB"), ("EC1A 1BB".into(), true));
        assert_eq!(normalise_postcode("gir0aa"), ("GIR 0AA".into(), true));
        assert_eq!(normalise_postcode("ME5 FS3"), ("ME5 FS3".into(), false));
        assert_eq!(normalise_postcode(" me5 fl5 "), ("me5 fl5".into(), false));
        assert_eq!(normalise_postcode("12345"), ("12345".into(), false));
        assert_eq!(normalise_postcode(""), ("".into(), false));
        assert_eq!(normalise_postcode("ÄB1 2CD"), ("ÄB1 2CD".into(), false));
    }

    #[test]
    fn ods() {
        assert_eq!(normalise_ods(" rhm "), "RHM");
        assert!(matches!(normalise_ods("RHM"), Cow::Borrowed("RHM")));
        assert_eq!(normalise_ods("v396a"), "V396A");
    }

    proptest! {
        #[test]
        fn valid_nhs_numbers_are_accepted(body in "[0-9]{9}") {
            let sum: u32 = body.bytes().zip((2..=10u32).rev()).map(|(c, w)| (c - b'0') as u32 * w).sum();
            let check = (11 - sum % 11) % 11;
            let s = format!("{body}{check}");
            prop_assert_eq!(nhs_number_valid(&s), check != 10);
        }

        #[test]
        fn postcode_normalisation_is_idempotent(s in "[A-Za-z0-9 ]{0,10}") {
            let (n, ok) = normalise_postcode(&s);
            let (n2, ok2) = normalise_postcode(&n);
            prop_assert_eq!(ok, ok2);
            if ok { prop_assert_eq!(n, n2); }
        }
    }
}
