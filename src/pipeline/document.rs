//! One input file through every stage up to serialised bytes. Everything a
//! document can do wrong ends here as a [`DocResult`] with a reason and a
//! rule — including panics, which are caught at this boundary.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use super::stats::{Stage, StageTimes};
use crate::mapping::MapSet;
use crate::source::{self, Input, MmapPolicy};
use crate::validate::{self, Severity};
use crate::xml;

/// Final state of a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A bundle was written.
    Converted,
    /// Deliberately not converted (no mapping for its kind, or an
    /// unstructured body an ITK3 message must not carry).
    Skipped,
    /// Could not be converted.
    Failed,
}

impl Outcome {
    /// Ledger spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Converted => "converted",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }
}

/// One issue in a ledger line.
#[derive(Debug, Clone)]
pub struct LedgerIssue {
    /// fatal | error | warning | information.
    pub severity: &'static str,
    /// Stable rule id.
    pub rule: String,
    /// Message (locations and rules, never patient data).
    pub message: String,
}

/// Result of one document.
#[derive(Debug)]
pub struct DocResult {
    /// Input order index.
    pub index: usize,
    /// Input path relative to its root.
    pub input: String,
    /// Output folder prefix (several roots).
    pub out_prefix: String,
    /// Item index within the file.
    pub item: usize,
    /// Recognised kind.
    pub kind: String,
    /// Recogniser that fired.
    pub recognised_by: &'static str,
    /// Outcome.
    pub outcome: Outcome,
    /// Why skipped or failed.
    pub reason: Option<String>,
    /// line:column for failures that have one.
    pub position: Option<(u32, u32)>,
    /// Warnings and errors.
    pub issues: Vec<LedgerIssue>,
    /// Serialised bundle (converted only).
    pub bundle: Option<Vec<u8>>,
    /// Source document id and content hash, for duplicate detection.
    pub document_id: Option<(String, [u8; 16])>,
    /// Bytes read.
    pub bytes: u64,
    /// Stage timings.
    pub times: StageTimes,
    /// Source sections by route (coverage report).
    pub coverage: Option<crate::mapping::sections::Coverage>,
    /// This document's share of the working-memory budget.
    pub permit: Option<super::budget::Permit>,
}

impl DocResult {
    /// A result not yet decided (failed until a stage says otherwise).
    fn new(index: usize, input: &str, out_prefix: &str) -> DocResult {
        DocResult {
            index,
            input: input.to_string(),
            out_prefix: out_prefix.to_string(),
            item: 0,
            kind: "unknown".into(),
            recognised_by: "none",
            outcome: Outcome::Failed,
            reason: None,
            position: None,
            issues: Vec::new(),
            bundle: None,
            document_id: None,
            bytes: 0,
            times: StageTimes::default(),
            coverage: None,
            permit: None,
        }
    }
}

/// Process one input file.
pub fn process(
    index: usize,
    input: &Input,
    maps: &MapSet,
    mmap: MmapPolicy,
    max_bytes: u64,
    budget: &std::sync::Arc<super::budget::Budget>,
    buf: &mut Vec<u8>,
) -> DocResult {
    let mut r = DocResult::new(index, &input.rel, &input.out_prefix);
    match &input.not_read {
        None => {}
        Some(source::NotRead::Skip(why)) => {
            r.outcome = Outcome::Skipped;
            r.reason = Some(why.clone());
            return r;
        }
        Some(source::NotRead::Fail { rule, message }) => {
            fail(&mut r, rule, message.clone(), None);
            return r;
        }
    }
    let t = Instant::now();
    // Memory stays bounded per thread whatever the input: a document larger
    // than the limit is failed before it is read (ToC messages are limited
    // to 5 MB at the receiver; archives hold far smaller documents).
    let bytes = match source::read(&input.path, mmap, max_bytes, buf) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => {
            r.bytes = std::fs::metadata(&input.path).map(|m| m.len()).unwrap_or(0);
            fail(
                &mut r,
                "too-large",
                format!(
                    "document larger than the limit of {} MB (--max-doc-mb)",
                    max_bytes / 1_000_000
                ),
                None,
            );
            return r;
        }
        Err(e) => {
            fail(
                &mut r,
                "read-error",
                format!("cannot read file: {}", e.kind()),
                None,
            );
            return r;
        }
    };
    r.bytes = bytes.len() as u64;
    r.times.add(Stage::Read, t.elapsed().as_nanos() as u64);
    // Held until the writer has written this document's bundle.
    r.permit = Some(budget.acquire(bytes.len() as u64 * super::budget::COST_PER_BYTE));
    let large = bytes.len() >= super::budget::LARGE_DOC_BYTES;
    if large {
        super::budget::release_free_memory();
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| convert_into(&mut r, &bytes, maps)));
    if large {
        super::budget::release_free_memory();
    }
    if outcome.is_err() {
        r.bundle = None;
        fail(&mut r, "internal-error", "internal error while converting this document (a bug: please report it with the rule and kind)".into(), None);
    }
    r
}

fn fail(r: &mut DocResult, rule: &str, message: String, pos: Option<(u32, u32)>) {
    r.outcome = Outcome::Failed;
    r.reason = Some(located_reason(r, pos, &message, rule));
    r.position = pos;
    r.issues.push(LedgerIssue {
        severity: "error",
        rule: rule.into(),
        message,
    });
}

