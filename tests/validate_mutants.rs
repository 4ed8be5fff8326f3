//! The validator mutation suite (issue 3).
//!
//! `testdata/validate/mutants/mutants.json` lists single-defect mutants of
//! the four clean ITK3 Transfer of Care messages in
//! `testdata/validate/clean/` (see `testdata/validate/mutants/README.md`
//! for the schema, the rule families and the location conventions). Each
//! mutant names the issue the specifications say it must raise: severity,
//! FHIRPath location and, where only one rule id can apply, the rule id.
//!
//! * [`clean_bases_have_no_blocking_issue`]: the four bases give no fatal or
//!   error issue under [`validate_full`].
//! * [`every_mutant_is_caught`]: for every mutant, [`validate_full`] on the
//!   mutated copy reports an issue with exactly the expected severity and
//!   location (and rule, when given), and the clean base does not already
//!   report that issue (otherwise the mutant proves nothing).
//! * [`xml_twins_agree`]: every base and every mutant that XML can express
//!   (all but those marked `json_only`) is written as FHIR XML with
//!   [`json_to_xml`]; `validate_bytes` on the XML and on the JSON text must
//!   give the same set of (severity, rule, location).
//! * [`catalogue_is_complete`]: at least 100 mutants, at least 20 per base,
//!   every family of [`FAMILIES`] present (for at least two bases), unique
//!   ids, well-formed entries.
//!
//! Each test collects every failure and fails once at the end with the full
//! list, so one run shows every miss. `MUTANT=<id>[,<id>…]` restricts the
//! mutant tests to the given ids; `MUTANTS_VERBOSE=1` prints every issue of
//! every mutant.

use std::collections::{BTreeMap, BTreeSet};

use itkbridge::fhir::xml::json_to_xml;
use itkbridge::validate::files::validate_bytes;
use itkbridge::validate::{validate_full, Issue};

use serde_json::Value;

/// The clean bases (file stem = mutant `base`).
const BASES: &[&str] = &["edis", "mh", "ecd", "opl"];

/// The rule families of issue 3; every one must be covered.
const FAMILIES: &[&str] = &[
    // Elements not defined for their type.
    "unknown-element",
    // Types and primitive formats (id, date, dateTime, instant, uri, code,
    // decimal, positiveInt, time, boolean).
    "primitive-format",
    // Core and profile cardinality, including 0..0.
    "cardinality",
    // Fixed (and pattern) values.
    "fixed-value",
    // Required bindings: code not in the value set is an error.
    "binding-required",
    // Extensible bindings: a code from the bound system that is not in the
    // value set is a warning.
    "binding-extensible",
    // A SNOMED CT refset / ECL value set that cannot be expanded offline:
    // reported as not checked (information), never as passed.
    "binding-not-checked",
    // Preferred bindings: information.
    "binding-preferred",
    // Slicing: extensions by url, identifiers by system, codings by system,
    // names by use, Composition.section by code (closed).
    "slicing",
    // Reference target types inside the bundle.
    "reference-target",
    // XHTML narrative: allowed elements and attributes, no script or event
    // attributes, some content (txt-1, txt-2).
    "xhtml",
    // FHIR JSON rules: resourceType, empty arrays/objects/strings, null,
    // array vs single value, `_x` primitive extensions.
    "json",
    // Core invariants (bdl-*, cmp-*, ext-1, per-1, cpt-2, pat-1, ref-1,
    // dom-*, ele-1 …).
    "invariant",
    // ITK3 message rules: entry order, the six handling keys, event ↔
    // MessageDefinition ↔ Composition profile, fullUrl = urn:uuid:<id>,
    // destination absent, header parties.
    "itk",
    // ToC document rules: mandatory / IG-mandatory sections, section fixed
    // titles and displays, section entries, prohibited section elements.
    "toc-sections",
    // Identifier systems at the wrong base or unknown under an NHS base,
    // NHS numbers failing Modulus 11 (warnings).
    "identifiers",
];

const MIN_TOTAL: usize = 100;
const MIN_PER_BASE: usize = 20;

#[path = "support/mutants.rs"]
mod mutants;
use mutants::{load_json, mutate, root, Expect, Mutant};

impl Expect {
    fn matches(&self, i: &Issue) -> bool {
        i.severity.as_str() == self.severity
            && i.location == self.location
            && self.rule.as_deref().is_none_or(|r| r == i.rule)
    }

