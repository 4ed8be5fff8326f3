//! CDA NarrativeBlock → XHTML (crosswalk §5.2 elements, §5.3 attributes).
//!
//! Content-model repairs: CDA producers put blocks where XHTML allows only
//! inline content (a `paragraph` inside `content`, a `list` inside a
//! `paragraph`). Emitting them as-is would fail txt-1, so in an inline
//! context blocks are *flattened*: their text is kept and line structure is
//! approximated with `<br/>` (rows, items, paragraphs) and spaces (cells).
//! Likewise stray text or elements directly inside `table`/`tr`/`list` are
//! wrapped into a cell or item instead of being dropped.

use std::collections::HashMap;

use std::borrow::Cow;

use super::writer::{Attr, Writer};
use super::Stats;
use crate::xml::{Document, NodeId, NodeKind, NS_HL7};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// Block content allowed (`div`, `li`, `td`, `th`).
    Flow,
    /// Only inline content allowed (`p`, `span`, `caption`, `a`, …).
    Inline,
}

/// Bold / italics / emphasis plus CSS declarations from `styleCode`.
#[derive(Debug, Default)]
struct Style {
    bold: bool,
    italic: bool,
    emph: bool,
    css: Vec<&'static str>,
}

impl Style {
    fn wrappers(&self) -> Wrappers {
        let mut w = Wrappers {
            tags: [""; 3],
            len: 0,
        };
        for (on, tag) in [(self.bold, "b"), (self.italic, "i"), (self.emph, "em")] {
            if on {
                w.tags[w.len] = tag;
                w.len += 1;
            }
        }
        w
    }

    /// Express bold/italic/emphasis as CSS (where wrapping is impossible).
    fn fold_into_css(&mut self) {
        if std::mem::take(&mut self.bold) {
            self.css.push("font-weight: bold");
        }
        if std::mem::take(&mut self.italic) | std::mem::take(&mut self.emph) {
            self.css.push("font-style: italic");
        }
    }
}

/// The attributes of one element: a handful at most, kept inline (an
/// allocation per table cell showed in profiles).
type Attrs<'v> = smallvec::SmallVec<[Attr<'v>; 4]>;

/// The inline wrappers of a style (`b`, `i`, `em`), in that order.
struct Wrappers {
    tags: [&'static str; 3],
    len: usize,
}

impl std::ops::Deref for Wrappers {
    type Target = [&'static str];
    fn deref(&self) -> &[&'static str] {
        &self.tags[..self.len]
    }
}

/// The CSS for `code` (any letter case) in a (style code, CSS) table.
fn css_of(table: &[(&str, &'static str)], code: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, css)| *css)
}

/// CSS of the underline and rule style codes (any letter case).
fn rule_style(code: &str) -> Option<&'static str> {
    css_of(
        &[
            ("underline", "text-decoration: underline"),
            ("lrule", "border-left: 1px solid"),
            ("rrule", "border-right: 1px solid"),
            ("toprule", "border-top: 1px solid"),
            ("botrule", "border-bottom: 1px solid"),
        ],
        code,
    )
}

/// CSS of a list style code (any letter case).
fn list_style(code: &str) -> Option<&'static str> {
    css_of(
        &[
            ("disc", "list-style-type: disc"),
            ("circle", "list-style-type: circle"),
            ("square", "list-style-type: square"),
            ("arabic", "list-style-type: decimal"),
            ("littleroman", "list-style-type: lower-roman"),
            ("bigroman", "list-style-type: upper-roman"),
            ("littlealpha", "list-style-type: lower-alpha"),
            ("bigalpha", "list-style-type: upper-alpha"),
        ],
        code,
    )
}

/// Attribute value checks for the pass-through attributes (§5.3); an invalid
/// value would fail the XHTML schema, so it is dropped (and counted).
fn valid_value<'v>(name: &str, v: &'v str) -> Option<Cow<'v, str>> {
    let v = v.trim();
    // The canonical (lower-case) spelling of an enumerated value.
    let one_of = |opts: &[&'static str]| {
        opts.iter()
            .find(|o| o.eq_ignore_ascii_case(v))
            .map(|o| Cow::Borrowed(*o))
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match name {
        "colspan" | "rowspan" | "span" => digits(v).then_some(Cow::Borrowed(v)),
        "border" | "cellspacing" | "cellpadding" => {
            let num = v.strip_suffix("px").unwrap_or(v);
            let pct = name != "border" && v.ends_with('%') && digits(&v[..v.len() - 1]);
            if pct {
                Some(Cow::Borrowed(v))
            } else {
                digits(num).then_some(Cow::Borrowed(num))
            }
        }
        "width" => {
            let num = v
                .strip_suffix('%')
                .or_else(|| v.strip_suffix("px"))
                .unwrap_or(v);
            let ok = !num.is_empty()
                && num.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                && num.bytes().next().is_some_and(|b| b.is_ascii_digit());
            ok.then_some(Cow::Borrowed(if v.ends_with('%') { v } else { num }))
        }
        "align" => one_of(&["left", "center", "right", "justify", "char"]),
        "valign" => one_of(&["top", "middle", "bottom", "baseline"]),
        "scope" => one_of(&["row", "col", "rowgroup", "colgroup"]),
        "frame" => one_of(&[
            "void", "above", "below", "hsides", "lhs", "rhs", "vsides", "box", "border",
        ]),
        "rules" => one_of(&["none", "groups", "rows", "cols", "all"]),
        _ => (!v.is_empty()).then_some(Cow::Borrowed(v)),
    }
}

/// Pass-through attributes per CDA element (same name in XHTML).
fn passthrough(local: &str) -> &'static [&'static str] {
    match local {
        "table" => &[
            "width",
            "border",
            "cellspacing",
            "cellpadding",
            "summary",
            "frame",
            "rules",
        ],
        "td" | "th" => &[
            "colspan", "rowspan", "align", "valign", "headers", "scope", "abbr", "axis", "char",
            "charoff",
        ],
        "tr" | "thead" | "tbody" | "tfoot" => &["align", "valign", "char", "charoff"],
        "col" | "colgroup" => &["span", "width", "align", "valign", "char", "charoff"],
        _ => &[],
    }
}