/// `<input>[:<line>:<col>]: <message> [<rule>]`, the ledger reason of a
/// failed or deliberately skipped document.
fn located_reason(r: &DocResult, pos: Option<(u32, u32)>, message: &str, rule: &str) -> String {
    match pos {
        Some((l, c)) => format!("{}:{l}:{c}: {message} [{rule}]", r.input),
        None => format!("{}: {message} [{rule}]", r.input),
    }
}

/// Convert in-memory bytes (the benchmark and library entry point).
pub fn convert_bytes(input: &str, bytes: &[u8], maps: &MapSet) -> DocResult {
    let mut r = DocResult::new(0, input, "");
    r.bytes = bytes.len() as u64;
    convert_into(&mut r, bytes, maps);
    r
}

fn convert_into(r: &mut DocResult, bytes: &[u8], maps: &MapSet) {
    let t = Instant::now();
    let decoded = match xml::decode(bytes) {
        Ok(d) => d,
        Err(e) => {
            let rule = match e {
                xml::DecodeError::Empty => "empty-file",
                _ => "bad-encoding",
            };
            fail(r, rule, e.to_string(), Some((1, 1)));
            return;
        }
    };
    if let Some(fb) = &decoded.fallback {
        r.issues.push(LedgerIssue {
            severity: "warning",
            rule: "encoding-fallback".into(),
            message: fb.clone(),
        });
    }
    // R1 for captures that are not XML at all (HTTP, MIME): wrapped
    // documents, skipped in this version.
    if let Some(kind) = crate::recognise::sniff_transport(&decoded.text) {
        r.kind = kind;
        r.recognised_by = "R1";
        r.outcome = Outcome::Skipped;
        r.reason = Some(format!("no mapping for {}", r.kind));
        return;
    }
    let doc = match xml::Document::parse(&decoded.text) {
        Ok(d) => d,
        Err(e) => {
            fail(r, e.rule, e.message.clone(), Some((e.line, e.col)));
            return;
        }
    };
    r.times.add(Stage::Parse, t.elapsed().as_nanos() as u64);
    let t = Instant::now();
    let kind = crate::recognise::recognise(&doc);
    r.times.add(Stage::Recognise, t.elapsed().as_nanos() as u64);
    r.kind = kind.kind.clone();
    r.recognised_by = kind.rule;
    if kind.unknown_root {
        let pos = doc.line_col(doc.root());
        fail(
            r,
            "unknown-root",
            "root element is not a recognised CDA, HL7v3 or ITK element".into(),
            Some(pos),
        );
        return;
    }
    let plan = if kind.wrapped {
        None
    } else {
        maps.for_kind(&kind.kind)
    };
    let Some(plan) = plan else {
        r.outcome = Outcome::Skipped;
        r.reason = Some(format!("no mapping for {}", kind.kind));
        return;
    };
    let t = Instant::now();
    let out = match crate::mapping::run::run(plan, &maps.tables, &doc, bytes) {
        Ok(o) => o,
        Err(e) if e.skip => {
            r.times.add(Stage::Map, t.elapsed().as_nanos() as u64);
            r.outcome = Outcome::Skipped;
            r.reason = Some(located_reason(r, e.line_col, &e.message, e.rule));
            r.position = e.line_col;
            return;
        }
        Err(e) => {
            fail(r, e.rule, e.message.clone(), e.line_col);
            return;
        }
    };
    r.times.add(Stage::Map, t.elapsed().as_nanos() as u64);
    for f in &out.findings {
        r.issues.push(LedgerIssue {
            severity: "warning",
            rule: f.rule.clone(),
            message: f.message.clone(),
        });
    }
    r.coverage = Some(out.coverage.clone());
    // Serialised first: its length bounds the compact JSON size, which
    // spares the validator a walk to measure it (the 5 MB message limit).
    let t = Instant::now();
    let mut v = Vec::with_capacity(bytes.len() * 2);
    crate::fhir::pretty::write_pretty(&mut v, &out.bundle);
    v.push(b'\n');
    r.times.add(Stage::Serialise, t.elapsed().as_nanos() as u64);
    let t = Instant::now();
    let found = validate::validate_for_convert_sized(&out.bundle, v.len());
    r.times.add(Stage::Validate, t.elapsed().as_nanos() as u64);
    let mut blocking = false;
    for i in &found {
        if i.severity == Severity::Information {
            continue;
        }
        blocking |= matches!(i.severity, Severity::Fatal | Severity::Error);
        r.issues.push(LedgerIssue {
            severity: i.severity.as_str(),
            rule: i.rule.to_string(),
            message: format!("{}: {}", i.location, i.message),
        });
    }
    r.document_id = Some((out.document_id.clone(), out.content_hash));
    if blocking {
        let first = found
            .iter()
            .find(|i| matches!(i.severity, Severity::Fatal | Severity::Error))
            .map(|i| format!("{} at {}", i.rule, i.location))
            .unwrap_or_default();
        // A message that fails validation comes from a document that lacks
        // or garbles something the message needs (recordTarget, author …):
        // located at the document's root element, the parent of anything
        // missing, with the FHIR rule and location of the first error.
        let (line, col) = doc.line_col(doc.root());
        r.outcome = Outcome::Failed;
        r.position = Some((line, col));
        r.reason = Some(format!(
            "{}:{line}:{col}: output failed validation ({first}); nothing written [validation]",
            r.input
        ));
        return;
    }
    r.bundle = Some(v);
    r.outcome = Outcome::Converted;
}
