//! Discharge documents whose body is a CDA `nonXMLBody` instead of sections
//! (crosswalk R7, §5.2): plain text — inline or base64 — is carried as
//! paragraphs in the Clinical summary with an `unstructured-body` warning
//! and counted in the report's coverage; a PDF, any other media type, a
//! compressed body or a reference to an external document is `skipped`
//! with rule `unstructured-document` and its position, and nothing is
//! written for it. Inputs are made from the synthetic
//! `testdata/discharge/discharge_05_duplicate_id_a.xml` by replacing its
//! `structuredBody` (so no fixture can drift from the real shape).

mod common;

use common::{bundle_of, convert as run_convert, ledger, report, section_div};
use serde_json::Value;

/// discharge_05 with its structuredBody replaced by `body`.
fn with_body(body: &str) -> String {
    let src = std::fs::read_to_string(
        common::root().join("testdata/discharge/discharge_05_duplicate_id_a.xml"),
    )
    .expect("fixture");
    let start = src.find("<structuredBody").expect("structuredBody");
    let end = src.find("</structuredBody>").expect("end") + "</structuredBody>".len();
    format!("{}{body}{}", &src[..start], &src[end..])
}

const PLAIN: &str = "\n\tDischarge letter\n\tAdmitted with community-acquired pneumonia.\n\n\tTreated with amoxicillin &amp; oxygen; improving steadily.\n\t\tFollow-up chest radiograph in six weeks.";

fn plain_body(attrs: &str, content: &str) -> String {
    format!(
        "<nonXMLBody classCode=\"DOCBODY\" moodCode=\"EVN\"><text{attrs}>{content}</text></nonXMLBody>"
    )
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Convert `docs` (name → text) in one run; the ledger lines by input name,
/// the report, and the output folder.
fn convert(
    docs: &[(&str, String)],
) -> (
    std::collections::BTreeMap<String, Value>,
    Value,
    tempfile::TempDir,
) {
    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for (name, text) in docs {
        std::fs::write(input.join(name), text).unwrap();
    }
    let out = t.path().join("out");
    let r = run_convert(&input, &out, &[]);
    assert!(r.code == 0, "{}", r.dump());
    let lines = ledger(&out)
        .into_iter()
        .map(|l| (l["input"].as_str().unwrap().to_string(), l))
        .collect();
    (lines, report(&out), t)
}

fn clinical_summary(out: &std::path::Path, line: &Value) -> String {
    section_div(&bundle_of(out, line), "Clinical summary").unwrap_or_default()
}

#[test]
fn plain_text_bodies_are_carried_as_paragraphs() {
    let expected = "<div><p>Discharge letter<br/>Admitted with community-acquired pneumonia.</p>\
                    <p>Treated with amoxicillin &amp; oxygen; improving steadily.<br/>\tFollow-up chest radiograph in six weeks.</p></div>";
    let decoded = PLAIN.replace("&amp;", "&");
    let docs = [
        ("inline.xml", with_body(&plain_body("", PLAIN))),
        (
            "typed.xml",
            with_body(&plain_body(
                " mediaType=\"text/plain; charset=UTF-8\" representation=\"TXT\"",
                PLAIN,
            )),
        ),
        (
            "base64.xml",
            with_body(&plain_body(
                " mediaType=\"text/plain\" representation=\"B64\"",
                // Line-wrapped like real base64 bodies.
                &b64(&decoded)
                    .as_bytes()
                    .chunks(40)
                    .map(|c| std::str::from_utf8(c).unwrap())
                    .collect::<Vec<_>>()
                    .join("\n"),
            )),
        ),
    ];
    let (lines, rep, t) = convert(&docs);
    for (name, _) in &docs {
        let l = &lines[*name];
        assert_eq!(l["outcome"], "converted", "{name}: {l}");
        let rules: Vec<&str> = l["issues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["rule"].as_str().unwrap())
            .collect();
        assert!(rules.contains(&"unstructured-body"), "{name}: {rules:?}");
        let div = clinical_summary(&t.path().join("out"), l);
        assert!(div.contains(expected), "{name}: {div}");
    }
    assert_eq!(rep["coverage"]["unstructured_bodies"], 3, "{rep}");
}

#[test]
fn other_bodies_are_skipped_with_rule_and_position() {
    let docs = [
        (
            "pdf.xml",
            with_body(&plain_body(
                " mediaType=\"application/pdf\" representation=\"B64\"",
                "JVBERi0xLjQKJcfsj6IKNSAwIG9iago=",
            )),
        ),
        (
            "reference.xml",
            with_body(&plain_body(
                " mediaType=\"text/plain\"",
                "<reference value=\"letter.txt\"/>",
            )),
        ),
        (
            "compressed.xml",
            with_body(&plain_body(
                " mediaType=\"text/plain\" representation=\"B64\" compression=\"DF\"",
                "S0lP",
            )),
        ),
        (
            "not_utf8.xml",
            with_body(&plain_body(" representation=\"B64\"", "/w==")),
        ),
        (
            "free_text_media_type.xml",
            with_body(&plain_body(" mediaType=\"Jane Doe 9990000034\"", "x")),
        ),
    ];
    let (lines, rep, t) = convert(&docs);
    for (name, _) in &docs {
        let l = &lines[*name];
        assert_eq!(l["outcome"], "skipped", "{name}: {l}");
        let reason = l["reason"].as_str().unwrap();
        assert!(
            reason.starts_with(&format!("{name}:")) && reason.ends_with("[unstructured-document]"),
            "{name}: {reason}"
        );
        assert!(l["line"].as_u64().is_some(), "{name}: {l}");
        assert!(l.get("output").is_none(), "{name}: {l}");
    }
    assert!(lines["pdf.xml"]["reason"]
        .as_str()
        .unwrap()
        .contains("media type application/pdf"));
    // Free text where a media type belongs is not echoed.
    let r = lines["free_text_media_type.xml"]["reason"]
        .as_str()
        .unwrap();
    assert!(!r.contains("Jane") && !r.contains("9990000034"), "{r}");
    assert_eq!(rep["outcomes"]["skipped"], docs.len(), "{rep}");
    assert!(!t.path().join("out/bundles/pdf.xml.json").exists());
}

#[test]
fn an_empty_plain_text_body_converts_without_a_block() {
    let (lines, rep, _t) = convert(&[("empty.xml", with_body(&plain_body("", "  \n ")))]);
    assert_eq!(lines["empty.xml"]["outcome"], "converted");
    assert_eq!(rep["coverage"]["unstructured_bodies"], 0);
}
