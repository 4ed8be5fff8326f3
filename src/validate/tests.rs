//! Tests for the v1 structural checks: a minimal valid eDischarge message and
//! one mutation per rule family.

use serde_json::{json, Value};

use super::rules as r;
use super::*;

const MH: &str = "0b1e7c6a-6f4e-4b8a-9d1c-000000000001";
const SND: &str = "0b1e7c6a-6f4e-4b8a-9d1c-000000000002";
const RCV: &str = "0b1e7c6a-6f4e-4b8a-9d1c-000000000003";
const DOC: &str = "0b1e7c6a-6f4e-4b8a-9d1c-000000000004";
const COMP: &str = "0b1e7c6a-6f4e-4b8a-9d1c-000000000005";
const PAT: &str = "0b1e7c6a-6f4e-4b8a-9d1c-000000000006";
const PRACT: &str = "0b1e7c6a-6f4e-4b8a-9d1c-000000000007";
const ORG: &str = "0b1e7c6a-6f4e-4b8a-9d1c-000000000008";
const ENC: &str = "0b1e7c6a-6f4e-4b8a-9d1c-000000000009";

// Distinctive instance values that must never appear in a message.
const PATIENT_FAMILY: &str = "Zzyzxfamily";
const NHS_NUMBER: &str = "9449305552";
const BIRTH_DATE: &str = "1931-07-14";

const SD: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/";
const CC: &str = "https://fhir.hl7.org.uk/STU3/StructureDefinition/";

// Locations in the fixture.
const HANDLING: &str = "Bundle.entry[0].resource.extension[0]";
const COMP_LOC: &str = "Bundle.entry[3].resource.entry[0].resource";

fn urn(id: &str) -> String {
    format!("urn:uuid:{id}")
}

fn section(code: &str, title: &str, entries: &[&str]) -> Value {
    let mut s = json!({
        "title": title,
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": title}]},
        "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Narrative</p></div>"}
    });
    if !entries.is_empty() {
        s["entry"] = Value::Array(
            entries
                .iter()
                .map(|e| json!({"reference": urn(e)}))
                .collect(),
        );
    }
    s
}

fn valid_message() -> Value {
    json!({
        "resourceType": "Bundle",
        "id": "0b1e7c6a-6f4e-4b8a-9d1c-0000000000aa",
        "meta": {"profile": [format!("{SD}ITK-Message-Bundle-1")]},
        "identifier": {"system": "https://tools.ietf.org/html/rfc4122", "value": "0b1e7c6a-6f4e-4b8a-9d1c-0000000000bb"},
        "type": "message",
        "entry": [
            {
                "fullUrl": urn(MH),
                "resource": {
                    "resourceType": "MessageHeader",
                    "id": MH,
                    "meta": {"profile": [format!("{SD}ITK-MessageHeader-2")]},
                    "extension": [{
                        "url": format!("{SD}Extension-ITK-MessageHandling-2"),
                        "extension": [
                            {"url": "BusAckRequested", "valueBoolean": true},
                            {"url": "InfAckRequested", "valueBoolean": true},
                            {"url": "RecipientType", "valueCoding": {
                                "system": "https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1",
                                "code": "FA", "display": "For Action"}},
                            {"url": "MessageDefinition", "valueReference": {
                                "reference": "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-eDischarge-MessageDefinition-4"}},
                            {"url": "SenderReference", "valueString": "None"},
                            {"url": "LocalExtension", "valueString": "None"}
                        ]
                    }],
                    "event": {"system": "https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2", "code": "ITK003D", "display": "ITK eDischarge"},
                    "receiver": {"reference": urn(RCV)},
                    "sender": {"reference": urn(SND)},
                    "timestamp": "2024-01-23T10:10:16+00:00",
                    "source": {"endpoint": "NOROT003"},
                    "focus": [{"reference": urn(DOC)}]
                }
            },
            {
                "fullUrl": urn(SND),
                "resource": {
                    "resourceType": "Organization", "id": SND,
                    "meta": {"profile": [format!("{SD}CareConnect-ITK-Header-Organization-1")]},
                    "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RA1"}]
                }
            },
            {
                "fullUrl": urn(RCV),
                "resource": {
                    "resourceType": "Organization", "id": RCV,
                    "meta": {"profile": [format!("{SD}CareConnect-ITK-Header-Organization-1")]},
                    "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "P86624"}]
                }
            },
            {
                "fullUrl": urn(DOC),
                "resource": {
                    "resourceType": "Bundle", "id": DOC,
                    "meta": {"profile": [format!("{SD}ITK-Document-Bundle-1")]},
                    "identifier": {"system": "https://tools.ietf.org/html/rfc4122", "value": "0b1e7c6a-6f4e-4b8a-9d1c-0000000000cc"},
                    "type": "document",
                    "entry": [
                        {
                            "fullUrl": urn(COMP),
                            "resource": {
                                "resourceType": "Composition", "id": COMP,
                                "meta": {"profile": [format!("{SD}CareConnect-ITK-EDIS-Composition-1")]},
                                "extension": [{
                                    "url": format!("{CC}Extension-CareConnect-CareSettingType-1"),
                                    "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "893061000000109", "display": "Cardiology service"}]}
                                }],
                                "identifier": {"system": "https://tools.ietf.org/html/rfc4122", "value": "0b1e7c6a-6f4e-4b8a-9d1c-0000000000dd"},
                                "status": "final",
                                "type": {"coding": [{"system": "http://snomed.info/sct", "code": "373942005", "display": "Discharge summary"}]},
                                "subject": {"reference": urn(PAT)},
                                "encounter": {"reference": urn(ENC)},
                                "date": "2024-01-23T10:00:00+00:00",
                                "author": [{"reference": urn(PRACT)}],
                                "title": "Cardiology service Discharge summary",
                                "custodian": {"reference": urn(ORG)},
                                "section": [
                                    section("886731000000109", "Patient demographics", &[PAT]),
                                    section("886921000000105", "Allergies and adverse reactions", &[])
                                ]
                            }
                        },
                        {
                            "fullUrl": urn(PAT),
                            "resource": {
                                "resourceType": "Patient", "id": PAT,
                                "meta": {"profile": [format!("{CC}CareConnect-Patient-1")]},
                                "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS_NUMBER}],
                                "name": [{"use": "official", "family": PATIENT_FAMILY}],
                                "birthDate": BIRTH_DATE,
                                "generalPractitioner": [{"reference": urn(ORG)}]
                            }
                        },
                        {
                            "fullUrl": urn(PRACT),
                            "resource": {
                                "resourceType": "Practitioner", "id": PRACT,
                                "meta": {"profile": [format!("{CC}CareConnect-Practitioner-1")]},
                                "name": [{"family": "Clinician"}]
                            }
                        },
                        {
                            "fullUrl": urn(ORG),
                            "resource": {
                                "resourceType": "Organization", "id": ORG,
                                "meta": {"profile": [format!("{CC}CareConnect-Organization-1")]},
                                "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "RA1"}],
                                "name": "A hospital"
                            }
                        },
                        {
                            "fullUrl": urn(ENC),
                            "resource": {
                                "resourceType": "Encounter", "id": ENC,
                                "meta": {"profile": [format!("{SD}CareConnect-ITK-Encounter-1")]},
                                "status": "finished",
                                "subject": {"reference": urn(PAT)},
                                "serviceProvider": {"reference": urn(ORG)}
                            }
                        }
                    ]
                }
            }
        ]
    })
}

