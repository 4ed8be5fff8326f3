//! Placeholder detection (crosswalk §6.2) and vendor-prefix stripping.
//!
//! A placeholder is never output: a value that is, or merely contains, a
//! template token is wholly unusable and is treated as absent (§6.1).

use std::sync::OnceLock;

use regex::Regex;

/// Rule names returned by [`is_placeholder`].
pub const RULE_TKW_TOKEN: &str = "placeholder.tkw-token";
pub const RULE_AT_TOKEN: &str = "placeholder.at-token";
pub const RULE_TBA: &str = "placeholder.tba";
pub const RULE_XX: &str = "placeholder.xx";
pub const RULE_ALL_ZERO: &str = "placeholder.all-zero";
pub const RULE_SUBSUB: &str = "placeholder.subsub";

struct Patterns {
    tkw: Regex,
    at: Regex,
    subsub: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        tkw: Regex::new(r"__[A-Z_]+__").expect("static regex"),
        at: Regex::new(r"@@[a-z0-9-]+@@").expect("static regex"),
        subsub: Regex::new(r"^SUBSUB[0-9]+$").expect("static regex"),
    })
}

/// If `s` is (or contains) a placeholder, the name of the rule that matched.
///
/// Token rules (`__TOKEN__`, `@@token@@`) match anywhere in the value; the
/// others match the whole (trimmed) value: `TBA`, `xx`, six or more zeros,
/// `SUBSUB<digits>`.
pub fn is_placeholder(s: &str) -> Option<&'static str> {
    let t = crate::convert::text::trim(s);
    // Cheap pre-checks before running the regexes.
    let (under, at) = pairs(t);
    if under && patterns().tkw.is_match(t) {
        return Some(RULE_TKW_TOKEN);
    }
    if at && patterns().at.is_match(t) {
        return Some(RULE_AT_TOKEN);
    }
    match t {
        "TBA" => return Some(RULE_TBA),
        "xx" => return Some(RULE_XX),
        _ => {}
    }
    if t.len() >= 6 && t.bytes().all(|b| b == b'0') {
        return Some(RULE_ALL_ZERO);
    }
    if t.starts_with("SUBSUB") && patterns().subsub.is_match(t) {
        return Some(RULE_SUBSUB);
    }
    None
}

/// Does `s` hold two `c` in a row? (Every text value passes here, so this
/// avoids a substring searcher's set-up cost.)
/// (`__` occurs, `@@` occurs): one pass, for the short values this sees.
fn pairs(s: &str) -> (bool, bool) {
    let b = s.as_bytes();
    let (mut under, mut at) = (false, false);
    for i in memchr::memchr2_iter(b'_', b'@', b) {
        if b.get(i + 1) == Some(&b[i]) {
            if b[i] == b'_' {
                under = true;
            } else {
                at = true;
            }
        }
    }
    (under, at)
}

#[cfg(test)]
fn has_pair(s: &str, c: u8) -> bool {
    let b = s.as_bytes();
    memchr::memchr_iter(c, b).any(|i| b.get(i + 1) == Some(&c))
}

/// Strip the vendor conformance-export prefixes `ComponentTitle - ` and
/// `ComponentText - ` (leading whitespace ignored). Returns the remainder,
/// which may be empty (the caller then treats the value as absent), or `s`
/// unchanged when there is no prefix.
pub fn strip_vendor_prefix(s: &str) -> &str {
    // Neither prefix can follow a first byte that is ASCII, not
    // whitespace and not `C`.
    if let Some(&b) = s.as_bytes().first() {
        if b.is_ascii() && b != b'C' && !b.is_ascii_whitespace() && b != 0x0B {
            return s;
        }
    }
    let t = s.trim_start();
    for p in ["ComponentTitle - ", "ComponentText - "] {
        if let Some(rest) = t.strip_prefix(p) {
            return rest;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tokens_anywhere() {
        assert_eq!(is_placeholder("__TIMESTAMP__"), Some(RULE_TKW_TOKEN));
        assert_eq!(is_placeholder("uuid___MESSAGEID__"), Some(RULE_TKW_TOKEN));
        assert_eq!(
            is_placeholder("@@nhs111-encounter-date-time-start@@+00"),
            Some(RULE_AT_TOKEN)
        );
        assert_eq!(
            is_placeholder("urn:nhs-uk:addressing:ods:@@ods-code@@"),
            Some(RULE_AT_TOKEN)
        );
        assert_eq!(is_placeholder("__lower__"), None);
        assert_eq!(is_placeholder("@@UPPER@@"), None);
        assert_eq!(is_placeholder("a__b"), None);
    }

    #[test]
    fn whole_values() {
        assert_eq!(is_placeholder("TBA"), Some(RULE_TBA));
        assert_eq!(is_placeholder(" TBA "), Some(RULE_TBA));
        assert_eq!(is_placeholder("TBA later"), None);
        assert_eq!(is_placeholder("xx"), Some(RULE_XX));
        assert_eq!(is_placeholder("xxx"), None);
        assert_eq!(is_placeholder("000000000000000"), Some(RULE_ALL_ZERO));
        assert_eq!(is_placeholder("000000"), Some(RULE_ALL_ZERO));
        assert_eq!(is_placeholder("00000"), None);
        assert_eq!(is_placeholder("0"), None);
        assert_eq!(is_placeholder("SUBSUB2"), Some(RULE_SUBSUB));
        assert_eq!(is_placeholder("SUBSUB"), None);
        assert_eq!(is_placeholder("SUBSUB2 notes"), None);
        assert_eq!(is_placeholder("Nil"), None);
        assert_eq!(is_placeholder("None noted"), None);
        assert_eq!(is_placeholder("9999345201"), None);
    }

    #[test]
    fn vendor_prefix() {
        assert_eq!(
            strip_vendor_prefix("ComponentTitle - Patient's Reported Condition"),
            "Patient's Reported Condition"
        );
        assert_eq!(strip_vendor_prefix("ComponentText - abc"), "abc");
        assert_eq!(strip_vendor_prefix("  ComponentText - "), "");
        assert_eq!(strip_vendor_prefix("Plan"), "Plan");
        assert_eq!(strip_vendor_prefix("ComponentTitle-x"), "ComponentTitle-x");
    }

    proptest! {
        #[test]
        fn token_inside_any_text_is_found(pre in "\\PC{0,10}", tok in "[a-z0-9-]{1,12}", post in "\\PC{0,10}") {
            let s = format!("{pre}@@{tok}@@{post}");
            prop_assert!(is_placeholder(&s).is_some());
        }

        #[test]
        fn has_pair_is_substring_search(s in "[_@a ]{0,12}") {
            prop_assert_eq!(has_pair(&s, b'_'), s.contains("__"));
            prop_assert_eq!(has_pair(&s, b'@'), s.contains("@@"));
            prop_assert_eq!(pairs(&s), (s.contains("__"), s.contains("@@")));
        }

        #[test]
        fn plain_words_are_not_placeholders(s in "[A-Za-z][a-z ]{0,20}") {
            prop_assume!(s.trim() != "TBA" && s.trim() != "xx");
            prop_assert_eq!(is_placeholder(&s), None);
        }
    }
}
