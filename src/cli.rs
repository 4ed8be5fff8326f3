//! Command-line parsing (clap) and exit codes: 0 nothing failed, 1 some
//! document failed (or a validated file is invalid), 2 usage or
//! configuration error.

use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use itkbridge::mapping::{self, embedded, MapSet};
use itkbridge::pipeline::{self, Options, ProgressMode};
use itkbridge::source::MmapPolicy;

const EXAMPLES: &str = "\
Examples:
  itkbridge convert testdata/discharge --out out
  itkbridge convert archive/ --out out --threads 8 --stats
  itkbridge convert a.xml b.xml --out out --mmap never --overwrite
  itkbridge mappings check mappings/
  itkbridge validate out/bundles/a.xml.json ITK-EDIS-Example-1.xml --report report.ndjson
";

#[derive(Parser)]
#[command(name = "itkbridge", version, about = "Convert NHS ITK 2.x HL7v3/CDA documents into validated ITK3 FHIR STU3 Transfer of Care messages", after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Convert documents (files or directories, recursive, sorted) into ITK3 message bundles.
    #[command(after_help = EXAMPLES)]
    Convert(ConvertArgs),
    /// Validate ITK3 message or document bundles (FHIR STU3 JSON or XML) against core STU3, CareConnect, ITK3 and Transfer of Care profiles.
    #[command(
        after_help = "Exit status: 0 when no file has an error, 1 otherwise, 2 for usage errors.\n\nExamples:\n  itkbridge validate out/bundles/*.json\n  itkbridge validate message.xml --report report.ndjson"
    )]
    Validate {
        /// Files to validate (.json or .xml; the content decides).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Write one NDJSON line per file: {file, valid, issues[{severity, code, location, rule, message, itk_response}]}.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Also print information issues (bindings not checkable offline, unknown profiles).
        #[arg(long)]
        verbose: bool,
    },
    /// Work with mapping files.
    Mappings {
        #[command(subcommand)]
        cmd: MappingsCmd,
    },
}

