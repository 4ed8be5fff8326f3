//! The core STU3 element table, reshaped once for the validator's walk.
//!
//! # Why
//!
//! The walk visits every member of every object. Looking up, per member,
//! the owner's table by name, the type's kind by name, the core binding by
//! owner and element name, and the primitive's format by type name was a
//! large share of validation; here each owner and element gets those
//! answers precomputed, so the walk follows references instead of hashing
//! strings. Everything is derived from [`crate::fhir::defs`] and the
//! compiled profiles' core bindings; nothing is added.

use std::sync::OnceLock;

use regex::Regex;

use super::formats::Fmt;
use super::profiles::{profiles, Binding};
use crate::fhir::defs::{defs, Elem, FastMap, Owner, TypeKind};

/// How a primitive's lexical form is checked.
#[derive(Clone, Copy)]
pub(crate) enum Prim {
    /// `boolean`: a JSON boolean.
    Boolean,
    /// `integer`, `positiveInt`, `unsignedInt`, `decimal`: a JSON number.
    Number(Fmt),
    /// `xhtml`: the narrative checker.
    Xhtml,
    /// `string`, `markdown`: no whitespace or format rule.
    Text,
    /// A string type with a hand-written format check.
    Format(Fmt),
    /// A string type with the STU3 regex (or none).
    Regex(Option<&'static Regex>),
}

/// What a value of an element is.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// A backbone element (or contentReference): an object of that owner.
    Backbone(u32),
    /// A primitive.
    Primitive(Prim),
    /// An inline resource.
    Resource,
    /// A complex datatype (or anything else): an object of that owner.
    Complex(u32),
}

/// One element of an owner, with its precomputed facts.
pub(crate) struct ElemInfo {
    pub elem: &'static Elem,
    /// First type code (`Element` when none).
    pub ty: &'static str,
    pub kind: Kind,
    /// Core binding of `owner.name`.
    pub binding: Option<&'static Binding>,
    /// For a `_name` member: whether the type is primitive.
    pub primitive: bool,
}

/// A required element (min > 0): its choice stem, and how it is shown.
pub(crate) struct Required {
    pub elem: &'static Elem,
    pub stem: &'static str,
    pub shown: String,
}

/// An open-addressed table of an owner's element names (a few cheap byte
/// reads instead of hashing every member name of every object walked):
/// slot -> name and index into [`OwnerInfo::elems`], `u16::MAX` when empty.
struct NameTable {
    shift: u32,
    /// Each slot's name (read without following the element) and index.
    slots: Vec<(&'static str, u16)>,
}

impl NameTable {
    /// The slot a name starts probing at: length, first, middle and last
    /// bytes, multiplied through.
    #[inline]
    fn home(&self, b: &[u8]) -> usize {
        let n = b.len();
        let x = match n {
            0 => 0u64,
            _ => {
                (n as u64)
                    | (u64::from(b[0]) << 8)
                    | (u64::from(b[n / 2]) << 16)
                    | (u64::from(b[n - 1]) << 24)
            }
        };
        (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    fn build(elems: &[ElemInfo]) -> NameTable {
        // At most half full: short probe sequences.
        let mut bits = 2u32;
        while (1usize << bits) < elems.len() * 2 {
            bits += 1;
        }
        let mut t = NameTable {
            shift: 64 - bits,
            slots: vec![("", u16::MAX); 1 << bits],
        };
        let mask = t.slots.len() - 1;
        for (i, e) in elems.iter().enumerate() {
            // A repeated name keeps its last element, like the map of
            // `Owner::get` (the table has none).
            let name = e.elem.name;
            let mut h = t.home(name.as_bytes());
            while t.slots[h].1 != u16::MAX && t.slots[h].0 != name {
                h = (h + 1) & mask;
            }
            t.slots[h] = (name, i as u16);
        }
        t
    }
}

/// One owner (type name or backbone path).
pub(crate) struct OwnerInfo {
    pub name: &'static str,
    /// The elements by name.
    names: NameTable,
    /// Parallel to the owner's elements (by `Elem::order`).
    pub elems: Vec<ElemInfo>,
    pub required: Vec<Required>,
    /// A concrete resource type (its `resourceType` member is not an element).
    pub is_resource: bool,
    /// [`super::invariants::has_element_rules`] for this owner.
    pub element_rules: bool,
}

impl OwnerInfo {
    /// The element named `name` and its facts.
    #[inline]
    pub fn get(&self, name: &str) -> Option<&ElemInfo> {
        let t = &self.names;
        let mask = t.slots.len() - 1;
        let mut h = t.home(name.as_bytes());
        loop {
            let &(n, i) = t.slots.get(h)?;
            if i == u16::MAX {
                return None;
            }
            if super::scan::same(n, name) {
                return self.elems.get(i as usize);
            }
            h = (h + 1) & mask;
        }
    }
}

/// The whole reshaped table.
pub(crate) struct Core {
    by_name: FastMap<&'static str, u32>,
    owners: Vec<OwnerInfo>,
    /// Primitive type names by their capitalised form (`String` -> `string`),
    /// for choice-key suffixes.
    prim_by_suffix: FastMap<String, &'static str>,
}

impl Core {
    /// An owner by id.
    #[inline]
    pub fn owner(&self, id: u32) -> &OwnerInfo {
        &self.owners[id as usize]
    }

    /// The primitive type a choice-key suffix names (`DateTime` ->
    /// `dateTime`): the suffix with its first letter lower-cased, when
    /// that is a primitive type (exact for suffixes starting with an ASCII
    /// letter, which are all a choice key can have).
    #[inline]
    pub fn primitive_of_suffix(&self, suffix: &str) -> Option<&'static str> {
        self.prim_by_suffix.get(suffix).copied()
    }

    /// An owner id by name (type name or backbone path).
    pub fn id(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }
}

/// The STU3 primitive regexes the hand-written checks do not cover.
fn primitive_regex(ty: &str) -> Option<Regex> {
    let re = match ty {
        "code" | "date" | "dateTime" | "decimal" | "id" | "integer" | "oid" | "positiveInt"
        | "time" | "unsignedInt" | "uuid" => defs().primitive_regex(ty)?.to_string(),
        // instant: the table has no regex; FHIR requires a full date-time
        // with seconds and an offset.
        "instant" => r"-?[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))".to_string(),
        "uri" => r"\S*".to_string(),
        _ => return None,
    };
    Regex::new(&format!("^(?:{re})$")).ok()
}

fn regex_for(ty: &str) -> Option<&'static Regex> {
    static CACHE: OnceLock<FastMap<&'static str, Regex>> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            let mut m = FastMap::default();
            for ty in [
                "code",
                "date",
                "dateTime",
                "decimal",
                "id",
                "integer",
                "oid",
                "positiveInt",
                "time",
                "unsignedInt",
                "uuid",
                "instant",
                "uri",
            ] {
                if let Some(re) = primitive_regex(ty) {
                    m.insert(ty, re);
                }
            }
            m
        })
        .get(ty)
}