fn comp(m: &mut Value) -> &mut Value {
    &mut m["entry"][3]["resource"]["entry"][0]["resource"]
}

fn blocking(issues: &[Issue]) -> Vec<&Issue> {
    issues.iter().filter(|i| i.severity.is_blocking()).collect()
}

/// Assert an issue with this rule, severity and location exists, and that no
/// message leaks instance values.
#[track_caller]
fn expect(m: &Value, rule: &str, severity: Severity, location: &str) -> Vec<Issue> {
    let issues = validate_message(m);
    assert!(
        issues
            .iter()
            .any(|i| i.rule == rule && i.severity == severity && i.location == location),
        "expected {} [{rule}] at {location}, got:\n{}",
        severity.as_str(),
        issues
            .iter()
            .map(|i| format!("  {i}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_no_patient_data(&issues);
    issues
}

fn assert_no_patient_data(issues: &[Issue]) {
    for i in issues {
        for v in [PATIENT_FAMILY, NHS_NUMBER, BIRTH_DATE, PAT, "RA1", "P86624"] {
            assert!(!i.message.contains(v), "message leaks instance value: {i}");
        }
    }
}

#[test]
fn valid_message_has_no_errors() {
    let issues = validate_message(&valid_message());
    assert!(blocking(&issues).is_empty(), "{issues:#?}");
    // Only the IG-Mandatory EDIS sections the fixture leaves out are warned.
    let mut warned: Vec<&str> = issues
        .iter()
        .map(|i| {
            assert_eq!(i.rule, r::IG_MANDATORY_SECTION);
            assert_eq!(i.severity, Severity::Warning);
            assert_eq!(i.location, COMP_LOC.to_string());
            i.message.as_str()
        })
        .collect();
    warned.sort();
    assert_eq!(warned.len(), 4, "{warned:#?}"); // clinical summary, diagnoses, GP practice, person completing record
}

#[test]
fn severity_strings_and_rule_table() {
    assert_eq!(Severity::Fatal.as_str(), "fatal");
    assert_eq!(Severity::Error.as_str(), "error");
    assert_eq!(Severity::Warning.as_str(), "warning");
    assert_eq!(Severity::Information.as_str(), "information");
    let doc = include_str!("mod.rs");
    for (i, rule) in r::ALL.iter().enumerate() {
        assert!(!r::ALL[i + 1..].contains(rule), "duplicate rule {rule}");
        assert!(
            doc.contains(&format!("//! | `{rule}` |")),
            "rule {rule} missing from the module doc table"
        );
    }
}

#[test]
fn not_a_bundle_is_fatal() {
    let issues = validate_message(&json!([1, 2]));
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].severity, Severity::Fatal);
    let issues = validate_message(&json!({"resourceType": "Patient"}));
    assert_eq!(
        (
            issues[0].rule,
            issues[0].severity,
            issues[0].location.as_str()
        ),
        (r::MESSAGE_BUNDLE, Severity::Fatal, "Bundle")
    );
}

#[test]
fn outer_bundle_shape() {
    let mut m = valid_message();
    m["type"] = json!("collection");
    expect(&m, r::MESSAGE_BUNDLE, Severity::Error, "Bundle.type");

    let mut m = valid_message();
    m["meta"]["profile"] = json!([]);
    expect(&m, r::MESSAGE_BUNDLE, Severity::Error, "Bundle.meta");

    // A wrong profile is reported where it is declared.
    let mut m = valid_message();
    m["meta"]["profile"] = json!(["http://hl7.org/fhir/StructureDefinition/Bundle"]);
    expect(
        &m,
        r::MESSAGE_BUNDLE,
        Severity::Error,
        "Bundle.meta.profile[0]",
    );

    // No meta at all: at the Bundle.
    let mut m = valid_message();
    m.as_object_mut().unwrap().remove("meta");
    expect(&m, r::MESSAGE_BUNDLE, Severity::Error, "Bundle");

    let mut m = valid_message();
    m["identifier"].as_object_mut().unwrap().remove("value");
    expect(&m, r::MESSAGE_BUNDLE, Severity::Error, "Bundle.identifier");

    let mut m = valid_message();
    m["total"] = json!(4);
    m["entry"][1]["request"] = json!({"method": "POST", "url": "Organization"});
    expect(&m, r::BUNDLE_PROHIBITED, Severity::Error, "Bundle.total");
    expect(
        &m,
        r::BUNDLE_PROHIBITED,
        Severity::Error,
        "Bundle.entry[1].request",
    );
}

#[test]
fn message_header_must_be_first_and_unique() {
    let mut m = valid_message();
    m["entry"].as_array_mut().unwrap().swap(0, 1);
    expect(&m, r::ITK_ENTRY_ORDER, Severity::Error, "Bundle.entry[0]");

    let mut m = valid_message();
    let mut second = m["entry"][0].clone();
    second["fullUrl"] = json!(urn("0b1e7c6a-6f4e-4b8a-9d1c-0000000000ee"));
    second["resource"]["id"] = json!("0b1e7c6a-6f4e-4b8a-9d1c-0000000000ee");
    m["entry"].as_array_mut().unwrap().push(second);
    expect(
        &m,
        r::ITK_ENTRY_ORDER,
        Severity::Error,
        "Bundle.entry[4].resource",
    );

    let mut m = valid_message();
    m["entry"][0]["resource"]["meta"]["profile"] = json!([format!("{SD}ITK-MessageHeader-1")]);
    expect(
        &m,
        r::HEADER_PROFILE,
        Severity::Error,
        "Bundle.entry[0].resource.meta.profile[0]",
    );
}

#[test]
fn handling_keys() {
    // Missing key.
    let mut m = valid_message();
    m["entry"][0]["resource"]["extension"][0]["extension"]
        .as_array_mut()
        .unwrap()
        .remove(1);
    let issues = expect(&m, r::HANDLING_KEYS, Severity::Error, HANDLING);
    assert!(issues.iter().any(|i| i.message.contains("InfAckRequested")));

    // Wrong value type.
    let mut m = valid_message();
    m["entry"][0]["resource"]["extension"][0]["extension"][0] =
        json!({"url": "BusAckRequested", "valueString": "true"});
    expect(
        &m,
        r::HANDLING_KEYS,
        Severity::Error,
        &format!("{HANDLING}.extension[0]"),
    );

    // Duplicate key.
    let mut m = valid_message();
    m["entry"][0]["resource"]["extension"][0]["extension"]
        .as_array_mut()
        .unwrap()
        .push(json!({"url": "SenderReference", "valueString": "ref"}));
    expect(
        &m,
        r::HANDLING_KEYS,
        Severity::Error,
        &format!("{HANDLING}.extension[6]"),
    );

    // RecipientType display must match the code.
    let mut m = valid_message();
    m["entry"][0]["resource"]["extension"][0]["extension"][2]["valueCoding"]["code"] = json!("FI");
    expect(
        &m,
        r::HANDLING_KEYS,
        Severity::Error,
        &format!("{HANDLING}.extension[2].valueCoding.display"),
    );

    // SenderReference with no word character.
    let mut m = valid_message();
    m["entry"][0]["resource"]["extension"][0]["extension"][4]["valueString"] = json!("  ");
    expect(
        &m,
        r::HANDLING_KEYS,
        Severity::Error,
        &format!("{HANDLING}.extension[4].valueString"),
    );

    // Extension absent altogether.
    let mut m = valid_message();
    m["entry"][0]["resource"]
        .as_object_mut()
        .unwrap()
        .remove("extension");
    expect(
        &m,
        r::HANDLING_KEYS,
        Severity::Error,
        "Bundle.entry[0].resource",
    );

    // LocalExtension accepts any value[x].
    let mut m = valid_message();
    m["entry"][0]["resource"]["extension"][0]["extension"][5] =
        json!({"url": "LocalExtension", "valueCode": "x"});
    assert!(blocking(&validate_message(&m)).is_empty());
}

#[test]
fn event_coding() {
    let mut m = valid_message();
    m["entry"][0]["resource"]["event"]["display"] = json!("eDischarge");
    m["entry"][0]["resource"]["event"]["version"] = json!("2");
    expect(
        &m,
        r::EVENT_CODING,
        Severity::Error,
        "Bundle.entry[0].resource.event.display",
    );
    expect(
        &m,
        r::EVENT_CODING,
        Severity::Error,
        "Bundle.entry[0].resource.event.version",
    );

    let mut m = valid_message();
    m["entry"][0]["resource"]["event"]["code"] = json!("ITK007C");
    expect(
        &m,
        r::EVENT_CODING,
        Severity::Error,
        "Bundle.entry[0].resource.event.code",
    );
}

#[test]
fn event_definition_and_composition_agree() {
    // Event says outpatient letter, definition and Composition say eDischarge.
    let mut m = valid_message();
    m["entry"][0]["resource"]["event"]["code"] = json!("ITK006D");
    m["entry"][0]["resource"]["event"]["display"] = json!("ITK Outpatient Letter");
    expect(
        &m,
        r::EVENT_DEFINITION,
        Severity::Error,
        &format!("{HANDLING}.extension[3].valueReference.reference"),
    );
    expect(
        &m,
        r::EVENT_DEFINITION,
        Severity::Error,
        &format!("{COMP_LOC}.meta.profile[0]"),
    );

    // Only the definition is wrong.
    let mut m = valid_message();
    m["entry"][0]["resource"]["extension"][0]["extension"][3]["valueReference"]["reference"] =
        json!("https://fhir.nhs.uk/STU3/MessageDefinition/ITK-EC-eDischarge-MessageDefinition-4");
    let issues = expect(
        &m,
        r::EVENT_DEFINITION,
        Severity::Error,
        &format!("{HANDLING}.extension[3].valueReference.reference"),
    );
    assert_eq!(blocking(&issues).len(), 1, "{issues:#?}");
}

#[test]
fn header_parties_fields_and_focus() {
    // Sender resolves to something that is not a header Organization.
    let mut m = valid_message();
    m["entry"][0]["resource"]["sender"]["reference"] = json!(urn(DOC));
    expect(
        &m,
        r::HEADER_PARTY,
        Severity::Error,
        "Bundle.entry[0].resource.sender.reference",
    );

    let mut m = valid_message();
    m["entry"][1]["resource"]["meta"]["profile"] =
        json!([format!("{CC}CareConnect-Organization-1")]);
    expect(
        &m,
        r::HEADER_PARTY,
        Severity::Error,
        "Bundle.entry[0].resource.sender.reference",
    );

    let mut m = valid_message();
    m["entry"][0]["resource"]
        .as_object_mut()
        .unwrap()
        .remove("sender");
    expect(
        &m,
        r::HEADER_PARTY,
        Severity::Error,
        "Bundle.entry[0].resource",
    );

    let mut m = valid_message();
    m["entry"][0]["resource"]
        .as_object_mut()
        .unwrap()
        .remove("receiver");
    let issues = expect(
        &m,
        r::HEADER_PARTY,
        Severity::Warning,
        "Bundle.entry[0].resource.receiver",
    );
    assert!(blocking(&issues).is_empty());

    let mut m = valid_message();
    m["entry"][0]["resource"]["timestamp"] = json!("2024-01-23");
    m["entry"][0]["resource"]["destination"] = json!([{"endpoint": "X"}]);
    m["entry"][0]["resource"]["source"] = json!({});
    expect(
        &m,
        r::HEADER_FIELDS,
        Severity::Error,
        "Bundle.entry[0].resource.timestamp",
    );
    expect(
        &m,
        r::HEADER_FIELDS,
        Severity::Error,
        "Bundle.entry[0].resource.destination[0]",
    );
    expect(
        &m,
        r::HEADER_FIELDS,
        Severity::Error,
        "Bundle.entry[0].resource.source",
    );

    let mut m = valid_message();
    m["entry"][0]["resource"]["focus"] = json!([{"reference": urn(RCV)}]);
    expect(
        &m,
        r::HEADER_FOCUS,
        Severity::Error,
        "Bundle.entry[0].resource.focus[0].reference",
    );

    let mut m = valid_message();
    m["entry"][0]["resource"]["focus"] = json!([{"reference": urn(DOC)}, {"reference": urn(DOC)}]);
    expect(
        &m,
        r::HEADER_FOCUS,
        Severity::Error,
        "Bundle.entry[0].resource.focus[1]",
    );
}

#[test]
fn header_resources_carry_only_identifiers() {
    let mut m = valid_message();
    m["entry"][2]["resource"]["name"] = json!("Surgery");
    expect(
        &m,
        r::HEADER_RESOURCE,
        Severity::Error,
        "Bundle.entry[2].resource.name",
    );
}

#[test]
fn document_bundle_shape() {
    let mut m = valid_message();
    m["entry"][3]["resource"]["identifier"]
        .as_object_mut()
        .unwrap()
        .remove("system");
    m["entry"][3]["resource"]["type"] = json!("collection");
    expect(
        &m,
        r::DOCUMENT_BUNDLE,
        Severity::Error,
        "Bundle.entry[3].resource.identifier",
    );
    expect(
        &m,
        r::DOCUMENT_BUNDLE,
        Severity::Error,
        "Bundle.entry[3].resource.type",
    );

    let mut m = valid_message();
    m["entry"][3]["resource"]["entry"]
        .as_array_mut()
        .unwrap()
        .swap(0, 1);
    expect(
        &m,
        r::DOCUMENT_ENTRY_ORDER,
        Severity::Error,
        "Bundle.entry[3].resource.entry[0]",
    );

    let mut m = valid_message();
    m["entry"].as_array_mut().unwrap().remove(3);
    expect(&m, r::DOCUMENT_BUNDLE, Severity::Error, "Bundle.entry");
}

#[test]
fn full_urls() {
    // fullUrl ≠ id.
    let mut m = valid_message();
    m["entry"][3]["resource"]["entry"][2]["fullUrl"] =
        json!(urn("0b1e7c6a-6f4e-4b8a-9d1c-0000000000ff"));
    expect(
        &m,
        r::FULLURL_ID,
        Severity::Error,
        "Bundle.entry[3].resource.entry[2].fullUrl",
    );

    // Upper-case UUID.
    let mut m = valid_message();
    let upper = SND.to_uppercase();
    m["entry"][1]["fullUrl"] = json!(urn(&upper));
    m["entry"][1]["resource"]["id"] = json!(upper);
    expect(
        &m,
        r::FULLURL_ID,
        Severity::Error,
        "Bundle.entry[1].resource.id",
    );

    // Duplicate fullUrl (bdl-7).
    let mut m = valid_message();
    let dup = m["entry"][3]["resource"]["entry"][2].clone();
    m["entry"][3]["resource"]["entry"]
        .as_array_mut()
        .unwrap()
        .push(dup);
    expect(
        &m,
        r::FULLURL_UNIQUE,
        Severity::Error,
        "Bundle.entry[3].resource.entry[5].fullUrl",
    );
}

#[test]
fn references_resolve_in_their_own_bundle() {
    // Dangling reference in the document.
    let mut m = valid_message();
    comp(&mut m)["subject"]["reference"] = json!(urn("0b1e7c6a-6f4e-4b8a-9d1c-0000000000ff"));
    expect(
        &m,
        r::REF_RESOLVE,
        Severity::Error,
        &format!("{COMP_LOC}.subject.reference"),
    );

    // Document resource referencing an outer-bundle entry does not resolve.
    let mut m = valid_message();
    comp(&mut m)["custodian"]["reference"] = json!(urn(SND));
    expect(
        &m,
        r::REF_RESOLVE,
        Severity::Error,
        &format!("{COMP_LOC}.custodian.reference"),
    );

    // Nested reference (section entry).
    let mut m = valid_message();
    comp(&mut m)["section"][0]["entry"][0]["reference"] = json!("Patient/1");
    expect(
        &m,
        r::REF_RESOLVE,
        Severity::Error,
        &format!("{COMP_LOC}.section[0].entry[0].reference"),
    );

    // MessageHeader reference resolves in the outer bundle only.
    let mut m = valid_message();
    m["entry"][0]["resource"]["receiver"]["reference"] = json!(urn(ORG));
    expect(
        &m,
        r::REF_RESOLVE,
        Severity::Error,
        "Bundle.entry[0].resource.receiver.reference",
    );

    // Self reference.
    let mut m = valid_message();
    m["entry"][3]["resource"]["entry"][1]["resource"]["link"] =
        json!([{"other": {"reference": urn(PAT)}, "type": "seealso"}]);
    expect(
        &m,
        r::SELF_REFERENCE,
        Severity::Error,
        "Bundle.entry[3].resource.entry[1].resource.link[0].other.reference",
    );
}

#[test]
fn composition_header() {
    let mut m = valid_message();
    comp(&mut m).as_object_mut().unwrap().remove("extension");
    expect(&m, r::CARE_SETTING, Severity::Error, COMP_LOC);

    let mut m = valid_message();
    comp(&mut m)["extension"][0]["valueCodeableConcept"]["coding"][0]["system"] =
        json!("http://read.info/ctv3");
    expect(
        &m,
        r::CARE_SETTING,
        Severity::Error,
        &format!("{COMP_LOC}.extension[0].valueCodeableConcept.coding[0].system"),
    );

    let mut m = valid_message();
    let c = comp(&mut m);
    c.as_object_mut().unwrap().remove("title");
    c["confidentiality"] = json!("N");
    c["type"]["coding"][0]
        .as_object_mut()
        .unwrap()
        .remove("display");
    expect(&m, r::COMPOSITION_FIELDS, Severity::Error, COMP_LOC);
    expect(
        &m,
        r::COMPOSITION_FIELDS,
        Severity::Error,
        &format!("{COMP_LOC}.confidentiality"),
    );
    expect(
        &m,
        r::COMPOSITION_FIELDS,
        Severity::Error,
        &format!("{COMP_LOC}.type.coding[0]"),
    );

    let mut m = valid_message();
    comp(&mut m)["author"] = json!([{"reference": urn(PRACT)}, {"reference": urn(ORG)}]);
    comp(&mut m)["subject"]["reference"] = json!(urn(ENC));
    expect(
        &m,
        r::COMPOSITION_TARGETS,
        Severity::Error,
        &format!("{COMP_LOC}.author[1].reference"),
    );
    expect(
        &m,
        r::COMPOSITION_TARGETS,
        Severity::Error,
        &format!("{COMP_LOC}.subject.reference"),
    );

    let mut m = valid_message();
    comp(&mut m)["relatesTo"] = json!([{"code": "appends", "targetIdentifier": {"value": "x"}}]);
    expect(
        &m,
        r::RELATES_TO,
        Severity::Error,
        &format!("{COMP_LOC}.relatesTo[0].code"),
    );
    let mut m = valid_message();
    comp(&mut m)["relatesTo"] = json!([{"code": "replaces", "targetIdentifier": {"value": "x"}}]);
    assert!(blocking(&validate_message(&m)).is_empty());
}

#[test]
fn sections_fixed_values_and_codes() {
    // Wrong title.
    let mut m = valid_message();
    comp(&mut m)["section"][1]["title"] = json!("Allergies");
    expect(
        &m,
        r::SECTION_FIXED,
        Severity::Error,
        &format!("{COMP_LOC}.section[1].title"),
    );

    // Wrong display.
    let mut m = valid_message();
    comp(&mut m)["section"][0]["code"]["coding"][0]["display"] = json!("Demographics");
    expect(
        &m,
        r::SECTION_FIXED,
        Severity::Error,
        &format!("{COMP_LOC}.section[0].code.coding[0].display"),
    );

    // Code not in the EDIS table (an ECD-only section).
    let mut m = valid_message();
    comp(&mut m)["section"]
        .as_array_mut()
        .unwrap()
        .push(section("1077911000000105", "Safeguarding", &[]));
    expect(
        &m,
        r::SECTION_CODE,
        Severity::Error,
        &format!("{COMP_LOC}.section[2].code.coding[0].code"),
    );

    // Duplicate code.
    let mut m = valid_message();
    let dup = comp(&mut m)["section"][1].clone();
    comp(&mut m)["section"].as_array_mut().unwrap().push(dup);
    expect(
        &m,
        r::SECTION_DUPLICATE,
        Severity::Error,
        &format!("{COMP_LOC}.section[2].code.coding[0].code"),
    );

    // Two codings, non-SNOMED system.
    let mut m = valid_message();
    let coding = comp(&mut m)["section"][1]["code"]["coding"][0].clone();
    comp(&mut m)["section"][1]["code"]["coding"] = json!([coding, coding]);
    comp(&mut m)["section"][1]["code"]["coding"][0]["system"] = json!("http://loinc.org");
    expect(
        &m,
        r::SECTION_CODE,
        Severity::Error,
        &format!("{COMP_LOC}.section[1].code.coding"),
    );
    expect(
        &m,
        r::SECTION_CODE,
        Severity::Error,
        &format!("{COMP_LOC}.section[1].code.coding[0].system"),
    );
}

#[test]
fn sections_text_prohibited_and_entries() {
    let mut m = valid_message();
    comp(&mut m)["section"][1]["text"]["div"] = json!("<div><p>x</p></div>");
    expect(
        &m,
        r::SECTION_TEXT,
        Severity::Error,
        &format!("{COMP_LOC}.section[1].text.div"),
    );

    let mut m = valid_message();
    comp(&mut m)["section"][1]["text"]["div"] =
        json!("<div xmlns=\"http://www.w3.org/1999/xhtml\"> <p></p></div>");
    expect(
        &m,
        r::SECTION_TEXT,
        Severity::Error,
        &format!("{COMP_LOC}.section[1].text.div"),
    );

    let mut m = valid_message();
    comp(&mut m)["section"][1]
        .as_object_mut()
        .unwrap()
        .remove("text");
    expect(
        &m,
        r::SECTION_TEXT,
        Severity::Error,
        &format!("{COMP_LOC}.section[1]"),
    );

    let mut m = valid_message();
    comp(&mut m)["section"][1]["mode"] = json!("snapshot");
    comp(&mut m)["section"][1]["section"] =
        json!([section("887181000000106", "Clinical summary", &[])]);
    expect(
        &m,
        r::SECTION_PROHIBITED,
        Severity::Error,
        &format!("{COMP_LOC}.section[1].mode"),
    );
    expect(
        &m,
        r::SECTION_PROHIBITED,
        Severity::Error,
        &format!("{COMP_LOC}.section[1].section[0]"),
    );

    // Patient demographics needs an entry.
    let mut m = valid_message();
    comp(&mut m)["section"][0]
        .as_object_mut()
        .unwrap()
        .remove("entry");
    expect(
        &m,
        r::SECTION_ENTRY,
        Severity::Error,
        &format!("{COMP_LOC}.section[0]"),
    );
}

#[test]
fn mandatory_sections() {
    // Missing allergies: error.
    let mut m = valid_message();
    comp(&mut m)["section"].as_array_mut().unwrap().remove(1);
    let issues = expect(&m, r::MANDATORY_SECTION, Severity::Error, COMP_LOC);
    assert!(issues
        .iter()
        .any(|i| i.rule == r::MANDATORY_SECTION && i.message.contains("886921000000105")));

    // Adding an IG-Mandatory section removes its warning.
    let mut m = valid_message();
    comp(&mut m)["section"]
        .as_array_mut()
        .unwrap()
        .push(section("887181000000106", "Clinical summary", &[]));
    let issues = validate_message(&m);
    assert!(blocking(&issues).is_empty(), "{issues:#?}");
    assert_eq!(
        issues
            .iter()
            .filter(|i| i.rule == r::IG_MANDATORY_SECTION)
            .count(),
        3
    );
    assert!(!issues.iter().any(|i| i.message.contains("887181000000106")));

    // No sections at all.
    let mut m = valid_message();
    comp(&mut m)["section"] = json!([]);
    expect(&m, r::MANDATORY_SECTION, Severity::Error, COMP_LOC);
}

#[test]
fn document_resources_declare_profiles() {
    let mut m = valid_message();
    m["entry"][3]["resource"]["entry"][1]["resource"]
        .as_object_mut()
        .unwrap()
        .remove("meta");
    let issues = expect(
        &m,
        r::META_PROFILE,
        Severity::Warning,
        "Bundle.entry[3].resource.entry[1].resource.meta.profile",
    );
    assert!(blocking(&issues).is_empty());
}

#[test]
fn other_document_types_use_their_own_tables() {
    // An outpatient letter with the OPL-specific title for review of systems.
    let mut m = valid_message();
    m["entry"][0]["resource"]["event"] = json!({"system": "https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2", "code": "ITK006D", "display": "ITK Outpatient Letter"});
    m["entry"][0]["resource"]["extension"][0]["extension"][3]["valueReference"]["reference"] =
        json!("https://fhir.nhs.uk/STU3/MessageDefinition/ITK-OPL-MessageDefinition-4");
    comp(&mut m)["meta"]["profile"] = json!([format!("{SD}CareConnect-ITK-OPL-Composition-1")]);
    let mut ros = section("887121000000105", "Clinical review of systems", &[]);
    ros["code"]["coding"][0]["display"] = json!("Review of systems");
    comp(&mut m)["section"].as_array_mut().unwrap().push(ros);
    let issues = validate_message(&m);
    assert!(blocking(&issues).is_empty(), "{issues:#?}");
}

#[test]
fn response_messages_carry_no_document() {
    let mut m = valid_message();
    m["entry"].as_array_mut().unwrap().remove(3);
    let mh = &mut m["entry"][0]["resource"];
    mh.as_object_mut().unwrap().remove("focus");
    mh["event"]["code"] = json!("ITK008M");
    mh["event"]["display"] = json!("ITK Response");
    mh["extension"][0]["extension"][0]["valueBoolean"] = json!(false);
    let issues = expect(
        &m,
        r::EVENT_DEFINITION,
        Severity::Error,
        &format!("{HANDLING}.extension[3].valueReference.reference"),
    );
    let not_response =
        |v: &[Issue]| -> usize { blocking(v).iter().filter(|i| i.rule != r::RESPONSE).count() };
    assert_eq!(not_response(&issues), 1, "{issues:#?}");
    m["entry"][0]["resource"]["extension"][0]["extension"][3]["valueReference"]["reference"] =
        json!("https://fhir.nhs.uk/STU3/MessageDefinition/ITK-Response-MessageDefinition-1");
    // Without MessageHeader.response the response rule fires, at the header.
    let issues = expect(&m, r::RESPONSE, Severity::Error, "Bundle.entry[0].resource");
    assert_eq!(not_response(&issues), 0, "{issues:#?}");
    assert_eq!(
        issues
            .iter()
            .find(|i| i.rule == r::RESPONSE)
            .and_then(|i| i.itk_response()),
        Some("20006")
    );
}

#[test]
fn one_defect_gives_one_error() {
    // Mutations above should not cascade into unrelated errors.
    let mut m = valid_message();
    m["entry"][3]["resource"]["entry"][2]["fullUrl"] =
        json!(urn("0b1e7c6a-6f4e-4b8a-9d1c-0000000000ff"));
    let issues = validate_message(&m);
    // fullUrl ≠ id, and the author reference no longer resolves.
    let rules: Vec<&str> = blocking(&issues).iter().map(|i| i.rule).collect();
    assert_eq!(rules, vec![r::FULLURL_ID, r::REF_RESOLVE], "{issues:#?}");

    let mut m = valid_message();
    comp(&mut m)["section"][1]["title"] = json!("Allergies");
    assert_eq!(blocking(&validate_message(&m)).len(), 1);
}

#[test]
fn patient_must_be_identified() {
    let mut m = valid_message();
    // entry[3] is the document Bundle; its entry[1] is the Patient.
    let pat = &mut m["entry"][3]["resource"]["entry"][1]["resource"];
    assert_eq!(pat["resourceType"], "Patient");
    pat.as_object_mut().unwrap().remove("identifier");
    expect(
        &m,
        crate::validate::rules::PATIENT_IDENTIFIER,
        Severity::Error,
        "Bundle.entry[3].resource.entry[1].resource",
    );
}

#[test]
fn every_rule_id_is_documented() {
    let doc = include_str!("mod.rs");
    for id in rules::ALL.iter().chain(core_rules::ALL) {
        assert!(
            doc.contains(&format!("`{id}`")),
            "rule {id} missing from the module table"
        );
    }
    for k in INVARIANT_KEYS {
        assert!(k.len() >= 5 && k.contains('-'), "{k}");
    }
    assert!(doc.contains("`bdl-1` … `txt-2`"));
}

/// A Binary attachment appended to the document Bundle; returns its
/// resource location.
fn with_attachment(m: &mut Value, content_type: &str) -> String {
    const BIN: &str = "0b1e7c6a-6f4e-4b8a-9d1c-0000000000cc";
    let entries = m["entry"][3]["resource"]["entry"].as_array_mut().unwrap();
    entries.push(json!({
        "fullUrl": urn(BIN),
        "resource": {
            "resourceType": "Binary", "id": BIN,
            "meta": {"profile": [format!("{SD}ITK-Attachment-Binary-1")]},
            "contentType": content_type,
            "content": "JVBERi0xLjQK"
        }
    }));
    format!(
        "Bundle.entry[3].resource.entry[{}].resource",
        entries.len() - 1
    )
}

#[test]
fn attachment_mime_types() {
    // PDF, with or without parameters and in any case: no finding.
    for ct in ["application/pdf", "Application/PDF; name=letter.pdf"] {
        let mut m = valid_message();
        with_attachment(&mut m, ct);
        let issues = validate_message(&m);
        assert!(
            !issues.iter().any(|i| i.rule == r::ATTACHMENT_TYPE),
            "{ct}: {issues:#?}"
        );
    }
    // In the IG's list but not PDF: a warning.
    for ct in [
        "image/png",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "text/plain; charset=utf-8",
    ] {
        let mut m = valid_message();
        let loc = with_attachment(&mut m, ct);
        let issues = expect(
            &m,
            r::ATTACHMENT_TYPE,
            Severity::Warning,
            &format!("{loc}.contentType"),
        );
        assert!(blocking(&issues).is_empty(), "{ct}: {issues:#?}");
    }
    // Outside the list: an error the receiver answers with 20005, and the
    // message does not quote the value.
    let mut m = valid_message();
    let loc = with_attachment(&mut m, "application/x-zzyzx-archive");
    let issues = expect(
        &m,
        r::ATTACHMENT_TYPE,
        Severity::Error,
        &format!("{loc}.contentType"),
    );
    let i = issues
        .iter()
        .find(|i| i.rule == r::ATTACHMENT_TYPE)
        .unwrap();
    assert_eq!(i.itk_response(), Some("20005"));
    assert_eq!(i.code, "security");
    assert!(!i.message.contains("zzyzx"), "{i}");
}

#[test]
fn gp_practice_organization_carries_an_ods_code() {
    // entry[3] of the document Bundle is the Organization.
    const ORG_LOC: &str = "Bundle.entry[3].resource.entry[3].resource";
    let with_gp = |ids: Value| {
        let mut m = valid_message();
        comp(&mut m)["section"]
            .as_array_mut()
            .unwrap()
            .push(section("886711000000101", "GP practice", &[ORG]));
        m["entry"][3]["resource"]["entry"][3]["resource"]["identifier"] = ids;
        m
    };
    let gp_issues = |m: &Value| -> Vec<Issue> {
        validate_message(m)
            .into_iter()
            .filter(|i| i.rule == r::GP_PRACTICE_ODS)
            .collect()
    };
    let ods = "https://fhir.nhs.uk/Id/ods-organization-code";
    // An ODS organisation code, or the unknown-practice code V81999: fine.
    for v in ["RA1", "V81999"] {
        let m = with_gp(json!([{"system": ods, "value": v}]));
        assert!(gp_issues(&m).is_empty(), "{v}");
    }
    // Only a site code: warned once at the Organization, nothing blocking.
    let m = with_gp(json!([{"system": "https://fhir.nhs.uk/Id/ods-site-code", "value": "RA101"}]));
    let issues = expect(&m, r::GP_PRACTICE_ODS, Severity::Warning, ORG_LOC);
    assert!(blocking(&issues).is_empty(), "{issues:#?}");
    assert_eq!(gp_issues(&m).len(), 1);
    // Another section referencing the same Organization is not the GP
    // practice section.
    let mut m = valid_message();
    m["entry"][3]["resource"]["entry"][3]["resource"]
        .as_object_mut()
        .unwrap()
        .remove("identifier");
    comp(&mut m)["section"]
        .as_array_mut()
        .unwrap()
        .push(section("1052891000000108", "Referrer details", &[ORG]));
    assert!(gp_issues(&m).is_empty());
}

#[test]
fn message_over_five_megabytes_is_warned() {
    // A PDF attachment whose base64 content takes the message just past
    // 5,000,000 bytes of compact JSON; 100 bytes less stays under.
    let size = |m: &Value| serde_json::to_vec(m).unwrap().len();
    let mut m = valid_message();
    with_attachment(&mut m, "application/pdf");
    let base = size(&m);
    let content = &mut m["entry"][3]["resource"]["entry"][5]["resource"]["content"];
    let pad = itk::MAX_MESSAGE_BYTES + 1 - base + content.as_str().unwrap().len();
    *content = json!("A".repeat(pad));
    assert_eq!(size(&m), itk::MAX_MESSAGE_BYTES + 1);
    let issues = expect(&m, r::MESSAGE_SIZE, Severity::Warning, "Bundle");
    assert!(blocking(&issues).is_empty(), "{issues:#?}");
    assert_eq!(
        issues
            .iter()
            .find(|i| i.rule == r::MESSAGE_SIZE)
            .unwrap()
            .itk_response(),
        None
    );

    // What convert runs, given the pretty-printed length as the bound, finds
    // the same issues (the bound only spares measuring a small message).
    let pretty = |m: &Value| serde_json::to_vec_pretty(m).unwrap().len();
    let keys = |v: Vec<crate::validate::Issue>| {
        v.into_iter()
            .map(|i| (i.rule, i.location, i.message))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        keys(crate::validate::validate_for_convert_sized(&m, pretty(&m))),
        keys(crate::validate::validate_for_convert(&m))
    );

    m["entry"][3]["resource"]["entry"][5]["resource"]["content"] = json!("A".repeat(pad - 100));
    assert!(!validate_message(&m)
        .iter()
        .any(|i| i.rule == r::MESSAGE_SIZE));
    assert_eq!(
        keys(crate::validate::validate_for_convert_sized(&m, pretty(&m))),
        keys(crate::validate::validate_for_convert(&m))
    );
}
