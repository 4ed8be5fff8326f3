//! The per-document node arena built from quick-xml events.

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// Index of a node in its [`Document`].
pub type NodeId = u32;

const NONE: u32 = u32::MAX;

/// Element or character data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// An element.
    Element,
    /// Character data (text, references and CDATA merged).
    Text,
}

/// One node of the arena.
#[derive(Debug)]
pub struct Node<'a> {
    /// Element or text.
    pub kind: NodeKind,
    /// Namespace index (into [`Document::namespaces`]); 0 = no namespace.
    pub ns: u16,
    /// Local name (elements) — empty for text.
    pub local: Cow<'a, str>,
    /// Text content (text nodes only).
    pub text: Cow<'a, str>,
    /// Parent node, `u32::MAX` for the root.
    pub parent: NodeId,
    first_child: NodeId,
    last_child: NodeId,
    next_sibling: NodeId,
    attr_start: u32,
    attr_end: u32,
    /// Last node id inside this node's subtree (nodes are numbered in
    /// document order, so a subtree is the id range `self+1..=subtree_end`).
    subtree_end: NodeId,
    /// Byte offset of the node's start in the decoded text.
    pub pos: u32,
}

/// One attribute (namespace declarations are not kept).
#[derive(Debug)]
pub struct Attr<'a> {
    /// Namespace index; 0 = none (the usual case for attributes).
    pub ns: u16,
    /// Local name.
    pub local: Cow<'a, str>,
    /// Value with references resolved.
    pub value: Cow<'a, str>,
}

/// A parse failure with its position.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{line}:{col}: {message}")]
pub struct ParseError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters).
    pub col: u32,
    /// What was wrong (never document content).
    pub message: String,
}

/// A parsed XML document.
#[derive(Debug)]
pub struct Document<'a> {
    src: &'a str,
    nodes: Vec<Node<'a>>,
    attrs: Vec<Attr<'a>>,
    namespaces: Vec<String>,
    root: NodeId,
}

fn borrow_or_own<'i>(src: &'i str, s: &[u8]) -> Cow<'i, str> {
    let base = src.as_ptr() as usize;
    let p = s.as_ptr() as usize;
    if p >= base && p + s.len() <= base + src.len() {
        let start = p - base;
        let end = start + s.len();
        if src.is_char_boundary(start) && src.is_char_boundary(end) {
            return Cow::Borrowed(&src[start..end]);
        }
    }
    Cow::Owned(String::from_utf8_lossy(s).into_owned())
}

/// Offset of the first C0 control character other than tab, LF and CR.
/// Scans 64-byte blocks with a branch-free test the compiler vectorises,
/// and looks closer only inside a block that has one.
fn first_control_char(b: &[u8]) -> Option<usize> {
    let bad = |c: u8| c < 0x20 && c != b'\t' && c != b'\n' && c != b'\r';
    let mut base = 0;
    for block in b.chunks(64) {
        let hit = block.iter().fold(false, |acc, &c| acc | bad(c));
        if hit {
            return block.iter().position(|&c| bad(c)).map(|i| base + i);
        }
        base += block.len();
    }
    None
}

