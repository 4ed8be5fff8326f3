//! Small text and code-value conversions: section-title normalisation
//! (crosswalk §3.1 step 1), whitespace collapsing, TEL URIs → ContactPoint
//! (§2.1.6), gender (§2.1.3), name use (§2.1.4) and address use (§2.1.5).

use std::borrow::Cow;

use crate::convert::placeholder::strip_vendor_prefix;

/// Normalise a section title for matching (§3.1 step 1): trim; curly
/// apostrophes → `'`; drop the `ComponentTitle - ` vendor prefix; lower-case;
/// every run of non-alphanumerics → one space; trim.
///
/// `Patient’s Reported Condition` → `patient s reported condition`.
pub fn normalise_title(s: &str) -> String {
    let s = strip_vendor_prefix(s.trim());
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        // Curly apostrophes become `'`, which is itself a separator below.
        let c = match c {
            '\u{2018}' | '\u{2019}' | '\u{02BC}' => '\'',
            c => c,
        };
        if c.is_ascii() {
            // Same as below, without the Unicode tables.
            if c.is_ascii_alphanumeric() {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c.to_ascii_lowercase());
            } else {
                pending_space = true;
            }
            continue;
        }
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            // Lower-casing may yield combining marks (`İ` → `i\u{307}`);
            // they are separators on a second pass, so keep the result a
            // fixed point by dropping them here.
            out.extend(c.to_lowercase().filter(|l| l.is_alphanumeric()));
        } else {
            pending_space = true;
        }
    }
    out
}

/// `str::trim`, with a fast path for the usual value that starts and ends
/// with a visible ASCII character (every mapped value passes here).
#[inline]
pub fn trim(s: &str) -> &str {
    // ASCII White_Space is U+0009..=U+000D and U+0020.
    let solid = |b: u8| b.is_ascii() && !matches!(b, b'\t'..=b'\r' | b' ');
    match s.as_bytes() {
        [a, .., z] if solid(*a) && solid(*z) => s,
        [a] if solid(*a) => s,
        _ => s.trim(),
    }
}

/// Trim and collapse every run of whitespace to one space; borrowed when the
/// input needs no change.
pub fn collapse_ws(s: &str) -> Cow<'_, str> {
    let t = trim(s);
    let clean = if t.is_ascii() {
        // Same test on bytes: ASCII White_Space is U+0009..=U+000D and U+0020.
        let mut prev_ws = false;
        t.bytes().all(|c| {
            let ws = matches!(c, b'\t'..=b'\r' | b' ');
            let ok = !ws || (c == b' ' && !prev_ws);
            prev_ws = ws;
            ok
        })
    } else {
        let mut prev_ws = false;
        t.chars().all(|c| {
            let ok = if c.is_whitespace() {
                c == ' ' && !prev_ws
            } else {
                true
            };
            prev_ws = c.is_whitespace();
            ok
        })
    };
    if clean {
        return Cow::Borrowed(t);
    }
    let mut out = String::with_capacity(t.len());
    for word in t.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Cow::Owned(out)
}

/// A FHIR `ContactPoint` built from an HL7 TEL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Telecom {
    /// `phone`, `fax`, `email`, `pager`, `url` or `other`.
    pub system: &'static str,
    pub value: String,
    /// `home`, `work`, `temp`, `mobile` or none.
    pub use_: Option<&'static str>,
}

fn split_scheme(uri: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = uri.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    if first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        Some((scheme, rest))
    } else {
        None
    }
}

