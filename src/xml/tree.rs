//! The per-document node arena built from quick-xml events.

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::Reader;

use super::scan::{self, NsError, Scopes};

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

/// A `&str` for a byte slice of `src` (every slice the reader hands out is
/// one, cut at ASCII delimiters); anything else is copied.
#[inline(always)]
fn sub<'i>(src: &'i str, s: &[u8]) -> Cow<'i, str> {
    let start = (s.as_ptr() as usize).wrapping_sub(src.as_ptr() as usize);
    match start
        .checked_add(s.len())
        .and_then(|end| src.get(start..end))
    {
        Some(t) => Cow::Borrowed(t),
        None => Cow::Owned(String::from_utf8_lossy(s).into_owned()),
    }
}

/// Like [`sub`], as a plain `&str` when the slice is in `src`.
#[inline(always)]
fn sub_str<'i>(src: &'i str, s: &[u8]) -> Option<&'i str> {
    let start = (s.as_ptr() as usize).wrapping_sub(src.as_ptr() as usize);
    start
        .checked_add(s.len())
        .and_then(|end| src.get(start..end))
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

/// The pending run of character data: text pieces, CDATA sections and
/// references between two tags are merged into one text node. A single text
/// piece (the usual case, and all indentation) stays a slice of the source
/// until it is known to be kept.
enum Run<'a> {
    /// Nothing pending.
    Empty,
    /// One text piece, end-of-line handling not yet applied.
    Raw(&'a str),
    /// One CDATA section (taken as is).
    Str(&'a str),
    /// Merged pieces.
    Owned(String),
}

impl Run<'_> {
    /// Appends a piece: `text` pieces get XML 1.0 end-of-line handling,
    /// CDATA and resolved references do not.
    fn append(&mut self, t: &str, text: bool) {
        let push = |s: &mut String, t: &str| {
            if text {
                scan::push_eols(s, t)
            } else {
                s.push_str(t)
            }
        };
        if let Run::Owned(s) = self {
            push(s, t);
            return;
        }
        let mut s = String::new();
        match std::mem::replace(self, Run::Empty) {
            Run::Raw(r) => {
                s.reserve(r.len() + t.len());
                scan::push_eols(&mut s, r);
            }
            Run::Str(r) => {
                s.reserve(r.len() + t.len());
                s.push_str(r);
            }
            Run::Empty | Run::Owned(_) => {}
        }
        push(&mut s, t);
        *self = Run::Owned(s);
    }
}