/// XML 1.0 §2.11: `\r\n` and a lone `\r` are read as `\n`.
fn xml10_eols(t: Cow<'_, str>) -> Cow<'_, str> {
    if !t.as_bytes().contains(&b'\r') {
        return t;
    }
    let mut out = String::with_capacity(t.len());
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn cow_from<'i>(src: &'i str, c: Cow<'_, str>) -> Cow<'i, str> {
    match c {
        Cow::Borrowed(b) => borrow_or_own(src, b.as_bytes()),
        Cow::Owned(o) => Cow::Owned(o),
    }
}

impl<'a> Document<'a> {
    /// Parse `src`. DTDs are skipped; unknown entities are errors.
    pub fn parse(src: &'a str) -> Result<Document<'a>, ParseError> {
        // XML 1.0 forbids C0 controls other than tab, LF and CR anywhere.
        if let Some(at) = first_control_char(src.as_bytes()) {
            let (line, col) = super::line_col(src, at);
            return Err(ParseError {
                line,
                col,
                message: "control character not allowed in XML".into(),
            });
        }
        let mut doc = Document {
            src,
            nodes: Vec::with_capacity(src.len() / 40),
            attrs: Vec::with_capacity(src.len() / 40),
            namespaces: vec![String::new()],
            root: NONE,
        };
        let mut reader = NsReader::from_str(src);
        {
            let cfg = reader.config_mut();
            cfg.trim_text(false);
            cfg.check_end_names = true;
            cfg.expand_empty_elements = false;
        }
        let mut stack: Vec<NodeId> = Vec::with_capacity(32);
        let mut raw_keys: Vec<Cow<'a, str>> = Vec::with_capacity(8);
        // Number of open elements that may hold mixed content; outside them
        // whitespace-only text (indentation) carries nothing and is not kept.
        let mut mixed: u32 = 0;
        // Pending text run: pieces merged into one text node.
        let mut text: Option<(Cow<'a, str>, u32)> = None;
        let err = |doc: &Document<'a>, at: u64, msg: String| {
            let (line, col) = super::line_col(doc.src, at as usize);
            ParseError {
                line,
                col,
                message: msg,
            }
        };
        loop {
            let pos = reader.buffer_position();
            let (res, ev) = match reader.read_resolved_event() {
                Ok((r, e)) => (ns_of(&mut doc.namespaces, r), e),
                Err(e) => return Err(err(&doc, reader.error_position(), describe(&e))),
            };
            let res = match res {
                Ok(n) => n,
                Err(prefix) => {
                    return Err(err(
                        &doc,
                        pos,
                        format!("undeclared namespace prefix '{prefix}'"),
                    ))
                }
            };
            match ev {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    if stack.is_empty() && doc.root != NONE {
                        return Err(err(&doc, pos, "more than one root element".into()));
                    }
                    doc.flush_text_ws(&mut text, &stack, mixed > 0);
                    let local = borrow_or_own(src, e.local_name().into_inner());
                    let attr_start = doc.attrs.len() as u32;
                    // Duplicate names are checked below on the raw keys
                    // (quick-xml's own check is quadratic and allocates).
                    let mut attrs = e.attributes();
                    attrs.with_checks(false);
                    raw_keys.clear();
                    for a in attrs {
                        let a = match a {
                            Ok(a) => a,
                            Err(_) => {
                                return Err(err(
                                    &doc,
                                    pos,
                                    "malformed attribute (quotes, '=' or duplicate name)".into(),
                                ))
                            }
                        };
                        if a.value.contains(&b'<') {
                            return Err(err(
                                &doc,
                                pos,
                                "'<' is not allowed in an attribute value".into(),
                            ));
                        }
                        let key = a.key.as_ref();
                        let owned_key = borrow_or_own(src, key);
                        if raw_keys.contains(&owned_key) {
                            return Err(err(
                                &doc,
                                pos,
                                "malformed attribute (quotes, '=' or duplicate name)".into(),
                            ));
                        }
                        raw_keys.push(owned_key);
                        if key == b"xmlns" || key.starts_with(b"xmlns:") {
                            continue;
                        }
                        let (r, ln) = reader.resolve_attribute(a.key);
                        let ns = match ns_of(&mut doc.namespaces, r) {
                            Ok(n) => n,
                            Err(p) => {
                                return Err(err(
                                    &doc,
                                    pos,
                                    format!("undeclared namespace prefix '{p}'"),
                                ))
                            }
                        };
                        // Values without references are slices of the source.
                        let unescaped = if a.value.contains(&b'&') {
                            a.unescape_value()
                        } else {
                            Ok(borrow_or_own(src, &a.value))
                        };
                        let value = match unescaped {
                            Ok(v) => cow_from(src, v),
                            Err(_) => {
                                return Err(err(&doc, pos, "undefined entity or malformed reference in an attribute value (DTD entities are never resolved)".into()))
                            }
                        };
                        doc.attrs.push(Attr {
                            ns,
                            local: borrow_or_own(src, ln.into_inner()),
                            value,
                        });
                    }
                    let id = doc.push(Node {
                        kind: NodeKind::Element,
                        ns: res,
                        local,
                        text: Cow::Borrowed(""),
                        parent: stack.last().copied().unwrap_or(NONE),
                        first_child: NONE,
                        last_child: NONE,
                        next_sibling: NONE,
                        attr_start,
                        attr_end: doc.attrs.len() as u32,
                        subtree_end: 0,
                        pos: pos as u32,
                    });
                    doc.nodes[id as usize].subtree_end = id;
                    if doc.root == NONE {
                        doc.root = id;
                    }
                    if matches!(ev, Event::Start(_)) {
                        stack.push(id);
                        if is_mixed(&doc.nodes[id as usize].local) {
                            mixed += 1;
                        }
                    }
                }
                Event::End(_) => {
                    doc.flush_text_ws(&mut text, &stack, mixed > 0);
                    if let Some(id) = stack.pop() {
                        if is_mixed(&doc.nodes[id as usize].local) {
                            mixed -= 1;
                        }
                        let last = (doc.nodes.len() - 1) as NodeId;
                        doc.nodes[id as usize].subtree_end = last;
                    }
                }
                Event::Text(e) => {
                    if stack.is_empty() {
                        // Whitespace outside the root is fine; anything else is not.
                        let raw = e.as_ref();
                        if raw.iter().any(|b| !b.is_ascii_whitespace()) {
                            return Err(err(&doc, pos, "text outside the root element".into()));
                        }
                        continue;
                    }
                    // XML 1.0 end-of-line handling (CRLF and lone CR become
                    // LF); text without CR is a slice of the source.
                    append_text(&mut text, xml10_eols(borrow_or_own(src, &e)), pos as u32);
                }
                Event::CData(e) => {
                    if stack.is_empty() {
                        return Err(err(&doc, pos, "CDATA outside the root element".into()));
                    }
                    let t = match e.decode() {
                        Ok(t) => cow_from(src, t),
                        Err(_) => {
                            return Err(err(
                                &doc,
                                pos,
                                "CDATA is not valid in the document encoding".into(),
                            ))
                        }
                    };
                    append_text(&mut text, t, pos as u32);
                }
                Event::GeneralRef(e) => {
                    if stack.is_empty() {
                        return Err(err(&doc, pos, "reference outside the root element".into()));
                    }
                    let s: String = if e.is_char_ref() {
                        match e.resolve_char_ref() {
                            Ok(Some(c)) => c.to_string(),
                            _ => return Err(err(&doc, pos, "invalid character reference".into())),
                        }
                    } else {
                        let name = e.decode().map(|n| n.into_owned()).unwrap_or_default();
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(v) => v.to_string(),
                            None => {
                                // The "name" may be document text after a
                                // stray '&': never echo it.
                                return Err(err(
                                    &doc,
                                    pos,
                                    "undefined entity reference or unescaped '&' (DTD entities are never resolved)".into(),
                                ));
                            }
                        }
                    };
                    append_text(&mut text, Cow::Owned(s), pos as u32);
                }
                Event::Eof => break,
                // Declarations, comments, processing instructions and DTDs
                // carry nothing we map; DTDs are deliberately ignored.
                _ => {}
            }
        }
        if !stack.is_empty() {
            let (line, col) = super::line_col(src, src.len());
            return Err(ParseError {
                line,
                col,
                message: "unexpected end of file: element not closed (truncated document?)".into(),
            });
        }
        if doc.root == NONE {
            let (line, col) = super::line_col(src, src.len());
            return Err(ParseError {
                line,
                col,
                message: "no root element (not an XML document)".into(),
            });
        }
        Ok(doc)
    }

    fn push(&mut self, node: Node<'a>) -> NodeId {
        let id = self.nodes.len() as NodeId;
        let parent = node.parent;
        self.nodes.push(node);
        if parent != NONE {
            let p = parent as usize;
            if self.nodes[p].first_child == NONE {
                self.nodes[p].first_child = id;
            } else {
                let last = self.nodes[p].last_child as usize;
                self.nodes[last].next_sibling = id;
            }
            self.nodes[p].last_child = id;
        }
        id
    }

    fn flush_text_ws(
        &mut self,
        text: &mut Option<(Cow<'a, str>, u32)>,
        stack: &[NodeId],
        keep_ws: bool,
    ) {
        if !keep_ws {
            if let Some((t, _)) = text {
                if t.bytes().all(|b| b.is_ascii_whitespace()) {
                    *text = None;
                    return;
                }
            }
        }
        self.flush_text(text, stack);
    }

    fn flush_text(&mut self, text: &mut Option<(Cow<'a, str>, u32)>, stack: &[NodeId]) {
        if let Some((t, pos)) = text.take() {
            if let Some(&parent) = stack.last() {
                self.push(Node {
                    kind: NodeKind::Text,
                    ns: 0,
                    local: Cow::Borrowed(""),
                    text: t,
                    parent,
                    first_child: NONE,
                    last_child: NONE,
                    next_sibling: NONE,
                    attr_start: 0,
                    attr_end: 0,
                    subtree_end: 0,
                    pos,
                });
                let id = (self.nodes.len() - 1) as NodeId;
                self.nodes[id as usize].subtree_end = id;
            }
        }
    }

    /// The decoded source text.
    pub fn source(&self) -> &'a str {
        self.src
    }

    /// The root element.
    pub fn root(&self) -> NodeId {
        self.root
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when the document has no nodes (never after a successful parse).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The node with this id.
    pub fn node(&self, id: NodeId) -> &Node<'a> {
        &self.nodes[id as usize]
    }

    /// Namespace URI of a node ("" when none).
    pub fn ns_uri(&self, id: NodeId) -> &str {
        &self.namespaces[self.nodes[id as usize].ns as usize]
    }

    /// Namespace URI table (index 0 is the empty namespace).
    pub fn namespaces(&self) -> &[String] {
        &self.namespaces
    }

    /// Index of a namespace URI in this document, if it occurs at all.
    pub fn ns_index(&self, uri: &str) -> Option<u16> {
        self.namespaces
            .iter()
            .position(|n| n == uri)
            .map(|i| i as u16)
    }

    /// Local name of an element.
    pub fn local(&self, id: NodeId) -> &str {
        &self.nodes[id as usize].local
    }

    /// Whether the node is an element with this namespace and local name.
    pub fn is(&self, id: NodeId, ns: &str, local: &str) -> bool {
        let n = &self.nodes[id as usize];
        n.kind == NodeKind::Element && n.local == local && self.namespaces[n.ns as usize] == ns
    }

    /// Parent element, if any.
    pub fn parent(&self, id: NodeId) -> Option<NodeId> {
        let p = self.nodes[id as usize].parent;
        (p != NONE).then_some(p)
    }

    /// All child nodes (elements and text) in document order.
    pub fn children(&self, id: NodeId) -> Children<'_, 'a> {
        Children {
            doc: self,
            next: self.nodes[id as usize].first_child,
        }
    }

    /// Child elements in document order.
    pub fn elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.children(id)
            .filter(move |&c| self.nodes[c as usize].kind == NodeKind::Element)
    }

    /// First child element with this namespace and local name.
    pub fn child(&self, id: NodeId, ns: &str, local: &str) -> Option<NodeId> {
        self.elements(id).find(|&c| self.is(c, ns, local))
    }

    /// Attributes of an element.
    pub fn attrs(&self, id: NodeId) -> &[Attr<'a>] {
        let n = &self.nodes[id as usize];
        &self.attrs[n.attr_start as usize..n.attr_end as usize]
    }

    /// Value of an attribute in no namespace.
    pub fn attr(&self, id: NodeId, local: &str) -> Option<&str> {
        self.attrs(id)
            .iter()
            .find(|a| a.ns == 0 && a.local == local)
            .map(|a| a.value.as_ref())
    }

    /// Value of a namespaced attribute.
    pub fn attr_ns(&self, id: NodeId, ns: &str, local: &str) -> Option<&str> {
        self.attrs(id)
            .iter()
            .find(|a| a.local == local && self.namespaces[a.ns as usize] == ns)
            .map(|a| a.value.as_ref())
    }

    /// Text of a text node ("" for elements).
    pub fn text(&self, id: NodeId) -> &str {
        &self.nodes[id as usize].text
    }

    /// Concatenated text of all descendant text nodes.
    pub fn string_value(&self, id: NodeId) -> Cow<'_, str> {
        let n = &self.nodes[id as usize];
        if n.kind == NodeKind::Text {
            return Cow::Borrowed(&n.text);
        }
        // Fast path: exactly one text child and no element children.
        let mut kids = self.children(id);
        if let (Some(only), None) = (kids.next(), kids.next()) {
            if self.nodes[only as usize].kind == NodeKind::Text {
                return Cow::Borrowed(&self.nodes[only as usize].text);
            }
        }
        let mut out = String::new();
        self.collect_text(id, &mut out);
        Cow::Owned(out)
    }

    fn collect_text(&self, id: NodeId, out: &mut String) {
        for c in self.children(id) {
            let n = &self.nodes[c as usize];
            match n.kind {
                NodeKind::Text => out.push_str(&n.text),
                NodeKind::Element => self.collect_text(c, out),
            }
        }
    }

    /// All descendant elements of `id` (not `id` itself), document order.
    pub fn descendants(&self, id: NodeId) -> Vec<NodeId> {
        self.descendant_elements(id).collect()
    }

    /// Descendant elements of `id` in document order, without allocating.
    pub fn descendant_elements(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        let end = self.nodes[id as usize].subtree_end;
        (id + 1..=end).filter(move |&n| self.nodes[n as usize].kind == NodeKind::Element)
    }

    /// Whether any text below `id` has a non-whitespace character
    /// (no allocation).
    pub fn has_text(&self, id: NodeId) -> bool {
        let end = self.nodes[id as usize].subtree_end;
        (id + 1..=end).any(|n| {
            let node = &self.nodes[n as usize];
            node.kind == NodeKind::Text && node.text.chars().any(|c| !c.is_whitespace())
        })
    }

    /// 1-based line and column of a node.
    pub fn line_col(&self, id: NodeId) -> (u32, u32) {
        super::line_col(self.src, self.nodes[id as usize].pos as usize)
    }
}

