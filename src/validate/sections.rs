//! Transfer of Care document types and their Composition section tables, as data.
//!
//! Source: `shared/docs/target-itk3-toc.md` §4 (event code ↔ MessageDefinition ↔
//! Composition profile) and §5.1–5.4 (one table per Composition profile; the
//! profiles' closed section slicing). Columns kept here:
//!
//! * `code`, `display`, `title` — the fixed values of each slice (HAPI / the
//!   receiver checks them exactly; where the IG text disagrees we follow the
//!   profile, see §12.2);
//! * `profile_required` — slice cardinality 1..1 in the profile (error if missing);
//! * `ig_mandatory` — "1..1 Mandatory" in the IG heading table (warning if missing);
//! * `needs_entry` — the slice's `entry` is 1..* (error if the section has none).
//!
//! The later profile-driven validator can extend [`SectionSpec`] (e.g. with the
//! allowed entry target profiles) without changing the checks that use it.

/// SNOMED CT code system URI (fixed `system` of every section code).
pub const SNOMED: &str = "http://snomed.info/sct";

/// One Composition section slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionSpec {
    /// Slice name in the Composition profile.
    pub slice: &'static str,
    /// Fixed SNOMED CT code (`section.code.coding[0].code`).
    pub code: &'static str,
    /// Fixed `section.code.coding[0].display`.
    pub display: &'static str,
    /// Fixed `section.title`.
    pub title: &'static str,
    /// Profile cardinality 1..1 (otherwise 0..1).
    pub profile_required: bool,
    /// IG heading table marks the section "Mandatory" (1..1).
    pub ig_mandatory: bool,
    /// `section.entry` is 1..* in the slice.
    pub needs_entry: bool,
}

/// One Transfer of Care document type: the values that must agree across the
/// MessageHeader event, the MessageDefinition handling key and the Composition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentType {
    /// Short name (EDIS, MH, ECD, OPL).
    pub name: &'static str,
    /// `MessageHeader.event.code` (ITK-MessageEvent-2).
    pub event_code: &'static str,
    /// `MessageHeader.event.display` (CodeSystem display).
    pub event_display: &'static str,
    /// Canonical URL carried in the `MessageDefinition` handling key.
    pub message_definition: &'static str,
    /// Composition `meta.profile`.
    pub composition_profile: &'static str,
    /// The profile's section slices.
    pub sections: &'static [SectionSpec],
}

/// The four ToC document types (target-itk3-toc.md §3, §4).
pub static DOCUMENT_TYPES: &[DocumentType] = &[
    DocumentType {
        name: "EDIS",
        event_code: "ITK003D",
        event_display: "ITK eDischarge",
        message_definition:
            "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-eDischarge-MessageDefinition-4",
        composition_profile:
            "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-EDIS-Composition-1",
        sections: EDIS_SECTIONS,
    },
    DocumentType {
        name: "MH",
        event_code: "ITK004D",
        event_display: "ITK Mental Health eDischarge",
        message_definition:
            "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-MH-eDischarge-MessageDefinition-4",
        composition_profile:
            "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-MH-Composition-1",
        sections: MH_SECTIONS,
    },
    DocumentType {
        name: "ECD",
        event_code: "ITK005D",
        event_display: "ITK Emergency Care eDischarge",
        message_definition:
            "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-EC-eDischarge-MessageDefinition-4",
        composition_profile:
            "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-ECD-Composition-1",
        sections: ECD_SECTIONS,
    },
    DocumentType {
        name: "OPL",
        event_code: "ITK006D",
        event_display: "ITK Outpatient Letter",
        message_definition:
            "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-OPL-MessageDefinition-4",
        composition_profile:
            "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-OPL-Composition-1",
        sections: OPL_SECTIONS,
    },
];

