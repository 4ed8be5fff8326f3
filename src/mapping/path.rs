//! Source paths: a small, namespace-aware XPath subset compiled once.
//!
//! Steps: `prefix:name`, `*`, `@attr`, `@prefix:attr`, `.`, `..`; separators
//! `/` (child) and `//` (descendant); a leading `/` starts at the document
//! root element's parent (so `/hl7:ClinicalDocument` names the root).
//! Predicates: `[n]` (1-based), `[path]` (exists), `[path = 'v']`,
//! `[path != 'v']`, `and`, `or`, `not(...)`, parentheses.
//! Unknown prefixes are compile errors.

use super::syntax::{CompileError, Cursor};
use crate::xml::{Document, NodeId, NodeKind};

/// How a step moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Child elements.
    Child,
    /// Descendant elements.
    Descendant,
}

/// A namespace URI as a step names it, with its number among
/// [`crate::xml::KNOWN_NAMESPACES`] when it is one of them.
#[derive(Debug, Clone)]
pub struct NsName {
    uri: String,
    known: Option<u8>,
}

impl NsName {
    fn new(uri: String) -> Self {
        let known = crate::xml::known_namespace(&uri);
        NsName { uri, known }
    }

    /// This namespace's index in `doc`, if the document uses it.
    #[inline]
    fn index_in(&self, doc: &Document) -> Option<u16> {
        match self.known {
            Some(k) => doc.known_ns_index(k),
            None => doc.ns_index(&self.uri),
        }
    }
}

/// One step of a path.
#[derive(Debug, Clone)]
pub enum Step {
    /// Element step.
    Elem {
        /// Child or descendant.
        axis: Axis,
        /// Namespace (`None` = any, for `*`).
        ns: Option<NsName>,
        /// Local name (`None` = any).
        local: Option<String>,
        /// Predicates.
        preds: Vec<Pred>,
    },
    /// Attribute (last step only).
    Attr {
        /// Namespace ("" = none).
        ns: NsName,
        /// Local name.
        local: String,
    },
    /// `..`
    Parent,
    /// `.`
    SelfNode,
}

/// A predicate.
#[derive(Debug, Clone)]
pub enum Pred {
    /// `[n]`
    Index(usize),
    /// `[path]`
    Exists(Path),
    /// `[path = 'v']` / `[path != 'v']`
    Cmp(Path, bool, String),
    /// and
    And(Vec<Pred>),
    /// or
    Or(Vec<Pred>),
    /// not(...)
    Not(Box<Pred>),
    /// starts-with(path, 'v')
    StartsWith(Path, String),
}

/// A compiled path.
#[derive(Debug, Clone)]
pub struct Path {
    /// Starts at the document root.
    pub absolute: bool,
    /// Steps in order.
    pub steps: Vec<Step>,
    /// Source text (for messages).
    pub text: String,
}

/// A selected item: an element, or an attribute of an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Item {
    /// Element node.
    Node(NodeId),
    /// Attribute `idx` of element.
    Attr(NodeId, u32),
}

/// Namespace bindings visible to the parser.
pub trait Namespaces {
    /// URI bound to `prefix`.
    fn uri(&self, prefix: &str) -> Option<&str>;
}

/// Does the cursor start a path?
pub fn starts_path(c: &Cursor) -> bool {
    let r = c.rest();
    if r.starts_with('/') || r.starts_with('@') || r.starts_with('.') || r.starts_with('*') {
        return true;
    }
    // prefix:name
    let id_end = r
        .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '-'))
        .unwrap_or(r.len());
    id_end > 0 && r[id_end..].starts_with(':') && !r[id_end..].starts_with("::")
}

