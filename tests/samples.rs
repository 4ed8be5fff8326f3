//! Acceptance on the public NHS samples in `../shared/samples` (not part of
//! the repository; the test passes with a SKIPPED line when they are absent).
//! Every bare NHS CDA inpatient discharge document found there must convert,
//! and its bundle must carry the patient, dates, author, custodian, section
//! titles and (almost) every word of the source narrative.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::{ledger, read_tree, run};
use itkbridge::xml::{decode, Document, NodeId, NodeKind, NS_HL7};
use serde_json::Value;

const NPFITLC: &str = "NPFIT:HL7:Localisation";
const DISCHARGE_MESSAGE_TYPE: &str = "POCD_MT150001UK06";
const DISCHARGE_DOCUMENT_CODE: &str = "163391000000107";
const NHS_NUMBER_ROOTS: [&str; 2] = [
    "2.16.840.1.113883.2.1.4.1",
    "2.16.840.1.113883.2.1.3.2.4.18.23",
];
const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
const MIN_WORD_COVERAGE: f64 = 0.95;

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

// ---------------------------------------------------------------------------
// Small XML helpers over the crate's parser
// ---------------------------------------------------------------------------

fn path(doc: &Document, from: NodeId, steps: &[&str]) -> Vec<NodeId> {
    let mut cur = vec![from];
    for s in steps {
        cur = cur
            .into_iter()
            .flat_map(|n| {
                doc.elements(n)
                    .filter(|&c| doc.is(c, NS_HL7, s))
                    .collect::<Vec<_>>()
            })
            .collect();
    }
    cur
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text of every text node below `id`, each followed by a space (so words
/// never run together across element boundaries).
fn texts(doc: &Document, id: NodeId, out: &mut String) {
    for c in doc.children(id) {
        match doc.node(c).kind {
            NodeKind::Text => {
                out.push_str(doc.text(c));
                out.push(' ');
            }
            NodeKind::Element => texts(doc, c, out),
        }
    }
}

/// Case-folded runs of four or more letters.
fn words(s: &str, out: &mut BTreeSet<String>) {
    let mut cur = String::new();
    for ch in s.chars().chain(std::iter::once(' ')) {
        if ch.is_alphabetic() {
            cur.push(ch);
        } else {
            if cur.chars().count() >= 4 {
                out.insert(cur.to_lowercase());
            }
            cur.clear();
        }
    }
}

// ---------------------------------------------------------------------------
// Small JSON / XHTML helpers
// ---------------------------------------------------------------------------

/// Replace tags by spaces and decode the XML entities of an XHTML string.
fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in s.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    decode_entities(&out)
}

fn decode_entities(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(end) = tail.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let name = &tail[1..end];
        let ch = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ if name.starts_with("#x") || name.starts_with("#X") => {
                u32::from_str_radix(&name[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
            }
            _ if name.starts_with('#') => name[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every string value in `v` (XHTML strings with tags stripped).
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.trim_start().starts_with('<') => out.push(strip_tags(s)),
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Resources of the message bundle and of any nested bundle, by fullUrl and by Type/id.
fn index_resources<'v>(b: &'v Value, out: &mut BTreeMap<String, &'v Value>) {
    for e in b["entry"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        let r = &e["resource"];
        if let Some(u) = e["fullUrl"].as_str() {
            out.insert(u.to_string(), r);
        }
        if let (Some(t), Some(id)) = (r["resourceType"].as_str(), r["id"].as_str()) {
            out.insert(format!("{t}/{id}"), r);
        }
        if r["resourceType"] == "Bundle" {
            index_resources(r, out);
        }
    }
}

fn resolve<'v>(res: &BTreeMap<String, &'v Value>, reference: &Value) -> Option<&'v Value> {
    reference["reference"]
        .as_str()
        .and_then(|r| res.get(r).copied())
}

fn sections<'v>(v: &'v Value, out: &mut Vec<&'v Value>) {
    for s in v["section"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        out.push(s);
        sections(s, out);
    }
}

fn json_strings(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    strings(v, &mut out);
    out
}

// ---------------------------------------------------------------------------
// The checks for one document
// ---------------------------------------------------------------------------

/// Check one converted bundle against its source; returns problems found.
fn check_document(name: &str, src: &[u8], bundle: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut fail = |m: String| problems.push(format!("{name}: {m}"));
    let d = decode(src).unwrap();
    let doc = Document::parse(&d.text).unwrap();
    let root = doc.root();
    let mut res = BTreeMap::new();
    index_resources(bundle, &mut res);
    let Some(comp) = res
        .values()
        .copied()
        .find(|r| r["resourceType"] == "Composition")
    else {
        fail("no Composition".into());
        return problems;
    };

    // Patient: NHS number, names, birth date, gender.
    let patient = resolve(&res, &comp["subject"]);
    if patient.is_none_or(|p| p["resourceType"] != "Patient") {
        fail("Composition.subject does not resolve to a Patient".into());
    }
    let patient = patient.cloned().unwrap_or(Value::Null);
    let role = path(&doc, root, &["recordTarget", "patientRole"]);
    for id in role.iter().flat_map(|&r| path(&doc, r, &["id"])) {
        if !doc
            .attr(id, "root")
            .is_some_and(|r| NHS_NUMBER_ROOTS.contains(&r))
        {
            continue;
        }
        let Some(nhs) = doc.attr(id, "extension") else {
            continue;
        };
        let found = patient["identifier"].as_array().is_some_and(|a| {
            a.iter()
                .any(|i| i["system"] == NHS_NUMBER_SYSTEM && i["value"] == nhs.trim())
        });
        if !found {
            fail(format!(
                "NHS number {nhs} is not a Patient identifier with system {NHS_NUMBER_SYSTEM}"
            ));
        }
    }
    let name_strings = json_strings(&patient["name"]);
    let name_text = collapse(&name_strings.join(" "));
    for n in role
        .iter()
        .flat_map(|&r| path(&doc, r, &["patient", "name"]))
    {
        let parts: Vec<NodeId> = doc
            .elements(n)
            .filter(|&c| doc.is(c, NS_HL7, "given") || doc.is(c, NS_HL7, "family"))
            .collect();
        let wanted: Vec<String> = if parts.is_empty() {
            vec![collapse(&doc.string_value(n))]
        } else {
            parts
                .iter()
                .map(|&p| collapse(&doc.string_value(p)))
                .collect()
        };
        for w in wanted.into_iter().filter(|w| !w.is_empty()) {
            if !name_strings.iter().any(|s| collapse(s) == w) && !name_text.contains(&w) {
                fail(format!("patient name part {w:?} not in Patient.name"));
            }
        }
    }
    for bt in role
        .iter()
        .flat_map(|&r| path(&doc, r, &["patient", "birthTime"]))
    {
        if let Some(v) = doc.attr(bt, "value").filter(|v| v.len() >= 8) {
            let want = format!("{}-{}-{}", &v[0..4], &v[4..6], &v[6..8]);
            if patient["birthDate"] != want.as_str() {
                fail(format!(
                    "Patient.birthDate {} != {want}",
                    patient["birthDate"]
                ));
            }
        }
    }
    for g in role
        .iter()
        .flat_map(|&r| path(&doc, r, &["patient", "administrativeGenderCode"]))
    {
        let Some(code) = doc.attr(g, "code") else {
            continue;
        };
        let want = match code {
            "1" | "M" => Some("male"),
            "2" | "F" => Some("female"),
            "9" | "UN" => Some("other"),
            "0" => Some("unknown"),
            _ => None,
        };
        match (want, patient["gender"].as_str()) {
            (_, None) => fail(format!("gender code {code} not mapped (no Patient.gender)")),
            (Some(w), Some(got)) if w != got => {
                fail(format!("gender code {code} mapped to {got}, expected {w}"))
            }
            _ => {}
        }
    }

    // Composition.date.
    if let Some(et) = doc
        .child(root, NS_HL7, "effectiveTime")
        .and_then(|e| doc.attr(e, "value"))
    {
        if et.len() >= 8 {
            let want = format!("{}-{}-{}", &et[0..4], &et[4..6], &et[6..8]);
            if !comp["date"].as_str().is_some_and(|d| d.starts_with(&want)) {
                fail(format!(
                    "Composition.date {} does not start with {want}",
                    comp["date"]
                ));
            }
        }
    }

    // Authors: each named author is a Practitioner referenced by Composition.author.
    let author_names: Vec<String> = comp["author"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .filter_map(|a| resolve(&res, a))
        .filter(|r| r["resourceType"] == "Practitioner")
        .map(|r| collapse(&json_strings(&r["name"]).join(" ")))
        .collect();
    for n in path(
        &doc,
        root,
        &["author", "assignedAuthor", "assignedPerson", "name"],
    ) {
        let parts: Vec<String> = doc
            .elements(n)
            .filter(|&c| doc.is(c, NS_HL7, "given") || doc.is(c, NS_HL7, "family"))
            .map(|p| collapse(&doc.string_value(p)))
            .collect();
        let parts = if parts.is_empty() {
            vec![collapse(&doc.string_value(n))]
        } else {
            parts
        };
        if !author_names
            .iter()
            .any(|a| parts.iter().all(|p| a.contains(p.as_str())))
        {
            fail(format!("author {parts:?} not in a Practitioner referenced by Composition.author ({author_names:?})"));
        }
    }

    // Custodian ODS code.
    let custodian = resolve(&res, &comp["custodian"])
        .cloned()
        .unwrap_or(Value::Null);
    for id in path(
        &doc,
        root,
        &[
            "custodian",
            "assignedCustodian",
            "representedCustodianOrganization",
            "id",
        ],
    ) {
        let Some(code) = doc.attr(id, "extension") else {
            continue;
        };
        let found = custodian["identifier"].as_array().is_some_and(|a| {
            a.iter().any(|i| {
                i["value"]
                    .as_str()
                    .is_some_and(|v| v.eq_ignore_ascii_case(code.trim()))
            })
        });
        if !found {
            fail(format!(
                "custodian code {code} not in the custodian Organization's identifiers ({})",
                custodian["identifier"]
            ));
        }
    }

    // Section titles and narrative words.
    let mut out_sections = Vec::new();
    sections(comp, &mut out_sections);
    let out_section_text: Vec<String> = out_sections
        .iter()
        .flat_map(|s| {
            [
                s["title"].as_str().map(collapse),
                s["text"]["div"].as_str().map(|d| collapse(&strip_tags(d))),
            ]
        })
        .flatten()
        .collect();
    let mut src_words = BTreeSet::new();
    for sec in doc
        .descendants(root)
        .into_iter()
        .filter(|&n| doc.is(n, NS_HL7, "section"))
    {
        if let Some(t) = doc.child(sec, NS_HL7, "title") {
            let title = collapse(&doc.string_value(t));
            if !title.is_empty() && !out_section_text.iter().any(|s| s.contains(&title)) {
                fail(format!(
                    "section title {title:?} appears in no Composition section"
                ));
            }
            words(&title, &mut src_words);
        }
        if let Some(t) = doc.child(sec, NS_HL7, "text") {
            let mut s = String::new();
            texts(&doc, t, &mut s);
            words(&s, &mut src_words);
        }
    }
    let mut out_words = BTreeSet::new();
    for s in json_strings(bundle) {
        words(&s, &mut out_words);
    }
    let missing: Vec<&String> = src_words.difference(&out_words).collect();
    let coverage = if src_words.is_empty() {
        1.0
    } else {
        1.0 - missing.len() as f64 / src_words.len() as f64
    };
    println!(
        "{name}: word coverage {:.1}% ({} of {} distinct words){}",
        coverage * 100.0,
        src_words.len() - missing.len(),
        src_words.len(),
        if missing.is_empty() {
            String::new()
        } else {
            format!(
                "; missing: {:?}",
                missing.iter().take(30).collect::<Vec<_>>()
            )
        }
    );
    if coverage < MIN_WORD_COVERAGE {
        fail(format!(
            "word coverage {:.1}% < {:.0}%",
            coverage * 100.0,
            MIN_WORD_COVERAGE * 100.0
        ));
    }
    problems
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

fn drop_composition_sections(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if o.get("resourceType").is_some_and(|t| t == "Composition") {
                o.remove("section");
            }
            o.values_mut().for_each(drop_composition_sections);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_composition_sections),
        _ => {}
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
