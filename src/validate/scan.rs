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
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
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
    fn finds_members_like_get() {
        let v = json!({"a": 1, "bb": 2, "b": 3});
        for k in ["a", "b", "bb", "c", ""] {
            assert_eq!(v.at_key(k), v.get(k), "{k}");
        }
        assert_eq!(json!([1]).at_key("a"), None);
    }
}
