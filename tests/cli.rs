//! End-to-end tests of the `itkbridge` command line: outputs, ledger,
//! report, exit codes, determinism and privacy of messages.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{files_below, ledger, read_tree, report, root, run};
use serde_json::Value;

const DISCHARGE: &str = "testdata/discharge";
const OTHER: &str = "testdata/other-kinds";
const BAD: &str = "testdata/bad";

fn out_dir(t: &tempfile::TempDir, name: &str) -> String {
    t.path().join(name).to_string_lossy().into_owned()
}

/// Sorted relative paths of the input files of one root, as the ledger writes them.
fn inputs_of(dir: &str) -> Vec<String> {
    files_below(&root().join(dir))
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string '{k}' in {v}"))
}

fn u(v: &Value, k: &str) -> u64 {
    v.get(k)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no integer '{k}' in {v}"))
}

/// Check report.json against itself and against the ledger.
fn check_report_reconciles(out: &Path, lines: &[Value]) {
    let r = report(out);
    let docs = u(&r, "documents");
    let oc = &r["outcomes"];
    let (c, sk, f) = (u(oc, "converted"), u(oc, "skipped"), u(oc, "failed"));
    assert_eq!(
        docs,
        c + sk + f,
        "documents = converted + skipped + failed: {r}"
    );
    assert_eq!(
        docs as usize,
        lines.len(),
        "report documents vs ledger lines"
    );
    let count = |o: &str| lines.iter().filter(|l| s(l, "outcome") == o).count() as u64;
    assert_eq!(
        (c, sk, f),
        (count("converted"), count("skipped"), count("failed")),
        "report outcomes vs ledger"
    );
    let by_kind = r["by_kind"].as_object().expect("by_kind object");
    let mut total = 0;
    let mut per_outcome: BTreeMap<String, u64> = BTreeMap::new();
    for (kind, v) in by_kind {
        for (o, n) in v.as_object().expect("by_kind entry is an object") {
            let n = n.as_u64().expect("count");
            total += n;
            *per_outcome.entry(o.clone()).or_default() += n;
            let in_ledger = lines
                .iter()
                .filter(|l| s(l, "kind") == kind && s(l, "outcome") == o)
                .count() as u64;
            assert_eq!(n, in_ledger, "by_kind[{kind}][{o}] vs ledger");
        }
    }
    assert_eq!(total, docs, "by_kind sums to documents");
    for (o, n) in [("converted", c), ("skipped", sk), ("failed", f)] {
        assert_eq!(
            per_outcome.get(o).copied().unwrap_or(0),
            n,
            "by_kind sum for {o}"
        );
    }
}

#[test]
fn discharge_folder_converts_every_document() {
    let t = tempfile::tempdir().unwrap();
    let out = out_dir(&t, "out");
    let r = run(&args(&[
        "convert",
        DISCHARGE,
        "--out",
        &out,
        "--progress",
        "never",
    ]));
    assert_eq!(r.code, 0, "{}", r.dump());
    let out = Path::new(&out);
    let inputs = inputs_of(DISCHARGE);
    assert_eq!(inputs.len(), 8);
    let tree = read_tree(&out.join("bundles"));
    let expected: Vec<String> = inputs.iter().map(|i| format!("{i}.json")).collect();
    assert_eq!(
        tree.keys().cloned().collect::<Vec<_>>(),
        expected,
        "one bundle per input"
    );
    for (name, bytes) in &tree {
        let v: Value =
            serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
        assert_eq!(v["resourceType"], "Bundle", "{name}");
        assert_eq!(v["type"], "message", "{name}");
    }
    let lines = ledger(out);
    assert_eq!(lines.len(), 8);
    for (l, input) in lines.iter().zip(&inputs) {
        assert_eq!(s(l, "input"), input);
        assert_eq!(s(l, "outcome"), "converted", "{l}");
        assert_eq!(s(l, "output"), format!("bundles/{input}.json"));
        assert!(
            l.get("reason").is_none(),
            "converted line has a reason: {l}"
        );
    }
    check_report_reconciles(out, &lines);
}

fn args<'a>(v: &[&'a str]) -> Vec<&'a str> {
    v.to_vec()
}

