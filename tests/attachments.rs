//! Embedded attachments (`observationMedia` entries shown in the narrative
//! by `renderMultiMedia`) have no place in an ITK3 Transfer of Care message
//! (crosswalk.md §5.2, R33: the harness accepts only PDF Binaries, and the
//! bytes are not narrative). They must never go silently: each is an
//! `attachment-not-carried` warning with its line:column and media type,
//! counted in report.json, and the narrative keeps a marker labelled with
//! the caption, else the media type, else the reference. The base64 payload
//! never reaches the output — except for an embedded PDF, the one type the
//! harness accepts, which becomes an ITK-Attachment-Binary-1 entered in the
//! Clinical summary. Inputs are the synthetic
//! `testdata/discharge/discharge_05_duplicate_id_a.xml` with an entry and a
//! marker added.

mod common;

use common::{bundle_of, convert, issue_messages, ledger, report, section_div};
use serde_json::Value;

const PAYLOAD: &str = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8U";

/// discharge_05 with an observationMedia entry (media type `media`, `ID`
/// `OM1`) and `marker` at the end of its "Summary of Care" paragraph.
fn with_attachment(media: &str, marker: &str) -> String {
    with_payload(media, marker, PAYLOAD)
}

fn with_payload(media: &str, marker: &str, payload: &str) -> String {
    let src = std::fs::read_to_string(
        common::root().join("testdata/discharge/discharge_05_duplicate_id_a.xml"),
    )
    .expect("fixture");
    let entry = format!(
        "<entry typeCode=\"COMP\" contextConductionInd=\"true\">\n\
         <observationMedia classCode=\"OBS\" moodCode=\"EVN\" ID=\"OM1\">\n\
         <templateId root=\"2.16.840.1.113883.2.1.3.2.4.18.2\" extension=\"COCD_TP146002GB01#ObservationMedia\"/>\n\
         <id root=\"0A1B2C3D-1111-2222-3333-444455556666\"/>\n\
         <value{media} representation=\"B64\">{payload}</value>\n\
         </observationMedia>\n</entry>\n"
    );
    let at = src.find("<entry typeCode=\"COMP\"").expect("an entry");
    let src = format!("{}{entry}{}", &src[..at], &src[at..]);
    let end = "Fixed-rate insulin infusion for 20 hours.";
    assert!(src.contains(end));
    src.replace(end, &format!("{end} Photograph: {marker}"))
}

