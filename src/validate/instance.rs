//! Instance validation against core FHIR STU3 and the compiled profiles.
//!
//! # Why
//!
//! The structural ITK3 checks in [`super::itk`] know the message shape; this
//! pass knows FHIR: every element of every resource is checked against the
//! embedded STU3 element table ([`crate::fhir::defs`]: known elements,
//! types, JSON shapes, primitive formats, core cardinality, core bindings)
//! and against every profile the resource declares in `meta.profile` or a
//! reference demands of it ([`super::profiles`]: cardinality incl. 0..0,
//! allowed types, fixed and pattern values, bindings, slicing, reference
//! targets, extension definitions). Core invariants a ToC message can break
//! are in [`super::invariants`].
//!
//! Locations are FHIRPath with a 0-based index on every repeating element
//! (`Bundle.entry[3].resource.entry[0].resource.section[1].title`); a
//! missing element is reported at its parent. Messages name elements,
//! profiles and rules, never instance values.

use super::core::{core, ElemInfo, Kind, Prim};
use super::formats::Fmt;
use super::scan::Scan;
use serde_json::{Map, Value};

use super::invariants;
use super::loc::Loc;
use super::profiles::{profiles, Member, Node, Profile, Strength};
use super::{Issue, Severity};
use crate::fhir::defs::{FastMap, FastSet};

/// Rule ids of this pass (see the module table in [`super`]).
pub mod rules {
    /// resourceType missing or unknown.
    pub const RESOURCE_TYPE: &str = "resource-type";
    /// Element not defined for its type.
    pub const UNKNOWN_ELEMENT: &str = "unknown-element";
    /// Array where a single value belongs, or the reverse; object vs primitive.
    pub const JSON_SHAPE: &str = "json-shape";
    /// Empty array, object or string; null without a `_x` partner (ele-1).
    pub const JSON_EMPTY: &str = "json-empty";
    /// Primitive value of the wrong JSON kind or format.
    pub const PRIMITIVE_FORMAT: &str = "primitive-format";
    /// Core cardinality.
    pub const CARDINALITY: &str = "cardinality";
    /// XHTML narrative rules (txt-1, txt-2).
    pub const XHTML: &str = "xhtml";
    /// Code not in a bound value set.
    pub const BINDING: &str = "binding";
    /// Value set cannot be enumerated offline: membership not checked.
    pub const BINDING_NOT_CHECKED: &str = "binding-not-checked";
    /// Profile cardinality (incl. 0..0).
    pub const PROFILE_CARDINALITY: &str = "profile-cardinality";
    /// Profile type restriction.
    pub const PROFILE_TYPE: &str = "profile-type";
    /// Profile fixed value.
    pub const PROFILE_FIXED: &str = "profile-fixed";
    /// Profile pattern value.
    pub const PROFILE_PATTERN: &str = "profile-pattern";
    /// Slicing: closed slicing, slice cardinality.
    pub const PROFILE_SLICE: &str = "profile-slice";
    /// Reference target type or profile.
    pub const REFERENCE_TARGET: &str = "reference-target";
    /// A declared profile the validator does not know.
    pub const PROFILE_UNKNOWN: &str = "profile-unknown";

    /// Every rule id of this pass.
    pub const ALL: &[&str] = &[
        RESOURCE_TYPE,
        UNKNOWN_ELEMENT,
        JSON_SHAPE,
        JSON_EMPTY,
        PRIMITIVE_FORMAT,
        CARDINALITY,
        XHTML,
        BINDING,
        BINDING_NOT_CHECKED,
        PROFILE_CARDINALITY,
        PROFILE_TYPE,
        PROFILE_FIXED,
        PROFILE_PATTERN,
        PROFILE_SLICE,
        REFERENCE_TARGET,
        PROFILE_UNKNOWN,
    ];
}

use rules::*;

/// One entry of a bundle index: the resource, the bundle it is in (an
/// index into [`Walker::bundle_locs`]) and its entry index. Its location
/// (`<bundle>.entry[i].resource`) is rendered only when needed.
#[derive(Clone, Copy)]
pub(crate) struct Target<'a> {
    pub resource: &'a Value,
    bundle: usize,
    entry: usize,
}

/// A Bundle's entries by fullUrl and by `Type/id`, first entry winning.
#[derive(Default)]
pub(crate) struct BundleIdx<'a> {
    by_url: FastMap<&'a str, Target<'a>>,
    by_type_id: FastMap<(&'a str, &'a str), Target<'a>>,
}

impl<'a> BundleIdx<'a> {
    /// The first entry whose fullUrl is `reference` or whose
    /// `resourceType + '/' + id` is `reference`.
    fn get(&self, reference: &str) -> Option<Target<'a>> {
        let mut best = self.by_url.get(reference).copied();
        if self.by_type_id.is_empty() {
            return best;
        }
        // '/' is ASCII: its byte positions are char boundaries.
        for (p, _) in reference.bytes().enumerate().filter(|&(_, c)| c == b'/') {
            if let Some(t) = self.by_type_id.get(&(&reference[..p], &reference[p + 1..])) {
                if best.is_none_or(|b| t.entry < b.entry) {
                    best = Some(*t);
                }
            }
        }
        best
    }
}

/// Validation state for one input.
pub(crate) struct Walker<'a> {
    pub issues: Vec<Issue>,
    /// Bundle indexes, innermost last: fullUrl (and Type/id) -> resource.
    bundles: Vec<BundleIdx<'a>>,
    /// Rendered locations of the bundles indexed so far (by `Target::bundle`).
    bundle_locs: Vec<String>,
    /// Contained ids of the resources being walked, innermost last.
    contained: Vec<FastSet<String>>,
    /// (resource address, profile) pairs already checked.
    checked: FastSet<(usize, usize)>,
    /// Deferred target-profile checks.
    deferred: Vec<(Target<'a>, String)>,
    /// Reusable item buffers (one per nesting level in use).
    item_pool: Vec<Vec<Item<'a>>>,
    /// Whether information issues are wanted (the converter drops them, so
    /// it does not pay for formatting them).
    info: bool,
}

/// The choice stem of an expanded element name (`valueString` -> `value`),
/// or the name itself.
pub(crate) fn stem<'n>(name: &'n str, ty: &str) -> &'n str {
    // `name` ends with `ty` with its first letter upper-cased.
    let (Some(first), rest) = (ty.chars().next(), ty.get(1..).unwrap_or("")) else {
        return name;
    };
    let Some(head) = name.strip_suffix(rest) else {
        return name;
    };
    let mut up = first.to_uppercase();
    match (head.chars().next_back(), up.next(), up.next()) {
        (Some(c), Some(u), None) if c == u && head.len() > c.len_utf8() => {
            &head[..head.len() - c.len_utf8()]
        }
        _ => name,
    }
}

/// `s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace)`
/// by byte tests when the first / last byte is ASCII (then it is the
/// whole first / last character).
#[inline]
fn edge_whitespace(s: &str) -> bool {
    // The ASCII characters `char::is_whitespace` accepts.
    let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let b = s.as_bytes();
    let start = match b.first() {
        Some(&c) if c < 0x80 => ws(c),
        Some(_) => s.starts_with(char::is_whitespace),
        None => false,
    };
    start
        || match b.last() {
            Some(&c) if c < 0x80 => ws(c),
            Some(_) => s.ends_with(char::is_whitespace),
            None => false,
        }
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// One value of an element in an instance, with its `_x` partner.
struct Item<'v> {
    /// JSON key (`valueString`).
    key: &'v str,
    /// Index within the array, when the element repeats.
    index: Option<usize>,
    /// The value (Null when only `_x` is present).
    value: &'v Value,
    /// The `_x` object (id / extension of a primitive), if any.
    ext: Option<&'v Value>,
}

