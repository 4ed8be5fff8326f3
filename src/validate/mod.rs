//! Structural ITK3 / Transfer of Care checks, run on every message Bundle
//! before it is written.
//!
//! # Why
//!
//! No validator that runs on the project's machines knows the NHS profiles
//! (see `shared/docs/validators-crates-style.md` §A.4): off-the-shelf STU3
//! validators check base resources only, and none of them check bundle
//! invariants (`bdl-7`, `bdl-9`), reference resolution inside the bundle, the
//! ITK3 handling specification or the Composition section slicing. Those are
//! exactly the things a receiving system (and the NHS Digital test harness)
//! rejects a message for, so this module encodes them as the converter's own
//! checks (`shared/docs/target-itk3-toc.md` §1, §2, §4, §5, §8, §10).
//!
//! v1 is structural: it checks the shapes the ITK3 message and ToC document
//! must have. A later, profile-driven validator (snapshots in
//! `shared/specs`) will add its own issues to the same [`Issue`] list, using
//! the same [`Severity`] scale and location syntax.
//!
//! # Output
//!
//! [`validate_message`] returns a list of [`Issue`]s. Each issue names a rule
//! id (table below), a location as a FHIRPath with 0-based indexes (e.g.
//! `Bundle.entry[3].resource.entry[0].resource.section[1].title`) and a
//! message. Messages name elements, rules and spec values (codes, URLs,
//! section titles) only — never instance values, so no patient data ends up
//! in logs or ledgers.
//!
//! Severity policy: a broken profile, core FHIR or receiver (harness) rule is
//! an [`Severity::Error`]; a gap against implementation-guide-only guidance is
//! a [`Severity::Warning`]; input that is not a Bundle at all is
//! [`Severity::Fatal`] and stops the checks.
//!
//! # Rules
//!
//! | Rule id | Severity | What is checked |
//! |---|---|---|
//! | `message-bundle` | fatal / error | outer resource is a `Bundle` (fatal otherwise), `type` = `message`, `meta.profile` has ITK-Message-Bundle-1, `identifier.value` present, `entry` non-empty with a `resource` in every entry |
//! | `bundle-prohibited` | error | no `total`, `link`, `signature`, `entry.link`, `entry.request`, `entry.response`, `entry.search` (both bundles) |
//! | `itk-entry-order` | error | `entry[0]` is the MessageHeader; exactly one MessageHeader in the message |
//! | `header-profile` | error | MessageHeader `meta.profile` has ITK-MessageHeader-2 |
//! | `handling-keys` | error | Extension-ITK-MessageHandling-2 exactly once; its six keys exactly once each with the right `value[x]` (BusAckRequested/InfAckRequested `valueBoolean`; RecipientType `valueCoding` with fixed system, code FA/FI and its display; MessageDefinition `valueReference.reference`; SenderReference `valueString` non-empty, ≤255 chars, `^.*\w+.*$`; LocalExtension any `value[x]`) |
//! | `event-coding` | error | `event.system` fixed ITK-MessageEvent-2, `event.code` one of ITK003D/ITK004D/ITK005D/ITK006D/ITK008M, `event.display` = CodeSystem display, no `version`/`userSelected` |
//! | `event-definition` | error | event code ↔ MessageDefinition URL ↔ Composition `meta.profile` agree (§4) |
//! | `header-party` | error / warning | `sender` present and resolving to a header Organization (CareConnect-ITK-Header-Organization-1) or Practitioner (CareConnect-ITK-Header-Practitioner-1); `receiver` likewise if present (warning when absent, §12.8) |
//! | `header-fields` | error | `timestamp` present and an instant; `source.endpoint` present; `source.name/software/version/contact`, `destination`, `enterer`, `author`, `responsible`, `reason` absent |
//! | `header-focus` | error / warning | `focus` at most one and resolving to the outer entry holding the document Bundle (warning when a ToC message has none) |
//! | `header-resource` | error | header Organization has only `id`/`meta`/`identifier`; header Practitioner only `id`/`meta`/`identifier`/`name` |
//! | `document-bundle` | error | exactly one document Bundle entry in a ToC message; its `type` = `document`, `meta.profile` has ITK-Document-Bundle-1, `identifier.system` and `.value` (bdl-9) |
//! | `document-entry-order` | error | document `entry[0]` is the Composition |
//! | `fullurl-id` | error | every entry (both bundles) has a `fullUrl` ending with `resource.id` (the harness pre-check); a `urn:uuid:` fullUrl needs a lower-case UUID id |
//! | `response` | error | ITK Response (ITK008M): BusAckRequested false, `response.identifier`, `response.details` → an ITK-Response-OperationOutcome-1 whose one ITK-ResponseCodes-1 coding agrees with `response.code` (`ok` for 20013/30001/30004, `fatal-error` otherwise) and `issue.severity` (§9) |
//! | `fullurl-uuid` | warning | the fullUrl is not `urn:uuid:` + id (allowed by the profiles, used by every ITK3 example) |
//! | `identifier-system` | warning | an Identifier system is a known NHS / HL7 UK system at the wrong base (`https://fhir.hl7.org.uk/Id/sds-user-id`) or an unknown system under those bases (open slicing: not an error) |
//! | `nhs-number` | warning | an NHS number (system `https://fhir.nhs.uk/Id/nhs-number`) is not 10 digits passing Modulus 11 |
//! | `fullurl-unique` | error | fullUrls unique within each bundle (bdl-7) |
//! | `ref-resolve` | error | every `reference` inside the document Bundle resolves to a fullUrl of the document Bundle; MessageHeader (and other outer) references resolve in the outer Bundle (the MessageDefinition handling key, a canonical URL, is skipped) |
//! | `self-reference` | error | no resource references its own entry's fullUrl |
//! | `care-setting` | error | Composition has Extension-CareConnect-CareSettingType-1 exactly once with one SNOMED coding with code and display |
//! | `composition-fields` | error | Composition `identifier.system`+`.value`, `status`, `type` with one coding with system/code/display, `subject.reference`, `date`, ≥1 `author.reference`, `title`; `confidentiality`, `attester`, `event` absent |
//! | `composition-targets` | error | `subject` resolves to a Patient; every `author` to a Practitioner or Device |
//! | `patient-identifier` | error | that Patient has an identifier with a value (FHIR-DEM-01/02: NHS number or local id) |
//! | `relates-to` | error | `relatesTo` at most once, with `code` = `replaces` |
//! | `section-code` | error | every section has `code` with exactly one coding, system SNOMED CT, code from the Composition profile's section table (closed slicing) |
//! | `section-fixed` | error | section `title` present and equal to the slice's fixed title; coding `display` equal to the fixed display |
//! | `section-duplicate` | error | each section code at most once |
//! | `section-text` | error | section `text` present with `status` and a non-empty `div` starting `<div xmlns="http://www.w3.org/1999/xhtml"` |
//! | `section-prohibited` | error | no `emptyReason`, `mode`, `orderedBy` or nested `section` |
//! | `section-entry` | error | sections whose slice has `entry` 1..* (Admission details, Discharge details, GP practice, Patient demographics) have an entry |
//! | `mandatory-section` | error | at least one section; Allergies and adverse reactions (886921000000105) and Patient demographics (886731000000109) present |
//! | `ig-mandatory-section` | warning | sections the IG heading table calls "Mandatory" for this document type are present |
//! | `meta-profile` | warning | every resource in the document Bundle declares `meta.profile` |
//! | `gp-practice-ods` | warning | every Organization the GP practice section references carries an ODS organisation code identifier (V81999 when the practice is unknown; an IG rule) |
//! | `message-size` | warning | the whole message, as compact JSON, is at most the recommended 5 MB (5,000,000 bytes; receivers may answer 20015) |
//! | `attachment-type` | error / warning | a Binary (attachment) `contentType` is one of the MIME types GP systems accept for ToC attachments (pdf, doc, docx, rtf, html, txt, xml, jpeg/jpg, png, tiff; error otherwise, receiver 20005), and PDF (warning otherwise: the IG's default, the only type the NHS Digital harness approves) |
//!
//! The section tables (code, display, title, cardinalities per ToC document
//! type) are data in [`sections`].
//!
//! # Core STU3 and profiles ([`validate_instance`])
//!
//! Every resource is also checked against the embedded STU3 element table
//! and against each profile it declares (compiled from the official
//! snapshots, see [`profiles`]):
//!
//! | Rule id | Severity | What is checked |
//! |---|---|---|
//! | `resource-type` | fatal (root) / error | `resourceType` present and an STU3 resource |
//! | `unknown-element` | error | every member is an element of its type |
//! | `json-shape` | error | arrays exactly for repeating elements; objects for complex types; `_x` only for primitives, with matching array lengths |
//! | `json-empty` | error | no empty array, object or string; `null` only as a placeholder beside `_x` (ele-1) |
//! | `primitive-format` | error | JSON kind and lexical form of every primitive (id, date, dateTime, instant, uri, code, decimal, integer, positiveInt, …) |
//! | `cardinality` | error | core min/max; required elements reported at the parent |
//! | `xhtml` | error | narrative div: allowed elements and attributes, no script, event attributes or script URLs, non-empty (txt-1, txt-2) |
//! | `binding` | error / warning / information | codes in required (error), extensible (warning) and preferred (information) value sets that can be enumerated offline |
//! | `binding-not-checked` | information | the value set needs a terminology server (SNOMED CT refsets, ECL): not checked, never passed |
//! | `profile-cardinality` | error | profile min/max, including 0..0 |
//! | `profile-type` | error | choice types the profile allows |
//! | `profile-fixed`, `profile-pattern` | error | fixed and pattern values |
//! | `profile-slice` | error | slice cardinality; closed slicing (e.g. `Composition.section` by code) |
//! | `reference-target` | error | a reference resolving in the bundle points at a resource of an allowed type; a target not declaring an allowed profile is checked against it |
//! | `profile-unknown` | information | a declared profile the validator does not hold |
//! | `bdl-1` … `txt-2` | error | the core invariants in [`INVARIANT_KEYS`], by key |

