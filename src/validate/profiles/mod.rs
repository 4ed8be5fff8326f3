//! The compiled profile table: every StructureDefinition the validator knows,
//! reduced to what each profile adds to core FHIR STU3, plus the value sets
//! its bindings name, expanded where they can be enumerated offline.
//!
//! # Why
//!
//! Issue 3 asks for rules *derived from* the official StructureDefinitions,
//! not typed by hand, embedded so neither the build nor a run needs
//! `../shared`. `tools/gen-profiles.py` reads the snapshots (CareConnect,
//! ITK3 messaging, Transfer of Care, the core extensions incl.
//! data-absent-reason) and writes `compiled.json`: a tree of element nodes
//! per profile (min/max, allowed types, target profiles, fixed and pattern
//! values, bindings, slicing and slices), pruned to the constraints. This
//! module parses it once (a few milliseconds) into the structs below.
//!
//! Sources and licences: HL7 FHIR STU3 3.0.1 core (CC0 1.0); NHS Digital
//! ITK3 / Transfer of Care and HL7 UK CareConnect profiles (Apache-2.0 via
//! nhsconnect/ITK3-FHIR-eDischarge, OGL v3 for the STU3-FHIR-Assets copies).

use std::collections::{BTreeMap, HashMap};

use crate::fhir::defs::{FastMap, FastSet};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

static COMPILED: &str = include_str!("compiled.json");

/// Binding strength.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    /// Codes must come from the value set.
    Required,
    /// Codes should come from the value set when one fits.
    Extensible,
    /// Codes are encouraged to come from the value set.
    Preferred,
}

impl Strength {
    /// The FHIR code.
    pub fn as_str(self) -> &'static str {
        match self {
            Strength::Required => "required",
            Strength::Extensible => "extensible",
            Strength::Preferred => "preferred",
        }
    }
}

/// A binding: strength and value set URL.
#[derive(Debug, Clone, Deserialize)]
pub struct Binding(pub Strength, pub String);

/// Slicing of an element.
#[derive(Debug, Clone, Deserialize)]
pub struct Slicing {
    /// Discriminators: (type, path).
    pub d: Vec<(String, String)>,
    /// Rules: open, closed, openAtEnd.
    pub r: String,
    /// Ordered.
    #[serde(default)]
    pub o: bool,
}

/// One element of a profile, with its children and slices.
#[derive(Debug, Clone, Deserialize)]
pub struct Node {
    /// Element name (last path segment; `value[x]` for choices).
    pub n: String,
    /// Slice name, for slices.
    #[serde(default)]
    pub s: Option<String>,
    /// Minimum cardinality.
    pub min: u32,
    /// Maximum cardinality ("*" or a number).
    pub max: String,
    /// Allowed type codes, when narrower than core.
    #[serde(default)]
    pub t: Option<Vec<String>>,
    /// Profiles per type code (extension definitions, datatype profiles).
    #[serde(default)]
    pub pr: Option<BTreeMap<String, Vec<String>>>,
    /// Reference target profiles, when narrower than core.
    #[serde(default)]
    pub tg: Option<Vec<String>>,
    /// Fixed value.
    #[serde(default)]
    pub f: Option<Value>,
    /// Pattern value.
    #[serde(default)]
    pub p: Option<Value>,
    /// Binding.
    #[serde(default)]
    pub b: Option<Binding>,
    /// Slicing.
    #[serde(default)]
    pub sl: Option<Slicing>,
    /// Children.
    #[serde(default)]
    pub c: Vec<Node>,
    /// Slices.
    #[serde(default)]
    pub ss: Vec<Node>,
    /// For a slice: the value each discriminator of its parent's slicing
    /// requires (computed once at load; `None` when the slice fixes none).
    #[serde(skip)]
    pub dv: Vec<Option<Value>>,
    /// `max` as a number (`u32::MAX` for `*`), computed at load.
    #[serde(skip)]
    pub maxn: u32,
    /// Whether an absent element still matters: min > 0 here or in a slice.
    #[serde(skip)]
    pub needed: bool,
    /// Length and first byte of `n`, to skip most keys without reading `n`.
    #[serde(skip)]
    pub key: (u16, u8),
    /// Whether `n` is a choice (`value[x]`).
    #[serde(skip)]
    pub choice: bool,
    /// For a choice: the length of `n` without its `[x]` suffix.
    #[serde(skip)]
    pub stem_len: u16,
    /// `pr` resolved at load: per type code (in `pr`'s order), the index
    /// ([`Profiles::by_index`]) of each URL's profile, when held.
    #[serde(skip)]
    pub prx: Vec<Vec<Option<u32>>>,
    /// `tg` resolved at load: per target URL, [`Profiles::type_of`] and
    /// whether the profile is held ([`Profiles::get`] is some).
    #[serde(skip)]
    pub tgx: Vec<(Option<String>, bool)>,
}