/// Attributes a CDA element uses for its own mapping (not copied, not counted).
fn consumed(local: &str, attr: &str) -> bool {
    matches!(
        (local, attr),
        (_, "ID")
            | ("list", "listType")
            | ("content", "revised")
            | ("linkHtml", "href")
            | ("footnoteRef", "IDREF")
            | ("renderMultiMedia", "referencedObject")
    )
}

/// Whether an `href` may become a real link (Rec. R39).
fn is_safe_absolute(href: &str) -> bool {
    let l = href.to_ascii_lowercase();
    (l.starts_with("http://") || l.starts_with("https://") || l.starts_with("mailto:"))
        && !href.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Schemes whose value must never appear, not even as text.
fn is_dangerous(href: &str) -> bool {
    let squashed: String = href
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    ["javascript:", "vbscript:", "data:"]
        .iter()
        .any(|s| squashed.starts_with(s))
}

struct Conv<'d, 'a, 's> {
    doc: &'d Document<'a>,
    stats: &'s mut Stats,
    w: Writer,
    /// Footnote element → number (document order, deleted content skipped).
    footnote_no: HashMap<NodeId, u32>,
    /// Footnote `ID` → number, for `footnoteRef`.
    footnote_ids: HashMap<String, u32>,
    /// Footnote bodies, emitted after the block.
    footnotes: Vec<(u32, String)>,
    /// The document's index of the HL7 namespace (`None`: never declared).
    hl7_ns: Option<u16>,
    /// Length of the output buffer before this conversion: what lies before
    /// it is the caller's, never inspected or changed.
    base: usize,
}

/// Convert the children of a CDA `<text>` element (NarrativeBlock) into
/// XHTML markup (no wrapping div), appending to `out`. Returns whether any
/// non-whitespace text was produced.
pub fn cda_text_to_xhtml(
    doc: &Document,
    text_el: NodeId,
    out: &mut String,
    stats: &mut Stats,
) -> bool {
    // Written straight into `out` (no buffer of its own to grow and copy).
    let base = out.len();
    let mut c = Conv {
        doc,
        stats,
        w: Writer::appending_to(std::mem::take(out)),
        base,
        footnote_no: HashMap::new(),
        footnote_ids: HashMap::new(),
        footnotes: Vec::new(),
        hl7_ns: crate::xml::known_namespace(NS_HL7).and_then(|k| doc.known_ns_index(k)),
    };
    c.number_footnotes(text_el);
    c.children(text_el, Ctx::Flow);
    let mut notes = std::mem::take(&mut c.footnotes);
    notes.sort_by_key(|n| n.0);
    for (n, body) in notes {
        c.w.open_block("p", &[]);
        c.w.open_inline("sup", &[]);
        c.w.text(&format!("[{n}]"));
        c.w.close_inline("sup");
        c.w.soft_space();
        c.w.raw_inline(&body);
        c.w.close_block("p");
    }
    let produced = c.w.produced();
    *out = c.w.finish();
    produced
}

