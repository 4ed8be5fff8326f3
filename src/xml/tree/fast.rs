//! The fast path: a tokenizer for well-formed documents built from the
//! usual constructs (elements, text, predefined and character references,
//! comments, CDATA, declarations and processing instructions).
//!
//! It yields exactly the events, slices and positions quick-xml's reader
//! yields for such documents, and gives up (`None`) on anything else — a
//! DOCTYPE, a leading BOM, an empty element name, any syntax or tree error
//! — so the caller re-parses with quick-xml, whose messages and positions
//! are the reference. It never accepts a document quick-xml would reject:
//! every check quick-xml makes on the constructs it handles is repeated
//! here (tags end at the first `>` outside quotes, end names must match
//! the open element, references end at `;` before any `&` or `<`), and
//! the tree checks are the shared [`Builder`]'s.
//!
//! Why: quick-xml finds a tag's end with a generic `memchr3` iterator and
//! the builder then walks the tag again; here text and tag ends are found
//! eight bytes at a time, for about half the instructions per document.

use quick_xml::events::BytesRef;

use super::super::scan::{find_by, is_ws, scan_value, swar_eq, RawAttr};
use super::{Builder, Document};

/// First `<` or `&` at or after `from`.
#[inline(always)]
fn markup_or_ref(s: &[u8], from: usize) -> Option<usize> {
    find_by(
        s,
        from,
        |x| swar_eq(x, b'<') | swar_eq(x, b'&'),
        |b| b == b'<' || b == b'&',
    )
}

/// First `;`, `&` or `<` at or after `from` (the end of a reference).
#[inline(always)]
fn ref_end(s: &[u8], from: usize) -> Option<usize> {
    find_by(
        s,
        from,
        |x| swar_eq(x, b';') | swar_eq(x, b'&') | swar_eq(x, b'<'),
        |b| b == b';' || b == b'&' || b == b'<',
    )
}

/// The `>` ending a tag whose content starts at `from`: the first one
/// outside single or double quotes (quick-xml's `ElementParser`).
#[inline(always)]
fn tag_end(s: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        let k = find_by(
            s,
            i,
            |x| swar_eq(x, b'>') | swar_eq(x, b'"') | swar_eq(x, b'\''),
            |b| b == b'>' || b == b'"' || b == b'\'',
        )?;
        let q = s[k];
        if q == b'>' {
            return Some(k);
        }
        let close = find_by(s, k + 1, |x| swar_eq(x, q), |b| b == q)?;
        i = close + 1;
    }
}

/// Bytes that end a name or key here: quick-xml would read most of them
/// as part of one, so the fast path gives up on meeting them there.
#[inline(always)]
fn is_delim(c: u8) -> bool {
    is_ws(c) || matches!(c, b'>' | b'/' | b'"' | b'\'' | b'=' | b'<')
}

/// A start tag at `s[j] == b'<'`, read in one pass: its attributes go to
/// `out`; returns the offset of its `>`, the end of its name and whether it
/// is empty (`/>`). Only the plain shape is taken — `name`, then
/// (whitespace, `key="value"` or `key='value'`)*, optional whitespace, then
/// `>` or `/>` — for which quick-xml's reading (the tag ends at the first
/// `>` outside quotes, the name at the first whitespace, attributes split
/// as by `scan::split_attrs`) gives the same slices; `None` for anything
/// else.
#[inline]
fn start_tag<'s>(
    s: &'s [u8],
    j: usize,
    out: &mut Vec<RawAttr<'s>>,
) -> Option<(usize, usize, bool)> {
    let n = s.len();
    let mut i = j + 1;
    while i < n && !is_delim(s[i]) {
        i += 1;
    }
    if i == j + 1 || i == n {
        return None;
    }
    let name_end = i;
    loop {
        match s[i] {
            b'>' => return Some((i, name_end, false)),
            b'/' => return (s.get(i + 1) == Some(&b'>')).then_some((i + 1, name_end, true)),
            c if is_ws(c) => {}
            _ => return None,
        }
        while i < n && is_ws(s[i]) {
            i += 1;
        }
        let c = *s.get(i)?;
        if c == b'>' || c == b'/' {
            continue;
        }
        let key_start = i;
        let mut colon = None;
        while i < n && s[i] != b'=' {
            if is_delim(s[i]) {
                return None;
            }
            if s[i] == b':' && colon.is_none() {
                colon = Some(i - key_start);
            }
            i += 1;
        }
        // quick-xml reads a leading `=` as part of the key (then fails).
        if i == key_start {
            return None;
        }
        let key = &s[key_start..i];
        let quote = *s.get(i + 1)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_start = i + 2;
        let (len, lt, amp) = scan_value(s.get(value_start..)?, quote)?;
        out.push(RawAttr {
            key,
            value: &s[value_start..value_start + len],
            colon,
            lt,
            amp,
        });
        i = value_start + len + 1;
        if i >= n {
            return None;
        }
    }
}

/// First occurrence of `pat` at or after `from`.
fn find_seq(src: &str, from: usize, pat: &str) -> Option<usize> {
    src.get(from..)?.find(pat).map(|p| from + p)
}

/// Parses `src` if it is well-formed and made of the constructs above;
/// `None` means "use the reference parser".
pub(super) fn parse(src: &str) -> Option<Document<'_>> {
    let s = src.as_bytes();
    // quick-xml drops a leading UTF-8 BOM without counting it in positions.
    if s.starts_with("\u{feff}".as_bytes()) {
        return None;
    }
    let n = s.len();
    let mut b = Builder::new(src);
    let mut i = 0;
    loop {
        let j = markup_or_ref(s, i).unwrap_or(n);
        if j > i {
            b.text(i as u64, src.get(i..j)?).ok()?;
        }
        if j == n {
            break;
        }
        if s[j] == b'&' {
            let k = ref_end(s, j + 1)?;
            if s[k] != b';' {
                return None;
            }
            b.reference(j as u64, &BytesRef::new(src.get(j + 1..k)?))
                .ok()?;
            i = k + 1;
            continue;
        }
        match *s.get(j + 1)? {
            b'!' => {
                let rest = &s[j + 1..];
                if rest.starts_with(b"!--") {
                    // quick-xml wants the closing `--` after `<!--`, not
                    // overlapping it: `<!-->` is not a comment.
                    i = find_seq(src, j + 4, "-->")? + 3;
                } else if rest.starts_with(b"![CDATA[") {
                    let k = find_seq(src, j + 9, "]]>")?;
                    b.cdata(j as u64, src.get(j + 9..k)?).ok()?;
                    i = k + 3;
                } else {
                    // DOCTYPE (skipped by the reference parser) or junk.
                    return None;
                }
            }
            b'?' => {
                // `<?>` is an error in quick-xml; otherwise the first `?>`.
                if s.get(j + 2) == Some(&b'>') {
                    return None;
                }
                i = find_seq(src, j + 2, "?>")? + 2;
            }
            b'/' => {
                let k = tag_end(s, j + 1)?;
                let mut name = &s[j + 2..k];
                while let [rest @ .., last] = name {
                    if !is_ws(*last) {
                        break;
                    }
                    name = rest;
                }
                if b.stack.last()?.name != name {
                    return None;
                }
                b.end();
                i = k + 1;
            }
            _ => {
                b.pairs.clear();
                let (k, name_end, empty) = start_tag(s, j, &mut b.pairs)?;
                b.start(j as u64, &s[j + 1..name_end], true, empty).ok()?;
                i = k + 1;
            }
        }
    }
    b.finish().ok()
}
