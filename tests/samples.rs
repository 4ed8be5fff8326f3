//! Acceptance on the public NHS samples in `../shared/samples` (not part of
//! the repository; the test passes with a SKIPPED line when they are absent).
//! Every bare NHS CDA inpatient discharge document found there must convert,
//! and its bundle must carry the patient, dates, author, custodian, section
//! titles and (almost) every word of the source narrative.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::doccheck::{
    check_document, decode_entities, drop_composition_sections, strip_tags, words,
};
use common::{ledger, read_tree, run};
use itkbridge::xml::{decode, Document, NS_HL7};
use serde_json::Value;

const NPFITLC: &str = "NPFIT:HL7:Localisation";
const DISCHARGE_MESSAGE_TYPE: &str = "POCD_MT150001UK06";
const DISCHARGE_DOCUMENT_CODE: &str = "163391000000107";

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples")
}

/// Whether `bytes` is a bare NHS CDA inpatient discharge document.
fn is_bare_discharge(bytes: &[u8]) -> bool {
    let Ok(d) = decode(bytes) else { return false };
    let Ok(doc) = Document::parse(&d.text) else {
        return false;
    };
    let root = doc.root();
    if !doc.is(root, NS_HL7, "ClinicalDocument") {
        return false;
    }
    match doc.child(root, NPFITLC, "messageType") {
        Some(mt) => doc.attr(mt, "extension") == Some(DISCHARGE_MESSAGE_TYPE),
        None => {
            doc.child(root, NS_HL7, "code")
                .and_then(|c| doc.attr(c, "code"))
                == Some(DISCHARGE_DOCUMENT_CODE)
        }
    }
}

#[test]
fn public_discharge_samples_convert_faithfully() {
    let dir = samples_dir();
    if !dir.is_dir() {
        // Written straight to stderr so the skip is visible without
        // --nocapture (the test harness only captures print macros).
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), "SKIPPED: ../shared/samples not present");
        return;
    }
    let found: Vec<(String, Vec<u8>)> = read_tree(&dir)
        .into_iter()
        .filter(|(_, b)| is_bare_discharge(b))
        .collect();
    println!(
        "bare NHS CDA discharge documents: {:?}",
        found.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    assert!(
        !found.is_empty(),
        "no bare discharge document found under {}",
        dir.display()
    );

    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let mut names = BTreeMap::new();
    for (rel, bytes) in &found {
        let flat = rel.replace('/', "__");
        std::fs::write(input.join(&flat), bytes).unwrap();
        names.insert(flat, (rel.clone(), bytes.clone()));
    }
    let out = t.path().join("out");
    let r = run(&[
        "convert".as_ref(),
        input.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--progress".as_ref(),
        "never".as_ref(),
    ]);
    let lines = ledger(&out);
    assert_eq!(
        lines.len(),
        found.len(),
        "one ledger line per sample\n{}",
        r.dump()
    );
    let not_converted: Vec<String> = lines
        .iter()
        .filter(|l| l["outcome"] != "converted")
        .map(|l| l.to_string())
        .collect();
    assert!(
        not_converted.is_empty(),
        "samples not converted:\n{}",
        not_converted.join("\n")
    );
    assert_eq!(r.code, 0, "{}", r.dump());

    let mut problems = Vec::new();
    for l in &lines {
        let flat = l["input"].as_str().unwrap();
        let (rel, src) = &names[flat];
        let bytes = std::fs::read(out.join(l["output"].as_str().unwrap())).unwrap();
        let bundle: Value = serde_json::from_slice(&bytes).unwrap();
        problems.extend(check_document(rel, src, &bundle));
    }
    assert!(problems.is_empty(), "problems:\n{}", problems.join("\n"));

    // The checks can fail: the same bundles without their Composition
    // sections must be reported (lost titles and words).
    for l in &lines {
        let (rel, src) = &names[l["input"].as_str().unwrap()];
        let bytes = std::fs::read(out.join(l["output"].as_str().unwrap())).unwrap();
        let mut bundle: Value = serde_json::from_slice(&bytes).unwrap();
        drop_composition_sections(&mut bundle);
        let found = check_document(rel, src, &bundle);
        assert!(
            found.iter().any(|p| p.contains("word coverage")),
            "{rel}: removing every section was not noticed: {found:?}"
        );
    }
}

#[test]
fn helpers_behave() {
    let mut w = BTreeSet::new();
    words("Café ab abcd ABCD x&y naïve-Test", &mut w);
    assert_eq!(
        w.into_iter().collect::<Vec<_>>(),
        ["abcd", "café", "naïve", "test"]
    );
    assert_eq!(strip_tags("<div><p>a&amp;b&#163;</p>c</div>"), "  a&b£ c ");
    assert_eq!(decode_entities("&unknown; &#x41;"), "&unknown; A");
}