impl<'v> Item<'v> {
    /// The item's location under its parent's.
    fn loc<'q>(&'q self, parent: &'q Loc<'q>) -> Loc<'q> {
        parent.at(self.key, self.index)
    }

    /// The type suffix of a choice key (`valueString` with stem `value`
    /// gives `String`).
    fn type_suffix(&self, stem: &str) -> Option<&'v str> {
        super::scan::strip(self.key, stem).filter(|s| !s.is_empty())
    }
}

/// A summary of an object's keys (without a leading `_`) for ruling out
/// profile elements: a bit per (first byte, length) and the longest key per
/// first byte. It may say "maybe" for an absent key (collisions), never
/// "no" for a present one.
struct KeySig {
    exact: [u64; 2],
    longest: [u16; 32],
    /// Whether some key starts with `_`.
    underscores: bool,
}

impl KeySig {
    #[inline]
    fn bit(first: u8, len: u16) -> usize {
        ((first as usize).wrapping_mul(31) ^ len as usize) & 127
    }

    fn of(obj: &Map<String, Value>) -> Self {
        let mut s = KeySig {
            exact: [0; 2],
            longest: [0; 32],
            underscores: false,
        };
        for k in obj.keys() {
            let k = match k.strip_prefix('_') {
                Some(b) => {
                    s.underscores = true;
                    b
                }
                None => k,
            };
            let Some(&f) = k.as_bytes().first() else {
                continue;
            };
            let len = k.len().min(u16::MAX as usize) as u16;
            let b = Self::bit(f, len);
            s.exact[b >> 6] |= 1 << (b & 63);
            let l = &mut s.longest[(f & 31) as usize];
            *l = (*l).max(len);
        }
        s
    }

    /// Whether a key with first byte `first` and length `len` (a choice:
    /// longer than `len`) may be present.
    #[inline]
    fn maybe(&self, first: u8, len: u16, choice: bool) -> bool {
        if choice {
            self.longest[(first & 31) as usize] > len
        } else {
            let b = Self::bit(first, len);
            self.exact[b >> 6] & (1 << (b & 63)) != 0
        }
    }
}

/// Values of a profile element in an object: the key itself, or for
/// `x[x]` every `xType` key; `_x` partners included.
fn collect_into<'v>(
    obj: &'v Map<String, Value>,
    node: &Node,
    underscores: bool,
    out: &mut Vec<Item<'v>>,
) {
    let stem = node.choice_stem();
    let name = node.n.as_str();
    let is_choice_key = |k: &str, stem: &str| {
        super::scan::strip(k, stem).is_some_and(|rest| {
            rest.as_bytes()
                .first()
                .is_some_and(|c| c.is_ascii_uppercase())
        })
    };
    // The `_x` partner of a member found (keys are unique: the member is
    // its own first match).
    let ext_of = |k: &str| {
        if underscores {
            underscore_of(obj, k).map(|(_, v)| v)
        } else {
            None
        }
    };
    match stem {
        Some(stem) => {
            for (k, v) in obj {
                if is_choice_key(k, stem) {
                    push_items(k, v, ext_of(k), out);
                }
            }
        }
        None => {
            // A scan beats hashing the key for the small objects of FHIR.
            if let Some((k, v)) = obj.iter().find(|(k, _)| super::scan::same(k, name)) {
                push_items(k, v, ext_of(k), out);
            }
        }
    }
    if !underscores {
        return;
    }
    // `_x` without `x`: the items are the `_x` entries, with null values.
    for (k, v) in obj {
        if let Some(base) = k.strip_prefix('_') {
            let matches = match stem {
                Some(stem) => is_choice_key(base, stem),
                None => base == name,
            };
            if matches && obj.at_key(base).is_none() {
                push_items(base, &NULL, Some(v), out);
            }
        }
    }
}

static NULL: Value = Value::Null;

/// The `_name` member of an object, without allocating the key.
fn underscore_of<'v>(obj: &'v Map<String, Value>, name: &str) -> Option<(&'v String, &'v Value)> {
    obj.iter()
        .find(|(k, _)| k.len() == name.len() + 1 && k.starts_with('_') && &k[1..] == name)
}

/// The items of member `k` (its value, or null when only `_k` is
/// present) with its `_k` partner `ext`.
fn push_items<'v>(k: &'v str, value: &'v Value, ext: Option<&'v Value>, out: &mut Vec<Item<'v>>) {
    match (value, ext) {
        (Value::Array(items), _) => {
            for (i, v) in items.iter().enumerate() {
                let e = ext.and_then(|e| e.as_array()).and_then(|a| a.get(i));
                out.push(Item {
                    key: k,
                    index: Some(i),
                    value: v,
                    ext: e.filter(|e| !e.is_null()),
                });
            }
        }
        (Value::Null, Some(Value::Array(exts))) => {
            for (i, e) in exts.iter().enumerate() {
                out.push(Item {
                    key: k,
                    index: Some(i),
                    value: &NULL,
                    ext: Some(e).filter(|e| !e.is_null()),
                });
            }
        }
        (v, e) => out.push(Item {
            key: k,
            index: None,
            value: v,
            ext: e,
        }),
    }
}

impl<'a> Walker<'a> {
    pub fn new() -> Self {
        Walker {
            issues: Vec::new(),
            bundles: Vec::new(),
            bundle_locs: Vec::new(),
            contained: Vec::new(),
            checked: FastSet::with_capacity_and_hasher(64, Default::default()),
            deferred: Vec::new(),
            item_pool: Vec::new(),
            info: true,
        }
    }

    pub(crate) fn issue(
        &mut self,
        severity: Severity,
        rule: &'static str,
        loc: impl Into<String>,
        msg: impl Into<String>,
    ) {
        self.issues.push(Issue::new(severity, rule, loc, msg));
    }

