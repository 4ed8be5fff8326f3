//! `itkbridge mappings check DIR` on a copy of the default mappings with
//! one defect injected into `edischarge.map` at a time: exit 2 and a
//! `edischarge.map:LINE:COL:` message pointing at the defect.

mod common;

use std::path::{Path, PathBuf};

use common::{copy_tree, root, run};

/// A fresh copy of the repository's mappings folder (*.map and *.tsv, recursive).
fn copy_mappings() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("mappings");
    copy_tree(&root().join("mappings"), &dir, &[".map", ".tsv"]);
    assert!(dir.join("edischarge.map").is_file());
    (t, dir)
}

/// One injected defect.
struct Defect {
    /// What the defect is (for messages).
    what: &'static str,
    /// A substring identifying exactly one line of edischarge.map.
    anchor: &'static str,
    /// Text replaced (first occurrence) in that line…
    old: &'static str,
    /// …by this text.
    new: &'static str,
    /// Columns are where this substring of the new line starts; any one of
    /// these is accepted (first = the offending token itself).
    markers: &'static [&'static str],
    /// A phrase the message must contain.
    phrase: &'static str,
}

/// Apply the defect to `dir/edischarge.map`; returns (line, accepted columns).
fn inject(dir: &Path, d: &Defect) -> (usize, Vec<usize>) {
    let p = dir.join("edischarge.map");
    let text = std::fs::read_to_string(&p).unwrap();
    let hits: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(d.anchor))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "{}: anchor {:?} must identify one line, found {hits:?}",
        d.what,
        d.anchor
    );
    let idx = hits[0];
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let new_line = lines[idx].replacen(d.old, d.new, 1);
    assert_ne!(
        new_line,
        lines[idx],
        "{}: {:?} not found in line {}",
        d.what,
        d.old,
        idx + 1
    );
    let cols = d
        .markers
        .iter()
        .map(|m| {
            let b = new_line
                .find(m)
                .unwrap_or_else(|| panic!("{}: marker {m:?} not in {new_line:?}", d.what));
            new_line[..b].chars().count() + 1
        })
        .collect();
    lines[idx] = new_line;
    let mut out = lines.join("\n");
    out.push('\n');
    std::fs::write(&p, out).unwrap();
    (idx + 1, cols)
}

fn check(d: Defect) {
    let (_t, dir) = copy_mappings();
    let (line, cols) = inject(&dir, &d);
    let r = run(&[
        std::ffi::OsStr::new("mappings"),
        "check".as_ref(),
        dir.as_os_str(),
    ]);
    assert_eq!(r.code, 2, "{}: expected exit 2\n{}", d.what, r.dump());
    let err = r
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("{}: no error: line\n{}", d.what, r.dump()));
    let ok_pos = cols
        .iter()
        .any(|c| err.contains(&format!("edischarge.map:{line}:{c}: ")));
    assert!(
        ok_pos,
        "{}: expected edischarge.map:{line}:{} (defect position), got: {err}",
        d.what,
        cols.iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(" or ")
    );
    assert!(
        err.contains(d.phrase),
        "{}: message lacks {:?}: {err}",
        d.what,
        d.phrase
    );
}

#[test]
fn clean_copy_passes() {
    let (_t, dir) = copy_mappings();
    let r = run(&[
        std::ffi::OsStr::new("mappings"),
        "check".as_ref(),
        dir.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.dump());
    assert!(r.stderr.contains("ok: edischarge"), "{}", r.dump());
    assert!(!r.stderr.contains("error:"), "{}", r.dump());
}

#[test]
fn unknown_patient_element() {
    check(Defect {
        what: "Patient.birthDat",
        anchor: "  birthDate = date(hl7:patient/hl7:birthTime/@value)",
        old: "birthDate =",
        new: "birthDat =",
        markers: &["birthDat"],
        phrase: "not an element of Patient",
    });
}

#[test]
fn unknown_function() {
    check(Defect {
        what: "unknown function foo(x)",
        anchor: "  status = \"final\"",
        old: "\"final\"",
        new: "foo(x)",
        markers: &["foo(x)"],
        phrase: "unknown function 'foo'",
    });
}

#[test]
fn unknown_namespace_prefix() {
    check(Defect {
        what: "unknown prefix zz:id",
        anchor: "  identifier each hl7:id[@root='2.16.840.1.113883.2.1.4.1'",
        old: "each hl7:id[",
        new: "each zz:id[",
        markers: &["zz:id"],
        phrase: "unknown namespace prefix 'zz'",
    });
}

#[test]
fn unknown_table_in_lookup() {
    check(Defect {
        what: "lookup() of an unknown table",
        anchor: "    display = lookup(confidentiality, @code)",
        old: "lookup(confidentiality,",
        new: "lookup(confidentialty,",
        // The table name is the defect; the start of the call is accepted too.
        markers: &["confidentialty", "lookup("],
        phrase: "unknown table 'confidentialty'",
    });
}

#[test]
fn unknown_resource_key_in_ref() {
    check(Defect {
        what: "ref() of an unknown resource key",
        anchor: "  custodian.reference = ref(custodian)",
        old: "ref(custodian)",
        new: "ref(custodain)",
        // The key is the defect; the start of the call is accepted too.
        markers: &["custodain", "ref(custodain)"],
        phrase: "no resource is declared with key 'custodain'",
    });
}

#[test]
fn unknown_section_slice() {
    check(Defect {
        what: "section XYZ",
        anchor: "section ALG ",
        old: "section ALG",
        new: "section XYZ",
        markers: &["XYZ"],
        phrase: "'XYZ' is not a section slice",
    });
}

#[test]
fn unknown_unstructured_slice() {
    check(Defect {
        what: "unstructured body to slice XYZ",
        anchor: "  unstructured /hl7:ClinicalDocument/hl7:component/hl7:nonXMLBody -> CSM",
        old: "-> CSM",
        new: "-> XYZ",
        markers: &["XYZ"],
        phrase: "'XYZ' is not a section slice",
    });
}

#[test]
fn bad_title_regex() {
    check(Defect {
        what: "unbalanced title regex",
        anchor: "  route title \"problems and issues\" -> DX",
        old: "\"problems and issues\"",
        new: "\"problems (and issues\"",
        markers: &["\"problems (", "(and"],
        phrase: "bad title pattern",
    });
}

#[test]
fn assignment_to_a_non_primitive() {
    check(Defect {
        what: "name = \"x\" in Patient",
        anchor: "  gender = gender(hl7:patient/hl7:administrativeGenderCode/@code)",
        old: "gender = gender(hl7:patient/hl7:administrativeGenderCode/@code)",
        new: "name = \"x\"",
        markers: &["name = "],
        phrase: "not a primitive",
    });
}

#[test]
fn tab_indentation() {
    check(Defect {
        what: "tab indentation",
        anchor: "  profile https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1",
        old: "  profile",
        new: "\tprofile",
        markers: &["\t"],
        phrase: "tab",
    });
}

#[test]
fn unknown_resource_type() {
    check(Defect {
        what: "resource Patinet",
        anchor: "resource Patient patient if",
        old: "resource Patient",
        new: "resource Patinet",
        markers: &["Patinet"],
        phrase: "'Patinet' is not a FHIR STU3 resource type",
    });
}