/// ITK3 response event (acknowledgements, target-itk3-toc.md §9).
pub const RESPONSE_EVENT_CODE: &str = "ITK008M";
/// Display of [`RESPONSE_EVENT_CODE`].
pub const RESPONSE_EVENT_DISPLAY: &str = "ITK Response";
/// MessageDefinition of ITK3 responses.
pub const RESPONSE_MESSAGE_DEFINITION: &str =
    "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-Response-MessageDefinition-1";

/// Allergies and adverse reactions (1..1 in every ToC Composition profile).
pub const ALLERGIES_CODE: &str = "886921000000105";
/// Patient demographics (1..1 in every ToC Composition profile).
pub const DEMOGRAPHICS_CODE: &str = "886731000000109";

/// Document type by `MessageHeader.event.code`.
pub fn by_event(code: &str) -> Option<&'static DocumentType> {
    DOCUMENT_TYPES.iter().find(|d| d.event_code == code)
}

/// Document type by MessageDefinition canonical URL.
pub fn by_message_definition(url: &str) -> Option<&'static DocumentType> {
    DOCUMENT_TYPES.iter().find(|d| d.message_definition == url)
}

/// Document type by Composition profile URL.
pub fn by_composition_profile(url: &str) -> Option<&'static DocumentType> {
    DOCUMENT_TYPES.iter().find(|d| d.composition_profile == url)
}

impl DocumentType {
    /// The section slice with this SNOMED code, if the profile has one.
    pub fn section(&self, code: &str) -> Option<&'static SectionSpec> {
        self.sections
            .iter()
            .find(|s| super::scan::same(s.code, code))
    }
}

