//! FHIR STU3 XML ⇄ JSON, driven by the embedded element table.
//!
//! # Why
//!
//! `itkbridge validate` judges FHIR bundles given as JSON **or** XML, and it
//! must judge an XML file and its JSON twin alike. Rather than a second
//! validator for XML, [`xml_to_json`] reads the XML through the same element
//! definitions ([`crate::fhir::defs`]) into the very `serde_json::Value` the
//! official JSON form would be, so the validator need only judge JSON.
//! [`json_to_xml`] is the reverse (pretty-printed, for output and for the
//! round-trip tests that keep both directions honest).
//!
//! # Mapping (FHIR STU3 "XML representation" / "JSON representation")
//!
//! * The root element, and the single child of a resource container
//!   (`Bundle.entry.resource`, `Bundle.entry.response.outcome`,
//!   `DomainResource.contained`, `Parameters.parameter.resource`: every
//!   element whose type is a resource), becomes an object whose first key is
//!   `"resourceType"` (the element name).
//! * Keys follow FHIR element order (`Defs::order_of`); `_x` comes right
//!   after `x`; `Extension.url` comes first (as in the converter's own JSON
//!   and in published FHIR JSON). An element whose definition allows more
//!   than one occurrence is a JSON array even when it occurs once.
//! * Primitives: the `value` attribute gives the JSON value — `boolean` →
//!   JSON bool, `integer` / `positiveInt` / `unsignedInt` / `decimal` → JSON
//!   number with the exact text (`1.50` stays `1.50`: serde_json's
//!   `arbitrary_precision`), everything else → string. A literal that is not
//!   a valid JSON boolean / number (`value="yes"`, `value="01"`) stays a
//!   string, so the validator reports the type mismatch just as it would for
//!   the JSON twin. The `id` attribute and `extension` children of a
//!   primitive go to `"_x": {"id": …, "extension": [...]}`. In arrays the
//!   value array and the `_x` array are aligned with `null` placeholders; the
//!   value array is left out when no occurrence has a value, the `_x` array
//!   when none has an id or extension (as the reference implementation does).
//! * `id` is an attribute on every element except resources (where it is an
//!   `<id value=…/>` child), and `Extension.url` is an attribute; both become
//!   ordinary keys.
//! * Choice elements keep their XML name (`valueString`, `effectiveDateTime`).
//! * The `div` of a Narrative (type `xhtml`) becomes a string holding the
//!   element serialised canonically by [`canonical_xhtml`]'s rules:
//!   `<div xmlns="http://www.w3.org/1999/xhtml">…</div>`, default namespace
//!   only (prefixes dropped, `xmlns` written where an element's namespace
//!   differs from its parent's), attributes in document order, `xml:` for the
//!   XML namespace, empty HTML void elements as `<br/>` and other empty
//!   elements as `<p></p>`, comments and processing instructions dropped,
//!   whitespace kept. Text escapes `&`, `<`, `>` (and CR as `&#13;`);
//!   attribute values escape `&`, `<`, `>`, `"` and tab / LF / CR as
//!   character references — the same escaping as the narrative writer
//!   (`crate::narrative::escape_attr`), so the converter's own divs are
//!   already canonical. Apply [`canonical_xhtml`] to a JSON file's div before
//!   comparing it with an XML twin's.
//! * `xsi:schemaLocation` (a processing hint found on many published
//!   examples) is ignored; comments, processing instructions and
//!   whitespace-only text between elements carry nothing and are ignored.
//!
//! # Nothing is dropped: conventions for content FHIR does not allow
//!
//! The validator reports unknown JSON properties at their location, so
//! anything FHIR does not define is kept under a key FHIR never defines:
//!
//! | XML | JSON key | value |
//! |---|---|---|
//! | unknown element `<foo>` in the FHIR namespace | `"foo"` | string if it has only a `value` attribute, else object; array when repeated |
//! | element in another (or no) namespace, an element form of an attribute-only property (`<id>` inside a datatype, `<url>` inside an extension), or a name that would clash (`_x`, `resourceType`) | `"{namespace-uri}name"` (Clark notation) | as above |
//! | attribute FHIR does not define here (`value` on a complex element, `id` on a resource, `url` outside an extension, anything else) | `"@name"` or `"@{namespace-uri}name"` | string |
//! | non-whitespace text where FHIR allows none | `"#text"` | all text directly inside the element, joined and trimmed |
//! | an empty primitive element `<birthDate/>` | `"_birthDate": {}` (in arrays, `{}` in the `_x` array) | |
//! | a single-valued element that repeats | an array | |
//! | a resource container without exactly one child element (or with attributes / text) | the container object without `"resourceType"`: `@` / `#text` keys plus one key per child (a resource object for a FHIR child) | |
//!
//! Inside an unknown element no definitions apply: every attribute becomes
//! `@name` and every child element is converted by the same generic rule.
//! [`json_to_xml`] reverses every convention, so XML → JSON → XML → JSON is
//! stable. Element *order* in the XML is not kept (JSON has none to check).
//!
//! # Errors
//!
//! [`xml_to_json`] fails only for input that is not a FHIR resource at all:
//! not well-formed XML, a root outside the FHIR namespace or not a resource
//! type, or elements nested deeper than [`MAX_DEPTH`]. Errors carry
//! line:column and never quote document text. [`json_to_xml`] fails for
//! JSON that XML cannot carry (a non-string where an attribute is needed, a
//! key that is not an XML name, a div that is not well-formed, characters
//! XML 1.0 forbids) and names the JSON path, never the value.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::str::FromStr;

use serde_json::{Map, Number, Value};

use crate::fhir::defs::{defs, Defs, Elem, TypeKind};
use crate::xml::{Document, NodeId, NodeKind};

/// The FHIR namespace URI.
pub const NS_FHIR: &str = "http://hl7.org/fhir";
/// The XHTML namespace URI (Narrative `div`).
pub const NS_XHTML: &str = "http://www.w3.org/1999/xhtml";
/// The namespace bound to the reserved `xml:` prefix.
const NS_XML: &str = "http://www.w3.org/XML/1998/namespace";

/// A failure to read FHIR XML, with its position in the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {message}")]
pub struct FhirXmlError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters).
    pub col: u32,
    /// What was wrong (never document content).
    pub message: String,
}

impl From<crate::xml::ParseError> for FhirXmlError {
    fn from(e: crate::xml::ParseError) -> Self {
        FhirXmlError {
            line: e.line,
            col: e.col,
            message: e.message,
        }
    }
}

/// A JSON value that cannot be written as FHIR XML, with its JSON path
/// (`Bundle.entry[2].resource.text.div`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FhirJsonError {
    /// Where, as a JSON path from the root resource.
    pub path: String,
    /// What was wrong (never the value itself).
    pub message: String,
}

// ---------------------------------------------------------------------------
// XML → JSON
// ---------------------------------------------------------------------------

/// Read a FHIR STU3 XML resource into the `serde_json::Value` of its JSON
/// form (see the module documentation for the conventions).
///
/// `text` is decoded text (bytes go through [`crate::xml::decode`] first,
/// which handles the BOM and the declared encoding).
///
/// Fails only when the text is not well-formed XML, the root element is not
/// in the FHIR namespace or not a FHIR STU3 resource type, or elements nest
/// deeper than [`MAX_DEPTH`]; everything else is converted and left for the
/// validator to judge.
pub fn xml_to_json(text: &str) -> Result<Value, FhirXmlError> {
    let doc = Document::parse(text)?;
    check_depth(&doc)?;
    let root = doc.root();
    let at = |message: &str| {
        let (line, col) = doc.line_col(root);
        FhirXmlError {
            line,
            col,
            message: message.to_string(),
        }
    };
    if doc.ns_uri(root) != NS_FHIR {
        return Err(at(
            "root element is not in the FHIR namespace (http://hl7.org/fhir)",
        ));
    }
    let d = defs();
    if !d.is_resource(doc.local(root)) {
        return Err(at("root element is not a FHIR STU3 resource type"));
    }
    let reader = Reader { doc: &doc, d };
    Ok(Value::Object(reader.resource(root)))
}

/// Canonical serialisation of an XHTML fragment (a Narrative `div` string
/// from a JSON file), by the same rules [`xml_to_json`] applies to an XML
/// file's div: compare `canonical_xhtml(json_div)` with the XML twin's div.
pub fn canonical_xhtml(xhtml: &str) -> Result<String, FhirXmlError> {
    let doc = Document::parse(xhtml)?;
    check_depth(&doc)?;
    let mut out = String::with_capacity(xhtml.len());
    write_xhtml(&doc, doc.root(), "", &mut out);
    Ok(out)
}

/// Deepest element nesting accepted. Conversion recurses once per level;
/// real FHIR stays far below this (a message bundle's deepest narrative is
/// about 25 levels; serde_json itself refuses JSON nested deeper than 128),
/// and the limit keeps a hostile document from overflowing a worker
/// thread's stack (an abort no `catch_unwind` sees): at the limit both
/// directions fit in 1 MiB of stack in a debug build (tested).
pub const MAX_DEPTH: usize = 128;

