//! Faithfulness checks of one converted bundle against its source CDA
//! document (shared by `tests/samples.rs` and `tests/generated_discharge.rs`).

use std::collections::{BTreeMap, BTreeSet};

use itkbridge::xml::{decode, Document, NodeId, NodeKind, NS_HL7};
use serde_json::Value;

pub const NHS_NUMBER_ROOTS: [&str; 2] = [
    "2.16.840.1.113883.2.1.4.1",
    "2.16.840.1.113883.2.1.3.2.4.18.23",
];
pub const NHS_NUMBER_SYSTEM: &str = "https://fhir.nhs.uk/Id/nhs-number";
pub const MIN_WORD_COVERAGE: f64 = 0.95;

// ---------------------------------------------------------------------------
// Small XML helpers over the crate's parser
// ---------------------------------------------------------------------------

pub fn path(doc: &Document, from: NodeId, steps: &[&str]) -> Vec<NodeId> {
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

/// A title as the section router compares it (crosswalk.md §3.5, R30: a
/// source title equal to its slice title is not repeated as a heading):
/// case-, whitespace- and punctuation-insensitive.
pub fn title_key(s: &str) -> String {
    let folded: String = s
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .flat_map(char::to_lowercase)
        .collect();
    collapse(&folded)
}

pub fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text of every text node below `id`, each followed by a space (so words
/// never run together across element boundaries).
pub fn texts(doc: &Document, id: NodeId, out: &mut String) {
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

/// The text as XPath `string()` reads it (text nodes joined with nothing
/// between them), except that a `footnote` stands apart: crosswalk.md §5.2
/// moves its text to the end of the block, so what it touched in the
/// source cannot stay touching it.
pub fn plain_texts(doc: &Document, id: NodeId, out: &mut String) {
    for c in doc.children(id) {
        match doc.node(c).kind {
            NodeKind::Text => out.push_str(doc.text(c)),
            NodeKind::Element if doc.is(c, NS_HL7, "footnote") => {
                out.push(' ');
                plain_texts(doc, c, out);
                out.push(' ');
            }
            NodeKind::Element => plain_texts(doc, c, out),
        }
    }
}

/// Case-folded runs of four or more letters.
pub fn words(s: &str, out: &mut BTreeSet<String>) {
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
pub fn strip_tags(s: &str) -> String {
    strip_tags_with(s, " ")
}

/// The XHTML string's text as XPath `string()` reads it: tags removed
/// without a separator, entities decoded.
pub fn plain_text(s: &str) -> String {
    strip_tags_with(s, "")
}

fn strip_tags_with(s: &str, sep: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in s.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push_str(sep);
            }
            _ if !in_tag => out.push(ch),
            _ => {}
        }
    }
    decode_entities(&out)
}

pub fn decode_entities(s: &str) -> String {
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
pub fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.trim_start().starts_with('<') => out.push(strip_tags(s)),
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Every string value in `v`, XHTML read as plain text ([`plain_text`]).
pub fn plain_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) if s.trim_start().starts_with('<') => out.push(plain_text(s)),
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| plain_strings(x, out)),
        Value::Object(o) => o.values().for_each(|x| plain_strings(x, out)),
        _ => {}
    }
}

/// Resources of the message bundle and of any nested bundle, by fullUrl and by Type/id.
pub fn index_resources<'v>(b: &'v Value, out: &mut BTreeMap<String, &'v Value>) {
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

pub fn resolve<'v>(res: &BTreeMap<String, &'v Value>, reference: &Value) -> Option<&'v Value> {
    reference["reference"]
        .as_str()
        .and_then(|r| res.get(r).copied())
}

pub fn sections<'v>(v: &'v Value, out: &mut Vec<&'v Value>) {
    for s in v["section"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        out.push(s);
        sections(s, out);
    }
}

pub fn json_strings(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    strings(v, &mut out);
    out
}

// ---------------------------------------------------------------------------
// The checks for one document
// ---------------------------------------------------------------------------

/// Check one converted bundle against its source; returns problems found.
pub fn check_document(name: &str, src: &[u8], bundle: &Value) -> Vec<String> {
    check_document_with(name, src, bundle, true)
}