/// Family names and NHS numbers of the synthetic discharge documents.
fn patient_data_of_discharge_inputs() -> Vec<String> {
    use itkbridge::xml::{decode, Document, NS_HL7};
    let mut words = Vec::new();
    for rel in inputs_of(DISCHARGE) {
        let bytes = std::fs::read(root().join(DISCHARGE).join(&rel)).unwrap();
        let d = decode(&bytes).unwrap();
        let doc = Document::parse(&d.text).unwrap();
        for n in doc.descendants(doc.root()) {
            if doc.is(n, NS_HL7, "family") {
                words.push(doc.string_value(n).trim().to_string());
            }
            if doc.is(n, NS_HL7, "id")
                && doc
                    .parent(n)
                    .is_some_and(|p| doc.is(p, NS_HL7, "patientRole"))
                && matches!(
                    doc.attr(n, "root"),
                    Some("2.16.840.1.113883.2.1.4.1" | "2.16.840.1.113883.2.1.3.2.4.18.23")
                )
            {
                if let Some(x) = doc.attr(n, "extension") {
                    words.push(x.to_string());
                }
            }
        }
    }
    words.retain(|w| !w.is_empty());
    words.sort();
    words.dedup();
    words
}

#[test]
fn three_roots_every_input_accounted_for() {
    let t = tempfile::tempdir().unwrap();
    let out = out_dir(&t, "out");
    let r = run(&args(&[
        "convert",
        DISCHARGE,
        OTHER,
        BAD,
        "-o",
        &out,
        "--progress",
        "never",
    ]));
    assert_eq!(
        r.code,
        1,
        "a failed document must give exit 1\n{}",
        r.dump()
    );
    let out = Path::new(&out);
    let lines = ledger(out);
    let mut expected = Vec::new();
    for (root_dir, prefix) in [
        (DISCHARGE, "discharge"),
        (OTHER, "other-kinds"),
        (BAD, "bad"),
    ] {
        for i in inputs_of(root_dir) {
            expected.push((prefix, i));
        }
    }
    let got: Vec<&str> = lines.iter().map(|l| s(l, "input")).collect();
    let want: Vec<&str> = expected.iter().map(|(_, i)| i.as_str()).collect();
    assert_eq!(
        got, want,
        "one ledger line per input, sorted per root, roots in argument order"
    );

    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    for (l, (prefix, input)) in lines.iter().zip(&expected) {
        match *prefix {
            "discharge" => {
                assert_eq!(s(l, "outcome"), "converted", "{l}");
                let o = format!("bundles/discharge/{input}.json");
                assert_eq!(s(l, "output"), o);
                assert!(out.join(&o).is_file(), "{o} missing");
            }
            "other-kinds" => {
                assert_eq!(s(l, "outcome"), "skipped", "{l}");
                assert!(s(l, "reason").starts_with("no mapping for "), "{l}");
                assert!(l.get("output").is_none(), "{l}");
            }
            _ => {
                assert_eq!(s(l, "outcome"), "failed", "{l}");
                let line = l
                    .get("line")
                    .and_then(Value::as_u64)
                    .unwrap_or_else(|| panic!("no integer line: {l}"));
                let col = l
                    .get("column")
                    .and_then(Value::as_u64)
                    .unwrap_or_else(|| panic!("no integer column: {l}"));
                assert!(line >= 1 && col >= 1, "{l}");
                let reason = s(l, "reason");
                assert!(
                    reason.contains(&format!("{input}:{line}:{col}")),
                    "reason lacks file:line:col: {l}"
                );
                let rule = reason.rsplit_once('[').map(|(_, r)| r).unwrap_or("");
                assert!(
                    rule.ends_with(']') && rule.len() > 1 && !rule.contains(' '),
                    "reason lacks a [rule]: {l}"
                );
                if input == "truncated_discharge.xml" {
                    assert_eq!(line, 37, "{l}");
                }
                assert!(l.get("output").is_none(), "{l}");
            }
        }
    }
    let bad_expected = inputs_of(BAD).len();
    assert_eq!(
        lines.iter().filter(|l| s(l, "outcome") == "failed").count(),
        bad_expected
    );

    // Only discharge documents produced bundles.
    for rel in files_below(&out.join("bundles")) {
        assert!(rel.starts_with("discharge/"), "unexpected output {rel}");
    }

    // The DOCTYPE file's external entity is never resolved: nothing of /etc/passwd anywhere.
    let tree = read_tree(out);
    let mut needles: Vec<&str> = passwd.lines().filter(|l| l.len() >= 8).collect();
    needles.push("root:x:0:0");
    needles.push("/bin/bash");
    needles.push("/usr/sbin/nologin");
    for (name, bytes) in &tree {
        let text = String::from_utf8_lossy(bytes);
        for n in &needles {
            if passwd.contains(n) {
                assert!(!text.contains(n), "{name} contains /etc/passwd text {n:?}");
            }
        }
    }
    for n in &needles {
        if passwd.contains(n) {
            assert!(
                !r.stderr.contains(n) && !r.stdout.contains(n),
                "console output contains /etc/passwd text"
            );
        }
    }

    // No patient data in reasons or issue messages.
    let secrets = patient_data_of_discharge_inputs();
    assert!(
        secrets.len() >= 20,
        "expected family names and NHS numbers, got {secrets:?}"
    );
    for l in &lines {
        let mut texts: Vec<String> = Vec::new();
        if let Some(x) = l.get("reason").and_then(Value::as_str) {
            texts.push(x.to_string());
        }
        for i in l["issues"].as_array().expect("issues array") {
            texts.push(i.to_string());
        }
        for t in &texts {
            for w in &secrets {
                assert!(
                    !t.contains(w.as_str()),
                    "patient data {w:?} in ledger text of {}: {t}",
                    s(l, "input")
                );
            }
        }
    }
    for w in &secrets {
        assert!(
            !r.stderr.contains(w.as_str()),
            "patient data {w:?} on stderr"
        );
    }
    check_report_reconciles(out, &lines);
}

