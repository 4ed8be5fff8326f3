//! Robustness of `convert` against corrupted inputs (property tests).
//!
//! Every synthetic input (`testdata/discharge`, `testdata/other-kinds`,
//! `testdata/bad`) is corrupted at random — truncation, byte flips, deleted
//! or duplicated element spans, inserted markup (stray `<`, undefined and
//! invalid character references, `]]>`, a DOCTYPE, deep nesting, a huge
//! attribute, invalid UTF-8, a BOM in the middle, UTF-16 of odd length),
//! swapped namespaces, removed header elements, replaced attribute values and
//! text — and run through [`convert_bytes`]. The promises checked:
//!
//! * no panic, and exactly one consistent outcome (converted with a bundle and
//!   no reason; skipped with `no mapping for …`; failed with a reason ending
//!   in `[rule]`, the rule also an error issue, and `input:line:col:` in the
//!   reason whenever the failure has a source position — which every failure
//!   before validation has, and the position lies inside the input);
//! * no reason or issue message carries an NHS number, a patient family or
//!   given name or a birth date of the original document;
//! * a converted bundle, read back from its bytes, has no fatal or error
//!   issue under the full validator.
//!
//! Plus one CLI run over a folder of corrupted and good files: one ledger
//! line per file in sorted order, `report.json` reconciles, exit code 1.
//!
//! Deterministic: a fixed ChaCha seed per test, no failure persistence,
//! modest case counts (`ROBUST_CASES`, `ROBUST_SEED` and `ROBUST_VERBOSE`
//! widen a local bug hunt).

mod common;

use std::sync::OnceLock;

use itkbridge::mapping::{self, embedded, MapSet};
use itkbridge::pipeline::convert_bytes;
use itkbridge::pipeline::{DocResult, Outcome};
use itkbridge::validate::validate_full;
use proptest::prelude::*;
use proptest::strategy::ValueTree;

// ------------------------------------------------------------------ inputs

struct Input {
    name: String,
    bytes: Vec<u8>,
    /// UTF-16LE with a BOM (text mutations re-encode that way).
    utf16le: bool,
    /// NHS numbers, patient names and birth dates of the original.
    secrets: Vec<String>,
}

fn maps() -> &'static MapSet {
    static M: OnceLock<MapSet> = OnceLock::new();
    M.get_or_init(|| mapping::compile(&embedded::sources()).expect("embedded mappings compile"))
}

fn inputs() -> &'static [Input] {
    static I: OnceLock<Vec<Input>> = OnceLock::new();
    I.get_or_init(|| {
        let mut out = Vec::new();
        for dir in ["testdata/discharge", "testdata/other-kinds", "testdata/bad"] {
            for name in common::files_below(&common::root().join(dir)) {
                let bytes = std::fs::read(common::root().join(dir).join(&name)).unwrap();
                let utf16le = bytes.starts_with(&[0xFF, 0xFE]);
                let text = text_of(&bytes);
                out.push(Input {
                    name: format!("{dir}/{name}"),
                    secrets: secrets_of(&text),
                    bytes,
                    utf16le,
                });
            }
        }
        out
    })
}

fn text_of(bytes: &[u8]) -> String {
    itkbridge::xml::decode(bytes)
        .map(|d| d.text.into_owned())
        .unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned())
}

/// The patient data a message must never carry: 10-digit identifiers (NHS
/// numbers), the given and family names inside `patient` elements, birth
/// dates (as written and as FHIR dates).
fn secrets_of(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let nhs = regex::Regex::new(r#"extension="([0-9]{10})""#).unwrap();
    for c in nhs.captures_iter(text) {
        out.push(c[1].to_string());
    }
    let patient = regex::Regex::new(r"(?s)<(?:\w+:)?patient[\s>].*?</(?:\w+:)?patient>").unwrap();
    let name = regex::Regex::new(r"<(?:\w+:)?(?:given|family)>([^<]+)<").unwrap();
    for p in patient.find_iter(text) {
        for c in name.captures_iter(p.as_str()) {
            let n = c[1].trim();
            if n.chars().count() >= 3 {
                out.push(n.to_string());
            }
        }
    }
    let birth = regex::Regex::new(r#"birthTime value="([0-9]{8})"#).unwrap();
    for c in birth.captures_iter(text) {
        let d = &c[1];
        out.push(d.to_string());
        out.push(format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..8]));
    }
    out.sort();
    out.dedup();
    out
}