/// Convert a TEL `@value` URI and `@use` to a ContactPoint (§2.1.6).
///
/// * `tel:` → phone, `fax:` → fax, `mailto:` → email (scheme stripped);
///   `http:`/`https:` → url (the full URL is kept: a URL without its scheme
///   is not a URL); any other scheme → other (value verbatim); no scheme →
///   phone when only digits and `+()- ` (with at least one digit), else other.
/// * `@use` (space-separated codes; the first mappable one wins): H/HP →
///   home, WP/DIR/PUB → work, MC → mobile, TMP/HV → temp, PG → system pager,
///   EC/AS and anything else → no use.
///
/// `None` when the value is empty after trimming and scheme removal.
pub fn telecom(uri: &str, use_code: Option<&str>) -> Option<Telecom> {
    let uri = uri.trim();
    let (mut system, value): (&'static str, &str) = match split_scheme(uri) {
        Some((scheme, rest)) => match scheme.to_ascii_lowercase().as_str() {
            "tel" => ("phone", rest.trim()),
            "fax" => ("fax", rest.trim()),
            "mailto" => ("email", rest.trim()),
            "http" | "https" => ("url", if rest.trim().is_empty() { "" } else { uri }),
            _ => ("other", uri),
        },
        None => {
            let phone_like = uri.chars().any(|c| c.is_ascii_digit())
                && uri
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '+' | '(' | ')' | '-' | ' '));
            (if phone_like { "phone" } else { "other" }, uri)
        }
    };
    if value.is_empty() {
        return None;
    }
    let mut use_ = None;
    for code in use_code.unwrap_or("").split_whitespace() {
        let mapped = match code {
            "H" | "HP" => Some("home"),
            "WP" | "DIR" | "PUB" => Some("work"),
            "MC" => Some("mobile"),
            "TMP" | "HV" => Some("temp"),
            "PG" => {
                system = "pager";
                None
            }
            _ => None,
        };
        if use_.is_none() {
            use_ = mapped;
        }
    }
    Some(Telecom {
        system,
        value: value.to_string(),
        use_,
    })
}

/// NHS Sex (`2.16.840.1.113883.2.1.3.2.4.16.25`): 1 → male, 2 → female,
/// 9 → other, 0 → unknown.
pub fn gender_from_nhs_sex(code: &str) -> Option<&'static str> {
    match code.trim() {
        "1" => Some("male"),
        "2" => Some("female"),
        "9" => Some("other"),
        "0" => Some("unknown"),
        _ => None,
    }
}

/// HL7 AdministrativeGender (`2.16.840.1.113883.5.1`): M → male, F → female,
/// UN → other. (A nullFlavor maps to `unknown`; see [`GENDER_NULL_FLAVOR`].)
pub fn gender_from_hl7(code: &str) -> Option<&'static str> {
    match code.trim() {
        "M" => Some("male"),
        "F" => Some("female"),
        "UN" => Some("other"),
        _ => None,
    }
}

/// FHIR gender for an AdministrativeGender code carrying only a nullFlavor.
pub const GENDER_NULL_FLAVOR: &str = "unknown";

/// Gender by code system OID: NHS Sex, HL7 AdministrativeGender, or the
/// AdministrativeGender value-set OID that some C-CDA samples misuse.
pub fn gender(code_system: &str, code: &str) -> Option<&'static str> {
    match code_system.trim() {
        "2.16.840.1.113883.2.1.3.2.4.16.25" => gender_from_nhs_sex(code),
        "2.16.840.1.113883.5.1" | "2.16.840.1.113883.1.11.1" => gender_from_hl7(code),
        _ => None,
    }
}

/// PN `@use` → `HumanName.use` (§2.1.4): absent/empty, L, OR → official;
/// P, A → nickname; ASGN → usual; others (SRCH, PHON, ABC, SYL, IDE …) →
/// `None` (not mapped). Space-separated sets: the first mappable code wins.
pub fn name_use(use_code: Option<&str>) -> Option<&'static str> {
    let codes = use_code.unwrap_or("");
    if codes.trim().is_empty() {
        return Some("official");
    }
    codes.split_whitespace().find_map(|c| match c {
        "L" | "OR" => Some("official"),
        "P" | "A" => Some("nickname"),
        "ASGN" => Some("usual"),
        _ => None,
    })
}

/// FHIR `Address.use` and `Address.type` derived from AD `@use`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddressUse {
    /// `home`, `work`, `temp` or `old`.
    pub use_: Option<&'static str>,
    /// `physical` or `postal`.
    pub type_: Option<&'static str>,
}