/// Error at the first element nested deeper than [`MAX_DEPTH`].
fn check_depth(doc: &Document<'_>) -> Result<(), FhirXmlError> {
    // Node ids are in document order: a parent's depth is known first.
    let mut depth: Vec<u16> = Vec::with_capacity(doc.len());
    for id in 0..doc.len() as NodeId {
        let d = doc.parent(id).map_or(1, |p| depth[p as usize] + 1);
        if usize::from(d) > MAX_DEPTH {
            let (line, col) = doc.line_col(id);
            return Err(FhirXmlError {
                line,
                col,
                message: format!("elements nested deeper than {MAX_DEPTH} levels"),
            });
        }
        depth.push(d);
    }
    Ok(())
}

/// How a primitive's `value` attribute is written in JSON.
#[derive(Clone, Copy, PartialEq, Eq)]
enum JsonKind {
    Bool,
    Number,
    String,
}

fn json_kind(type_code: &str) -> JsonKind {
    match type_code {
        "boolean" => JsonKind::Bool,
        "integer" | "positiveInt" | "unsignedInt" | "decimal" => JsonKind::Number,
        _ => JsonKind::String,
    }
}

/// Whether `s` is exactly a JSON number (RFC 8259 grammar, no whitespace).
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == b.len()
}

/// The JSON value of a primitive's `value` attribute.
fn typed_value(type_code: &str, s: &str) -> Value {
    match json_kind(type_code) {
        JsonKind::Bool => match s {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(s.to_string()),
        },
        JsonKind::Number if is_json_number(s) => match Number::from_str(s) {
            Ok(n) => Value::Number(n),
            Err(_) => Value::String(s.to_string()),
        },
        _ => Value::String(s.to_string()),
    }
}

/// Whether an unknown FHIR-namespace element may keep its plain name as a
/// JSON key (names that would clash with JSON conventions may not).
fn plain_key_ok(local: &str) -> bool {
    !local.starts_with('_') && local != "resourceType"
}

fn clark(uri: &str, local: &str) -> String {
    format!("{{{uri}}}{local}")
}

/// True when `owner` is a resource type (its `id` is an element, not an
/// attribute).
fn owner_is_resource(d: &Defs, owner: Option<&str>) -> bool {
    owner.is_some_and(|o| !o.contains('.') && d.kind(o) == Some(TypeKind::Resource))
}

/// Attributes that carry nothing for FHIR and are ignored everywhere
/// (`xsi:schemaLocation`, a processing hint on many published examples).
fn ignored_attr(doc: &Document<'_>, a: &crate::xml::Attr<'_>) -> bool {
    a.ns != 0
        && a.local == "schemaLocation"
        && doc.namespaces()[a.ns as usize] == crate::xml::NS_XSI
}

/// Properties written as XML attributes rather than elements.
fn attr_only(owner: &str, name: &str, is_resource: bool) -> bool {
    (name == "id" && !is_resource) || (name == "url" && owner == "Extension")
}

/// Position of a key among its siblings: FHIR order, except that
/// `Extension.url` comes first, as the converter's JSON writer puts it
/// (`mapping::compile`) and as published FHIR JSON usually has it.
fn sort_key(owner: &str, e: &Elem) -> i32 {
    if owner == "Extension" && e.name == "url" {
        -1
    } else {
        i32::from(e.order)
    }
}

/// First type code of an element (the table lists exactly one per
/// expanded element).
fn type_of(e: &Elem) -> &'static str {
    e.types.first().copied().unwrap_or("")
}

fn is_xhtml(e: &Elem) -> bool {
    type_of(e) == "xhtml"
}

