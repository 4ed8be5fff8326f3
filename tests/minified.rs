//! Real archives hold documents written without indentation (no whitespace
//! between tags). Every synthetic discharge document, with the indentation
//! between its tags removed, must convert with every fact, section title and
//! narrative word in place (the same faithfulness checks as the public
//! samples): word boundaries must come from the markup, not from the
//! pretty-printing.

mod common;

use common::doccheck::check_document_with;
use common::{bundle_of, convert, ledger};

#[test]
fn documents_without_indentation_convert_faithfully() {
    let dir = common::root().join("testdata/discharge");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    // Whitespace that contains a line break between two tags is indentation.
    let indentation = regex::Regex::new(r">[ \t]*\r?\n[ \t\r\n]*<").unwrap();
    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let mut srcs = std::collections::BTreeMap::new();
    for p in &files {
        let Ok(text) = String::from_utf8(std::fs::read(p).unwrap()) else {
            continue; // the UTF-16 fixture: its bytes are not text to edit
        };
        let flat = indentation.replace_all(&text, "><").into_owned();
        assert!(flat.len() < text.len(), "{}: nothing removed", p.display());
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::write(input.join(&name), &flat).unwrap();
        srcs.insert(name, flat.into_bytes());
    }
    assert!(srcs.len() >= 5, "expected the UTF-8 discharge fixtures");
    let out = t.path().join("out");
    let r = convert(&input, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let mut problems = Vec::new();
    for l in ledger(&out) {
        let name = l["input"].as_str().unwrap().to_string();
        assert_eq!(l["outcome"], "converted", "{l}");
        let bundle = bundle_of(&out, &l);
        problems.extend(check_document_with(&name, &srcs[&name], &bundle, false));
    }
    assert!(problems.is_empty(), "problems:\n{}", problems.join("\n"));
}
