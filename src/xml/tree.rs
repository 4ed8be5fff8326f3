//! The per-document node arena built from quick-xml events.

use std::borrow::Cow;

use quick_xml::events::{BytesRef, Event};
use quick_xml::Reader;

use super::scan::{self, NsError, Scopes};

mod fast;

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
    /// Rule id: [`NOT_WELL_FORMED`], or [`TOO_DEEP`] for a well-formed
    /// document beyond the nesting limit.
    pub rule: &'static str,
}

/// Rule id of a document that is not well-formed XML.
pub const NOT_WELL_FORMED: &str = "xml-not-well-formed";
/// Rule id of a document nested deeper than [`MAX_DEPTH`].
pub const TOO_DEEP: &str = "xml-too-deep";

/// Deepest element nesting the parser accepts. Every later stage
/// (narrative, mapping, FHIR XML) walks the tree recursively, and a stack
/// overflow aborts the whole process (no `catch_unwind` sees it), so one
/// absurdly nested input would stop a batch. Real documents nest a few dozen
/// levels; at this limit every stage fits in a 2 MiB thread stack in a
/// debug build (tests/robust_convert.rs).
pub const MAX_DEPTH: usize = 256;

/// A parsed XML document.
#[derive(Debug)]
pub struct Document<'a> {
    src: &'a str,
    nodes: Vec<Node<'a>>,
    attrs: Vec<Attr<'a>>,
    namespaces: Vec<String>,
    root: NodeId,
    /// Elements by (namespace, hash of local name), each list in document
    /// order; built on first use by [`Document::named_descendants`].
    by_name: std::sync::OnceLock<NameIndex>,
    /// This document's index of each of [`KNOWN_NAMESPACES`], found on
    /// first use by [`Document::known_ns_index`].
    known_ns: std::sync::OnceLock<[Option<u16>; KNOWN_NAMESPACES.len()]>,
}

/// Namespace URIs that nearly every mapping path step names. A step
/// compiled with one of them carries its number, and finds the document's
/// index for it by position instead of comparing URI text per node.
pub const KNOWN_NAMESPACES: [&str; 4] = ["", super::NS_HL7, super::NS_NPFITLC, super::NS_XSI];

/// The number of `uri` in [`KNOWN_NAMESPACES`], if it is one.
pub fn known_namespace(uri: &str) -> Option<u8> {
    KNOWN_NAMESPACES
        .iter()
        .position(|k| *k == uri)
        .map(|i| i as u8)
}

/// Elements grouped by (namespace, hash of local name): one flat list,
/// each group a range of it in document order.
#[derive(Debug)]
struct NameIndex {
    /// Group of each name key.
    group: KeyTable,
    /// Start and end in `ids` of each group.
    ranges: Vec<(u32, u32)>,
    ids: Vec<NodeId>,
}

/// Open-addressing table from [`name_key`] values (hashes already) to
/// group numbers: linear probing, at most half full, grown by doubling.
/// A document has a few dozen distinct names, so this beats a general map.
#[derive(Debug)]
struct KeyTable {
    /// `(key, group + 1)`; group 0 marks an empty slot.
    slots: Vec<(u64, u32)>,
    len: usize,
}

impl KeyTable {
    fn new() -> KeyTable {
        KeyTable {
            slots: vec![(0, 0); 256],
            len: 0,
        }
    }