    /// Validate a resource at `loc` (its type name for a root resource).
    pub fn resource(&mut self, res: &'a Value, loc: &Loc<'_>, root: bool) {
        let Some(obj) = res.as_object() else {
            let sev = if root {
                Severity::Fatal
            } else {
                Severity::Error
            };
            self.issue(
                sev,
                JSON_SHAPE,
                loc,
                format!("a resource must be a JSON object, found {}", kind_name(res)),
            );
            return;
        };
        // One lookup: every resource type is an owner of the core table,
        // marked as a resource (as `defs().is_resource`).
        let rt_owner = match obj.at_key("resourceType") {
            Some(Value::String(s)) => core().id(s).filter(|&id| core().owner(id).is_resource),
            _ => None,
        };
        let rt = match obj.at_key("resourceType") {
            Some(Value::String(s)) if rt_owner.is_some() => s.as_str(),
            Some(Value::String(_)) => {
                let sev = if root {
                    Severity::Fatal
                } else {
                    Severity::Error
                };
                self.issue(
                    sev,
                    RESOURCE_TYPE,
                    loc,
                    "resourceType is not an STU3 resource type",
                );
                return;
            }
            _ => {
                let sev = if root {
                    Severity::Fatal
                } else {
                    Severity::Error
                };
                self.issue(sev, RESOURCE_TYPE, loc, "resourceType missing");
                return;
            }
        };
        let is_bundle = rt == "Bundle";
        if is_bundle {
            let idx = index_bundle(obj, self.bundle_locs.len());
            self.bundle_locs.push(loc.to_string());
            self.bundles.push(idx);
        }
        let contained: FastSet<String> = obj
            .at_key("contained")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.at_key("id").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        self.contained.push(contained);
        let rt_id = rt_owner.unwrap_or(0);
        self.element(obj, rt_id, loc);
        invariants::resource(self, rt, obj, loc);
        // Declared profiles.
        if let Some(Value::Array(urls)) = obj.at_key("meta").and_then(|m| m.at_key("profile")) {
            for (i, u) in urls.iter().enumerate() {
                let Some(url) = u.as_str() else { continue };
                match profiles().get(url) {
                    Some(p) if p.ty != rt => self.issue(
                        Severity::Error,
                        PROFILE_TYPE,
                        format!("{loc}.meta.profile[{i}]"),
                        format!("declared profile {url} constrains {}, not {rt}", p.ty),
                    ),
                    Some(p) => self.profile(p, url, res, loc),
                    None if !self.info => {}
                    None => self.issue(
                        Severity::Information,
                        PROFILE_UNKNOWN,
                        format!("{loc}.meta.profile[{i}]"),
                        format!("profile {url} is not known to this validator: checked against core STU3 only"),
                    ),
                }
            }
        }
        self.contained.pop();
        if is_bundle {
            // Target-profile checks need the bundle index: run them before
            // it goes.
            let deferred = std::mem::take(&mut self.deferred);
            for (t, url) in deferred {
                if let Some(p) = profiles().get(&url) {
                    let base = self.bundle_locs[t.bundle].clone();
                    let root = Loc::root(&base);
                    let entry = root.at("entry", Some(t.entry));
                    self.profile(p, &url, t.resource, &entry.at("resource", None));
                }
            }
            self.bundles.pop();
        }
    }

    /// Core pass over an object of type/backbone `owner` (an id in the
    /// reshaped core table).
    fn element(&mut self, obj: &'a Map<String, Value>, owner_id: u32, loc: &Loc<'_>) {
        let oi = core().owner(owner_id);
        let owner = oi.name;
        if obj.is_empty() {
            self.issue(
                Severity::Error,
                JSON_EMPTY,
                loc,
                "empty object: an element must have a value or children (ele-1)",
            );
            return;
        }
        let underscores = obj.keys().any(|k| k.starts_with('_'));
        for (key, value) in obj {
            if oi.is_resource && super::scan::same(key, "resourceType") {
                continue;
            }
            if super::scan::same(key, "fhir_comments") {
                continue;
            }
            let (name, underscore) = match key.strip_prefix('_') {
                Some(b) => (b, true),
                None => (key.as_str(), false),
            };
            let Some(ei) = oi.get(name) else {
                self.issue(
                    Severity::Error,
                    UNKNOWN_ELEMENT,
                    loc.at(name, None),
                    format!("{owner} has no element '{name}' in FHIR STU3"),
                );
                continue;
            };
            let elem = ei.elem;
            if elem.max_zero {
                self.issue(
                    Severity::Error,
                    CARDINALITY,
                    loc.at(name, None),
                    format!("{owner}.{name} is prohibited (0..0)"),
                );
                continue;
            }
            if underscore {
                self.underscore(obj, ei, value, owner, loc);
                continue;
            }
            match value {
                Value::Array(items) => {
                    if !elem.max_many {
                        self.issue(
                            Severity::Error,
                            JSON_SHAPE,
                            loc.at(name, None),
                            format!("{owner}.{name} has at most one value: expected a single value, found an array"),
                        );
                        continue;
                    }
                    if items.is_empty() {
                        self.issue(
                            Severity::Error,
                            JSON_EMPTY,
                            loc.at(name, None),
                            format!("{owner}.{name}: empty array"),
                        );
                        continue;
                    }
                    let ext = if underscores {
                        underscore_of(obj, name).and_then(|(_, v)| v.as_array())
                    } else {
                        None
                    };
                    for (i, v) in items.iter().enumerate() {
                        let l = loc.at(name, Some(i));
                        let has_ext = ext.and_then(|e| e.get(i)).is_some_and(|e| !e.is_null());
                        self.value(v, ei, owner, &l, has_ext);
                    }
                }
                v => {
                    if elem.max_many {
                        self.issue(
                            Severity::Error,
                            JSON_SHAPE,
                            loc.at(name, None),
                            format!("{owner}.{name} repeats: expected an array"),
                        );
                        continue;
                    }
                    let l = loc.at(name, None);
                    let has_ext = underscores && underscore_of(obj, name).is_some();
                    self.value(v, ei, owner, &l, has_ext);
                }
            }
        }
        // Required elements (reported at the parent).
        for req in &oi.required {
            let elem = req.elem;
            let st = req.stem;
            // The stem is the name itself or a proper prefix of it: a
            // length compare tells them apart.
            let choice = st.len() != elem.name.len();
            let present = obj.keys().any(|k| {
                let k = k.strip_prefix('_').unwrap_or(k);
                super::scan::same(k, elem.name)
                    || (choice
                        && super::scan::strip(k, st).is_some_and(|r| {
                            r.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                        }))
            });
            if !present {
                let shown = &req.shown;
                if self.issues.iter().any(|i| {
                    i.rule == CARDINALITY
                        && i.location == loc.to_string()
                        && i.message.contains(shown.as_str())
                }) {
                    continue;
                }
                self.issue(
                    Severity::Error,
                    CARDINALITY,
                    loc,
                    format!("{owner}.{shown} is required (min {}) but missing", elem.min),
                );
            }
        }
        if oi.element_rules {
            invariants::element(self, owner, obj, loc);
        }
    }

    /// A `_x` member: the id/extension of a primitive.
    fn underscore(
        &mut self,
        obj: &'a Map<String, Value>,
        ei: &'static ElemInfo,
        value: &'a Value,
        owner: &str,
        loc: &Loc<'_>,
    ) {
        let elem = ei.elem;
        let ty = ei.ty;
        let name = elem.name;
        if !ei.primitive {
            self.issue(
                Severity::Error,
                JSON_SHAPE,
                loc.at(name, None),
                format!(
                    "'_{name}' is only allowed for primitive elements ({owner}.{name} is {ty})"
                ),
            );
            return;
        }
        let element_id = core().id("Element").unwrap_or(0);
        let check = |w: &mut Self, v: &'a Value, l: &Loc<'_>| match v {
            Value::Object(o) => w.element(o, element_id, l),
            other => w.issue(
                Severity::Error,
                JSON_SHAPE,
                l,
                format!(
                    "'_{name}' must hold an object with id/extension, found {}",
                    kind_name(other)
                ),
            ),
        };
        match (value, obj.at_key(name)) {
            (Value::Array(exts), base) if elem.max_many => {
                if let Some(Value::Array(b)) = base {
                    if b.len() != exts.len() {
                        self.issue(
                            Severity::Error,
                            JSON_SHAPE,
                            loc.at(name, None),
                            format!("'{name}' and '_{name}' arrays differ in length"),
                        );
                    }
                }
                for (i, e) in exts.iter().enumerate() {
                    if e.is_null() {
                        continue;
                    }
                    check(self, e, &loc.at(name, Some(i)));
                }
            }
            (v, _) if !elem.max_many => check(self, v, &loc.at(name, None)),
            (v, _) => self.issue(
                Severity::Error,
                JSON_SHAPE,
                loc.at(name, None),
                format!(
                    "'_{name}' must be an array like '{name}', found {}",
                    kind_name(v)
                ),
            ),
        }
    }

