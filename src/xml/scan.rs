//! Small byte-level helpers of the tree builder: the attribute splitter,
//! the namespace scope stack and text utilities.
//!
//! They reproduce, on plain `quick_xml::Reader` events, exactly what
//! `quick_xml::NsReader` plus `Attributes::with_checks(false)` did before —
//! same attribute boundaries, same first error, same namespace bindings and
//! resolution results — at a fraction of the cost: documents declare two or
//! three namespaces, so a short list scanned from the end beats any map, and
//! the namespace-table index of a binding is cached on first use.

use std::borrow::Cow;

/// XML whitespace as quick-xml defines it (space, tab, CR, LF).
#[inline(always)]
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// One attribute as written: raw key and value (without quotes, references
/// not resolved), where the key's first `:` is, and whether the value holds
/// `<` or `&`.
#[derive(Clone, Copy)]
pub(crate) struct RawAttr<'s> {
    pub key: &'s [u8],
    pub value: &'s [u8],
    /// Offset of the first `:` in `key`, if any.
    pub colon: Option<usize>,
    pub lt: bool,
    pub amp: bool,
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Non-zero when some byte of `x` equals `b`; the lowest flagged byte is
/// the first match (little-endian load), higher flags may be spurious.
#[inline(always)]
pub(crate) fn swar_eq(x: u64, b: u8) -> u64 {
    let y = x ^ (LO * b as u64);
    y.wrapping_sub(LO) & !y & HI
}

/// Offset of the first byte at or after `from` for which `mask` (on eight
/// bytes, built from [`swar_eq`]) flags, `hit` agreeing byte by byte.
#[inline(always)]
pub(crate) fn find_by(
    s: &[u8],
    from: usize,
    mask: impl Fn(u64) -> u64,
    hit: impl Fn(u8) -> bool,
) -> Option<usize> {
    let mut j = from;
    while j + 8 <= s.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[j..j + 8]);
        let m = mask(u64::from_le_bytes(w));
        if m != 0 {
            return Some(j + (m.trailing_zeros() / 8) as usize);
        }
        j += 8;
    }
    s.get(j..)?.iter().position(|&b| hit(b)).map(|p| j + p)
}

/// Length of the value starting at `s[0]` up to the closing `quote`, and
/// whether it holds `<` / `&`; `None` when the quote is never closed.
/// Eight bytes at a time: values are mostly ids, codes and UUIDs.
#[inline(always)]
pub(crate) fn scan_value(s: &[u8], quote: u8) -> Option<(usize, bool, bool)> {
    let (mut lt, mut amp) = (false, false);
    let mut j = 0;
    while j + 8 <= s.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[j..j + 8]);
        let x = u64::from_le_bytes(w);
        let q = swar_eq(x, quote);
        let other = swar_eq(x, b'<') | swar_eq(x, b'&');
        if q != 0 {
            let end = j + (q.trailing_zeros() / 8) as usize;
            if other != 0 {
                let (l, a) = lt_amp(&s[j..end]);
                lt |= l;
                amp |= a;
            }
            return Some((end, lt, amp));
        }
        if other != 0 {
            let (l, a) = lt_amp(&s[j..j + 8]);
            lt |= l;
            amp |= a;
        }
        j += 8;
    }
    let end = j + s[j..].iter().position(|&b| b == quote)?;
    let (l, a) = lt_amp(&s[j..end]);
    Some((end, lt | l, amp | a))
}

/// Splits the attribute part of a start tag (everything after the element
/// name, up to but excluding `/>` or `>`) into raw attributes.
///
/// Returns `false` at the first malformed attribute (key without `=`, `=`
/// without a quoted value, unclosed quote); the attributes before it are
/// kept in `out`. Boundaries and errors are those of quick-xml's XML-mode
/// attribute iterator without duplicate checks: attributes need no
/// whitespace between them, a key is any run of bytes other than whitespace
/// and `=` (its first byte may be anything but whitespace).
pub(crate) fn split_attrs<'s>(s: &'s [u8], out: &mut Vec<RawAttr<'s>>) -> bool {
    let n = s.len();
    let mut i = 0;
    loop {
        while i < n && is_ws(s[i]) {
            i += 1;
        }
        if i == n {
            return true;
        }
        let key_start = i;
        let mut colon = (s[i] == b':').then_some(0);
        // The first byte belongs to the key whatever it is.
        i += 1;
        while i < n {
            let c = s[i];
            if c == b'=' || is_ws(c) {
                break;
            }
            if c == b':' && colon.is_none() {
                colon = Some(i - key_start);
            }
            i += 1;
        }
        if i == n {
            return false;
        }
        let key_end = i;
        if s[i] != b'=' {
            while i < n && is_ws(s[i]) {
                i += 1;
            }
            if i == n || s[i] != b'=' {
                return false;
            }
        }
        i += 1;
        while i < n && is_ws(s[i]) {
            i += 1;
        }
        if i == n {
            return false;
        }
        let quote = s[i];
        if quote != b'"' && quote != b'\'' {
            return false;
        }
        let value_start = i + 1;
        match scan_value(&s[value_start..], quote) {
            Some((len, lt, amp)) => {
                out.push(RawAttr {
                    key: &s[key_start..key_end],
                    value: &s[value_start..value_start + len],
                    colon,
                    lt,
                    amp,
                });
                i = value_start + len + 1;
            }
            None => return false,
        }
    }
}