impl Node {
    /// Maximum as a number (`None` = unbounded).
    pub fn max_n(&self) -> Option<usize> {
        (self.maxn != u32::MAX).then_some(self.maxn as usize)
    }

    /// The choice stem (`value` for `value[x]`), for a choice element.
    #[inline]
    pub fn choice_stem(&self) -> Option<&str> {
        if self.choice {
            self.n.get(..self.stem_len as usize)
        } else {
            None
        }
    }

    /// A child by name.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.c.iter().find(|c| c.n == name)
    }
}

/// One compiled profile.
#[derive(Debug, Clone, Deserialize)]
pub struct Profile {
    /// The constrained type (`Patient`, `Extension`, `Quantity`).
    #[serde(rename = "type")]
    pub ty: String,
    /// Base definition URL.
    #[serde(default)]
    pub base: Option<String>,
    /// Business version.
    #[serde(default)]
    pub version: Option<String>,
    /// resource | complex-type | primitive-type.
    #[serde(default)]
    pub kind: Option<String>,
    /// Root element node.
    pub root: Node,
}

#[derive(Deserialize)]
struct Raw {
    profiles: FastMap<String, Profile>,
    core_bindings: HashMap<String, Binding>,
    value_sets: HashMap<String, Option<BTreeMap<String, Vec<String>>>>,
}

/// An enumerated value set.
#[derive(Debug, Default)]
pub struct ValueSet {
    by_system: FastMap<String, FastSet<String>>,
    codes: FastSet<String>,
}

impl ValueSet {
    /// Whether `system|code` is a member.
    pub fn has(&self, system: &str, code: &str) -> bool {
        self.by_system.get(system).is_some_and(|c| c.contains(code))
    }

    /// Whether `code` is a member under any system (for `code` elements).
    pub fn has_code(&self, code: &str) -> bool {
        self.codes.contains(code)
    }
}

/// Membership answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    /// In the value set.
    Yes,
    /// Not in the value set.
    No,
    /// The value set cannot be enumerated offline (or is unknown).
    Unknown,
}

/// The whole table.
#[derive(Debug)]
pub struct Profiles {
    /// Profile index by canonical URL.
    profiles: FastMap<String, u32>,
    /// Whether no key of `profiles` holds a `|` (then an exact hit is the
    /// answer for the URL without a `|version` suffix too).
    plain_keys: bool,
    list: Vec<Profile>,
    /// owner (type or backbone path) -> element name -> binding
    core_bindings: FastMap<String, FastMap<String, Binding>>,
    value_sets: FastMap<String, Option<ValueSet>>,
}

/// Precompute every slice's discriminator values.
fn prepare(node: &mut Node) {
    node.maxn = node.max.parse().unwrap_or(u32::MAX);
    node.needed = node.min > 0 || node.ss.iter().any(|s| s.min > 0);
    let stem = node.n.trim_end_matches("[x]");
    node.choice = node.n.ends_with("[x]");
    node.stem_len = node.n.strip_suffix("[x]").map_or(0, |st| st.len() as u16);
    node.key = (
        stem.len() as u16,
        stem.as_bytes().first().copied().unwrap_or(0),
    );
    if let Some(sl) = &node.sl {
        let discs = sl.d.clone();
        for slice in &mut node.ss {
            slice.dv = discs
                .iter()
                .map(|(_, path)| discriminator_value(slice, path))
                .collect();
        }
    }
    for c in &mut node.c {
        prepare(c);
    }
    for s in &mut node.ss {
        prepare(s);
    }
}

/// Resolve every node's `pr` and `tg` URLs once (see [`Node::prx`],
/// [`Node::tgx`]); `types` is each profile's type, by index.
fn resolve(node: &mut Node, index: &FastMap<String, u32>, types: &[String]) {
    let lookup = |u: &str| index.get(u.split('|').next().unwrap_or(u)).copied();
    node.prx = node
        .pr
        .as_ref()
        .map(|pr| {
            pr.values()
                .map(|urls| urls.iter().map(|u| lookup(u)).collect())
                .collect()
        })
        .unwrap_or_default();
    node.tgx = node
        .tg
        .as_ref()
        .map(|tg| {
            tg.iter()
                .map(|u| match lookup(u) {
                    Some(i) => (Some(types[i as usize].clone()), true),
                    None => (
                        u.strip_prefix("http://hl7.org/fhir/StructureDefinition/")
                            .map(str::to_string),
                        false,
                    ),
                })
                .collect()
        })
        .unwrap_or_default();
    for c in &mut node.c {
        resolve(c, index, types);
    }
    for s in &mut node.ss {
        resolve(s, index, types);
    }
}

