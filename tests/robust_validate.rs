//! Robustness of the validator against defective bundles nobody has seen
//! (property tests).
//!
//! `tests/validate_mutants.rs` checks 186 hand-written single-defect mutants
//! for an exact issue at an exact location; this file complements it with
//! random structural mutations of the converter's golden bundles
//! (`testdata/golden/*.json`): delete a key, a wrong JSON type for a value,
//! empty string / array / object, null, a duplicated or reordered entry, a
//! broken reference, a changed resourceType, deep nesting, huge strings,
//! invalid dates, unknown properties. For each:
//!
//! * [`validate_full`] never panics, and neither does `validate_bytes` on the
//!   JSON text and (when it can be written) on the FHIR XML twin;
//! * every mutation whose invalidity is certain under STU3 / ITK3 raises at
//!   least one fatal or error issue: a wrong JSON type for a primitive, an
//!   empty value, a null (no `_x` twin), a deleted required element, a
//!   broken `urn:uuid:` reference, an unknown property, an unknown or
//!   profile-contradicting resourceType, a duplicated entry, the
//!   MessageHeader or Composition moved from first place, deep nesting, an
//!   invalid date, an `id` over 64 characters. Mutations whose validity is
//!   ambiguous (deleting an optional key, swapping later entries, a huge
//!   free-text string) are only run for panics.
//!
//! Deterministic: a fixed ChaCha seed, no failure persistence.

mod common;

use std::sync::OnceLock;

use itkbridge::fhir::xml::json_to_xml;
use itkbridge::validate::files::validate_bytes;
use itkbridge::validate::{validate_full, Issue};
use proptest::prelude::*;
use serde_json::{json, Value};

fn goldens() -> &'static [(String, Value)] {
    static G: OnceLock<Vec<(String, Value)>> = OnceLock::new();
    G.get_or_init(|| {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/golden");
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|p| {
                let v = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
                (p.file_name().unwrap().to_string_lossy().into_owned(), v)
            })
            .collect()
    })
}

// ------------------------------------------------------------- navigation

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Idx(usize),
}

/// Every path in `v` (pre-order), the root included.
fn paths(v: &Value, at: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                at.push(Seg::Key(k.clone()));
                paths(x, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(Seg::Idx(i));
                paths(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn get_mut<'v>(v: &'v mut Value, p: &[Seg]) -> &'v mut Value {
    p.iter().fold(v, |v, s| match s {
        Seg::Key(k) => &mut v[k.as_str()],
        Seg::Idx(i) => &mut v[*i],
    })
}

fn get<'v>(v: &'v Value, p: &[Seg]) -> &'v Value {
    p.iter().fold(v, |v, s| match s {
        Seg::Key(k) => &v[k.as_str()],
        Seg::Idx(i) => &v[*i],
    })
}

/// The last key on the path (the element name).
/// A Bundle's `entry` array (items carry a fullUrl).
fn is_bundle_entries(p: &[Seg], x: &Value, min: usize) -> bool {
    last_key(p) == Some("entry")
        && x.as_array()
            .is_some_and(|a| a.len() >= min && a.iter().all(|e| e.get("fullUrl").is_some()))
}

fn last_key(p: &[Seg]) -> Option<&str> {
    p.iter().rev().find_map(|s| match s {
        Seg::Key(k) => Some(k.as_str()),
        Seg::Idx(_) => None,
    })
}

/// A path inside an extension (whose `id` is an element id, not a resource id).
fn in_extension_value(p: &[Seg]) -> bool {
    p.iter()
        .any(|s| matches!(s, Seg::Key(k) if k == "extension" || k == "modifierExtension"))
}

// ------------------------------------------------------------- mutations

/// Whether the mutated bundle must have an error.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Error,
    Any,
}

#[derive(Debug, Clone)]
struct Mutation {
    base: usize,
    kind: usize,
    a: usize,
    b: usize,
}

const KINDS: usize = 17;

