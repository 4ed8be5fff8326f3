//! Independent FHIR STU3 checks of the golden bundles, inside `cargo test`.
//!
//! Two checkers that share no code with the converter (see
//! `shared/docs/validators-crates-style.md` Part A, V4 and V5):
//!
//! * **V5** — the `jsonschema` crate with the official STU3 JSON schema
//!   (`testdata/schema/fhir.schema.json`, draft-06).  Catches unknown
//!   elements, wrong codes in required bindings, wrong primitive JSON types,
//!   unknown resource types.  Misses missing required primitives, bad date
//!   formats (unanchored regexes) and single-object-vs-array mistakes.
//! * **V4** — the `fhir-model` crate (`stu3` feature): serde deserialisation
//!   into `fhir_model::stu3::resources::Bundle`.  Catches missing required
//!   elements, bad codes, bad dates / dateTimes, cardinality shape; ignores
//!   unknown elements.  Compiled only in debug builds (see `RELEASE_SKIP`):
//!   under `cargo test --release` its three tests are reported as ignored.
//!
//! Neither knows the NHS CareConnect / ITK3 profiles, FHIR invariants or
//! reference resolution — those are the converter's own checks.
//!
//! Every checker has negative controls: a golden bundle is mutated with a
//! single defect from the A.2 matrix that the checker is known to catch, and
//! the test asserts the checker rejects it (a check that cannot fail is a
//! defect).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};

// ---------------------------------------------------------------------------
// Golden files
// ---------------------------------------------------------------------------

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `testdata/golden/*.json`, sorted.  Fails if there are none, so the
/// validation tests cannot pass vacuously.
fn golden_files() -> Vec<PathBuf> {
    let dir = root().join("testdata/golden");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "cannot read {}: {e} (run the golden test with ITKBRIDGE_UPDATE_GOLDEN=1)",
                dir.display()
            )
        })
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no golden bundles in {}", dir.display());
    v
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

fn parse(p: &Path) -> Value {
    serde_json::from_slice(&read(p)).unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()))
}

/// The golden bundle used as the base of the negative controls.
fn control_base() -> Value {
    let p = root().join("testdata/golden/discharge_01_classic_default_ns.json");
    assert!(
        p.exists(),
        "{} missing (run the golden test with ITKBRIDGE_UPDATE_GOLDEN=1)",
        p.display()
    );
    parse(&p)
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}… ({} chars)", s.chars().count())
    }
}

// ---------------------------------------------------------------------------
// V5: jsonschema + STU3 fhir.schema.json
// ---------------------------------------------------------------------------

struct Stu3Schema {
    /// The schema document.
    doc: Value,
    /// The schema's root (`oneOf` over all resource types): whole bundles.
    whole: jsonschema::Validator,
    /// One validator per resource type seen so far, for
    /// `#/definitions/<resourceType>` (compiled on first use: eagerly
    /// compiling every subschema with `build_map` takes minutes).
    by_type: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

fn draft6() -> jsonschema::ValidationOptions<'static> {
    jsonschema::options().with_draft(jsonschema::Draft::Draft6)
}

/// Compiled once per test process.
fn schema() -> &'static Stu3Schema {
    static SCHEMA: OnceLock<Stu3Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = read(&root().join("testdata/schema/fhir.schema.json"));
        let doc: Value = serde_json::from_slice(&text).expect("fhir.schema.json is JSON");
        assert_eq!(
            doc["$schema"], "http://json-schema.org/draft-06/schema#",
            "expected the draft-06 STU3 schema"
        );
        let whole = draft6()
            .build(&doc)
            .unwrap_or_else(|e| panic!("STU3 schema does not compile: {e}"));
        Stu3Schema {
            doc,
            whole,
            by_type: Mutex::new(HashMap::new()),
        }
    })
}