mod core;
pub mod files;
mod formats;
mod identifiers;
mod instance;
mod invariants;
mod itk;
mod loc;
pub mod profiles;
pub(crate) mod scan;
pub mod sections;

use std::fmt;

/// Rule ids (stable; used in ledgers and tests). See the module table.
pub mod rules {
    /// Outer Bundle shape.
    pub const MESSAGE_BUNDLE: &str = "message-bundle";
    /// Elements prohibited in ITK bundles.
    pub const BUNDLE_PROHIBITED: &str = "bundle-prohibited";
    /// MessageHeader first and unique.
    pub const ITK_ENTRY_ORDER: &str = "itk-entry-order";
    /// MessageHeader profile.
    pub const HEADER_PROFILE: &str = "header-profile";
    /// ITK3 handling specification.
    pub const HANDLING_KEYS: &str = "handling-keys";
    /// MessageHeader.event coding.
    pub const EVENT_CODING: &str = "event-coding";
    /// Event ↔ MessageDefinition ↔ Composition profile agreement.
    pub const EVENT_DEFINITION: &str = "event-definition";
    /// Sender / receiver.
    pub const HEADER_PARTY: &str = "header-party";
    /// Other MessageHeader elements.
    pub const HEADER_FIELDS: &str = "header-fields";
    /// MessageHeader.focus.
    pub const HEADER_FOCUS: &str = "header-focus";
    /// Header Organization / Practitioner content.
    pub const HEADER_RESOURCE: &str = "header-resource";
    /// Document Bundle shape.
    pub const DOCUMENT_BUNDLE: &str = "document-bundle";
    /// Composition first in the document.
    pub const DOCUMENT_ENTRY_ORDER: &str = "document-entry-order";
    /// fullUrl = urn:uuid:id.
    pub const FULLURL_ID: &str = "fullurl-id";
    /// ITK Response (ITK008M) rules.
    pub const RESPONSE: &str = "response";
    /// fullUrl not in the urn:uuid form (allowed, warned).
    pub const FULLURL_UUID: &str = "fullurl-uuid";
    /// Identifier system at a wrong base or unknown under an NHS base.
    pub const IDENTIFIER_SYSTEM: &str = "identifier-system";
    /// NHS number failing the Modulus 11 check.
    pub const NHS_NUMBER: &str = "nhs-number";
    /// fullUrl uniqueness (bdl-7).
    pub const FULLURL_UNIQUE: &str = "fullurl-unique";
    /// Reference resolution.
    pub const REF_RESOLVE: &str = "ref-resolve";
    /// No self references.
    pub const SELF_REFERENCE: &str = "self-reference";
    /// Composition care setting extension.
    pub const CARE_SETTING: &str = "care-setting";
    /// Composition header elements.
    pub const COMPOSITION_FIELDS: &str = "composition-fields";
    /// Composition subject / author targets.
    pub const COMPOSITION_TARGETS: &str = "composition-targets";
    /// The Composition's Patient carries an NHS number or a local identifier.
    pub const PATIENT_IDENTIFIER: &str = "patient-identifier";
    /// Composition.relatesTo.
    pub const RELATES_TO: &str = "relates-to";
    /// Section code / closed slicing.
    pub const SECTION_CODE: &str = "section-code";
    /// Section fixed title and display.
    pub const SECTION_FIXED: &str = "section-fixed";
    /// Section code repeated.
    pub const SECTION_DUPLICATE: &str = "section-duplicate";
    /// Section narrative.
    pub const SECTION_TEXT: &str = "section-text";
    /// Section elements that are 0..0.
    pub const SECTION_PROHIBITED: &str = "section-prohibited";
    /// Section needs an entry.
    pub const SECTION_ENTRY: &str = "section-entry";
    /// Profile-mandatory sections.
    pub const MANDATORY_SECTION: &str = "mandatory-section";
    /// IG-mandatory sections.
    pub const IG_MANDATORY_SECTION: &str = "ig-mandatory-section";
    /// meta.profile declared.
    pub const META_PROFILE: &str = "meta-profile";
    /// GP practice Organization without an ODS organisation code.
    pub const GP_PRACTICE_ODS: &str = "gp-practice-ods";
    /// Message over the recommended 5 MB.
    pub const MESSAGE_SIZE: &str = "message-size";
    /// Attachment (Binary) MIME type.
    pub const ATTACHMENT_TYPE: &str = "attachment-type";