fn mutation() -> impl Strategy<Value = Mutation> {
    (0usize..64, 0..KINDS, any::<usize>(), any::<usize>()).prop_map(|(base, kind, a, b)| Mutation {
        base,
        kind,
        a,
        b,
    })
}

/// Required elements per resource type (STU3 core min ≥ 1).
const REQUIRED: &[(&str, &str)] = &[
    ("Bundle", "type"),
    ("MessageHeader", "event"),
    ("MessageHeader", "timestamp"),
    ("MessageHeader", "source"),
    ("Composition", "status"),
    ("Composition", "type"),
    ("Composition", "date"),
    ("Composition", "author"),
    ("Composition", "title"),
    ("Encounter", "status"),
    ("Procedure", "status"),
    ("Procedure", "subject"),
    ("MedicationStatement", "status"),
    ("MedicationStatement", "subject"),
    ("MedicationStatement", "taking"),
    ("AllergyIntolerance", "patient"),
    ("Condition", "subject"),
    ("Observation", "status"),
    ("Observation", "code"),
    ("List", "status"),
    ("List", "mode"),
    ("Flag", "status"),
    ("Flag", "code"),
    ("Flag", "subject"),
];

/// Keys holding a date, dateTime or instant.
const DATE_KEYS: &[&str] = &[
    "date",
    "timestamp",
    "birthDate",
    "start",
    "end",
    "effectiveDateTime",
    "issued",
    "assertedDate",
    "onsetDateTime",
    "performedDateTime",
    "recordedDate",
    "dateAsserted",
    "lastUpdated",
    "authoredOn",
    "valueDateTime",
];

const BAD_DATES: &[&str] = &[
    "2024-13-01",
    "2024-02-30",
    "24-01-01",
    "2024-01-01T25:00:00Z",
    "2024-01-01T10:00:00",
    "2024-1-1",
    "20240101",
    "2024-01-01T10:00:00+25:00",
    "2024-01-01 10:00:00Z",
    "yesterday",
];

fn random_string(seed: usize, len: usize) -> String {
    let alphabet: Vec<char> = "aZ09 -_:/.é€😀\u{0}\u{1F}\"\\<>&".chars().collect();
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            alphabet[x % alphabet.len()]
        })
        .collect()
}

