//! Pretty-printed JSON output of a bundle, byte for byte what
//! `serde_json::to_writer_pretty` writes (two-space indent, `": "`, keys in
//! the map's order, numbers as written), but faster: string contents are
//! scanned eight bytes at a time and copied in runs, since narrative XHTML
//! makes up most of every bundle. Exists because serialisation was a tenth
//! of the converter's instructions.

use serde_json::Value;

/// Append `v` to `out`, pretty-printed.
pub fn write_pretty(out: &mut Vec<u8>, v: &Value) {
    value(out, v, 0);
}

fn indent(out: &mut Vec<u8>, level: usize) {
    const SPACES: &[u8; 64] = b"                                                                ";
    out.push(b'\n');
    let mut n = level * 2;
    while n > 0 {
        let k = n.min(SPACES.len());
        out.extend_from_slice(&SPACES[..k]);
        n -= k;
    }
}

fn value(out: &mut Vec<u8>, v: &Value, level: usize) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::String(s) => string(out, s),
        Value::Array(a) => {
            if a.is_empty() {
                out.extend_from_slice(b"[]");
                return;
            }
            out.push(b'[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                indent(out, level + 1);
                value(out, x, level + 1);
            }
            indent(out, level);
            out.push(b']');
        }
        Value::Object(m) => {
            if m.is_empty() {
                out.extend_from_slice(b"{}");
                return;
            }
            out.push(b'{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                indent(out, level + 1);
                string(out, k);
                out.extend_from_slice(b": ");
                value(out, x, level + 1);
            }
            indent(out, level);
            out.push(b'}');
        }
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Mask with the top bit set in the lowest byte of `w` that needs escaping
/// (`"`, `\` or below 0x20); bits above it may be false positives (borrows),
/// so only the lowest set bit is meaningful. Zero when no byte needs it.
#[inline]
fn escape_mask(w: u64) -> u64 {
    let has_zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    // Bytes below 0x20 (bytes >= 0x80 have their top bit set, so `!w`
    // excludes them).
    let control = w.wrapping_sub(LO * 0x20) & !w & HI;
    control | has_zero(w ^ (LO * b'"' as u64)) | has_zero(w ^ (LO * b'\\' as u64))
}

fn escape(out: &mut Vec<u8>, c: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match c {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        c => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(c >> 4) as usize],
            HEX[(c & 0xf) as usize],
        ]),
    }
}

#[inline]
fn needs_escape(c: u8) -> bool {
    c < 0x20 || c == b'"' || c == b'\\'
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let b = s.as_bytes();
    let mut start = 0; // first byte not yet copied
    let mut i = 0;
    while let Some(chunk) = b[i..].first_chunk::<8>() {
        let m = escape_mask(u64::from_le_bytes(*chunk));
        if m == 0 {
            i += 8;
            continue;
        }
        // The lowest flagged byte is a true positive.
        let at = i + (m.trailing_zeros() / 8) as usize;
        out.extend_from_slice(&b[start..at]);
        escape(out, b[at]);
        i = at + 1;
        start = i;
    }
    while i < b.len() {
        if needs_escape(b[i]) {
            out.extend_from_slice(&b[start..i]);
            escape(out, b[i]);
            start = i + 1;
        }
        i += 1;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn serde(v: &Value) -> Vec<u8> {
        serde_json::to_vec_pretty(v).expect("serialisable")
    }

    fn ours(v: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        write_pretty(&mut out, v);
        out
    }

    #[test]
    fn same_bytes_as_serde_json_on_a_bundle() {
        let v: Value = serde_json::from_str(
            r#"{"resourceType":"Bundle","n":1.50,"big":12345678901234567890123,"t":true,
               "f":false,"z":null,"e":{},"a":[],"s":"a\"b\\c\n\r\t\u0001\u001f\u0008\u000c é ✓ 𝄞",
               "entry":[{"fullUrl":"urn:uuid:x","resource":{"div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>x</p></div>"}},[1,[2,[]]]]}"#,
        )
        .expect("test JSON");
        assert_eq!(
            String::from_utf8_lossy(&ours(&v)),
            String::from_utf8_lossy(&serde(&v))
        );
    }

    #[test]
    fn escape_detection_finds_the_first_byte() {
        for c in 0u8..=255 {
            for pos in 0..8 {
                let mut w = [b'a'; 8];
                w[pos] = c;
                // A later byte that needs escaping must not hide this one.
                if pos < 7 {
                    w[7] = b'"';
                }
                let m = escape_mask(u64::from_le_bytes(w));
                let first = if needs_escape(c) { pos } else { 7 };
                if pos == 7 && !needs_escape(c) {
                    assert_eq!(m, 0, "byte {c:#x}");
                } else {
                    assert_eq!(
                        (m.trailing_zeros() / 8) as usize,
                        first,
                        "byte {c:#x} at {pos}"
                    );
                }
            }
        }
    }

    proptest! {
        #[test]
        fn strings_match_serde_json(s in "(\\PC|[\"\\\\\u{0}-\u{1f}\u{7f}]){0,40}") {
            let v = Value::String(s);
            prop_assert_eq!(ours(&v), serde(&v));
        }

        #[test]
        fn nested_values_match_serde_json(
            keys in proptest::collection::vec("[a-z\"\\\\]{0,6}", 0..5),
            depth in 0usize..4,
        ) {
            let mut v = Value::Array(vec![]);
            for _ in 0..depth {
                let mut m = serde_json::Map::new();
                for (i, k) in keys.iter().enumerate() {
                    m.insert(k.clone(), if i % 2 == 0 { v.clone() } else { Value::from(i as u64) });
                }
                v = Value::Array(vec![Value::Object(m), Value::Bool(depth % 2 == 0)]);
            }
            prop_assert_eq!(ours(&v), serde(&v));
        }
    }
}
