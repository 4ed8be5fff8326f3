//! The batch: discover → (rayon workers: read → decode → parse → recognise
//! → map → validate → serialise) → one writer thread fed by a bounded
//! channel (bundle files + ledger in input order + report).
//!
//! Invariants: every input yields exactly one ledger line (converted,
//! skipped or failed); a failing or panicking document never stops the
//! batch; output bytes do not depend on thread count or read strategy
//! (inputs are processed in fixed windows and the writer restores input
//! order; ids are name-based UUIDs; nothing reads the clock).

pub mod budget;
mod document;
mod stats;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rayon::prelude::*;

pub use document::{convert_bytes, DocResult, LedgerIssue, Outcome};
pub use stats::{Stage, StageTimes, STAGES as STAGE_NAMES};

use crate::mapping::MapSet;
use crate::sink::{Sink, SinkError};
use crate::source::{self, MmapPolicy};

/// When to draw a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// When stderr is a terminal.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Options of a `convert` run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Files and directories.
    pub inputs: Vec<PathBuf>,
    /// Output folder.
    pub out: PathBuf,
    /// Worker threads.
    pub threads: usize,
    /// Read strategy.
    pub mmap: MmapPolicy,
    /// Progress bar.
    pub progress: ProgressMode,
    /// Per-stage timings in report.json.
    pub stats: bool,
    /// Replace a previous run in OUT.
    pub overwrite: bool,
    /// Documents per parallel window.
    pub batch: usize,
    /// Largest document accepted, in bytes (larger ones fail with `too-large`).
    pub max_doc_bytes: u64,
}

/// A configuration or usage problem (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Input discovery failed.
    #[error(transparent)]
    Discover(#[from] source::DiscoverError),
    /// OUT cannot be used.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// The thread pool could not be built.
    #[error("cannot start worker threads: {0}")]
    Threads(String),
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Inputs seen.
    pub documents: u64,
    /// Converted.
    pub converted: u64,
    /// Skipped.
    pub skipped: u64,
    /// Failed.
    pub failed: u64,
    /// Converted with warnings.
    pub warnings: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Wall time in seconds.
    pub seconds: f64,
}

impl Summary {
    /// Process exit code: 0 nothing failed, 1 something failed.
    pub fn exit_code(&self) -> i32 {
        if self.failed > 0 {
            1
        } else {
            0
        }
    }
}

/// Run a conversion batch.
pub fn run(opts: &Options, maps: &MapSet) -> Result<Summary, ConfigError> {
    let start = Instant::now();
    let mut inputs = source::discover(&opts.inputs)?;
    let sink = Sink::create(&opts.out, opts.overwrite)?;
    // Named threads: profilers and debuggers tell the workers from the writer.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.max(1))
        .thread_name(|i| format!("itkb-worker-{i}"))
        .build()
        .map_err(|e| ConfigError::Threads(e.to_string()))?;
    // The bar's length takes a counting walk (the inputs are never held
    // whole); without a bar there is no second walk.
    let bar = progress_bar(opts.progress, || {
        source::discover(&opts.inputs).map_or(0, |d| d.count() as u64)
    });
    // Room for bursts of the writer's file-system latency (a journal commit
    // can hold one file creation for milliseconds) without stalling the
    // workers; what is in flight stays bounded by the memory budget below.
    let cap = opts.threads.max(1) * 16;
    let (tx, rx) = crossbeam_channel::bounded::<DocResult>(cap);
    let writer_bar = bar.clone();
    let writer = std::thread::Builder::new()
        .name("itkb-writer".into())
        .spawn(move || sink.consume(rx, writer_bar))
        .map_err(|e| ConfigError::Threads(e.to_string()))?;
    let batch = opts.batch.max(1);
    let mmap = opts.mmap;
    let max_doc = opts.max_doc_bytes;
    // Working memory for documents in flight (see budget.rs): within the
    // 100 MB + 8 MB per thread the tool promises, after the process's own
    // ~20 MB (tables, profiles, per-thread buffers).
    let budget = budget::Budget::new((64 + 8 * opts.threads.max(1) as u64) << 20);
    let stop = AtomicBool::new(false);
    pool.install(|| {
        let mut window = Vec::with_capacity(batch);
        let mut base = 0;
        loop {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            window.clear();
            window.extend(inputs.by_ref().take(batch));
            if window.is_empty() {
                break;
            }
            window
                .par_iter()
                .enumerate()
                .for_each_init(Vec::new, |buf, (i, input)| {
                    let index = base + i;
                    let r = document::process(index, input, maps, mmap, max_doc, &budget, buf);
                    if tx.send(r).is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                });
            base += window.len();
        }
    });
    drop(tx);
    let written = writer
        .join()
        .map_err(|_| SinkError::Io("writer thread panicked".into()))??;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut summary = written.summary.clone();
    summary.seconds = start.elapsed().as_secs_f64();
    crate::sink::write_report(
        &opts.out,
        &summary,
        &written,
        opts.stats,
        opts.threads,
        opts.mmap,
    )?;
    Ok(summary)
}

fn progress_bar(mode: ProgressMode, docs: impl FnOnce() -> u64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    let tty = std::io::stderr().is_terminal();
    let target = match mode {
        ProgressMode::Never => return None,
        ProgressMode::Auto if !tty => return None,
        ProgressMode::Auto => indicatif::ProgressDrawTarget::stderr(),
        ProgressMode::Always if tty => indicatif::ProgressDrawTarget::stderr(),
        // Not a terminal but asked for: plain progress lines (a log file or
        // a CI console), at most twice a second.
        ProgressMode::Always => {
            indicatif::ProgressDrawTarget::term_like_with_hz(Box::new(PlainStderr), 2)
        }
    };
    let b = indicatif::ProgressBar::with_draw_target(Some(docs()), target);
    let style = indicatif::ProgressStyle::with_template(
        "{bar:30} {pos}/{len} docs  {per_sec}  {msg}  ETA {eta}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    b.set_style(style);
    Some(b)
}

/// Progress output for a non-terminal stderr: one line per redraw, no
/// cursor movement.
#[derive(Debug)]
struct PlainStderr;

impl indicatif::TermLike for PlainStderr {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        use std::io::Write;
        writeln!(std::io::stderr(), "{s}")
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        use std::io::Write;
        let s = s.trim_end();
        if s.is_empty() {
            return Ok(());
        }
        writeln!(std::io::stderr(), "{s}")
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        use std::io::Write;
        std::io::stderr().flush()
    }
}
