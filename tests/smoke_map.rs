use itkbridge::mapping::{compile, embedded};
#[test]
fn smoke() {
    let ms = match compile(&embedded::sources()) { Ok(m) => m, Err(e) => panic!("{e}") };
    let plan = ms.for_kind("nhs-cda/POCD_MT150001UK06").unwrap();
    for f in std::fs::read_dir("testdata/discharge").unwrap() {
        let p = f.unwrap().path();
        let bytes = std::fs::read(&p).unwrap();
        let d = itkbridge::xml::decode(&bytes).unwrap();
        let doc = itkbridge::xml::Document::parse(&d.text).unwrap();
        let out = itkbridge::mapping::run::run(plan, &ms.tables, &doc, &bytes).unwrap();
        let s = serde_json::to_string_pretty(&out.bundle).unwrap();
        std::fs::write(format!("/tmp/{}.json", p.file_name().unwrap().to_string_lossy()), &s).unwrap();
        let issues = itkbridge::validate::validate_message(&out.bundle);
        println!("{}: {} findings, issues:", p.display(), out.findings.len());
        for f in &out.findings { println!("  F {} {}", f.rule, f.message); }
        for i in &issues { println!("  {i}"); }
    }
}