/// Parse a path at the cursor.
pub fn parse(c: &mut Cursor, ns: &dyn Namespaces) -> Result<Path, CompileError> {
    let start = c.pos;
    let mut steps = Vec::new();
    let mut absolute = false;
    let mut axis = Axis::Child;
    if c.eat("//") {
        absolute = true;
        axis = Axis::Descendant;
    } else if c.eat("/") {
        absolute = true;
    }
    loop {
        let step = parse_step(c, ns, axis)?;
        let is_attr = matches!(step, Step::Attr { .. });
        steps.push(step);
        if c.rest().starts_with("//") {
            if is_attr {
                return Err(c.err("an attribute step must be the last step"));
            }
            c.pos += 2;
            axis = Axis::Descendant;
        } else if c.rest().starts_with('/') {
            if is_attr {
                return Err(c.err("an attribute step must be the last step"));
            }
            c.pos += 1;
            axis = Axis::Child;
        } else {
            break;
        }
    }
    Ok(Path {
        absolute,
        steps,
        text: c.s[start..c.pos].to_string(),
    })
}

fn qname<'s>(c: &mut Cursor<'s>) -> Option<(Option<&'s str>, &'s str)> {
    let save = c.pos;
    let first = ident(c)?;
    if c.rest().starts_with(':') {
        c.pos += 1;
        match ident(c) {
            Some(local) => Some((Some(first), local)),
            None => {
                c.pos = save;
                None
            }
        }
    } else {
        Some((None, first))
    }
}

fn ident<'s>(c: &mut Cursor<'s>) -> Option<&'s str> {
    let r = c.rest();
    let end = r
        .char_indices()
        .take_while(|&(i, ch)| {
            ch.is_ascii_alphabetic()
                || ch == '_'
                || (i > 0 && (ch.is_ascii_digit() || ch == '-' || ch == '.'))
        })
        .map(|(i, ch)| i + ch.len_utf8())
        .last()?;
    c.pos += end;
    Some(&r[..end])
}

fn parse_step(c: &mut Cursor, ns: &dyn Namespaces, axis: Axis) -> Result<Step, CompileError> {
    if c.eat("..") {
        return Ok(Step::Parent);
    }
    if c.eat(".") {
        return Ok(Step::SelfNode);
    }
    if c.eat("@") {
        let at = c.loc();
        let (p, local) = qname(c).ok_or_else(|| c.err("expected an attribute name after '@'"))?;
        let uri = match p {
            None => String::new(),
            Some(p) => ns
                .uri(p)
                .ok_or_else(|| CompileError {
                    file: c.file.into(),
                    loc: at,
                    message: format!(
                        "unknown namespace prefix '{p}': declare it with 'namespace {p} = <uri>'"
                    ),
                })?
                .to_string(),
        };
        return Ok(Step::Attr {
            ns: NsName::new(uri),
            local: local.to_string(),
        });
    }
    let (nsu, local) = if c.eat("*") {
        (None, None)
    } else {
        let at = c.loc();
        let (p, local) = qname(c)
            .ok_or_else(|| c.err("expected a path step (prefix:name, *, @attr, . or ..)"))?;
        let p = p.ok_or_else(|| CompileError {
            file: c.file.into(),
            loc: at,
            message: format!("element step '{local}' needs a namespace prefix (e.g. hl7:{local})"),
        })?;
        let uri = ns.uri(p).ok_or_else(|| CompileError {
            file: c.file.into(),
            loc: at,
            message: format!(
                "unknown namespace prefix '{p}': declare it with 'namespace {p} = <uri>'"
            ),
        })?;
        (Some(NsName::new(uri.to_string())), Some(local.to_string()))
    };
    let mut preds = Vec::new();
    while c.eat("[") {
        let p = parse_or(c, ns)?;
        c.expect("]")?;
        preds.push(p);
    }
    Ok(Step::Elem {
        axis,
        ns: nsu,
        local,
        preds,
    })
}

fn parse_or(c: &mut Cursor, ns: &dyn Namespaces) -> Result<Pred, CompileError> {
    let mut v = vec![parse_and(c, ns)?];
    loop {
        c.ws();
        if c.eat_kw("or") {
            c.ws();
            v.push(parse_and(c, ns)?);
        } else {
            break;
        }
    }
    Ok(if v.len() == 1 {
        v.pop().unwrap_or(Pred::And(vec![]))
    } else {
        Pred::Or(v)
    })
}

