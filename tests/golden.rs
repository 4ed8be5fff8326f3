//! Golden tests: every `testdata/discharge/*.xml` is converted with the
//! embedded mappings and the pretty-printed message bundle is compared byte
//! for byte with `testdata/golden/<file stem>.json`.
//!
//! Regenerate the expected files with
//!
//! ```text
//! ITKBRIDGE_UPDATE_GOLDEN=1 cargo test --test golden
//! ```
//!
//! and review the diff (`git diff testdata/golden`) before committing.
//! `testdata/golden/*.json` must hold nothing but complete message bundles:
//! the independent checkers (`tests/stu3_independent.rs`,
//! `tests/external/run.sh testdata/golden`) run over every one of them.
//!
//! On a mismatch the actual output is also written below
//! `target/tmp/golden-actual/` so it can be diffed with the golden file.

use std::path::{Path, PathBuf};

use itkbridge::mapping::{compile, embedded, MapSet};
use itkbridge::pipeline::{convert_bytes, Outcome};

const UPDATE_VAR: &str = "ITKBRIDGE_UPDATE_GOLDEN";
/// Lines of context shown before the first differing line.
const CONTEXT: usize = 4;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn update_mode() -> bool {
    std::env::var(UPDATE_VAR)
        .map(|v| !v.is_empty() && v != "0")
        .unwrap_or(false)
}

fn maps() -> MapSet {
    match compile(&embedded::sources()) {
        Ok(m) => m,
        Err(e) => panic!("embedded mappings do not compile: {e}"),
    }
}

/// Sorted `*.xml` files of a directory.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    v.sort();
    v
}

fn golden_path(input: &Path) -> PathBuf {
    let stem = input.file_stem().expect("file stem").to_string_lossy();
    root().join("testdata/golden").join(format!("{stem}.json"))
}

/// Convert one input; panics with the reason if no bundle came out.
fn convert(maps: &MapSet, path: &Path) -> Vec<u8> {
    let name = path
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned();
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let r = convert_bytes(&name, &bytes, maps);
    match (r.outcome, r.bundle) {
        (Outcome::Converted, Some(b)) => b,
        (outcome, _) => panic!(
            "{name}: expected a converted bundle, got {} ({}); issues: {:?}",
            outcome.as_str(),
            r.reason.unwrap_or_default(),
            r.issues
                .iter()
                .map(|i| format!("{} {}: {}", i.severity, i.rule, i.message))
                .collect::<Vec<_>>()
        ),
    }
}

/// Describe the first difference between two texts (1-based line numbers),
/// or `None` if they are byte-identical.
fn first_difference(expected: &[u8], actual: &[u8]) -> Option<String> {
    if expected == actual {
        return None;
    }
    let exp = String::from_utf8_lossy(expected);
    let act = String::from_utf8_lossy(actual);
    // Lines keep their terminator so that "\r\n" vs "\n" and a missing final
    // newline count as differences too.
    let e: Vec<&str> = exp.split_inclusive('\n').collect();
    let a: Vec<&str> = act.split_inclusive('\n').collect();
    let n = e.iter().zip(a.iter()).take_while(|(x, y)| x == y).count();
    let show = |l: &str| l.trim_end_matches('\n').trim_end_matches('\r').to_string();
    let mut out = String::new();
    for (i, line) in e.iter().enumerate().take(n).skip(n.saturating_sub(CONTEXT)) {
        out.push_str(&format!("      {:>5} | {}\n", i + 1, show(line)));
    }
    match (e.get(n), a.get(n)) {
        (Some(x), Some(y)) if show(x) == show(y) => {
            out.push_str(&format!(
                "  exp {:>5} | {x:?}\n  got {:>5} | {y:?}\n  (line terminators differ)\n",
                n + 1,
                n + 1
            ));
        }
        (Some(x), Some(y)) => {
            out.push_str(&format!("  exp {:>5} | {}\n", n + 1, show(x)));
            out.push_str(&format!("  got {:>5} | {}\n", n + 1, show(y)));
        }
        (Some(x), None) => out.push_str(&format!(
            "  exp {:>5} | {}\n  got       | <end of output>\n",
            n + 1,
            show(x)
        )),
        (None, Some(y)) => out.push_str(&format!(
            "  exp       | <end of golden file>\n  got {:>5} | {}\n",
            n + 1,
            show(y)
        )),
        // Identical lines but different bytes: only invalid UTF-8 replaced
        // the same way on both sides can do that.
        (None, None) => out.push_str("  (texts differ only in invalid UTF-8 bytes)\n"),
    }
    // A couple of following lines of both sides help to see a shifted block.
    for k in 1..=2 {
        if let Some(x) = e.get(n + k) {
            out.push_str(&format!("  exp {:>5} | {}\n", n + k + 1, show(x)));
        }
    }
    for k in 1..=2 {
        if let Some(y) = a.get(n + k) {
            out.push_str(&format!("  got {:>5} | {}\n", n + k + 1, show(y)));
        }
    }
    Some(format!(
        "first difference at line {} (golden {} lines, output {} lines):\n{out}",
        n + 1,
        e.len(),
        a.len()
    ))
}

