//! Recognising what a parsed input is (legacy-inputs.md §3): the decision
//! table of recognisers R1–R7, applied in order, with the rule that fired
//! recorded. Recognition looks only at a few header elements, never at
//! clinical content.

use crate::xml::{Document, NodeId, NS_HL7, NS_ITK, NS_NPFITLC, NS_SOAP};

/// A value from the document kept in a kind only when it has the shape of
/// a type identifier: the kind goes to the ledger and report.json, which
/// never carry document text (a misplaced NHS number or birth date in
/// `code/@code` must not leak). Anything else is named `other`.
fn shaped(s: &str, shape: fn(&[u8]) -> bool) -> &str {
    if shape(s.as_bytes()) {
        s
    } else {
        "other"
    }
}

/// An HL7 v3 artifact id: `POCD_MT150001UK06`.
fn artifact_id(b: &[u8]) -> bool {
    b.len() == 17
        && b[..4].iter().all(u8::is_ascii_uppercase)
        && b[4] == b'_'
        && b[5..7].iter().all(u8::is_ascii_uppercase)
        && b[7..13].iter().all(u8::is_ascii_digit)
        && b[13..15].iter().all(u8::is_ascii_uppercase)
        && b[15..].iter().all(u8::is_ascii_digit)
}

/// A LOINC code: `18842-5`.
fn loinc(b: &[u8]) -> bool {
    b.len() >= 3
        && b.len() <= 9
        && b[b.len() - 2] == b'-'
        && b[b.len() - 1].is_ascii_digit()
        && b[..b.len() - 2].iter().all(u8::is_ascii_digit)
}

/// A SNOMED CT concept id: 6–18 digits, concept partition (`00` or `10`),
/// Verhoeff check digit.
fn sct_concept(b: &[u8]) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    if !(6..=18).contains(&b.len()) || !b.iter().all(u8::is_ascii_digit) || b[0] == b'0' {
        return false;
    }
    let partition = &b[b.len() - 3..b.len() - 1];
    if partition != b"00" && partition != b"10" {
        return false;
    }
    let mut c = 0u8;
    for (i, d) in b.iter().rev().enumerate() {
        c = D[usize::from(c)][usize::from(P[i % 8][usize::from(d - b'0')])];
    }
    c == 0
}

/// What an input is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kind {
    /// `<family>/<type>`, e.g. `nhs-cda/POCD_MT150001UK06`.
    pub kind: String,
    /// Which recogniser fired (R1…R7), for the ledger.
    pub rule: &'static str,
    /// The document element to convert (the root for bare documents).
    pub node: NodeId,
    /// True for transport wrappers (SOAP, Distribution Envelope).
    pub wrapped: bool,
    /// True when the root element is not one we know at all.
    pub unknown_root: bool,
}

/// NHS CDA document codes → message types, for legacy documents without
/// `npfitlc:messageType` (legacy-inputs §4.1, recogniser R3).
const LEGACY_CODES: &[(&str, &str)] = &[
    ("163391000000107", "POCD_MT150001UK06"),
    ("185291000000100", "POCD_MT160001UK06"),
    ("163381000000105", "POCD_MT170001UK06"),
    ("312711000000101", "POCD_MT030001UK01"),
    ("313071000000104", "POCD_MT040001UK01"),
    ("819551000000100", "POCD_MT200001GB02"),
    ("1066271000000101", "POCD_MT200001GB02"),
    ("285091000000108", "POCD_MT130001UK05"),
    ("283281000000100", "POCD_MT140001UK05"),
    ("715721000000100", "POCD_MT010006UK03"),
    ("715731000000103", "POCD_MT010006UK03"),
];

const HSCI_ROOTS: &[&str] = &[
    "AssessmentNoticeMPM",
    "DischargeNoticeMPM",
    "WithdrawalNotice",
    "AssessmentNoticeAcceptResponse",
    "AssessmentNoticeRejectResponse",
    "DischargeNoticeAgreement",
    "DischargeNoticeDisagreement",
    "WithdrawalNoticeAcceptResponse",
    "WithdrawalNoticeRejectResponse",
];

/// Recogniser R1 for transport captures that are not XML documents: an
/// HTTP request/response (TKW logs, captures) or a MIME multipart message
/// (Spine ebXML). Returns the kind (`http/<media>` or `mime/multipart`).
pub fn sniff_transport(text: &str) -> Option<String> {
    let head = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let first = head.lines().next().unwrap_or("");
    let is_http = first.starts_with("POST ")
        || first.starts_with("PUT ")
        || first.starts_with("HTTP/")
        || (first.starts_with("GET ") && first.contains("HTTP/"));
    let headers: String = head
        .lines()
        .take(40)
        .collect::<Vec<_>>()
        .join("\n")
        .to_ascii_lowercase();
    let multipart = headers.contains("content-type: multipart/");
    if is_http {
        return Some(if multipart {
            "http/multipart".into()
        } else {
            "http/capture".into()
        });
    }
    if first.starts_with("--")
        || first.to_ascii_lowercase().starts_with("mime-version:")
        || (first.to_ascii_lowercase().starts_with("content-type:") && multipart)
    {
        return Some("mime/multipart".into());
    }
    None
}