/// `(prefix, local)` of a qualified name, split at the first `:`.
#[inline]
pub(crate) fn split_qname(name: &[u8]) -> (Option<&[u8]>, &[u8]) {
    match name.iter().position(|&b| b == b':') {
        Some(i) => (Some(&name[..i]), &name[i + 1..]),
        None => (None, name),
    }
}

/// Whether the bytes contain `<` and whether they contain `&` (one pass).
#[inline]
pub(crate) fn lt_amp(v: &[u8]) -> (bool, bool) {
    let (mut lt, mut amp) = (false, false);
    for &b in v {
        lt |= b == b'<';
        amp |= b == b'&';
    }
    (lt, amp)
}

/// True when every byte is ASCII whitespace (vacuously for "").
#[inline]
pub(crate) fn all_ws(s: &[u8]) -> bool {
    s.iter().all(|b| b.is_ascii_whitespace())
}

/// Appends `t` to `out` with XML 1.0 §2.11 end-of-line handling: `\r\n` and
/// a lone `\r` become `\n`.
pub(crate) fn push_eols(out: &mut String, t: &str) {
    let mut rest = t;
    while let Some(i) = rest.find('\r') {
        out.push_str(&rest[..i]);
        out.push('\n');
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('\n') {
            rest = r;
        }
    }
    out.push_str(rest);
}

/// `t` with XML 1.0 end-of-line handling; borrowed when it has no `\r`.
#[inline]
pub(crate) fn eols(t: &str) -> Cow<'_, str> {
    if !t.as_bytes().contains(&b'\r') {
        return Cow::Borrowed(t);
    }
    let mut out = String::with_capacity(t.len());
    push_eols(&mut out, t);
    Cow::Owned(out)
}

const XML_NS: &[u8] = b"http://www.w3.org/XML/1998/namespace";
const XMLNS_NS: &[u8] = b"http://www.w3.org/2000/xmlns/";
const UNSET: u16 = u16::MAX;

/// One in-scope prefix binding.
struct Binding<'s> {
    /// Empty for the default namespace (and, as in quick-xml, `xmlns:=`).
    prefix: &'s [u8],
    /// Raw attribute value; empty = the binding was undeclared.
    uri: &'s [u8],
    /// Element depth that declared it (0 = predefined).
    level: u32,
    /// Index of `uri` in the document's namespace table, once resolved.
    index: u16,
}

/// Why a namespace could not be resolved.
pub(crate) enum NsError<'s> {
    /// `xmlns:xml`/`xmlns:xmlns` misuse or a reserved URI bound to another
    /// prefix (quick-xml's `NamespaceError`).
    Reserved,
    /// Prefix not in scope (or undeclared with `xmlns:p=""`).
    Unknown(&'s [u8]),
}

/// The in-scope namespace bindings, as a stack with element depths.
pub(crate) struct Scopes<'s> {
    bindings: Vec<Binding<'s>>,
    level: u32,
    /// Cached result for unprefixed element names (`UNSET` = none), and
    /// for the last prefix resolved; both dropped when bindings change.
    default: u16,
    last: (&'s [u8], u16),
}

impl<'s> Scopes<'s> {
    pub(crate) fn new() -> Self {
        let mut bindings = Vec::with_capacity(8);
        for (prefix, uri) in [(&b"xml"[..], XML_NS), (&b"xmlns"[..], XMLNS_NS)] {
            bindings.push(Binding {
                prefix,
                uri,
                level: 0,
                index: UNSET,
            });
        }
        Scopes {
            bindings,
            level: 0,
            default: UNSET,
            last: (b"", UNSET),
        }
    }

    /// Opens the scope of a start (or empty) element.
    #[inline]
    pub(crate) fn open(&mut self) {
        self.level += 1;
    }