#[test]
fn discharge_documents_match_golden_bundles() {
    let maps = maps();
    let files = inputs(&root().join("testdata/discharge"));
    assert!(!files.is_empty(), "no testdata/discharge/*.xml found");
    let update = update_mode();
    let golden_dir = root().join("testdata/golden");
    let actual_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("golden-actual");
    let mut failures = Vec::new();
    for input in &files {
        let got = convert(&maps, input);
        let golden = golden_path(input);
        let rel = golden
            .strip_prefix(root())
            .unwrap_or(&golden)
            .display()
            .to_string();
        if update {
            std::fs::create_dir_all(&golden_dir).expect("create testdata/golden");
            let old = std::fs::read(&golden).ok();
            if old.as_deref() == Some(&got[..]) {
                eprintln!("{UPDATE_VAR}: {rel} unchanged");
            } else {
                std::fs::write(&golden, &got).unwrap_or_else(|e| panic!("cannot write {rel}: {e}"));
                eprintln!("{UPDATE_VAR}: wrote {rel} ({} bytes)", got.len());
            }
            continue;
        }
        let expected = match std::fs::read(&golden) {
            Ok(b) => b,
            Err(e) => {
                failures.push(format!(
                    "{rel}: cannot read golden file ({e}); run with {UPDATE_VAR}=1 to create it"
                ));
                continue;
            }
        };
        if let Some(diff) = first_difference(&expected, &got) {
            let _ = std::fs::create_dir_all(&actual_dir);
            let actual_path = actual_dir.join(golden.file_name().expect("golden file name"));
            let _ = std::fs::write(&actual_path, &got);
            failures.push(format!(
                "{rel} differs from the output for {}; {diff}  actual output written to {}",
                input.file_name().expect("file name").to_string_lossy(),
                actual_path.display()
            ));
        }
    }
    // Every golden bundle must belong to an input: the independent checkers
    // run over all of testdata/golden/*.json.
    let expected_names: Vec<PathBuf> = files.iter().map(|f| golden_path(f)).collect();
    if let Ok(rd) = std::fs::read_dir(&golden_dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "json") && !expected_names.contains(&p) {
                if update {
                    std::fs::remove_file(&p)
                        .unwrap_or_else(|err| panic!("cannot remove {}: {err}", p.display()));
                    eprintln!("{UPDATE_VAR}: removed stale {}", p.display());
                } else {
                    failures.push(format!(
                        "{}: golden bundle without a testdata/discharge input (stale?); run with {UPDATE_VAR}=1 to remove it",
                        p.display()
                    ));
                }
            }
        }
    }
    if update {
        eprintln!("{UPDATE_VAR} is set: golden files were rewritten, nothing was compared; review `git diff testdata/golden`");
        return;
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatch(es):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Output bytes must not depend on anything but the input (no clock, no
/// random ids, no hash-map order): converting twice gives identical bytes.
#[test]
fn conversion_is_deterministic() {
    let maps = maps();
    for input in inputs(&root().join("testdata/discharge")) {
        let a = convert(&maps, &input);
        let b = convert(&maps, &input);
        if let Some(diff) = first_difference(&a, &b) {
            panic!("{}: two conversions differ; {diff}", input.display());
        }
    }
}

/// The diff reporter itself (a comparison that cannot fail is a defect).
#[test]
fn first_difference_reports_line_and_context() {
    assert_eq!(first_difference(b"a\nb\n", b"a\nb\n"), None);
    let d = first_difference(b"1\n2\n3\n4\n5\n6\n", b"1\n2\n3\n4\nX\n6\n").expect("differs");
    assert!(d.starts_with("first difference at line 5"), "{d}");
    assert!(
        d.contains("exp     5 | 5") && d.contains("got     5 | X"),
        "{d}"
    );
    assert!(d.contains("    4 | 4"), "context missing: {d}");
    let d = first_difference(b"1\n2\n", b"1\n2\n3\n").expect("longer output");
    assert!(d.contains("<end of golden file>"), "{d}");
    let d = first_difference(b"1\n2\n3\n", b"1\n2\n").expect("shorter output");
    assert!(d.contains("<end of output>"), "{d}");
    let d = first_difference(b"1\n2\n", b"1\n2").expect("missing final newline");
    assert!(d.contains("line terminators differ"), "{d}");
}
