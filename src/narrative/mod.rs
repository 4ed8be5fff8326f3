//! Narrative: CDA NarrativeBlock (and GP Summary XHTML, and plain text) →
//! FHIR STU3 XHTML (crosswalk §5, headings §3.5).
//!
//! Why this module exists:
//!
//! * FHIR `section.text.div` is not "any HTML": it must be a single XHTML
//!   `div` built only from the strict allow-list of elements and attributes
//!   in `fhir-xhtml.xsd` (txt-1), and must carry some non-whitespace content
//!   (txt-2). A div that breaks these rules fails validation of the whole
//!   Composition.
//! * CDA narrative is a *different vocabulary* (`paragraph`, `content`,
//!   `list/item`, `linkHtml`, `styleCode`, `ID` …) that merely looks like
//!   HTML. Every element and attribute has to be translated, not copied.
//! * Losing text here is **silent data loss**: nobody compares the rendered
//!   FHIR narrative with the source letter. So the converter never drops
//!   character data it does not understand — unknown elements are unwrapped
//!   (their text kept) and counted in [`Stats`], unknown attributes and style
//!   codes are dropped and counted, so the pipeline can report them. The only
//!   text deliberately dropped is `content[@revised='delete']`.
//!
//! The converters append markup *without* the wrapping `div`; the caller
//! assembles slice divs (§5.4) and should run [`check_xhtml`] on the result.

mod cda;
pub(crate) mod check;
mod npfit;
mod writer;

pub use cda::cda_text_to_xhtml;
pub use check::{check_xhtml, xhtml_text, XHTML_NS};
pub use npfit::{npfit_xhtml_to_xhtml, NS_NPFIT_XHTML};

/// Counters of what the conversion could not carry over (for the ledger).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Attributes dropped because they have no XHTML equivalent or an
    /// invalid value (`ID` is dropped by design and not counted).
    pub dropped_attrs: u32,
    /// Elements not in the mapping table; their text was kept.
    pub unknown_elements: u32,
    /// `styleCode` values with no mapping.
    pub unknown_styles: u32,
}

/// Whether a character may appear in an XML 1.0 document at all.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escape text for XHTML element content (`&`, `<`, `>`) — keep UTF-8 as is.
///
/// Characters that XML 1.0 cannot represent at all (C0 controls other than
/// tab/CR/LF, U+FFFE, U+FFFF) are removed: they would make the div
/// ill-formed and carry no readable text.
pub fn escape_text(s: &str, out: &mut String) {
    escape_with(s, out, |b| match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        _ => None,
    });
}

/// Copy `s` to `out` in runs: bytes `special` maps are replaced, characters
/// XML cannot carry (C0 controls other than tab/CR/LF, U+FFFE, U+FFFF) are
/// dropped, everything else is copied as is. `special` is only asked about
/// ASCII bytes, and must not map tab, CR or LF unless it means to.
#[inline(always)]
fn escape_with(s: &str, out: &mut String, special: impl Fn(u8) -> Option<&'static str>) {
    // Bytes that are copied without a second look (every byte of a
    // character XML can carry, except `"&<>` and U+FFFE/U+FFFF's lead byte).
    const PLAIN: [bool; 256] = {
        let mut t = [false; 256];
        let mut i = 0x20;
        while i < 256 {
            t[i] = !matches!(i as u8, b'"' | b'&' | b'<' | b'>' | 0xEF);
            i += 1;
        }
        t
    };
    let b = s.as_bytes();
    let mut run = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if PLAIN[c as usize] {
            i += 1;
            continue;
        }
        if c >= 0x20 && c != 0xEF {
            if c < 0x80 {
                if let Some(rep) = special(c) {
                    out.push_str(&s[run..i]);
                    out.push_str(rep);
                    run = i + 1;
                }
            }
            i += 1;
            continue;
        }
        if c == 0xEF {
            // U+FFFE / U+FFFF are EF BF BE / EF BF BF.
            if b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)) {
                out.push_str(&s[run..i]);
                i += 3;
                run = i;
            } else {
                i += 1;
            }
            continue;
        }
        // A C0 control.
        if let Some(rep) = special(c) {
            out.push_str(&s[run..i]);
            out.push_str(rep);
            run = i + 1;
        } else if !matches!(c, b'\t' | b'\n' | b'\r') {
            out.push_str(&s[run..i]);
            run = i + 1;
        }
        i += 1;
    }
    out.push_str(&s[run..]);
}

/// Escape text for a double-quoted XHTML attribute value.
///
/// Tab, CR and LF are written as character references so that attribute
/// value normalisation does not turn them into spaces.
pub fn escape_attr(s: &str, out: &mut String) {
    escape_with(s, out, |b| match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'"' => Some("&quot;"),
        b'\t' => Some("&#9;"),
        b'\n' => Some("&#10;"),
        b'\r' => Some("&#13;"),
        _ => None,
    });
}

