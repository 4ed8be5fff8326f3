//! Recognising what a parsed input is (legacy-inputs.md §3): the decision
//! table of recognisers R1–R7, applied in order, with the rule that fired
//! recorded. Recognition looks only at a few header elements, never at
//! clinical content.

use crate::xml::{Document, NodeId, NS_HL7, NS_ITK, NS_NPFITLC, NS_SOAP};

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
            (Some(t), _) => format!("{family}/{t}"),
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
                return k(format!("nhs-cda/{ext}"), "R2");
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
            let c = if code.is_empty() { "unknown" } else { code };
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
            let c = if code.is_empty() { "unknown" } else { code };
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
