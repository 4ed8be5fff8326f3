//! XML reading: bytes → text (BOM / declared encoding) → a compact,
//! namespace-resolved tree that borrows from the decoded text.
//!
//! Why a tree and not a stream: mapping rules address the document by path
//! (`recordTarget/patientRole/id[@root='…']`), narrative links point across
//! the document (`#a1` → `content[@ID='a1']`), and one document is small
//! (≈ 30–130 KB), so an arena of nodes per document is cheap and keeps the
//! mapping engine simple. Element names and most text borrow from the input.
//!
//! Safety of parsing: DTDs are skipped, and no entity other than the five
//! predefined ones and character references is ever resolved — an external
//! entity reference is a parse error, never a file or network access.

mod decode;
mod scan;
mod tree;

pub use decode::{decode, DecodeError, Decoded};
pub use tree::{
    known_namespace, Attr, Document, Node, NodeId, NodeKind, ParseError, KNOWN_NAMESPACES,
    MAX_DEPTH, NOT_WELL_FORMED, TOO_DEEP,
};

/// Namespace URI of HL7 v3 / CDA.
pub const NS_HL7: &str = "urn:hl7-org:v3";
/// Namespace URI of the NHS localisation elements (`npfitlc:`).
pub const NS_NPFITLC: &str = "NPFIT:HL7:Localisation";
/// Namespace URI of the ITK 2.x Distribution Envelope.
pub const NS_ITK: &str = "urn:nhs-itk:ns:201005";
/// Namespace URI of SOAP 1.1 envelopes.
pub const NS_SOAP: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// Namespace URI of XML Schema instance attributes (`xsi:type`).
pub const NS_XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// 1-based line and column (in characters) of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = memchr::memchr_iter(b'\n', before).count() as u32 + 1;
    let line_start = memchr::memrchr(b'\n', before).map(|p| p + 1).unwrap_or(0);
    // Count characters, not bytes, from the line start.
    let mut end = offset;
    while end > line_start && !text.is_char_boundary(end) {
        end -= 1;
    }
    let col = text[line_start..end].chars().count() as u32 + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let t = "ab\n£c<x";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 1));
        // '<' is after '£' (2 bytes) and 'c'
        assert_eq!(line_col(t, 6), (2, 3));
    }
}