fn parse_and(c: &mut Cursor, ns: &dyn Namespaces) -> Result<Pred, CompileError> {
    let mut v = vec![parse_atom(c, ns)?];
    loop {
        c.ws();
        if c.eat_kw("and") {
            c.ws();
            v.push(parse_atom(c, ns)?);
        } else {
            break;
        }
    }
    Ok(if v.len() == 1 {
        v.pop().unwrap_or(Pred::And(vec![]))
    } else {
        Pred::And(v)
    })
}

fn parse_atom(c: &mut Cursor, ns: &dyn Namespaces) -> Result<Pred, CompileError> {
    c.ws();
    if c.rest().starts_with("not(") {
        c.pos += 4;
        let p = parse_or(c, ns)?;
        c.expect(")")?;
        return Ok(Pred::Not(Box::new(p)));
    }
    if c.rest().starts_with("starts-with(") {
        c.pos += 12;
        c.ws();
        let p = parse(c, ns)?;
        c.expect(",")?;
        let v = c
            .string()?
            .ok_or_else(|| c.err("expected a quoted prefix"))?;
        c.expect(")")?;
        return Ok(Pred::StartsWith(p, v));
    }
    if c.eat("(") {
        let p = parse_or(c, ns)?;
        c.expect(")")?;
        return Ok(p);
    }
    if let Some(d) = c.peek().filter(|d| d.is_ascii_digit()) {
        let _ = d;
        let r = c.rest();
        let end = r.find(|ch: char| !ch.is_ascii_digit()).unwrap_or(r.len());
        let n: usize = r[..end].parse().map_err(|_| c.err("bad index"))?;
        c.pos += end;
        if n == 0 {
            return Err(c.err("positions are 1-based"));
        }
        return Ok(Pred::Index(n));
    }
    let p = parse(c, ns)?;
    c.ws();
    let neg = if c.eat("!=") {
        true
    } else if c.eat("=") {
        false
    } else {
        return Ok(Pred::Exists(p));
    };
    let v = c
        .string()?
        .ok_or_else(|| c.err("expected a quoted value after '='"))?;
    Ok(Pred::Cmp(p, neg, v))
}

/// Value of an item as text: attributes trimmed, elements with whitespace
/// collapsed.
pub fn item_text<'d>(doc: &'d Document, it: Item) -> std::borrow::Cow<'d, str> {
    match it {
        Item::Attr(n, i) => {
            let v = &doc.attrs(n)[i as usize].value;
            std::borrow::Cow::Borrowed(crate::convert::text::trim(v))
        }
        // Element parts (address lines, name parts) read as separate words.
        Item::Node(n) => match doc.string_value_spaced(n) {
            std::borrow::Cow::Borrowed(b) => crate::convert::text::collapse_ws(b),
            std::borrow::Cow::Owned(o) => {
                std::borrow::Cow::Owned(crate::convert::text::collapse_ws(&o).into_owned())
            }
        },
    }
}

impl Path {
    /// Evaluate from `ctx` (an element), appending results in document order.
    pub fn eval(&self, doc: &Document, ctx: NodeId, out: &mut Vec<Item>) {
        if self.streams() {
            self.stream(doc, ctx, &mut |it| {
                out.push(it);
                true
            });
            return;
        }
        self.eval_steps(doc, ctx, out);
    }

    /// Call `f` on each result in the order [`Path::eval`] gives them,
    /// until `f` returns false. Returns false when `f` stopped it.
    pub fn visit(&self, doc: &Document, ctx: NodeId, f: &mut dyn FnMut(Item) -> bool) -> bool {
        if self.streams() {
            return self.stream(doc, ctx, f);
        }
        let mut v = Vec::new();
        self.eval_steps(doc, ctx, &mut v);
        v.into_iter().all(f)
    }