/// Key of a group of same-named children.
enum Key {
    Known(&'static Elem),
    Other(String),
}

struct Group {
    key: Key,
    nodes: Vec<NodeId>,
}

/// A known member: (sort key, JSON name, value, `_name` companion).
type KnownMember = (i32, &'static str, Option<Value>, Option<Value>);

struct Reader<'d, 'a> {
    doc: &'d Document<'a>,
    d: &'static Defs,
}

impl Reader<'_, '_> {
    /// A resource element (`<Patient>`) → `{"resourceType": "Patient", …}`.
    fn resource(&self, el: NodeId) -> Map<String, Value> {
        let local = self.doc.local(el);
        let mut m = Map::new();
        m.insert("resourceType".into(), Value::String(local.to_string()));
        let owner = (self.d.kind(local) == Some(TypeKind::Resource)).then_some(local);
        self.fill(el, owner, false, &mut m);
        m
    }

    /// Non-whitespace text directly inside `el`, trimmed.
    fn stray_text(&self, el: NodeId) -> Option<String> {
        let mut s = String::new();
        for c in self.doc.children(el) {
            if self.doc.node(c).kind == NodeKind::Text {
                s.push_str(self.doc.text(c));
            }
        }
        let t = s.trim();
        (!t.is_empty()).then(|| t.to_string())
    }

    /// Convert the attributes, children and text of `el` into `out`, with
    /// `owner` the type or backbone path that defines its children (`None`
    /// inside unknown elements: everything generic).
    ///
    /// This is the recursive step, so its frame is kept small: the loops
    /// with many temporaries live in helpers that are not on the recursion
    /// path (debug builds give every local its own stack slot).
    fn fill(
        &self,
        el: NodeId,
        owner: Option<&str>,
        skip_value_attr: bool,
        out: &mut Map<String, Value>,
    ) {
        let is_res = owner_is_resource(self.d, owner);
        let (mut known, attrs) = self.attributes(el, owner, is_res, skip_value_attr);
        let groups = self.group_children(el, owner, is_res);
        let mut unknown: Vec<(String, Value)> = Vec::new();
        for g in groups {
            match g.key {
                Key::Known(e) => {
                    let (v, x) = self.known(e, &g.nodes);
                    known.push((sort_key(owner.unwrap_or(""), e), e.name, v, x));
                }
                Key::Other(k) => unknown.push((k, self.generic_group(&g.nodes))),
            }
        }
        self.assemble(el, known, unknown, attrs, out);
    }

    /// Attributes of `el`: FHIR attribute properties (`id`, `Extension.url`)
    /// as known members, everything else as `@` keys.
    fn attributes(
        &self,
        el: NodeId,
        owner: Option<&str>,
        is_res: bool,
        skip_value_attr: bool,
    ) -> (Vec<KnownMember>, Vec<(String, Value)>) {
        let doc = self.doc;
        let mut known: Vec<KnownMember> = Vec::new();
        let mut attrs: Vec<(String, Value)> = Vec::new();
        for (i, a) in doc.attrs(el).iter().enumerate() {
            let uri = doc.namespaces()[a.ns as usize].as_str();
            let value = attr_value(doc, el, i);
            if a.ns == 0 {
                let local: &str = &a.local;
                if local == "value" && skip_value_attr {
                    continue;
                }
                if let Some(o) = owner {
                    if attr_only(o, local, is_res) {
                        if let Some(e) = self.d.element(o, local) {
                            known.push((
                                sort_key(o, e),
                                e.name,
                                Some(Value::String(value.into())),
                                None,
                            ));
                            continue;
                        }
                    }
                }
                attrs.push((format!("@{local}"), Value::String(value.into())));
            } else if ignored_attr(doc, a) {
                continue;
            } else {
                attrs.push((
                    format!("@{}", clark(uri, &a.local)),
                    Value::String(value.into()),
                ));
            }
        }
        (known, attrs)
    }

    /// Child elements of `el` grouped by JSON key, in order of first
    /// occurrence.
    fn group_children(&self, el: NodeId, owner: Option<&str>, is_res: bool) -> Vec<Group> {
        let doc = self.doc;
        let mut groups: Vec<Group> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        for c in doc.elements(el) {
            let local = doc.local(c);
            let uri = doc.ns_uri(c);
            let def = owner.and_then(|o| self.d.element(o, local));
            let key = match def {
                Some(e)
                    if is_xhtml(e)
                        || (uri == NS_FHIR
                            && !owner.is_some_and(|o| attr_only(o, e.name, is_res))) =>
                {
                    Key::Known(e)
                }
                None if uri == NS_FHIR && plain_key_ok(local) => Key::Other(local.to_string()),
                _ => Key::Other(clark(uri, local)),
            };
            let name = match &key {
                Key::Known(e) => e.name.to_string(),
                Key::Other(k) => k.clone(),
            };
            match index.get(&name) {
                Some(&g) => groups[g].nodes.push(c),
                None => {
                    index.insert(name, groups.len());
                    groups.push(Group {
                        key,
                        nodes: vec![c],
                    });
                }
            }
        }
        groups
    }

    /// Occurrences of an unknown element: one value, or an array.
    fn generic_group(&self, nodes: &[NodeId]) -> Value {
        let mut vals: Vec<Value> = Vec::with_capacity(nodes.len());
        for &n in nodes {
            vals.push(self.generic(n));
        }
        if vals.len() == 1 {
            vals.pop().unwrap_or(Value::Null)
        } else {
            Value::Array(vals)
        }
    }

    /// Write the members into `out` in canonical key order.
    fn assemble(
        &self,
        el: NodeId,
        mut known: Vec<KnownMember>,
        unknown: Vec<(String, Value)>,
        attrs: Vec<(String, Value)>,
        out: &mut Map<String, Value>,
    ) {
        known.sort_by_key(|k| k.0);
        for (_, name, v, x) in known {
            if let Some(v) = v {
                out.insert(name.to_string(), v);
            }
            if let Some(x) = x {
                out.insert(format!("_{name}"), x);
            }
        }
        for (k, v) in unknown {
            out.insert(k, v);
        }
        for (k, v) in attrs {
            out.insert(k, v);
        }
        if let Some(t) = self.stray_text(el) {
            out.insert("#text".into(), Value::String(t));
        }
    }

    /// Value (and `_x` companion) of a group of occurrences of a known element.
    fn known(&self, e: &'static Elem, nodes: &[NodeId]) -> (Option<Value>, Option<Value>) {
        let t = type_of(e);
        let many = e.max_many || nodes.len() > 1;
        let one_or_many = |mut vals: Vec<Value>| {
            if many {
                Value::Array(vals)
            } else {
                vals.pop().unwrap_or(Value::Null)
            }
        };
        if t == "xhtml" {
            let vals = nodes
                .iter()
                .map(|&n| {
                    let mut s = String::new();
                    write_xhtml(self.doc, n, "", &mut s);
                    Value::String(s)
                })
                .collect();
            return (Some(one_or_many(vals)), None);
        }
        if self.d.is_primitive(t) {
            let mut vals = Vec::with_capacity(nodes.len());
            let mut extras = Vec::with_capacity(nodes.len());
            for &n in nodes {
                let (v, x) = self.primitive(n, t);
                vals.push(v.unwrap_or(Value::Null));
                extras.push(x.map_or(Value::Null, Value::Object));
            }
            let any_v = vals.iter().any(|v| !v.is_null());
            let any_x = extras.iter().any(|x| !x.is_null());
            return (
                any_v.then(|| one_or_many(vals)),
                any_x.then(|| one_or_many(extras)),
            );
        }
        // Plain loops on the recursion path: iterator adaptors would add
        // frames per level in debug builds.
        let mut vals = Vec::with_capacity(nodes.len());
        if self.d.kind(t) == Some(TypeKind::Resource) {
            for &n in nodes {
                vals.push(self.container(n));
            }
        } else {
            for &n in nodes {
                let mut m = Map::new();
                self.fill(n, Some(t), false, &mut m);
                vals.push(Value::Object(m));
            }
        }
        (Some(one_or_many(vals)), None)
    }

    /// One primitive element: its value, and its `_x` object (`{}` for an
    /// element with neither value nor anything else).
    fn primitive(&self, n: NodeId, t: &'static str) -> (Option<Value>, Option<Map<String, Value>>) {
        let doc = self.doc;
        let v = doc
            .attrs(n)
            .iter()
            .position(|a| a.ns == 0 && a.local == "value")
            .map(|i| typed_value(t, &attr_value(doc, n, i)));
        let mut x = Map::new();
        self.fill(n, Some(t), true, &mut x);
        let x = if x.is_empty() && v.is_some() {
            None
        } else {
            Some(x)
        };
        (v, x)
    }

    /// A resource container (`<resource>`, `<contained>`).
    fn container(&self, n: NodeId) -> Value {
        let doc = self.doc;
        let kids: Vec<NodeId> = doc.elements(n).collect();
        let has_attrs = doc.attrs(n).iter().any(|a| !ignored_attr(doc, a));
        if let [only] = kids[..] {
            if !has_attrs
                && self.stray_text(n).is_none()
                && doc.ns_uri(only) == NS_FHIR
                && plain_key_ok(doc.local(only))
            {
                return Value::Object(self.resource(only));
            }
        }
        // Malformed: keep everything under reportable keys.
        let mut m = Map::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut entries: Vec<(String, Vec<Value>)> = Vec::new();
        for k in kids {
            let local = doc.local(k);
            let (key, v) = if doc.ns_uri(k) == NS_FHIR && plain_key_ok(local) {
                (local.to_string(), Value::Object(self.resource(k)))
            } else {
                (clark(doc.ns_uri(k), local), self.generic(k))
            };
            match index.get(&key) {
                Some(&i) => entries[i].1.push(v),
                None => {
                    index.insert(key.clone(), entries.len());
                    entries.push((key, vec![v]));
                }
            }
        }
        for (k, mut vs) in entries {
            let v = if vs.len() == 1 {
                vs.pop().unwrap_or(Value::Null)
            } else {
                Value::Array(vs)
            };
            m.insert(k, v);
        }
        for (i, a) in doc.attrs(n).iter().enumerate() {
            if ignored_attr(doc, a) {
                continue;
            }
            let key = if a.ns == 0 {
                format!("@{}", a.local)
            } else {
                format!("@{}", clark(&doc.namespaces()[a.ns as usize], &a.local))
            };
            m.insert(key, Value::String(attr_value(doc, n, i).into()));
        }
        if let Some(t) = self.stray_text(n) {
            m.insert("#text".into(), Value::String(t));
        }
        Value::Object(m)
    }

    /// An element no definition applies to: a string when it has only a
    /// `value` attribute, else an object by the generic rules.
    fn generic(&self, n: NodeId) -> Value {
        let doc = self.doc;
        let mut kept = doc
            .attrs(n)
            .iter()
            .enumerate()
            .filter(|(_, a)| !ignored_attr(doc, a));
        if let (Some((i, a)), None) = (kept.next(), kept.next()) {
            if a.ns == 0
                && a.local == "value"
                && doc.elements(n).next().is_none()
                && self.stray_text(n).is_none()
            {
                return Value::String(attr_value(doc, n, i).into());
            }
        }
        let mut m = Map::new();
        self.fill(n, None, false, &mut m);
        Value::Object(m)
    }
}

/// The value of attribute `i` of `el`, with XML attribute-value
/// normalisation (literal tab / CR / LF become spaces; character references
/// keep them). The tree keeps values as written, so values holding such
/// characters are re-read from the start tag.
fn attr_value<'x>(doc: &'x Document<'_>, el: NodeId, i: usize) -> Cow<'x, str> {
    let v: &str = &doc.attrs(el)[i].value;
    if !v.contains(['\t', '\n', '\r']) {
        return Cow::Borrowed(v);
    }
    match raw_attr(doc.source(), doc.node(el).pos as usize, i) {
        Some(s) => Cow::Owned(s),
        None => Cow::Borrowed(v),
    }
}

/// Normalised value of the `i`th non-namespace-declaration attribute of the
/// start tag at byte `pos` of `src`.
fn raw_attr(src: &str, pos: usize, i: usize) -> Option<String> {
    let rest = src.get(pos..)?;
    if !rest.starts_with('<') {
        return None;
    }
    let mut r = quick_xml::Reader::from_str(rest);
    let ev = r.read_event().ok()?;
    let start = match ev {
        quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => e,
        _ => return None,
    };
    let mut attrs = start.attributes();
    attrs.with_checks(false);
    let mut n = 0;
    for a in attrs {
        let a = a.ok()?;
        let key = a.key.as_ref();
        if key == b"xmlns" || key.starts_with(b"xmlns:") {
            continue;
        }
        if n == i {
            return normalise_attr(std::str::from_utf8(&a.value).ok()?);
        }
        n += 1;
    }
    None
}

/// XML 1.0 §3.3.3 attribute-value normalisation of a raw (unresolved) value.
fn normalise_attr(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        match c {
            '\r' => {
                out.push(' ');
                rest = &rest[1..];
                if rest.starts_with('\n') {
                    rest = &rest[1..];
                }
            }
            '\n' | '\t' => {
                out.push(' ');
                rest = &rest[1..];
            }
            '&' => {
                let end = rest.find(';')?;
                let name = &rest[1..end];
                let ch = if let Some(hex) = name.strip_prefix("#x") {
                    char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
                } else if let Some(dec) = name.strip_prefix('#') {
                    char::from_u32(dec.parse().ok()?)?
                } else {
                    match name {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        _ => return None,
                    }
                };
                out.push(ch);
                rest = &rest[end + 1..];
            }
            c => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// XHTML serialisation
// ---------------------------------------------------------------------------

/// HTML 4 / XHTML 1.0 elements with an EMPTY content model: written `<br/>`
/// when empty; every other empty element is written `<p></p>`.
fn is_void(local: &str) -> bool {
    matches!(
        local,
        "area"
            | "base"
            | "basefont"
            | "br"
            | "col"
            | "frame"
            | "hr"
            | "img"
            | "input"
            | "isindex"
            | "link"
            | "meta"
            | "param"
    )
}

/// Escape element text: `&`, `<`, `>`; CR as a character reference (a
/// literal one would be read back as LF).
fn escape_text_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Escape a double-quoted attribute value: `&`, `<`, `>`, `"`, and tab / LF
/// / CR as character references (so normalisation keeps them).
fn escape_attr_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Serialise node `id` canonically; `parent_ns` is the default namespace in
/// scope (`""` at the top of a div string).
fn write_xhtml(doc: &Document<'_>, id: NodeId, parent_ns: &str, out: &mut String) {
    if doc.node(id).kind == NodeKind::Text {
        escape_text_into(doc.text(id), out);
        return;
    }
    let local = doc.local(id);
    let uri = doc.ns_uri(id);
    out.push('<');
    out.push_str(local);
    if uri != parent_ns {
        out.push_str(" xmlns=\"");
        escape_attr_into(uri, out);
        out.push('"');
    }
    let mut prefixes = 0;
    for (i, a) in doc.attrs(id).iter().enumerate() {
        out.push(' ');
        if a.ns != 0 {
            let auri = doc.namespaces()[a.ns as usize].as_str();
            if auri == NS_XML {
                out.push_str("xml:");
            } else {
                prefixes += 1;
                let _ = write!(out, "xmlns:n{prefixes}=\"");
                escape_attr_into(auri, out);
                let _ = write!(out, "\" n{prefixes}:");
            }
        }
        out.push_str(&a.local);
        out.push_str("=\"");
        escape_attr_into(&attr_value(doc, id, i), out);
        out.push('"');
    }
    let mut kids = doc.children(id).peekable();
    if kids.peek().is_none() {
        if is_void(local) {
            out.push_str("/>");
        } else {
            let _ = write!(out, "></{local}>");
        }
        return;
    }
    out.push('>');
    for k in kids {
        write_xhtml(doc, k, uri, out);
    }
    let _ = write!(out, "</{local}>");
}

// ---------------------------------------------------------------------------
// JSON → XML
// ---------------------------------------------------------------------------

/// Write a FHIR STU3 resource in JSON form as FHIR XML: `<?xml …?>` header,
/// FHIR namespace on the root, 2-space indentation, elements in the order of
/// the JSON object, `div` written as XHTML in its own namespace. Reverses
/// every convention of [`xml_to_json`].
pub fn json_to_xml(value: &Value) -> Result<String, FhirJsonError> {
    let mut w = XmlWriter {
        out: String::with_capacity(4096),
        path: Vec::new(),
        d: defs(),
    };
    let obj = match value {
        Value::Object(o) => o,
        _ => return Err(w.err("the root is not a JSON object")),
    };
    match obj.get("resourceType") {
        Some(Value::String(rt)) if w.d.is_resource(rt) => w.path.push(rt.clone()),
        Some(Value::String(_)) => return Err(w.err("resourceType is not a FHIR STU3 resource")),
        _ => return Err(w.err("the root has no resourceType")),
    }
    w.out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    w.resource(obj, 0, "")?;
    w.out.push('\n');
    Ok(w.out)
}

/// An attribute to write: (namespace URI, local name, value).
type OutAttr<'v> = (Cow<'v, str>, Cow<'v, str>, Cow<'v, str>);

struct XmlWriter {
    out: String,
    path: Vec<String>,
    d: &'static Defs,
}

/// The occurrences of a primitive property (`null` = absent).
fn occurrences(v: Option<&Value>) -> Vec<Option<&Value>> {
    match v {
        None => Vec::new(),
        Some(Value::Array(a)) => a.iter().map(|i| (!i.is_null()).then_some(i)).collect(),
        Some(Value::Null) => vec![None],
        Some(v) => vec![Some(v)],
    }
}

/// Split `{uri}local` (Clark notation).
fn split_clark(k: &str) -> Option<(&str, &str)> {
    let rest = k.strip_prefix('{')?;
    let end = rest.find('}')?;
    Some((&rest[..end], &rest[end + 1..]))
}

/// Whether `s` is an XML NCName (lenient above ASCII).
fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || !c.is_ascii());
    first_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') || !c.is_ascii())
}

impl XmlWriter {
    fn err(&self, message: &str) -> FhirJsonError {
        let mut path = String::new();
        for (i, seg) in self.path.iter().enumerate() {
            if i > 0 && !seg.starts_with('[') {
                path.push('.');
            }
            path.push_str(seg);
        }
        if path.is_empty() {
            path.push('$');
        }
        FhirJsonError {
            path,
            message: message.to_string(),
        }
    }