/// The check of a primitive type.
pub(crate) fn prim(ty: &str) -> Prim {
    match ty {
        "boolean" => Prim::Boolean,
        "integer" | "positiveInt" | "unsignedInt" | "decimal" => match Fmt::of(ty) {
            Some(f) => Prim::Number(f),
            None => Prim::Regex(regex_for(ty)),
        },
        "xhtml" => Prim::Xhtml,
        "string" | "markdown" => Prim::Text,
        _ => match Fmt::of(ty) {
            Some(f) => Prim::Format(f),
            None => Prim::Regex(regex_for(ty)),
        },
    }
}

/// The reshaped table, built once.
pub(crate) fn core() -> &'static Core {
    static CORE: OnceLock<Core> = OnceLock::new();
    CORE.get_or_init(build)
}

fn stem<'n>(name: &'n str, ty: &str) -> &'n str {
    super::instance::stem(name, ty)
}

fn build() -> Core {
    let d = defs();
    let mut by_name: FastMap<&'static str, u32> = FastMap::default();
    let mut names: Vec<&'static str> = Vec::new();
    let mut intern = |n: &'static str, by_name: &mut FastMap<&'static str, u32>| -> u32 {
        *by_name.entry(n).or_insert_with(|| {
            names.push(n);
            (names.len() - 1) as u32
        })
    };
    let mut owner_list: Vec<(&'static str, &'static Owner)> = d.owners().collect();
    owner_list.sort_unstable_by_key(|(n, _)| *n);
    for (n, _) in &owner_list {
        intern(n, &mut by_name);
    }
    intern("Element", &mut by_name);
    // Every element's type, so each has an id (an unknown one gets an
    // empty owner: every member of it is unknown, as before).
    for (_, o) in &owner_list {
        for e in o.elems() {
            intern(e.types.first().copied().unwrap_or("Element"), &mut by_name);
        }
    }
    for r in d.resource_names() {
        intern(r, &mut by_name);
    }
    let owners: Vec<OwnerInfo> = names
        .iter()
        .map(|&name| {
            let table = d.owner(name);
            let elems: Vec<ElemInfo> = table
                .map(|t| t.elems())
                .unwrap_or(&[])
                .iter()
                .map(|e| {
                    let ty = e.types.first().copied().unwrap_or("Element");
                    let kind = if ty.contains('.') {
                        Kind::Backbone(by_name.get(ty).copied().unwrap_or(0))
                    } else {
                        match d.kind(ty) {
                            Some(TypeKind::Primitive) => Kind::Primitive(prim(ty)),
                            Some(TypeKind::Resource) => Kind::Resource,
                            _ => Kind::Complex(by_name.get(ty).copied().unwrap_or(0)),
                        }
                    };
                    ElemInfo {
                        elem: e,
                        ty,
                        kind,
                        binding: profiles().core_binding(name, e.name),
                        primitive: d.is_primitive(ty),
                    }
                })
                .collect();
            let required = table
                .map(|t| t.elems())
                .unwrap_or(&[])
                .iter()
                .filter(|e| e.min > 0)
                .map(|e| {
                    let ty = e.types.first().copied().unwrap_or("");
                    let st = stem(e.name, ty);
                    Required {
                        elem: e,
                        stem: st,
                        shown: if st != e.name {
                            format!("{st}[x]")
                        } else {
                            e.name.to_string()
                        },
                    }
                })
                .collect();
            OwnerInfo {
                name,
                names: NameTable::build(&elems),
                elems,
                required,
                is_resource: d.is_resource(name),
                element_rules: super::invariants::has_element_rules(name),
            }
        })
        .collect();
    // Every primitive is an owner in the table (its `_x` object has
    // id/extension); key each by its capitalised name, the inverse of
    // lower-casing the first letter of a suffix.
    let mut prim_by_suffix = FastMap::default();
    for (name, _) in &owner_list {
        if d.is_primitive(name) {
            let mut c = name.chars();
            if let Some(f) = c.next() {
                let cap: String = f.to_uppercase().chain(c).collect();
                if super::instance::lower_first(&cap) == *name {
                    prim_by_suffix.insert(cap, *name);
                }
                prim_by_suffix.insert(name.to_string(), *name);
            }
        }
    }
    Core {
        by_name,
        owners,
        prim_by_suffix,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_element_has_its_facts() {
        let c = core();
        let d = defs();
        for (name, o) in d.owners() {
            let oi = c.owner(c.id(name).unwrap());
            assert_eq!(oi.name, name);
            assert_eq!(oi.is_resource, d.is_resource(name));
            for e in o.elems() {
                let ei = oi.get(e.name).unwrap();
                assert_eq!(ei.elem, e);
                let ty = e.types.first().copied().unwrap_or("Element");
                assert_eq!(ei.ty, ty);
                assert_eq!(ei.primitive, d.is_primitive(ty));
                assert_eq!(
                    ei.binding.map(|b| &b.1),
                    profiles().core_binding(name, e.name).map(|b| &b.1)
                );
                match ei.kind {
                    Kind::Backbone(id) => {
                        assert!(ty.contains('.'));
                        assert_eq!(c.owner(id).name, ty);
                    }
                    Kind::Complex(id) => {
                        assert!(!ty.contains('.'));
                        assert_eq!(c.owner(id).name, ty);
                        assert!(!matches!(
                            d.kind(ty),
                            Some(TypeKind::Primitive | TypeKind::Resource)
                        ));
                    }
                    Kind::Primitive(_) => assert_eq!(d.kind(ty), Some(TypeKind::Primitive)),
                    Kind::Resource => assert_eq!(d.kind(ty), Some(TypeKind::Resource)),
                }
            }
            let req: Vec<&str> = oi.required.iter().map(|r| r.elem.name).collect();
            let want: Vec<&str> = o
                .elems()
                .iter()
                .filter(|e| e.min > 0)
                .map(|e| e.name)
                .collect();
            assert_eq!(req, want, "{name}");
        }
        assert!(c.id("Element").is_some());
    }

    #[test]
    fn resource_types_are_resource_owners() {
        let c = core();
        let d = defs();
        for r in d.resource_names() {
            let id = c.id(r).unwrap();
            assert_eq!(c.owner(id).is_resource, d.is_resource(r), "{r}");
            assert!(c.owner(id).is_resource, "{r}");
        }
        for (name, _) in d.owners() {
            let id = c.id(name).unwrap();
            assert_eq!(c.owner(id).is_resource, d.is_resource(name), "{name}");
        }
        assert!(c.id("Practicioner").is_none());
    }

    #[test]
    fn suffixes_name_primitives_like_lower_first() {
        let d = defs();
        let c = core();
        for (name, _) in d.owners() {
            let mut ch = name.chars();
            let Some(f) = ch.next() else { continue };
            for suffix in [
                f.to_uppercase().chain(ch.clone()).collect::<String>(),
                name.to_string(),
            ] {
                let lower = super::super::instance::lower_first(&suffix);
                let want = d.is_primitive(&lower).then_some(lower.as_str());
                assert_eq!(c.primitive_of_suffix(&suffix), want, "{suffix}");
            }
        }
        assert_eq!(c.primitive_of_suffix("DateTime"), Some("dateTime"));
        assert_eq!(c.primitive_of_suffix("Quantity"), None);
        assert_eq!(c.primitive_of_suffix(""), None);
    }

    #[test]
    fn primitive_checks_follow_the_type() {
        assert!(matches!(prim("boolean"), Prim::Boolean));
        assert!(matches!(prim("decimal"), Prim::Number(_)));
        assert!(matches!(prim("xhtml"), Prim::Xhtml));
        assert!(matches!(prim("markdown"), Prim::Text));
        assert!(matches!(prim("dateTime"), Prim::Format(_)));
        assert!(matches!(prim("oid"), Prim::Regex(Some(_))));
        assert!(matches!(prim("base64Binary"), Prim::Regex(None)));
    }
}