    #[inline]
    fn slot(&self, key: u64) -> usize {
        let mask = self.slots.len() - 1;
        let mut i = (key ^ (key >> 32)) as usize & mask;
        loop {
            let (k, g) = self.slots[i];
            if g == 0 || k == key {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// The group of `key`, or `next` (then recorded) when it has none.
    #[inline]
    fn get_or_insert(&mut self, key: u64, next: u32) -> u32 {
        let i = self.slot(key);
        let g = self.slots[i].1;
        if g != 0 {
            return g - 1;
        }
        self.slots[i] = (key, next + 1);
        self.len += 1;
        if self.len * 2 > self.slots.len() {
            let grown = vec![(0, 0); self.slots.len() * 2];
            let old = std::mem::replace(&mut self.slots, grown);
            for (k, g) in old {
                if g != 0 {
                    let j = self.slot(k);
                    self.slots[j] = (k, g);
                }
            }
        }
        next
    }

    #[inline]
    fn get(&self, key: u64) -> Option<u32> {
        let g = self.slots[self.slot(key)].1;
        g.checked_sub(1)
    }
}

impl NameIndex {
    fn build(nodes: &[Node]) -> NameIndex {
        let mut group = KeyTable::new();
        let mut counts: Vec<u32> = Vec::with_capacity(128);
        let mut of: Vec<(u32, NodeId)> = Vec::with_capacity(nodes.len() / 2);
        for (i, n) in nodes.iter().enumerate() {
            if n.kind == NodeKind::Element {
                let next = counts.len() as u32;
                let g = group.get_or_insert(name_key(n.ns, &n.local), next);
                if g == next {
                    counts.push(0);
                }
                counts[g as usize] += 1;
                of.push((g, i as NodeId));
            }
        }
        // Counting sort: ranges start as (start, start) and fill up to end.
        let mut ranges = Vec::with_capacity(counts.len());
        let mut acc = 0u32;
        for c in counts {
            ranges.push((acc, acc));
            acc += c;
        }
        let mut ids = vec![0 as NodeId; acc as usize];
        for (g, i) in of {
            let r = &mut ranges[g as usize];
            ids[r.1 as usize] = i;
            r.1 += 1;
        }
        NameIndex { group, ranges, ids }
    }

    fn get(&self, key: u64) -> &[NodeId] {
        match self.group.get(key) {
            Some(g) => {
                let (a, b) = self.ranges[g as usize];
                &self.ids[a as usize..b as usize]
            }
            None => &[],
        }
    }
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
struct Open<'a> {
    id: NodeId,
    /// Raw element name (for the fast tokenizer's end-tag check).
    name: &'a [u8],
    /// Last child pushed so far (`NONE` before the first).
    last_child: NodeId,
    mixed: bool,
}

/// Builds the tree from tokens; both tokenizers feed it the same events
/// (the same slices of the source, the same reader positions).
struct Builder<'a> {
    src: &'a str,
    doc: Document<'a>,
    scopes: Scopes<'a>,
    stack: Vec<Open<'a>>,
    pairs: Vec<scan::RawAttr<'a>>,
    /// Number of open elements that may hold mixed content; outside them
    /// whitespace-only text (indentation) carries nothing and is not kept.
    mixed: u32,
    /// Pending text run (merged into one text node) and its position.
    run: Run<'a>,
    run_pos: u32,
}

impl<'a> Builder<'a> {
    fn new(src: &'a str) -> Self {
        Builder {
            src,
            doc: Document {
                src,
                nodes: Vec::with_capacity(src.len() / 32),
                attrs: Vec::with_capacity(src.len() / 40),
                namespaces: vec![String::new()],
                root: NONE,
                by_name: std::sync::OnceLock::new(),
                known_ns: std::sync::OnceLock::new(),
            },
            scopes: Scopes::new(),
            stack: Vec::with_capacity(32),
            pairs: Vec::with_capacity(16),
            mixed: 0,
            run: Run::Empty,
            run_pos: 0,
        }
    }

    #[cold]
    fn err(&self, at: u64, message: String) -> ParseError {
        let (line, col) = super::line_col(self.src, at as usize);
        ParseError {
            line,
            col,
            message,
            rule: NOT_WELL_FORMED,
        }
    }

    #[cold]
    fn undeclared(&self, at: u64, p: &[u8]) -> ParseError {
        self.err(
            at,
            format!(
                "undeclared namespace prefix '{}'",
                String::from_utf8_lossy(p)
            ),
        )
    }

    /// A namespace declaration error. `NsReader` reported these at its
    /// `error_position()`, which is 0 when no syntax error came first (and
    /// none can have: syntax errors end the parse), i.e. at 1:1.
    #[cold]
    fn reserved(&self) -> ParseError {
        self.err(0, "namespace error (undeclared or reserved prefix)".into())
    }

    /// A start tag (`empty` for `<x/>`) named `name`, its attributes in
    /// `self.pairs` (`attrs_ok` false when a malformed one followed them).
    fn start(
        &mut self,
        pos: u64,
        name: &'a [u8],
        attrs_ok: bool,
        empty: bool,
    ) -> Result<(), ParseError> {
        let src = self.src;
        let pairs = std::mem::take(&mut self.pairs);
        // Namespace declarations of this element (up to a malformed
        // attribute), then its name.
        self.scopes.open();
        for a in &pairs {
            if a.key.starts_with(b"xmlns") && self.scopes.declare(a.key, a.value).is_err() {
                return Err(self.reserved());
            }
        }
        let (prefix, local) = scan::split_qname(name);
        let ns = match self.scopes.resolve(prefix, true, &mut self.doc.namespaces) {
            Ok(n) => n,
            Err(NsError::Unknown(p)) => return Err(self.undeclared(pos, p)),
            Err(NsError::Reserved) => return Err(self.reserved()),
        };
        if self.stack.is_empty() && self.doc.root != NONE {
            return Err(self.err(pos, "more than one root element".into()));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(ParseError {
                rule: TOO_DEEP,
                ..self.err(
                    pos,
                    format!("elements nested deeper than {MAX_DEPTH} levels"),
                )
            });
        }
        self.flush_run();
        let attr_start = self.doc.attrs.len() as u32;
        for (i, a) in pairs.iter().enumerate() {
            if a.lt {
                return Err(self.err(pos, "'<' is not allowed in an attribute value".into()));
            }
            // Duplicate raw names (quick-xml's own check is quadratic and
            // allocates; elements have few attributes).
            if pairs[..i].iter().any(|p| p.key == a.key) {
                return Err(self.err(
                    pos,
                    "malformed attribute (quotes, '=' or duplicate name)".into(),
                ));
            }
            let (ans, local) = match a.colon {
                None if a.key == b"xmlns" => continue,
                None => (0, a.key),
                Some(c) => {
                    let (prefix, local) = (&a.key[..c], &a.key[c + 1..]);
                    if prefix == b"xmlns" {
                        continue;
                    }
                    match self
                        .scopes
                        .resolve(Some(prefix), false, &mut self.doc.namespaces)
                    {
                        Ok(n) => (n, local),
                        Err(NsError::Unknown(p)) => return Err(self.undeclared(pos, p)),
                        Err(NsError::Reserved) => return Err(self.reserved()),
                    }
                }
            };
            // Values without references are slices of the source.
            let value = if a.amp {
                let raw = sub(src, a.value);
                match quick_xml::escape::unescape(&raw) {
                    Ok(Cow::Borrowed(_)) => raw,
                    Ok(Cow::Owned(v)) if v.chars().all(is_xml_char) => Cow::Owned(v),
                    Ok(Cow::Owned(_)) => {
                        return Err(self.err(pos, "character reference to a character XML 1.0 does not allow in an attribute value".into()))
                    }
                    Err(_) => {
                        return Err(self.err(pos, "undefined entity or malformed reference in an attribute value (DTD entities are never resolved)".into()))
                    }
                }
            } else {
                sub(src, a.value)
            };
            self.doc.attrs.push(Attr {
                ns: ans,
                local: sub(src, local),
                value,
            });
        }
        self.pairs = pairs;
        if !attrs_ok {
            return Err(self.err(
                pos,
                "malformed attribute (quotes, '=' or duplicate name)".into(),
            ));
        }
        let local = sub(src, local);
        let is_mixed = !empty && is_mixed(&local);
        let id = self.push_node(Node {
            kind: NodeKind::Element,
            ns,
            local,
            text: Cow::Borrowed(""),
            parent: NONE,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            attr_start,
            attr_end: self.doc.attrs.len() as u32,
            subtree_end: 0,
            pos: pos as u32,
        });
        if self.doc.root == NONE {
            self.doc.root = id;
        }
        if empty {
            self.scopes.close();
        } else {
            self.stack.push(Open {
                id,
                name,
                last_child: NONE,
                mixed: is_mixed,
            });
            self.mixed += is_mixed as u32;
        }
        Ok(())
    }

    /// An end tag (already matched against the open element).
    fn end(&mut self) {
        self.flush_run();
        if let Some(open) = self.stack.pop() {
            self.mixed -= open.mixed as u32;
            let last = (self.doc.nodes.len() - 1) as NodeId;
            let n = &mut self.doc.nodes[open.id as usize];
            n.subtree_end = last;
            n.last_child = open.last_child;
        }
        self.scopes.close();
    }

    /// A text piece (between markup and/or references; never empty).
    #[inline]
    fn text(&mut self, pos: u64, t: &'a str) -> Result<(), ParseError> {
        if self.stack.is_empty() {
            // Whitespace outside the root is fine; anything else is not.
            if !scan::all_ws(t.as_bytes()) {
                return Err(self.err(pos, "text outside the root element".into()));
            }
            return Ok(());
        }
        // XML 1.0 end-of-line handling (CRLF and lone CR become LF) is
        // applied when the run is kept; text without CR stays a slice.
        if let Run::Empty = self.run {
            self.run = Run::Raw(t);
            self.run_pos = pos as u32;
        } else {
            self.run.append(t, true);
        }
        Ok(())
    }

    /// A CDATA section's content.
    fn cdata(&mut self, pos: u64, t: &'a str) -> Result<(), ParseError> {
        if self.stack.is_empty() {
            return Err(self.err(pos, "CDATA outside the root element".into()));
        }
        if let Run::Empty = self.run {
            self.run = Run::Str(t);
            self.run_pos = pos as u32;
        } else {
            self.run.append(t, false);
        }
        Ok(())
    }

    /// A reference `&name;` (`name` without `&` and `;`).
    fn reference(&mut self, pos: u64, r: &BytesRef<'_>) -> Result<(), ParseError> {
        if self.stack.is_empty() {
            return Err(self.err(pos, "reference outside the root element".into()));
        }
        let mut utf8 = [0u8; 4];
        let s: &str = if r.is_char_ref() {
            match r.resolve_char_ref() {
                Ok(Some(c)) if is_xml_char(c) => c.encode_utf8(&mut utf8),
                Ok(Some(_)) => {
                    return Err(self.err(
                        pos,
                        "character reference to a character XML 1.0 does not allow (a control character)".into(),
                    ))
                }
                _ => return Err(self.err(pos, "invalid character reference".into())),
            }
        } else {
            let name = std::str::from_utf8(r).unwrap_or_default();
            match quick_xml::escape::resolve_predefined_entity(name) {
                Some(v) => v,
                None => {
                    // The "name" may be document text after a stray '&':
                    // never echo it.
                    return Err(self.err(
                        pos,
                        "undefined entity reference or unescaped '&' (DTD entities are never resolved)".into(),
                    ));
                }
            }
        };
        if let Run::Empty = self.run {
            self.run_pos = pos as u32;
        }
        self.run.append(s, false);
        Ok(())
    }

    /// End of input: the finished document or why there is none.
    fn finish(self) -> Result<Document<'a>, ParseError> {
        let src = self.src;
        if !self.stack.is_empty() {
            return Err(self.err(
                src.len() as u64,
                "unexpected end of file: element not closed (truncated document?)".into(),
            ));
        }
        if self.doc.root == NONE {
            return Err(self.err(
                src.len() as u64,
                "no root element (not an XML document)".into(),
            ));
        }
        Ok(self.doc)
    }

    /// Appends a node as the last child of the innermost open element (or
    /// as a root) and returns its id.
    #[inline]
    fn push_node(&mut self, mut node: Node<'a>) -> NodeId {
        let nodes = &mut self.doc.nodes;
        let id = nodes.len() as NodeId;
        node.subtree_end = id;
        if let Some(open) = self.stack.last_mut() {
            node.parent = open.id;
            if open.last_child == NONE {
                nodes[open.id as usize].first_child = id;
            } else {
                nodes[open.last_child as usize].next_sibling = id;
            }
            open.last_child = id;
        }
        nodes.push(node);
        id
    }

    /// Turns the pending run into a text node, unless it is whitespace only
    /// outside mixed content (indentation).
    #[inline]
    fn flush_run(&mut self) {
        if let Run::Empty = self.run {
            return;
        }
        let keep_ws = self.mixed > 0;
        let text = match std::mem::replace(&mut self.run, Run::Empty) {
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
        if self.stack.is_empty() {
            return;
        }
        let pos = self.run_pos;
        self.push_node(Node {
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
        });
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
                rule: NOT_WELL_FORMED,
            });
        }
        // The usual, well-formed document takes the fast tokenizer; anything
        // it does not handle, and every error, is parsed again with
        // quick-xml, whose errors (messages and positions) are the rules.
        if let Some(doc) = fast::parse(src) {
            return Ok(doc);
        }
        Self::parse_with_reader(src)
    }

    /// The reference parse on quick-xml's reader (every error path).
    pub(super) fn parse_with_reader(src: &'a str) -> Result<Document<'a>, ParseError> {
        // A plain reader: namespaces are resolved by `Scopes`, which does
        // what `NsReader` did without re-reading every start tag.
        let mut reader = Reader::from_str(src);
        {
            let cfg = reader.config_mut();
            cfg.trim_text(false);
            cfg.check_end_names = true;
            cfg.expand_empty_elements = false;
        }
        let mut b = Builder::new(src);
        loop {
            let pos = reader.buffer_position();
            let ev = match reader.read_event() {
                Ok(e) => e,
                Err(e) => return Err(b.err(reader.error_position(), describe(&e))),
            };
            match ev {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let Some(content) = sub_str(src, e) else {
                        // Never: the reader borrows from `src`.
                        return Err(b.err(pos, "internal error: tag outside the text".into()));
                    };
                    let (name, rest) = content.as_bytes().split_at(e.name().as_ref().len());
                    let empty = matches!(ev, Event::Empty(_));
                    b.pairs.clear();
                    let attrs_ok = scan::split_attrs(rest, &mut b.pairs);
                    b.start(pos, name, attrs_ok, empty)?;
                }
                Event::End(_) => b.end(),
                Event::Text(e) => match sub_str(src, &e) {
                    Some(t) => b.text(pos, t)?,
                    None => return Err(b.err(pos, "internal error: text outside the text".into())),
                },
                Event::CData(e) => match sub_str(src, &e) {
                    Some(t) => b.cdata(pos, t)?,
                    None => {
                        return Err(b.err(pos, "CDATA is not valid in the document encoding".into()))
                    }
                },
                Event::GeneralRef(e) => b.reference(pos, &e)?,
                Event::Eof => break,
                // Declarations, comments, processing instructions and DTDs
                // carry nothing we map; DTDs are deliberately ignored.
                _ => {}
            }
        }
        b.finish()
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

    /// [`Document::ns_index`] of `KNOWN_NAMESPACES[k]`, without comparing
    /// text after the first call.
    pub fn known_ns_index(&self, k: u8) -> Option<u16> {
        let t = self
            .known_ns
            .get_or_init(|| KNOWN_NAMESPACES.map(|u| self.ns_index(u)));
        t.get(k as usize).copied().flatten()
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
        self.text_of(id, false)
    }

    /// [`Document::string_value`] with a space at each child element's
    /// start and end: the text of a data-type element whose parts are
    /// elements (`addr`, `name`) reads `12 Wherry Lane Brackley Fen` even
    /// when the parts are written without whitespace between them.
    /// (Whitespace is not collapsed here.)
    pub fn string_value_spaced(&self, id: NodeId) -> Cow<'_, str> {
        self.text_of(id, true)
    }

    fn text_of(&self, id: NodeId, spaced: bool) -> Cow<'_, str> {
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
        self.collect_text(id, spaced, &mut out);
        Cow::Owned(out)
    }

    fn collect_text(&self, id: NodeId, spaced: bool, out: &mut String) {
        for c in self.children(id) {
            let n = &self.nodes[c as usize];
            match n.kind {
                NodeKind::Text => out.push_str(&n.text),
                NodeKind::Element if spaced => {
                    out.push(' ');
                    self.collect_text(c, spaced, out);
                    out.push(' ');
                }
                NodeKind::Element => self.collect_text(c, spaced, out),
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

    /// Descendant elements of `id` with namespace index `ns` and local name
    /// `local`, in document order: the same as filtering
    /// [`Document::descendant_elements`], through an index of the document's
    /// elements by name (built on first use), so a search of a large document
    /// for a rare name does not visit every node.
    pub fn named_descendants<'s>(
        &'s self,
        id: NodeId,
        ns: u16,
        local: &'s str,
    ) -> impl Iterator<Item = NodeId> + 's {
        let index = self.by_name.get_or_init(|| NameIndex::build(&self.nodes));
        let list = index.get(name_key(ns, local));
        let end = self.nodes[id as usize].subtree_end;
        let lo = list.partition_point(|&n| n <= id);
        let hi = list.partition_point(|&n| n <= end);
        // Hash collisions are filtered out here.
        list[lo.min(hi)..hi].iter().copied().filter(move |&n| {
            let node = &self.nodes[n as usize];
            node.ns == ns && node.local == local
        })
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

/// Key of the by-name index: a hash of the local name mixed with the
/// namespace index (any collision is filtered out by the lookup).
fn name_key(ns: u16, local: &str) -> u64 {
    use std::hash::Hasher;
    let mut h = crate::fhir::defs::FxHasher::default();
    h.write(local.as_bytes());
    h.finish() ^ (ns as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
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

/// XML 1.0 `Char` (§2.2): what a character reference may denote. (Surrogates
/// are not `char`s; the raw text is checked by the scanner.)
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
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
    fn spaced_string_value_separates_element_parts() {
        let d = Document::parse(
            "<addr><line>12 Wherry Lane</line><city>Brackley</city>ZZ2<p/>x</addr>",
        )
        .unwrap();
        assert_eq!(d.string_value(d.root()), "12 Wherry LaneBrackleyZZ2x");
        assert_eq!(
            d.string_value_spaced(d.root()),
            " 12 Wherry Lane  Brackley ZZ2  x"
        );
        let one = Document::parse("<a>only</a>").unwrap();
        assert!(matches!(
            one.string_value_spaced(one.root()),
            Cow::Borrowed("only")
        ));
    }

    #[test]
    fn references_to_characters_xml_forbids_are_not_well_formed() {
        for bad in [
            "<a>x&#1;y</a>",
            "<a>x&#x1F;y</a>",
            "<a>x&#xFFFE;y</a>",
            "<a>x&#xFFFF;y</a>",
            "<a t=\"x&#7;y\"/>",
        ] {
            assert!(Document::parse(bad).is_err(), "{bad}");
        }
        let ok =
            Document::parse("<a t=\"&#9;\">&#9;&#10;&#13;&#x20;&#xD7FF;&#xE000;&#x10FFFF;</a>")
                .unwrap();
        assert_eq!(ok.string_value(ok.root()).chars().count(), 7);
        assert_eq!(ok.attr(ok.root(), "t"), Some("\t"));
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
    /// The by-name index agrees with filtering the descendants, also past
    /// its table's growth (more distinct names than the initial slots).
    #[test]
    fn named_descendants_match_a_filter_on_many_names() {
        let mut src = String::from("<r xmlns:p='urn:p'>");
        for i in 0..400 {
            src.push_str(&format!("<n{}><p:n{}/><x/></n{}>", i % 300, i % 7, i % 300));
        }
        src.push_str("</r>");
        let d = Document::parse(&src).unwrap();
        let p = d.ns_index("urn:p").unwrap();
        for (ns, name) in [
            (0, "n5"),
            (0, "n299"),
            (p, "n3"),
            (0, "x"),
            (0, "n300"),
            (p, "x"),
        ] {
            for at in [d.root(), d.descendants(d.root())[10]] {
                let want: Vec<_> = d
                    .descendant_elements(at)
                    .filter(|&n| d.node(n).ns == ns && d.local(n) == name)
                    .collect();
                let got: Vec<_> = d.named_descendants(at, ns, name).collect();
                assert_eq!(got, want, "{ns} {name}");
            }
        }
    }

    /// Everything observable about a parse result, for comparisons.
    fn dump(r: &Result<Document<'_>, ParseError>) -> String {
        match r {
            Err(e) => format!("ERR {e}"),
            Ok(d) => {
                let mut o = format!("root {} ns {:?}\n", d.root, d.namespaces);
                for (id, n) in d.nodes.iter().enumerate() {
                    o.push_str(&format!(
                        "{id} {:?} {} {:?} {:?} p{} fc{} lc{} ns{} a{}..{} se{} pos{} {:?}\n",
                        n.kind,
                        n.ns,
                        n.local,
                        n.text,
                        n.parent,
                        n.first_child,
                        n.last_child,
                        n.next_sibling,
                        n.attr_start,
                        n.attr_end,
                        n.subtree_end,
                        n.pos,
                        d.attrs(id as NodeId)
                            .iter()
                            .map(|a| (a.ns, &*a.local, &*a.value))
                            .collect::<Vec<_>>()
                    ));
                }
                o
            }
        }
    }

    fn samples() -> Vec<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/discharge");
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            out.push(crate::xml::decode(&bytes).unwrap().text.into_owned());
        }
        out.sort();
        out
    }

    /// The fast tokenizer takes every sample (else the speed is lost
    /// silently) and builds exactly the reference parser's tree.
    #[test]
    fn fast_path_takes_the_samples_and_agrees() {
        let samples = samples();
        assert!(samples.len() >= 7);
        for s in &samples {
            let fast = fast::parse(s).map(Ok);
            assert!(fast.is_some(), "fast path refused a sample");
            assert_eq!(dump(&fast.unwrap()), dump(&Document::parse_with_reader(s)));
        }
    }

    /// Property: on mutated documents (markup characters, references,
    /// namespace declarations, CDATA, comments inserted, bytes deleted or
    /// duplicated) the fast tokenizer either gives up or produces exactly
    /// what the reference parser does — never a tree where the reference
    /// reports an error.
    #[test]
    fn fast_path_never_disagrees_with_the_reference_on_mutations() {
        const PIECES: &[&str] = &[
            "<",
            ">",
            "/",
            "&",
            ";",
            "=",
            " =\"x\"",
            "=\"",
            "/ >",
            "\"/>",
            "x=\"1\"y=\"2\"",
            "\"",
            "'",
            ":",
            " ",
            "\n",
            "\r",
            "&amp;",
            "&#163;",
            "&#x41;",
            "&bogus;",
            "&#0;",
            "<![CDATA[",
            "]]>",
            "<!--",
            "-->",
            "<?",
            "?>",
            "<?>",
            "xmlns:p=\"urn:p\"",
            "xmlns=\"\"",
            "xmlns:p=\"\"",
            "p:",
            "xml:",
            "xmlns:xml=\"x\"",
            " a=\"1\"",
            " a='1'",
            "<a>",
            "</a>",
            "<b/>",
            "<text>",
            "</text>",
            "</ text>",
            "<p:x>",
            "</p:x>",
            "<!DOCTYPE x>",
            "\u{feff}",
            "é",
            "<>",
            "</>",
        ];
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let floor = |s: &str, mut at: usize| {
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            at
        };
        let samples = samples();
        let (mut taken, mut refused) = (0, 0);
        for _ in 0..3000 {
            let base = &samples[next(samples.len())];
            let start = floor(base, next(base.len().saturating_sub(600).max(1)));
            let end = floor(base, (start + 600).min(base.len()));
            let mut m = base[start..end].to_string();
            for _ in 0..1 + next(3) {
                let at = floor(&m, next(m.len() + 1));
                match next(3) {
                    0 => m.insert_str(at, PIECES[next(PIECES.len())]),
                    1 => {
                        let to = floor(&m, (at + 1 + next(6)).min(m.len()));
                        m.replace_range(at..to, "");
                    }
                    _ => {
                        let to = floor(&m, (at + 1 + next(40)).min(m.len()));
                        let piece = m[at..to].to_string();
                        let at2 = floor(&m, next(m.len() + 1));
                        m.insert_str(at2, &piece);
                    }
                }
            }
            // Whole documents too, so that some mutants are well-formed.
            let whole;
            let input = if next(8) == 0 {
                let at = floor(base, next(base.len()));
                whole = format!(
                    "{}{}{}",
                    &base[..at],
                    PIECES[next(PIECES.len())],
                    &base[at..]
                );
                &whole
            } else {
                &m
            };
            match fast::parse(input) {
                Some(doc) => {
                    taken += 1;
                    let reference = Document::parse_with_reader(input);
                    assert!(
                        reference.is_ok(),
                        "fast path accepted what the reference rejects: {input:?}"
                    );
                    assert_eq!(dump(&Ok(doc)), dump(&reference), "{input:?}");
                }
                None => refused += 1,
            }
        }
        assert!(
            taken > 100 && refused > 100,
            "taken {taken}, refused {refused}"
        );
    }
}