/// Apply one mutation; `None` when it does not apply to this base.
fn apply(m: &Mutation) -> Option<(String, Value, Expect, String)> {
    let all = goldens();
    let (name, base) = &all[m.base % all.len()];
    let mut v = base.clone();
    let mut ps = Vec::new();
    paths(&v, &mut Vec::new(), &mut ps);
    let pick = |filter: &dyn Fn(&[Seg], &Value) -> bool, seed: usize| -> Option<Vec<Seg>> {
        let c: Vec<&Vec<Seg>> = ps.iter().filter(|p| filter(p, get(base, p))).collect();
        (!c.is_empty()).then(|| c[seed % c.len()].clone())
    };
    // Resources: paths ending at an object with a resourceType.
    let is_resource = |_: &[Seg], x: &Value| x.get("resourceType").is_some();
    let what;
    let expect = match m.kind {
        // Delete a random key (validity ambiguous).
        0 => {
            let p = pick(&|p, _| matches!(p.last(), Some(Seg::Key(_))), m.a)?;
            what = format!("delete {p:?}");
            let Some(Seg::Key(k)) = p.last() else {
                return None;
            };
            let k = k.clone();
            get_mut(&mut v, &p[..p.len() - 1])
                .as_object_mut()?
                .shift_remove(&k);
            Expect::Any
        }
        // Delete a required element (or resourceType).
        1 => {
            let p = pick(&is_resource, m.a)?;
            let ty = get(base, &p)["resourceType"].as_str()?.to_string();
            let mut keys: Vec<&str> = REQUIRED
                .iter()
                .filter(|(t, k)| *t == ty && get(base, &p).get(*k).is_some())
                .map(|(_, k)| *k)
                .collect();
            keys.push("resourceType");
            let k = keys[m.b % keys.len()];
            what = format!("delete required {ty}.{k} at {p:?}");
            get_mut(&mut v, &p).as_object_mut()?.shift_remove(k);
            Expect::Error
        }
        // A primitive replaced by a value of the wrong JSON type.
        2 => {
            let p = pick(
                &|_, x| x.is_string() || x.is_boolean() || x.is_number(),
                m.a,
            )?;
            let old = get(base, &p).clone();
            let new = match (&old, m.b % 4) {
                (Value::String(_), 0) => json!(42),
                (Value::String(_), 1) => json!(true),
                (Value::String(_), 2) => json!({"value": "x"}),
                (Value::String(s), _) => json!([s]),
                (Value::Bool(b), 0) => json!(b.to_string()),
                (Value::Bool(_), 1) => json!(1),
                (Value::Bool(_), _) => json!([true]),
                (_, 0) => json!(old.to_string()),
                (_, 1) => json!(false),
                (_, _) => json!({}),
            };
            what = format!("{p:?}: {old} -> {new}");
            *get_mut(&mut v, &p) = new;
            Expect::Error
        }
        // Empty string, array or object.
        3 => {
            let p = pick(&|p, _| !p.is_empty(), m.a)?;
            let new = match m.b % 3 {
                0 => json!(""),
                1 => json!([]),
                _ => json!({}),
            };
            what = format!("{p:?} -> {new}");
            *get_mut(&mut v, &p) = new;
            Expect::Error
        }
        // Null (with no `_x` twin that would make an array null legal).
        4 => {
            let p = pick(&|p, _| !p.is_empty(), m.a)?;
            let twin = match (p.len() >= 2, &p[p.len().saturating_sub(2)]) {
                (true, Seg::Key(k)) => {
                    let parent = get(base, &p[..p.len() - 2]);
                    parent.get(format!("_{k}")).is_some()
                }
                _ => false,
            };
            what = format!("{p:?} -> null");
            *get_mut(&mut v, &p) = Value::Null;
            if twin {
                Expect::Any
            } else {
                Expect::Error
            }
        }
        // Duplicate an entry (same fullUrl twice).
        5 => {
            let p = pick(&|p, x| is_bundle_entries(p, x, 1), m.a)?;
            let arr = get_mut(&mut v, &p).as_array_mut()?;
            let i = m.b % arr.len();
            let e = arr[i].clone();
            arr.insert(i + 1, e);
            what = format!("duplicate {p:?}[{i}]");
            Expect::Error
        }
        // Move the first entry (MessageHeader / Composition) elsewhere.
        6 => {
            let p = pick(&|p, x| is_bundle_entries(p, x, 2), m.a)?;
            let arr = get_mut(&mut v, &p).as_array_mut()?;
            let e = arr.remove(0);
            let to = 1 + m.b % arr.len();
            arr.insert(to, e);
            what = format!("move {p:?}[0] to {to}");
            Expect::Error
        }
        // Swap two later entries (order of the rest is free).
        7 => {
            let p = pick(&|p, x| is_bundle_entries(p, x, 3), m.a)?;
            let arr = get_mut(&mut v, &p).as_array_mut()?;
            let (i, j) = (1 + m.b % (arr.len() - 1), 1 + (m.b / 7) % (arr.len() - 1));
            arr.swap(i, j);
            what = format!("swap {p:?}[{i}] [{j}]");
            Expect::Any
        }
        // Break a reference.
        8 => {
            let p = pick(
                &|p, x| {
                    last_key(p) == Some("reference")
                        && x.as_str().is_some_and(|s| s.starts_with("urn:uuid:"))
                },
                m.a,
            )?;
            let new = match m.b % 3 {
                0 => "urn:uuid:00000000-0000-4000-8000-000000000000".to_string(),
                1 => {
                    let s = get(base, &p).as_str()?;
                    format!("{}0", &s[..s.len() - 1])
                        .replace("00", "11")
                        .replacen(&s[s.len() - 1..], "f", 0)
                }
                _ => "urn:uuid:ffffffff-ffff-4fff-bfff-ffffffffffff".to_string(),
            };
            if get(base, &p).as_str() == Some(new.as_str()) {
                return None;
            }
            what = format!("{p:?} -> {new}");
            *get_mut(&mut v, &p) = json!(new);
            Expect::Error
        }
        // Change a resourceType: unknown, or another type while the resource
        // keeps its declared profile.
        9 => {
            let p = pick(&is_resource, m.a)?;
            let old = get(base, &p)["resourceType"].as_str()?.to_string();
            let types = [
                "Foo",
                "Patient",
                "Practitioner",
                "Organization",
                "Bundle",
                "Basic",
                "patient",
                "Composition",
            ];
            let new = types[m.b % types.len()];
            if new == old {
                return None;
            }
            let has_profile = get(base, &p).pointer("/meta/profile/0").is_some();
            what = format!("{p:?} resourceType {old} -> {new}");
            get_mut(&mut v, &p)["resourceType"] = json!(new);
            if new == "Foo" || new == "patient" || has_profile {
                Expect::Error
            } else {
                Expect::Any
            }
        }
        // Deep nesting in place of a value.
        10 => {
            let p = pick(&|p, _| !p.is_empty(), m.a)?;
            // Up to past serde_json's parse limit of 128 (what `validate` can be
            // handed as JSON; FHIR XML stops at 128 levels too).
            let depth = 20 + m.b % 200;
            let mut x = json!("x");
            for i in 0..depth {
                x = if i % 2 == 0 {
                    json!([x])
                } else {
                    json!({ "extension": x })
                };
            }
            what = format!("{p:?} nested {depth} deep");
            *get_mut(&mut v, &p) = x;
            Expect::Error
        }
        // Huge strings: in an id (max 64) an error, elsewhere ambiguous.
        11 => {
            let p = pick(&|_, x| x.is_string(), m.a)?;
            let len = 1 + m.b % 200_000;
            let s = random_string(m.b, len);
            let is_id = last_key(&p) == Some("id") && !in_extension_value(&p);
            what = format!("{p:?} huge string {len}");
            *get_mut(&mut v, &p) = json!(s);
            if is_id && len > 64 {
                Expect::Error
            } else {
                Expect::Any
            }
        }
        // Invalid dates.
        12 => {
            let p = pick(
                &|p, x| x.is_string() && last_key(p).is_some_and(|k| DATE_KEYS.contains(&k)),
                m.a,
            )?;
            let d = BAD_DATES[m.b % BAD_DATES.len()];
            what = format!("{p:?} date -> {d}");
            *get_mut(&mut v, &p) = json!(d);
            Expect::Error
        }
        // Unknown property on a random object.
        13 => {
            let p = pick(&|_, x| x.is_object(), m.a)?;
            let keys = [
                "zzUnknown",
                "Status",
                "resource_type",
                "_",
                "valueFoo",
                "@id",
            ];
            let k = keys[m.b % keys.len()];
            if get(base, &p).get(k).is_some() {
                return None;
            }
            what = format!("{p:?} + {k}");
            get_mut(&mut v, &p)
                .as_object_mut()?
                .insert(k.into(), json!("x"));
            Expect::Error
        }
        // A string array item replaced by random text (codes, uris …): only
        // run for panics.
        14 => {
            let p = pick(&|_, x| x.is_string(), m.a)?;
            let s = random_string(m.b, 1 + m.b % 40);
            what = format!("{p:?} -> random text");
            *get_mut(&mut v, &p) = json!(s);
            Expect::Any
        }
        // Array shape: a repeating element's array replaced by its first
        // item, or a single-valued element (an object under a key) wrapped
        // in an array; or an object replaced by a string.
        15 => {
            let p = pick(
                &|p, x| {
                    matches!(p.last(), Some(Seg::Key(k)) if !k.starts_with('_'))
                        && (x.as_array().is_some_and(|a| !a.is_empty()) || x.is_object())
                },
                m.a,
            )?;
            let old = get(base, &p).clone();
            let new = match (&old, m.b % 2) {
                (Value::Array(a), _) => a[0].clone(),
                (_, 0) => json!([old]),
                _ => json!("x"),
            };
            what = format!("{p:?} reshaped");
            *get_mut(&mut v, &p) = new;
            Expect::Error
        }
        // Two mutations: any first one, then an empty string or an object
        // with an unknown property in place of a random value of the result
        // (an error whatever the first did).
        _ => {
            let first = Mutation {
                kind: m.b % (KINDS - 1),
                ..m.clone()
            };
            let (_, mut v, _, d) = apply(&first)?;
            let mut ps = Vec::new();
            paths(&v, &mut Vec::new(), &mut ps);
            let p = ps[1 + m.a.rotate_left(17) % (ps.len() - 1)].clone();
            let new = if m.b.rotate_left(9).is_multiple_of(2) {
                json!("")
            } else {
                json!({ "zzUnknown": 1 })
            };
            what = format!("{d}; then {p:?} -> {new}");
            *get_mut(&mut v, &p) = new;
            return Some((name.clone(), v, Expect::Error, what));
        }
    };
    Some((name.clone(), v, expect, what))
}