    /// Whether depth-first evaluation gives exactly what the step-by-step
    /// evaluation does: no step can reach one node from two contexts
    /// (`..`, or `//` after the first step, would need de-duplication).
    fn streams(&self) -> bool {
        if self.absolute && !matches!(self.steps.first(), Some(Step::Elem { .. })) {
            return false;
        }
        self.steps.iter().enumerate().all(|(i, s)| match s {
            Step::Parent => false,
            Step::Elem { axis, .. } => i == 0 || *axis == Axis::Child,
            _ => true,
        })
    }

    /// Depth-first evaluation (only for paths where [`Path::streams`]).
    fn stream(&self, doc: &Document, ctx: NodeId, f: &mut dyn FnMut(Item) -> bool) -> bool {
        if self.absolute {
            // The virtual document node: its only child is the root.
            let Some(Step::Elem {
                axis,
                ns,
                local,
                preds,
            }) = self.steps.first()
            else {
                return true;
            };
            let test = NameTest::new(doc, ns, local);
            let root = doc.root();
            let desc = *axis == Axis::Descendant && test.possible();
            if preds.iter().any(positional) {
                let mut cands: Vec<NodeId> = Vec::new();
                test.collect_from_document(doc, *axis, &mut cands);
                apply_preds(doc, preds, &mut cands);
                return cands.into_iter().all(|c| self.stream_from(doc, 1, c, f));
            }
            let ok = |c: NodeId| test.matches(doc, c) && preds_hold(doc, preds, c);
            if ok(root) && !self.stream_from(doc, 1, root, f) {
                return false;
            }
            if desc {
                let ok = |c: NodeId| preds_hold(doc, preds, c);
                return test
                    .descendants(doc, root, &mut |c| !ok(c) || self.stream_from(doc, 1, c, f));
            }
            true
        } else {
            self.stream_from(doc, 0, ctx, f)
        }
    }

    fn stream_from(
        &self,
        doc: &Document,
        i: usize,
        n: NodeId,
        f: &mut dyn FnMut(Item) -> bool,
    ) -> bool {
        let Some(step) = self.steps.get(i) else {
            return f(Item::Node(n));
        };
        match step {
            Step::SelfNode => self.stream_from(doc, i + 1, n, f),
            Step::Parent => match doc.parent(n) {
                Some(p) => self.stream_from(doc, i + 1, p, f),
                None => true,
            },
            Step::Attr { ns, local } => {
                let Some(want) = ns.index_in(doc) else {
                    return true;
                };
                for (k, a) in doc.attrs(n).iter().enumerate() {
                    if a.ns == want && a.local == local.as_str() {
                        // An attribute step is always the last one.
                        if !f(Item::Attr(n, k as u32)) {
                            return false;
                        }
                    }
                }
                true
            }
            Step::Elem {
                axis,
                ns,
                local,
                preds,
            } => {
                let test = NameTest::new(doc, ns, local);
                if !test.possible() {
                    return true;
                }
                if preds.iter().any(positional) {
                    let mut cands: Vec<NodeId> = Vec::new();
                    test.collect(doc, *axis, n, &mut cands);
                    apply_preds(doc, preds, &mut cands);
                    return cands
                        .into_iter()
                        .all(|c| self.stream_from(doc, i + 1, c, f));
                }
                let ok = |c: NodeId| test.matches(doc, c) && preds_hold(doc, preds, c);
                match axis {
                    Axis::Child => {
                        for c in doc.elements(n) {
                            if ok(c) && !self.stream_from(doc, i + 1, c, f) {
                                return false;
                            }
                        }
                    }
                    Axis::Descendant => {
                        let ok = |c: NodeId| preds_hold(doc, preds, c);
                        return test.descendants(doc, n, &mut |c| {
                            !ok(c) || self.stream_from(doc, i + 1, c, f)
                        });
                    }
                }
                true
            }
        }
    }