/// The fixed or pattern value a slice requires at a discriminator path; for
/// an extension slice sliced by `url`, the extension definition's URL.
fn discriminator_value(slice: &Node, path: &str) -> Option<Value> {
    let mut node = Some(slice);
    if path != "$this" {
        for seg in path.split('.') {
            node = node.and_then(|n| n.child(seg));
        }
    }
    if let Some(v) = node.and_then(|n| n.f.as_ref().or(n.p.as_ref())) {
        return Some(v.clone());
    }
    if path == "url" {
        return slice
            .pr
            .as_ref()
            .and_then(|p| p.get("Extension"))
            .and_then(|u| u.first())
            .map(|u| Value::String(u.clone()));
    }
    None
}

/// Parse the embedded table afresh (for start-up measurements; use
/// [`profiles`] everywhere else).
pub fn load_embedded() -> Profiles {
    Profiles::parse(COMPILED)
}

/// The embedded table, parsed once on first use.
pub fn profiles() -> &'static Profiles {
    static P: OnceLock<Profiles> = OnceLock::new();
    P.get_or_init(|| Profiles::parse(COMPILED))
}

impl Profiles {
    fn parse(text: &str) -> Profiles {
        // The table is generated and checked by the tests: a parse failure
        // is a build defect, not a data error.
        let raw: Raw = match serde_json::from_str(text) {
            Ok(r) => r,
            Err(e) => panic!("embedded compiled.json is not valid: {e}"),
        };
        let value_sets = raw
            .value_sets
            .into_iter()
            .map(|(url, vs)| {
                let vs = vs.map(|systems| {
                    let mut out = ValueSet::default();
                    for (system, codes) in systems {
                        for c in codes {
                            out.codes.insert(c.clone());
                            out.by_system.entry(system.clone()).or_default().insert(c);
                        }
                    }
                    out
                });
                (url, vs)
            })
            .collect();
        let mut core_bindings: FastMap<String, FastMap<String, Binding>> = FastMap::default();
        for (path, b) in raw.core_bindings {
            if let Some((owner, name)) = path.rsplit_once('.') {
                core_bindings
                    .entry(owner.to_string())
                    .or_default()
                    .insert(name.to_string(), b);
            }
        }
        let mut entries: Vec<(String, Profile)> = raw.profiles.into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut profiles: FastMap<String, u32> = FastMap::default();
        let mut list = Vec::with_capacity(entries.len());
        for (i, (url, mut p)) in entries.into_iter().enumerate() {
            prepare(&mut p.root);
            profiles.insert(url, i as u32);
            list.push(p);
        }
        let types: Vec<String> = list.iter().map(|p| p.ty.clone()).collect();
        for p in &mut list {
            resolve(&mut p.root, &profiles, &types);
        }
        Profiles {
            plain_keys: profiles.keys().all(|k| !k.contains('|')),
            profiles,
            list,
            core_bindings,
            value_sets,
        }
    }

    /// A profile by canonical URL (a `|version` suffix is ignored).
    pub fn get(&self, url: &str) -> Option<&Profile> {
        self.index_of(url).map(|i| &self.list[i as usize])
    }

    /// The index of a profile by canonical URL (a `|version` suffix is
    /// ignored), for [`Profiles::by_index`].
    pub fn index_of(&self, url: &str) -> Option<u32> {
        // A key without `|` that equals `url`: `url` has no `|` either, so
        // cutting a suffix would not change it.
        if self.plain_keys {
            if let Some(&i) = self.profiles.get(url) {
                return Some(i);
            }
        }
        let url = url.split('|').next().unwrap_or(url);
        self.profiles.get(url).copied()
    }

    /// A profile by index ([`Profiles::index_of`], [`Node::prx`]).
    pub fn by_index(&self, i: u32) -> &Profile {
        &self.list[i as usize]
    }

    /// Number of profiles.
    pub fn len(&self) -> usize {
        self.profiles.len()
    }

    /// True when no profile is loaded (never for the embedded table).
    pub fn is_empty(&self) -> bool {
        self.profiles.is_empty()
    }

    /// The core binding of an element (`Patient` + `gender`, `Identifier` + `use`).
    pub fn core_binding(&self, owner: &str, name: &str) -> Option<&Binding> {
        self.core_bindings.get(owner)?.get(name)
    }