// --------------------------------------------------------------- mutations

/// Markup inserted at a random place.
fn junk(which: usize, size: usize) -> Vec<u8> {
    match which % 16 {
        0 => b"<".to_vec(),
        1 => b"&foo;".to_vec(),
        2 => b"&#xD800;".to_vec(),
        3 => b"]]>".to_vec(),
        4 => b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>&e;".to_vec(),
        5 => {
            let n = 100 + size % 20_000;
            let mut v = b"<a>".repeat(n);
            v.extend(b"</a>".repeat(n));
            v
        }
        6 => {
            let mut v = b"<x a=\"".to_vec();
            v.extend(std::iter::repeat_n(b'A', 1 + size % 2_000_000));
            v.extend(b"\"/>");
            v
        }
        7 => vec![0xFF, 0xC0, 0x80, 0xED, 0xA0, 0x80],
        8 => vec![0xEF, 0xBB, 0xBF],
        9 => b"&#0;&#x110000;&#xFFFE;&#99999999999;".to_vec(),
        10 => b"<![CDATA[ unterminated".to_vec(),
        11 => b"<?xml version=\"1.0\"?>".to_vec(),
        12 => vec![0],
        13 => b"<hl7:x xmlns:hl7=\"\"/>".to_vec(),
        14 => b"<p:q/>".to_vec(),
        _ => {
            let n = 1 + size % 3_000;
            b"<br/>".repeat(n)
        }
    }
}