// ------------------------------------------------------------- properties

fn errors(issues: &[Issue]) -> usize {
    issues.iter().filter(|i| i.severity.is_blocking()).count()
}

fn check(m: &Mutation) -> Result<(), TestCaseError> {
    let t = std::time::Instant::now();
    let r = check_inner(m);
    if std::env::var_os("ROBUST_VERBOSE").is_some() {
        eprintln!("kind {} {:?}", m.kind, t.elapsed());
    }
    r
}

fn check_inner(m: &Mutation) -> Result<(), TestCaseError> {
    let Some((name, v, expect, what)) = apply(m) else {
        return Ok(());
    };
    let issues = validate_full(&v);
    if expect == Expect::Error && errors(&issues) == 0 {
        return Err(TestCaseError::fail(format!(
            "{name}: {what}: no error; issues: {:?}",
            issues.iter().map(|i| i.to_string()).collect::<Vec<_>>()
        )));
    }
    // Through the `itkbridge validate` entry: JSON text (serde_json's depth
    // limit may make it fatal) and the FHIR XML twin when one exists.
    let text = serde_json::to_vec(&v).unwrap_or_default();
    let r = validate_bytes("m.json", &text);
    if expect == Expect::Error && r.valid() {
        return Err(TestCaseError::fail(format!(
            "{name}: {what}: validate_bytes found it valid"
        )));
    }
    if let Ok(xml) = json_to_xml(&v) {
        let r = validate_bytes("m.xml", xml.as_bytes());
        let _ = r.valid();
    }
    Ok(())
}