/// Section slices of the EDIS Composition profile (target-itk3-toc.md §5.1).
pub static EDIS_SECTIONS: &[SectionSpec] = &[
    SectionSpec {
        slice: "admissionDetailsSection",
        code: "886781000000108",
        display: "Admission details",
        title: "Admission details",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: true,
    },
    SectionSpec {
        slice: "allergiesAndAdverseReactionsSection",
        code: "886921000000105",
        display: "Allergies and adverse reactions",
        title: "Allergies and adverse reactions",
        profile_required: true,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "assessmentScalesSection",
        code: "887141000000103",
        display: "Assessment scales",
        title: "Assessment scales",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "clinicalSummarySection",
        code: "887181000000106",
        display: "Clinical summary",
        title: "Clinical summary",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "diagnosesSection",
        code: "887161000000102",
        display: "Diagnoses",
        title: "Diagnoses",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "dischargeDetailsSection",
        code: "886811000000106",
        display: "Discharge details",
        title: "Discharge details",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: true,
    },
    SectionSpec {
        slice: "distributionListSection",
        code: "887261000000109",
        display: "Distribution list",
        title: "Distribution list",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "gpPracticeSection",
        code: "886711000000101",
        display: "GP practice",
        title: "GP practice",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: true,
    },
    SectionSpec {
        slice: "individualRequirementsSection",
        code: "1078911000000106",
        display: "Individual requirements",
        title: "Individual requirements",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "informationAndAdviceGivenSection",
        code: "1052951000000105",
        display: "Information and advice given",
        title: "Information and advice given",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "investigationResultsSection",
        code: "1082101000000102",
        display: "Investigation results",
        title: "Investigation results",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "legalInformationSection",
        code: "886961000000102",
        display: "Legal information",
        title: "Legal information",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "medicationsAndMedicalDevicesSection",
        code: "933361000000108",
        display: "Medications and medical devices",
        title: "Medications and medical devices",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "participationInResearchSection",
        code: "886751000000102",
        display: "Participation in research",
        title: "Participation in research",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "patientAndCarerConcernsExpectationsAndWishesSection",
        code: "1052941000000107",
        display: "Patient and carer concerns, expectations and wishes",
        title: "Patient and carer concerns, expectations and wishes",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "patientDemographicsSection",
        code: "886731000000109",
        display: "Patient demographics",
        title: "Patient demographics",
        profile_required: true,
        ig_mandatory: true,
        needs_entry: true,
    },
    SectionSpec {
        slice: "personCompletingRecordSection",
        code: "887231000000104",
        display: "Person completing record",
        title: "Person completing record",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "planAndRequestedActionsSection",
        code: "887201000000105",
        display: "Plan and requested actions",
        title: "Plan and requested actions",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "proceduresSection",
        code: "887171000000109",
        display: "Procedures",
        title: "Procedures",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "referrerDetailsSection",
        code: "1052891000000108",
        display: "Referrer details",
        title: "Referrer details",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "safetyAlertsSection",
        code: "886931000000107",
        display: "Safety alerts",
        title: "Safety alerts",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "socialContextSection",
        code: "887051000000101",
        display: "Social context",
        title: "Social context",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
];

/// Section slices of the MH Composition profile (target-itk3-toc.md §5.2).
pub static MH_SECTIONS: &[SectionSpec] = &[
    SectionSpec {
        slice: "admissionDetailsSection",
        code: "886781000000108",
        display: "Admission details",
        title: "Admission details",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: true,
    },
    SectionSpec {
        slice: "allergiesAndAdverseReactionsSection",
        code: "886921000000105",
        display: "Allergies and adverse reactions",
        title: "Allergies and adverse reactions",
        profile_required: true,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "assessmentScalesSection",
        code: "887141000000103",
        display: "Assessment scales",
        title: "Assessment scales",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "clinicalSummarySection",
        code: "887181000000106",
        display: "Clinical summary",
        title: "Clinical summary",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "diagnosesSection",
        code: "887161000000102",
        display: "Diagnoses",
        title: "Diagnoses",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "dischargeDetailsSection",
        code: "886811000000106",
        display: "Discharge details",
        title: "Discharge details",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: true,
    },
    SectionSpec {
        slice: "distributionListSection",
        code: "887261000000109",
        display: "Distribution list",
        title: "Distribution list",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "familyHistorySection",
        code: "887111000000104",
        display: "Family history",
        title: "Family history",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "gpPracticeSection",
        code: "886711000000101",
        display: "GP practice",
        title: "GP practice",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: true,
    },
    SectionSpec {
        slice: "individualRequirementsSection",
        code: "1078911000000106",
        display: "Individual requirements",
        title: "Individual requirements",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "informationAndAdviceGivenSection",
        code: "1052951000000105",
        display: "Information and advice given",
        title: "Information and advice given",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "investigationResultsSection",
        code: "1082101000000102",
        display: "Investigation results",
        title: "Investigation results",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "legalInformationSection",
        code: "886961000000102",
        display: "Legal information",
        title: "Legal information",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "medicationsAndMedicalDevicesSection",
        code: "933361000000108",
        display: "Medications and medical devices",
        title: "Medications and medical devices",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "participationInResearchSection",
        code: "886751000000102",
        display: "Participation in research",
        title: "Participation in research",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "patientAndCarerConcernsExpectationsAndWishesSection",
        code: "1052941000000107",
        display: "Patient and carer concerns, expectations and wishes",
        title: "Patient and carer concerns, expectations and wishes",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "patientDemographicsSection",
        code: "886731000000109",
        display: "Patient demographics",
        title: "Patient demographics",
        profile_required: true,
        ig_mandatory: true,
        needs_entry: true,
    },
    SectionSpec {
        slice: "personCompletingRecordSection",
        code: "887231000000104",
        display: "Person completing record",
        title: "Person completing record",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "planAndRequestedActionsSection",
        code: "887201000000105",
        display: "Plan and requested actions",
        title: "Plan and requested actions",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "proceduresSection",
        code: "887171000000109",
        display: "Procedures",
        title: "Procedures",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "referrerDetailsSection",
        code: "1052891000000108",
        display: "Referrer details",
        title: "Referrer details",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "safetyAlertsSection",
        code: "886931000000107",
        display: "Safety alerts",
        title: "Safety alerts",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "socialContextSection",
        code: "887051000000101",
        display: "Social context",
        title: "Social context",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
];

/// Section slices of the ECD Composition profile (target-itk3-toc.md §5.3).
pub static ECD_SECTIONS: &[SectionSpec] = &[
    SectionSpec {
        slice: "allergiesAndAdverseReactionsSection",
        code: "886921000000105",
        display: "Allergies and adverse reactions",
        title: "Allergies and adverse reactions",
        profile_required: true,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "attendanceDetailsSection",
        code: "1077881000000105",
        display: "Attendance details",
        title: "Attendance details",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "clinicalNarrativeSection",
        code: "1077901000000108",
        display: "Clinical narrative",
        title: "Clinical narrative",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "contactForFurtherInformationSection",
        code: "1077931000000102",
        display: "Contact for further information",
        title: "Contact for further information",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "diagnosesSection",
        code: "887161000000102",
        display: "Diagnoses",
        title: "Diagnoses",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "dischargeDetailsSection",
        code: "886811000000106",
        display: "Discharge details",
        title: "Discharge details",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: true,
    },
    SectionSpec {
        slice: "gpPracticeSection",
        code: "886711000000101",
        display: "GP practice",
        title: "GP practice",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: true,
    },
    SectionSpec {
        slice: "informationAndAdviceGivenSection",
        code: "1052951000000105",
        display: "Information and advice given",
        title: "Information and advice given",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "medicationsAndMedicalDevicesSection",
        code: "933361000000108",
        display: "Medications and medical devices",
        title: "Medications and medical devices",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "patientDemographicsSection",
        code: "886731000000109",
        display: "Patient demographics",
        title: "Patient demographics",
        profile_required: true,
        ig_mandatory: true,
        needs_entry: true,
    },
    SectionSpec {
        slice: "personCompletingRecordSection",
        code: "887231000000104",
        display: "Person completing record",
        title: "Person completing record",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "planAndRequestedActionsSection",
        code: "887201000000105",
        display: "Plan and requested actions",
        title: "Plan and requested actions",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "presentingComplaintsOrIssuesSection",
        code: "886891000000102",
        display: "Presenting complaints or issues",
        title: "Presenting complaints or issues",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "proceduresSection",
        code: "887171000000109",
        display: "Procedures",
        title: "Procedures",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "referrerDetailsSection",
        code: "1052891000000108",
        display: "Referrer details",
        title: "Referrer details",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "safeguardingSection",
        code: "1077911000000105",
        display: "Safeguarding",
        title: "Safeguarding",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "safetyAlertsSection",
        code: "886931000000107",
        display: "Safety alerts",
        title: "Safety alerts",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "seniorReviewingClinicianSection",
        code: "1078901000000109",
        display: "Senior reviewing clinician",
        title: "Senior reviewing clinician",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
];

/// Section slices of the OPL Composition profile (target-itk3-toc.md §5.4).
pub static OPL_SECTIONS: &[SectionSpec] = &[
    SectionSpec {
        slice: "allergiesAndAdverseReactionsSection",
        code: "886921000000105",
        display: "Allergies and adverse reactions",
        title: "Allergies and adverse reactions",
        profile_required: true,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "assessmentScalesSection",
        code: "887141000000103",
        display: "Assessment scales",
        title: "Assessment scales",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "attendanceDetailsSection",
        code: "1077881000000105",
        display: "Attendance details",
        title: "Attendance details",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "clinicalReviewOfSystemsSection",
        code: "887121000000105",
        display: "Review of systems",
        title: "Clinical review of systems",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "clinicalSummarySection",
        code: "887181000000106",
        display: "Clinical summary",
        title: "Clinical summary",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "diagnosesSection",
        code: "887161000000102",
        display: "Diagnoses",
        title: "Diagnoses",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "distributionListSection",
        code: "887261000000109",
        display: "Distribution list",
        title: "Distribution list",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "examinationFindingSection",
        code: "715851000000102",
        display: "Examination findings",
        title: "Examination finding",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "familyHistorySection",
        code: "887111000000104",
        display: "Family history",
        title: "Family history",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "gpPracticeSection",
        code: "886711000000101",
        display: "GP practice",
        title: "GP practice",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: true,
    },
    SectionSpec {
        slice: "historySection",
        code: "717121000000105",
        display: "History",
        title: "History",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "individualRequirementsSection",
        code: "1078911000000106",
        display: "Individual requirements",
        title: "Individual requirements",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "informationAndAdviceGivenSection",
        code: "1052951000000105",
        display: "Information and advice given",
        title: "Information and advice given",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "investigationResultsSection",
        code: "1082101000000102",
        display: "Investigation results",
        title: "Investigation results",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "legalInformationSection",
        code: "886961000000102",
        display: "Legal information",
        title: "Legal information",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "medicationsAndMedicalDevicesSection",
        code: "933361000000108",
        display: "Medications and medical devices",
        title: "Medications and medical devices",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "participationInResearchSection",
        code: "886751000000102",
        display: "Participation in research",
        title: "Participation in research",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "patientAndCarerConcernsExpectationsAndWishesSection",
        code: "1052941000000107",
        display: "Patient and carer concerns, expectations and wishes",
        title: "Patient and carer concerns, expectations and wishes",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "patientDemographicsSection",
        code: "886731000000109",
        display: "Patient demographics",
        title: "Patient demographics",
        profile_required: true,
        ig_mandatory: true,
        needs_entry: true,
    },
    SectionSpec {
        slice: "personCompletingRecordSection",
        code: "887231000000104",
        display: "Person completing record",
        title: "Person completing record",
        profile_required: false,
        ig_mandatory: true,
        needs_entry: false,
    },
    SectionSpec {
        slice: "planAndRequestedActionsSection",
        code: "887201000000105",
        display: "Plan and requested actions",
        title: "Plan and requested actions",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "problemsAndIssuesSection",
        code: "887151000000100",
        display: "Problems and issues",
        title: "Problems and issues",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "proceduresSection",
        code: "887171000000109",
        display: "Procedures",
        title: "Procedures",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "referrerDetailsSection",
        code: "1052891000000108",
        display: "Referrer details",
        title: "Referrer details",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "relevantClinicalRiskFactorsSection",
        code: "886821000000100",
        display: "Relevant clinical risk factors",
        title: "Relevant clinical risk factors",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "safetyAlertsSection",
        code: "886931000000107",
        display: "Safety alerts",
        title: "Safety alerts",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
    SectionSpec {
        slice: "socialContextSection",
        code: "887051000000101",
        display: "Social context",
        title: "Social context",
        profile_required: false,
        ig_mandatory: false,
        needs_entry: false,
    },
];
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_have_expected_sizes_and_unique_codes() {
        let sizes: Vec<usize> = DOCUMENT_TYPES.iter().map(|d| d.sections.len()).collect();
        assert_eq!(sizes, vec![22, 23, 18, 27]);
        for d in DOCUMENT_TYPES {
            for (i, s) in d.sections.iter().enumerate() {
                assert!(
                    d.sections[i + 1..].iter().all(|o| o.code != s.code),
                    "{} duplicate code {}",
                    d.name,
                    s.code
                );
            }
            for code in [ALLERGIES_CODE, DEMOGRAPHICS_CODE] {
                assert!(d.section(code).unwrap().profile_required);
            }
            assert_eq!(d.sections.iter().filter(|s| s.profile_required).count(), 2);
            assert!(d.section(DEMOGRAPHICS_CODE).unwrap().needs_entry);
        }
    }

    #[test]
    fn profile_fixed_values_where_ig_differs() {
        let opl = by_event("ITK006D").unwrap();
        let ros = opl.section("887121000000105").unwrap();
        assert_eq!(
            (ros.display, ros.title),
            ("Review of systems", "Clinical review of systems")
        );
        let ecd = by_event("ITK005D").unwrap();
        assert_eq!(
            ecd.section("1077911000000105").unwrap().title,
            "Safeguarding"
        );
        assert!(!ecd.section(ALLERGIES_CODE).unwrap().ig_mandatory);
    }
}