/// Elements open during parsing.
struct Open {
    id: NodeId,
    /// Last child pushed so far (`NONE` before the first).
    last_child: NodeId,
    mixed: bool,
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
        // A plain reader: namespaces are resolved here with `Scopes`, which
        // does what `NsReader` did without re-reading every start tag.
        let mut reader = Reader::from_str(src);
        {
            let cfg = reader.config_mut();
            cfg.trim_text(false);
            cfg.check_end_names = true;
            cfg.expand_empty_elements = false;
        }
        let mut scopes = Scopes::new();
        let mut stack: Vec<Open> = Vec::with_capacity(32);
        let mut pairs: Vec<(&'a [u8], &'a [u8])> = Vec::with_capacity(16);
        // Number of open elements that may hold mixed content; outside them
        // whitespace-only text (indentation) carries nothing and is not kept.
        let mut mixed: u32 = 0;
        // Pending text run (merged into one text node) and its position.
        let mut run = Run::Empty;
        let mut run_pos: u32 = 0;
        let err = |at: u64, msg: String| {
            let (line, col) = super::line_col(src, at as usize);
            ParseError {
                line,
                col,
                message: msg,
            }
        };
        let undeclared = |at: u64, p: &[u8]| {
            err(
                at,
                format!(
                    "undeclared namespace prefix '{}'",
                    String::from_utf8_lossy(p)
                ),
            )
        };
        loop {
            let pos = reader.buffer_position();
            let ev = match reader.read_event() {
                Ok(e) => e,
                Err(e) => return Err(err(reader.error_position(), describe(&e))),
            };
            match ev {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let is_start = matches!(ev, Event::Start(_));
                    let content: &'a [u8] = match sub_str(src, e) {
                        Some(c) => c.as_bytes(),
                        // Never: the reader borrows from `src`.
                        None => return Err(err(pos, "internal error: tag outside the text".into())),
                    };
                    let name_len = e.name().as_ref().len();
                    let (name, rest) = content.split_at(name_len);
                    pairs.clear();
                    let attrs_ok = scan::split_attrs(rest, &mut pairs);
                    // Namespace declarations of this element (up to a
                    // malformed attribute), then its name.
                    scopes.open();
                    for &(k, v) in &pairs {
                        if scopes.declare(k, v).is_err() {
                            return Err(err(
                                reader.error_position(),
                                "namespace error (undeclared or reserved prefix)".into(),
                            ));
                        }
                    }
                    let (prefix, local) = scan::split_qname(name);
                    let ns = match scopes.resolve(prefix, true, &mut doc.namespaces) {
                        Ok(n) => n,
                        Err(NsError::Unknown(p)) => return Err(undeclared(pos, p)),
                        Err(NsError::Reserved) => {
                            return Err(err(
                                reader.error_position(),
                                "namespace error (undeclared or reserved prefix)".into(),
                            ))
                        }
                    };
                    if stack.is_empty() && doc.root != NONE {
                        return Err(err(pos, "more than one root element".into()));
                    }
                    doc.flush_run(&mut run, run_pos, &mut stack, mixed > 0);
                    let attr_start = doc.attrs.len() as u32;
                    for (i, &(key, value)) in pairs.iter().enumerate() {
                        let (lt, amp) = scan::lt_amp(value);
                        if lt {
                            return Err(err(
                                pos,
                                "'<' is not allowed in an attribute value".into(),
                            ));
                        }
                        // Duplicate raw names (quick-xml's own check is
                        // quadratic and allocates; elements have few).
                        if pairs[..i].iter().any(|&(k, _)| k == key) {
                            return Err(err(
                                pos,
                                "malformed attribute (quotes, '=' or duplicate name)".into(),
                            ));
                        }
                        if key.starts_with(b"xmlns") && (key.len() == 5 || key[5] == b':') {
                            continue;
                        }
                        let (prefix, local) = scan::split_qname(key);
                        let ans = match prefix {
                            None => 0,
                            Some(_) => match scopes.resolve(prefix, false, &mut doc.namespaces) {
                                Ok(n) => n,
                                Err(NsError::Unknown(p)) => return Err(undeclared(pos, p)),
                                Err(NsError::Reserved) => 0,
                            },
                        };
                        // Values without references are slices of the source.
                        let value = if amp {
                            let raw = sub(src, value);
                            match quick_xml::escape::unescape(&raw) {
                                Ok(Cow::Borrowed(_)) => raw,
                                Ok(Cow::Owned(v)) => Cow::Owned(v),
                                Err(_) => {
                                    return Err(err(pos, "undefined entity or malformed reference in an attribute value (DTD entities are never resolved)".into()))
                                }
                            }
                        } else {
                            sub(src, value)
                        };
                        doc.attrs.push(Attr {
                            ns: ans,
                            local: sub(src, local),
                            value,
                        });
                    }
                    if !attrs_ok {
                        return Err(err(
                            pos,
                            "malformed attribute (quotes, '=' or duplicate name)".into(),
                        ));
                    }
                    let local = sub(src, local);
                    let is_mixed = is_start && is_mixed(&local);
                    let id = doc.push_node(
                        &mut stack,
                        Node {
                            kind: NodeKind::Element,
                            ns,
                            local,
                            text: Cow::Borrowed(""),
                            parent: NONE,
                            first_child: NONE,
                            last_child: NONE,
                            next_sibling: NONE,
                            attr_start,
                            attr_end: doc.attrs.len() as u32,
                            subtree_end: 0,
                            pos: pos as u32,
                        },
                    );
                    if doc.root == NONE {
                        doc.root = id;
                    }
                    if is_start {
                        stack.push(Open {
                            id,
                            last_child: NONE,
                            mixed: is_mixed,
                        });
                        mixed += is_mixed as u32;
                    } else {
                        scopes.close();
                    }
                }
                Event::End(_) => {
                    doc.flush_run(&mut run, run_pos, &mut stack, mixed > 0);
                    if let Some(open) = stack.pop() {
                        mixed -= open.mixed as u32;
                        let last = (doc.nodes.len() - 1) as NodeId;
                        let n = &mut doc.nodes[open.id as usize];
                        n.subtree_end = last;
                        n.last_child = open.last_child;
                    }
                    scopes.close();
                }
                Event::Text(e) => {
                    if stack.is_empty() {
                        // Whitespace outside the root is fine; anything else is not.
                        if !scan::all_ws(&e) {
                            return Err(err(pos, "text outside the root element".into()));
                        }
                        continue;
                    }
                    // XML 1.0 end-of-line handling (CRLF and lone CR become
                    // LF) is applied when the run is kept; text without CR
                    // stays a slice of the source.
                    match (&run, sub_str(src, &e)) {
                        (Run::Empty, Some(t)) => {
                            run = Run::Raw(t);
                            run_pos = pos as u32;
                        }
                        (_, t) => {
                            if matches!(run, Run::Empty) {
                                run_pos = pos as u32;
                            }
                            run.append(t.unwrap_or(&String::from_utf8_lossy(&e)), true);
                        }
                    }
                }
                Event::CData(e) => {
                    if stack.is_empty() {
                        return Err(err(pos, "CDATA outside the root element".into()));
                    }
                    let Some(t) = sub_str(src, &e) else {
                        return Err(err(
                            pos,
                            "CDATA is not valid in the document encoding".into(),
                        ));
                    };
                    if matches!(run, Run::Empty) {
                        run = Run::Str(t);
                        run_pos = pos as u32;
                    } else {
                        run.append(t, false);
                    }
                }
                Event::GeneralRef(e) => {
                    if stack.is_empty() {
                        return Err(err(pos, "reference outside the root element".into()));
                    }
                    let mut utf8 = [0u8; 4];
                    let s: &str = if e.is_char_ref() {
                        match e.resolve_char_ref() {
                            Ok(Some(c)) => c.encode_utf8(&mut utf8),
                            _ => return Err(err(pos, "invalid character reference".into())),
                        }
                    } else {
                        let name = std::str::from_utf8(&e).unwrap_or_default();
                        match quick_xml::escape::resolve_predefined_entity(name) {
                            Some(v) => v,
                            None => {
                                // The "name" may be document text after a
                                // stray '&': never echo it.
                                return Err(err(
                                    pos,
                                    "undefined entity reference or unescaped '&' (DTD entities are never resolved)".into(),
                                ));
                            }
                        }
                    };
                    if matches!(run, Run::Empty) {
                        run_pos = pos as u32;
                    }
                    run.append(s, false);
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

    /// Appends a node as the last child of the innermost open element (or
    /// as a root) and returns its id.
    #[inline]
    fn push_node(&mut self, stack: &mut [Open], mut node: Node<'a>) -> NodeId {
        let id = self.nodes.len() as NodeId;
        node.subtree_end = id;
        if let Some(open) = stack.last_mut() {
            node.parent = open.id;
            if open.last_child == NONE {
                self.nodes[open.id as usize].first_child = id;
            } else {
                self.nodes[open.last_child as usize].next_sibling = id;
            }
            open.last_child = id;
        }
        self.nodes.push(node);
        id
    }

    /// Turns the pending run into a text node, unless it is whitespace only
    /// and `keep_ws` is false (indentation outside mixed content).
    #[inline]
    fn flush_run(&mut self, run: &mut Run<'a>, pos: u32, stack: &mut [Open], keep_ws: bool) {
        let text = match std::mem::replace(run, Run::Empty) {
            Run::Empty => return,
            Run::Raw(r) => {
                if !keep_ws && scan::all_ws(r.as_bytes()) {
                    return;
                }
                scan::eols(r)
            }
            Run::Str(t) => {
                if !keep_ws && scan::all_ws(t.as_bytes()) {
                    return;
                }
                Cow::Borrowed(t)
            }
            Run::Owned(s) => {
                if !keep_ws && scan::all_ws(s.as_bytes()) {
                    return;
                }
                Cow::Owned(s)
            }
        };
        if stack.is_empty() {
            return;
        }
        self.push_node(
            stack,
            Node {
                kind: NodeKind::Text,
                ns: 0,
                local: Cow::Borrowed(""),
                text,
                parent: NONE,
                first_child: NONE,
                last_child: NONE,
                next_sibling: NONE,
                attr_start: 0,
                attr_end: 0,
                subtree_end: 0,
                pos,
            },
        );
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