#[test]
fn goldens_are_valid() {
    for (name, v) in goldens() {
        let issues = validate_full(v);
        assert_eq!(errors(&issues), 0, "{name}: {issues:?}");
    }
}

#[test]
fn mutated_bundles_never_panic_and_certain_defects_are_errors() {
    let mut r = common::runner(64, 3);
    if let Err(e) = r.run(&mutation(), |m| check(&m)) {
        panic!("{e}");
    }
}

#[test]
fn every_certain_mutation_kind_is_caught() {
    // Each class on its own, so a rare class is not starved by the others.
    for kind in [1, 2, 3, 4, 5, 6, 8, 9, 12, 13, 15] {
        let mut r = common::runner(8, 10 + kind as u8);
        let s = mutation().prop_map(move |mut m| {
            m.kind = kind;
            m
        });
        if let Err(e) = r.run(&s, |m| check(&m)) {
            panic!("kind {kind}: {e}");
        }
    }
}

/// Text a user can hand to `itkbridge validate` that no JSON model holds:
/// nesting far past every limit, as JSON and as FHIR XML, truncated and
/// garbled golden files. Fatal or error, never a crash — on a thread with a
/// worker's default 2 MiB stack.
#[test]
fn hostile_files_are_invalid_not_crashes() {
    let h = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let n = 100_000;
            let mut cases: Vec<(String, Vec<u8>)> = vec![
                (
                    "deep json".into(),
                    format!(
                        "{{\"resourceType\":\"Basic\",\"extension\":{}{}}}",
                        "[".repeat(n),
                        "]".repeat(n)
                    )
                    .into_bytes(),
                ),
                (
                    "deep xml".into(),
                    format!(
                        "<Basic xmlns=\"http://hl7.org/fhir\">{}{}</Basic>",
                        "<extension>".repeat(n),
                        "</extension>".repeat(n)
                    )
                    .into_bytes(),
                ),
                (
                    "deep xhtml".into(),
                    format!(
                        "<Basic xmlns=\"http://hl7.org/fhir\"><text><status value=\"generated\"/><div xmlns=\"http://www.w3.org/1999/xhtml\">{}x{}</div></text></Basic>",
                        "<b>".repeat(n),
                        "</b>".repeat(n)
                    )
                    .into_bytes(),
                ),
            ];
            let (_, v) = &goldens()[0];
            let text = serde_json::to_vec(v).unwrap();
            for cut in [1, 10, text.len() / 2, text.len() - 1] {
                cases.push((format!("json cut at {cut}"), text[..cut].to_vec()));
            }
            let xml = json_to_xml(v).unwrap().into_bytes();
            // (The XML ends with a newline: cut into the last end tag.)
            for cut in [1, 10, xml.len() / 2, xml.len() - 2] {
                cases.push((format!("xml cut at {cut}"), xml[..cut].to_vec()));
            }
            let mut bad = text.clone();
            bad.splice(100..100, [0xFF, 0xEF, 0xBB, 0xBF, 0xC0]);
            cases.push(("invalid utf-8".into(), bad));
            for (what, bytes) in cases {
                let r = validate_bytes("f", &bytes);
                assert!(!r.valid(), "{what}: {:?}", r.issues);
            }
        })
        .unwrap();
    h.join().expect("no stack overflow, no panic");
}