    fn show(&self) -> String {
        format!(
            "{} [{}] {}",
            self.severity,
            self.rule.as_deref().unwrap_or("any rule"),
            self.location
        )
    }
}

fn base(name: &str) -> Value {
    load_json(&root().join(format!("testdata/validate/clean/{name}.json")))
}

fn bases() -> BTreeMap<&'static str, Value> {
    BASES.iter().map(|b| (*b, base(b))).collect()
}

fn catalogue() -> Vec<Mutant> {
    let path = root().join("testdata/validate/mutants/mutants.json");
    let v = load_json(&path);
    serde_json::from_value(v)
        .unwrap_or_else(|e| panic!("{}: not a list of mutants: {e}", path.display()))
}

/// The mutants selected by `MUTANT=id,id` (all by default).
fn selected(all: Vec<Mutant>) -> Vec<Mutant> {
    match std::env::var("MUTANT") {
        Ok(ids) if !ids.trim().is_empty() => {
            let want: BTreeSet<&str> = ids.split(',').map(str::trim).collect();
            all.into_iter()
                .filter(|m| want.contains(m.id.as_str()))
                .collect()
        }
        _ => all,
    }
}

fn verbose() -> bool {
    std::env::var("MUTANTS_VERBOSE").is_ok_and(|v| !v.is_empty() && v != "0")
}

// ------------------------------------------------------------ reporting

fn render(issues: &[Issue]) -> String {
    if issues.is_empty() {
        return "    (no issues)".into();
    }
    issues
        .iter()
        .map(|i| format!("    {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn finish(what: &str, failures: &[String]) {
    if !failures.is_empty() {
        panic!(
            "{} {what}:\n\n{}\n\n{} {what} (listed above)",
            failures.len(),
            failures.join("\n\n"),
            failures.len()
        );
    }
}

// ------------------------------------------------------------ tests

#[test]
fn clean_bases_have_no_blocking_issue() {
    let mut failures = Vec::new();
    for (name, b) in bases() {
        let issues = validate_full(&b);
        if issues.iter().any(|i| i.severity.is_blocking()) {
            failures.push(format!("base {name}:\n{}", render(&issues)));
        } else if verbose() {
            eprintln!("base {name}:\n{}", render(&issues));
        }
    }
    finish("clean base(s) with a fatal or error issue", &failures);
}

#[test]
fn every_mutant_is_caught() {
    let bases = bases();
    let base_issues: BTreeMap<&str, Vec<Issue>> =
        bases.iter().map(|(n, b)| (*n, validate_full(b))).collect();
    let mut failures = Vec::new();
    for m in selected(catalogue()) {
        let Some(b) = bases.get(m.base.as_str()) else {
            failures.push(format!("{}: unknown base '{}'", m.id, m.base));
            continue;
        };
        let doc = match mutate(b, &m) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{}: ops do not apply: {e}", m.id));
                continue;
            }
        };
        let issues = validate_full(&doc);
        if verbose() {
            eprintln!("{} expect {}\n{}", m.id, m.expect.show(), render(&issues));
        }
        let head = format!(
            "{} ({}, {})\n  why:      {}\n  expected: {}",
            m.id,
            m.base,
            m.family,
            m.why,
            m.expect.show()
        );
        if !issues.iter().any(|i| m.expect.matches(i)) {
            failures.push(format!(
                "{head}\n  MISSED; the validator reported:\n{}",
                render(&issues)
            ));
        } else if base_issues[m.base.as_str()]
            .iter()
            .any(|i| m.expect.matches(i))
        {
            failures.push(format!(
                "{head}\n  the clean base already reports this issue, so the mutant proves nothing"
            ));
        }
    }
    finish("mutant(s) not caught as expected", &failures);
}

/// (severity, rule, location) of a report.
fn keys(issues: &[Issue]) -> BTreeSet<(String, String, String)> {
    issues
        .iter()
        .map(|i| {
            (
                i.severity.as_str().to_string(),
                i.rule.to_string(),
                i.location.clone(),
            )
        })
        .collect()
}