    /// One value of a core element.
    fn value(
        &mut self,
        v: &'a Value,
        ei: &'static ElemInfo,
        owner: &str,
        loc: &Loc<'_>,
        has_ext: bool,
    ) {
        let name = ei.elem.name;
        let ty = ei.ty;
        match ei.kind {
            Kind::Backbone(id) => {
                // Backbone element (or contentReference).
                match v {
                    Value::Object(o) => self.element(o, id, loc),
                    other => self.issue(
                        Severity::Error,
                        JSON_SHAPE,
                        loc,
                        format!(
                            "{owner}.{name} must be an object, found {}",
                            kind_name(other)
                        ),
                    ),
                }
            }
            Kind::Primitive(p) => self.primitive(v, ei, p, owner, loc, has_ext),
            Kind::Resource => self.resource(v, loc, false),
            Kind::Complex(id) => match v {
                Value::Object(o) => {
                    self.element(o, id, loc);
                    self.core_binding(ei, owner, v, loc);
                }
                other => self.issue(
                    Severity::Error,
                    JSON_SHAPE,
                    loc,
                    format!(
                        "{owner}.{name} ({ty}) must be an object, found {}",
                        kind_name(other)
                    ),
                ),
            },
        }
    }

    fn primitive(
        &mut self,
        v: &'a Value,
        ei: &'static ElemInfo,
        prim: Prim,
        owner: &str,
        loc: &Loc<'_>,
        has_ext: bool,
    ) {
        let ty = ei.ty;
        let name = ei.elem.name;
        let what = || format!("{owner}.{name} ({ty})");
        let bad_kind = |w: &mut Self, expected: &str| {
            w.issue(
                Severity::Error,
                PRIMITIVE_FORMAT,
                loc,
                format!(
                    "{} must be a JSON {expected}, found {}",
                    what(),
                    kind_name(v)
                ),
            )
        };
        match v {
            Value::Null => {
                if !has_ext {
                    self.issue(
                        Severity::Error,
                        JSON_EMPTY,
                        loc,
                        format!("{}: null without a matching '_{name}' entry", what()),
                    );
                }
                return;
            }
            Value::Object(_) | Value::Array(_) => return bad_kind(self, "primitive"),
            _ => {}
        }
        match prim {
            Prim::Boolean => {
                if !v.is_boolean() {
                    bad_kind(self, "boolean");
                }
                return;
            }
            Prim::Number(f) => {
                let Some(n) = v.as_number() else {
                    return bad_kind(self, "number");
                };
                let text = n.to_string();
                if !f.check(&text) {
                    self.issue(
                        Severity::Error,
                        PRIMITIVE_FORMAT,
                        loc,
                        format!("{}: not a valid {ty}", what()),
                    );
                }
                return;
            }
            _ => {}
        }
        let Some(s) = v.as_str() else {
            return bad_kind(self, "string");
        };
        if s.is_empty() {
            self.issue(
                Severity::Error,
                JSON_EMPTY,
                loc,
                format!("{}: empty string", what()),
            );
            return;
        }
        let ok = match prim {
            Prim::Xhtml => {
                self.xhtml(s, loc);
                return;
            }
            Prim::Text => true,
            _ if edge_whitespace(s) => {
                self.issue(
                    Severity::Error,
                    PRIMITIVE_FORMAT,
                    loc,
                    format!("{}: leading or trailing whitespace", what()),
                );
                return;
            }
            Prim::Format(f) => f.check(s),
            Prim::Regex(re) => re.is_none_or(|re| re.is_match(s)),
            Prim::Boolean | Prim::Number(_) => true,
        };
        if !ok {
            self.issue(
                Severity::Error,
                PRIMITIVE_FORMAT,
                loc,
                format!("{}: not a valid {ty}", what()),
            );
            return;
        }
        if matches!(prim, Prim::Format(Fmt::Code)) {
            self.core_binding(ei, owner, v, loc);
        }
    }

    fn xhtml(&mut self, s: &str, loc: &Loc<'_>) {
        let (problems, unusual) = crate::narrative::check::check_xhtml_scan(s);
        if let Some(p) = problems.first() {
            self.issue(
                Severity::Error,
                XHTML,
                loc,
                format!("narrative XHTML (txt-1/txt-2): {p}"),
            );
        } else if let Some(p) = strictness_after_check(s, unusual) {
            self.issue(
                Severity::Error,
                XHTML,
                loc,
                format!("narrative XHTML is not well-formed XML: {p}"),
            );
        }
    }

    fn core_binding(&mut self, ei: &'static ElemInfo, owner: &str, v: &Value, loc: &Loc<'_>) {
        let Some(b) = ei.binding else {
            return;
        };
        let name = ei.elem.name;
        self.binding(b.0, &b.1, ei.ty, v, loc, &|| format!("{owner}.{name}"));
    }

    /// Check a coded value against a value set.
    fn binding(
        &mut self,
        strength: Strength,
        vs: &str,
        ty: &str,
        v: &Value,
        loc: &Loc<'_>,
        what: &dyn Fn() -> String,
    ) {
        let p = profiles();
        let mut n = 0usize;
        let mut unknown = false;
        let mut any = false;
        let mut visit = |pair: Option<(Option<&str>, &str)>| {
            if let Some((system, code)) = pair {
                n += 1;
                match p.member(vs, system, code) {
                    Member::Yes => any = true,
                    Member::Unknown => unknown = true,
                    Member::No => {}
                }
            }
        };
        match ty {
            "code" | "string" | "uri" => visit(v.as_str().map(|c| (None, c))),
            "Coding" => visit(coding_pair(v)),
            "CodeableConcept" => {
                if let Some(a) = v.at_key("coding").and_then(Value::as_array) {
                    for c in a {
                        visit(coding_pair(c));
                    }
                }
            }
            _ => return,
        }
        if n == 0 {
            if ty == "CodeableConcept" && strength == Strength::Required {
                // text only: not in the value set
                self.issue(
                    Severity::Error,
                    BINDING,
                    loc,
                    format!("{}: required binding to {vs} but no coding", what()),
                );
            }
            return;
        }
        if any {
            return;
        }
        if unknown {
            if self.info {
                self.issue(
                    Severity::Information,
                    BINDING_NOT_CHECKED,
                    loc,
                    format!(
                        "{}: {} binding to {vs} not checked (value set needs a terminology server)",
                        what(),
                        strength.as_str()
                    ),
                );
            }
            return;
        }
        let sev = match strength {
            Strength::Required => Severity::Error,
            Strength::Extensible => Severity::Warning,
            Strength::Preferred if !self.info => return,
            Strength::Preferred => Severity::Information,
        };
        self.issue(
            sev,
            BINDING,
            loc,
            format!(
                "{}: code not in {} value set {vs}",
                what(),
                strength.as_str()
            ),
        );
    }

    // ------------------------------------------------------------ profiles

    /// Check a resource (or datatype value) against a profile.
    fn profile(&mut self, p: &'static Profile, url: &str, res: &'a Value, loc: &Loc<'_>) {
        let key = (res as *const Value as usize, p as *const Profile as usize);
        if !self.checked.insert(key) {
            return;
        }
        let Some(obj) = res.as_object() else { return };
        self.children(&p.root, obj, loc, url);
    }