fn without_report(mut t: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    assert!(t.remove("report.json").is_some(), "report.json missing");
    t
}

fn first_difference(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>) -> String {
    let ka: Vec<_> = a.keys().collect();
    let kb: Vec<_> = b.keys().collect();
    if ka != kb {
        return format!("file sets differ: {ka:?} vs {kb:?}");
    }
    for (k, v) in a {
        if b[k] != *v {
            return format!("{k} differs");
        }
    }
    "none".into()
}

#[test]
fn output_is_independent_of_threads_mmap_and_batch() {
    let t = tempfile::tempdir().unwrap();
    let variants: [&[&str]; 3] = [
        &["-j", "1", "--mmap", "never"],
        &["-j", "4", "--mmap", "always"],
        &["-j", "2", "--mmap", "auto", "--batch", "3"],
    ];
    let mut trees = Vec::new();
    for (k, v) in variants.iter().enumerate() {
        let out = out_dir(&t, &format!("out{k}"));
        let mut a = vec![
            "convert",
            DISCHARGE,
            OTHER,
            BAD,
            "--out",
            &out,
            "--progress",
            "never",
        ];
        a.extend_from_slice(v);
        let r = run(&a);
        assert_eq!(r.code, 1, "{v:?}\n{}", r.dump());
        trees.push(without_report(read_tree(Path::new(&out))));
    }
    for (k, tr) in trees.iter().enumerate().skip(1) {
        assert!(
            tr == &trees[0],
            "variant {:?} differs from {:?}: {}",
            variants[k],
            variants[0],
            first_difference(&trees[0], tr)
        );
    }
    // Re-run into the first OUT with --overwrite: byte-identical again.
    let out = out_dir(&t, "out0");
    let r = run(&args(&[
        "convert",
        DISCHARGE,
        OTHER,
        BAD,
        "--out",
        &out,
        "--overwrite",
        "-j",
        "3",
        "--progress",
        "never",
    ]));
    assert_eq!(r.code, 1, "{}", r.dump());
    let again = without_report(read_tree(Path::new(&out)));
    assert!(
        again == trees[0],
        "--overwrite re-run differs: {}",
        first_difference(&trees[0], &again)
    );
}

#[test]
fn overwrite_removes_outputs_of_the_previous_run() {
    let t = tempfile::tempdir().unwrap();
    let out = out_dir(&t, "out");
    let r = run(&args(&[
        "convert",
        DISCHARGE,
        OTHER,
        "--out",
        &out,
        "--progress",
        "never",
    ]));
    assert_eq!(r.code, 0, "{}", r.dump());
    let r = run(&args(&[
        "convert",
        "testdata/discharge/discharge_01_classic_default_ns.xml",
        "--out",
        &out,
        "--overwrite",
    ]));
    assert_eq!(r.code, 0, "{}", r.dump());
    let files = files_below(Path::new(&out));
    assert_eq!(
        files,
        [
            "bundles/discharge_01_classic_default_ns.xml.json",
            "ledger.ndjson",
            "report.json"
        ]
    );
}