#[test]
fn attachments_are_warned_counted_and_marked() {
    let docs = [
        (
            "captioned.xml",
            with_attachment(
                " mediaType=\"image/jpeg\"",
                "<renderMultiMedia referencedObject=\"OM1\"><caption>Rash on day two</caption></renderMultiMedia>",
            ),
            "[attachment: Rash on day two]",
            "image/jpeg",
        ),
        (
            "typed.xml",
            with_attachment(
                " mediaType=\"image/png\"",
                "<renderMultiMedia referencedObject=\"OM1\"/>",
            ),
            "[attachment: image/png]",
            "image/png",
        ),
        (
            "untyped.xml",
            with_attachment("", "<renderMultiMedia referencedObject=\"OM1\"/>"),
            "[attachment: OM1]",
            "(no media type)",
        ),
        (
            "free_text_type.xml",
            with_attachment(
                " mediaType=\"Mrs Smith's scan\"",
                "<renderMultiMedia referencedObject=\"OM1\"/>",
            ),
            "[attachment: Mrs Smith&#39;s scan]",
            "(not a media type)",
        ),
    ];
    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for (name, text, _, _) in &docs {
        std::fs::write(input.join(name), text).unwrap();
    }
    let out = t.path().join("out");
    let r = convert(&input, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let lines: Vec<Value> = ledger(&out);
    for (name, src, marker, shown) in &docs {
        let l = lines
            .iter()
            .find(|l| l["input"] == *name)
            .unwrap_or_else(|| panic!("{name} in ledger"));
        assert_eq!(l["outcome"], "converted", "{name}: {l}");
        // The entry's line in the source.
        let line = src[..src.find("<observationMedia").unwrap()]
            .lines()
            .count()
            + 1;
        let warned = issue_messages(l, "attachment-not-carried");
        assert_eq!(warned.len(), 1, "{name}: {l}");
        assert!(
            warned[0].contains(&format!("at {line}:")) && warned[0].contains(shown),
            "{name}: {}",
            warned[0]
        );
        assert!(
            !warned[0].contains("Smith"),
            "no document text in a message"
        );
        let bundle = bundle_of(&out, l);
        let text = serde_json::to_string(&bundle).unwrap();
        assert!(!text.contains(PAYLOAD), "{name}: the payload leaked");
        let div = section_div(&bundle, "Clinical summary")
            .or_else(|| {
                // Wherever "Summary of Care" was routed.
                bundle["entry"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find_map(|e| e["resource"]["entry"].as_array())
                    .and_then(|es| es[0]["resource"]["section"].as_array())
                    .and_then(|ss| {
                        ss.iter()
                            .filter_map(|s| s["text"]["div"].as_str())
                            .find(|d| d.contains("Fixed-rate insulin"))
                            .map(str::to_string)
                    })
            })
            .unwrap_or_default();
        let marker_json = marker.replace("&#39;", "'");
        assert!(
            div.contains(&format!("Photograph: {marker_json}")),
            "{name}: {div}"
        );
    }
    assert_eq!(
        report(&out)["coverage"]["attachments_not_carried"],
        4,
        "report counts every attachment"
    );
}

/// An embedded PDF is carried: an ITK-Attachment-Binary-1 with the base64
/// content (whitespace removed), referenced from the Clinical summary, and no
/// warning; a "PDF" whose content is not base64 is warned like any other.
#[test]
fn an_embedded_pdf_becomes_a_binary() {
    let pdf = "\n   JVBERi0xLjQKJcfsj6IKNSAwIG9i\n   ago8PC9MZW5ndGggNiAwIFI+Pgo=\n";
    let docs = [
        (
            "pdf.xml",
            with_payload(
                " mediaType=\"application/pdf\"",
                "<renderMultiMedia referencedObject=\"OM1\"/>",
                pdf,
            ),
        ),
        (
            "broken_pdf.xml",
            with_payload(
                " mediaType=\"application/pdf\"",
                "<renderMultiMedia referencedObject=\"OM1\"/>",
                "not base64 at all!",
            ),
        ),
    ];
    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for (name, text) in &docs {
        std::fs::write(input.join(name), text).unwrap();
    }
    let out = t.path().join("out");
    let r = convert(&input, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let lines: Vec<Value> = ledger(&out);
    let line = |n: &str| lines.iter().find(|l| l["input"] == n).unwrap().clone();
    let warned = |l: &Value| issue_messages(l, "attachment-not-carried").len();

    let l = line("pdf.xml");
    assert_eq!(l["outcome"], "converted", "{l}");
    assert_eq!(warned(&l), 0, "{l}");
    let b = bundle_of(&out, &l);
    let entries = common::document_bundle(&b)["entry"]
        .as_array()
        .unwrap()
        .clone();
    let binary = entries
        .iter()
        .find(|e| e["resource"]["resourceType"] == "Binary")
        .expect("a Binary");
    assert_eq!(
        binary["resource"]["meta"]["profile"][0],
        "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Attachment-Binary-1"
    );
    assert_eq!(binary["resource"]["contentType"], "application/pdf");
    assert_eq!(
        binary["resource"]["content"],
        "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+Pgo="
    );
    let csm = entries[0]["resource"]["section"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["title"] == "Clinical summary")
        .expect("Clinical summary")
        .clone();
    assert!(
        csm["entry"]
            .as_array()
            .is_some_and(|es| es.iter().any(|e| e["reference"] == binary["fullUrl"])),
        "{csm}"
    );

    let l = line("broken_pdf.xml");
    assert_eq!(l["outcome"], "converted", "{l}");
    assert_eq!(warned(&l), 1, "{l}");
    let text = serde_json::to_string(&bundle_of(&out, &l)).unwrap();
    assert!(!text.contains("\"Binary\""), "no Binary for a broken PDF");
    assert_eq!(report(&out)["coverage"]["attachments_not_carried"], 1);
}