    fn children(
        &mut self,
        node: &'static Node,
        obj: &'a Map<String, Value>,
        loc: &Loc<'_>,
        url: &str,
    ) {
        let sig = KeySig::of(obj);
        let underscores = sig.underscores;
        for child in &node.c {
            // Most profile elements are absent from most instances: rule
            // them out on length and first byte (choices: a key longer
            // than the stem) against a summary of the object's keys.
            let (len, first) = child.key;
            if !sig.maybe(first, len, child.choice) {
                if child.needed {
                    self.node(child, &[], loc, url);
                }
                continue;
            }
            let mut items = self.item_pool.pop().unwrap_or_default();
            collect_into(obj, child, underscores, &mut items);
            self.node(child, &items, loc, url);
            items.clear();
            self.item_pool.push(items);
        }
    }

    fn node(&mut self, node: &'static Node, items: &[Item<'a>], parent: &Loc<'_>, url: &str) {
        let short = Short(url);
        let name = &node.n;
        if node.maxn == 0 {
            for it in items {
                self.issue(
                    Severity::Error,
                    PROFILE_CARDINALITY,
                    it.loc(parent),
                    format!("{name} is prohibited (0..0) by {short}"),
                );
            }
            return;
        }
        if (items.len() as u32) < node.min {
            self.issue(
                Severity::Error,
                PROFILE_CARDINALITY,
                parent,
                format!(
                    "{name}: {short} requires at least {} (found {})",
                    node.min,
                    items.len()
                ),
            );
        }
        if let Some(max) = node.max_n() {
            if items.len() > max {
                self.issue(
                    Severity::Error,
                    PROFILE_CARDINALITY,
                    items[max].loc(parent),
                    format!(
                        "{name}: {short} allows at most {max} (found {})",
                        items.len()
                    ),
                );
            }
        }
        for it in items {
            self.node_value(node, it, parent, url);
        }
        if !node.ss.is_empty() {
            self.slices(node, items, parent, url);
        }
    }

    fn slices(&mut self, node: &'static Node, items: &[Item<'a>], parent: &Loc<'_>, url: &str) {
        let short = Short(url);
        let Some(sl) = &node.sl else { return };
        // The slice each item falls in (u32::MAX: none).
        let mut hits: Vec<u32> = Vec::with_capacity(items.len());
        let mut unmatched_seen = false;
        let mut last_slice = 0u32;
        let mut found: Vec<Vec<&Value>> = vec![Vec::new(); sl.d.len()];
        for it in items {
            // The instance values at each discriminator path, once per item.
            for (f, (_, path)) in found.iter_mut().zip(&sl.d) {
                f.clear();
                values_at(it.value, path, f);
            }
            let hit = node
                .ss
                .iter()
                .position(|s| slice_matches(s, sl, it, &found));
            match hit {
                Some(si) => {
                    hits.push(si as u32);
                    if sl.r == "openAtEnd" && unmatched_seen {
                        self.issue(
                            Severity::Error,
                            PROFILE_SLICE,
                            it.loc(parent),
                            format!(
                                "{} slice {} must come before the unsliced {} (openAtEnd slicing of {short})",
                                node.n,
                                node.ss[si].s.as_deref().unwrap_or("?"),
                                node.n
                            ),
                        );
                    }
                    if sl.o && (si as u32) < last_slice {
                        self.issue(
                            Severity::Error,
                            PROFILE_SLICE,
                            it.loc(parent),
                            format!(
                                "{} slices are out of the order {short} requires (ordered slicing)",
                                node.n
                            ),
                        );
                    }
                    last_slice = last_slice.max(si as u32);
                }
                None => {
                    unmatched_seen = true;
                    hits.push(u32::MAX);
                    if sl.r == "closed" {
                        self.issue(
                            Severity::Error,
                            PROFILE_SLICE,
                            it.loc(parent),
                            format!("{} matches no slice of {short} (closed slicing)", node.n),
                        );
                    }
                }
            }
        }
        for (si, s) in node.ss.iter().enumerate() {
            let matched = || {
                hits.iter()
                    .enumerate()
                    .filter(move |(_, h)| **h == si as u32)
                    .map(|(i, _)| i)
            };
            let count = matched().count();
            if count == 0 && s.min == 0 {
                continue;
            }
            let sname = s.s.as_deref().unwrap_or("?");
            if (count as u32) < s.min {
                self.issue(
                    Severity::Error,
                    PROFILE_SLICE,
                    parent,
                    format!(
                        "{}:{sname}: {short} requires at least {} (found {count})",
                        node.n, s.min
                    ),
                );
            }
            if let Some(max) = s.max_n() {
                if count > max {
                    if max == 0 {
                        for i in matched() {
                            self.issue(
                                Severity::Error,
                                PROFILE_SLICE,
                                items[i].loc(parent),
                                format!("{}:{sname} is prohibited (0..0) by {short}", node.n),
                            );
                        }
                        continue;
                    }
                    if let Some(i) = matched().nth(max) {
                        self.issue(
                            Severity::Error,
                            PROFILE_SLICE,
                            items[i].loc(parent),
                            format!(
                                "{}:{sname}: {short} allows at most {max} (found {count})",
                                node.n
                            ),
                        );
                    }
                }
            }
            for i in matched() {
                self.node_value(s, &items[i], parent, url);
            }
        }
    }

    fn node_value(&mut self, node: &'static Node, it: &Item<'a>, parent: &Loc<'_>, url: &str) {
        let here = it.loc(parent);
        let short = Short(url);
        let label = || match &node.s {
            Some(s) => format!("{}:{s}", node.n),
            None => node.n.clone(),
        };
        // The value's type: from a choice key, or from core.
        let choice_stem = node.choice_stem();
        let suffix = choice_stem.and_then(|st| it.type_suffix(st));
        // `valueString` -> `string` (a primitive), `valueQuantity` -> `Quantity`.
        let ty: Option<&str> = suffix.map(|s| core().primitive_of_suffix(s).unwrap_or(s));
        if let (Some(allowed), Some(ty)) = (&node.t, ty) {
            if !allowed.iter().any(|a| super::scan::same(a, ty)) {
                self.issue(
                    Severity::Error,
                    PROFILE_TYPE,
                    here,
                    format!(
                        "{}: type {ty} not allowed by {short} (allowed: {})",
                        label(),
                        allowed.join(", ")
                    ),
                );
                return;
            }
        }
        if let Some(f) = &node.f {
            if !it.value.is_null() && !json_eq(it.value, f) {
                self.issue(
                    Severity::Error,
                    PROFILE_FIXED,
                    here,
                    format!("{}: value differs from the value fixed by {short}", label()),
                );
            }
        }
        if let Some(p) = &node.p {
            if !it.value.is_null() && !contains(it.value, p) {
                self.issue(
                    Severity::Error,
                    PROFILE_PATTERN,
                    here,
                    format!("{}: value does not match the pattern of {short}", label()),
                );
            }
        }
        if let Some(b) = &node.b {
            let vty = ty.unwrap_or_else(|| value_kind_type(it.value));
            self.binding(b.0, &b.1, vty, it.value, &here, &|| {
                format!("{} ({short})", label())
            });
        }
        if let Some(targets) = &node.tg {
            self.reference_target(it, &here, targets, &node.tgx, &label, short);
        }
        if let Some(prs) = &node.pr {
            let p = profiles();
            for ((tcode, urls), ixs) in prs.iter().zip(&node.prx) {
                if super::scan::same(tcode, "Extension") {
                    let actual = it.value.at_key("url").and_then(Value::as_str);
                    for (u, ix) in urls.iter().zip(ixs) {
                        if actual.is_some_and(|a| super::scan::same(a, u)) {
                            if let Some(i) = ix {
                                self.profile(p.by_index(*i), u, it.value, &here);
                            }
                        }
                    }
                } else if ty.is_none_or(|t| t == tcode) {
                    for (u, ix) in urls.iter().zip(ixs) {
                        if let Some(i) = ix {
                            self.profile(p.by_index(*i), u, it.value, &here);
                        }
                    }
                }
            }
        }
        if !node.c.is_empty() {
            let target = match it.value {
                Value::Object(o) => Some(o),
                _ => it.ext.and_then(Value::as_object),
            };
            match target {
                Some(o) => self.children(node, o, &here, url),
                None => {
                    // A primitive without `_x`: only min > 0 children matter.
                    for c in &node.c {
                        if c.min > 0 && c.n != "value" {
                            self.issue(
                                Severity::Error,
                                PROFILE_CARDINALITY,
                                here,
                                format!("{}: {short} requires at least {} (found 0)", c.n, c.min),
                            );
                        }
                    }
                }
            }
        }
    }

    fn reference_target(
        &mut self,
        it: &Item<'a>,
        here: &Loc<'_>,
        targets: &[String],
        resolved: &[(Option<String>, bool)],
        label: &dyn Fn() -> String,
        short: Short<'_>,
    ) {
        let Some(reference) = it.value.at_key("reference").and_then(Value::as_str) else {
            return;
        };
        let Some(t) = self.resolve(reference) else {
            return;
        };
        let rt = t
            .resource
            .at_key("resourceType")
            .and_then(Value::as_str)
            .unwrap_or("");
        // Iterators, not vectors: no allocation unless an issue is raised.
        let allowed = || resolved.iter().filter_map(|(t, _)| t.as_deref());
        if allowed().any(|a| a == "Resource") {
            return;
        }
        if !allowed().any(|a| a == rt) {
            let list: Vec<&str> = allowed().collect();
            self.issue(
                Severity::Error,
                REFERENCE_TARGET,
                format!("{here}.reference"),
                format!(
                    "{}: {short} allows references to {} only, found {rt}",
                    label(),
                    dedup(&list).join(", ")
                ),
            );
            return;
        }
        // Same type: the target must conform to one of the profiles of its type.
        let declared: &[Value] = t
            .resource
            .at_key("meta")
            .and_then(|m| m.at_key("profile"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let is_declared = |u: &str| {
            declared
                .iter()
                .filter_map(Value::as_str)
                .any(|d| super::scan::same(d, u))
        };
        let for_type = || {
            targets
                .iter()
                .zip(resolved)
                .filter(|(_, (t, _))| t.as_deref() == Some(rt))
                .map(|(u, (_, known))| (u, *known))
        };
        if for_type().any(|(u, _)| is_declared(u)) || for_type().any(|(_, known)| !known) {
            return;
        }
        if let Some((u, _)) = for_type().next() {
            self.deferred.push((t, (*u).clone()));
        }
    }

    /// Resolve a reference in the innermost bundle (or a contained id).
    pub(crate) fn resolve(&self, reference: &str) -> Option<Target<'a>> {
        let idx = self.bundles.last()?;
        idx.get(reference)
    }

    pub(crate) fn contained_ids(&self) -> Option<&FastSet<String>> {
        self.contained.last()
    }
}

