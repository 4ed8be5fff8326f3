//! Output: bundle files (atomic: temporary file, then rename), the ledger
//! (one line per input, in input order, no timings) and report.json. The
//! sink knows nothing about XML or mappings; it receives finished results.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Component, Path, PathBuf};
use std::time::Instant;

use serde_json::{json, Map, Value};

use crate::pipeline::{DocResult, LedgerIssue, Outcome, Stage, StageTimes, Summary};
use crate::source::MmapPolicy;

/// OUT cannot be used, or writing failed.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// OUT holds an earlier run.
    #[error("{0} already holds a run (ledger.ndjson exists): use --overwrite to replace it")]
    Exists(String),
    /// An I/O failure on OUT.
    #[error("output: {0}")]
    Io(String),
}

fn io(ctx: &Path, e: std::io::Error) -> SinkError {
    SinkError::Io(format!("{}: {e}", ctx.display()))
}

/// The output folder of a run.
pub struct Sink {
    out: PathBuf,
}

/// What the writer did (feeds report.json).
#[derive(Debug, Default)]
pub struct Written {
    /// Counts.
    pub summary: Summary,
    /// Documents by outcome and kind.
    pub by_kind: BTreeMap<String, BTreeMap<&'static str, u64>>,
    /// Stage timings summed over documents.
    pub times: StageTimes,
    /// Warnings by rule.
    pub warnings_by_rule: BTreeMap<String, u64>,
    /// Section coverage summed over converted documents.
    pub coverage: crate::mapping::sections::Coverage,
}

/// Write `bytes` to `path` atomically (temporary file in the same folder,
/// then rename); no temporary file is left behind on failure.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    write_atomic_in(dir, path, bytes)
}

/// As [`write_atomic`], for a `path` whose folder `dir` is known to exist.
fn write_atomic_in(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let res = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.flush()?;
        fs::rename(&tmp, path)
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}

/// `OUT/bundles/<prefix>/<rel>.json` (item > 0 adds `.<item>`), refusing
/// any path that would escape OUT.
pub fn bundle_path(prefix: &str, rel: &str, item: usize, multi: bool) -> Option<String> {
    let mut p = String::new();
    if !prefix.is_empty() {
        p.push_str(prefix);
        p.push('/');
    }
    p.push_str(rel);
    if multi {
        p.push_str(&format!(".{item}"));
    }
    p.push_str(".json");
    let ok = Path::new(&p)
        .components()
        .all(|c| matches!(c, Component::Normal(_)));
    ok.then(|| format!("bundles/{p}"))
}

impl Sink {
    /// Prepare OUT: create it, refuse an earlier run unless `overwrite`.
    pub fn create(out: &Path, overwrite: bool) -> Result<Sink, SinkError> {
        fs::create_dir_all(out).map_err(|e| io(out, e))?;
        let ledger = out.join("ledger.ndjson");
        if ledger.exists() {
            if !overwrite {
                return Err(SinkError::Exists(out.display().to_string()));
            }
            let b = out.join("bundles");
            if b.exists() {
                fs::remove_dir_all(&b).map_err(|e| io(&b, e))?;
            }
            let _ = fs::remove_file(&ledger);
            let _ = fs::remove_file(out.join("report.json"));
        }
        // Probe that OUT is writable now rather than after the first document.
        write_atomic(&out.join(".itkbridge-probe"), b"").map_err(|e| io(out, e))?;
        let _ = fs::remove_file(out.join(".itkbridge-probe"));
        Ok(Sink {
            out: out.to_path_buf(),
        })
    }

