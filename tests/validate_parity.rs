//! Parity of the optimised validator with the validator as it was before
//! the performance work (commit fe88d1e): every issue — severity, rule,
//! IssueType code, location and message — of `validate_full`,
//! `validate_for_convert`, `validate_message` and `validate_any` on the
//! four clean validator bases, every one of the mutation suite's mutants
//! and the golden conversion bundles is digested (FNV-1a over the rendered
//! issue list) and compared with the digest the old validator gave.
//!
//! A golden bundle whose content changed since the digests were recorded
//! (conversion work) is skipped with a note, not failed: its recorded
//! digest no longer describes it. `PARITY_PRINT=1` prints the table (to
//! regenerate it, run that on the old validator).

use std::path::PathBuf;

use itkbridge::validate::{
    validate_any, validate_for_convert, validate_full, validate_message, Issue,
};

use serde_json::Value;

#[path = "support/mutants.rs"]
mod mutants;
use mutants::{load_json, mutate, root, Mutant};

fn fnv(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x0100_0000_01b3);
    }
}

const FNV0: u64 = 0xcbf2_9ce4_8422_2325;

fn render(issues: &[Issue]) -> String {
    let mut s = String::new();
    for i in issues {
        s.push_str(&format!(
            "{}|{}|{}|{}|{}\n",
            i.severity, i.rule, i.code, i.location, i.message
        ));
    }
    s
}

/// (issue count of validate_full, digest of all four runs).
fn digest(v: &Value) -> (usize, u64, String) {
    let full = validate_full(v);
    let mut text = String::from("full\n");
    text.push_str(&render(&full));
    text.push_str("convert\n");
    text.push_str(&render(&validate_for_convert(v)));
    text.push_str("message\n");
    text.push_str(&render(&validate_message(v)));
    text.push_str("any\n");
    text.push_str(&render(&validate_any(v)));
    let mut h = FNV0;
    fnv(&mut h, text.as_bytes());
    (full.len(), h, text)
}

fn inputs() -> Vec<(String, Option<u64>, Value)> {
    let mut out = Vec::new();
    let bases: Vec<(&str, Value)> = ["edis", "mh", "ecd", "opl"]
        .iter()
        .map(|b| {
            (
                *b,
                load_json(&root().join(format!("testdata/validate/clean/{b}.json"))),
            )
        })
        .collect();
    for (name, v) in &bases {
        out.push((format!("clean/{name}"), None, v.clone()));
    }
    let cat: Vec<Mutant> = serde_json::from_value(load_json(
        &root().join("testdata/validate/mutants/mutants.json"),
    ))
    .expect("mutants.json parses");
    for m in &cat {
        let Some((_, b)) = bases.iter().find(|(n, _)| *n == m.base) else {
            panic!("{}: unknown base {}", m.id, m.base);
        };
        let doc = mutate(b, m).unwrap_or_else(|e| panic!("{}: {e}", m.id));
        out.push((format!("mutant/{}", m.id), None, doc));
    }
    let mut golden: Vec<PathBuf> = std::fs::read_dir(root().join("testdata/golden"))
        .expect("testdata/golden")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    golden.sort();
    for p in golden {
        let bytes = std::fs::read(&p).expect("golden readable");
        let mut h = FNV0;
        fnv(&mut h, &bytes);
        let v: Value = serde_json::from_slice(&bytes).expect("golden JSON");
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        out.push((format!("golden/{name}"), Some(h), v));
    }
    out
}