    /// Step-by-step evaluation (any path).
    fn eval_steps(&self, doc: &Document, ctx: NodeId, out: &mut Vec<Item>) {
        let mut cur: Vec<Item> = Vec::with_capacity(4);
        if self.absolute {
            // The virtual document node: its only child is the root.
            match self.steps.first() {
                Some(Step::Elem {
                    axis,
                    ns,
                    local,
                    preds,
                }) => {
                    let test = NameTest::new(doc, ns, local);
                    let mut cands: Vec<NodeId> = Vec::new();
                    test.collect_from_document(doc, *axis, &mut cands);
                    apply_preds(doc, preds, &mut cands);
                    cur.extend(cands.into_iter().map(Item::Node));
                }
                _ => cur.push(Item::Node(doc.root())),
            }
            self.walk(doc, 1, cur, out);
        } else {
            cur.push(Item::Node(ctx));
            self.walk(doc, 0, cur, out);
        }
    }

    fn walk(&self, doc: &Document, from: usize, mut cur: Vec<Item>, out: &mut Vec<Item>) {
        let mut next: Vec<Item> = Vec::new();
        let mut cands: Vec<NodeId> = Vec::new();
        for step in &self.steps[from..] {
            next.clear();
            match step {
                Step::SelfNode => next.extend(cur.iter().filter(|i| matches!(i, Item::Node(_)))),
                Step::Parent => {
                    for it in &cur {
                        if let Item::Node(n) = *it {
                            if let Some(p) = doc.parent(n) {
                                next.push(Item::Node(p))
                            }
                        }
                    }
                }
                Step::Attr { ns, local } => {
                    let want = ns.index_in(doc);
                    for it in &cur {
                        let (Item::Node(n), Some(want)) = (*it, want) else {
                            continue;
                        };
                        for (i, a) in doc.attrs(n).iter().enumerate() {
                            if a.ns == want && a.local == local.as_str() {
                                next.push(Item::Attr(n, i as u32));
                            }
                        }
                    }
                }
                Step::Elem {
                    axis,
                    ns,
                    local,
                    preds,
                } => {
                    let test = NameTest::new(doc, ns, local);
                    if test.possible() {
                        for it in &cur {
                            let Item::Node(n) = *it else { continue };
                            cands.clear();
                            test.collect(doc, *axis, n, &mut cands);
                            // Positions count within each context's candidates.
                            apply_preds(doc, preds, &mut cands);
                            next.extend(cands.iter().map(|&c| Item::Node(c)));
                        }
                    }
                }
            }
            // Keep document order and uniqueness for descendant unions (one
            // context cannot give the same node twice).
            if cur.len() > 1
                && next.len() > 1
                && matches!(
                    step,
                    Step::Elem {
                        axis: Axis::Descendant,
                        ..
                    } | Step::Parent
                )
            {
                let mut seen = crate::fhir::defs::FastSet::default();
                next.retain(|i| seen.insert(*i));
            }
            std::mem::swap(&mut cur, &mut next);
            if cur.is_empty() {
                return;
            }
        }
        out.extend(cur);
    }

    /// First result, if any.
    pub fn first(&self, doc: &Document, ctx: NodeId) -> Option<Item> {
        let mut first = None;
        self.visit(doc, ctx, &mut |it| {
            first = Some(it);
            false
        });
        first
    }
}

/// An element name test resolved against one document: the namespace is
/// compared by the document's namespace index, not by URI text.
struct NameTest<'p> {
    /// `None`: any namespace; `Some(None)`: a namespace the document never
    /// declares (nothing matches); `Some(Some(i))`: that index.
    ns: Option<Option<u16>>,
    local: Option<&'p str>,
}

impl<'p> NameTest<'p> {
    fn new(doc: &Document, ns: &Option<NsName>, local: &'p Option<String>) -> Self {
        NameTest {
            ns: ns.as_ref().map(|u| u.index_in(doc)),
            local: local.as_deref(),
        }
    }

    /// False when no element of the document can match.
    fn possible(&self) -> bool {
        !matches!(self.ns, Some(None))
    }