    /// Every rule id, in table order.
    pub const ALL: &[&str] = &[
        PATIENT_IDENTIFIER,
        MESSAGE_BUNDLE,
        BUNDLE_PROHIBITED,
        ITK_ENTRY_ORDER,
        HEADER_PROFILE,
        HANDLING_KEYS,
        EVENT_CODING,
        EVENT_DEFINITION,
        HEADER_PARTY,
        HEADER_FIELDS,
        HEADER_FOCUS,
        HEADER_RESOURCE,
        DOCUMENT_BUNDLE,
        DOCUMENT_ENTRY_ORDER,
        FULLURL_ID,
        FULLURL_UNIQUE,
        FULLURL_UUID,
        RESPONSE,
        IDENTIFIER_SYSTEM,
        NHS_NUMBER,
        REF_RESOLVE,
        SELF_REFERENCE,
        CARE_SETTING,
        COMPOSITION_FIELDS,
        COMPOSITION_TARGETS,
        RELATES_TO,
        SECTION_CODE,
        SECTION_FIXED,
        SECTION_DUPLICATE,
        SECTION_TEXT,
        SECTION_PROHIBITED,
        SECTION_ENTRY,
        MANDATORY_SECTION,
        IG_MANDATORY_SECTION,
        META_PROFILE,
        GP_PRACTICE_ODS,
        ATTACHMENT_TYPE,
        MESSAGE_SIZE,
    ];
}