/// The validator for one resource type, or `None` if the schema's root
/// `oneOf` does not list it (data types such as `Coding` are not resources).
fn resource_validator(rt: &str) -> Option<Arc<jsonschema::Validator>> {
    let s = schema();
    let pointer = format!("#/definitions/{rt}");
    let listed = s.doc["oneOf"]
        .as_array()
        .expect("root oneOf")
        .iter()
        .any(|b| b["$ref"] == pointer);
    if !listed {
        return None;
    }
    let mut cache = s.by_type.lock().unwrap_or_else(|p| p.into_inner());
    let v = cache.entry(rt.to_string()).or_insert_with(|| {
        let wrapper = json!({
            "$schema": s.doc["$schema"],
            "allOf": [{ "$ref": pointer }],
            "definitions": s.doc["definitions"],
        });
        Arc::new(
            draft6()
                .build(&wrapper)
                .unwrap_or_else(|e| panic!("schema for {rt} does not compile: {e}")),
        )
    });
    Some(Arc::clone(v))
}

fn push_schema_errors(
    out: &mut Vec<String>,
    label: &str,
    v: &jsonschema::Validator,
    instance: &Value,
) {
    for e in v.iter_errors(instance).take(20) {
        let at = e.instance_path().to_string();
        // `oneOf` errors print the whole instance (a whole bundle): mask it.
        let msg = e.to_string();
        let msg = if msg.len() > 300 {
            e.masked_with("<instance>").to_string()
        } else {
            msg
        };
        out.push(format!("{label}{at}: {}", shorten(&msg, 300)));
    }
}

/// Walk resources recursively (entries of Bundles, `contained`) and validate
/// each against its own `#/definitions/<resourceType>`.
fn per_resource_schema_errors(out: &mut Vec<String>, label: &str, res: &Value) {
    let Some(rt) = res.get("resourceType").and_then(Value::as_str) else {
        out.push(format!("{label}: resource without a resourceType"));
        return;
    };
    let label = format!("{label}({rt})");
    match resource_validator(rt) {
        Some(v) => push_schema_errors(out, &format!("{label}: "), &v, res),
        None => out.push(format!("{label}: unknown STU3 resourceType {rt:?}")),
    }
    if let Some(entries) = res
        .get("entry")
        .and_then(Value::as_array)
        .filter(|_| rt == "Bundle")
    {
        for (i, e) in entries.iter().enumerate() {
            if let Some(r) = e.get("resource") {
                per_resource_schema_errors(out, &format!("{label}.entry[{i}].resource"), r);
            }
        }
    }
    if let Some(contained) = res.get("contained").and_then(Value::as_array) {
        for (i, r) in contained.iter().enumerate() {
            per_resource_schema_errors(out, &format!("{label}.contained[{i}]"), r);
        }
    }
}

/// All schema findings for a message bundle: whole-bundle errors (prefixed
/// `bundle`) and per-resource errors (prefixed `resource`).
fn schema_errors(bundle: &Value) -> (Vec<String>, Vec<String>) {
    let mut whole = Vec::new();
    push_schema_errors(&mut whole, "bundle", &schema().whole, bundle);
    let mut each = Vec::new();
    per_resource_schema_errors(&mut each, "resource", bundle);
    (whole, each)
}

#[test]
fn golden_bundles_pass_stu3_json_schema() {
    let mut failures = Vec::new();
    let mut resources = 0usize;
    for p in golden_files() {
        let v = parse(&p);
        resources += count_resources(&v);
        let (whole, each) = schema_errors(&v);
        for e in whole.iter().chain(each.iter()) {
            failures.push(format!("{}: {e}", name(&p)));
        }
    }
    assert!(resources > 0, "no resources validated");
    assert!(
        failures.is_empty(),
        "STU3 JSON schema errors:\n{}",
        failures.join("\n")
    );
}

