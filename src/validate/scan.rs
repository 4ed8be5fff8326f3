//! Member lookup by scanning: FHIR JSON objects have a handful of members,
//! and serde_json's map hashes every looked-up key with SipHash; a scan with
//! length-first comparisons is several times cheaper on the validator's hot
//! paths.

use serde_json::{Map, Value};

/// `get` by scanning the members.
pub(crate) trait Scan {
    /// The member `key`, if present.
    fn at_key(&self, key: &str) -> Option<&Value>;
}

impl Scan for Map<String, Value> {
    #[inline]
    fn at_key(&self, key: &str) -> Option<&Value> {
        self.iter().find(|(k, _)| same(k, key)).map(|(_, v)| v)
    }
}

/// String equality with cheap length and first-byte tests before the
/// byte comparison (most keys differ in one of them).
#[inline]
pub(crate) fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.as_bytes().first() == b.as_bytes().first()
        && eq_bytes(a.as_bytes(), b.as_bytes())
}

/// `a.strip_prefix(p)` with the inline compare of [`same`].
#[inline]
pub(crate) fn strip<'s>(a: &'s str, p: &str) -> Option<&'s str> {
    let head = a.as_bytes().get(..p.len())?;
    if eq_bytes(head, p.as_bytes()) {
        // `p` is a str equal to the first bytes of `a`: a char boundary.
        a.get(p.len()..)
    } else {
        None
    }
}

/// Byte equality of two slices of the same length: up to 32 bytes by
/// overlapping word compares (member names are short), without the call
/// to `memcmp` a slice compare makes.
#[inline]
fn eq_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    fn w8(s: &[u8], at: usize) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_le_bytes(w)
    }
    fn w4(s: &[u8], at: usize) -> u32 {
        let mut w = [0u8; 4];
        w.copy_from_slice(&s[at..at + 4]);
        u32::from_le_bytes(w)
    }
    match n {
        0 => true,
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=7 => w4(a, 0) == w4(b, 0) && w4(a, n - 4) == w4(b, n - 4),
        8..=16 => w8(a, 0) == w8(b, 0) && w8(a, n - 8) == w8(b, n - 8),
        // `valueCodeableConcept` and the like: four words cover them.
        17..=32 => {
            w8(a, n - 8) == w8(b, n - 8)
                && w8(a, 0) == w8(b, 0)
                && w8(a, 8) == w8(b, 8)
                && w8(a, n - 16) == w8(b, n - 16)
        }
        // Long strings (URLs) share prefixes and differ at the end: the
        // last word first.
        _ => w8(a, n - 8) == w8(b, n - 8) && a == b,
    }
}

impl Scan for Value {
    #[inline]
    fn at_key(&self, key: &str) -> Option<&Value> {
        self.as_object()?.at_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::Scan;
    use serde_json::json;

    #[test]
    fn same_is_string_equality() {
        let words = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "abc",
            "abd",
            "xbc",
            "abcd",
            "abce",
            "abcdefg",
            "abcdefh",
            "bbcdefg",
            "abcdefgh",
            "abcdefgi",
            "abcdefghijklmnop",
            "abcdefghijklmnoq",
            "bbcdefghijklmnop",
            "abcdefgXijklmnop",
            "abcdefghijklmnopq",
            "abcdefghijklmnopr",
            "é",
            "éa",
        ];
        for a in words {
            for b in words {
                assert_eq!(super::same(a, b), a == b, "{a:?} {b:?}");
            }
        }
        // Every single-byte difference at every position and length.
        for n in 1..80 {
            let a: Vec<u8> = (0..n).map(|i| b'a' + (i % 26) as u8).collect();
            for i in 0..n {
                let mut b = a.clone();
                b[i] = b'Z';
                let (x, y) = (
                    std::str::from_utf8(&a).unwrap(),
                    std::str::from_utf8(&b).unwrap(),
                );
                assert!(!super::same(x, y), "{x} {y}");
                assert!(super::same(x, x));
            }
        }
    }

    #[test]
    fn strip_is_strip_prefix() {
        let words = [
            "",
            "v",
            "value",
            "valueString",
            "valuestring",
            "valu",
            "éa",
            "é",
            "valueCodeableConcept",
            "valueCodeableConceptX",
            "extension",
            "ext",
        ];
        for a in words {
            for p in words {
                assert_eq!(super::strip(a, p), a.strip_prefix(p), "{a:?} {p:?}");
            }
        }
    }

    #[test]
    fn finds_members_like_get() {
        let v = json!({"a": 1, "bb": 2, "b": 3});
        for k in ["a", "b", "bb", "c", ""] {
            assert_eq!(v.at_key(k), v.get(k), "{k}");
        }
        assert_eq!(json!([1]).at_key("a"), None);
    }
}