/// How bad an issue is (FHIR OperationOutcome severities; ordered most
/// severe first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The input cannot be checked further.
    Fatal,
    /// A profile, core FHIR or receiver rule is broken; do not send.
    Error,
    /// An implementation-guide-only expectation is not met.
    Warning,
    /// For information only.
    Information,
}

impl Severity {
    /// FHIR `issue-severity` code: "fatal" | "error" | "warning" | "information".
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Fatal => "fatal",
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }

    /// Fatal or error: the message must not be sent.
    pub fn is_blocking(&self) -> bool {
        matches!(self, Severity::Fatal | Severity::Error)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Severity.
    pub severity: Severity,
    /// Rule id (one of [`rules::ALL`] for v1 checks).
    pub rule: &'static str,
    /// FHIRPath with 0-based indexes, e.g.
    /// `Bundle.entry[3].resource.entry[0].resource.section[1].title`.
    pub location: String,
    /// Human-readable explanation; never contains instance (patient) values.
    pub message: String,
    /// FHIR IssueType code (`structure`, `required`, `value`, `invariant`,
    /// `code-invalid`, ...), derived from the rule.
    pub code: &'static str,
}

impl Issue {
    /// Build an issue.
    pub fn new(
        severity: Severity,
        rule: &'static str,
        location: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let message = message.into();
        let code = issue_type(rule, &message);
        Issue {
            severity,
            rule,
            location: location.into(),
            message,
            code,
        }
    }