    #[inline]
    fn matches(&self, doc: &Document, c: NodeId) -> bool {
        let node = doc.node(c);
        node.kind == NodeKind::Element
            && self.ns.is_none_or(|want| want == Some(node.ns))
            && self.local.is_none_or(|l| {
                let (a, b) = (node.local.as_bytes(), l.as_bytes());
                // The first byte settles most mismatches without a call.
                a.len() == b.len() && a.first() == b.first() && a == b
            })
    }

    /// Call `f` on each matching descendant element of `n` in document
    /// order until it returns false; false when stopped. A named test with
    /// a namespace goes through the document's by-name index.
    /// Append the matching elements on `axis` from the virtual document
    /// node (whose only child is the root), in document order.
    fn collect_from_document(&self, doc: &Document, axis: Axis, out: &mut Vec<NodeId>) {
        let root = doc.root();
        if self.matches(doc, root) {
            out.push(root);
        }
        if axis == Axis::Descendant && self.possible() {
            self.collect(doc, axis, root, out);
        }
    }

    /// Append the matching elements on `axis` from `n`, in document order.
    fn collect(&self, doc: &Document, axis: Axis, n: NodeId, out: &mut Vec<NodeId>) {
        match axis {
            Axis::Child => out.extend(doc.elements(n).filter(|&c| self.matches(doc, c))),
            Axis::Descendant => {
                self.descendants(doc, n, &mut |c| {
                    out.push(c);
                    true
                });
            }
        }
    }

    fn descendants(&self, doc: &Document, n: NodeId, f: &mut dyn FnMut(NodeId) -> bool) -> bool {
        if let (Some(Some(ns)), Some(local)) = (self.ns, self.local) {
            return doc.named_descendants(n, ns, local).all(f);
        }
        doc.descendant_elements(n)
            .filter(|&c| self.matches(doc, c))
            .all(f)
    }
}

/// Keep the candidates every predicate holds for (positions are 1-based,
/// counted among the candidates left by the previous predicate).
fn apply_preds(doc: &Document, preds: &[Pred], cands: &mut Vec<NodeId>) {
    for p in preds {
        let len = cands.len();
        let mut pos = 0;
        cands.retain(|&n| {
            pos += 1;
            pred_holds(doc, p, n, pos, len)
        });
    }
}

/// Whether a predicate depends on positions (`[n]` somewhere in it).
fn positional(p: &Pred) -> bool {
    match p {
        Pred::Index(_) => true,
        Pred::And(v) | Pred::Or(v) => v.iter().any(positional),
        Pred::Not(q) => positional(q),
        Pred::Exists(_) | Pred::Cmp(..) | Pred::StartsWith(..) => false,
    }
}

/// All of `preds` hold for `n` (none positional: predicates have no side
/// effects, so filtering by each in turn is filtering by all at once).
#[inline]
fn preds_hold(doc: &Document, preds: &[Pred], n: NodeId) -> bool {
    preds.iter().all(|p| pred_holds(doc, p, n, 0, 0))
}