    fn newline(&mut self, depth: usize) {
        self.out.push('\n');
        for _ in 0..depth {
            self.out.push_str("  ");
        }
    }

    fn check_chars(&self, s: &str) -> Result<(), FhirJsonError> {
        if s.chars().all(crate::narrative::is_xml_char) {
            Ok(())
        } else {
            Err(self.err("a string holds a character XML 1.0 cannot represent"))
        }
    }

    /// Write `<local …attrs` (not closed) on a new line; returns the byte
    /// length of the output before the closing `>` is added.
    fn start_tag(
        &mut self,
        depth: usize,
        local: &str,
        ns: &str,
        parent_ns: &str,
        attrs: &[OutAttr<'_>],
    ) -> Result<usize, FhirJsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested deeper than the XML reader accepts"));
        }
        if !is_ncname(local) {
            return Err(self.err("a key is not a valid XML element name"));
        }
        for (i, (ans, al, av)) in attrs.iter().enumerate() {
            if !is_ncname(al) || (ans.is_empty() && al == "xmlns") {
                return Err(self.err("an attribute key is not a valid XML attribute name"));
            }
            if attrs[..i].iter().any(|(n2, l2, _)| n2 == ans && l2 == al) {
                return Err(self.err("the same XML attribute is given twice"));
            }
            self.check_chars(av)?;
        }
        self.check_chars(ns)?;
        self.newline(depth);
        self.out.push('<');
        self.out.push_str(local);
        if ns != parent_ns {
            self.out.push_str(" xmlns=\"");
            escape_attr_into(ns, &mut self.out);
            self.out.push('"');
        }
        let mut prefixes = 0;
        for (ans, al, av) in attrs {
            self.out.push(' ');
            if !ans.is_empty() {
                if ans == NS_XML {
                    self.out.push_str("xml:");
                } else {
                    prefixes += 1;
                    let _ = write!(self.out, "xmlns:n{prefixes}=\"");
                    escape_attr_into(ans, &mut self.out);
                    let _ = write!(self.out, "\" n{prefixes}:");
                }
            }
            self.out.push_str(al);
            self.out.push_str("=\"");
            escape_attr_into(av, &mut self.out);
            self.out.push('"');
        }
        Ok(self.out.len())
    }

    /// Close an element opened with [`Self::start_tag`] whose content has
    /// been written after `mark` (the caller pushed `>` at `mark`).
    fn end_tag(&mut self, mark: usize, depth: usize, local: &str, had_children: bool) {
        if self.out.len() == mark + 1 {
            self.out.truncate(mark);
            self.out.push_str("/>");
            return;
        }
        if had_children {
            self.newline(depth);
        }
        self.out.push_str("</");
        self.out.push_str(local);
        self.out.push('>');
    }