/// The span `[start, end)` of the element whose start tag begins at `start`
/// (to the end of the text when it is not closed).
fn element_span(t: &str, start: usize) -> (usize, usize) {
    let b = t.as_bytes();
    let name_end = t[start + 1..]
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .map(|i| start + 1 + i)
        .unwrap_or(t.len());
    let name = &t[start + 1..name_end];
    let Some(gt) = t[start..].find('>').map(|i| start + i) else {
        return (start, t.len());
    };
    if gt > 0 && b[gt - 1] == b'/' {
        return (start, gt + 1);
    }
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut depth = 1usize;
    let mut i = gt + 1;
    while i < t.len() {
        let rest = &t[i..];
        if rest.starts_with(&close) {
            depth -= 1;
            if depth == 0 {
                return (start, i + close.len());
            }
            i += close.len();
        } else if rest.starts_with(&open)
            && rest[open.len()..].starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/')
        {
            let g = rest.find('>').unwrap_or(rest.len());
            if !rest[..g].ends_with('/') {
                depth += 1;
            }
            i += open.len();
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    (start, t.len())
}

/// Offsets of every start tag (`<` + name start character).
fn start_tags(t: &str) -> Vec<usize> {
    t.match_indices('<')
        .filter(|(i, _)| {
            t[i + 1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
        })
        .map(|(i, _)| i)
        .collect()
}

/// The first element named `local` (any prefix).
fn first_element(t: &str, local: &str) -> Option<usize> {
    start_tags(t).into_iter().find(|&i| {
        let rest = &t[i + 1..];
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let name = &rest[..end];
        name == local || name.rsplit_once(':').is_some_and(|(_, l)| l == local)
    })
}

const HEADER: &[&str] = &[
    "recordTarget",
    "author",
    "custodian",
    "effectiveTime",
    "id",
    "title",
    "structuredBody",
    "code",
    "setId",
    "versionNumber",
    "patient",
    "birthTime",
    "informationRecipient",
    "componentOf",
    "messageType",
];

const VALUES: &[&str] = &[
    "",
    " ",
    "0",
    "-1",
    "2024",
    "20241301",
    "20240230",
    "202402301261",
    "20240101120000+2500",
    "20240101120000.123456789-0000",
    "99999999999999999999",
    "9434765919",
    "943 476 5919",
    "urn:uuid:",
    "&amp;&lt;&gt;",
    "&#x1F600;",
    "x\u{200B}y",
    "UNK",
    "2.16.840.1.113883.2.1.4.1",
    "\u{FEFF}",
];

/// One random corruption of an input, chosen and placed by `a`, `b`, `c`.
#[derive(Debug, Clone)]
struct Mutation {
    file: usize,
    kind: usize,
    a: usize,
    b: usize,
    c: usize,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    (
        0usize..1000,
        0usize..14,
        any::<usize>(),
        any::<usize>(),
        any::<usize>(),
    )
        .prop_map(|(file, kind, a, b, c)| Mutation {
            file,
            kind,
            a,
            b,
            c,
        })
}

fn encode_like(input: &Input, text: &str) -> Vec<u8> {
    if input.utf16le {
        let mut v = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            v.extend(u.to_le_bytes());
        }
        v
    } else {
        text.as_bytes().to_vec()
    }
}

/// Apply a mutation; returns the input and the corrupted bytes.
fn apply(m: &Mutation) -> (&'static Input, Vec<u8>) {
    let all = inputs();
    // Two in three picks are discharge summaries (the deepest path).
    let discharge: Vec<usize> = (0..all.len())
        .filter(|&i| all[i].name.starts_with("testdata/discharge"))
        .collect();
    let input = if m.file.is_multiple_of(3) {
        &all[m.file / 3 % all.len()]
    } else {
        &all[discharge[m.file % discharge.len()]]
    };
    let bytes = &input.bytes;
    let n = bytes.len();
    let text = text_of(bytes);
    let out = match m.kind {
        // Truncation at any byte.
        0 => bytes[..m.a % (n + 1)].to_vec(),
        // Byte flips (1–4).
        1 => {
            let mut v = bytes.clone();
            if n > 0 {
                for k in 0..(1 + m.c % 4) {
                    let i = (m.a.wrapping_add(k.wrapping_mul(m.b))) % n;
                    v[i] ^= 1 << ((m.b >> (k * 3)) % 8);
                }
            }
            v
        }
        // Delete a random element span.
        2 | 3 => {
            let tags = start_tags(&text);
            if tags.is_empty() {
                return (input, bytes.clone());
            }
            let (s, e) = element_span(&text, tags[m.a % tags.len()]);
            let t = if m.kind == 2 {
                format!("{}{}", &text[..s], &text[e..])
            } else {
                // Duplicate it.
                format!("{}{}", &text[..e], &text[s..])
            };
            encode_like(input, &t)
        }
        // Insert markup at a random byte.
        4 => {
            let i = m.a % (n + 1);
            let mut v = bytes[..i].to_vec();
            v.extend(junk(m.b, m.c));
            v.extend(&bytes[i..]);
            v
        }
        // Insert markup after a random tag (a well-placed corruption).
        5 => {
            let tags = start_tags(&text);
            let i = if tags.is_empty() {
                0
            } else {
                let s = tags[m.a % tags.len()];
                text[s..].find('>').map_or(text.len(), |g| s + g + 1)
            };
            let mut v = text.as_bytes()[..i].to_vec();
            v.extend(junk(m.b, m.c));
            v.extend(&text.as_bytes()[i..]);
            if input.utf16le {
                // Keep the original encoding when the junk is text.
                match std::str::from_utf8(&v) {
                    Ok(s) => encode_like(input, s),
                    Err(_) => v,
                }
            } else {
                v
            }
        }
        // Swap or break namespaces.
        6 => {
            let t = match m.a % 5 {
                0 => text.replace("urn:hl7-org:v3", "urn:hl7-org:v4"),
                1 => text.replace("NPFIT:HL7:Localisation", "urn:hl7-org:v3"),
                2 => text
                    .replace("urn:hl7-org:v3", "\u{0}SWAP")
                    .replace("NPFIT:HL7:Localisation", "urn:hl7-org:v3")
                    .replace("\u{0}SWAP", "NPFIT:HL7:Localisation"),
                3 => text.replacen("xmlns=\"urn:hl7-org:v3\"", "", 1),
                _ => text.replace("xmlns:", "xmlns:zz"),
            };
            encode_like(input, &t)
        }
        // Remove a required header element (first or every occurrence).
        7 | 8 => {
            let local = HEADER[m.a % HEADER.len()];
            let mut t = text.clone();
            for _ in 0..(if m.kind == 7 { 1 } else { 64 }) {
                let Some(s) = first_element(&t, local) else {
                    break;
                };
                let (s, e) = element_span(&t, s);
                t = format!("{}{}", &t[..s], &t[e..]);
            }
            encode_like(input, &t)
        }
        // Replace a random attribute value.
        9 => {
            let at: Vec<usize> = text.match_indices("=\"").map(|(i, _)| i + 2).collect();
            if at.is_empty() {
                return (input, bytes.clone());
            }
            let s = at[m.a % at.len()];
            let e = text[s..].find('"').map_or(text.len(), |i| s + i);
            let v = VALUES[m.b % VALUES.len()];
            encode_like(input, &format!("{}{}{}", &text[..s], v, &text[e..]))
        }
        // Replace a random text node.
        10 => {
            let at: Vec<usize> = text
                .match_indices('>')
                .map(|(i, _)| i + 1)
                .filter(|&i| text[i..].starts_with(|c: char| c != '<'))
                .collect();
            if at.is_empty() {
                return (input, bytes.clone());
            }
            let s = at[m.a % at.len()];
            let e = text[s..].find('<').map_or(text.len(), |i| s + i);
            let v = VALUES[m.b % VALUES.len()];
            encode_like(input, &format!("{}{}{}", &text[..s], v, &text[e..]))
        }
        // The whole document as UTF-16 of odd length.
        11 => {
            let mut v = vec![0xFF, 0xFE];
            for u in text.encode_utf16() {
                v.extend(u.to_le_bytes());
            }
            let cut = (m.a % v.len()) | 1;
            v.truncate(cut.min(v.len()));
            if v.len() % 2 == 0 {
                v.pop();
            }
            v
        }
        // Two corruptions at once: a truncation after a removal.
        12 => {
            let mut m2 = m.clone();
            m2.kind = 7 + m.c % 4;
            let (_, v) = apply(&m2);
            let cut = v.len() - (m.b % (v.len() / 10 + 1));
            v[..cut].to_vec()
        }
        // Patient data moved where a finding might quote it: a random
        // attribute value or text node becomes a secret of the document,
        // alone or garbled (an invalid date, code, id …).
        14 | 15 => {
            if input.secrets.is_empty() {
                return (input, bytes.clone());
            }
            let secret = &input.secrets[m.b % input.secrets.len()];
            let v = match m.c % 5 {
                0 => secret.clone(),
                1 => format!("{secret}x"),
                2 => format!("x {secret}"),
                3 => format!("{secret}{secret}"),
                _ => format!("{secret}&amp;"),
            };
            let at: Vec<usize> = if m.kind == 14 {
                text.match_indices("=\"").map(|(i, _)| i + 2).collect()
            } else {
                text.match_indices('>')
                    .map(|(i, _)| i + 1)
                    .filter(|&i| text[i..].starts_with(|c: char| c != '<'))
                    .collect()
            };
            if at.is_empty() {
                return (input, bytes.clone());
            }
            let s = at[m.a % at.len()];
            let stop = if m.kind == 14 { '"' } else { '<' };
            let e = text[s..].find(stop).map_or(text.len(), |i| s + i);
            encode_like(input, &format!("{}{}{}", &text[..s], v, &text[e..]))
        }
        // A run of random bytes in the middle.
        _ => {
            let i = m.a % (n + 1);
            let mut v = bytes[..i].to_vec();
            let mut x = m.b | 1;
            for _ in 0..(1 + m.c % 64) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                v.push(x as u8);
            }
            v.extend(&bytes[i..]);
            v
        }
    };
    (input, out)
}

// -------------------------------------------------------------- properties

/// Every promise about one result; `Err` names the broken one.
fn check(input: &Input, bytes: &[u8], r: &DocResult) -> Result<(), String> {
    let msgs: Vec<&str> = r
        .reason
        .iter()
        .map(String::as_str)
        .chain(r.issues.iter().map(|i| i.message.as_str()))
        .chain(r.issues.iter().map(|i| i.rule.as_str()))
        .chain(std::iter::once(r.kind.as_str()))
        .collect();
    for s in &input.secrets {
        for m in &msgs {
            if m.contains(s.as_str()) {
                return Err(format!("patient data '{s}' in message: {m}"));
            }
        }
    }
    match r.outcome {
        Outcome::Converted => {
            if r.reason.is_some() {
                return Err("converted with a reason".into());
            }
            let b = r.bundle.as_ref().ok_or("converted without a bundle")?;
            let v: serde_json::Value =
                serde_json::from_slice(b).map_err(|e| format!("bundle is not JSON: {e}"))?;
            let errs: Vec<String> = validate_full(&v)
                .into_iter()
                .filter(|i| i.severity.is_blocking())
                .map(|i| i.to_string())
                .collect();
            if !errs.is_empty() {
                return Err(format!("converted bundle has errors: {errs:?}"));
            }
        }
        Outcome::Skipped => {
            let reason = r.reason.as_deref().ok_or("skipped without a reason")?;
            if !reason.starts_with("no mapping for ") || r.bundle.is_some() {
                return Err(format!("odd skip: {reason}"));
            }
        }
        Outcome::Failed => {
            if r.bundle.is_some() {
                return Err("failed with a bundle".into());
            }
            let reason = r.reason.as_deref().ok_or("failed without a reason")?;
            let rule = reason
                .strip_suffix(']')
                .and_then(|s| s.rsplit_once(" ["))
                .map(|(_, r)| r)
                .ok_or_else(|| format!("reason names no rule: {reason}"))?;
            if rule.is_empty() || rule.contains(char::is_whitespace) {
                return Err(format!("odd rule in: {reason}"));
            }
            if !reason.starts_with(&format!("{}:", input.name)) {
                return Err(format!("reason does not name the file: {reason}"));
            }
            if rule == "validation" {
                if !r.issues.iter().any(|i| i.severity == "error") {
                    return Err(format!("validation failure without an error: {reason}"));
                }
            } else if !r
                .issues
                .iter()
                .any(|i| i.severity == "error" && i.rule == rule)
            {
                return Err(format!("rule {rule} is not an error issue: {reason}"));
            }
            {
                let (l, c) = r
                    .position
                    .ok_or_else(|| format!("failure without a position: {reason}"))?;
                if !reason.contains(&format!("{}:{l}:{c}: ", input.name)) {
                    return Err(format!("reason lacks {l}:{c}: {reason}"));
                }
                let text = text_of(bytes);
                let lines = text.split('\n').count().max(1) as u32;
                if l == 0 || c == 0 || l > lines {
                    return Err(format!("position {l}:{c} outside the input: {reason}"));
                }
            }
        }
    }
    Ok(())
}

fn run_cases(cases: u32, seed: u8, strategy: impl Strategy<Value = Mutation>) {
    let mut runner = common::runner(cases, seed);
    let result = runner.run(&strategy, |m| {
        let (input, bytes) = apply(&m);
        if std::env::var_os("ROBUST_VERBOSE").is_some() {
            eprintln!("{m:?}");
        }
        let r = convert_bytes(&input.name, &bytes, maps());
        if std::env::var_os("ROBUST_VERBOSE").is_some() {
            eprintln!("{} k{} {:?} {:?}", input.name, m.kind, r.outcome, r.reason);
        }
        check(input, &bytes, &r).map_err(|e| TestCaseError::fail(format!("{}: {e}", input.name)))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn corrupted_inputs_keep_every_promise() {
    run_cases(384, 1, mutation());
}

#[test]
fn header_removals_keep_every_promise() {
    run_cases(
        128,
        2,
        mutation().prop_map(|mut m| {
            m.kind = 7 + m.kind % 2;
            m.file = m.file - m.file % 3 + 1;
            m
        }),
    );
}

#[test]
fn patient_data_in_odd_places_stays_out_of_messages() {
    run_cases(
        128,
        4,
        mutation().prop_map(|mut m| {
            m.kind = 14 + m.kind % 2;
            m.file = m.file - m.file % 3 + 1;
            m
        }),
    );
}

#[test]
fn inputs_carry_secrets() {
    // The privacy check only means something if secrets were found.
    for i in inputs() {
        if i.name.starts_with("testdata/discharge") {
            assert!(i.secrets.len() >= 3, "{}: {:?}", i.name, i.secrets);
        }
    }
}

#[test]
fn uncorrupted_inputs_keep_every_promise() {
    for i in inputs() {
        let r = convert_bytes(&i.name, &i.bytes, maps());
        check(i, &i.bytes, &r).unwrap_or_else(|e| panic!("{}: {e}", i.name));
    }
}

// ------------------------------------------------------- regression tests

/// `discharge_01` with `insert` placed right after the first `after` tag.
fn discharge_01_with(after: &str, insert: &str) -> Vec<u8> {
    let t = std::fs::read_to_string(
        common::root().join("testdata/discharge/discharge_01_classic_default_ns.xml"),
    )
    .unwrap();
    let i = t.find(after).unwrap();
    let i = i + t[i..].find('>').unwrap() + 1;
    format!("{}{insert}{}", &t[..i], &t[i..]).into_bytes()
}

/// Defect: narrative nested 13,000 levels deep overflowed the stack of the
/// converting thread (an abort that stops the whole batch, which
/// `catch_unwind` cannot catch). Now the parser refuses documents nested
/// deeper than `xml::MAX_DEPTH` with rule `xml-too-deep` at the element.
#[test]
fn deep_nesting_fails_located_instead_of_overflowing_the_stack() {
    // A worker thread's default stack (2 MiB), in a debug build.
    let h = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            for (depth, ok) in [(20_000, false), (itkbridge::xml::MAX_DEPTH - 20, true)] {
                let nest = format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
                for after in ["<paragraph>", "<text>", "<ClinicalDocument"] {
                    let bytes = discharge_01_with(after, &nest);
                    let r = convert_bytes("deep.xml", &bytes, maps());
                    if ok {
                        assert_eq!(r.outcome, Outcome::Converted, "{after}: {:?}", r.reason);
                    } else {
                        assert_eq!(r.outcome, Outcome::Failed, "{after}");
                        let reason = r.reason.unwrap();
                        assert!(reason.ends_with("[xml-too-deep]"), "{reason}");
                        let (l, c) = r.position.expect("position");
                        assert!(
                            reason.starts_with(&format!("deep.xml:{l}:{c}: ")),
                            "{reason}"
                        );
                    }
                }
            }
        })
        .unwrap();
    h.join().expect("no stack overflow, no panic");
}

/// Defect: a document without recordTarget (or author) failed validation
/// with a reason naming only a FHIR location — no line:column in the input.
/// Now it is located at the document's root element (the parent of the
/// missing element).
#[test]
fn missing_header_element_fails_with_a_source_position() {
    let t = std::fs::read_to_string(
        common::root().join("testdata/discharge/discharge_01_classic_default_ns.xml"),
    )
    .unwrap();
    for el in ["recordTarget", "author"] {
        let s = first_element(&t, el).unwrap();
        let (s, e) = element_span(&t, s);
        let bytes = format!("{}{}", &t[..s], &t[e..]);
        let r = convert_bytes("x.xml", bytes.as_bytes(), maps());
        assert_eq!(r.outcome, Outcome::Failed, "{el}");
        let reason = r.reason.unwrap();
        let (l, c) = r.position.expect("a position");
        assert!(
            reason.starts_with(&format!("x.xml:{l}:{c}: output failed validation (")),
            "{reason}"
        );
        assert!(reason.ends_with("[validation]"), "{reason}");
        assert_eq!((l, c), (6, 1), "the ClinicalDocument start tag");
    }
}

// --------------------------------------------------------------- CLI level

/// A folder of corrupted files (one per mutation kind and several random
/// ones, from a fixed seed) plus the good inputs: one ledger line per file in
/// sorted order, report.json reconciles, no patient data in the ledger, and
/// exit code 1 (some failed, the batch went on).
#[test]
fn cli_batch_of_corrupted_and_good_files_accounts_for_every_input() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("in");
    std::fs::create_dir_all(&dir).unwrap();
    let mut runner = common::fixed_runner(1, 9);
    let mut secrets: Vec<String> = Vec::new();
    let mut names = Vec::new();
    for k in 0..48usize {
        let mut m = mutation().new_tree(&mut runner).unwrap().current();
        m.kind = k % 16;
        let (input, bytes) = apply(&m);
        secrets.extend(input.secrets.iter().cloned());
        let name = format!("c{k:02}_{}", input.name.rsplit('/').next().unwrap());
        std::fs::write(dir.join(&name), bytes).unwrap();
        names.push(name);
    }
    // A document too deep for any stack, and the good inputs.
    std::fs::write(
        dir.join("deep.xml"),
        discharge_01_with("<paragraph>", &"<a>".repeat(50_000)),
    )
    .unwrap();
    names.push("deep.xml".into());
    for i in inputs() {
        let name = format!("good_{}", i.name.replace('/', "_"));
        std::fs::write(dir.join(&name), &i.bytes).unwrap();
        secrets.extend(i.secrets.iter().cloned());
        names.push(name);
    }
    names.sort();
    let out = t.path().join("out");
    let r = common::run(&[
        "convert".as_ref(),
        dir.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "-j".as_ref(),
        "2".as_ref(),
    ]);
    assert_eq!(r.code, 1, "{}", r.dump());
    let lines = common::ledger(&out);
    let inputs_in_ledger: Vec<&str> = lines.iter().map(|l| l["input"].as_str().unwrap()).collect();
    assert_eq!(
        inputs_in_ledger, names,
        "one ledger line per file, in order"
    );
    let rep = common::report(&out);
    let count = |o: &str| lines.iter().filter(|l| l["outcome"] == o).count() as u64;
    let oc = &rep["outcomes"];
    assert_eq!(rep["documents"].as_u64(), Some(names.len() as u64));
    for o in ["converted", "skipped", "failed"] {
        assert_eq!(oc[o].as_u64(), Some(count(o)), "{o}: {rep}");
    }
    assert!(count("failed") > 0 && count("converted") > 0, "{rep}");
    let bundles = common::files_below(&out.join("bundles"));
    assert_eq!(bundles.len() as u64, count("converted"));
    for l in &lines {
        let o = l["outcome"].as_str().unwrap();
        assert!(["converted", "skipped", "failed"].contains(&o), "{l}");
        if o == "failed" {
            let reason = l["reason"].as_str().unwrap();
            assert!(reason.ends_with(']'), "{l}");
            assert!(l["line"].as_u64().is_some(), "failure without a line: {l}");
        }
        let mut text = l["reason"].as_str().unwrap_or("").to_string();
        for i in l["issues"].as_array().into_iter().flatten() {
            text.push_str(i["message"].as_str().unwrap_or(""));
        }
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "patient data '{s}' in {l}");
        }
    }
    secrets.sort();
    secrets.dedup();
    assert!(!r.stderr.is_empty());
    for s in &secrets {
        assert!(
            !r.stderr.contains(s.as_str()),
            "patient data '{s}' on stderr"
        );
    }
}