    /// Membership of a code in a value set.
    pub fn member(&self, vs: &str, system: Option<&str>, code: &str) -> Member {
        match self.value_sets.get(vs) {
            Some(Some(set)) => {
                let ok = match system {
                    Some(s) => set.has(s, code),
                    None => set.has_code(code),
                };
                if ok {
                    Member::Yes
                } else {
                    Member::No
                }
            }
            _ => Member::Unknown,
        }
    }

    /// The resource or datatype a profile (or core definition URL) constrains.
    pub fn type_of<'a>(&'a self, url: &'a str) -> Option<&'a str> {
        if let Some(p) = self.get(url) {
            return Some(&p.ty);
        }
        url.strip_prefix("http://hl7.org/fhir/StructureDefinition/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EDIS: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-EDIS-Composition-1";

    #[test]
    fn loads_the_profiles_the_toc_messages_use() {
        let p = profiles();
        for url in [
            EDIS,
            "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-MH-Composition-1",
            "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-ECD-Composition-1",
            "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-OPL-Composition-1",
            "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1",
            "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-MessageHeader-2",
            "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2",
            "https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1",
            "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
        ] {
            assert!(p.get(url).is_some(), "{url}");
        }
        assert_eq!(p.get(EDIS).map(|p| p.ty.as_str()), Some("Composition"));
        assert_eq!(
            p.type_of("http://hl7.org/fhir/StructureDefinition/Patient"),
            Some("Patient")
        );
    }

    /// Every node's resolved `prx` / `tgx` say what `get` / `type_of` say.
    #[test]
    fn resolved_urls_agree_with_lookups() {
        fn walk(p: &Profiles, n: &Node, seen: &mut usize) {
            match &n.pr {
                Some(pr) => {
                    assert_eq!(pr.len(), n.prx.len());
                    for (urls, ixs) in pr.values().zip(&n.prx) {
                        assert_eq!(urls.len(), ixs.len());
                        for (u, ix) in urls.iter().zip(ixs) {
                            *seen += 1;
                            assert_eq!(
                                ix.map(|i| p.by_index(i) as *const Profile),
                                p.get(u).map(|x| x as *const Profile),
                                "{u}"
                            );
                        }
                    }
                }
                None => assert!(n.prx.is_empty()),
            }
            match &n.tg {
                Some(tg) => {
                    assert_eq!(tg.len(), n.tgx.len());
                    for (u, (t, known)) in tg.iter().zip(&n.tgx) {
                        *seen += 1;
                        assert_eq!(t.as_deref(), p.type_of(u), "{u}");
                        assert_eq!(*known, p.get(u).is_some(), "{u}");
                    }
                }
                None => assert!(n.tgx.is_empty()),
            }
            for c in n.c.iter().chain(&n.ss) {
                walk(p, c, seen);
            }
        }
        let p = profiles();
        let mut seen = 0;
        for prof in &p.list {
            walk(p, &prof.root, &mut seen);
        }
        assert!(seen > 100, "{seen}");
    }

    #[test]
    fn section_slices_carry_fixed_codes_and_closed_slicing() {
        let root = &profiles().get(EDIS).map(|p| &p.root).unwrap();
        let section = root.child("section").unwrap();
        assert_eq!(section.sl.as_ref().map(|s| s.r.as_str()), Some("closed"));
        let allergies = section
            .ss
            .iter()
            .find(|s| s.s.as_deref() == Some("allergiesAndAdverseReactionsSection"))
            .unwrap();
        assert_eq!((allergies.min, allergies.max.as_str()), (1, "1"));
        let code = allergies
            .child("code")
            .and_then(|c| c.child("coding"))
            .and_then(|c| c.child("code"))
            .and_then(|c| c.f.as_ref());
        assert_eq!(code, Some(&Value::from("886921000000105")));
    }

    #[test]
    fn value_sets_enumerate_or_say_unknown() {
        let p = profiles();
        let gender = "http://hl7.org/fhir/ValueSet/administrative-gender";
        assert_eq!(p.member(gender, None, "female"), Member::Yes);
        assert_eq!(p.member(gender, None, "F"), Member::No);
        assert_eq!(
            p.member(
                gender,
                Some("http://hl7.org/fhir/administrative-gender"),
                "male"
            ),
            Member::Yes
        );
        // A SNOMED CT refset cannot be expanded offline.
        assert_eq!(
            p.member(
                "https://fhir.hl7.org.uk/STU3/ValueSet/CareConnect-CareSettingType-1",
                Some("http://snomed.info/sct"),
                "892811000000109"
            ),
            Member::Unknown
        );
        assert!(matches!(
            p.core_binding("Bundle", "type"),
            Some(Binding(Strength::Required, _))
        ));
    }
}