/// [`xml_strictness`] of a div the narrative checker passed, given its
/// `unusual` answer ([`crate::narrative::check::check_xhtml_scan`]). With
/// no `]` there is no `]]>`; with no `<!` construct every `<` the strict
/// scan meets opens a tag the checker read, ending at the same `>` (both
/// skip quoted regions), and every quoted region of a tag that passed the
/// checker is an attribute value it read: so with no `<` in those values
/// the scan finds nothing, and is skipped.
fn strictness_after_check(div: &str, unusual: bool) -> Option<&'static str> {
    if unusual || memchr::memchr(b']', div.as_bytes()).is_some() {
        xml_strictness(div)
    } else {
        None
    }
}

/// Two XML 1.0 well-formedness rules the narrative checker (which keeps
/// quick-xml's leniency) does not apply: no raw `<` in an attribute value,
/// no `]]>` in character data. One pass over the bytes, eight at a time;
/// comments, CDATA sections and processing instructions are skipped.
fn xml_strictness(div: &str) -> Option<&'static str> {
    const LT_IN_VALUE: &str = "'<' in an attribute value";
    let b = div.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let j = find3(b, i, b'<', b']', b']')?;
        if b[j] == b']' {
            if b[j..].starts_with(b"]]>") {
                return Some("']]>' in text");
            }
            i = j + 1;
            continue;
        }
        if b[j..].starts_with(b"<!--") {
            i = find(b, j + 4, b"-->")? + 3;
        } else if b[j..].starts_with(b"<![CDATA[") {
            i = find(b, j + 9, b"]]>")? + 3;
        } else if b.get(j + 1).is_some_and(|&c| c == b'?' || c == b'!') {
            i = find(b, j + 2, b">")? + 1;
        } else {
            // A tag: quoted values may not hold '<'.
            let mut k = j + 1;
            loop {
                let p = find3(b, k, b'>', b'"', b'\'')?;
                if b[p] == b'>' {
                    i = p + 1;
                    break;
                }
                let q = b[p];
                // One scan for the closing quote or a '<' before it: a '<'
                // first is inside the value (or, with no closing quote,
                // after the opening one): reported either way.
                match find3(b, p + 1, q, b'<', q) {
                    None => return None,
                    Some(e) if b[e] == b'<' => return Some(LT_IN_VALUE),
                    Some(e) => k = e + 1,
                }
            }
        }
    }
    None
}

// Byte searches eight bytes at a time, shared with the narrative checker.
use crate::narrative::check::{find1, find3};

/// First index `>= from` where `pat` starts.
fn find(b: &[u8], mut from: usize, pat: &[u8]) -> Option<usize> {
    let (&first, _) = pat.split_first()?;
    loop {
        let p = find1(b, from, first)?;
        if b[p..].starts_with(pat) {
            return Some(p);
        }
        from = p + 1;
    }
}

/// The last segment of a profile URL, computed only when displayed.
#[derive(Clone, Copy)]
struct Short<'u>(&'u str);

impl std::fmt::Display for Short<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.rsplit('/').next().unwrap_or(self.0))
    }
}

fn dedup<'s>(v: &[&'s str]) -> Vec<&'s str> {
    let mut out: Vec<&str> = Vec::new();
    for s in v {
        if !out.contains(s) {
            out.push(s);
        }
    }
    out
}

pub(crate) fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

fn value_kind_type(v: &Value) -> &'static str {
    if v.at_key("coding").is_some() || v.at_key("text").is_some() {
        "CodeableConcept"
    } else if v.at_key("code").is_some() || v.at_key("system").is_some() {
        "Coding"
    } else {
        "code"
    }
}

fn coding_pair(v: &Value) -> Option<(Option<&str>, &str)> {
    let code = v.at_key("code")?.as_str()?;
    Some((v.at_key("system").and_then(Value::as_str), code))
}