/// AD `@use` (space-separated set) → `Address.use`/`type` (§2.1.5):
/// H, HP → home; WP → work; TMP, HV → temp; BAD, OLD → old; PHYS → type
/// physical; PST → type postal. The first mappable code of each kind wins.
pub fn address_use(use_code: Option<&str>) -> AddressUse {
    let mut out = AddressUse::default();
    for c in use_code.unwrap_or("").split_whitespace() {
        let u = match c {
            "H" | "HP" => Some("home"),
            "WP" => Some("work"),
            "TMP" | "HV" => Some("temp"),
            "BAD" | "OLD" => Some("old"),
            _ => None,
        };
        let t = match c {
            "PHYS" => Some("physical"),
            "PST" => Some("postal"),
            _ => None,
        };
        out.use_ = out.use_.or(u);
        out.type_ = out.type_.or(t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn titles() {
        assert_eq!(
            normalise_title("Patient\u{2019}s Reported Condition"),
            "patient s reported condition"
        );
        assert_eq!(
            normalise_title("  ComponentTitle - Patient's Reported Condition "),
            "patient s reported condition"
        );
        assert_eq!(
            normalise_title("Allergies / Adverse   Reactions:"),
            "allergies adverse reactions"
        );
        assert_eq!(normalise_title("--"), "");
        assert_eq!(normalise_title("ÉTAT"), "état");
    }

    #[test]
    fn whitespace() {
        assert!(matches!(collapse_ws("a b"), Cow::Borrowed("a b")));
        assert!(matches!(collapse_ws("  a b "), Cow::Borrowed("a b")));
        assert_eq!(collapse_ws("a\t b\n\nc"), "a b c");
        assert_eq!(collapse_ws("a  b"), "a b");
        assert_eq!(collapse_ws("   "), "");
    }

    fn tc(system: &'static str, value: &str, use_: Option<&'static str>) -> Option<Telecom> {
        Some(Telecom {
            system,
            value: value.into(),
            use_,
        })
    }

    #[test]
    fn telecoms() {
        assert_eq!(
            telecom("tel:01234 777870", Some("H")),
            tc("phone", "01234 777870", Some("home"))
        );
        assert_eq!(
            telecom("TEL:+441234", Some("WP")),
            tc("phone", "+441234", Some("work"))
        );
        assert_eq!(
            telecom("fax:0123", Some("DIR")),
            tc("fax", "0123", Some("work"))
        );
        assert_eq!(
            telecom("mailto:a@b.nhs.uk", None),
            tc("email", "a@b.nhs.uk", None)
        );
        assert_eq!(
            telecom("https://x.nhs.uk/a", Some("PUB")),
            tc("url", "https://x.nhs.uk/a", Some("work"))
        );
        assert_eq!(
            telecom("tel:07700900000", Some("MC")),
            tc("phone", "07700900000", Some("mobile"))
        );
        assert_eq!(telecom("tel:0123", Some("PG")), tc("pager", "0123", None));
        assert_eq!(telecom("tel:0123", Some("EC")), tc("phone", "0123", None));
        assert_eq!(telecom("tel:0123", Some("AS")), tc("phone", "0123", None));
        assert_eq!(
            telecom("tel:0123", Some("TMP")),
            tc("phone", "0123", Some("temp"))
        );
        assert_eq!(
            telecom("tel:0123", Some("HV")),
            tc("phone", "0123", Some("temp"))
        );
        assert_eq!(
            telecom("tel:0123", Some("HP")),
            tc("phone", "0123", Some("home"))
        );
        assert_eq!(
            telecom("(555) 555-1003", None),
            tc("phone", "(555) 555-1003", None)
        );
        assert_eq!(
            telecom("call reception", None),
            tc("other", "call reception", None)
        );
        assert_eq!(telecom("sip:x@y", None), tc("other", "sip:x@y", None));
        assert_eq!(telecom("tel:", None), None);
        assert_eq!(telecom("  ", None), None);
        assert_eq!(telecom("Ext: 1234", None), tc("other", "Ext: 1234", None));
    }

    #[test]
    fn genders() {
        assert_eq!(gender_from_nhs_sex("1"), Some("male"));
        assert_eq!(gender_from_nhs_sex("2"), Some("female"));
        assert_eq!(gender_from_nhs_sex("9"), Some("other"));
        assert_eq!(gender_from_nhs_sex("0"), Some("unknown"));
        assert_eq!(gender_from_nhs_sex("3"), None);
        assert_eq!(gender_from_hl7("M"), Some("male"));
        assert_eq!(gender_from_hl7("F"), Some("female"));
        assert_eq!(gender_from_hl7("UN"), Some("other"));
        assert_eq!(gender_from_hl7("X"), None);
        assert_eq!(gender("2.16.840.1.113883.1.11.1", "F"), Some("female"));
        assert_eq!(
            gender("2.16.840.1.113883.2.1.3.2.4.16.25", "9"),
            Some("other")
        );
        assert_eq!(gender("1.2.3", "M"), None);
    }

    #[test]
    fn name_uses() {
        assert_eq!(name_use(None), Some("official"));
        assert_eq!(name_use(Some("")), Some("official"));
        assert_eq!(name_use(Some("L")), Some("official"));
        assert_eq!(name_use(Some("OR")), Some("official"));
        assert_eq!(name_use(Some("P")), Some("nickname"));
        assert_eq!(name_use(Some("A")), Some("nickname"));
        assert_eq!(name_use(Some("ASGN")), Some("usual"));
        assert_eq!(name_use(Some("SRCH")), None);
        assert_eq!(name_use(Some("PHON L")), Some("official"));
    }

    #[test]
    fn address_uses() {
        assert_eq!(address_use(Some("H")).use_, Some("home"));
        assert_eq!(address_use(Some("HP")).use_, Some("home"));
        assert_eq!(address_use(Some("WP")).use_, Some("work"));
        assert_eq!(address_use(Some("TMP")).use_, Some("temp"));
        assert_eq!(address_use(Some("HV")).use_, Some("temp"));
        assert_eq!(address_use(Some("BAD")).use_, Some("old"));
        assert_eq!(address_use(Some("OLD")).use_, Some("old"));
        assert_eq!(
            address_use(Some("PHYS H")),
            AddressUse {
                use_: Some("home"),
                type_: Some("physical")
            }
        );
        assert_eq!(address_use(Some("PST")).type_, Some("postal"));
        assert_eq!(address_use(None), AddressUse::default());
    }

    #[test]
    fn lowercasing_to_combining_marks_stays_a_fixed_point() {
        // Found by proptest on CI: `İ` lower-cases to `i` + U+0307.
        assert_eq!(normalise_title("İstanbul Notes"), "istanbul notes");
        assert_eq!(normalise_title(&normalise_title("İ")), normalise_title("İ"));
    }

    proptest! {
        #[test]
        fn trim_is_str_trim(s in "[ \t\n\r\u{b}\u{c}\u{85}\u{a0}\u{3000}a-z0-9é]{0,8}") {
            prop_assert_eq!(trim(&s), s.trim());
        }
    }

    proptest! {
        #[test]
        fn normalised_title_is_a_fixed_point(s in "\\PC{0,40}") {
            let n = normalise_title(&s);
            prop_assert_eq!(normalise_title(&n), n.clone());
            prop_assert!(!n.starts_with(' ') && !n.ends_with(' ') && !n.contains("  "));
        }

        #[test]
        fn collapse_ws_is_split_whitespace_joined(s in "[ \t\n\r\u{b}\u{c}\u{85}\u{a0}a-cé]{0,24}") {
            let c = collapse_ws(&s);
            let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
            prop_assert_eq!(c.as_ref(), joined.as_str());
            // Borrowed exactly when the trimmed text already was collapsed.
            prop_assert_eq!(matches!(c, Cow::Borrowed(_)), s.trim() == joined);
        }

        #[test]
        fn collapse_ws_is_a_fixed_point(s in "[a-c \\t\\n]{0,30}") {
            let once = collapse_ws(&s).into_owned();
            prop_assert!(matches!(collapse_ws(&once), Cow::Borrowed(_)));
            prop_assert_eq!(once.split_whitespace().collect::<Vec<_>>(), s.split_whitespace().collect::<Vec<_>>());
        }
    }
}
