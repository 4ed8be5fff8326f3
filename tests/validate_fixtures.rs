//! The clean validator fixtures in `testdata/validate/clean/` (one synthetic,
//! hand-built ITK3 message per Transfer of Care document type; see
//! `testdata/validate/README.md`) must pass the structural ITK3 validator with
//! **no issue at all**: no fatal/error (they are the valid bases of the
//! mutation suite, so every issue a mutant raises must come from the mutation)
//! and no warning either.
//!
//! Warnings that are accepted on purpose would be listed in [`ALLOWED_WARNINGS`]
//! with the reason next to them; there are none: every fixture carries all the
//! IG-"Mandatory" sections of its type (`ig-mandatory-section`), a `receiver`
//! (`header-party`), a `focus` (`header-focus`) and `meta.profile` on every
//! resource (`meta-profile`).

use std::path::PathBuf;

use itkbridge::validate::{validate_full, Issue, Severity};
use serde_json::Value;

/// (file, expected `MessageHeader.event.code`, expected Composition profile).
const FIXTURES: &[(&str, &str, &str)] = &[
    (
        "edis.json",
        "ITK003D",
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-EDIS-Composition-1",
    ),
    (
        "mh.json",
        "ITK004D",
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-MH-Composition-1",
    ),
    (
        "ecd.json",
        "ITK005D",
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-ECD-Composition-1",
    ),
    (
        "opl.json",
        "ITK006D",
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-OPL-Composition-1",
    ),
];

/// (file, rule id) pairs of warnings accepted on purpose, each with its reason
/// in a comment. Empty: the fixtures are expected to be warning-free.
const ALLOWED_WARNINGS: &[(&str, &str)] = &[];

fn clean_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/validate/clean")
}

fn load(file: &str) -> Value {
    let path = clean_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

fn render(issues: &[&Issue]) -> String {
    issues
        .iter()
        .map(|i| format!("  {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn check(file: &str, event: &str, composition_profile: &str) {
    let bundle = load(file);

    // The fixture is the document type it claims to be (guards against a
    // copy-paste mix-up between the four files).
    let header = &bundle["entry"][0]["resource"];
    assert_eq!(
        header["event"]["code"].as_str(),
        Some(event),
        "{file}: MessageHeader.event.code"
    );
    let document = bundle["entry"]
        .as_array()
        .and_then(|es| {
            es.iter()
                .find(|e| e["resource"]["resourceType"] == "Bundle")
        })
        .unwrap_or_else(|| panic!("{file}: no document Bundle entry"));
    assert_eq!(
        document["resource"]["entry"][0]["resource"]["meta"]["profile"][0].as_str(),
        Some(composition_profile),
        "{file}: Composition meta.profile"
    );

    // The full validator (ITK3 structure, core STU3, every declared profile);
    // information issues (bindings a terminology server would be needed
    // for) are not findings.
    let issues: Vec<Issue> = validate_full(&bundle)
        .into_iter()
        .filter(|i| i.severity != Severity::Information)
        .collect();
    let blocking: Vec<&Issue> = issues.iter().filter(|i| i.severity.is_blocking()).collect();
    assert!(
        blocking.is_empty(),
        "{file}: {} blocking issue(s); all issues:\n{}",
        blocking.len(),
        render(&issues.iter().collect::<Vec<_>>())
    );
    let unexpected: Vec<&Issue> = issues
        .iter()
        .filter(|i| {
            !ALLOWED_WARNINGS
                .iter()
                .any(|(f, rule)| *f == file && *rule == i.rule)
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "{file}: {} unexpected non-blocking issue(s):\n{}",
        unexpected.len(),
        render(&unexpected)
    );
}

#[test]
fn edis_fixture_is_clean() {
    let (f, e, p) = FIXTURES[0];
    check(f, e, p);
}

#[test]
fn mh_fixture_is_clean() {
    let (f, e, p) = FIXTURES[1];
    check(f, e, p);
}

#[test]
fn ecd_fixture_is_clean() {
    let (f, e, p) = FIXTURES[2];
    check(f, e, p);
}

#[test]
fn opl_fixture_is_clean() {
    let (f, e, p) = FIXTURES[3];
    check(f, e, p);
}

/// Every JSON file in the folder is one of the four covered fixtures, so a
/// new clean base cannot be added without being checked here.
#[test]
fn clean_folder_holds_exactly_the_four_fixtures() {
    let mut found: Vec<String> = std::fs::read_dir(clean_dir())
        .expect("testdata/validate/clean exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    found.sort();
    let mut expected: Vec<String> = FIXTURES.iter().map(|(f, _, _)| f.to_string()).collect();
    expected.sort();
    assert_eq!(found, expected);
}

#[test]
fn convert_validation_is_the_full_one_without_information() {
    for name in ["edis", "mh", "ecd", "opl"] {
        let path = format!(
            "{}/testdata/validate/clean/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let mut bundle: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        // One error, one warning and some information in the same bundle.
        bundle["entry"][3]["resource"]["entry"][0]["resource"]["section"][0]["title"] =
            serde_json::Value::from("Wrong");
        bundle["entry"][0]["resource"]["source"]["endpoint"] = serde_json::Value::from("x");
        let full: Vec<String> = itkbridge::validate::validate_full(&bundle)
            .into_iter()
            .filter(|i| i.severity != Severity::Information)
            .map(|i| i.to_string())
            .collect();
        let convert: Vec<String> = itkbridge::validate::validate_for_convert(&bundle)
            .into_iter()
            .map(|i| i.to_string())
            .collect();
        assert!(!full.is_empty());
        assert_eq!(full, convert, "{name}");
        assert!(itkbridge::validate::validate_full(&bundle)
            .iter()
            .any(|i| i.severity == Severity::Information));
    }
}