    /// Closes the innermost element scope, dropping its bindings.
    #[inline]
    pub(crate) fn close(&mut self) {
        self.level = self.level.saturating_sub(1);
        while self.bindings.last().is_some_and(|b| b.level > self.level) {
            self.bindings.pop();
            self.default = UNSET;
            self.last.1 = UNSET;
        }
    }

    /// Records the binding made by attribute `key` (if it is `xmlns` or
    /// `xmlns:…`) in the current scope.
    #[inline]
    pub(crate) fn declare(&mut self, key: &'s [u8], uri: &'s [u8]) -> Result<(), NsError<'s>> {
        let Some(rest) = key.strip_prefix(b"xmlns") else {
            return Ok(());
        };
        let prefix: &[u8] = match rest.first() {
            None => b"",
            Some(b':') => &rest[1..],
            Some(_) => return Ok(()),
        };
        if !rest.is_empty() {
            match prefix {
                b"xml" if uri == XML_NS => return Ok(()),
                b"xml" | b"xmlns" => return Err(NsError::Reserved),
                _ if uri == XML_NS || uri == XMLNS_NS => return Err(NsError::Reserved),
                _ => {}
            }
        }
        self.bindings.push(Binding {
            prefix,
            uri,
            level: self.level,
            index: UNSET,
        });
        self.default = UNSET;
        self.last.1 = UNSET;
        Ok(())
    }

    /// Namespace index of a name: `prefix` as split by [`split_qname`];
    /// unprefixed names take the default namespace only when `element`.
    #[inline]
    pub(crate) fn resolve(
        &mut self,
        prefix: Option<&'s [u8]>,
        element: bool,
        table: &mut Vec<String>,
    ) -> Result<u16, NsError<'s>> {
        let found = match prefix {
            None if !element => return Ok(0),
            None if self.default != UNSET => return Ok(self.default),
            Some(p) if self.last.1 != UNSET && self.last.0 == p => return Ok(self.last.1),
            None => match self.bindings.iter().rposition(|b| b.prefix.is_empty()) {
                Some(i) if !self.bindings[i].uri.is_empty() => i,
                _ => {
                    self.default = 0;
                    return Ok(0);
                }
            },
            Some(p) => match self
                .bindings
                .iter()
                .rposition(|b| !b.prefix.is_empty() && b.prefix == p)
            {
                Some(i) if !self.bindings[i].uri.is_empty() => i,
                _ => return Err(NsError::Unknown(p)),
            },
        };
        let b = &mut self.bindings[found];
        if b.index == UNSET {
            b.index = match table.iter().position(|n| n.as_bytes() == b.uri) {
                Some(i) => i as u16,
                None => {
                    table.push(String::from_utf8_lossy(b.uri).into_owned());
                    (table.len() - 1) as u16
                }
            };
        }
        let index = b.index;
        match prefix {
            None => self.default = index,
            Some(p) => self.last = (p, index),
        }
        Ok(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> (Vec<(String, String)>, bool) {
        let mut out = Vec::new();
        let ok = split_attrs(s.as_bytes(), &mut out);
        let pairs = out
            .iter()
            .map(|a: &RawAttr<'_>| {
                // The recorded colon, '<' and '&' must be those of the slices.
                assert_eq!(a.colon, a.key.iter().position(|&b| b == b':'));
                assert_eq!(
                    (a.lt, a.amp),
                    (a.value.contains(&b'<'), a.value.contains(&b'&'))
                );
                (
                    String::from_utf8_lossy(a.key).into_owned(),
                    String::from_utf8_lossy(a.value).into_owned(),
                )
            })
            .collect();
        (pairs, ok)
    }

    /// The splitter against quick-xml's own attribute iterator (XML mode,
    /// no duplicate checks) on awkward inputs: same pairs, same first error.
    #[test]
    fn split_attrs_matches_quick_xml() {
        use quick_xml::events::BytesStart;
        let cases = [
            "",
            "   ",
            r#" a="1""#,
            r#" a='1' b="2""#,
            r#" a="1"b="2""#,
            r#" a = "1"  b	=
'x y' "#,
            r#" a"#,
            r#" a "#,
            r#" a b="1""#,
            r#" a="#,
            r#" a= "#,
            r#" a=1"#,
            r#" a="1"#,
            r#" ="1""#,
            r#" = "1""#,
            r#" =="1""#,
            r#" a=="1""#,
            r#" a:b="&amp;" xmlns:a='u' a="1" a="2""#,
            r#" a="x'y" b='x"y'"#,
            r#" a="1" / "#,
            " \u{e9}=\"\u{a3}\"",
            // Values across the 8-byte steps; '<' / '&' just after a quote.
            r#" a="1" b="<&" c='12345678' d="123456789012345&lt;x" e="1234567"<"#,
            r#" a="12345678901234567890123" b='x&amp;' c="""#,
            r#" a="1234567"#,
        ];
        for c in cases {
            let tag = format!("e{c}");
            let start = BytesStart::from_content(tag.as_str(), 1);
            let mut theirs = Vec::new();
            let mut their_ok = true;
            for a in start.attributes().with_checks(false) {
                match a {
                    Ok(a) => theirs.push((
                        String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                        String::from_utf8_lossy(&a.value).into_owned(),
                    )),
                    Err(_) => {
                        their_ok = false;
                        break;
                    }
                }
            }
            assert_eq!(split(c), (theirs, their_ok), "case {c:?}");
        }
    }

    #[test]
    fn eols_rules() {
        assert!(matches!(eols("a\nb"), Cow::Borrowed("a\nb")));
        assert_eq!(eols("a\r\nb\rc\r\r\nd\r"), "a\nb\nc\n\nd\n");
        let mut s = String::from("x");
        push_eols(&mut s, "\r\n\t£\r");
        assert_eq!(s, "x\n\t£\n");
    }

    #[test]
    fn scopes_resolve_like_quick_xml() {
        let mut t = vec![String::new()];
        let mut s = Scopes::new();
        // No default namespace: unbound.
        assert!(matches!(s.resolve(None, true, &mut t), Ok(0)));
        s.open();
        assert!(s.declare(b"xmlns", b"urn:d").is_ok());
        assert!(s.declare(b"xmlns:p", b"urn:p").is_ok());
        assert!(s.declare(b"xmlnsx", b"urn:ignored").is_ok());
        assert!(matches!(s.resolve(Some(b"p"), true, &mut t), Ok(1)));
        assert!(matches!(s.resolve(None, true, &mut t), Ok(2)));
        assert!(matches!(s.resolve(None, false, &mut t), Ok(0)));
        assert!(matches!(s.resolve(Some(b"xml"), false, &mut t), Ok(3)));
        assert_eq!(t[3], "http://www.w3.org/XML/1998/namespace");
        assert!(matches!(
            s.resolve(Some(b"xmlnsx"), true, &mut t),
            Err(NsError::Unknown(b"xmlnsx"))
        ));
        // Nested scope: redeclare p, undeclare the default.
        s.open();
        assert!(s.declare(b"xmlns:p", b"urn:d").is_ok());
        assert!(s.declare(b"xmlns", b"").is_ok());
        assert!(matches!(s.resolve(Some(b"p"), true, &mut t), Ok(2)));
        assert!(matches!(s.resolve(None, true, &mut t), Ok(0)));
        s.close();
        assert!(matches!(s.resolve(Some(b"p"), true, &mut t), Ok(1)));
        assert!(matches!(s.resolve(None, true, &mut t), Ok(2)));
        // `xmlns:p=""` undeclares p; an empty prefix never resolves.
        s.open();
        assert!(s.declare(b"xmlns:p", b"").is_ok());
        assert!(matches!(
            s.resolve(Some(b"p"), true, &mut t),
            Err(NsError::Unknown(_))
        ));
        assert!(matches!(
            s.resolve(Some(b""), true, &mut t),
            Err(NsError::Unknown(_))
        ));
        s.close();
        // `xmlns:=` binds like a default declaration (quick-xml behaviour).
        s.open();
        assert!(s.declare(b"xmlns:", b"urn:e").is_ok());
        assert!(matches!(s.resolve(None, true, &mut t), Ok(4)));
        s.close();
        s.close();
        assert!(matches!(s.resolve(None, true, &mut t), Ok(0)));
        assert_eq!(t.len(), 5);
        // Reserved prefixes and URIs.
        s.open();
        assert!(s.declare(b"xmlns:xml", XML_NS).is_ok());
        assert!(matches!(
            s.declare(b"xmlns:xml", b"urn:x"),
            Err(NsError::Reserved)
        ));
        assert!(matches!(
            s.declare(b"xmlns:xmlns", b"urn:x"),
            Err(NsError::Reserved)
        ));
        assert!(matches!(
            s.declare(b"xmlns:q", XML_NS),
            Err(NsError::Reserved)
        ));
        assert!(matches!(
            s.declare(b"xmlns:q", XMLNS_NS),
            Err(NsError::Reserved)
        ));
        assert!(s.declare(b"xmlns", XMLNS_NS).is_ok());
    }
}