/// Iterator over child nodes.
pub struct Children<'d, 'a> {
    doc: &'d Document<'a>,
    next: NodeId,
}

impl Iterator for Children<'_, '_> {
    type Item = NodeId;
    fn next(&mut self) -> Option<NodeId> {
        if self.next == NONE {
            return None;
        }
        let cur = self.next;
        self.next = self.doc.nodes[cur as usize].next_sibling;
        Some(cur)
    }
}

/// Elements whose content may be mixed (narrative, values, names,
/// addresses): whitespace between their child elements is significant.
fn is_mixed(local: &str) -> bool {
    matches!(
        local,
        "text"
            | "value"
            | "originalText"
            | "html"
            | "body"
            | "title"
            | "name"
            | "addr"
            | "desc"
            | "paragraph"
            | "content"
            | "td"
            | "th"
            | "item"
            | "caption"
            | "footnote"
            | "p"
            | "span"
            | "div"
            | "li"
    )
}

/// A parse error described without quoting document content (quick-xml's
/// own messages can include tag text or attribute values).
fn describe(e: &quick_xml::Error) -> String {
    use quick_xml::errors::IllFormedError as I;
    match e {
        quick_xml::Error::Syntax(s) => format!("not well-formed XML: {s}"),
        quick_xml::Error::IllFormed(I::MismatchedEndTag { expected, .. }) => {
            let name: String = expected
                .chars()
                .take_while(|c| !c.is_whitespace())
                .take(64)
                .collect();
            format!("not well-formed XML: end tag does not match the open element <{name}>")
        }
        quick_xml::Error::IllFormed(I::UnmatchedEndTag(_)) => {
            "not well-formed XML: end tag without a start tag".into()
        }
        quick_xml::Error::IllFormed(I::MissingEndTag(name)) => {
            let name: String = name.chars().take(64).collect();
            format!("not well-formed XML: element <{name}> not closed")
        }
        quick_xml::Error::IllFormed(I::DoubleHyphenInComment) => {
            "not well-formed XML: '--' inside a comment".into()
        }
        quick_xml::Error::IllFormed(I::UnclosedReference) => {
            "not well-formed XML: unescaped '&' or unclosed reference".into()
        }
        quick_xml::Error::IllFormed(_) => "not well-formed XML: malformed declaration".into(),
        quick_xml::Error::InvalidAttr(_) => "not well-formed XML: malformed attribute".into(),
        quick_xml::Error::Encoding(_) => "text is not valid in the document encoding".into(),
        quick_xml::Error::Escape(_) => "undefined entity reference or unescaped '&'".into(),
        quick_xml::Error::Namespace(_) => "namespace error (undeclared or reserved prefix)".into(),
        quick_xml::Error::Io(_) => "read error".into(),
    }
}