#[test]
fn issues_are_those_of_the_unoptimised_validator() {
    let print = std::env::var("PARITY_PRINT").is_ok_and(|v| !v.is_empty() && v != "0");
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut lines = Vec::new();
    for (name, content, v) in inputs() {
        let (n, h, text) = digest(&v);
        lines.push(format!(
            "    (\"{name}\", {}, {n}, 0x{h:016x}),",
            content.map_or("None".to_string(), |c| format!("Some(0x{c:016x})"))
        ));
        let Some(&(_, want_content, want_n, want_h)) =
            digests::DIGESTS.iter().find(|(k, ..)| *k == name)
        else {
            failures.push(format!("{name}: no recorded digest"));
            continue;
        };
        if let (Some(c), Some(w)) = (content, want_content) {
            if c != w {
                eprintln!("NOTE: {name} changed since the digests were recorded: skipped");
                continue;
            }
        }
        checked += 1;
        if (n, h) != (want_n, want_h) {
            failures.push(format!(
                "{name}: {n} issues, digest {h:016x}; recorded {want_n} issues, {want_h:016x}\n{text}"
            ));
        }
    }
    if print {
        println!("{}", lines.join("\n"));
    }
    assert!(checked >= 150, "only {checked} inputs compared");
    assert!(
        failures.is_empty(),
        "{} of {checked} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_digest_sees_a_changed_message() {
    let v = load_json(&root().join("testdata/validate/clean/edis.json"));
    let (_, h, text) = digest(&v);
    let mut h2 = FNV0;
    fnv(&mut h2, text.replacen('|', "/", 1).as_bytes());
    assert_ne!(h, h2);
    assert!(text.starts_with("full\n"));
}

/// Recorded on the validator of commit fe88d1e: (input, content digest of
/// a golden file, issue count of validate_full, digest of all four runs).
/// Mutants added after the performance work (the checklist audit,
/// `testdata/validate/mutants/CHECKLIST.md`) have no pre-optimisation
/// digest: theirs are recorded on the validator of the commit that added
/// them, and an entry whose issues a validator fix changed on purpose is
/// re-recorded in that fix's commit.
mod digests {
    pub const DIGESTS: &[(&str, Option<u64>, usize, u64)] = &[
        ("clean/edis", None, 23, 0x3b0675e3b7ed73da),
        ("clean/mh", None, 14, 0x4be84392ef85887e),
        ("clean/ecd", None, 18, 0xaa280f948f863962),
        ("clean/opl", None, 21, 0xacdadbbae807517e),
        ("mutant/edis-001", None, 24, 0xb1ee4ae4ea80a1a5),
        ("mutant/edis-002", None, 24, 0x13b3bfe34eec6a2e),
        ("mutant/edis-003", None, 24, 0x4a6d1825b6991918),
        ("mutant/edis-004", None, 24, 0xd4a20a3aacf4542a),
        ("mutant/edis-005", None, 24, 0xc6caea4277b40341),
        ("mutant/edis-006", None, 25, 0x8766e08991551747),
        ("mutant/edis-007", None, 24, 0xaab4aa9996efeb11),
        ("mutant/edis-008", None, 24, 0x2f5dbe0cf196472d),
        ("mutant/edis-009", None, 24, 0x00de39ca75ddc5ce),
        ("mutant/edis-010", None, 24, 0xc3146e379a1aaadd),
        ("mutant/edis-011", None, 24, 0x146476568fb79ef8),
        ("mutant/edis-012", None, 24, 0xd89bcc8f0d70d57f),
        ("mutant/edis-013", None, 24, 0xfe27d6d36667f406),
        ("mutant/edis-014", None, 24, 0xf55d4c1e69fd79f6),
        ("mutant/edis-015", None, 24, 0x10a917e00c345e6e),
        ("mutant/edis-016", None, 24, 0x17e1f33f09cadd24),
        ("mutant/edis-017", None, 24, 0x20e17fc7ef405aab),
        ("mutant/edis-018", None, 25, 0x1ac78a21690d98b8),
        ("mutant/edis-019", None, 25, 0xe22d644a6fab1009),
        ("mutant/edis-020", None, 24, 0xdcd784a48de90e26),
        ("mutant/edis-021", None, 24, 0xc48e1017bc9151d3),
        ("mutant/edis-022", None, 24, 0x2226a21580295c17),
        ("mutant/edis-023", None, 24, 0xaef5b34746f89e5a),
        ("mutant/edis-024", None, 24, 0xa9d8745b53affe8d),
        ("mutant/edis-025", None, 26, 0xca55e4a526306b18),
        ("mutant/edis-026", None, 24, 0x67406f24a1755497),
        ("mutant/edis-027", None, 24, 0x00c5e6501c326398),
        ("mutant/edis-028", None, 25, 0x09c6156d373d8f8b),
        ("mutant/edis-029", None, 25, 0xb4db464cb92bbf8e),
        ("mutant/edis-030", None, 25, 0xcc014d44d9f12100),
        ("mutant/edis-031", None, 24, 0xee719fafa060758c),
        ("mutant/edis-032", None, 24, 0x3c319ca435172843),
        ("mutant/edis-033", None, 24, 0x77ef3e13369d732b),
        ("mutant/edis-034", None, 26, 0x7e9d515b79614626),
        ("mutant/edis-035", None, 24, 0xad15475183acc488),
        ("mutant/edis-036", None, 24, 0x6adad79f497a735e),
        ("mutant/edis-037", None, 25, 0xab8dda2ee46db26f),
        ("mutant/edis-038", None, 25, 0xb1c2cfbf9e8e8077),
        ("mutant/edis-039", None, 25, 0x9dbd957f10476601),
        ("mutant/edis-040", None, 25, 0xe8dfb37d201c988c),
        ("mutant/edis-041", None, 24, 0xd3eaebb25c124faf),
        ("mutant/edis-042", None, 25, 0x5929abaa94f7cc04),
        ("mutant/edis-043", None, 25, 0x78ee3b40189e0aa8),
        ("mutant/edis-044", None, 24, 0x493fe03105955da5),
        ("mutant/edis-045", None, 24, 0xf1aa472f4be3aa18),
        ("mutant/edis-046", None, 24, 0x4dbd5fad118713fb),
        ("mutant/edis-047", None, 24, 0x6823d1c9c61061ff),
        ("mutant/edis-048", None, 25, 0xdeff7146c33a8896),
        ("mutant/edis-049", None, 25, 0x8c68e00f7bb62ae0),
        ("mutant/edis-050", None, 25, 0xc6e1755c42ff28de),
        ("mutant/edis-051", None, 26, 0xca9ce10e2cceed54),
        ("mutant/edis-052", None, 25, 0x32d05d8e3daedb3b),
        ("mutant/edis-053", None, 25, 0x95cb6d8dffb0559f),
        ("mutant/edis-054", None, 25, 0xc5b2195f58a9af63),
        ("mutant/edis-055", None, 26, 0x5144bf57a85f7303),
        ("mutant/edis-056", None, 25, 0x680f1de0cd8ea935),
        ("mutant/edis-057", None, 24, 0xb3f57e20b19670f6),
        ("mutant/mh-001", None, 15, 0x3270fdbb5d033399),
        ("mutant/mh-002", None, 15, 0x12613296960cf195),
        ("mutant/mh-003", None, 15, 0xd901ec648f11c4ce),
        ("mutant/mh-004", None, 15, 0x5d120b03068d79fb),
        ("mutant/mh-005", None, 16, 0x4c5450ae57a1a5cd),
        ("mutant/mh-006", None, 16, 0x992f77dc526b8ea4),
        ("mutant/mh-007", None, 15, 0x6e4c6798cb1d1d07),
        ("mutant/mh-008", None, 15, 0x9a71c336fa7151f8),
        ("mutant/mh-009", None, 15, 0x6b739288652e79ac),
        ("mutant/mh-010", None, 16, 0x6603a0d37034f091),
        ("mutant/mh-011", None, 15, 0xe279510089c28182),
        ("mutant/mh-012", None, 15, 0xa65ebe9c046096f0),
        ("mutant/mh-013", None, 15, 0x2e21a68e5a4ee040),
        ("mutant/mh-014", None, 15, 0x9535b0d49186b6ea),
        ("mutant/mh-015", None, 15, 0xb3a372c857d1736a),
        ("mutant/mh-016", None, 15, 0x4879e3f459b27360),
        ("mutant/mh-017", None, 16, 0x074b12bf16bc800e),
        ("mutant/mh-018", None, 16, 0x43e7e68ae6d9af95),
        ("mutant/mh-019", None, 15, 0xe2522281958904bf),
        ("mutant/mh-020", None, 15, 0x788e17ea24471f86),
        ("mutant/mh-021", None, 16, 0x4c3608fbe687abbb),
        ("mutant/mh-022", None, 15, 0x24e0cf7cb226b94e),
        ("mutant/mh-023", None, 15, 0xb18304946cb20f99),
        ("mutant/mh-024", None, 16, 0x09ca7d2f0cde1c79),
        ("mutant/mh-025", None, 16, 0x60097492af14163f),
        ("mutant/mh-026", None, 16, 0x12a8ee6f8af89e01),
        ("mutant/mh-027", None, 15, 0x6e70220cbb5a8e62),
        ("mutant/mh-028", None, 16, 0x014628986ebf54b8),
        ("mutant/mh-029", None, 16, 0x854151506d3441c3),
        ("mutant/mh-030", None, 15, 0xfb507baeed44718c),
        ("mutant/mh-031", None, 16, 0x6677c39ce57f0bd2),
        ("mutant/mh-032", None, 15, 0x0e6cdef220b7d2d0),
        ("mutant/mh-033", None, 15, 0x51c14ea7982a7ee3),
        ("mutant/mh-034", None, 15, 0xfef95920d1a3b672),
        ("mutant/mh-035", None, 16, 0x64c1b04fab75de0d),
        ("mutant/mh-036", None, 16, 0xcc5a9a4a7b3c36d2),
        ("mutant/mh-037", None, 16, 0x495d3730329a9250),
        ("mutant/mh-038", None, 16, 0xfc82e1136d8c0429),
        ("mutant/mh-039", None, 16, 0xcb325fb27c1606f4),
        ("mutant/mh-040", None, 15, 0xcfd152d2997c04b2),
        ("mutant/mh-041", None, 15, 0xec889fbf11de0c04),
        ("mutant/mh-042", None, 16, 0x00117029bda1a8ad),
        ("mutant/mh-043", None, 15, 0x0cf9ee8eba5bff19),
        ("mutant/mh-044", None, 15, 0x2124fa20177ae70a),
        ("mutant/mh-045", None, 16, 0x9f9b1b5e9f6f5e70),
        ("mutant/mh-046", None, 15, 0x5b44863eecbb951c),
        ("mutant/mh-047", None, 17, 0xe317f52d2b7ad160),
        ("mutant/mh-048", None, 16, 0x973a8c899bb3e086),
        ("mutant/mh-049", None, 16, 0x19316d1dedd0c55b),
        ("mutant/mh-050", None, 17, 0x3931fa79df146fba),
        ("mutant/mh-051", None, 16, 0xcee24aadaf06b23b),
        ("mutant/mh-053", None, 16, 0xb81e92aaed48adaa),
        ("mutant/mh-054", None, 16, 0xfbacb19d01138329),
        ("mutant/mh-055", None, 18, 0xf678c175dd392db6),
        ("mutant/mh-052", None, 16, 0x85f96d851dfa4bde),
        ("mutant/mh-056", None, 16, 0xf814ad483401a10a),
        ("mutant/ecd-001", None, 19, 0x18bf905d60736e6f),
        ("mutant/ecd-002", None, 19, 0x4d440b766d3b38df),
        ("mutant/ecd-003", None, 19, 0x02da6ae726dba6a0),
        ("mutant/ecd-004", None, 19, 0x8ff39e9c75bb4fac),
        ("mutant/ecd-005", None, 19, 0x11b01cfbd29ac2b9),
        ("mutant/ecd-006", None, 19, 0x38771c8bc2e041d9),
        ("mutant/ecd-007", None, 19, 0x20219cb458d0369e),
        ("mutant/ecd-008", None, 19, 0x6a70b8b0433d8180),
        ("mutant/ecd-009", None, 21, 0x20c3f822ca2a7c91),
        ("mutant/ecd-010", None, 21, 0xf4f81d414932db8b),
        ("mutant/ecd-011", None, 19, 0x4682b7ff647266d9),
        ("mutant/ecd-012", None, 19, 0x12f3adc7427da0bc),
        ("mutant/ecd-013", None, 19, 0x260db32d29822b61),
        ("mutant/ecd-014", None, 19, 0x0367135781db74c6),
        ("mutant/ecd-015", None, 20, 0xe954470bd2fc5566),
        ("mutant/ecd-016", None, 20, 0x71ecc4c251b8d3c6),
        ("mutant/ecd-017", None, 21, 0x72a616b9ae2282d4),
        ("mutant/ecd-018", None, 19, 0xf0da67fdb75b388b),
        ("mutant/ecd-019", None, 19, 0x88f0735d80140e8e),
        ("mutant/ecd-020", None, 19, 0x963770003cda94f5),
        ("mutant/ecd-021", None, 19, 0x10373ce13d38cf21),
        ("mutant/ecd-022", None, 18, 0x9e3e5e07168565d0),
        ("mutant/ecd-023", None, 19, 0xaf627adac306f304),
        ("mutant/ecd-024", None, 21, 0x043bd951d934a668),
        ("mutant/ecd-025", None, 19, 0x6204817207b8ea84),
        ("mutant/ecd-026", None, 19, 0x1dcfd2c8d47289e2),
        ("mutant/ecd-027", None, 19, 0x759462d796dcf426),
        ("mutant/ecd-028", None, 21, 0x942431d18f9690ae),
        ("mutant/ecd-029", None, 19, 0xe2b5bc9b801822d2),
        ("mutant/ecd-030", None, 19, 0x25d1457c89134b27),
        ("mutant/ecd-031", None, 22, 0x02b080dd01699004),
        ("mutant/ecd-032", None, 19, 0xd7208d187fa60229),
        ("mutant/ecd-033", None, 20, 0x456921d66b5a82a0),
        ("mutant/ecd-034", None, 20, 0xc43feed9269447e6),
        ("mutant/ecd-035", None, 20, 0xff0bbdcced152b99),
        ("mutant/ecd-036", None, 21, 0x1df4918a61d58d5b),
        ("mutant/ecd-037", None, 25, 0xd0136cee0058a5da),
        ("mutant/ecd-038", None, 19, 0xdce50088e77591b8),
        ("mutant/ecd-039", None, 20, 0x3f66752e557df297),
        ("mutant/ecd-040", None, 20, 0xeb1e2c2a86c91e5e),
        ("mutant/ecd-041", None, 19, 0x67678844488446be),
        ("mutant/ecd-042", None, 19, 0x9b6fea108bb6ae64),
        ("mutant/ecd-043", None, 21, 0x065acbe4bfca8c68),
        ("mutant/ecd-044", None, 20, 0xc2912fbddbc1d0fc),
        ("mutant/ecd-045", None, 20, 0x8fa4344b560c6055),
        ("mutant/ecd-046", None, 20, 0x336c35ab06c1e4e5),
        ("mutant/ecd-047", None, 20, 0xbea47236c3322da1),
        ("mutant/ecd-049", None, 20, 0xebe01e7bc8620acc),
        ("mutant/ecd-050", None, 21, 0x0e057db8bb5da5a8),
        ("mutant/ecd-051", None, 21, 0xfe9086c578ca03c5),
        ("mutant/ecd-052", None, 21, 0xf53544cfe2a6712b),
        ("mutant/ecd-048", None, 20, 0x1cd0e2179f423252),
        ("mutant/ecd-053", None, 20, 0xf2f168a546ad6e56),
        ("mutant/opl-001", None, 22, 0xdb0d62fac0b195c5),
        ("mutant/opl-002", None, 22, 0x459d5423f96ffce4),
        ("mutant/opl-003", None, 22, 0x81db321432429740),
        ("mutant/opl-004", None, 22, 0x623d0c8d57f60bdc),
        ("mutant/opl-005", None, 22, 0x1f5b0e1379befe58),
        ("mutant/opl-006", None, 22, 0x821a084ab49e32aa),
        ("mutant/opl-007", None, 22, 0x2e4afa2d2a112ffa),
        ("mutant/opl-008", None, 23, 0x4605253d55530fa2),
        ("mutant/opl-009", None, 23, 0x1c18aed2cc55c429),
        ("mutant/opl-010", None, 22, 0xdb772500611b6025),
        ("mutant/opl-011", None, 22, 0x14169eeaf6ae2606),
        ("mutant/opl-012", None, 22, 0x9bdf9ce998ec585b),
        ("mutant/opl-013", None, 22, 0x9aafd90996a4c253),
        ("mutant/opl-014", None, 22, 0x9ed14dad1943542b),
        ("mutant/opl-015", None, 22, 0x8bb84bc4a5bc748e),
        ("mutant/opl-016", None, 23, 0x55aeec02f7d1ae71),
        ("mutant/opl-017", None, 22, 0x0799d09b0268464e),
        ("mutant/opl-018", None, 22, 0x5f7ad518ce7dac25),
        ("mutant/opl-019", None, 22, 0x0359319eb8cba1e5),
        ("mutant/opl-020", None, 22, 0x7ecb93c957663ddc),
        ("mutant/opl-021", None, 23, 0xe9c3824a1e26ced5),
        ("mutant/opl-022", None, 22, 0x5869f4197a663e40),
        ("mutant/opl-023", None, 22, 0x7cc86fbe403f7b4d),
        ("mutant/opl-024", None, 22, 0xf6aa451bda1a5475),
        ("mutant/opl-025", None, 22, 0x82969f414afe6349),
        ("mutant/opl-026", None, 23, 0x957a75f55369984a),
        ("mutant/opl-027", None, 22, 0x94fc3fe3571cd744),
        ("mutant/opl-028", None, 22, 0xd30ce22f945ff601),
        ("mutant/opl-029", None, 22, 0xd27e3b5a709240bc),
        ("mutant/opl-030", None, 22, 0xc9edc456fe2b02c4),
        ("mutant/opl-031", None, 23, 0xec4792944c556463),
        ("mutant/opl-032", None, 23, 0x83bb505c217071a1),
        ("mutant/opl-033", None, 23, 0xc88c45fdd34435d5),
        ("mutant/opl-034", None, 22, 0xfda3769f90243b22),
        ("mutant/opl-035", None, 22, 0xade802b27b4f333a),
        ("mutant/opl-036", None, 22, 0x3664912fbe068cc5),
        ("mutant/opl-037", None, 22, 0xb69db7f443168d32),
        ("mutant/opl-038", None, 22, 0xc2153c3003c26fa0),
        ("mutant/opl-039", None, 23, 0x796eee3389824b46),
        ("mutant/opl-040", None, 22, 0xb55071211cb49056),
        ("mutant/opl-041", None, 22, 0x66c69a7bd2db39ee),
        ("mutant/opl-042", None, 22, 0x3a66c65e34fdfc52),
        ("mutant/opl-043", None, 22, 0xcce149c30dc1b687),
        ("mutant/opl-044", None, 22, 0xa67d79505c0989a7),
        ("mutant/opl-045", None, 24, 0x925bf316cda57658),
        ("mutant/opl-046", None, 22, 0xabd3502c15b51b4c),
        ("mutant/opl-047", None, 23, 0x570e994896097ab8),
        ("mutant/opl-048", None, 22, 0x5db99b3cc93a2860),
        ("mutant/opl-049", None, 22, 0x6d251c3eb7369367),
        ("mutant/opl-050", None, 24, 0x3c702e06909a4623),
        ("mutant/opl-051", None, 23, 0x3c6969650de0684c),
        ("mutant/opl-052", None, 24, 0x71409a474ea416aa),
        ("mutant/opl-053", None, 23, 0x724672942dddd72d),
        ("mutant/opl-054", None, 22, 0xd27e3b5a709240bc),
        ("mutant/opl-055", None, 22, 0x6800f5b20dfccf44),
        ("mutant/opl-056", None, 23, 0xb0eabaac8b1c30e3),
        ("mutant/opl-057", None, 23, 0x7964f0d4d0f5591d),
        ("mutant/opl-058", None, 23, 0xb65c18c1c08aa960),
        ("mutant/opl-059", None, 23, 0x024fc4c86a1af63c),
        ("mutant/opl-060", None, 23, 0x3fb999aa05a0ef8d),
        (
            "golden/discharge_01_classic_default_ns.json",
            Some(0xfa2d6f1bee91173c),
            7,
            0x0ad42aea5c7283a2,
        ),
        (
            "golden/discharge_02_edischarge_headings_large_crlf.json",
            Some(0x8828c21affdd1d03),
            7,
            0x158248f05960aaee,
        ),
        (
            "golden/discharge_03_prefixed_hl7_ns_bad_nhs_number.json",
            Some(0x26892d062f8e7f41),
            6,
            0x33bba7e972ac00a1,
        ),
        (
            "golden/discharge_04_utf16le_bom_unverified_nhs.json",
            Some(0xd715b17b28b7b37d),
            3,
            0xa0b8441084810342,
        ),
        (
            "golden/discharge_05_duplicate_id_a.json",
            Some(0x0afe38387ed76940),
            3,
            0xb4be2618150b387a,
        ),
        (
            "golden/discharge_06_duplicate_id_b.json",
            Some(0x722b01341d11af91),
            3,
            0xb4be2618150b387a,
        ),
        (
            "golden/discharge_07_legacy_generic_cda.json",
            Some(0x283aac6c25e9e574),
            3,
            0x1767cedd08189e94,
        ),
        // Added with the fixture (commit adding discharge_08), recorded on that commit's validator.
        (
            "golden/discharge_08_rich_header_entries.json",
            Some(0xcd884709209ae45f),
            6,
            0x57a05e26ae44c48a,
        ),
    ];
}
