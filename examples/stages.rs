//! Per-file cost breakdown for performance work: for each file given, the
//! microseconds of a bare quick-xml tokenizing pass, of decode + tree parse,
//! and of the whole in-memory conversion (`convert_bytes`: no file I/O),
//! each the best of N rounds. Usage:
//! `cargo run --release --example stages -- [--rounds N] FILE...`
use std::hint::black_box;
use std::time::Instant;

use itkbridge::mapping::{self, embedded};
use itkbridge::pipeline::convert_bytes;
use itkbridge::xml;

// The binary's allocator (src/main.rs), so figures match `itkbridge convert`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn best<F: FnMut()>(rounds: usize, mut f: F) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64() * 1e6);
    }
    best
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut rounds = 50;
    // ONLY=tok|parse|conv|val|valc|val1 runs that stage alone (for a profiler).
    let only = std::env::var("ONLY").unwrap_or_default();
    let on = |s: &str| only.is_empty() || only == s;
    if args.first().map(String::as_str) == Some("--rounds") && args.len() > 1 {
        rounds = args[1].parse().unwrap_or(50);
        args.drain(..2);
    }
    let maps = match mapping::compile(&embedded::sources()) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("embedded mappings: {e}");
            std::process::exit(2);
        }
    };
    println!(
        "{:>8} {:>9} {:>9} {:>9} {:>6} {:>8} {:>8} {:>8}  file",
        "bytes", "tok_us", "parse_us", "conv_us", "ratio", "val_us", "valc_us", "val1_us"
    );
    for f in &args {
        let Ok(bytes) = std::fs::read(f) else {
            eprintln!("{f}: unreadable");
            continue;
        };
        let Ok(d) = xml::decode(&bytes) else {
            eprintln!("{f}: undecodable");
            continue;
        };
        let text = d.text.to_string();
        let tok = if !on("tok") {
            0.0
        } else {
            best(rounds, || {
                let mut r = quick_xml::Reader::from_str(&text);
                let mut n = 0u32;
                while let Ok(e) = r.read_event() {
                    if matches!(e, quick_xml::events::Event::Eof) {
                        break;
                    }
                    n += 1;
                }
                black_box(n);
            })
        };
        let parse = if !on("parse") {
            0.0
        } else {
            best(rounds, || {
                let d = xml::decode(black_box(&bytes)).ok();
                let n = d
                    .as_ref()
                    .and_then(|d| xml::Document::parse(&d.text).ok())
                    .map(|doc| doc.len());
                black_box(n);
            })
        };
        let conv = if !on("conv") {
            0.0
        } else {
            best(rounds, || {
                let r = convert_bytes(f, black_box(&bytes), &maps);
                black_box(r.bundle.map(|b| b.len()));
            })
        };
        // Validation alone (the full validator the converter runs), on the
        // converted bundle.
        let bundle: Option<serde_json::Value> = convert_bytes(f, &bytes, &maps)
            .bundle
            .and_then(|b| serde_json::from_slice(&b).ok());
        let val = match (&bundle, on("val")) {
            (Some(b), true) => best(rounds, || {
                black_box(itkbridge::validate::validate_full(black_box(b)).len());
            }),
            _ => 0.0,
        };
        // What the converter runs: the full validator without information
        // issues.
        let valc = match (&bundle, on("valc")) {
            (Some(b), true) => {
                // Convert serialises first and passes the length as a bound.
                let len = serde_json::to_vec_pretty(b).map_or(usize::MAX, |v| v.len());
                best(rounds, || {
                    black_box(
                        itkbridge::validate::validate_for_convert_sized(black_box(b), len).len(),
                    );
                })
            }
            _ => 0.0,
        };
        let val1 = match (&bundle, on("val1")) {
            (Some(b), true) => best(rounds, || {
                black_box(itkbridge::validate::validate_message(black_box(b)).len());
            }),
            _ => 0.0,
        };
        println!(
            "{:>8} {:>9.1} {:>9.1} {:>9.1} {:>6.1} {:>8.1} {:>8.1} {:>8.1}  {}",
            bytes.len(),
            tok,
            parse,
            conv,
            conv / tok,
            val,
            valc,
            val1,
            std::path::Path::new(f)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(f)
        );
    }
}