fn assert_usage_error(r: &common::Run, what: &str) {
    assert_eq!(r.code, 2, "{what}: expected exit 2\n{}", r.dump());
    assert!(
        r.stderr.lines().any(|l| l.starts_with("error:")),
        "{what}: no 'error:' line on stderr\n{}",
        r.dump()
    );
}

#[test]
fn exit_2_missing_input() {
    let t = tempfile::tempdir().unwrap();
    let out = out_dir(&t, "out");
    let r = run(&args(&[
        "convert",
        DISCHARGE,
        "testdata/does-not-exist",
        "--out",
        &out,
    ]));
    assert_usage_error(&r, "missing input");
    assert!(r.stderr.contains("does-not-exist"), "{}", r.dump());
    assert!(
        !Path::new(&out).join("ledger.ndjson").exists(),
        "no run may be recorded"
    );
}

#[test]
fn exit_2_out_already_holds_a_run() {
    let t = tempfile::tempdir().unwrap();
    let out = out_dir(&t, "out");
    let r = run(&args(&["convert", DISCHARGE, "--out", &out]));
    assert_eq!(r.code, 0, "{}", r.dump());
    let before = read_tree(Path::new(&out));
    let r = run(&args(&["convert", DISCHARGE, "--out", &out]));
    assert_usage_error(&r, "OUT holds a run");
    assert!(
        r.stderr.contains("--overwrite"),
        "message should suggest --overwrite\n{}",
        r.dump()
    );
    assert!(
        read_tree(Path::new(&out)) == before,
        "a refused run must not touch OUT"
    );
}

