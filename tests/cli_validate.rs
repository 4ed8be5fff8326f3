//! `itkbridge validate`: exit codes, the NDJSON report, JSON and XML twins,
//! unreadable files, and agreement with `convert` (every bundle it writes
//! validates).

mod common;

use std::path::Path;

use serde_json::Value;

fn report(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("report written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("NDJSON line"))
        .collect()
}

#[test]
fn clean_bundles_are_valid_exit_0_with_a_report_line_each() {
    let t = tempfile::tempdir().unwrap();
    let rep = t.path().join("r.ndjson");
    let files = [
        "testdata/validate/clean/edis.json",
        "testdata/validate/clean/mh.json",
        "testdata/validate/clean/ecd.json",
        "testdata/validate/clean/opl.json",
    ];
    let mut args: Vec<String> = vec!["validate".into()];
    args.extend(files.iter().map(|s| s.to_string()));
    args.push("--report".into());
    args.push(rep.display().to_string());
    let r = common::run(&args);
    assert_eq!(r.code, 0, "{}", r.dump());
    let lines = report(&rep);
    assert_eq!(lines.len(), 4);
    for (l, f) in lines.iter().zip(files) {
        assert_eq!(l["file"], f, "file as given");
        assert_eq!(l["valid"], true, "{l}");
        for i in l["issues"].as_array().unwrap() {
            assert_eq!(i["severity"], "information", "{i}");
            for k in [
                "severity",
                "code",
                "location",
                "rule",
                "message",
                "itk_response",
            ] {
                assert!(i.get(k).is_some(), "{k} missing in {i}");
            }
        }
    }
}

#[test]
fn invalid_file_exit_1_issue_fields_and_itk_response() {
    let t = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(common::root().join("testdata/validate/clean/edis.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    // A section title that differs from the profile's fixed title.
    v["entry"][3]["resource"]["entry"][0]["resource"]["section"][0]["title"] =
        Value::from("Something else");
    let bad = t.path().join("bad.json");
    std::fs::write(&bad, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let rep = t.path().join("r.ndjson");
    let r = common::run(&[
        "validate",
        "testdata/validate/clean/opl.json",
        bad.to_str().unwrap(),
        "--report",
        rep.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.dump());
    let lines = report(&rep);
    assert_eq!(lines[0]["valid"], true);
    assert_eq!(lines[1]["valid"], false);
    let issue = lines[1]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["severity"] == "error")
        .expect("an error");
    assert_eq!(
        issue["location"],
        "Bundle.entry[3].resource.entry[0].resource.section[0].title"
    );
    assert_eq!(issue["itk_response"], "20009");
    assert_eq!(issue["code"], "value");
    // The title itself is never echoed.
    assert!(!r.stdout.contains("Something else"), "{}", r.stdout);
}

#[test]
fn xml_twin_gets_the_same_findings() {
    let t = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(common::root().join("testdata/validate/clean/mh.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["entry"][3]["resource"]["entry"][1]["resource"]["gender"] = Value::from("F");
    let json_path = t.path().join("m.json");
    let xml_path = t.path().join("m.xml");
    std::fs::write(&json_path, serde_json::to_vec(&v).unwrap()).unwrap();
    std::fs::write(&xml_path, itkbridge::fhir::xml::json_to_xml(&v).unwrap()).unwrap();
    let rep = t.path().join("r.ndjson");
    let r = common::run(&[
        "validate",
        json_path.to_str().unwrap(),
        xml_path.to_str().unwrap(),
        "--report",
        rep.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.dump());
    let lines = report(&rep);
    assert_eq!(lines[0]["issues"], lines[1]["issues"]);
    assert!(lines[0]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["rule"] == "binding"
            && i["location"] == "Bundle.entry[3].resource.entry[1].resource.gender"));
}

#[test]
fn unreadable_files_are_invalid_not_crashes() {
    let t = tempfile::tempdir().unwrap();
    let cases = [
        ("empty.json", ""),
        ("text.txt", "not FHIR at all"),
        (
            "truncated.json",
            "{\"resourceType\": \"Bundle\", \"type\": ",
        ),
        (
            "truncated.xml",
            "<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"message\"/>",
        ),
        ("other-ns.xml", "<Bundle xmlns=\"urn:hl7-org:v3\"/>"),
    ];
    let mut args: Vec<String> = vec!["validate".into()];
    for (name, body) in cases {
        let p = t.path().join(name);
        std::fs::write(&p, body).unwrap();
        args.push(p.display().to_string());
    }
    args.push(t.path().join("missing.json").display().to_string());
    let rep = t.path().join("r.ndjson");
    args.push("--report".into());
    args.push(rep.display().to_string());
    let r = common::run(&args);
    assert_eq!(r.code, 1, "{}", r.dump());
    let lines = report(&rep);
    assert_eq!(lines.len(), cases.len() + 1);
    for l in &lines {
        assert_eq!(l["valid"], false, "{l}");
        assert_eq!(l["issues"][0]["severity"], "fatal", "{l}");
        assert_eq!(l["issues"][0]["itk_response"], "10009", "{l}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let r = common::run(&["validate"]);
    assert_eq!(r.code, 2, "{}", r.dump());
    let r = common::run(&["validate", "--bogus", "x.json"]);
    assert_eq!(r.code, 2, "{}", r.dump());
    let r = common::run(&[
        "validate",
        "testdata/validate/clean/edis.json",
        "--report",
        "/nonexistent-dir/r.ndjson",
    ]);
    assert_eq!(r.code, 2, "{}", r.dump());
}

#[test]
fn every_bundle_convert_writes_validates() {
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("out");
    let r = common::run(&[
        "convert",
        "testdata/discharge",
        "--out",
        out.to_str().unwrap(),
        "--progress",
        "never",
    ]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let bundles = common::files_below(&out.join("bundles"));
    assert!(bundles.len() >= 7);
    let mut args: Vec<String> = vec!["validate".into()];
    args.extend(
        bundles
            .iter()
            .map(|b| out.join("bundles").join(b).display().to_string()),
    );
    let r = common::run(&args);
    assert_eq!(r.code, 0, "{}", r.dump());
}