    /// The ITK3 response code a receiver would answer this issue with
    /// (target-itk3-toc.md §9, §11), for fatal and error issues; `None` for
    /// warnings and information.
    pub fn itk_response(&self) -> Option<&'static str> {
        if !self.severity.is_blocking() {
            return None;
        }
        if self.severity == Severity::Fatal {
            return Some("10009"); // Unreadable message received
        }
        let m = self.message.as_str();
        let header = self.location.starts_with("Bundle.entry[0]")
            || self.location == "Bundle"
            || self.location.starts_with("Bundle.entry[1]") && self.rule.starts_with("header")
            || self.location.starts_with("Bundle.identifier")
            || self.location.starts_with("Bundle.type")
            || self.location.starts_with("Bundle.meta");
        Some(match self.rule {
            rules::HANDLING_KEYS => {
                if m.contains("InfAckRequested") {
                    "10002"
                } else if m.contains("BusAckRequested") {
                    "10003"
                } else if m.contains("MessageDefinition") {
                    "10004"
                } else if m.contains("SenderReference") {
                    "10007"
                } else if m.contains("RecipientType") {
                    "10010"
                } else if m.contains("must carry") {
                    "10001"
                } else {
                    "10008"
                }
            }
            rules::EVENT_DEFINITION if m.contains("MessageDefinition") => "10004",
            // Unsupported file type received as an attachment.
            rules::ATTACHMENT_TYPE => "20005",
            rules::MESSAGE_BUNDLE
            | rules::ITK_ENTRY_ORDER
            | rules::HEADER_PROFILE
            | rules::EVENT_CODING
            | rules::HEADER_PARTY
            | rules::HEADER_FIELDS
            | rules::HEADER_FOCUS
            | rules::HEADER_RESOURCE => "20006",
            _ if header => "20006", // ITK header validation failure
            _ => "20009",           // Payload validation failure
        })
    }
}

/// `bdl-7`, `ext-1`: letters, a dash, digits.
fn is_invariant_key(r: &str) -> bool {
    r.split_once('-').is_some_and(|(a, b)| {
        !a.is_empty()
            && a.chars().all(|c| c.is_ascii_lowercase())
            && !b.is_empty()
            && b.chars().all(|c| c.is_ascii_digit())
    })
}

/// FHIR IssueType for a rule (and, for cardinality rules, the message).
pub fn issue_type(rule: &str, message: &str) -> &'static str {
    match rule {
        "unknown-element" | "json-shape" | "json-empty" | "resource-type" | "profile-type"
        | "reference-target" => "structure",
        "primitive-format" | "profile-fixed" | "profile-pattern" => "value",
        rules::SECTION_FIXED => "value",
        "cardinality" | "profile-cardinality" | "profile-slice" => {
            if message.contains("required") || message.contains("at least") {
                "required"
            } else {
                "structure"
            }
        }
        "binding" => "code-invalid",
        "binding-not-checked" | "profile-unknown" => "informational",
        "xhtml" => "invariant",
        rules::REF_RESOLVE => "not-found",
        rules::SECTION_DUPLICATE | rules::FULLURL_UNIQUE => "duplicate",
        rules::MANDATORY_SECTION
        | rules::SECTION_ENTRY
        | rules::PATIENT_IDENTIFIER
        | rules::COMPOSITION_FIELDS => "required",
        rules::IG_MANDATORY_SECTION | rules::GP_PRACTICE_ODS => "business-rule",
        rules::MESSAGE_SIZE => "too-long",
        // §9: 20004 / 20005 carry issue type `security`.
        rules::ATTACHMENT_TYPE => "security",
        rules::HANDLING_KEYS => "processing",
        rules::SECTION_CODE | rules::EVENT_CODING => "code-invalid",
        r if is_invariant_key(r) => "invariant",
        _ => "invalid",
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}] {}: {}",
            self.severity, self.rule, self.location, self.message
        )
    }
}

