//! Acceptance on the public NHS samples in `../shared/samples` (not part of
//! the repository; the test passes with a SKIPPED line when they are absent).
//! Every bare NHS CDA inpatient discharge document found there must convert,
//! and its bundle must carry the patient, dates, author, custodian, section
//! titles and (almost) every word of the source narrative. The same checks
//! run over the samples' NHS CDA documents of other types relabelled as
//! discharge: shapes the mapping was not written from.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::doccheck::{
    check_document, decode_entities, drop_composition_sections, strip_tags, words,
};
use common::{convert, ledger, read_tree};
use itkbridge::xml::{decode, Document, NS_HL7};
use serde_json::Value;

const NPFITLC: &str = "NPFIT:HL7:Localisation";
const DISCHARGE_MESSAGE_TYPE: &str = "POCD_MT150001UK06";
const DISCHARGE_DOCUMENT_CODE: &str = "163391000000107";

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples")
}

/// The samples folder, or `None` after a visible SKIPPED line when it is
/// absent (written straight to stderr so the skip shows without
/// --nocapture: the test harness only captures print macros).
fn samples_dir_or_skip() -> Option<PathBuf> {
    let dir = samples_dir();
    if dir.is_dir() {
        return Some(dir);
    }
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED: ../shared/samples not present");
    None
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
    let Some(dir) = samples_dir_or_skip() else {
        return;
    };
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

    convert_and_check(&found);
}

/// Real NHS CDA documents of the other message types in the samples
/// (outpatient, NHS 111, HealthSpace, nullification, social-care notices),
/// relabelled as inpatient discharge (`npfitlc:messageType` set to
/// `POCD_MT150001UK06`, nothing else touched): documents of shapes the
/// discharge mapping was not written from. They must convert with every
/// fact, section title and narrative word in place, like the discharge
/// samples — a check that the mapping generalises rather than fits two files.
#[test]
fn other_real_nhs_cda_relabelled_as_discharge_convert_faithfully() {
    let Some(dir) = samples_dir_or_skip() else {
        return;
    };
    let found: Vec<(String, Vec<u8>)> = read_tree(&dir)
        .into_iter()
        .filter_map(|(rel, b)| relabel_as_discharge(&b).map(|b| (rel, b)))
        .collect();
    println!(
        "relabelled NHS CDA documents: {:?}",
        found.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    assert!(
        found.len() >= 5,
        "expected at least five bare NHS CDA documents of other types under {}, found {}",
        dir.display(),
        found.len()
    );
    convert_and_check(&found);
}

/// A bare UTF-8 NHS CDA document whose `npfitlc:messageType` names another
/// type, with that one attribute value changed to the discharge type.
fn relabel_as_discharge(bytes: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let doc = Document::parse(text).ok()?;
    let root = doc.root();
    if !doc.is(root, NS_HL7, "ClinicalDocument") {
        return None;
    }
    let mt = doc.child(root, NPFITLC, "messageType")?;
    let old = doc.attr(mt, "extension")?;
    if old == DISCHARGE_MESSAGE_TYPE {
        return None;
    }
    // The element's start tag begins at its position; the attribute is in it.
    let start = doc.node(mt).pos as usize;
    let end = start + text[start..].find('>')?;
    let tag = &text[start..end];
    let at = start + tag.find(&format!("extension=\"{old}\""))?;
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..at]);
    out.push_str(&format!("extension=\"{DISCHARGE_MESSAGE_TYPE}\""));
    out.push_str(&text[at + "extension=\"\"".len() + old.len()..]);
    Some(out.into_bytes())
}

/// Convert `found` (relative name, bytes) in one run and check every bundle
/// against its source; also check that the checks notice lost sections.
fn convert_and_check(found: &[(String, Vec<u8>)]) {
    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let mut names = BTreeMap::new();
    for (rel, bytes) in found {
        let flat = rel.replace('/', "__");
        std::fs::write(input.join(&flat), bytes).unwrap();
        names.insert(flat, (rel.clone(), bytes.clone()));
    }
    let out = t.path().join("out");
    let r = convert(&input, &out, &[]);
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