/// Convert plain text (line-oriented) into XHTML: `<p>` per blank-line-
/// separated paragraph, `<br/>` per line, common indentation removed.
///
/// Unlike CDA narrative, plain text keeps its line structure (§5.2); spaces
/// inside a line are kept as they are. Returns whether any non-whitespace
/// text was produced.
pub fn plain_text_to_xhtml(text: &str, out: &mut String) -> bool {
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = normalised.split('\n').map(|l| l.trim_end()).collect();
    let blank = |l: &str| l.chars().all(|c| c.is_whitespace() || !is_xml_char(c));
    // Common indentation: the shortest leading run of spaces/tabs over the
    // non-blank lines (counted in characters; a tab counts as one).
    let indent = lines
        .iter()
        .filter(|l| !blank(l))
        .map(|l| l.chars().take_while(|c| *c == ' ' || *c == '\t').count())
        .min()
        .unwrap_or(0);
    let mut produced = false;
    let mut in_para = false;
    for line in &lines {
        if blank(line) {
            if in_para {
                out.push_str("</p>");
                in_para = false;
            }
            continue;
        }
        if in_para {
            out.push_str("<br/>");
        } else {
            out.push_str("<p>");
            in_para = true;
        }
        let start = line
            .char_indices()
            .nth(indent)
            .map(|(i, _)| i)
            .unwrap_or(line.len());
        escape_text(&line[start..], out);
        produced = true;
    }
    if in_para {
        out.push_str("</p>");
    }
    produced
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrap(inner: &str) -> String {
        format!("<div xmlns=\"{XHTML_NS}\">{inner}</div>")
    }

    #[test]
    fn escape_text_keeps_utf8_and_escapes_markup() {
        let mut s = String::new();
        escape_text("<CLEO Ref> A & E’s £5 ®\u{1}", &mut s);
        assert_eq!(s, "&lt;CLEO Ref&gt; A &amp; E’s £5 ®");
    }

    #[test]
    fn escapes_match_char_by_char_reference() {
        fn reference(s: &str, attr: bool) -> String {
            let mut out = String::new();
            for c in s.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '"' if attr => out.push_str("&quot;"),
                    '\t' if attr => out.push_str("&#9;"),
                    '\n' if attr => out.push_str("&#10;"),
                    '\r' if attr => out.push_str("&#13;"),
                    c if is_xml_char(c) => out.push(c),
                    _ => {}
                }
            }
            out
        }
        for t in [
            "",
            "plain",
            "a\u{FFFE}b\u{FFFF}c\u{FFFD}d\u{EFBF}e\u{F000}",
            "\u{0}\u{1f}\t\n\r\u{7f}\u{80}\"'&<>",
            "£€😀\u{D7FF}\u{E000}\u{10FFFF}x\u{FFFE}",
            "\u{FFFF}",
        ] {
            let (mut a, mut b) = (String::new(), String::new());
            escape_text(t, &mut a);
            escape_attr(t, &mut b);
            assert_eq!(a, reference(t, false), "{t:?}");
            assert_eq!(b, reference(t, true), "{t:?}");
        }
    }

    #[test]
    fn escape_attr_quotes() {
        let mut s = String::new();
        escape_attr("a\"b<&>\n", &mut s);
        assert_eq!(s, "a&quot;b&lt;&amp;&gt;&#10;");
    }

    #[test]
    fn plain_text_paragraphs_lines_and_indent() {
        let mut s = String::new();
        let t = "\r\n    Line one\r\n      indented <x>\r\n\r\n   \r\n    Para two & more   \n";
        assert!(plain_text_to_xhtml(t, &mut s));
        assert_eq!(
            s,
            "<p>Line one<br/>  indented &lt;x&gt;</p><p>Para two &amp; more</p>"
        );
        assert!(
            check_xhtml(&wrap(&s)).is_empty(),
            "{:?}",
            check_xhtml(&wrap(&s))
        );
        assert_eq!(
            xhtml_text(&wrap(&s)),
            "Line one indented <x> Para two & more"
        );
    }

    #[test]
    fn plain_text_blank_is_nothing() {
        let mut s = String::new();
        assert!(!plain_text_to_xhtml("  \n\t\n", &mut s));
        assert_eq!(s, "");
    }

    #[test]
    fn plain_text_multibyte_indent() {
        let mut s = String::new();
        plain_text_to_xhtml("  £1\n   ’2", &mut s);
        assert_eq!(s, "<p>£1<br/> ’2</p>");
    }
}