/// JSON text and its XML twin must be judged alike; `None` if they are.
fn twin_difference(label: &str, doc: &Value) -> Option<String> {
    let json_text = serde_json::to_vec_pretty(doc).expect("serialise");
    let xml_text = match json_to_xml(doc) {
        Ok(x) => x,
        Err(e) => return Some(format!("{label}: json_to_xml failed: {e}")),
    };
    let from_json = validate_bytes("m.json", &json_text);
    let from_xml = validate_bytes("m.xml", xml_text.as_bytes());
    let (a, b) = (keys(&from_json.issues), keys(&from_xml.issues));
    if a == b {
        return None;
    }
    let fmt = |s: Vec<&(String, String, String)>| {
        if s.is_empty() {
            "    (none)".to_string()
        } else {
            s.iter()
                .map(|(sev, rule, loc)| format!("    {sev} [{rule}] {loc}"))
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    Some(format!(
        "{label}: JSON and XML twins differ\n  only from JSON:\n{}\n  only from XML:\n{}",
        fmt(a.difference(&b).collect()),
        fmt(b.difference(&a).collect())
    ))
}

#[test]
fn xml_twins_agree() {
    let bases = bases();
    let mut failures = Vec::new();
    if std::env::var("MUTANT").is_err() {
        for (name, b) in &bases {
            if let Some(d) = twin_difference(&format!("base {name}"), b) {
                failures.push(d);
            }
        }
    }
    for m in selected(catalogue()) {
        if m.json_only {
            continue;
        }
        let Some(b) = bases.get(m.base.as_str()) else {
            continue; // reported by every_mutant_is_caught
        };
        let Ok(doc) = mutate(b, &m) else {
            continue; // reported by every_mutant_is_caught
        };
        if let Some(d) = twin_difference(&format!("{} ({})", m.id, m.why), &doc) {
            failures.push(d);
        }
    }
    finish("JSON/XML twin disagreement(s)", &failures);
}

#[test]
fn catalogue_is_complete() {
    let all = catalogue();
    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    let mut per_base: BTreeMap<&str, usize> = BTreeMap::new();
    let mut family_bases: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for m in &all {
        if !ids.insert(m.id.as_str()) {
            problems.push(format!("{}: duplicate id", m.id));
        }
        if !BASES.contains(&m.base.as_str()) {
            problems.push(format!("{}: unknown base '{}'", m.id, m.base));
        }
        if !m.id.starts_with(&format!("{}-", m.base)) {
            problems.push(format!("{}: id does not start with its base", m.id));
        }
        if !FAMILIES.contains(&m.family.as_str()) {
            problems.push(format!("{}: family '{}' not in FAMILIES", m.id, m.family));
        }
        if !["fatal", "error", "warning", "information"].contains(&m.expect.severity.as_str()) {
            problems.push(format!("{}: bad severity '{}'", m.id, m.expect.severity));
        }
        if m.expect.location.is_empty() || m.why.trim().is_empty() || m.ops.is_empty() {
            problems.push(format!("{}: empty location, why or ops", m.id));
        }
        if m.ops.len() > 2 {
            problems.push(format!("{}: more than two ops for one defect", m.id));
        }
        for op in &m.ops {
            if !["set", "remove", "insert", "rename"].contains(&op.op.as_str()) {
                problems.push(format!("{}: unknown op '{}'", m.id, op.op));
            }
        }
        *per_base.entry(m.base.as_str()).or_default() += 1;
        family_bases
            .entry(m.family.as_str())
            .or_default()
            .insert(m.base.as_str());
    }
    if all.len() < MIN_TOTAL {
        problems.push(format!(
            "{} mutants, at least {MIN_TOTAL} required",
            all.len()
        ));
    }
    for b in BASES {
        let n = per_base.get(b).copied().unwrap_or(0);
        if n < MIN_PER_BASE {
            problems.push(format!(
                "base {b}: {n} mutants, at least {MIN_PER_BASE} required"
            ));
        }
    }
    for f in FAMILIES {
        match family_bases.get(f) {
            None => problems.push(format!("family {f}: no mutant")),
            Some(bs) if bs.len() < 2 => problems.push(format!(
                "family {f}: only base(s) {bs:?}, at least two required"
            )),
            _ => {}
        }
    }
    if verbose() {
        eprintln!("mutants per base: {per_base:?}");
        for (f, bs) in &family_bases {
            let n = all.iter().filter(|m| m.family == *f).count();
            eprintln!("family {f}: {n} mutants, bases {bs:?}");
        }
    }
    finish("catalogue problem(s)", &problems);
}