/// Defects: document text reached the ledger when it stood where a code or
/// an encoding name was expected — a table lookup miss quoted the source
/// code (`source code 1966-07-22 not in table care-setting`), an unknown
/// encoding was quoted, and the kind quoted `code/@code` and the
/// messageType extension. Now the lookup names the table and the code's
/// line:column, the encoding is named only by its canonical name when known,
/// and a kind keeps only values shaped like type ids (else `other`).
#[test]
fn document_text_in_code_places_stays_out_of_the_ledger() {
    let secret = "Quillfeather 19580611";
    let t = std::fs::read_to_string(
        common::root().join("testdata/discharge/discharge_01_classic_default_ns.xml"),
    )
    .unwrap();
    let mut cases = vec![t.replacen("encoding=\"UTF-8\"", &format!("encoding=\"{secret}\""), 1)];
    // Every code attribute in turn (the care-setting lookup among them).
    let codes: Vec<usize> = t.match_indices(" code=\"").map(|(i, _)| i + 7).collect();
    for &s in &codes {
        let e = s + t[s..].find('"').unwrap();
        cases.push(format!("{}{secret}{}", &t[..s], &t[e..]));
    }
    let mt = t.find("npfitlc:messageType").unwrap();
    let ext = mt + t[mt..].find("extension=\"").unwrap() + 11;
    let end = ext + t[ext..].find('"').unwrap();
    cases.push(format!("{}{secret}{}", &t[..ext], &t[end..]));
    let mut lookup_seen = false;
    for c in &cases {
        let r = convert_bytes("x.xml", c.as_bytes(), maps());
        let mut all = vec![r.kind.clone()];
        all.extend(r.reason.clone());
        for i in &r.issues {
            all.push(i.message.clone());
            lookup_seen |= i.message.contains("not in table");
        }
        for m in &all {
            assert!(
                !m.contains("Quillfeather") && !m.contains("19580611"),
                "{m}"
            );
        }
    }
    assert!(lookup_seen, "some code went through a table lookup");
}