impl<'d, 'a, 's> Conv<'d, 'a, 's> {
    fn hl7(&self, id: NodeId) -> Option<&'d str> {
        let d = self.doc;
        let n = d.node(id);
        (n.kind == NodeKind::Element && Some(n.ns) == self.hl7_ns).then(|| d.local(id))
    }

    fn is_deleted(&self, id: NodeId) -> bool {
        self.hl7(id) == Some("content")
            && self
                .doc
                .attr(id, "revised")
                .is_some_and(|r| r.trim().eq_ignore_ascii_case("delete"))
    }

    fn number_footnotes(&mut self, id: NodeId) {
        let d = self.doc;
        for c in d.elements(id) {
            if self.is_deleted(c) {
                continue;
            }
            if self.hl7(c) == Some("footnote") {
                let n = self.footnote_no.len() as u32 + 1;
                self.footnote_no.insert(c, n);
                if let Some(i) = d.attr(c, "ID") {
                    self.footnote_ids.entry(i.trim().to_string()).or_insert(n);
                }
            }
            self.number_footnotes(c);
        }
    }

    /// Map attributes: returns pass-through XHTML attributes and the style.
    fn attrs(&mut self, id: NodeId, local: &str) -> (Attrs<'d>, Style) {
        let d = self.doc;
        let mut out = Attrs::new();
        let mut style = Style::default();
        let keep = passthrough(local);
        for a in d.attrs(id) {
            if a.ns != 0 {
                self.stats.dropped_attrs += 1;
                continue;
            }
            let name: &str = &a.local;
            if consumed(local, name) {
                continue;
            }
            match name {
                "styleCode" => {
                    for code in a.value.split_whitespace() {
                        let is = |c: &str| code.eq_ignore_ascii_case(c);
                        if is("bold") {
                            style.bold = true;
                        } else if is("italics") {
                            style.italic = true;
                        } else if is("emphasis") {
                            style.emph = true;
                        } else if let Some(css) = rule_style(code) {
                            style.css.push(css);
                        } else {
                            match list_style(code).filter(|_| local == "list") {
                                Some(css) => style.css.push(css),
                                None => self.stats.unknown_styles += 1,
                            }
                        }
                    }
                }
                "language" if !a.value.trim().is_empty() => {
                    out.push(("lang", Cow::Borrowed(a.value.trim())))
                }
                _ => match keep.iter().find(|k| **k == name) {
                    Some(k) => match valid_value(k, &a.value) {
                        Some(v) => out.push((k, v)),
                        None => self.stats.dropped_attrs += 1,
                    },
                    None => self.stats.dropped_attrs += 1,
                },
            }
        }
        style.css.dedup();
        (out, style)
    }

    fn with_css(mut attrs: Attrs<'d>, style: &Style) -> Attrs<'d> {
        if !style.css.is_empty() {
            attrs.push(("style", Cow::Owned(style.css.join("; "))));
        }
        attrs
    }

    /// Whether a subtree holds CDA block content (so `b` cannot wrap it).
    fn has_block(&self, id: NodeId) -> bool {
        self.doc.elements(id).any(|c| {
            matches!(self.hl7(c), Some("paragraph" | "list" | "table")) || self.has_block(c)
        })
    }

    fn children(&mut self, id: NodeId, ctx: Ctx) {
        let doc = self.doc;
        for k in doc.children(id) {
            self.node(k, ctx);
        }
    }

    fn node(&mut self, id: NodeId, ctx: Ctx) {
        let d = self.doc;
        if d.node(id).kind == NodeKind::Text {
            self.w.text(d.text(id));
            return;
        }
        let Some(local) = self.hl7(id) else {
            self.stats.unknown_elements += 1;
            self.children(id, ctx);
            return;
        };
        match (local, ctx) {
            ("br", _) => {
                self.attrs(id, local);
                self.w.br();
            }
            ("content", _) => self.content(id),
            ("sub" | "sup", _) => self.inline(id, local, local),
            ("linkHtml", _) => self.link(id),
            ("footnote", _) => self.footnote(id),
            ("footnoteRef", _) => self.footnote_ref(id),
            ("renderMultiMedia", _) => self.multimedia(id),
            ("paragraph", Ctx::Flow) => self.paragraph(id),
            ("list", Ctx::Flow) => self.list(id),
            ("table", Ctx::Flow) => self.table(id),
            (
                "paragraph" | "list" | "table" | "item" | "caption" | "thead" | "tbody" | "tfoot"
                | "tr" | "td" | "th" | "col" | "colgroup",
                _,
            ) => {
                self.attrs(id, local);
                self.flatten(id);
            }
            _ => {
                self.stats.unknown_elements += 1;
                self.children(id, ctx);
            }
        }
    }

    /// A block where only inline content may go (or a table/list part out of
    /// place): keep the text, approximate the lines.
    fn flatten(&mut self, id: NodeId) {
        let local = self.hl7(id).unwrap_or("");
        let cell = matches!(local, "td" | "th");
        if matches!(local, "col" | "colgroup") {
            return;
        }
        if cell {
            self.w.soft_space();
        } else {
            self.w.soft_break();
        }
        let doc = self.doc;
        for k in doc.children(id) {
            match self.hl7(k) {
                Some(
                    l @ ("paragraph" | "list" | "table" | "item" | "caption" | "thead" | "tbody"
                    | "tfoot" | "tr" | "td" | "th" | "col" | "colgroup"),
                ) => {
                    self.attrs(k, l);
                    self.flatten(k);
                }
                _ => self.node(k, Ctx::Inline),
            }
        }
        if cell {
            self.w.soft_space();
        } else {
            self.w.soft_break();
        }
    }

    /// Inline element with wrappers; dropped when it yields no text.
    fn inline(&mut self, id: NodeId, local: &str, tag: &str) {
        let (attrs, style) = self.attrs(id, local);
        let snap = self.w.snapshot();
        let outer = self.w.begin_produced();
        let wrappers = style.wrappers();
        let attrs = Self::with_css(attrs, &style);
        // A plain `content` with only wrappers needs no span around them.
        let own = tag != "span" || !attrs.is_empty() || wrappers.is_empty();
        if own {
            self.w.open_inline(tag, &attrs);
        }
        for t in wrappers.iter() {
            self.w.open_inline(t, &[]);
        }
        self.children(id, Ctx::Inline);
        for t in wrappers.iter().rev() {
            self.w.close_inline(t);
        }
        if own {
            self.w.close_inline(tag);
        }
        if !self.w.end_produced(outer) && !self.has_br(id) {
            self.w.restore(snap);
        }
    }

    /// Whether a subtree holds a `br` (line structure worth keeping).
    fn has_br(&self, id: NodeId) -> bool {
        self.doc
            .elements(id)
            .any(|c| self.hl7(c) == Some("br") || (!self.is_deleted(c) && self.has_br(c)))
    }

    fn content(&mut self, id: NodeId) {
        if self.is_deleted(id) {
            self.attrs(id, "content");
            return;
        }
        self.inline(id, "content", "span");
    }

    fn link(&mut self, id: NodeId) {
        let (_, style) = self.attrs(id, "linkHtml");
        let href = self.doc.attr(id, "href").unwrap_or("").trim().to_string();
        let wrappers = style.wrappers();
        let snap = self.w.snapshot();
        let outer = self.w.begin_produced();
        let safe = is_safe_absolute(&href);
        if safe {
            self.w
                .open_inline("a", &[("href", Cow::Borrowed(href.as_str()))]);
        } else {
            self.w
                .open_inline("span", &Self::with_css(Attrs::new(), &style));
        }
        for t in wrappers.iter() {
            self.w.open_inline(t, &[]);
        }
        self.children(id, Ctx::Inline);
        for t in wrappers.iter().rev() {
            self.w.close_inline(t);
        }
        let had_text = self.w.produced();
        if safe {
            if !had_text {
                self.w.text(&href);
            }
            self.w.close_inline("a");
        } else {
            if is_dangerous(&href) {
                self.stats.dropped_attrs += 1;
            } else if !href.is_empty() {
                self.w.text(&format!(" (link: {href})"));
            }
            self.w.close_inline("span");
        }
        if !self.w.end_produced(outer) {
            self.w.restore(snap);
        }
    }

    fn marker(&mut self, n: Option<u32>) {
        self.w.open_inline("sup", &[]);
        match n {
            Some(n) => self.w.text(&format!("[{n}]")),
            None => self.w.text("[*]"),
        }
        self.w.close_inline("sup");
    }

    fn footnote(&mut self, id: NodeId) {
        self.attrs(id, "footnote");
        let n = self.footnote_no.get(&id).copied();
        self.marker(n);
        let Some(n) = n else { return };
        if self.footnotes.iter().any(|f| f.0 == n) {
            return;
        }
        let saved = std::mem::replace(&mut self.w, Writer::new());
        let saved_base = std::mem::replace(&mut self.base, 0);
        self.children(id, Ctx::Inline);
        self.base = saved_base;
        let body = std::mem::replace(&mut self.w, saved);
        if body.produced() {
            self.footnotes.push((n, body.finish()));
        }
    }

    fn footnote_ref(&mut self, id: NodeId) {
        self.attrs(id, "footnoteRef");
        let n = self
            .doc
            .attr(id, "IDREF")
            .and_then(|r| self.footnote_ids.get(r.trim()).copied());
        self.marker(n);
    }

    fn multimedia(&mut self, id: NodeId) {
        self.attrs(id, "renderMultiMedia");
        let d = self.doc;
        let caption = d
            .child(id, NS_HL7, "caption")
            .map(|c| {
                d.string_value(c)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .filter(|c| !c.is_empty());
        // Crosswalk §5.2: the caption, else the referenced object's media
        // type, else its id.
        let reference = d
            .attr(id, "referencedObject")
            .map(str::trim)
            .filter(|r| !r.is_empty());
        let media = || {
            let r = reference?;
            let ns = d.ns_index(NS_HL7)?;
            let m = d
                .named_descendants(d.root(), ns, "observationMedia")
                .find(|&m| d.attr(m, "ID").map(str::trim) == Some(r))?;
            let v = d.child(m, NS_HL7, "value")?;
            d.attr(v, "mediaType")
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        };
        let label = caption
            .or_else(media)
            .or_else(|| reference.map(str::to_string));
        match label {
            Some(l) => self.w.text(&format!("[attachment: {l}]")),
            None => self.w.text("[attachment]"),
        }
    }

    /// `caption` children of a list/paragraph, as bold inline text.
    fn caption_inline(&mut self, id: NodeId) {
        let caps: Vec<NodeId> = self
            .doc
            .elements(id)
            .filter(|&c| self.hl7(c) == Some("caption"))
            .collect();
        for cap in caps {
            self.attrs(cap, "caption");
            let snap = self.w.snapshot();
            let outer = self.w.begin_produced();
            self.w.open_inline("b", &[]);
            self.children(cap, Ctx::Inline);
            self.w.close_inline("b");
            if self.w.end_produced(outer) {
                self.w.soft_space();
            } else {
                self.w.restore(snap);
            }
        }
    }

    fn paragraph(&mut self, id: NodeId) {
        let (attrs, style) = self.attrs(id, "paragraph");
        let snap = self.w.snapshot();
        let outer = self.w.begin_produced();
        self.w.open_block("p", &Self::with_css(attrs, &style));
        let wrappers = style.wrappers();
        for t in wrappers.iter() {
            self.w.open_inline(t, &[]);
        }
        self.caption_inline(id);
        let doc = self.doc;
        for k in doc.children(id) {
            if self.hl7(k) != Some("caption") {
                self.node(k, Ctx::Inline);
            }
        }
        for t in wrappers.iter().rev() {
            self.w.close_inline(t);
        }
        self.w.close_block("p");
        if !self.w.end_produced(outer) {
            self.w.restore(snap);
        }
    }

    /// A flow container (`li`, `td`, `th`) with its style.
    fn flow_container(&mut self, id: NodeId, local: &str, tag: &str) {
        let (attrs, mut style) = self.attrs(id, local);
        if self.has_block(id) {
            style.fold_into_css();
        }
        self.w.open_block(tag, &Self::with_css(attrs, &style));
        let wrappers = style.wrappers();
        for t in wrappers.iter() {
            self.w.open_inline(t, &[]);
        }
        self.children(id, Ctx::Flow);
        for t in wrappers.iter().rev() {
            self.w.close_inline(t);
        }
        self.w.close_block(tag);
    }

    /// Something out of place inside a list or row: wrap it (never drop text).
    fn wrap_stray(&mut self, k: NodeId, tag: &str) -> bool {
        let d = self.doc;
        if d.node(k).kind == NodeKind::Text && d.text(k).chars().all(char::is_whitespace) {
            self.w.source_whitespace();
            return false;
        }
        let snap = self.w.snapshot();
        let outer = self.w.begin_produced();
        self.w.open_block(tag, &[]);
        self.node(k, Ctx::Flow);
        self.w.close_block(tag);
        if self.w.end_produced(outer) {
            true
        } else {
            self.w.restore(snap);
            false
        }
    }

    fn list(&mut self, id: NodeId) {
        let (attrs, mut style) = self.attrs(id, "list");
        style.fold_into_css();
        let ordered = self
            .doc
            .attr(id, "listType")
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("ordered"));
        let tag = if ordered { "ol" } else { "ul" };
        // Caption → <p><b>…</b></p> before the list.
        let snap = self.w.snapshot();
        let outer = self.w.begin_produced();
        self.w.open_block("p", &[]);
        self.caption_inline(id);
        self.w.close_block("p");
        if !self.w.end_produced(outer) {
            self.w.restore(snap);
        }
        let snap = self.w.snapshot();
        let outer = self.w.begin_produced();
        self.w.open_block(tag, &Self::with_css(attrs, &style));
        let mut items = 0;
        let doc = self.doc;
        for k in doc.children(id) {
            match self.hl7(k) {
                Some("caption") => {}
                Some("item") => {
                    let s = self.w.snapshot();
                    let o = self.w.begin_produced();
                    self.flow_container(k, "item", "li");
                    if self.w.end_produced(o) {
                        items += 1;
                    } else {
                        self.w.restore(s);
                    }
                }
                _ => items += self.wrap_stray(k, "li") as u32,
            }
        }
        self.w.close_block(tag);
        self.w.end_produced(outer);
        if items == 0 {
            self.w.restore(snap);
        }
    }

    fn table(&mut self, id: NodeId) {
        let (attrs, mut style) = self.attrs(id, "table");
        style.fold_into_css();
        let snap = self.w.snapshot();
        self.w.open_block("table", &Self::with_css(attrs, &style));
        let caps: Vec<NodeId> = self
            .doc
            .elements(id)
            .filter(|&c| self.hl7(c) == Some("caption"))
            .collect();
        if !caps.is_empty() {
            let s = self.w.snapshot();
            let o = self.w.begin_produced();
            let (cattrs, cstyle) = self.attrs(caps[0], "caption");
            self.w
                .open_block("caption", &Self::with_css(cattrs, &cstyle));
            let wrappers = cstyle.wrappers();
            for t in wrappers.iter() {
                self.w.open_inline(t, &[]);
            }
            for (i, &cap) in caps.iter().enumerate() {
                if i > 0 {
                    self.attrs(cap, "caption");
                    self.w.soft_space();
                }
                self.children(cap, Ctx::Inline);
            }
            for t in wrappers.iter().rev() {
                self.w.close_inline(t);
            }
            self.w.close_block("caption");
            if !self.w.end_produced(o) {
                self.w.restore(s);
            }
        }
        let mut rows = 0u32;
        let mut stray_body = false;
        let doc = self.doc;
        for k in doc.children(id) {
            let l = self.hl7(k);
            match l {
                Some("caption") => continue,
                Some("col") => self.col(k),
                Some("colgroup") => {
                    let (a, _) = self.attrs(k, "colgroup");
                    self.w.open_block("colgroup", &a);
                    for c in doc.elements(k) {
                        if self.hl7(c) == Some("col") {
                            self.col(c);
                        }
                    }
                    self.w.close_block("colgroup");
                }
                Some(sec @ ("thead" | "tbody" | "tfoot")) => {
                    if stray_body {
                        self.w.close_block("tbody");
                        stray_body = false;
                    }
                    rows += self.section(k, sec);
                }
                _ => {
                    let d = self.doc;
                    if d.node(k).kind == NodeKind::Text
                        && d.text(k).chars().all(char::is_whitespace)
                    {
                        self.w.source_whitespace();
                        continue;
                    }
                    if !stray_body {
                        self.w.open_block("tbody", &[]);
                        stray_body = true;
                    }
                    if l == Some("tr") {
                        rows += self.row(k);
                    } else {
                        let s = self.w.snapshot();
                        self.w.open_block("tr", &[]);
                        if self.wrap_stray(k, "td") {
                            self.w.close_block("tr");
                            rows += 1;
                        } else {
                            self.w.restore(s);
                        }
                    }
                }
            }
        }
        if stray_body {
            self.w.close_block("tbody");
        }
        self.w.close_block("table");
        if rows == 0 {
            // No row: a table would be invalid; keep the caption as a line.
            self.w.restore(snap);
            if !caps.is_empty() {
                let s = self.w.snapshot();
                let o = self.w.begin_produced();
                self.w.open_block("p", &[]);
                self.caption_inline(id);
                self.w.close_block("p");
                if !self.w.end_produced(o) {
                    self.w.restore(s);
                }
            }
        }
        // Remove an empty stray tbody left by a stray element that yielded nothing.
        let empty = "<tbody></tbody>";
        let tail = "<tbody></tbody></table>";
        if self.w.out.len() >= self.base + tail.len() && self.w.out.ends_with(tail) {
            let at = self.w.out.len() - empty.len() - "</table>".len();
            self.w.out.replace_range(at..at + empty.len(), "");
        }
    }

    fn col(&mut self, id: NodeId) {
        let (a, _) = self.attrs(id, "col");
        self.w.empty_block("col", &a);
    }

    /// `thead`/`tbody`/`tfoot`; returns the number of rows emitted.
    fn section(&mut self, id: NodeId, local: &str) -> u32 {
        let (attrs, mut style) = self.attrs(id, local);
        style.fold_into_css();
        let snap = self.w.snapshot();
        self.w.open_block(local, &Self::with_css(attrs, &style));
        let mut rows = 0;
        let doc = self.doc;
        for k in doc.children(id) {
            if self.hl7(k) == Some("tr") {
                rows += self.row(k);
            } else {
                let s = self.w.snapshot();
                self.w.open_block("tr", &[]);
                if self.wrap_stray(k, "td") {
                    self.w.close_block("tr");
                    rows += 1;
                } else {
                    self.w.restore(s);
                }
            }
        }
        self.w.close_block(local);
        if rows == 0 {
            self.w.restore(snap);
        }
        rows
    }

    /// `tr`; returns 1 when emitted (rows need at least one cell).
    fn row(&mut self, id: NodeId) -> u32 {
        let (attrs, mut style) = self.attrs(id, "tr");
        style.fold_into_css();
        let snap = self.w.snapshot();
        self.w.open_block("tr", &Self::with_css(attrs, &style));
        let mut cells = 0;
        let doc = self.doc;
        for k in doc.children(id) {
            match self.hl7(k) {
                Some(c @ ("td" | "th")) => {
                    self.flow_container(k, c, c);
                    cells += 1;
                }
                _ => cells += self.wrap_stray(k, "td") as u32,
            }
        }
        self.w.close_block("tr");
        if cells == 0 {
            self.w.restore(snap);
            return 0;
        }
        1
    }
}

#[cfg(test)]
mod tests {
    use super::super::{check_xhtml, xhtml_text, XHTML_NS};
    use super::*;

    fn conv_stats(inner: &str) -> (String, bool, Stats) {
        let src = format!(
            "<text xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
             mediaType=\"text/x-hl7-text+xml\">{inner}</text>"
        );
        let doc = Document::parse(&src).unwrap();
        let mut out = String::new();
        let mut stats = Stats::default();
        let produced = cda_text_to_xhtml(&doc, doc.root(), &mut out, &mut stats);
        if produced {
            let div = format!("<div xmlns=\"{XHTML_NS}\">{out}</div>");
            let problems = check_xhtml(&div);
            assert!(problems.is_empty(), "{out}\n{problems:?}");
        }
        (out, produced, stats)
    }

    fn conv(inner: &str) -> String {
        conv_stats(inner).0
    }

    #[test]
    fn nested_content_bold() {
        assert_eq!(
            conv("<content styleCode=\"Bold\">Name: <content ID=\"n1\">Smith</content></content>"),
            "<b>Name: <span>Smith</span></b>"
        );
        assert_eq!(
            conv("<paragraph><content styleCode=\"bold italics\">x</content> y</paragraph>"),
            "<p><b><i>x</i></b> y</p>"
        );
        assert_eq!(
            conv("<content styleCode=\"Underline Bold\">u</content>"),
            "<span style=\"text-decoration: underline\"><b>u</b></span>"
        );
    }

    #[test]
    fn lists_with_caption() {
        assert_eq!(
            conv("<list><caption>Meds</caption><item>A</item><item> B <content>c</content></item></list>"),
            "<p><b>Meds</b></p><ul><li>A</li><li>\nB <span>c</span></li></ul>"
        );
        assert_eq!(
            conv("<list listType=\"ordered\" styleCode=\"LittleRoman\"><item>one</item><item/></list>"),
            "<ol style=\"list-style-type: lower-roman\"><li>one</li></ol>"
        );
        assert_eq!(
            conv("<list><item>a<list listType=\"ordered\"><item>b</item></list></item></list>"),
            "<ul><li>a<ol><li>b</li></ol></li></ul>"
        );
    }

    #[test]
    fn appends_to_the_buffer_without_touching_what_is_there() {
        // What the caller already wrote (here a prefix that looks like the
        // empty stray tbody the converter removes) is kept byte for byte.
        let prefix = "<div><h3>T</h3><table><tbody></tbody></table>";
        for inner in [
            "<table><tr><td>a</td></tr></table>",
            "<table><caption>c</caption></table>",
            "<table></table>",
            "<table><tr><td>a</td></tr><tbody/></table>",
            "<paragraph>p<footnote>f</footnote></paragraph>",
            "",
        ] {
            let src = format!("<text xmlns=\"urn:hl7-org:v3\">{inner}</text>");
            let doc = Document::parse(&src).unwrap();
            let mut out = prefix.to_string();
            let mut stats = Stats::default();
            let p1 = cda_text_to_xhtml(&doc, doc.root(), &mut out, &mut stats);
            let mut alone = String::new();
            let p2 = cda_text_to_xhtml(&doc, doc.root(), &mut alone, &mut Stats::default());
            assert_eq!(out, format!("{prefix}{alone}"), "{inner}");
            assert_eq!(p1, p2, "{inner}");
        }
    }

    #[test]
    fn tables_keep_spans_drop_ids() {
        let (out, _, stats) = conv_stats(
            "<table width=\"100%\" border=\"1\" ID=\"t1\"><caption>Results</caption>\
             <thead><tr><th>Test</th><th>Value</th></tr></thead>\
             <tbody><tr ID=\"r1\"><td ID=\"c1\" colspan=\"2\" align=\"Left\" bogus=\"x\">Hb <sup>9</sup></td></tr>\
             <tr><td/><td styleCode=\"Bold\">x</td></tr></tbody></table>",
        );
        assert_eq!(
            out,
            "<table width=\"100%\" border=\"1\"><caption>Results</caption>\
             <thead><tr><th>Test</th><th>Value</th></tr></thead>\
             <tbody><tr><td colspan=\"2\" align=\"left\">Hb <sup>9</sup></td></tr>\
             <tr><td></td><td><b>x</b></td></tr></tbody></table>"
        );
        assert_eq!(stats.dropped_attrs, 1);
    }

    #[test]
    fn empty_table_keeps_caption() {
        assert_eq!(
            conv("<table><caption>Nothing</caption><tbody/></table>"),
            "<p><b>Nothing</b></p>"
        );
    }

    #[test]
    fn br_runs_and_whitespace() {
        assert_eq!(
            conv("\n  Line 1<br/>\n  <br/>\n   Line   2 <br/>Line 3\n"),
            "Line 1<br/>\n<br/>\nLine 2\n<br/>Line 3"
        );
        assert_eq!(
            conv("<paragraph>\n foo  <content>bar</content>\n baz </paragraph>"),
            "<p>foo <span>bar</span> baz</p>\n"
        );
        assert_eq!(
            conv("<paragraph>a<content> b </content>c</paragraph>"),
            "<p>a<span> b</span> c</p>"
        );
    }

    #[test]
    fn content_with_only_br_keeps_the_break() {
        assert_eq!(
            conv("a<content ID=\"x\"><br/></content>b<content/>"),
            "a<span><br/></span>b"
        );
    }

    #[test]
    fn escapes_and_utf8() {
        let (out, produced, _) = conv_stats("&lt;CLEO Ref: 2100310450&gt; Test Call &amp; more");
        assert!(produced);
        assert_eq!(out, "&lt;CLEO Ref: 2100310450&gt; Test Call &amp; more");
        assert_eq!(
            conv("<paragraph>Mary’s Buscopan®(Boehringer) £5</paragraph>"),
            "<p>Mary’s Buscopan®(Boehringer) £5</p>"
        );
    }

    #[test]
    fn empty_paragraph_and_revised_delete() {
        let (out, produced, _) = conv_stats("<paragraph/>\n<paragraph> </paragraph>");
        assert_eq!(out, "");
        assert!(!produced);
        assert_eq!(
            conv("<paragraph>keep <content revised=\"delete\">gone</content><content revised=\"insert\">new</content></paragraph>"),
            "<p>keep <span>new</span></p>"
        );
    }

    #[test]
    fn links() {
        assert_eq!(
            conv("<linkHtml href=\"http://www.example.org/wado?x=1&amp;y=2\">Image</linkHtml>"),
            "<a href=\"http://www.example.org/wado?x=1&amp;y=2\">Image</a>"
        );
        assert_eq!(
            conv("See <linkHtml href=\"AdvanceDirective.b50b7910.pdf\">directive</linkHtml>."),
            "See <span>directive (link: AdvanceDirective.b50b7910.pdf)</span>."
        );
        let (out, _, stats) =
            conv_stats("<linkHtml href=\" JavaScript:alert(1)\">click</linkHtml>");
        assert_eq!(out, "<span>click</span>");
        assert_eq!(stats.dropped_attrs, 1);
        assert_eq!(
            conv("<linkHtml href=\"mailto:a@b.nhs.uk\"/>"),
            "<a href=\"mailto:a@b.nhs.uk\">mailto:a@b.nhs.uk</a>"
        );
    }

    #[test]
    fn unknown_element_keeps_text() {
        let (out, _, stats) =
            conv_stats("<paragraph>a <blink>b</blink> <x:y xmlns:x=\"urn:x\">c</x:y></paragraph>");
        assert_eq!(out, "<p>a b c</p>");
        assert_eq!(stats.unknown_elements, 2);
        let (_, _, stats) = conv_stats("<content styleCode=\"xRowGrey Bold\">z</content>");
        assert_eq!(stats.unknown_styles, 1);
    }

    #[test]
    fn blocks_in_inline_are_flattened() {
        assert_eq!(
            conv("<paragraph>Intro<list><item>one</item><item>two</item></list>end</paragraph>"),
            "<p>Intro<br/>one<br/>two<br/>end</p>"
        );
        assert_eq!(
            conv("<content><paragraph>p1</paragraph><paragraph>p2</paragraph></content>"),
            "<span>p1<br/>p2</span>"
        );
    }

    #[test]
    fn paragraph_caption_language_and_sub() {
        assert_eq!(
            conv("<paragraph language=\"en-GB\"><caption>Impression</caption>Normal 4.5x10<sup>9</sup>/l H<sub>2</sub>O</paragraph>"),
            "<p lang=\"en-GB\"><b>Impression</b> Normal 4.5x10<sup>9</sup>/l H<sub>2</sub>O</p>"
        );
    }

    #[test]
    fn footnotes_and_multimedia() {
        assert_eq!(
            conv("<paragraph>Dose<footnote ID=\"f1\">per day</footnote> again<footnoteRef IDREF=\"f1\"/></paragraph>\
                  <renderMultiMedia referencedObject=\"MM1\"/>"),
            "<p>Dose<sup>[1]</sup> again<sup>[1]</sup></p>[attachment: MM1]<p><sup>[1]</sup> per day</p>"
        );
    }

    #[test]
    fn stray_content_in_table_and_list() {
        assert_eq!(
            conv("<table><tbody><tr>lost?<td>a</td></tr></tbody></table><list>loose<item>i</item></list>"),
            "<table><tbody><tr><td>lost?</td><td>a</td></tr></tbody></table><ul><li>loose</li><li>i</li></ul>"
        );
    }

    #[test]
    fn cell_with_blocks_uses_css_bold() {
        assert_eq!(
            conv("<table><tbody><tr><td styleCode=\"Bold\"><paragraph>x</paragraph></td></tr></tbody></table>"),
            "<table><tbody><tr><td style=\"font-weight: bold\"><p>x</p></td></tr></tbody></table>"
        );
    }

    #[test]
    fn text_coverage_roundtrip() {
        let out = conv("<paragraph>alpha</paragraph><table><tbody><tr><td>beta</td><td>gamma</td></tr></tbody></table>");
        assert_eq!(
            xhtml_text(&format!("<div xmlns=\"{XHTML_NS}\">{out}</div>")),
            "alpha beta gamma"
        );
    }
}

/// Smoke test over the shared sample corpus (run with `--ignored`): every
/// section `text` converts to a div that passes [`check_xhtml`] and keeps
/// every word of the source (except deleted content and link hrefs).
#[cfg(test)]
mod corpus {
    use super::super::{check_xhtml, npfit_xhtml_to_xhtml, xhtml_text, NS_NPFIT_XHTML, XHTML_NS};
    use super::*;

    /// Source text with element boundaries as word breaks, deleted content
    /// and `head` skipped.
    fn words(doc: &Document, id: NodeId, out: &mut String) {
        for c in doc.children(id) {
            if doc.node(c).kind == NodeKind::Text {
                out.push_str(doc.text(c));
            } else if doc.attr(c, "revised") != Some("delete") && doc.local(c) != "head" {
                out.push(' ');
                words(doc, c, out);
                out.push(' ');
            }
        }
    }

    #[test]
    fn samples_convert_cleanly() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples");
        if !root.exists() {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: ../shared/samples not present (narrative corpus test)"
            );
            return;
        }
        let root = root.as_path();
        let (mut blocks, mut failures) = (0, Vec::new());
        for entry in walkdir::WalkDir::new(root).into_iter().flatten() {
            if entry
                .path()
                .extension()
                .is_none_or(|e| e != "xml" && e != "ccda")
            {
                continue;
            }
            let Ok(bytes) = std::fs::read(entry.path()) else {
                continue;
            };
            let Ok(dec) = crate::xml::decode(&bytes) else {
                continue;
            };
            let Ok(doc) = Document::parse(&dec.text) else {
                continue;
            };
            for id in doc.descendants(doc.root()) {
                let npfit = doc.is(id, NS_NPFIT_XHTML, "html");
                let cda = doc.is(id, NS_HL7, "text")
                    && doc.parent(id).is_some_and(|p| doc.is(p, NS_HL7, "section"));
                if !npfit && !cda {
                    continue;
                }
                let mut out = String::new();
                let mut stats = Stats::default();
                let produced = if npfit {
                    npfit_xhtml_to_xhtml(&doc, id, &mut out, &mut stats)
                } else {
                    cda_text_to_xhtml(&doc, id, &mut out, &mut stats)
                };
                if !produced {
                    continue;
                }
                blocks += 1;
                let div = format!("<div xmlns=\"{XHTML_NS}\">{out}</div>");
                let problems = check_xhtml(&div);
                let got = xhtml_text(&div);
                let mut src = String::new();
                words(&doc, id, &mut src);
                let missing: Vec<&str> = src
                    .split_whitespace()
                    .filter(|w| !got.contains(w))
                    .take(3)
                    .collect();
                if !problems.is_empty() || !missing.is_empty() {
                    failures.push(format!(
                        "{}: {problems:?} missing {missing:?}",
                        entry.path().display()
                    ));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{blocks} blocks, {} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
        eprintln!("{blocks} blocks converted");
    }
}