fn append_text<'a>(text: &mut Option<(Cow<'a, str>, u32)>, t: Cow<'a, str>, pos: u32) {
    match text {
        None => *text = Some((t, pos)),
        Some((existing, _)) => existing.to_mut().push_str(&t),
    }
}

fn ns_of(table: &mut Vec<String>, r: ResolveResult<'_>) -> Result<u16, String> {
    match r {
        ResolveResult::Unbound => Ok(0),
        ResolveResult::Bound(ns) => {
            let uri = ns.as_ref();
            if let Some(i) = table.iter().position(|n| n.as_bytes() == uri) {
                Ok(i as u16)
            } else {
                table.push(String::from_utf8_lossy(uri).into_owned());
                Ok((table.len() - 1) as u16)
            }
        }
        ResolveResult::Unknown(p) => Err(String::from_utf8_lossy(&p).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::NS_HL7;

    #[test]
    fn default_and_prefixed_namespaces_match() {
        let a = Document::parse(
            r#"<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="X"/></ClinicalDocument>"#,
        )
        .unwrap();
        let b = Document::parse(
            r#"<h:ClinicalDocument xmlns:h="urn:hl7-org:v3"><h:id root="X"/></h:ClinicalDocument>"#,
        )
        .unwrap();
        for d in [&a, &b] {
            assert!(d.is(d.root(), NS_HL7, "ClinicalDocument"));
            let id = d.child(d.root(), NS_HL7, "id").unwrap();
            assert_eq!(d.attr(id, "root"), Some("X"));
        }
    }

    #[test]
    fn references_are_decoded_and_text_merged() {
        let d = Document::parse("<a>A &amp; E &#163;5 &lt;x&gt;</a>").unwrap();
        assert_eq!(d.string_value(d.root()), "A & E £5 <x>");
        assert_eq!(d.children(d.root()).count(), 1);
    }

    #[test]
    fn attribute_references_decoded() {
        let d = Document::parse(r#"<a t="x &amp; y &#x41;"/>"#).unwrap();
        assert_eq!(d.attr(d.root(), "t"), Some("x & y A"));
    }

    #[test]
    fn external_entity_is_never_resolved() {
        let src = "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\n<x>&e;</x>";
        let e = Document::parse(src).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("never resolved"), "{}", e.message);
    }

    #[test]
    fn truncated_document_fails_with_position() {
        let e = Document::parse("<a>\n<b>text").unwrap_err();
        assert!(
            e.message.contains("not closed") || e.message.contains("well-formed"),
            "{}",
            e.message
        );
        assert_eq!(e.line, 2);
    }

    #[test]
    fn mismatched_end_tag() {
        let e = Document::parse("<a>\n<b></c></a>").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn plain_text_is_not_xml() {
        assert!(Document::parse("hello world").is_err());
    }

    #[test]
    fn positions_and_descendants() {
        let d = Document::parse("<a>\n  <b><c/></b>\n  <d/>\n</a>").unwrap();
        let desc = d.descendants(d.root());
        let names: Vec<_> = desc.iter().map(|&n| d.local(n)).collect();
        assert_eq!(names, ["b", "c", "d"]);
        assert_eq!(d.line_col(desc[0]), (2, 3));
    }

    #[test]
    fn undeclared_prefix_is_error() {
        assert!(Document::parse("<x:a/>").is_err());
    }

    #[test]
    fn cdata_and_crlf() {
        let d = Document::parse("<a>x\r\n<![CDATA[<y>]]></a>").unwrap();
        assert_eq!(d.string_value(d.root()), "x\n<y>");
    }

    #[test]
    fn lone_cr_is_a_line_feed_and_xml11_breaks_are_kept() {
        let d = Document::parse("<a>x\ry\r\r\nz\u{2028}w\u{85}</a>").unwrap();
        assert_eq!(d.string_value(d.root()), "x\ny\n\nz\u{2028}w\u{85}");
    }

    #[test]
    fn duplicate_attribute_is_an_error_with_position() {
        let e = Document::parse("<a>\n  <b x='1' y='2' x='3'/></a>").unwrap_err();
        assert_eq!((e.line, e.col), (2, 3));
        assert!(e.message.contains("duplicate"), "{}", e.message);
        // Same local name in two namespaces is not a duplicate.
        Document::parse("<a xmlns:p='urn:p'><b x='1' p:x='2'/></a>").unwrap();
    }

    #[test]
    fn control_character_found_in_any_block() {
        for at in [0usize, 63, 64, 65, 200] {
            let mut s = String::from("<a>");
            s.push_str(&"x".repeat(at));
            s.push('\u{1}');
            s.push_str("</a>");
            let e = Document::parse(&s).unwrap_err();
            assert_eq!(e.col as usize, at + 4, "at {at}");
        }
        assert_eq!(first_control_char(b"\t\r\n ok"), None);
    }
}