/// [`check_document`], printing the word coverage line only when `verbose`.
pub fn check_document_with(name: &str, src: &[u8], bundle: &Value, verbose: bool) -> Vec<String> {
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
    // Other demographics (crosswalk §2.1.9, §2.3): an ethnic category and a
    // language with a code land in their CareConnect extensions; a
    // guardian's name in a RelatedPerson of this patient or Patient.contact.
    let ext_codes = |url: &str| -> Vec<String> {
        let mut out = Vec::new();
        for e in patient["extension"].as_array().into_iter().flatten() {
            if e["url"] == url {
                let mut all = Vec::new();
                strings(e, &mut all);
                out.extend(all);
            }
        }
        out
    };
    for (leaf, url) in [
        (
            &["patient", "ethnicGroupCode"][..],
            "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-EthnicCategory-1",
        ),
        (
            &["patient", "languageCommunication", "languageCode"][..],
            "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSCommunication-1",
        ),
    ] {
        for c in role.iter().flat_map(|&r| path(&doc, r, leaf)) {
            if let Some(code) = doc.attr(c, "code") {
                if !ext_codes(url).iter().any(|v| v == code.trim()) {
                    fail(format!("code {code} of {} not in {url}", leaf.join("/")));
                }
            }
        }
    }
    for g in role.iter().flat_map(|&r| {
        path(
            &doc,
            r,
            &["patient", "guardian", "guardianPerson", "name", "family"],
        )
    }) {
        let family = collapse(&doc.string_value(g));
        let in_contact = json_strings(&patient["contact"])
            .iter()
            .any(|s| collapse(s) == family);
        let in_related = res.values().any(|r| {
            r["resourceType"] == "RelatedPerson"
                && resolve(&res, &r["patient"]).is_some_and(|p| p["id"] == patient["id"])
                && json_strings(&r["name"])
                    .iter()
                    .any(|s| collapse(s) == family)
        });
        if !in_contact && !in_related {
            fail(format!(
                "guardian family name {family:?} in neither a RelatedPerson nor Patient.contact"
            ));
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
                s["title"].as_str().map(title_key),
                s["text"]["div"].as_str().map(|d| title_key(&strip_tags(d))),
            ]
        })
        .flatten()
        .collect();
    let mut src_words = BTreeSet::new();
    let mut src_plain_words = BTreeSet::new();
    for sec in doc
        .descendants(root)
        .into_iter()
        .filter(|&n| doc.is(n, NS_HL7, "section"))
    {
        if let Some(t) = doc.child(sec, NS_HL7, "title") {
            let title = collapse(&doc.string_value(t));
            let key = title_key(&title);
            if !key.is_empty() && !out_section_text.iter().any(|s| s.contains(&key)) {
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
            let mut s = String::new();
            plain_texts(&doc, t, &mut s);
            words(&s, &mut src_plain_words);
        }
    }
    let mut out_words = BTreeSet::new();
    for s in json_strings(bundle) {
        words(&s, &mut out_words);
    }
    // The same measure read as plain text (XPath string(): text nodes
    // joined with nothing between them, in the source's `text` and in the
    // output's XHTML): words that run together across tags in one must run
    // together in the other, so the output may neither join what the
    // source separated nor separate what it joined.
    let mut out_plain_words = BTreeSet::new();
    let mut plain = Vec::new();
    plain_strings(bundle, &mut plain);
    for s in &plain {
        words(s, &mut out_plain_words);
    }
    let plain_missing: Vec<&String> = src_plain_words.difference(&out_plain_words).collect();
    let plain_coverage = if src_plain_words.is_empty() {
        1.0
    } else {
        1.0 - plain_missing.len() as f64 / src_plain_words.len() as f64
    };
    if plain_coverage < MIN_WORD_COVERAGE {
        fail(format!(
            "word coverage read as plain text {:.1}% < {:.0}% (missing: {:?})",
            plain_coverage * 100.0,
            MIN_WORD_COVERAGE * 100.0,
            plain_missing.iter().take(30).collect::<Vec<_>>()
        ));
    }
    let missing: Vec<&String> = src_words.difference(&out_words).collect();
    let coverage = if src_words.is_empty() {
        1.0
    } else {
        1.0 - missing.len() as f64 / src_words.len() as f64
    };
    if verbose {
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
    }
    if coverage < MIN_WORD_COVERAGE {
        fail(format!(
            "word coverage {:.1}% < {:.0}% (missing: {:?})",
            coverage * 100.0,
            MIN_WORD_COVERAGE * 100.0,
            missing.iter().take(30).collect::<Vec<_>>()
        ));
    }
    problems
}

pub fn drop_composition_sections(v: &mut Value) {
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
