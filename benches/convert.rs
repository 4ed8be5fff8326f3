//! Micro-benchmarks of the converter (criterion).
//!
//! Run: `cargo bench --bench convert` (about a minute on 2 cores).
//!
//! Groups, so the regimes can be compared (see README "Performance"):
//!
//! * `end_to_end` — one document through `pipeline::convert_bytes`
//!   (decode, parse, recognise, map, validate, serialise; no file I/O),
//!   reported as documents/s and bytes/s.
//! * `stages/*` — the expensive stages on their own: decode + XML parse,
//!   validation of a finished message bundle, and compiling the embedded
//!   mappings (paid once per run, not per document).
//! * `ceiling` — a bare quick-xml tokenizing pass over the same bytes: no
//!   tree, no namespaces, no mapping. The converter cannot be faster than
//!   this; the ratio shows how much of a document's time is the XML reader.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

// The binary's allocator (src/main.rs), so figures match `itkbridge convert`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use itkbridge::mapping::{self, embedded, MapSet};
use itkbridge::pipeline::{convert_bytes, Outcome};
use itkbridge::xml;

/// The benchmarked inputs: the large CRLF eDischarge-headings document and
/// the classic MIM-style one.
const FILES: &[&str] = &[
    "discharge_02_edischarge_headings_large_crlf.xml",
    "discharge_01_classic_default_ns.xml",
];

struct Input {
    /// Short label for the benchmark id.
    label: &'static str,
    file: &'static str,
    bytes: Vec<u8>,
}

fn inputs() -> Vec<Input> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/discharge");
    FILES
        .iter()
        .map(|f| Input {
            label: &f[..12], // "discharge_0N"
            file: f,
            bytes: std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")),
        })
        .collect()
}

fn maps() -> MapSet {
    mapping::compile(&embedded::sources()).unwrap_or_else(|e| panic!("embedded mappings: {e}"))
}

/// Convert once and return the serialised bundle, checking that the
/// benchmark measures the success path and not an early failure.
fn converted(input: &Input, maps: &MapSet) -> Vec<u8> {
    let r = convert_bytes(input.file, &input.bytes, maps);
    assert_eq!(
        r.outcome,
        Outcome::Converted,
        "{}: {:?}",
        input.file,
        r.reason
    );
    r.bundle.expect("a converted document has a bundle")
}

fn end_to_end(c: &mut Criterion) {
    let maps = maps();
    let mut g = c.benchmark_group("end_to_end");
    for input in inputs() {
        converted(&input, &maps);
        g.throughput(Throughput::ElementsAndBytes {
            elements: 1,
            bytes: input.bytes.len() as u64,
        });
        g.bench_with_input(
            BenchmarkId::new("convert_bytes", input.label),
            &input,
            |b, i| {
                b.iter(|| {
                    let r = convert_bytes(black_box(i.file), black_box(&i.bytes), &maps);
                    black_box(r.bundle.map(|v| v.len()))
                })
            },
        );
    }
    g.finish();
}

fn stages(c: &mut Criterion) {
    let maps = maps();
    let all = inputs();

    let mut g = c.benchmark_group("stages/decode_parse");
    for input in &all {
        g.throughput(Throughput::Bytes(input.bytes.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(input.label), input, |b, i| {
            b.iter(|| {
                let d = xml::decode(black_box(&i.bytes)).expect("decodes");
                let doc = xml::Document::parse(&d.text).expect("parses");
                black_box(doc.len())
            })
        });
    }
    g.finish();

    // Validation cost per document: the full validator the converter runs
    // (ITK3 structure + core STU3 + every declared profile), and the
    // structural ITK3 checks alone. Compare with end_to_end/convert_bytes
    // (which includes the full validation) for the share it adds.
    let mut g = c.benchmark_group("stages/validate");
    for input in &all {
        let bundle: serde_json::Value =
            serde_json::from_slice(&converted(input, &maps)).expect("bundle is JSON");
        g.throughput(Throughput::Elements(1));
        g.bench_with_input(BenchmarkId::new("full", input.label), &bundle, |b, v| {
            b.iter(|| black_box(itkbridge::validate::validate_full(black_box(v)).len()))
        });
        g.bench_with_input(
            BenchmarkId::new("structural", input.label),
            &bundle,
            |b, v| b.iter(|| black_box(itkbridge::validate::validate_message(black_box(v)).len())),
        );
    }
    g.finish();

    // Validator start-up: parsing the embedded compiled profiles.
    let mut g = c.benchmark_group("stages/validator_startup");
    g.bench_function("load_compiled_profiles", |b| {
        b.iter(|| black_box(itkbridge::validate::profiles::load_embedded().len()))
    });
    g.finish();

    let mut g = c.benchmark_group("stages/compile");
    let sources = embedded::sources();
    g.bench_function("embedded_mappings", |b| {
        b.iter(|| {
            black_box(
                mapping::compile(black_box(&sources))
                    .map(|m| m.maps.len())
                    .ok(),
            )
        })
    });
    g.finish();
}

fn ceiling(c: &mut Criterion) {
    let mut g = c.benchmark_group("ceiling");
    for input in inputs() {
        // Both benchmarked files are UTF-8, so the bytes are the text.
        let text = std::str::from_utf8(&input.bytes)
            .expect("UTF-8 input")
            .to_owned();
        g.throughput(Throughput::ElementsAndBytes {
            elements: 1,
            bytes: input.bytes.len() as u64,
        });
        g.bench_with_input(
            BenchmarkId::new("quick_xml_tokenize", input.label),
            &text,
            |b, t| {
                b.iter(|| {
                    let mut r = quick_xml::Reader::from_str(black_box(t));
                    let mut events = 0u64;
                    loop {
                        match r.read_event() {
                            Ok(quick_xml::events::Event::Eof) => break,
                            Ok(_) => events += 1,
                            Err(e) => panic!("quick-xml: {e}"),
                        }
                    }
                    black_box(events)
                })
            },
        );
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .noise_threshold(0.05)
}

criterion_group! {
    name = benches;
    config = config();
    targets = end_to_end, stages, ceiling
}
criterion_main!(benches);
