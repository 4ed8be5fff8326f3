//! Identifier rules of docs/target-itk3-toc.md §7 and §10.11: systems at the
//! wrong base, unknown systems under the NHS / HL7 UK bases, NHS numbers
//! failing Modulus 11.
//!
//! # Why
//!
//! The profiles slice `identifier` by system with *open* slicing, so a
//! misspelt or wrongly based system is not a profile error: it simply
//! matches no slice and the NHS number (or SDS id) silently goes missing
//! for the receiver. Issue 3 makes these warnings.

use super::scan::Scan;
use serde_json::{Map, Value};

use super::instance::Walker;
use super::loc::Loc;
use super::{rules, Severity};

/// The identifier systems of target-itk3-toc.md §7.
pub const KNOWN: &[&str] = &[
    "https://fhir.nhs.uk/Id/nhs-number",
    "https://fhir.nhs.uk/Id/local-patient-identifier",
    "https://fhir.nhs.uk/Id/ods-organization-code",
    "https://fhir.nhs.uk/Id/ods-site-code",
    "https://fhir.nhs.uk/Id/sds-user-id",
    "https://fhir.nhs.uk/Id/sds-role-profile-id",
    "https://fhir.nhs.uk/Id/local-practitioner-identifier",
    "https://fhir.nhs.uk/Id/local-location-identifier",
    "https://fhir.hl7.org.uk/Id/gmc-number",
    "https://fhir.hl7.org.uk/Id/hcpc-number",
    "https://tools.ietf.org/html/rfc4122",
];

const BASES: &[&str] = &[
    "https://fhir.nhs.uk/Id/",
    "https://fhir.hl7.org.uk/Id/",
    "http://fhir.nhs.uk/Id/",
    "http://fhir.hl7.org.uk/Id/",
    "https://fhir.nhs.net/Id/",
    "http://fhir.nhs.net/Id/",
];

/// Check one Identifier object at `loc`.
pub(crate) fn check(w: &mut Walker<'_>, o: &Map<String, Value>, loc: &Loc<'_>) {
    let Some(system) = o.at_key("system").and_then(Value::as_str) else {
        return;
    };
    if !KNOWN.contains(&system) {
        let tail = system.rsplit('/').next().unwrap_or(system);
        if let Some(right) = KNOWN.iter().find(|k| k.rsplit('/').next() == Some(tail)) {
            w.issue(
                Severity::Warning,
                rules::IDENTIFIER_SYSTEM,
                format!("{loc}.system"),
                format!("identifier system at the wrong base: expected {right}"),
            );
        } else if BASES.iter().any(|b| system.starts_with(b)) {
            w.issue(
                Severity::Warning,
                rules::IDENTIFIER_SYSTEM,
                format!("{loc}.system"),
                "identifier system is not one of the NHS / HL7 UK identifier systems (target-itk3-toc §7)",
            );
        }
        return;
    }
    if system == "https://fhir.nhs.uk/Id/nhs-number" {
        if let Some(v) = o.at_key("value").and_then(Value::as_str) {
            if !crate::convert::nhs::nhs_number_valid(v) {
                w.issue(
                    Severity::Warning,
                    rules::NHS_NUMBER,
                    format!("{loc}.value"),
                    "NHS number is not 10 digits passing the Modulus 11 check",
                );
            }
        }
    }
}