fn count_resources(v: &Value) -> usize {
    1 + v
        .get("entry")
        .and_then(Value::as_array)
        .map(|es| {
            es.iter()
                .filter_map(|e| e.get("resource"))
                .map(count_resources)
                .sum()
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------
// V4: fhir-model (stu3)
// ---------------------------------------------------------------------------

// Release builds: the serde code of fhir-model's ~118 STU3 resources is
// instantiated (and, under `--release`, optimised) in *this* test crate, not
// in fhir-model, which took ~10 min of compile time on 2 cores.  So the oracle
// is compiled only with debug assertions (plain `cargo test`, ~1 min); under
// `cargo test --release` its tests show as ignored.
#[cfg(not(debug_assertions))]
const RELEASE_SKIP: &str =
    "fhir-model oracle is compiled only in debug builds: run `cargo test --test stu3_independent`";

#[cfg(not(debug_assertions))]
fn fhir_model_errors(_text: &[u8]) -> Vec<String> {
    unreachable!("{RELEASE_SKIP}")
}

/// Deserialise into `fhir_model::stu3::resources::Bundle`; on failure also
/// try every entry resource on its own to say which one is wrong.
#[cfg(debug_assertions)]
fn fhir_model_errors(text: &[u8]) -> Vec<String> {
    match serde_json::from_slice::<fhir_model::stu3::resources::Bundle>(text) {
        Ok(_) => Vec::new(),
        Err(e) => {
            let mut out = vec![format!("Bundle: {e}")];
            if let Ok(v) = serde_json::from_slice::<Value>(text) {
                locate_fhir_model_errors(&mut out, "Bundle", &v);
            }
            out
        }
    }
}

#[cfg(debug_assertions)]
fn locate_fhir_model_errors(out: &mut Vec<String>, label: &str, bundle: &Value) {
    let Some(entries) = bundle.get("entry").and_then(Value::as_array) else {
        return;
    };
    for (i, e) in entries.iter().enumerate() {
        let Some(r) = e.get("resource") else { continue };
        let rt = r.get("resourceType").and_then(Value::as_str).unwrap_or("?");
        let here = format!("{label}.entry[{i}].resource({rt})");
        // Through text again, so that only one deserializer type is
        // instantiated for fhir-model (the `from_slice` one above).
        let text = serde_json::to_vec(r).expect("re-serialise");
        if let Err(err) = serde_json::from_slice::<fhir_model::stu3::resources::Resource>(&text) {
            out.push(format!("{here}: {err}"));
        }
        if rt == "Bundle" {
            locate_fhir_model_errors(out, &here, r);
        }
    }
}

#[test]
#[cfg_attr(
    not(debug_assertions),
    ignore = "fhir-model oracle is compiled only in debug builds"
)]
fn golden_bundles_deserialise_with_fhir_model() {
    let mut failures = Vec::new();
    for p in golden_files() {
        for e in fhir_model_errors(&read(&p)) {
            failures.push(format!("{}: {e}", name(&p)));
        }
    }
    assert!(
        failures.is_empty(),
        "fhir-model (stu3) rejects golden bundles:\n{}",
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Mutation helpers (negative controls)
// ---------------------------------------------------------------------------

/// The document Bundle inside the message Bundle.
fn doc_bundle(msg: &mut Value) -> &mut Value {
    msg["entry"]
        .as_array_mut()
        .expect("message Bundle.entry")
        .iter_mut()
        .map(|e| &mut e["resource"])
        .find(|r| r["resourceType"] == "Bundle")
        .expect("document Bundle entry")
}

/// First resource of a type inside the document Bundle.
fn doc_resource<'a>(msg: &'a mut Value, rt: &str) -> &'a mut Value {
    doc_bundle(msg)["entry"]
        .as_array_mut()
        .expect("document Bundle.entry")
        .iter_mut()
        .map(|e| &mut e["resource"])
        .find(|r| r["resourceType"] == rt)
        .unwrap_or_else(|| panic!("no {rt} in the document bundle"))
}

fn obj(v: &mut Value) -> &mut serde_json::Map<String, Value> {
    v.as_object_mut().expect("JSON object")
}

type Mutation = (&'static str, fn(&mut Value));

const SET_GENDER_F: Mutation = ("Patient.gender = \"F\"", |m| {
    obj(doc_resource(m, "Patient")).insert("gender".into(), json!("F"));
});
const ADD_NHS_NUMBER_ELEMENT: Mutation = ("unknown element Patient.nhsNumber", |m| {
    obj(doc_resource(m, "Patient")).insert("nhsNumber".into(), json!("9434765919"));
});
const PRACTICIONER: Mutation = ("entry resourceType = \"Practicioner\"", |m| {
    obj(doc_resource(m, "Practitioner")).insert("resourceType".into(), json!("Practicioner"));
});
const BUNDLE_TYPE_DOCMENT: Mutation = ("document Bundle.type = \"docment\"", |m| {
    obj(doc_bundle(m)).insert("type".into(), json!("docment"));
});
const COMPOSITION_STATUS_DONE: Mutation = ("Composition.status = \"done\"", |m| {
    obj(doc_resource(m, "Composition")).insert("status".into(), json!("done"));
});
const PATIENT_ACTIVE_YES: Mutation = ("Patient.active = \"yes\"", |m| {
    obj(doc_resource(m, "Patient")).insert("active".into(), json!("yes"));
});
const PATIENT_NAME_OBJECT: Mutation = ("Patient.name as an object", |m| {
    let p = obj(doc_resource(m, "Patient"));
    let first = p
        .get("name")
        .and_then(|n| n.get(0))
        .cloned()
        .unwrap_or(json!({"family": "Doe"}));
    p.insert("name".into(), first);
});
const FULLURL_NUMBER: Mutation = ("entry.fullUrl = number", |m| {
    obj(&mut doc_bundle(m)["entry"][1]).insert("fullUrl".into(), json!(42));
});
const COMPOSITION_SUBJECT_MISSING: Mutation = ("Composition.subject missing", |m| {
    assert!(
        obj(doc_resource(m, "Composition"))
            .remove("subject")
            .is_some(),
        "golden Composition has a subject"
    );
});
const COMPOSITION_STATUS_MISSING: Mutation = ("Composition.status missing", |m| {
    assert!(
        obj(doc_resource(m, "Composition"))
            .remove("status")
            .is_some(),
        "golden Composition has a status"
    );
});
const COMPOSITION_TITLE_MISSING: Mutation = ("Composition.title missing", |m| {
    assert!(
        obj(doc_resource(m, "Composition"))
            .remove("title")
            .is_some(),
        "golden Composition has a title"
    );
});
const BUNDLE_TYPE_MISSING: Mutation = ("document Bundle.type missing", |m| {
    assert!(
        obj(doc_bundle(m)).remove("type").is_some(),
        "golden document Bundle has a type"
    );
});
const BIRTHDATE_SLASHES: Mutation = ("Patient.birthDate = \"01/01/1970\"", |m| {
    obj(doc_resource(m, "Patient")).insert("birthDate".into(), json!("01/01/1970"));
});
const COMPOSITION_DATE_NO_TZ: Mutation = ("Composition.date without time zone", |m| {
    obj(doc_resource(m, "Composition")).insert("date".into(), json!("2024-03-14T10:30:00"));
});
const COMPOSITION_SUBJECT_ARRAY: Mutation = ("Composition.subject as an array", |m| {
    let c = obj(doc_resource(m, "Composition"));
    let s = c
        .get("subject")
        .cloned()
        .expect("golden Composition has a subject");
    c.insert("subject".into(), json!([s]));
});
const BUNDLE_IDENTIFIER_ARRAY: Mutation = ("message Bundle.identifier as an array", |m| {
    let b = obj(m);
    let id = b
        .get("identifier")
        .cloned()
        .expect("golden message Bundle has an identifier");
    b.insert("identifier".into(), json!([id]));
});

fn mutated(base: &Value, m: &Mutation) -> Value {
    let mut v = base.clone();
    (m.1)(&mut v);
    assert_ne!(&v, base, "mutation {:?} changed nothing", m.0);
    v
}

// ---------------------------------------------------------------------------
// Negative controls
// ---------------------------------------------------------------------------

/// Defects the STU3 schema is known to catch (A.2, column V5): both the
/// whole-bundle validation and the per-resource validation must reject each.
#[test]
fn json_schema_rejects_known_defects() {
    let base = control_base();
    let (w, e) = schema_errors(&base);
    assert!(
        w.is_empty() && e.is_empty(),
        "control base is not valid: {w:?} {e:?}"
    );
    let mut missed = Vec::new();
    for m in [
        SET_GENDER_F,
        ADD_NHS_NUMBER_ELEMENT,
        PRACTICIONER,
        BUNDLE_TYPE_DOCMENT,
        COMPOSITION_STATUS_DONE,
        PATIENT_ACTIVE_YES,
        PATIENT_NAME_OBJECT,
        FULLURL_NUMBER,
        COMPOSITION_SUBJECT_MISSING,
    ] {
        let (whole, each) = schema_errors(&mutated(&base, &m));
        if whole.is_empty() {
            missed.push(format!("{}: whole-bundle validation accepted it", m.0));
        }
        if each.is_empty() {
            missed.push(format!("{}: per-resource validation accepted it", m.0));
        }
    }
    assert!(
        missed.is_empty(),
        "STU3 schema failed negative controls:\n{}",
        missed.join("\n")
    );
}

/// The per-resource walk must name the broken resource, not only the bundle.
#[test]
fn json_schema_per_resource_errors_point_at_the_resource() {
    let (_, each) = schema_errors(&mutated(&control_base(), &SET_GENDER_F));
    assert!(
        each.iter()
            .any(|e| e.contains("(Patient)") && e.contains("/gender")),
        "expected a Patient /gender error, got {each:?}"
    );
    let (_, each) = schema_errors(&mutated(&control_base(), &PRACTICIONER));
    assert!(
        each.iter()
            .any(|e| e.contains("unknown STU3 resourceType \"Practicioner\"")),
        "got {each:?}"
    );
}

/// Defects fhir-model is known to catch (A.2, column V4).
#[test]
#[cfg_attr(
    not(debug_assertions),
    ignore = "fhir-model oracle is compiled only in debug builds"
)]
fn fhir_model_rejects_known_defects() {
    let base = control_base();
    let text = serde_json::to_vec(&base).expect("serialise");
    let errs = fhir_model_errors(&text);
    assert!(errs.is_empty(), "control base is not accepted: {errs:?}");
    let mut missed = Vec::new();
    for m in [
        COMPOSITION_STATUS_MISSING,
        BIRTHDATE_SLASHES,
        COMPOSITION_DATE_NO_TZ,
        COMPOSITION_TITLE_MISSING,
        BUNDLE_TYPE_MISSING,
        COMPOSITION_SUBJECT_MISSING,
        BUNDLE_TYPE_DOCMENT,
        COMPOSITION_STATUS_DONE,
        SET_GENDER_F,
        PATIENT_ACTIVE_YES,
        PATIENT_NAME_OBJECT,
        PRACTICIONER,
        COMPOSITION_SUBJECT_ARRAY,
        BUNDLE_IDENTIFIER_ARRAY,
        FULLURL_NUMBER,
    ] {
        let text = serde_json::to_vec(&mutated(&base, &m)).expect("serialise");
        if fhir_model_errors(&text).is_empty() {
            missed.push(m.0);
        }
    }
    assert!(
        missed.is_empty(),
        "fhir-model accepted defective bundles: {missed:?}"
    );
}

/// The blind spots that justify running both checkers (A.2): if one of
/// these starts failing, the checker got stricter — move the mutant into
/// its negative controls above.
#[test]
#[cfg_attr(
    not(debug_assertions),
    ignore = "fhir-model oracle is compiled only in debug builds"
)]
fn known_blind_spots_are_covered_by_the_other_checker() {
    let base = control_base();
    // fhir-model ignores unknown elements; the schema catches them.
    let m = mutated(&base, &ADD_NHS_NUMBER_ELEMENT);
    assert!(fhir_model_errors(&serde_json::to_vec(&m).expect("serialise")).is_empty());
    assert!(!schema_errors(&m).0.is_empty());
    // The schema's regexes are unanchored and it lists no required
    // primitives; fhir-model catches both.
    for mt in [BIRTHDATE_SLASHES, COMPOSITION_STATUS_MISSING] {
        let m = mutated(&base, &mt);
        let (w, e) = schema_errors(&m);
        assert!(
            w.is_empty() && e.is_empty(),
            "{}: schema now catches it: {w:?} {e:?}",
            mt.0
        );
        assert!(
            !fhir_model_errors(&serde_json::to_vec(&m).expect("serialise")).is_empty(),
            "{}",
            mt.0
        );
    }
}