#[test]
fn exit_2_out_is_a_regular_file() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("file");
    std::fs::write(&out, b"not a folder").unwrap();
    let r = run(&args(&[
        "convert",
        DISCHARGE,
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_usage_error(&r, "OUT is a file");
    assert_eq!(std::fs::read(&out).unwrap(), b"not a folder");
}

#[test]
fn exit_2_broken_mappings_folder() {
    let t = tempfile::tempdir().unwrap();
    let maps = t.path().join("maps");
    common::copy_tree(&root().join("mappings"), &maps, &[".map", ".tsv"]);
    let p = maps.join("edischarge.map");
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(
        &p,
        text.replacen(
            "  status = \"final\"",
            "  status = nosuchfunction(\"final\")",
            1,
        ),
    )
    .unwrap();
    let out = out_dir(&t, "out");
    let r = run(&args(&[
        "convert",
        DISCHARGE,
        "--out",
        &out,
        "--mappings",
        maps.to_str().unwrap(),
    ]));
    assert_usage_error(&r, "broken mappings");
    assert!(r.stderr.contains("edischarge.map:"), "{}", r.dump());
    assert!(!Path::new(&out).join("ledger.ndjson").exists());
}

#[test]
fn exit_2_unknown_flag() {
    let t = tempfile::tempdir().unwrap();
    let out = out_dir(&t, "out");
    let r = run(&args(&[
        "convert",
        DISCHARGE,
        "--out",
        &out,
        "--no-such-flag",
    ]));
    assert_usage_error(&r, "unknown flag");
    assert!(r.stderr.contains("--no-such-flag"), "{}", r.dump());
}

#[test]
fn no_temporary_files_left_in_out() {
    let t = tempfile::tempdir().unwrap();
    let out = out_dir(&t, "out");
    let r = run(&args(&[
        "convert", DISCHARGE, OTHER, BAD, "--out", &out, "-j", "3",
    ]));
    assert_eq!(r.code, 1, "{}", r.dump());
    for f in files_below(Path::new(&out)) {
        let name = f.rsplit('/').next().unwrap();
        assert!(!name.ends_with(".tmp"), "temporary file left: {f}");
        assert!(
            f == "ledger.ndjson"
                || f == "report.json"
                || (f.starts_with("bundles/") && name.ends_with(".json") && !name.starts_with('.')),
            "unexpected file in OUT: {f}"
        );
    }
}

#[test]
fn mappings_check_embedded_and_convert_help() {
    let r = run(&["mappings", "check"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(r.stderr.contains("edischarge"), "{}", r.dump());
    let r = run(&["convert", "--help"]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(
        r.stdout.contains("Examples"),
        "convert --help should show examples\n{}",
        r.dump()
    );
    assert!(r.stdout.contains("itkbridge convert"), "{}", r.dump());
}

#[test]
fn duplicate_document_id_is_flagged_on_the_second_only() {
    let t = tempfile::tempdir().unwrap();
    let out = out_dir(&t, "out");
    let r = run(&args(&[
        "convert", DISCHARGE, "--out", &out, "-j", "4", "--batch", "1",
    ]));
    assert_eq!(r.code, 0, "{}", r.dump());
    let lines = ledger(Path::new(&out));
    let has_dup = |l: &Value| {
        l["issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["rule"] == "duplicate-document-id")
    };
    let flagged: Vec<&str> = lines
        .iter()
        .filter(|l| has_dup(l))
        .map(|l| s(l, "input"))
        .collect();
    assert_eq!(flagged, ["discharge_06_duplicate_id_b.xml"]);
    let dup = lines.iter().find(|l| has_dup(l)).unwrap();
    let issue = dup["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["rule"] == "duplicate-document-id")
        .unwrap();
    assert_eq!(issue["severity"], "warning");
    assert_eq!(
        s(dup, "outcome"),
        "converted",
        "a duplicate id is a warning, not a failure"
    );
}

#[test]
fn ledger_has_no_timings_and_report_has_rates() {
    let t = tempfile::tempdir().unwrap();
    let out = out_dir(&t, "out");
    let r = run(&args(&["convert", DISCHARGE, OTHER, BAD, "--out", &out]));
    assert_eq!(r.code, 1, "{}", r.dump());
    const ALLOWED: &[&str] = &[
        "input",
        "root",
        "item",
        "kind",
        "recognised_by",
        "outcome",
        "output",
        "reason",
        "line",
        "column",
        "issues",
    ];
    for l in ledger(Path::new(&out)) {
        for k in l.as_object().unwrap().keys() {
            assert!(
                ALLOWED.contains(&k.as_str()),
                "unexpected ledger field {k}: {l}"
            );
        }
        for k in [
            "input",
            "item",
            "kind",
            "recognised_by",
            "outcome",
            "issues",
        ] {
            assert!(l.get(k).is_some(), "ledger line lacks {k}: {l}");
        }
        for i in l["issues"].as_array().unwrap() {
            let mut keys: Vec<&str> = i.as_object().unwrap().keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(keys, ["message", "rule", "severity"], "issue fields: {i}");
        }
    }
    let rep = report(Path::new(&out));
    for k in ["docs_per_second", "mb_per_second", "wall_seconds"] {
        let v = rep
            .get(k)
            .and_then(Value::as_f64)
            .unwrap_or_else(|| panic!("report lacks numeric {k}: {rep}"));
        assert!(v.is_finite() && v >= 0.0, "{k} = {v}");
    }
    assert!(
        rep.get("stage_seconds_summed_over_threads").is_none(),
        "stage timings only with --stats"
    );

    let out2 = out_dir(&t, "out2");
    let r = run(&args(&["convert", DISCHARGE, "--out", &out2, "--stats"]));
    assert_eq!(r.code, 0, "{}", r.dump());
    let rep = report(Path::new(&out2));
    let st = rep["stage_seconds_summed_over_threads"]
        .as_object()
        .unwrap_or_else(|| panic!("--stats: no stage object: {rep}"));
    assert!(!st.is_empty());
    for (k, v) in st {
        let x = v
            .as_f64()
            .unwrap_or_else(|| panic!("stage {k} is not a number"));
        assert!(x.is_finite() && x >= 0.0, "stage {k} = {x}");
    }
    // --stats never leaks into the ledger.
    for l in ledger(Path::new(&out2)) {
        for k in l.as_object().unwrap().keys() {
            assert!(
                ALLOWED.contains(&k.as_str()),
                "unexpected ledger field with --stats {k}"
            );
        }
    }
}

/// Variants of discharge_01 with one well-formedness defect each, written to
/// `dir` as (file name, replaced text, replacement).
fn write_malformed_variants(dir: &Path, variants: &[(&str, &str, &str)]) {
    let src = std::fs::read_to_string(
        root()
            .join(DISCHARGE)
            .join("discharge_01_classic_default_ns.xml"),
    )
    .unwrap();
    std::fs::create_dir_all(dir).unwrap();
    for (name, old, new) in variants {
        assert!(src.contains(old), "{old} not in discharge_01");
        std::fs::write(dir.join(name), src.replacen(old, new, 1)).unwrap();
    }
}

#[test]
fn xml_errors_never_echo_document_text() {
    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("in");
    // A realistic unescaped ampersand in text, and an end tag carrying text.
    write_malformed_variants(
        &input,
        &[
            (
                "amp.xml",
                "<family>Quillfeather</family>",
                "<family>Quillfeather & Holloway; Wrenfield</family>",
            ),
            (
                "endtag.xml",
                "<family>Quillfeather</family>",
                "<family>Quillfeather</family title=\"Holloway\">",
            ),
        ],
    );
    let out = out_dir(&t, "out");
    let r = run(&args(&["convert", input.to_str().unwrap(), "--out", &out]));
    assert_eq!(r.code, 1, "{}", r.dump());
    for l in ledger(Path::new(&out)) {
        assert_eq!(s(&l, "outcome"), "failed", "{l}");
        assert!(l.get("line").is_some() && l.get("column").is_some(), "{l}");
        let text = format!("{} {}", s(&l, "reason"), l["issues"]);
        for w in ["Holloway", "Wrenfield", "Quillfeather"] {
            assert!(!text.contains(w), "document text {w:?} in ledger: {l}");
        }
    }
}

#[test]
fn not_well_formed_documents_fail_with_a_position() {
    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("in");
    write_malformed_variants(
        &input,
        &[
            (
                "ctrl_char.xml",
                "<family>Quillfeather</family>",
                "<family>Quill\u{1}feather</family>",
            ),
            (
                "lt_in_attr.xml",
                "extension=\"9434765919\"",
                "extension=\"9434765919<\"",
            ),
            (
                "endtag_attr.xml",
                "<family>Quillfeather</family>",
                "<family>Quillfeather</family x=\"1\">",
            ),
        ],
    );
    let out = out_dir(&t, "out");
    let r = run(&args(&["convert", input.to_str().unwrap(), "--out", &out]));
    assert_eq!(r.code, 1, "{}", r.dump());
    for l in ledger(Path::new(&out)) {
        assert_eq!(
            s(&l, "outcome"),
            "failed",
            "not well-formed input converted: {l}"
        );
        assert!(l.get("line").and_then(Value::as_u64).is_some(), "{l}");
    }
}

#[test]
fn documents_over_the_size_limit_fail_without_being_read() {
    let t = tempfile::tempdir().unwrap();
    let out = out_dir(&t, "out");
    let r = run(&args(&[
        "convert",
        DISCHARGE,
        "--out",
        &out,
        "--max-doc-mb",
        "0",
    ]));
    assert_eq!(r.code, 1, "{}", r.dump());
    let lines = ledger(Path::new(&out));
    assert_eq!(lines.len(), 8);
    for l in &lines {
        assert_eq!(l["outcome"], "failed", "{l}");
        assert!(l["reason"].as_str().unwrap().contains("[too-large]"), "{l}");
    }
}

#[test]
fn a_document_without_id_is_identified_by_its_set_id() {
    let t = tempfile::tempdir().unwrap();
    let src = std::fs::read_to_string(format!("{DISCHARGE}/discharge_01_classic_default_ns.xml"))
        .unwrap();
    // Drop the document-level id element (the first <id …/> after <ClinicalDocument>).
    let start = src
        .find("<id root=\"3FB440FF")
        .expect("fixture document id");
    let end = start + src[start..].find("/>").unwrap() + 2;
    let stripped = format!("{}{}", &src[..start], &src[end..]);
    let input = t.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("noid.xml"), stripped).unwrap();
    let out = out_dir(&t, "out");
    let r = run(&args(&["convert", input.to_str().unwrap(), "--out", &out]));
    assert_eq!(r.code, 0, "{}", r.dump());
    let l = &ledger(Path::new(&out))[0];
    assert_eq!(l["outcome"], "converted", "{l}");
    assert!(
        l["issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["rule"] == "document-id-missing"),
        "{l}"
    );
}

/// Convert `input` on `threads` threads and check
/// that every document converted and, on Linux, that its peak RSS (from
/// the report: `VmHWM`) is under 100 MB + 8 MB per thread (issue 2 point 11).
fn convert_within_memory_bound(t: &tempfile::TempDir, input: &Path, threads: u64, docs: u64) {
    let out = out_dir(t, "out");
    let r = run(&args(&[
        "convert",
        input.to_str().unwrap(),
        "--out",
        &out,
        "-j",
        &threads.to_string(),
    ]));
    assert_eq!(r.code, 0, "{}", r.dump());
    let rep = report(Path::new(&out));
    assert_eq!(u(&rep["outcomes"], "converted"), docs);
    if !cfg!(target_os = "linux") {
        assert!(rep.get("peak_rss_kb").is_none());
        return;
    }
    let kb = u(&rep, "peak_rss_kb");
    let bound = (100 + 8 * threads) * 1024;
    eprintln!("peak RSS {kb} KiB (bound {bound} KiB)");
    assert!(kb < bound, "peak RSS {kb} KiB over the bound {bound} KiB");
}

/// 420 documents on four threads, so documents or allocator arenas piling
/// up across the run would show.
#[test]
fn peak_memory_stays_within_the_bound() {
    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let src = root().join(DISCHARGE);
    let docs = files_below(&src);
    assert!(!docs.is_empty());
    for copy in 0..60 {
        for d in &docs {
            let name = format!("{copy:02}_{}", d.replace('/', "_"));
            std::fs::copy(src.join(d), input.join(name)).unwrap();
        }
    }
    convert_within_memory_bound(&t, &input, 4, 60 * docs.len() as u64);
}

/// The same bound with large documents: eight 5 MB discharge documents
/// (discharge_02's body repeated) on eight threads. Without the working-memory
/// budget they were converted side by side and peaked near 330 MB.
#[test]
fn large_documents_stay_within_the_memory_bound() {
    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let src = std::fs::read_to_string(
        root()
            .join(DISCHARGE)
            .join("discharge_02_edischarge_headings_large_crlf.xml"),
    )
    .unwrap();
    let open = src.find("<structuredBody").unwrap();
    let start = open + src[open..].find('>').unwrap() + 1;
    let end = src.rfind("</structuredBody>").unwrap();
    let body = &src[start..end];
    let big = format!(
        "{}{}{}",
        &src[..start],
        body.repeat(5_000_000 / body.len()),
        &src[end..]
    );
    for i in 0..8 {
        std::fs::write(input.join(format!("big{i}.xml")), &big).unwrap();
    }
    convert_within_memory_bound(&t, &input, 8, 8);
}

/// Entries that are not regular files are accounted for, never ignored and
/// never opened: a symbolic link to a file is read through, a link to a
/// directory is skipped (not followed), a broken link fails, a FIFO is
/// skipped without being opened (opening it would block the run).
#[cfg(unix)]
#[test]
fn special_directory_entries_each_get_a_ledger_line() {
    use std::os::unix::fs::symlink;
    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("in");
    std::fs::create_dir_all(input.join("sub")).unwrap();
    std::fs::copy(
        root()
            .join(DISCHARGE)
            .join("discharge_05_duplicate_id_a.xml"),
        input.join("a.xml"),
    )
    .unwrap();
    symlink("a.xml", input.join("b_link.xml")).unwrap();
    symlink("..", input.join("sub/c_dir_link")).unwrap();
    symlink("missing.xml", input.join("d_broken.xml")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(input.join("e_fifo.xml"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let out = out_dir(&t, "out");
    let r = run(&args(&[
        "convert",
        input.to_str().unwrap(),
        "--out",
        &out,
        "-j",
        "2",
    ]));
    assert_eq!(r.code, 1, "{}", r.dump());
    let lines = ledger(Path::new(&out));
    let got: Vec<(String, String, String)> = lines
        .iter()
        .map(|l| {
            (
                s(l, "input").to_string(),
                s(l, "outcome").to_string(),
                l.get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    let mut want = vec![
        ("a.xml", "converted", ""),
        ("b_link.xml", "converted", ""),
        (
            "d_broken.xml",
            "failed",
            "d_broken.xml: broken symbolic link: entity not found [read-error]",
        ),
        ("e_fifo.xml", "skipped", "not a regular file (FIFO)"),
        (
            "sub/c_dir_link",
            "skipped",
            "symbolic link to a directory (not followed)",
        ),
    ];
    if !fifo {
        want.retain(|w| w.0 != "e_fifo.xml");
    }
    let want: Vec<(String, String, String)> = want
        .into_iter()
        .map(|(a, b, c)| (a.into(), b.into(), c.into()))
        .collect();
    assert_eq!(got, want);
    check_report_reconciles(Path::new(&out), &lines);
}