/// Defect: `2024-02-30` (and day 00, 31 April …) passed as a date, dateTime
/// and instant: the checks followed the STU3 regexes, which allow any day
/// 00-31, while the datatypes page says "Dates SHALL be valid dates". Now a
/// `primitive-format` error at the element.
#[test]
fn impossible_calendar_dates_are_errors() {
    let (_, base) = &goldens()[0];
    let comp = "/entry/3/resource/entry/0/resource";
    for (ptr, value, ok) in [
        ("date", "2024-02-30", false),
        ("date", "2023-02-29T10:00:00Z", false),
        ("date", "2024-04-31", false),
        ("date", "2024-01-00", false),
        ("date", "2024-02-29T10:00:00+00:00", true),
    ] {
        let mut v = base.clone();
        *v.pointer_mut(&format!("{comp}/{ptr}")).unwrap() = json!(value);
        let issues = validate_full(&v);
        let hit = issues.iter().any(|i| {
            i.severity.is_blocking()
                && i.rule == "primitive-format"
                && i.location == "Bundle.entry[3].resource.entry[0].resource.date"
        });
        assert_eq!(hit, !ok, "{value}: {issues:?}");
    }
    let mut v = base.clone();
    *v.pointer_mut("/entry/0/resource/timestamp").unwrap() = json!("2023-11-31T10:00:00Z");
    assert!(
        errors(&validate_full(&v)) > 0,
        "MessageHeader.timestamp on 31 November"
    );
}