fn pred_holds(doc: &Document, p: &Pred, n: NodeId, pos: usize, len: usize) -> bool {
    let _ = len;
    match p {
        Pred::Index(i) => *i == pos,
        Pred::Exists(path) => path.first(doc, n).is_some(),
        Pred::Cmp(path, neg, v) => {
            // Stopped early = some value is equal.
            let any = !path.visit(doc, n, &mut |it| item_text(doc, it) != v.as_str());
            any != *neg
        }
        Pred::And(v) => v.iter().all(|q| pred_holds(doc, q, n, pos, len)),
        Pred::Or(v) => v.iter().any(|q| pred_holds(doc, q, n, pos, len)),
        Pred::Not(q) => !pred_holds(doc, q, n, pos, len),
        Pred::StartsWith(path, v) => !path.visit(doc, n, &mut |it| {
            !item_text(doc, it).starts_with(v.as_str())
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::syntax::Loc;

    struct Ns;
    impl Namespaces for Ns {
        fn uri(&self, p: &str) -> Option<&str> {
            match p {
                "hl7" => Some("urn:hl7-org:v3"),
                "n" => Some("NPFIT:HL7:Localisation"),
                _ => None,
            }
        }
    }

    fn p(s: &str) -> Path {
        let mut c = Cursor::new("t", s, Loc { line: 1, col: 1 });
        parse(&mut c, &Ns).unwrap()
    }

    const DOC: &str = r#"<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:x="NPFIT:HL7:Localisation"><x:messageType extension="POCD"/>
<recordTarget><patientRole><id root="2.16.840.1.113883.2.1.4.1" extension="9434765919"/><id root="L" extension="loc"/></patientRole></recordTarget>
<component><section><title>A</title><component><section><title>B  c</title></section></component></section></component></ClinicalDocument>"#;

    fn texts(path: &str) -> Vec<String> {
        let d = Document::parse(DOC).unwrap();
        let mut v = Vec::new();
        p(path).eval(&d, d.root(), &mut v);
        v.into_iter()
            .map(|i| item_text(&d, i).into_owned())
            .collect()
    }

    #[test]
    fn attribute_with_predicate() {
        assert_eq!(
            texts("hl7:recordTarget/hl7:patientRole/hl7:id[@root='2.16.840.1.113883.2.1.4.1']/@extension"),
            ["9434765919"]
        );
        assert_eq!(
            texts("hl7:recordTarget/hl7:patientRole/hl7:id[@root!='L' and @extension]/@root"),
            ["2.16.840.1.113883.2.1.4.1"]
        );
        assert_eq!(
            texts("hl7:recordTarget/hl7:patientRole/hl7:id[2]/@extension"),
            ["loc"]
        );
    }

    #[test]
    fn absolute_descendant_and_prefix_independence() {
        assert_eq!(
            texts("/hl7:ClinicalDocument/n:messageType/@extension"),
            ["POCD"]
        );
        assert_eq!(texts("//hl7:section/hl7:title"), ["A", "B c"]);
        assert_eq!(
            texts("hl7:component/hl7:section[not(hl7:component)]/hl7:title").len(),
            0
        );
    }

    #[test]
    fn streaming_matches_step_by_step() {
        let d = Document::parse(DOC).unwrap();
        let paths = [
            "hl7:recordTarget/hl7:patientRole/hl7:id[@root='2.16.840.1.113883.2.1.4.1']/@extension",
            "hl7:recordTarget/hl7:patientRole/hl7:id[@root!='L' and @extension]/@root",
            "hl7:recordTarget/hl7:patientRole/hl7:id[2]/@extension",
            "hl7:recordTarget/hl7:patientRole/hl7:id[@extension][1]/@root",
            "/hl7:ClinicalDocument/n:messageType/@extension",
            "//hl7:section/hl7:title",
            "//hl7:section[1]/hl7:title",
            "//hl7:section[not(hl7:component)]",
            "//hl7:id[starts-with(@root, '2.16')]/@extension",
            "hl7:component/hl7:section[not(hl7:component)]/hl7:title",
            "hl7:component//hl7:title",
            "*/*/hl7:id/@root",
            "./hl7:recordTarget/.",
            "/*",
            "//*",
        ];
        for ctx in [d.root()]
            .into_iter()
            .chain(d.descendant_elements(d.root()))
        {
            for t in paths {
                let path = p(t);
                let (mut a, mut b) = (Vec::new(), Vec::new());
                path.eval(&d, ctx, &mut a);
                path.eval_steps(&d, ctx, &mut b);
                assert_eq!(a, b, "{t}");
                assert_eq!(path.first(&d, ctx), b.first().copied(), "{t}");
            }
        }
    }

    #[test]
    fn unknown_prefix_is_compile_error() {
        let mut c = Cursor::new("f.map", "zz:foo", Loc { line: 3, col: 5 });
        let e = parse(&mut c, &Ns).unwrap_err();
        assert_eq!((e.loc.line, e.loc.col), (3, 5));
        assert!(e.message.contains("unknown namespace prefix"));
    }
}