/// Classify a parsed document.
pub fn recognise(doc: &Document) -> Kind {
    let root = doc.root();
    let k = |kind: String, rule: &'static str| Kind {
        kind,
        rule,
        node: root,
        wrapped: false,
        unknown_root: false,
    };
    let ns = doc.ns_uri(root);
    let local = doc.local(root);
    // R1: wrappers. The payload kind is reported when it can be seen.
    if (ns == NS_SOAP && local == "Envelope") || (ns == NS_ITK && local == "DistributionEnvelope") {
        let family = if ns == NS_SOAP { "soap" } else { "itk-de" };
        let inner = doc
            .descendants(root)
            .into_iter()
            .find(|&n| doc.is(n, NS_NPFITLC, "messageType"))
            .and_then(|n| doc.attr(n, "extension"))
            .map(|e| e.trim().to_string());
        let ack = doc.descendants(root).into_iter().find(|&n| {
            (doc.is(n, NS_HL7, "BusinessResponseMessage"))
                || doc.is(n, NS_ITK, "InfrastructureResponse")
                || doc.is(n, NS_SOAP, "Fault")
        });
        let kind = match (inner, ack) {
            (Some(t), _) => format!("{family}/{}", shaped(&t, artifact_id)),
            (None, Some(a)) => format!("{family}/{}", doc.local(a)),
            (None, None) => format!("{family}/{local}"),
        };
        return Kind {
            kind,
            rule: "R1",
            node: root,
            wrapped: true,
            unknown_root: false,
        };
    }
    if ns == NS_HL7 && local == "ClinicalDocument" {
        // R2: NHS CDA with messageType.
        if let Some(mt) = doc.child(root, NS_NPFITLC, "messageType") {
            if let Some(ext) = doc
                .attr(mt, "extension")
                .map(str::trim)
                .filter(|e| !e.is_empty())
            {
                return k(format!("nhs-cda/{}", shaped(ext, artifact_id)), "R2");
            }
        }
        // R4: C-CDA.
        let us = doc
            .child(root, NS_HL7, "realmCode")
            .and_then(|r| doc.attr(r, "code"))
            .is_some_and(|c| c == "US");
        let ccda_tpl = doc
            .elements(root)
            .filter(|&c| doc.is(c, NS_HL7, "templateId"))
            .any(|c| {
                doc.attr(c, "root")
                    .is_some_and(|r| r.starts_with("2.16.840.1.113883.10.20.22.1."))
            });
        let code_el = doc.child(root, NS_HL7, "code");
        let code = code_el
            .and_then(|c| doc.attr(c, "code"))
            .map(str::trim)
            .unwrap_or("");
        let code_sys = code_el
            .and_then(|c| doc.attr(c, "codeSystem"))
            .unwrap_or("");
        if us || ccda_tpl {
            let c = if code.is_empty() {
                "unknown"
            } else {
                shaped(code, loinc)
            };
            return k(format!("ccda/{c}"), "R4");
        }
        // R3: legacy NHS CDA.
        let nhs_tpl = doc.descendant_elements(root).take(200).any(|n| {
            doc.local(n) == "templateId"
                && doc.attr(n, "root") == Some("2.16.840.1.113883.2.1.3.2.4.18.2")
        }) || doc.elements(root).any(|c| {
            doc.is(c, NS_HL7, "typeId")
                && doc.attr(c, "root") == Some("2.16.840.1.113883.2.1.3.2.4.18.2")
        });
        if code_sys == "2.16.840.1.113883.2.1.3.2.4.15" || nhs_tpl {
            if let Some((_, mt)) = LEGACY_CODES.iter().find(|(c, _)| *c == code) {
                return k(format!("nhs-cda/{mt}"), "R3");
            }
            let c = if code.is_empty() {
                "unknown"
            } else {
                shaped(code, sct_concept)
            };
            return k(format!("nhs-cda/code-{c}"), "R3");
        }
        return k("cda/unknown".into(), "R3");
    }
    if ns == NS_HL7 {
        // R5: HSCI messages; R7: acknowledgements; R6: other HL7v3.
        if HSCI_ROOTS.contains(&local) {
            return k(format!("hsci/{local}"), "R5");
        }
        if local == "BusinessResponseMessage" {
            return k(format!("ack/{local}"), "R7");
        }
        return k(format!("hl7v3/{local}"), "R6");
    }
    if ns == NS_ITK && (local == "InfrastructureResponse" || local == "SimpleMessageResponse") {
        return k(format!("ack/{local}"), "R7");
    }
    Kind {
        kind: "unknown".into(),
        rule: "none",
        node: root,
        wrapped: false,
        unknown_root: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(src: &str) -> Kind {
        let d = Document::parse(src).unwrap();
        recognise(&d)
    }

    #[test]
    fn transport_captures_are_recognised_without_parsing() {
        assert_eq!(
            sniff_transport(
                "POST /x HTTP/1.1\r\nContent-Type: multipart/related; boundary=b\r\n\r\n--b"
            )
            .as_deref(),
            Some("http/multipart")
        );
        assert_eq!(
            sniff_transport("POST /syncsoap HTTP/1.1\r\nContent-Length: 5\r\n\r\n<a/>").as_deref(),
            Some("http/capture")
        );
        assert_eq!(
            sniff_transport("----=_MIME-Boundary\r\nContent-Type: text/xml").as_deref(),
            Some("mime/multipart")
        );
        assert_eq!(sniff_transport("<?xml version=\"1.0\"?><a/>"), None);
        assert_eq!(sniff_transport("hello world"), None);
    }

    #[test]
    fn nhs_cda_by_message_type() {
        let k = kind(
            r#"<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:n="NPFIT:HL7:Localisation"><n:messageType root="2.16.840.1.113883.2.1.3.2.4.18.17" extension="POCD_MT150001UK06"/></ClinicalDocument>"#,
        );
        assert_eq!(k.kind, "nhs-cda/POCD_MT150001UK06");
        assert_eq!(k.rule, "R2");
    }

    #[test]
    fn legacy_by_code() {
        let k = kind(
            r#"<ClinicalDocument xmlns="urn:hl7-org:v3"><code code="163391000000107" codeSystem="2.16.840.1.113883.2.1.3.2.4.15"/></ClinicalDocument>"#,
        );
        assert_eq!(k.kind, "nhs-cda/POCD_MT150001UK06");
        assert_eq!(k.rule, "R3");
    }

    #[test]
    fn ccda_and_wrappers_and_unknown() {
        assert_eq!(kind(r#"<ClinicalDocument xmlns="urn:hl7-org:v3"><realmCode code="US"/><code code="18842-5"/></ClinicalDocument>"#).kind, "ccda/18842-5");
        // Document text that is not shaped like a type id stays out of the
        // kind (it goes to the ledger): an NHS number, a date, a name.
        for (code, want) in [
            ("9434765919", "other"),
            ("1958-06-11", "other"),
            ("Quillfeather", "other"),
            ("163391000000107", "POCD_MT150001UK06"),
            ("999999999999999999", "other"),
            ("371531000", "code-371531000"),
        ] {
            let src = format!(
                r#"<ClinicalDocument xmlns="urn:hl7-org:v3"><code code="{code}" codeSystem="2.16.840.1.113883.2.1.3.2.4.15"/></ClinicalDocument>"#
            );
            let k = kind(&src).kind;
            let want = if want == "other" {
                "nhs-cda/code-other".to_string()
            } else {
                format!("nhs-cda/{want}")
            };
            assert_eq!(k, want, "{code}");
        }
        for ext in ["9434765919", "Eleanor", "POCD_MT15000"] {
            let src = format!(
                r#"<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:npfitlc="NPFIT:HL7:Localisation"><npfitlc:messageType root="2.16.840.1.113883.2.1.3.2.4.18.17" extension="{ext}"/></ClinicalDocument>"#
            );
            assert_eq!(kind(&src).kind, "nhs-cda/other", "{ext}");
        }
        assert_eq!(kind(r#"<ClinicalDocument xmlns="urn:hl7-org:v3"><realmCode code="US"/><code code="19580611"/></ClinicalDocument>"#).kind, "ccda/other");
        let w = kind(
            r#"<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:n="NPFIT:HL7:Localisation"><n:messageType extension="POCD_MT150001UK06"/></ClinicalDocument></s:Body></s:Envelope>"#,
        );
        assert_eq!(w.kind, "soap/POCD_MT150001UK06");
        assert!(w.wrapped);
        let u = kind(r#"<foo xmlns="urn:example"/>"#);
        assert!(u.unknown_root);
        assert_eq!(
            kind(r#"<hl7:BusinessResponseMessage xmlns:hl7="urn:hl7-org:v3"/>"#).kind,
            "ack/BusinessResponseMessage"
        );
    }
}