    /// Consume results until the channel closes.
    pub fn consume(
        self,
        rx: crossbeam_channel::Receiver<DocResult>,
        bar: Option<indicatif::ProgressBar>,
    ) -> Result<Written, SinkError> {
        let ledger_path = self.out.join("ledger.ndjson");
        let tmp = self
            .out
            .join(format!(".ledger.ndjson.{}.tmp", std::process::id()));
        let file = File::create(&tmp).map_err(|e| io(&tmp, e))?;
        let mut ledger = BufWriter::new(file);
        let mut pending: BTreeMap<usize, DocResult> = BTreeMap::new();
        let mut next = 0usize;
        let mut w = Written::default();
        // Document ids seen so far (for `duplicate-document-id`): a 16-byte
        // digest of each id with its content hash, 32 bytes an entry, so a
        // run of millions of documents keeps tens of MB, not hundreds.
        let mut seen_ids: HashMap<[u8; 16], [u8; 16]> = HashMap::new();
        let started = Instant::now();
        // Folders already created under OUT (saves a stat per bundle).
        let mut dirs: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
        let result = (|| -> Result<(), SinkError> {
            for mut r in rx.iter() {
                // Bundle files can be written in any order.
                if let Some(bytes) = r.bundle.take() {
                    let t = Instant::now();
                    match bundle_path(&r.out_prefix, &r.input, r.item, false) {
                        Some(rel) => {
                            let p = self.out.join(&rel);
                            let dir = p.parent().unwrap_or(&self.out).to_path_buf();
                            let made = if dirs.contains(&dir) {
                                Ok(())
                            } else {
                                fs::create_dir_all(&dir).map(|_| {
                                    dirs.insert(dir.clone());
                                })
                            };
                            if let Err(e) = made.and_then(|_| write_atomic_in(&dir, &p, &bytes)) {
                                r.outcome = Outcome::Failed;
                                r.reason = Some(format!(
                                    "{}: cannot write output: {} [write-error]",
                                    r.input,
                                    e.kind()
                                ));
                                r.issues.push(LedgerIssue {
                                    severity: "error",
                                    rule: "write-error".into(),
                                    message: format!("cannot write output: {}", e.kind()),
                                });
                            }
                        }
                        None => {
                            r.outcome = Outcome::Failed;
                            r.reason = Some(format!(
                                "{}: output path would leave the output folder [unsafe-path]",
                                r.input
                            ));
                        }
                    }
                    r.times.add(Stage::Write, t.elapsed().as_nanos() as u64);
                }
                // Its memory is free once the bundle is written; what waits
                // for ledger order is small.
                drop(r.permit.take());
                pending.insert(r.index, r);
                while let Some(r) = pending.remove(&next) {
                    self.ledger_line(&mut ledger, r, &mut w, &mut seen_ids)?;
                    if let Some(b) = &bar {
                        b.inc(1);
                        let secs = started.elapsed().as_secs_f64().max(1e-3);
                        b.set_message(format!(
                            "{:.1} MB/s  {} failed",
                            w.summary.bytes as f64 / 1e6 / secs,
                            w.summary.failed
                        ));
                    }
                    next += 1;
                }
            }
            // Anything left (never expected: indexes are dense).
            for (_, r) in std::mem::take(&mut pending) {
                self.ledger_line(&mut ledger, r, &mut w, &mut seen_ids)?;
            }
            ledger.flush().map_err(|e| io(&tmp, e))?;
            Ok(())
        })();
        drop(ledger);
        match result {
            Ok(()) => {
                fs::rename(&tmp, &ledger_path).map_err(|e| io(&ledger_path, e))?;
                Ok(w)
            }
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    fn ledger_line(
        &self,
        out: &mut impl Write,
        mut r: DocResult,
        w: &mut Written,
        seen: &mut HashMap<[u8; 16], [u8; 16]>,
    ) -> Result<(), SinkError> {
        if let Some((id, hash)) = &r.document_id {
            let key = id_digest(id);
            match seen.get(&key) {
                Some(h) if h != hash => r.issues.push(LedgerIssue {
                    severity: "warning",
                    rule: "duplicate-document-id".into(),
                    message: "an earlier input has the same document id with different content"
                        .into(),
                }),
                Some(_) => r.issues.push(LedgerIssue {
                    severity: "warning",
                    rule: "duplicate-document".into(),
                    message: "an earlier input is the same document (same id and bytes)".into(),
                }),
                None => {
                    seen.insert(key, *hash);
                }
            }
        }
        let mut m = Map::new();
        m.insert("input".into(), Value::String(r.input.clone()));
        if !r.out_prefix.is_empty() {
            m.insert("root".into(), Value::String(r.out_prefix.clone()));
        }
        m.insert("item".into(), json!(r.item));
        m.insert("kind".into(), Value::String(r.kind.clone()));
        m.insert(
            "recognised_by".into(),
            Value::String(r.recognised_by.into()),
        );
        m.insert("outcome".into(), Value::String(r.outcome.as_str().into()));
        if r.outcome == Outcome::Converted {
            if let Some(p) = bundle_path(&r.out_prefix, &r.input, r.item, false) {
                m.insert("output".into(), Value::String(p));
            }
        }
        if let Some(reason) = &r.reason {
            m.insert("reason".into(), Value::String(reason.clone()));
        }
        if let Some((l, c)) = r.position {
            m.insert("line".into(), json!(l));
            m.insert("column".into(), json!(c));
        }
        let issues: Vec<Value> = r
            .issues
            .iter()
            .map(|i| json!({"severity": i.severity, "rule": i.rule, "message": i.message}))
            .collect();
        m.insert("issues".into(), Value::Array(issues));
        let line =
            serde_json::to_string(&Value::Object(m)).map_err(|e| SinkError::Io(e.to_string()))?;
        out.write_all(line.as_bytes())
            .and_then(|_| out.write_all(b"\n"))
            .map_err(|e| SinkError::Io(e.to_string()))?;
        // Counts.
        let s = &mut w.summary;
        s.documents += 1;
        s.bytes += r.bytes;
        match r.outcome {
            Outcome::Converted => {
                s.converted += 1;
                if r.issues.iter().any(|i| i.severity == "warning") {
                    s.warnings += 1;
                }
            }
            Outcome::Skipped => s.skipped += 1,
            Outcome::Failed => s.failed += 1,
        }
        *w.by_kind
            .entry(r.kind.clone())
            .or_default()
            .entry(r.outcome.as_str())
            .or_default() += 1;
        for i in &r.issues {
            if i.severity == "warning" {
                *w.warnings_by_rule.entry(i.rule.clone()).or_default() += 1;
            }
        }
        if let Some(c) = &r.coverage {
            let t = &mut w.coverage;
            t.sections += c.sections;
            t.by_code += c.by_code;
            t.by_template += c.by_template;
            t.by_title += c.by_title;
            t.inherited += c.inherited;
            t.catch_all += c.catch_all;
            t.dropped += c.dropped;
            t.narrative_dropped_markup += c.narrative_dropped_markup;
            t.unstructured += c.unstructured;
            t.attachments += c.attachments;
        }
        w.times.merge(&r.times);
        Ok(())
    }
}

/// Write OUT/report.json.
pub fn write_report(
    out: &Path,
    s: &Summary,
    w: &Written,
    stats: bool,
    threads: usize,
    mmap: MmapPolicy,
) -> Result<(), SinkError> {
    let secs = s.seconds.max(1e-9);
    let mut by_kind = Map::new();
    for (k, v) in &w.by_kind {
        let mut o = Map::new();
        for (oc, n) in v {
            o.insert((*oc).into(), json!(n));
        }
        by_kind.insert(k.clone(), Value::Object(o));
    }
    let c = &w.coverage;
    let mut report = json!({
        "documents": s.documents,
        "outcomes": {"converted": s.converted, "skipped": s.skipped, "failed": s.failed},
        "converted_with_warnings": s.warnings,
        "by_kind": by_kind,
        "warnings_by_rule": w.warnings_by_rule,
        "coverage": {
            "source_sections": c.sections,
            "routed_by_code": c.by_code,
            "routed_by_template": c.by_template,
            "routed_by_title": c.by_title,
            "carried_in_parent": c.inherited,
            "catch_all": c.catch_all,
            "dropped_placeholders": c.dropped,
            "narrative_markup_not_kept": c.narrative_dropped_markup,
            "unstructured_bodies": c.unstructured,
            "attachments_not_carried": c.attachments
        },
        "bytes": s.bytes,
        "wall_seconds": s.seconds,
        "docs_per_second": s.documents as f64 / secs,
        "mb_per_second": s.bytes as f64 / 1e6 / secs,
        "threads": threads,
        "mmap": format!("{mmap:?}").to_lowercase(),
    });
    if let (Some(kb), Some(o)) = (peak_rss_kb(), report.as_object_mut()) {
        o.insert("peak_rss_kb".into(), json!(kb));
    }
    if stats {
        let mut st = Map::new();
        for (i, name) in crate::pipeline::STAGE_NAMES.iter().enumerate() {
            st.insert((*name).into(), json!(w.times.0[i] as f64 / 1e9));
        }
        if let Some(o) = report.as_object_mut() {
            o.insert(
                "stage_seconds_summed_over_threads".into(),
                Value::Object(st),
            );
        }
    }
    let bytes = serde_json::to_vec_pretty(&report).map_err(|e| SinkError::Io(e.to_string()))?;
    write_atomic(&out.join("report.json"), &bytes).map_err(|e| io(out, e))
}

/// The process's peak resident set so far, in KiB (Linux `VmHWM`; `None`
/// elsewhere): the memory bound of a run is part of its report.
pub fn peak_rss_kb() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// First 16 bytes of the SHA-256 of a document id: the key of the run's
/// id set (a collision between two different ids has probability ~2^-128).
fn id_digest(id: &str) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(id.as_bytes());
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_rss_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let kb = peak_rss_kb().expect("VmHWM in /proc/self/status");
            assert!(kb > 100, "{kb}");
        } else {
            assert_eq!(peak_rss_kb(), None);
        }
    }

    #[test]
    fn bundle_paths_never_escape() {
        assert_eq!(
            bundle_path("", "a/b.xml", 0, false).as_deref(),
            Some("bundles/a/b.xml.json")
        );
        assert_eq!(
            bundle_path("r1", "b.xml", 2, true).as_deref(),
            Some("bundles/r1/b.xml.2.json")
        );
        assert_eq!(bundle_path("", "../x.xml", 0, false), None);
        assert_eq!(bundle_path("", "/etc/x.xml", 0, false), None);
    }

    #[test]
    fn atomic_write_leaves_no_temp() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x/y.json");
        write_atomic(&p, b"{}").unwrap();
        let names: Vec<_> = fs::read_dir(d.path().join("x"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }
}
