//! Helpers shared by the CLI-level integration tests: run the built binary,
//! read an output tree, read the ledger.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Result of one run of the binary.
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Everything the process printed, for assertion messages.
    pub fn dump(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The crate root (tests run the binary from here, so `testdata/…` resolves).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run `itkbridge` with `args` in the crate root.
pub fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_itkbridge"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("cannot start itkbridge");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every file below `dir`, as relative path (forward slashes) → bytes, sorted.
pub fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let mut entries: Vec<_> = std::fs::read_dir(d)
            .unwrap_or_else(|e| panic!("read_dir {}: {e}", d.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p
                    .strip_prefix(base)
                    .unwrap()
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Parse `OUT/ledger.ndjson` into one JSON value per line.
pub fn ledger(out: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(out.join("ledger.ndjson")).expect("ledger.ndjson");
    text.lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("ledger line is not JSON ({e}): {l}"))
        })
        .collect()
}

/// Messages of a ledger line's issues with rule `rule`.
pub fn issue_messages<'a>(line: &'a serde_json::Value, rule: &str) -> Vec<&'a str> {
    line["issues"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["rule"] == rule)
        .map(|i| i["message"].as_str().unwrap_or_default())
        .collect()
}

/// `itkbridge convert INPUT --out OUT --progress never [EXTRA…]`.
pub fn convert(input: &Path, out: &Path, extra: &[&std::ffi::OsStr]) -> Run {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "convert".as_ref(),
        input.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--progress".as_ref(),
        "never".as_ref(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// The converted bundle of a `converted` ledger line.
pub fn bundle_of(out: &Path, line: &serde_json::Value) -> serde_json::Value {
    let rel = line["output"]
        .as_str()
        .unwrap_or_else(|| panic!("not converted: {line}"));
    serde_json::from_slice(&std::fs::read(out.join(rel)).expect("bundle file"))
        .expect("bundle JSON")
}

/// The document Bundle inside a message Bundle.
pub fn document_bundle(message: &serde_json::Value) -> &serde_json::Value {
    &message["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["resource"]["resourceType"] == "Bundle")
        .expect("a document Bundle entry")["resource"]
}

/// The `div` of the Composition section titled `title`, if there is one.
pub fn section_div(message: &serde_json::Value, title: &str) -> Option<String> {
    document_bundle(message)["entry"][0]["resource"]["section"]
        .as_array()?
        .iter()
        .find(|s| s["title"] == title)
        .and_then(|s| s["text"]["div"].as_str())
        .map(str::to_string)
}

/// Parse `OUT/report.json`.
pub fn report(out: &Path) -> serde_json::Value {
    let bytes = std::fs::read(out.join("report.json")).expect("report.json");
    serde_json::from_slice(&bytes).expect("report.json is JSON")
}

/// Sorted relative paths of the regular files directly or indirectly below `dir`.
pub fn files_below(dir: &Path) -> Vec<String> {
    read_tree(dir).into_keys().collect()
}

/// Copy the files below `src` whose names end with one of `exts` into `dst`
/// (recursively, keeping relative paths).
pub fn copy_tree(src: &Path, dst: &Path, exts: &[&str]) {
    for (rel, bytes) in read_tree(src) {
        if exts.is_empty() || exts.iter().any(|e| rel.ends_with(e)) {
            let p = dst.join(&rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
    }
}
pub mod doccheck;

/// Case count and seed of a property test: `ROBUST_CASES=N ROBUST_SEED=S`
/// widen a local bug hunt; CI uses the defaults given.
pub fn cases_and_seed(cases: u32, seed: u8) -> (u32, u8) {
    fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
        std::env::var(name).ok().and_then(|v| v.parse().ok())
    }
    (
        env("ROBUST_CASES").unwrap_or(cases),
        env("ROBUST_SEED").unwrap_or(seed),
    )
}

/// A deterministic property-test runner: `cases` cases from a fixed ChaCha
/// seed, no failure persistence.
pub fn fixed_runner(cases: u32, seed: u8) -> proptest::test_runner::TestRunner {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            rng_algorithm: RngAlgorithm::ChaCha,
            max_shrink_iters: 200,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    )
}

/// [`fixed_runner`] with the case count and seed of [`cases_and_seed`].
pub fn runner(cases: u32, seed: u8) -> proptest::test_runner::TestRunner {
    let (cases, seed) = cases_and_seed(cases, seed);
    fixed_runner(cases, seed)
}