#[derive(Subcommand)]
enum MappingsCmd {
    /// Compile mapping files and report errors with file:line:col (default: the embedded mappings).
    Check {
        /// Mappings folder (*.map and *.tsv files).
        dir: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Tri {
    Auto,
    Always,
    Never,
}

#[derive(clap::Args)]
struct ConvertArgs {
    /// Input files and directories.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output folder (bundles/, ledger.ndjson, report.json).
    #[arg(short, long)]
    out: PathBuf,
    /// Worker threads (default: number of CPUs).
    #[arg(short = 'j', long)]
    threads: Option<usize>,
    /// Mappings folder replacing the embedded default mappings.
    #[arg(long)]
    mappings: Option<PathBuf>,
    /// Memory-map inputs: auto (files of 1 MiB or more), always, never.
    #[arg(long, value_enum, default_value = "auto")]
    mmap: Tri,
    /// Progress bar on stderr: auto (when a terminal), always, never.
    #[arg(long, value_enum, default_value = "auto")]
    progress: Tri,
    /// Add per-stage timings to report.json.
    #[arg(long)]
    stats: bool,
    /// Replace an earlier run in OUT.
    #[arg(long)]
    overwrite: bool,
    /// Documents per parallel window (memory bound; output does not depend on it).
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Largest input file accepted, in MB; larger files fail with rule too-large. Converting takes
    /// about 10x a document's size in memory, so the default keeps any run within 100 MB + 8 MB per
    /// thread; raise it for larger documents and allow for that memory.
    #[arg(long, default_value_t = 8)]
    max_doc_mb: u64,
}

fn load_maps(dir: Option<&Path>) -> Result<MapSet, String> {
    let sources = match dir {
        Some(d) => embedded::read_dir(d).map_err(|e| format!("{}: {e}", d.display()))?,
        None => embedded::sources(),
    };
    mapping::compile(&sources).map_err(|e| match dir {
        Some(d) => format!("{}/{e}", d.display()),
        None => format!("(embedded) {e}"),
    })
}

/// Run the CLI; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match cli.cmd {
        Cmd::Validate {
            files,
            report,
            verbose,
        } => validate_cmd(&files, report.as_deref(), verbose),
        Cmd::Mappings {
            cmd: MappingsCmd::Check { dir },
        } => match load_maps(dir.as_deref()) {
            Ok(m) => {
                for p in &m.maps {
                    eprintln!(
                        "ok: {} ({}) -> {} [{} resources, {} sections]",
                        p.name,
                        p.applies_to.join(" "),
                        p.toc.key,
                        p.resources.len(),
                        p.section_defs.len()
                    );
                }
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        },
        Cmd::Convert(a) => {
            let maps = match load_maps(a.mappings.as_deref()) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("error: {e}");
                    return 2;
                }
            };
            let threads = a.threads.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
            });
            let opts = Options {
                inputs: a.inputs,
                out: a.out,
                threads,
                mmap: match a.mmap {
                    Tri::Auto => MmapPolicy::Auto,
                    Tri::Always => MmapPolicy::Always,
                    Tri::Never => MmapPolicy::Never,
                },
                progress: match a.progress {
                    Tri::Auto => ProgressMode::Auto,
                    Tri::Always => ProgressMode::Always,
                    Tri::Never => ProgressMode::Never,
                },
                stats: a.stats,
                overwrite: a.overwrite,
                batch: a.batch,
                max_doc_bytes: a.max_doc_mb.saturating_mul(1_000_000),
            };
            match pipeline::run(&opts, &maps) {
                Ok(s) => {
                    eprintln!(
                        "{} documents: {} converted ({} with warnings), {} skipped, {} failed in {:.2}s ({:.1} docs/s, {:.1} MB/s) -> {}",
                        s.documents,
                        s.converted,
                        s.warnings,
                        s.skipped,
                        s.failed,
                        s.seconds,
                        s.documents as f64 / s.seconds.max(1e-9),
                        s.bytes as f64 / 1e6 / s.seconds.max(1e-9),
                        opts.out.display()
                    );
                    s.exit_code()
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
            }
        }
    }
}

fn validate_cmd(files: &[PathBuf], report: Option<&Path>, verbose: bool) -> i32 {
    use itkbridge::validate::files::validate_path;
    use std::io::Write;
    let mut out = match report {
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Some(std::io::BufWriter::new(f)),
            Err(e) => {
                eprintln!("error: cannot write {}: {}", p.display(), e.kind());
                return 2;
            }
        },
        None => None,
    };
    let (mut valid, mut invalid) = (0usize, 0usize);
    // Files are validated in parallel, in windows so memory stays bounded,
    // and reported in the order given.
    use rayon::prelude::*;
    for window in files.chunks(256) {
        let reports: Vec<_> = window.par_iter().map(|f| validate_path(f)).collect();
        for r in reports {
            if r.valid() {
                valid += 1;
            } else {
                invalid += 1;
            }
            let shown: Vec<_> = r
                .issues
                .iter()
                .filter(|i| verbose || i.severity != itkbridge::validate::Severity::Information)
                .collect();
            println!(
                "{}: {} ({} issues)",
                r.file,
                if r.valid() { "valid" } else { "INVALID" },
                shown.len()
            );
            for i in shown {
                match i.itk_response() {
                    Some(code) => println!("  {i} [ITK {code}]"),
                    None => println!("  {i}"),
                }
            }
            if let Some(w) = out.as_mut() {
                if writeln!(w, "{}", r.to_json()).is_err() {
                    eprintln!("error: cannot write the report");
                    return 2;
                }
            }
        }
    }
    if let Some(mut w) = out {
        if w.flush().is_err() {
            eprintln!("error: cannot write the report");
            return 2;
        }
    }
    eprintln!("{} files: {valid} valid, {invalid} invalid", files.len());
    i32::from(invalid > 0)
}