/// True if any issue is fatal or an error.
pub fn has_blocking(issues: &[Issue]) -> bool {
    issues.iter().any(|i| i.severity.is_blocking())
}

/// Run the structural ITK3 / ToC checks on a whole ITK3 message Bundle.
///
/// Issues come out in check order (message level, then document level).
pub fn validate_message(bundle: &serde_json::Value) -> Vec<Issue> {
    itk::check_message(bundle)
}

pub use instance::rules as core_rules;
pub use instance::validate_instance;
pub use invariants::KEYS as INVARIANT_KEYS;

/// What a bundle handed to `itkbridge validate` is.
fn bundle_type(v: &serde_json::Value) -> Option<&str> {
    if v.get("resourceType").and_then(serde_json::Value::as_str) != Some("Bundle") {
        return None;
    }
    v.get("type").and_then(serde_json::Value::as_str)
}

/// Validate any resource a user hands over: an ITK3 message Bundle gets the
/// full message checks, an ITK3 document Bundle the document-level ITK /
/// ToC checks; every resource gets core STU3 and its declared profiles.
pub fn validate_any(v: &serde_json::Value) -> Vec<Issue> {
    match bundle_type(v) {
        Some("message") => validate_full(v),
        Some("document") => {
            let mut issues = itk::check_document_bundle(v);
            issues.extend(instance::validate_instance(v));
            dedup(&mut issues);
            issues
        }
        _ => instance::validate_instance(v),
    }
}

/// One finding per (rule, location): the most severe one (a core extensible
/// warning and a profile's required-binding error on the same element keep
/// the error). Order of first appearance is kept.
fn dedup(issues: &mut Vec<Issue>) {
    let mut at: std::collections::HashMap<(&'static str, String), usize> =
        std::collections::HashMap::new();
    let mut out: Vec<Issue> = Vec::with_capacity(issues.len());
    for i in issues.drain(..) {
        match at.get(&(i.rule, i.location.clone())) {
            Some(&k) => {
                if i.severity < out[k].severity {
                    out[k] = i;
                }
            }
            None => {
                at.insert((i.rule, i.location.clone()), out.len());
                out.push(i);
            }
        }
    }
    *issues = out;
}

/// The full validation of an ITK3 message Bundle: the structural ITK3 / ToC
/// checks, then core STU3 and every declared profile. Duplicate findings
/// (same rule and location) are reported once.
pub fn validate_full(bundle: &serde_json::Value) -> Vec<Issue> {
    full(bundle, true)
}

/// [`validate_full`] without information issues: what `convert` runs (its
/// ledger keeps warnings and errors only).
pub fn validate_for_convert(bundle: &serde_json::Value) -> Vec<Issue> {
    full(bundle, false)
}

/// [`validate_for_convert`] for a bundle whose compact JSON is known to be
/// at most `json_len_at_most` bytes (its pretty-printed length will do):
/// the same issues, without walking the bundle to measure it when that
/// bound is already within the message size limit.
pub fn validate_for_convert_sized(
    bundle: &serde_json::Value,
    json_len_at_most: usize,
) -> Vec<Issue> {
    full_with(bundle, false, Some(json_len_at_most))
}

fn full(bundle: &serde_json::Value, info: bool) -> Vec<Issue> {
    full_with(bundle, info, None)
}

fn full_with(bundle: &serde_json::Value, info: bool, len_at_most: Option<usize>) -> Vec<Issue> {
    let mut issues = itk::check_message_sized(bundle, len_at_most);
    if issues.iter().any(|i| i.severity == Severity::Fatal) {
        return issues;
    }
    issues.extend(instance::instance_issues(bundle, info));
    dedup(&mut issues);
    issues
}

#[cfg(test)]
mod tests;
