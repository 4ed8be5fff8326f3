//! Reference ceiling for throughput: a bare quick-xml tokenizing pass over
//! every file below a folder, single-threaded (read, UTF-8 check or decode,
//! read_event loop, nothing else). Usage: cargo run --release --example tokenize -- DIR
//!
//! With `--tree` it builds itkbridge's per-document tree instead
//! (`xml::Document::parse`, what `convert` does before mapping): the ceiling
//! of any tree-based conversion, for comparison with the bare pass. With
//! `--sha` it reads each file and takes the SHA-256 of its bytes (the content
//! hash resource ids are derived from) and nothing else.
use std::time::Instant;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let tree = args.first().map(String::as_str) == Some("--tree");
    let sha = args.first().map(String::as_str) == Some("--sha");
    if tree || sha {
        args.remove(0);
    }
    let dir = args.first().cloned().unwrap_or_else(|| ".".into());
    let mut files: Vec<_> = walkdir::WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    let start = Instant::now();
    let (mut bytes, mut events, mut docs) = (0u64, 0u64, 0u64);
    let mut buf = Vec::new();
    for f in &files {
        buf.clear();
        let Ok(b) = std::fs::read(f) else { continue };
        buf.extend_from_slice(&b);
        bytes += buf.len() as u64;
        docs += 1;
        if sha {
            // The content hash every resource id is derived from.
            use sha2::Digest;
            events += std::hint::black_box(sha2::Sha256::digest(&buf))[0] as u64;
            continue;
        }
        // UTF-8 is tokenized in place; anything else (UTF-16 with a BOM)
        // is decoded first, as it must be to be tokenized at all.
        let decoded;
        let text = match std::str::from_utf8(&buf) {
            Ok(t) => t,
            Err(_) => match itkbridge::xml::decode(&buf) {
                Ok(d) => {
                    decoded = d.text.into_owned();
                    decoded.as_str()
                }
                Err(_) => continue,
            },
        };
        if tree {
            if let Ok(d) = itkbridge::xml::Document::parse(text) {
                events += std::hint::black_box(d).len() as u64;
            }
            continue;
        }
        let mut r = quick_xml::Reader::from_str(text);
        loop {
            match r.read_event() {
                Ok(quick_xml::events::Event::Eof) | Err(_) => break,
                Ok(_) => events += 1,
            }
        }
    }
    let s = start.elapsed().as_secs_f64();
    println!(
        "{docs} files, {bytes} bytes, {events} events (nodes with --tree, a digest byte sum with --sha) in {s:.3}s: {:.1} docs/s, {:.1} MB/s",
        docs as f64 / s,
        bytes as f64 / 1e6 / s
    );
}