/// Equality where numbers compare by value (1.0 == 1).
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => super::scan::same(x, y),
        (Value::Number(x), Value::Number(y)) => {
            x.to_string() == y.to_string() || x.as_f64() == y.as_f64()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.at_key(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Pattern containment: every member of the pattern is in the value
/// (arrays: every pattern item matched by some value item).
fn contains(v: &Value, p: &Value) -> bool {
    match (v, p) {
        (Value::Object(vo), Value::Object(po)) => po
            .iter()
            .all(|(k, pv)| vo.at_key(k).is_some_and(|vv| contains(vv, pv))),
        (Value::Array(va), Value::Array(pa)) => {
            pa.iter().all(|pi| va.iter().any(|vi| contains(vi, pi)))
        }
        (Value::Array(va), po @ Value::Object(_)) => va.iter().any(|vi| contains(vi, po)),
        _ => json_eq(v, p),
    }
}

/// Values at a dotted path in an instance value.
fn values_at<'v>(v: &'v Value, path: &str, out: &mut Vec<&'v Value>) {
    if path == "$this" || path.is_empty() {
        match v {
            Value::Array(a) => out.extend(a.iter()),
            other => out.push(other),
        }
        return;
    }
    // A byte scan: paths are short, and '.' is ASCII.
    let (head, rest) = match path.bytes().position(|c| c == b'.') {
        Some(p) => (&path[..p], &path[p + 1..]),
        None => (path, ""),
    };
    match v {
        Value::Array(a) => {
            for i in a {
                values_at(i, path, out);
            }
        }
        Value::Object(o) => {
            if let Some(next) = o.at_key(head) {
                values_at(next, rest, out);
            }
        }
        _ => {}
    }
}

fn slice_matches(
    slice: &Node,
    sl: &super::profiles::Slicing,
    it: &Item<'_>,
    found: &[Vec<&Value>],
) -> bool {
    for (di, (dtype, _)) in sl.d.iter().enumerate() {
        let here = found.get(di).map(Vec::as_slice).unwrap_or(&[]);
        match dtype.as_str() {
            "value" | "pattern" => {
                let Some(Some(expected)) = slice.dv.get(di) else {
                    return false;
                };
                let ok = if dtype == "value" {
                    here.iter().any(|f| json_eq(f, expected))
                } else {
                    here.iter().any(|f| contains(f, expected))
                };
                if !ok {
                    return false;
                }
            }
            "exists" => {
                let want = slice.min > 0;
                if here.is_empty() == want {
                    return false;
                }
            }
            "type" => {
                if let Some(t) = &slice.t {
                    let stem = slice.n.trim_end_matches("[x]");
                    let suffix = it.type_suffix(stem).map(lower_first);
                    if !t.iter().any(|x| Some(lower_first(x)) == suffix) {
                        return false;
                    }
                }
            }
            _ => return false,
        }
    }
    true
}

/// Index a Bundle's entries by fullUrl and by `Type/id`.
fn index_bundle(obj: &Map<String, Value>, bundle: usize) -> BundleIdx<'_> {
    let mut idx = BundleIdx::default();
    let Some(entries) = obj.at_key("entry").and_then(Value::as_array) else {
        return idx;
    };
    idx.by_url.reserve(entries.len());
    idx.by_type_id.reserve(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let Some(res) = e.at_key("resource") else {
            continue;
        };
        let t = Target {
            resource: res,
            bundle,
            entry: i,
        };
        if let Some(u) = e.at_key("fullUrl").and_then(Value::as_str) {
            idx.by_url.entry(u).or_insert(t);
        }
        if let (Some(rt), Some(id)) = (
            res.at_key("resourceType").and_then(Value::as_str),
            res.at_key("id").and_then(Value::as_str),
        ) {
            idx.by_type_id.entry((rt, id)).or_insert(t);
        }
    }
    idx
}

/// Validate one resource (any type, typically a message or document
/// Bundle) against core STU3 and its declared profiles.
pub fn validate_instance(v: &Value) -> Vec<Issue> {
    instance_issues(v, true)
}