    /// `@` keys of an object as attributes.
    fn at_attrs<'v>(
        &self,
        obj: &'v Map<String, Value>,
        attrs: &mut Vec<OutAttr<'v>>,
    ) -> Result<(), FhirJsonError> {
        for (k, v) in obj {
            let Some(name) = k.strip_prefix('@') else {
                continue;
            };
            let Value::String(s) = v else {
                return Err(self.err("an '@' attribute key does not hold a string"));
            };
            let (ns, local) = match split_clark(name) {
                Some((ns, local)) => (ns, local),
                None => ("", name),
            };
            attrs.push((Cow::Borrowed(ns), Cow::Borrowed(local), Cow::Borrowed(s)));
        }
        Ok(())
    }

    /// Text for a `#text` key.
    fn text_of<'v>(&self, obj: &'v Map<String, Value>) -> Result<Option<&'v str>, FhirJsonError> {
        match obj.get("#text") {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.err("'#text' does not hold a string")),
        }
    }

    fn push_text(&mut self, t: &str) -> Result<(), FhirJsonError> {
        self.check_chars(t)?;
        escape_text_into(t, &mut self.out);
        Ok(())
    }

    /// A resource object as `<Type>…</Type>`.
    fn resource(
        &mut self,
        obj: &Map<String, Value>,
        depth: usize,
        parent_ns: &str,
    ) -> Result<(), FhirJsonError> {
        let rt = match obj.get("resourceType") {
            Some(Value::String(s)) => s.as_str(),
            _ => return Err(self.err("a resource has no resourceType string")),
        };
        let owner = (self.d.kind(rt) == Some(TypeKind::Resource)).then_some(rt);
        let mut attrs = Vec::new();
        self.at_attrs(obj, &mut attrs)?;
        let mark = self.start_tag(depth, rt, NS_FHIR, parent_ns, &attrs)?;
        self.out.push('>');
        if let Some(t) = self.text_of(obj)? {
            self.push_text(t)?;
        }
        let had = self.members(owner, obj, depth + 1, NS_FHIR, &["resourceType"])?;
        self.end_tag(mark, depth, rt, had);
        Ok(())
    }

    /// Write the element members of `obj` (not `@`, `#text`, attribute-only
    /// properties, or keys in `skip`). Returns whether anything was written.
    fn members(
        &mut self,
        owner: Option<&str>,
        obj: &Map<String, Value>,
        depth: usize,
        cur_ns: &str,
        skip: &[&str],
    ) -> Result<bool, FhirJsonError> {
        let is_res = owner_is_resource(self.d, owner);
        let before = self.out.len();
        for (k, v) in obj {
            if k.starts_with('@') || k == "#text" || skip.contains(&k.as_str()) {
                continue;
            }
            if let Some(o) = owner {
                if attr_only(o, k, is_res) {
                    if v.is_string() {
                        continue;
                    }
                    self.path.push(k.clone());
                    return Err(self.err("an XML attribute property does not hold a string"));
                }
            }
            if let Some(base) = k.strip_prefix('_') {
                if let Some(o) = owner {
                    if attr_only(o, base, is_res) {
                        self.path.push(k.clone());
                        return Err(self.err(
                            "id / extension on an attribute-only property cannot be written in XML",
                        ));
                    }
                }
                let base_def = owner.and_then(|o| self.d.element(o, base));
                let pairs = match base_def {
                    Some(e) => self.d.is_primitive(type_of(e)) && !is_xhtml(e),
                    None => true,
                };
                if pairs && is_ncname(base) {
                    if obj.contains_key(base) {
                        continue; // written with its value
                    }
                    self.path.push(base.to_string());
                    let t = base_def.map(type_of);
                    self.primitive_items(base, None, Some(v), t, depth, cur_ns)?;
                    self.path.pop();
                    continue;
                }
            }
            self.path.push(k.clone());
            self.member(owner, obj, k, v, depth, cur_ns)?;
            self.path.pop();
        }
        Ok(self.out.len() > before)
    }

    fn member(
        &mut self,
        owner: Option<&str>,
        obj: &Map<String, Value>,
        k: &str,
        v: &Value,
        depth: usize,
        cur_ns: &str,
    ) -> Result<(), FhirJsonError> {
        if let Some((ns, local)) = split_clark(k) {
            return self.generic_items(local, ns, v, depth, cur_ns);
        }
        let extras = obj.get(&format!("_{k}"));
        let def = owner.and_then(|o| self.d.element(o, k));
        let Some(e) = def else {
            if extras.is_some() {
                return self.primitive_items(k, Some(v), extras, None, depth, cur_ns);
            }
            return self.generic_items(k, NS_FHIR, v, depth, cur_ns);
        };
        let t = type_of(e);
        let items: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            v => vec![v],
        };
        if t == "xhtml" {
            for (i, item) in items.into_iter().enumerate() {
                let Value::String(s) = item else {
                    self.path.push(format!("[{i}]"));
                    return Err(self.err("an xhtml element does not hold a string"));
                };
                self.div(s, depth, cur_ns)?;
            }
            return Ok(());
        }
        if self.d.is_primitive(t) {
            return self.primitive_items(k, Some(v), extras, Some(t), depth, cur_ns);
        }
        let is_container = self.d.kind(t) == Some(TypeKind::Resource);
        let multi = v.is_array();
        for (i, item) in items.into_iter().enumerate() {
            if multi {
                self.path.push(format!("[{i}]"));
            }
            let Value::Object(o) = item else {
                return Err(self.err("a complex element does not hold an object"));
            };
            if is_container {
                self.container(k, o, depth, cur_ns)?;
            } else {
                self.complex(k, Some(t), o, depth, cur_ns)?;
            }
            if multi {
                self.path.pop();
            }
        }
        Ok(())
    }

    /// A datatype / backbone object as `<k id=… url=…>…</k>`.
    fn complex(
        &mut self,
        k: &str,
        owner: Option<&str>,
        o: &Map<String, Value>,
        depth: usize,
        cur_ns: &str,
    ) -> Result<(), FhirJsonError> {
        let mut attrs: Vec<OutAttr<'_>> = Vec::new();
        if let Some(ow) = owner {
            let is_res = owner_is_resource(self.d, owner);
            for name in ["id", "url"] {
                if attr_only(ow, name, is_res) && self.d.element(ow, name).is_some() {
                    if let Some(Value::String(s)) = o.get(name) {
                        attrs.push(("".into(), name.into(), Cow::Borrowed(s)));
                    }
                }
            }
        }
        self.at_attrs(o, &mut attrs)?;
        let mark = self.start_tag(depth, k, NS_FHIR, cur_ns, &attrs)?;
        self.out.push('>');
        if let Some(t) = self.text_of(o)? {
            self.push_text(t)?;
        }
        let had = self.members(owner, o, depth + 1, NS_FHIR, &[])?;
        self.end_tag(mark, depth, k, had);
        Ok(())
    }

    /// A resource container object.
    fn container(
        &mut self,
        k: &str,
        o: &Map<String, Value>,
        depth: usize,
        cur_ns: &str,
    ) -> Result<(), FhirJsonError> {
        if o.contains_key("resourceType") {
            let mark = self.start_tag(depth, k, NS_FHIR, cur_ns, &[])?;
            self.out.push('>');
            self.resource(o, depth + 1, NS_FHIR)?;
            self.end_tag(mark, depth, k, true);
            return Ok(());
        }
        // Malformed container (see the module documentation).
        let mut attrs = Vec::new();
        self.at_attrs(o, &mut attrs)?;
        let mark = self.start_tag(depth, k, NS_FHIR, cur_ns, &attrs)?;
        self.out.push('>');
        if let Some(t) = self.text_of(o)? {
            self.push_text(t)?;
        }
        let before = self.out.len();
        for (key, v) in o {
            if key.starts_with('@') || key == "#text" {
                continue;
            }
            self.path.push(key.clone());
            let items: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                v => vec![v],
            };
            for item in items {
                match item {
                    Value::Object(r)
                        if split_clark(key).is_none() && r.contains_key("resourceType") =>
                    {
                        self.resource(r, depth + 1, NS_FHIR)?
                    }
                    item => match split_clark(key) {
                        Some((ns, local)) => {
                            self.generic_items(local, ns, item, depth + 1, NS_FHIR)?
                        }
                        None => self.generic_items(key, NS_FHIR, item, depth + 1, NS_FHIR)?,
                    },
                }
            }
            self.path.pop();
        }
        let had = self.out.len() > before;
        self.end_tag(mark, depth, k, had);
        Ok(())
    }

    /// Elements of a primitive (or value-like unknown) property from its
    /// value(s) and `_k` companion(s).
    fn primitive_items(
        &mut self,
        k: &str,
        v: Option<&Value>,
        x: Option<&Value>,
        t: Option<&str>,
        depth: usize,
        cur_ns: &str,
    ) -> Result<(), FhirJsonError> {
        let vals = occurrences(v);
        let exs = occurrences(x);
        let multi = v.is_some_and(Value::is_array) || x.is_some_and(Value::is_array);
        let n = vals.len().max(exs.len());
        for i in 0..n {
            if multi {
                self.path.push(format!("[{i}]"));
            }
            let val = vals.get(i).copied().flatten();
            let ex = exs.get(i).copied().flatten();
            let text: Option<Cow<'_, str>> = match val {
                None => None,
                Some(Value::String(s)) => Some(Cow::Borrowed(s)),
                Some(Value::Number(n)) => Some(Cow::Owned(n.to_string())),
                Some(Value::Bool(b)) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
                Some(_) => {
                    return Err(self.err("a primitive element does not hold a primitive value"))
                }
            };
            let exo = match ex {
                None => None,
                Some(Value::Object(o)) => Some(o),
                Some(_) => return Err(self.err("a '_' companion does not hold an object")),
            };
            let mut attrs: Vec<OutAttr<'_>> = Vec::new();
            if let Some(o) = exo {
                if t.is_some() {
                    match o.get("id") {
                        Some(Value::String(s)) => {
                            attrs.push(("".into(), "id".into(), Cow::Borrowed(s)))
                        }
                        Some(_) => return Err(self.err("an element id does not hold a string")),
                        None => {}
                    }
                }
            }
            if let Some(s) = text {
                attrs.push(("".into(), "value".into(), s));
            }
            if let Some(o) = exo {
                self.at_attrs(o, &mut attrs)?;
            }
            let mark = self.start_tag(depth, k, NS_FHIR, cur_ns, &attrs)?;
            self.out.push('>');
            let mut had = false;
            if let Some(o) = exo {
                if let Some(tx) = self.text_of(o)? {
                    self.push_text(tx)?;
                }
                had = self.members(t, o, depth + 1, NS_FHIR, &[])?;
            }
            self.end_tag(mark, depth, k, had);
            if multi {
                self.path.pop();
            }
        }
        Ok(())
    }

    /// Elements no definition applies to (unknown names, Clark keys, and
    /// everything inside them).
    fn generic_items(
        &mut self,
        local: &str,
        ns: &str,
        v: &Value,
        depth: usize,
        cur_ns: &str,
    ) -> Result<(), FhirJsonError> {
        let items: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            v => vec![v],
        };
        let multi = v.is_array();
        for (i, item) in items.into_iter().enumerate() {
            if multi {
                self.path.push(format!("[{i}]"));
            }
            let value: Option<Cow<'_, str>> = match item {
                Value::String(s) => Some(Cow::Borrowed(s)),
                Value::Number(n) => Some(Cow::Owned(n.to_string())),
                Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
                Value::Object(_) => None,
                Value::Null | Value::Array(_) => {
                    return Err(self.err("an unknown element holds null or a nested array"))
                }
            };
            if let Some(s) = value {
                let attrs = [(Cow::Borrowed(""), Cow::Borrowed("value"), s)];
                self.start_tag(depth, local, ns, cur_ns, &attrs)?;
                self.out.push_str("/>");
            } else if let Value::Object(o) = item {
                let mut attrs = Vec::new();
                self.at_attrs(o, &mut attrs)?;
                let mark = self.start_tag(depth, local, ns, cur_ns, &attrs)?;
                self.out.push('>');
                if let Some(t) = self.text_of(o)? {
                    self.push_text(t)?;
                }
                let had = self.members(None, o, depth + 1, ns, &[])?;
                self.end_tag(mark, depth, local, had);
            }
            if multi {
                self.path.pop();
            }
        }
        Ok(())
    }

    /// A Narrative div string, parsed and written as XHTML in its own
    /// namespace, on one line (its content is mixed: no indentation added).
    fn div(&mut self, s: &str, depth: usize, cur_ns: &str) -> Result<(), FhirJsonError> {
        let doc = match Document::parse(s) {
            Ok(d) => d,
            Err(e) => {
                return Err(self.err(&format!(
                    "the xhtml is not well-formed XML ({}:{}: {})",
                    e.line, e.col, e.message
                )))
            }
        };
        if let Err(e) = check_depth(&doc) {
            return Err(self.err(&format!("the xhtml: {}", e.message)));
        }
        self.newline(depth);
        write_xhtml(&doc, doc.root(), cur_ns, &mut self.out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fhir(body: &str) -> String {
        format!("<?xml version=\"1.0\"?>\n{body}")
    }

    /// XML → JSON, and the JSON survives JSON → XML → JSON unchanged.
    fn conv(xml: &str) -> Value {
        let v = xml_to_json(xml).unwrap();
        let back = json_to_xml(&v).unwrap();
        let again = xml_to_json(&back).unwrap_or_else(|e| panic!("{e}\n{back}"));
        assert_eq!(again, v, "round trip changed the value:\n{back}");
        // Canonical key order: the re-read keeps it too.
        assert_eq!(
            serde_json::to_string(&again).unwrap(),
            serde_json::to_string(&v).unwrap()
        );
        v
    }

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(|k| k.as_str()).collect()
    }

    #[test]
    fn primitives_with_id_and_extension() {
        let v = conv(&fhir(
            r#"<Patient xmlns="http://hl7.org/fhir">
  <active value="true"/>
  <id value="p1"/>
  <birthDate id="bd" value="1970-03-01">
    <extension url="http://hl7.org/fhir/StructureDefinition/patient-birthTime">
      <valueDateTime value="1970-03-01T14:35:45-05:00"/>
    </extension>
  </birthDate>
  <gender>
    <extension url="http://example.org/why"><valueString value="asked"/></extension>
  </gender>
</Patient>"#,
        ));
        assert_eq!(v["id"], "p1");
        assert_eq!(v["active"], true);
        assert_eq!(
            keys(&v),
            [
                "resourceType",
                "id",
                "active",
                "_gender",
                "birthDate",
                "_birthDate"
            ]
        );
        assert_eq!(v["birthDate"], "1970-03-01");
        assert_eq!(
            v["_birthDate"],
            json!({"id": "bd", "extension": [{
                "url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                "valueDateTime": "1970-03-01T14:35:45-05:00"}]})
        );
        assert!(v.get("gender").is_none());
        assert_eq!(
            v["_gender"],
            json!({"extension": [{"url": "http://example.org/why", "valueString": "asked"}]})
        );
    }

    #[test]
    fn arrays_of_primitives_use_null_placeholders() {
        let v = conv(
            r#"<Patient xmlns="http://hl7.org/fhir"><name>
            <given value="Anne"/>
            <given id="g2"><extension url="http://x"><valueCode value="u"/></extension></given>
            <given value="Marie"/>
            <family value="Smith"/>
        </name><name><given value="Solo"/></name></Patient>"#,
        );
        assert_eq!(
            v["name"],
            json!([
                {"family": "Smith", "given": ["Anne", null, "Marie"],
                 "_given": [null, {"id": "g2", "extension": [{"url": "http://x", "valueCode": "u"}]}, null]},
                {"given": ["Solo"]}
            ])
        );
        assert_eq!(keys(&v["name"][0]), ["family", "given", "_given"]);
        // meta.profile is an array even with one entry.
        let v = conv(
            r#"<Bundle xmlns="http://hl7.org/fhir"><meta><profile value="http://p"/></meta></Bundle>"#,
        );
        assert_eq!(v["meta"], json!({"profile": ["http://p"]}));
    }

    #[test]
    fn choice_types_and_numbers() {
        let v = conv(
            r#"<Observation xmlns="http://hl7.org/fhir">
            <status value="final"/>
            <code><text value="t"/></code>
            <effectiveDateTime value="2024-01-02"/>
            <valueQuantity><value value="1.50"/><unit value="mg"/></valueQuantity>
            <component><code><text value="c"/></code><valueString value="s"/></component>
            <component><code><text value="d"/></code><valuePeriod><start value="2024"/></valuePeriod></component>
            <extension url="u"><valueInteger value="-7"/></extension>
            <extension url="v"><valueBoolean value="false"/></extension>
        </Observation>"#,
        );
        assert_eq!(v["effectiveDateTime"], "2024-01-02");
        assert_eq!(v["valueQuantity"]["value"].to_string(), "1.50");
        assert!(v["valueQuantity"]["value"].is_number());
        assert_eq!(v["component"][0]["valueString"], "s");
        assert_eq!(v["component"][1]["valuePeriod"], json!({"start": "2024"}));
        assert_eq!(v["extension"][0]["valueInteger"].to_string(), "-7");
        assert_eq!(v["extension"][1]["valueBoolean"], false);
        // STU3 Observation has no valueInteger: kept, as an unknown element.
        let v2 = conv(
            r#"<Observation xmlns="http://hl7.org/fhir"><valueInteger value="3"/></Observation>"#,
        );
        assert_eq!(v2["valueInteger"], "3");
        let pos_status = keys(&v).iter().position(|k| *k == "status").unwrap();
        let pos_eff = keys(&v)
            .iter()
            .position(|k| *k == "effectiveDateTime")
            .unwrap();
        assert!(pos_status < pos_eff);
        // The JSON text of the decimal is the XML text, written back as is.
        assert!(json_to_xml(&v).unwrap().contains("<value value=\"1.50\"/>"));
    }

    #[test]
    fn decimals_kept_as_written_and_bad_literals_stay_strings() {
        for (lit, num) in [
            ("1.50", true),
            ("0.10", true),
            ("-0.0", true),
            ("100", true),
            ("12345678901234567890.000000000000000000001", true),
            ("1e3", true),
            ("01", false),
            ("1.", false),
            (".5", false),
            ("+1", false),
            (" 1", false),
            ("abc", false),
        ] {
            let v = conv(&format!(
                r#"<Observation xmlns="http://hl7.org/fhir"><valueQuantity><value value="{lit}"/></valueQuantity></Observation>"#
            ));
            let val = &v["valueQuantity"]["value"];
            assert_eq!(val.is_number(), num, "{lit}");
            if num {
                // Exactly what serde_json makes of the JSON twin's literal
                // (which keeps the text, normalising only exponent signs).
                let twin: Value = serde_json::from_str(lit).unwrap();
                assert_eq!(val, &twin, "{lit}");
                if !lit.contains('e') {
                    assert_eq!(val.to_string(), lit);
                }
            } else {
                assert_eq!(val.as_str(), Some(lit));
            }
        }
        let v = conv(
            r#"<Patient xmlns="http://hl7.org/fhir"><active value="yes"/><multipleBirthInteger value="2"/></Patient>"#,
        );
        assert_eq!(v["active"], "yes");
        assert_eq!(v["multipleBirthInteger"], json!(2));
    }

    #[test]
    fn contained_resources() {
        let v = conv(
            r##"<MedicationStatement xmlns="http://hl7.org/fhir">
            <id value="ms"/>
            <contained><Medication><id value="m1"/><code><text value="aspirin"/></code></Medication></contained>
            <status value="active"/>
            <medicationReference><reference value="#m1"/></medicationReference>
        </MedicationStatement>"##,
        );
        assert_eq!(
            keys(&v),
            [
                "resourceType",
                "id",
                "contained",
                "status",
                "medicationReference"
            ]
        );
        assert_eq!(
            v["contained"],
            json!([{"resourceType": "Medication", "id": "m1", "code": {"text": "aspirin"}}])
        );
        assert_eq!(keys(&v["contained"][0])[0], "resourceType");
    }

    #[test]
    fn nested_bundle_and_element_ids() {
        let v = conv(
            r#"<Bundle xmlns="http://hl7.org/fhir">
            <type value="message"/>
            <entry id="e1">
              <fullUrl value="urn:uuid:1"/>
              <resource>
                <Bundle>
                  <type value="document"/>
                  <entry><resource><Patient><id value="p"/></Patient></resource></entry>
                  <entry><resource><Composition><section><title value="A"/><section><title value="B"/></section></section></Composition></resource></entry>
                </Bundle>
              </resource>
            </entry>
            <entry><response><status value="200"/><outcome><OperationOutcome><issue><severity value="error"/></issue></OperationOutcome></outcome></response></entry>
        </Bundle>"#,
        );
        assert!(v["entry"].is_array());
        assert_eq!(v["entry"][0]["id"], "e1");
        let inner = &v["entry"][0]["resource"];
        assert_eq!(inner["resourceType"], "Bundle");
        assert_eq!(
            inner["entry"][0]["resource"],
            json!({"resourceType": "Patient", "id": "p"})
        );
        let comp = &inner["entry"][1]["resource"];
        assert_eq!(
            comp["section"],
            json!([{"title": "A", "section": [{"title": "B"}]}])
        );
        assert_eq!(
            v["entry"][1]["response"]["outcome"],
            json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]})
        );
    }

    #[test]
    fn message_header_event_is_an_object_and_extension_url_an_attribute() {
        let v = conv(
            r#"<MessageHeader xmlns="http://hl7.org/fhir">
            <extension url="http://e"><extension url="BusAckRequested"><valueBoolean value="true"/></extension></extension>
            <event><system value="s"/><code value="ITK003D"/></event>
        </MessageHeader>"#,
        );
        assert_eq!(v["event"], json!({"system": "s", "code": "ITK003D"}));
        assert_eq!(
            v["extension"],
            json!([{"url": "http://e", "extension": [{"url": "BusAckRequested", "valueBoolean": true}]}])
        );
        let x = json_to_xml(&v).unwrap();
        assert!(x.contains("<extension url=\"BusAckRequested\">"), "{x}");
    }

    #[test]
    fn xhtml_div_with_entities_and_attributes() {
        let v = conv(
            "<Composition xmlns=\"http://hl7.org/fhir\" xmlns:h=\"http://www.w3.org/1999/xhtml\"><text><status value=\"generated\"/>\
             <div xmlns=\"http://www.w3.org/1999/xhtml\" class=\"a&amp;b\" title='say \"hi\" &lt;x&gt;'>\n  \
             <p>A &amp; E &lt;tag&gt; &#163;5 &apos;q&apos; \"d\"</p>\n  <br></br><h:b>bold</h:b>\
             <td></td><a href=\"x?a=1&amp;b=2\" xml:lang=\"en\">l</a><!-- gone --><![CDATA[<raw>]]>\n\
             <span title=\"line1&#10;line2\" lang=\"a\tb\nc\">s</span></div></text></Composition>",
        );
        let div = v["text"]["div"].as_str().unwrap();
        assert_eq!(
            div,
            "<div xmlns=\"http://www.w3.org/1999/xhtml\" class=\"a&amp;b\" title=\"say &quot;hi&quot; &lt;x&gt;\">\n  \
             <p>A &amp; E &lt;tag&gt; £5 'q' \"d\"</p>\n  <br/><b>bold</b><td></td>\
             <a href=\"x?a=1&amp;b=2\" xml:lang=\"en\">l</a>&lt;raw&gt;\n\
             <span title=\"line1&#10;line2\" lang=\"a b c\">s</span></div>"
        );
        assert_eq!(keys(&v["text"]), ["status", "div"]);
        // The div string is a fixed point of canonical_xhtml.
        assert_eq!(canonical_xhtml(div).unwrap(), div);
        // Written back as XHTML in its own namespace.
        let x = json_to_xml(&v).unwrap();
        assert!(
            x.contains("\n    <div xmlns=\"http://www.w3.org/1999/xhtml\" class="),
            "{x}"
        );
        // A div in the wrong (or no) namespace is kept as written, for the
        // validator to report.
        let v = conv(
            r#"<Basic xmlns="http://hl7.org/fhir"><text><status value="generated"/><div>x</div></text></Basic>"#,
        );
        assert_eq!(
            v["text"]["div"],
            "<div xmlns=\"http://hl7.org/fhir\">x</div>"
        );
        let v = conv(
            r#"<Basic xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="">x</div></text></Basic>"#,
        );
        assert_eq!(v["text"]["div"], "<div>x</div>");
        // A JSON div written differently canonicalises to the same string.
        assert_eq!(
            canonical_xhtml(
                "<x:div xmlns:x='http://www.w3.org/1999/xhtml'><x:p>a&gt;</x:p><x:br /></x:div>"
            )
            .unwrap(),
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>a&gt;</p><br/></div>"
        );
    }

    #[test]
    fn unknown_elements_are_kept() {
        let v = conv(
            r#"<Patient xmlns="http://hl7.org/fhir" xmlns:x="urn:x">
            <nmae><family value="F"/></nmae>
            <colour value="red"/>
            <colour value="blue"/>
            <x:foreign a="1">t</x:foreign>
            <_hidden value="1"/>
            <name><id value="n"/><famly value="G"/></name>
            <extension><url value="http://u"/></extension>
        </Patient>"#,
        );
        assert_eq!(v["nmae"], json!({"family": "F"}));
        assert_eq!(v["colour"], json!(["red", "blue"]));
        assert_eq!(v["{urn:x}foreign"], json!({"@a": "1", "#text": "t"}));
        assert_eq!(v["{http://hl7.org/fhir}_hidden"], "1");
        // an element form of an attribute-only property is not the property
        assert_eq!(
            v["name"],
            json!([{"{http://hl7.org/fhir}id": "n", "famly": "G"}])
        );
        assert_eq!(
            v["extension"],
            json!([{"{http://hl7.org/fhir}url": "http://u"}])
        );
        // unknown keys come after the known ones, in document order
        assert_eq!(
            keys(&v),
            [
                "resourceType",
                "extension",
                "name",
                "nmae",
                "colour",
                "{urn:x}foreign",
                "{http://hl7.org/fhir}_hidden"
            ]
        );
    }

    #[test]
    fn stray_values_attributes_and_text_are_kept() {
        let v = conv(
            r#"<Patient xmlns="http://hl7.org/fhir" id="attr" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://hl7.org/fhir x.xsd" xsi:type="T">
            loose text
            <maritalStatus value="M"><text value="married"/></maritalStatus>
            <gender value="male" foo="bar">inside</gender>
            <birthDate/>
            <telecom><system value="phone"/><value value="1">extra</value></telecom>
        </Patient>"#,
        );
        assert_eq!(v["@id"], "attr");
        assert_eq!(v["@{http://www.w3.org/2001/XMLSchema-instance}type"], "T");
        assert!(v
            .get("@{http://www.w3.org/2001/XMLSchema-instance}schemaLocation")
            .is_none());
        assert_eq!(v["#text"], "loose text");
        assert_eq!(
            v["maritalStatus"],
            json!({"text": "married", "@value": "M"})
        );
        assert_eq!(v["gender"], "male");
        assert_eq!(v["_gender"], json!({"@foo": "bar", "#text": "inside"}));
        assert_eq!(v["_birthDate"], json!({}));
        assert!(v.get("birthDate").is_none());
        assert_eq!(
            v["telecom"],
            json!([{"system": "phone", "value": "1", "_value": {"#text": "extra"}}])
        );
    }

    #[test]
    fn malformed_resource_containers_are_kept() {
        let v = conv(
            r#"<Bundle xmlns="http://hl7.org/fhir">
            <entry><resource/></entry>
            <entry><resource><Patient/><Patient/><Basic/></resource></entry>
            <entry><resource id="r"><Patient/></resource></entry>
            <entry><resource><Patinet><id value="x"/></Patinet></resource></entry>
        </Bundle>"#,
        );
        assert_eq!(v["entry"][0]["resource"], json!({}));
        assert_eq!(
            v["entry"][1]["resource"],
            json!({"Patient": [{"resourceType": "Patient"}, {"resourceType": "Patient"}],
                   "Basic": {"resourceType": "Basic"}})
        );
        assert_eq!(
            v["entry"][2]["resource"],
            json!({"Patient": {"resourceType": "Patient"}, "@id": "r"})
        );
        assert_eq!(
            v["entry"][3]["resource"],
            json!({"resourceType": "Patinet", "id": "x"})
        );
        // xsi:schemaLocation is ignored wherever it is.
        let v = conv(
            r#"<Bundle xmlns="http://hl7.org/fhir" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
            <entry><resource xsi:schemaLocation="a b"><Patient><foo value="1" xsi:schemaLocation="a b"/></Patient></resource></entry>
        </Bundle>"#,
        );
        assert_eq!(
            v["entry"][0]["resource"],
            json!({"resourceType": "Patient", "foo": "1"})
        );
    }

    #[test]
    fn single_valued_element_repeated_becomes_an_array() {
        let v = conv(
            r#"<Patient xmlns="http://hl7.org/fhir"><gender value="male"/><gender value="female"/></Patient>"#,
        );
        assert_eq!(v["gender"], json!(["male", "female"]));
    }

    #[test]
    fn attribute_values_are_normalised() {
        let v = conv("<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"a\r\n b\tc&#10;d&#9;e&amp;\"/></Patient>");
        assert_eq!(v["id"], "a  b c\nd\te&");
    }

    #[test]
    fn json_to_xml_layout() {
        let v = json!({
            "resourceType": "Patient",
            "id": "p",
            "meta": {"profile": ["http://p"]},
            "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>x &amp; y</p></div>"},
            "active": true,
            "name": [{"id": "n1", "given": ["A", null], "_given": [null, {"extension": [{"url": "u", "valueDecimal": 1.50}]}]}]
        });
        let x = json_to_xml(&v).unwrap();
        let expected = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<Patient xmlns=\"http://hl7.org/fhir\">
  <id value=\"p\"/>
  <meta>
    <profile value=\"http://p\"/>
  </meta>
  <text>
    <status value=\"generated\"/>
    <div xmlns=\"http://www.w3.org/1999/xhtml\"><p>x &amp; y</p></div>
  </text>
  <active value=\"true\"/>
  <name id=\"n1\">
    <given value=\"A\"/>
    <given>
      <extension url=\"u\">
        <valueDecimal value=\"1.50\"/>
      </extension>
    </given>
  </name>
</Patient>
";
        // serde_json's json! macro goes through f64 for 1.50; build the
        // decimal from text instead.
        let mut v2 = v.clone();
        v2["name"][0]["_given"][1]["extension"][0]["valueDecimal"] =
            serde_json::from_str("1.50").unwrap();
        let x2 = json_to_xml(&v2).unwrap();
        assert_eq!(x2, expected);
        assert!(x.contains("<valueDecimal value=\"1.5\"/>"));
        assert_eq!(xml_to_json(&x2).unwrap(), v2);
    }

    #[test]
    fn json_to_xml_errors_name_the_path() {
        let e = json_to_xml(&json!({"id": "x"})).unwrap_err();
        assert_eq!(e.path, "$");
        let e = json_to_xml(&json!({"resourceType": "Nope"})).unwrap_err();
        assert!(e.message.contains("not a FHIR STU3 resource"));
        let e = json_to_xml(&json!({"resourceType": "Patient", "text": {"status": "generated", "div": "<div>secret<"}}))
            .unwrap_err();
        assert_eq!(e.path, "Patient.text.div");
        assert!(!e.message.contains("secret"), "{e}");
        let e = json_to_xml(&json!({"resourceType": "Patient", "name": [{"given": [{"x": 1}]}]}))
            .unwrap_err();
        assert_eq!(e.path, "Patient.name[0].given[0]");
        let e =
            json_to_xml(&json!({"resourceType": "Patient", "name": [{"bad key": 1}]})).unwrap_err();
        assert_eq!(e.path, "Patient.name[0].bad key");
        let e = json_to_xml(&json!({"resourceType": "Patient", "gender": "a\u{1}b"})).unwrap_err();
        assert_eq!(e.path, "Patient.gender");
    }

    #[test]
    fn malformed_xml_errors_have_positions_and_no_text() {
        let e = xml_to_json(
            "<Patient xmlns=\"http://hl7.org/fhir\">\n  <id value=\"secret\">\n</Patient>",
        )
        .unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(!e.message.contains("secret"), "{e}");
        let e = xml_to_json(
            "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"a&secret;\"/></Patient>",
        )
        .unwrap_err();
        assert_eq!((e.line, e.col), (1, 38), "{e}");
        assert!(!e.message.contains("secret"), "{e}");
        let e = xml_to_json("").unwrap_err();
        assert_eq!(e.line, 1);
        let e = xml_to_json(
            "<Patient xmlns=\"http://hl7.org/fhir\">\n<name>\n  <given value=\"x\"/>\n</Patient>",
        )
        .unwrap_err();
        assert_eq!(e.line, 4, "{e}");
    }

    #[test]
    fn non_fhir_or_unknown_roots_are_errors() {
        let e = xml_to_json("<?xml version=\"1.0\"?>\n\n  <Patient><id value=\"x\"/></Patient>")
            .unwrap_err();
        assert_eq!((e.line, e.col), (3, 3), "{e}");
        assert!(e.message.contains("namespace"));
        let e = xml_to_json("<ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>").unwrap_err();
        assert!(e.message.contains("namespace"));
        let e = xml_to_json("<Patinet xmlns=\"http://hl7.org/fhir\"/>").unwrap_err();
        assert_eq!((e.line, e.col), (1, 1));
        assert!(!e.message.contains("Patinet"));
        let e = xml_to_json("<HumanName xmlns=\"http://hl7.org/fhir\"/>").unwrap_err();
        assert!(e.message.contains("resource type"));
        // abstract types are not resources either
        assert!(xml_to_json("<DomainResource xmlns=\"http://hl7.org/fhir\"/>").is_err());
        assert!(xml_to_json("<Basic xmlns=\"http://hl7.org/fhir\"/>").is_ok());
    }

    #[test]
    fn nesting_is_limited_and_the_limit_fits_a_small_stack() {
        fn nested(levels: usize) -> String {
            // Patient + (levels - 1) nested extensions / unknown elements.
            let mut s = String::from("<Patient xmlns=\"http://hl7.org/fhir\">");
            let half = (levels - 1) / 2;
            for _ in 0..half {
                s.push_str("<extension url=\"u\">");
            }
            for _ in half..levels - 1 {
                s.push_str("<x>");
            }
            for _ in half..levels - 1 {
                s.push_str("</x>");
            }
            for _ in 0..half {
                s.push_str("</extension>");
            }
            s.push_str("</Patient>");
            s
        }
        // At the limit: converts both ways on a 1 MiB stack (debug build).
        let ok = nested(MAX_DEPTH);
        let t = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                let v = xml_to_json(&ok).unwrap();
                let x = json_to_xml(&v).unwrap();
                assert_eq!(xml_to_json(&x).unwrap(), v);
                let mut div = String::new();
                for _ in 0..MAX_DEPTH {
                    div.push_str("<span>");
                }
                for _ in 0..MAX_DEPTH {
                    div.push_str("</span>");
                }
                assert!(canonical_xhtml(&div).is_ok());
            })
            .unwrap();
        t.join().unwrap();
        let e = xml_to_json(&nested(MAX_DEPTH + 1)).unwrap_err();
        assert!(e.message.contains("nested deeper"), "{e}");
        assert_eq!(e.line, 1);
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        /// A random element: (prefixed?, name, attributes, text, children).
        #[derive(Debug, Clone)]
        struct El {
            foreign: bool,
            name: &'static str,
            attrs: Vec<(&'static str, &'static str)>,
            text: Option<&'static str>,
            kids: Vec<El>,
        }

        const NAMES: &[&str] = &[
            "extension",
            "url",
            "valueString",
            "valueBoolean",
            "valueDecimal",
            "name",
            "given",
            "family",
            "id",
            "value",
            "text",
            "status",
            "div",
            "p",
            "br",
            "code",
            "coding",
            "system",
            "meta",
            "profile",
            "active",
            "birthDate",
            "gender",
            "identifier",
            "contained",
            "Patient",
            "Basic",
            "entry",
            "resource",
            "foo",
            "_x",
            "resourceType",
            "section",
            "title",
            "telecom",
            "modifierExtension",
        ];
        const VALUES: &[&str] = &["true", "1.50", "x", "", "a&b<c\"d>", " sp\ta ce\n", "-0"];
        const TEXTS: &[&str] = &["t", " ", "\n  ", "a & <b>", "x\r\ny"];
        const ATTRS: &[&str] = &["value", "id", "url", "foo"];

        fn el() -> impl Strategy<Value = El> {
            let leaf = (
                prop::bool::weighted(0.05),
                prop::sample::select(NAMES),
                prop::collection::vec(
                    (prop::sample::select(ATTRS), prop::sample::select(VALUES)),
                    0..3,
                ),
                prop::option::weighted(0.2, prop::sample::select(TEXTS)),
            )
                .prop_map(|(foreign, name, mut attrs, text)| {
                    attrs.sort_by_key(|a| a.0);
                    attrs.dedup_by_key(|a| a.0);
                    El {
                        foreign,
                        name,
                        attrs,
                        text,
                        kids: Vec::new(),
                    }
                });
            leaf.prop_recursive(5, 48, 5, |inner| {
                (
                    prop::sample::select(NAMES),
                    prop::collection::vec(
                        (prop::sample::select(ATTRS), prop::sample::select(VALUES)),
                        0..2,
                    ),
                    prop::option::weighted(0.1, prop::sample::select(TEXTS)),
                    prop::collection::vec(inner, 1..5),
                )
                    .prop_map(|(name, mut attrs, text, kids)| {
                        attrs.sort_by_key(|a| a.0);
                        attrs.dedup_by_key(|a| a.0);
                        El {
                            foreign: false,
                            name,
                            attrs,
                            text,
                            kids,
                        }
                    })
            })
        }

        fn write(e: &El, out: &mut String) {
            let name = if e.foreign {
                format!("x:{}", e.name)
            } else {
                e.name.to_string()
            };
            out.push('<');
            out.push_str(&name);
            for (k, v) in &e.attrs {
                out.push(' ');
                out.push_str(k);
                out.push_str("=\"");
                escape_attr_into(v, out);
                out.push('"');
            }
            out.push('>');
            if let Some(t) = e.text {
                escape_text_into(t, out);
            }
            for k in &e.kids {
                out.push_str("\n ");
                write(k, out);
            }
            out.push_str("</");
            out.push_str(&name);
            out.push('>');
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(400))]
            /// Whatever the content, reading never fails past the root, and
            /// XML → JSON → XML → JSON is stable.
            #[test]
            fn random_trees_round_trip(
                root in prop::sample::select(&["Patient", "Bundle", "Basic", "Composition"][..]),
                kids in prop::collection::vec(el(), 0..6),
            ) {
                let mut xml = format!("<{root} xmlns=\"http://hl7.org/fhir\" xmlns:x=\"urn:x\">");
                for k in &kids {
                    write(k, &mut xml);
                }
                xml.push_str(&format!("</{root}>"));
                let v = xml_to_json(&xml).map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
                let back = json_to_xml(&v).map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
                let again = xml_to_json(&back).map_err(|e| TestCaseError::fail(format!("{e}\n{back}")))?;
                prop_assert_eq!(&again, &v, "{}\n---\n{}", xml, back);
            }
        }
    }

    #[test]
    fn json_number_grammar() {
        for ok in ["0", "-0", "1", "10", "1.0", "1e5", "1E-5", "-1.25e+10"] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in [
            "", "-", "00", "01", "1.", ".1", "1e", "1e+", "+1", "1 ", "0x1", "NaN", "1.2.3",
        ] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }
}