/// [`validate_instance`], optionally without information issues.
pub(crate) fn instance_issues(v: &Value, info: bool) -> Vec<Issue> {
    let mut w = Walker::new();
    w.info = info;
    let loc = v
        .at_key("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("Resource")
        .to_string();
    w.resource(v, &Loc::root(&loc), true);
    w.issues
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn edge_whitespace_is_the_char_test() {
        let edges = [
            "", " ", "\t", "\n", "\u{b}", "\u{c}", "\r", "\u{1c}", "\u{85}", "\u{a0}", "\u{2003}",
            "\u{3000}", "\u{feff}", "x", "é", "日", "-",
        ];
        for a in edges {
            for mid in ["", "a", " ", "é b"] {
                for z in edges {
                    let s = format!("{a}{mid}{z}");
                    let want =
                        s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace);
                    assert_eq!(edge_whitespace(&s), want, "{s:?}");
                }
            }
        }
        for c in (0..=0x3000u32).filter_map(char::from_u32) {
            let s = c.to_string();
            assert_eq!(edge_whitespace(&s), c.is_whitespace(), "{c:?}");
        }
    }

    fn rules_at(v: &Value) -> Vec<(String, &'static str, String)> {
        validate_instance(v)
            .into_iter()
            .filter(|i| i.severity.is_blocking())
            .map(|i| (i.severity.to_string(), i.rule, i.location))
            .collect()
    }

    #[test]
    fn core_json_rules() {
        let p = json!({"resourceType": "Patient", "nmae": [{"family": "X"}]});
        assert_eq!(
            rules_at(&p),
            vec![("error".into(), UNKNOWN_ELEMENT, "Patient.nmae".into())]
        );
        let p = json!({"resourceType": "Patient", "name": {"family": "X"}});
        assert_eq!(rules_at(&p)[0].1, JSON_SHAPE);
        let p = json!({"resourceType": "Patient", "name": []});
        assert_eq!(rules_at(&p)[0].1, JSON_EMPTY);
        let p = json!({"resourceType": "Patient", "active": "yes"});
        assert_eq!(
            rules_at(&p)[0],
            ("error".into(), PRIMITIVE_FORMAT, "Patient.active".into())
        );
        let p = json!({"resourceType": "Patient", "birthDate": "01/01/1970"});
        assert_eq!(rules_at(&p)[0].1, PRIMITIVE_FORMAT);
        let p = json!({"resourceType": "Patient", "gender": "F"});
        assert_eq!(
            rules_at(&p)[0],
            ("error".into(), BINDING, "Patient.gender".into())
        );
        let p = json!({"resourceType": "Patient", "id": "bad id!"});
        assert_eq!(rules_at(&p)[0].1, PRIMITIVE_FORMAT);
        let p = json!({"resourceType": "Patient", "birthDate": "1970-01-01", "_birthDate": {"extension": [{"url": "http://x", "valueString": "y"}]}});
        assert!(rules_at(&p).is_empty(), "{:?}", rules_at(&p));
        let p = json!({"resourceType": "Practicioner"});
        assert_eq!(
            rules_at(&p)[0],
            ("fatal".into(), RESOURCE_TYPE, "Practicioner".into())
        );
    }

    #[test]
    fn required_elements_reported_at_parent() {
        let b = json!({"resourceType": "Bundle"});
        assert_eq!(
            rules_at(&b),
            vec![("error".into(), CARDINALITY, "Bundle".into())]
        );
        let c = json!({"resourceType": "Composition", "status": "final", "type": {"text": "x"},
            "date": "2020-01-01", "author": [{"reference": "x"}], "title": "t",
            "relatesTo": [{"code": "replaces", "targetIdentifier": {"value": "1"}}]});
        // subject missing; relatesTo.target[x] satisfied by targetIdentifier
        assert_eq!(
            rules_at(&c),
            vec![("error".into(), CARDINALITY, "Composition".into())]
        );
    }

    #[test]
    fn narrative_well_formedness_beyond_the_checker() {
        let div =
            |inner: &str| format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{inner}</div>");
        assert_eq!(xml_strictness(&div("<p title=\"a&lt;b\">x</p>")), None);
        assert_eq!(xml_strictness(&div("<!-- a<b ]]> --><p>x</p>")), None);
        assert_eq!(xml_strictness(&div("<p><![CDATA[a<b]]></p>")), None);
        assert!(xml_strictness(&div("<p title=\"a<b\">x</p>")).is_some());
        assert!(xml_strictness(&div("<p title='a<b'>x</p>")).is_some());
        assert!(xml_strictness(&div("<p>a ]]> b</p>")).is_some());
        let p = json!({"resourceType": "Basic", "code": {"text": "x"},
            "text": {"status": "generated", "div": div("<p>a ]]> b</p>")}});
        assert_eq!(
            rules_at(&p),
            vec![("error".into(), XHTML, "Basic.text.div".into())]
        );
    }

    /// The byte-at-a-time implementation `xml_strictness` replaced.
    fn xml_strictness_reference(div: &str) -> Option<&'static str> {
        fn find(b: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
            b.get(from..)?
                .windows(pat.len())
                .position(|w| w == pat)
                .map(|p| p + from)
        }
        let b = div.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'<' if b[i..].starts_with(b"<!--") => {
                    i = find(b, i + 4, b"-->")? + 3;
                }
                b'<' if b[i..].starts_with(b"<![CDATA[") => {
                    i = find(b, i + 9, b"]]>")? + 3;
                }
                b'<' if b.get(i + 1).is_some_and(|&c| c == b'?' || c == b'!') => {
                    i = find(b, i + 2, b">")? + 1;
                }
                b'<' => {
                    i += 1;
                    while i < b.len() && b[i] != b'>' {
                        if b[i] == b'"' || b[i] == b'\'' {
                            let q = b[i];
                            i += 1;
                            while i < b.len() && b[i] != q {
                                if b[i] == b'<' {
                                    return Some("'<' in an attribute value");
                                }
                                i += 1;
                            }
                        }
                        i += 1;
                    }
                    i += 1;
                }
                b']' if b[i..].starts_with(b"]]>") => return Some("']]>' in text"),
                _ => i += 1,
            }
        }
        None
    }

    proptest::proptest! {
        #[test]
        fn xml_strictness_agrees_with_the_byte_loop(
            s in r#"([<>"'\]!?\-\[CDAT a=/]|<!--|-->|<!\[CDATA\[|\]\]>|<p title=|x{8}){0,24}"#
        ) {
            proptest::prop_assert_eq!(xml_strictness(&s), xml_strictness_reference(&s), "{:?}", s);
        }
    }

    /// Markup pieces, many of which combine into divs the checker passes.
    const PIECES: &[&str] = &[
        "<p>x</p>",
        "<p title=\"a&lt;b\">x</p>",
        "<p title=\"a<b\">x</p>",
        "<p title='a<b'>x</p>",
        "<p title='it\"s'>x</p>",
        "<p title=\"]]>\">y</p>",
        "<span class=\"c\" title=\"t\">s</span>",
        "<br/>",
        "<!-- a<b\"c -->",
        "<!-- ]]> -->",
        "<![CDATA[a<b]]>",
        "x",
        " ",
        "'",
        "\"",
        "]",
        "]]>",
        "&amp;",
        "<p>",
        "</p>",
        "<p title=\"",
        "\">",
        "<",
        ">",
        "</p a=\"<\">",
        "<?pi x?>",
        "<table><tbody><tr><td colspan=\"1\" rowspan=\"1\">c</td></tr></tbody></table>",
        "<td colspan=\"1\" rowspan=\"<\">",
        "</td>",
        "<p a=\"1\" b=\"2\" c=\"3\" d=\"4\" e=\"5\" f=\"6\" g=\"7\" h=\"8\" i=\"<\">x</p>",
        "<p title=\"a\" title=\"<\">x</p>",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]
        /// Skipping the strict scan never changes its answer on a div the
        /// checker passes.
        #[test]
        fn strictness_after_check_is_the_strict_scan(
            parts in proptest::collection::vec(proptest::sample::select(PIECES), 0..10),
            bom in proptest::bool::ANY,
        ) {
            let div = format!(
                "{}<div xmlns=\"http://www.w3.org/1999/xhtml\">{}</div>",
                if bom { "\u{feff}" } else { "" },
                parts.concat()
            );
            let (problems, unusual) = crate::narrative::check::check_xhtml_scan(&div);
            if problems.is_empty() {
                proptest::prop_assert_eq!(
                    strictness_after_check(&div, unusual),
                    xml_strictness(&div),
                    "{:?}",
                    div
                );
            }
        }
    }

    #[test]
    fn strictness_after_check_on_cases() {
        let mut passed = 0;
        for inner in PIECES.iter().copied().chain([
            "<p title=\"a<b\">x</p>",
            "<p>a ]]> b</p>",
            "<!-- <a b=\"<\"> --><p>x</p>",
        ]) {
            let div = format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{inner}</div>");
            let (problems, unusual) = crate::narrative::check::check_xhtml_scan(&div);
            if problems.is_empty() {
                passed += 1;
                assert_eq!(
                    strictness_after_check(&div, unusual),
                    xml_strictness(&div),
                    "{div}"
                );
            }
        }
        assert!(passed >= 8, "{passed}");
        // The two findings still come through.
        let lt = "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p title=\"a<b\">x</p></div>";
        let (p, unusual) = crate::narrative::check::check_xhtml_scan(lt);
        assert!(p.is_empty() && unusual);
        assert!(strictness_after_check(lt, unusual).is_some());
    }

    #[test]
    fn xml_strictness_agrees_on_cases() {
        for s in [
            "",
            "<",
            "]]>",
            "<p a=\"x<\"",
            "<p a=\"x",
            "<p a=\"x<",
            "<p a='x'>]]</p>]]>",
            "<!-- <a href=\"<\"> -->",
            "<!-- unterminated <a b=\"<\">",
            "<![CDATA[ ]]> ]]>",
            "<?pi <a b=\"<\"?> ]]>",
            "<!DOCTYPE x> <a b='<'>",
            "<a b=\"1\" c='2' d=\"'<'\">",
            "<a b='\"' c=\"<\">",
            "0123456789<abcdefghij b=\"0123456789<\">",
        ] {
            assert_eq!(xml_strictness(s), xml_strictness_reference(s), "{s:?}");
        }
    }

    #[test]
    fn declared_profile_of_another_type() {
        let p = json!({"resourceType": "Patient",
            "meta": {"profile": ["https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Practitioner-1"]}});
        assert_eq!(
            rules_at(&p),
            vec![(
                "error".into(),
                PROFILE_TYPE,
                "Patient.meta.profile[0]".into()
            )]
        );
    }

    #[test]
    fn profile_rules() {
        let p = json!({"resourceType": "Patient",
            "meta": {"profile": ["https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1"]},
            "name": [{"use": "official", "family": "X"}],
            "animal": {"species": {"text": "dog"}}});
        assert_eq!(
            rules_at(&p),
            vec![("error".into(), PROFILE_CARDINALITY, "Patient.animal".into())]
        );
        // The official name slice is 1..1.
        let p = json!({"resourceType": "Patient",
            "meta": {"profile": ["https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1"]},
            "name": [{"use": "usual", "family": "X"}]});
        assert_eq!(
            rules_at(&p),
            vec![("error".into(), PROFILE_SLICE, "Patient".into())]
        );
    }
}
