//! Header facts of an NHS CDA discharge that have no structured place in
//! the eDischarge profiles (crosswalk §2.3, §3.8) are carried as narrative
//! rows, never dropped: a referrer (`participant[@typeCode='REFT']`) in
//! Referrer details, a call-back contact and other participants in Plan and
//! requested actions, consent (`authorization/consent`) in Legal
//! information, authenticators and the signing time in Person completing
//! record with the data enterer and informants (names, roles, SDS ids,
//! contact details), and the service event (`documentationOf/serviceEvent`) in the
//! Clinical summary. The input is the synthetic discharge_05 with these
//! elements added in their CDA header positions.

mod common;

use common::{bundle_of, convert, document_bundle, issue_messages, ledger, section_div};
use serde_json::Value;

const HEADER: &str = r#"
	<dataEnterer typeCode="ENT" contextControlCode="OP">
		<time value="20240603081500+0100"/>
		<assignedEntity classCode="ASSIGNED">
			<id root="1.2.826.0.1285.0.2.0.65" extension="555015550001"/>
			<id root="1.2.826.0.1285.0.2.0.67" extension="555015550002"/>
			<code code="R8000" displayName="Clinical Coder"/>
			<addr><streetAddressLine>Records Office</streetAddressLine><postalCode>ZZ2 1RO</postalCode></addr>
			<telecom value="tel:01234500111"/>
			<assignedPerson><name><given>Tamsin</given><family>Ogilvy</family></name></assignedPerson>
			<representedOrganization><name>Fenland Records Service</name><telecom value="tel:01234500222"/></representedOrganization>
		</assignedEntity>
	</dataEnterer>
	<informant typeCode="INF" contextControlCode="OP">
		<relatedEntity classCode="PRS">
			<code code="43" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.45" displayName="Daughter"/>
			<telecom value="tel:07700900333"/>
			<relatedPerson><name><given>Bryony</given><family>Harkness</family></name></relatedPerson>
		</relatedEntity>
	</informant>
	<legalAuthenticator typeCode="LA" contextControlCode="OP">
		<time value="20240603093000+0100"/>
		<signatureCode code="S"/>
		<assignedEntity classCode="ASSIGNED">
			<id root="1.2.826.0.1285.0.2.0.65" extension="555015556667"/>
			<assignedPerson classCode="PSN" determinerCode="INSTANCE">
				<name><given>Rashid</given><family>Eastwood</family></name>
			</assignedPerson>
		</assignedEntity>
	</legalAuthenticator>
	<authenticator typeCode="AUTHEN">
		<time value="20240603100000+0100"/>
		<signatureCode code="S"/>
		<assignedEntity classCode="ASSIGNED">
			<id root="1.2.826.0.1285.0.2.0.65" extension="555015556668"/>
			<assignedPerson classCode="PSN" determinerCode="INSTANCE">
				<name><prefix>Dr</prefix><given>Ottoline</given><family>Quarrie</family></name>
			</assignedPerson>
		</assignedEntity>
	</authenticator>
	<participant typeCode="REFT">
		<associatedEntity classCode="AGNT">
			<addr><streetAddressLine>12 Wherry Lane</streetAddressLine><city>Brackley Fen</city><postalCode>ZZ2 4RT</postalCode></addr>
			<telecom value="tel:01234500777"/>
			<associatedPerson><name><given>Imelda</given><family>Sturrock</family></name></associatedPerson>
			<scopingOrganization><name>Wherry Lane Surgery</name></scopingOrganization>
		</associatedEntity>
	</participant>
	<participant typeCode="CALLBCK">
		<associatedEntity classCode="ASSIGNED">
			<telecom value="tel:01234500999"/>
			<associatedPerson><name>Ward Seven Coordinator</name></associatedPerson>
		</associatedEntity>
	</participant>
	<participant typeCode="IND">
		<associatedEntity classCode="CAREGIVER">
			<code code="MTH" displayName="Mother"/>
			<associatedPerson><name><given>Philippa</given><family>Larkham</family></name></associatedPerson>
		</associatedEntity>
	</participant>
	<documentationOf typeCode="DOC">
		<serviceEvent classCode="PCPR" moodCode="EVN">
			<code code="305354007" codeSystem="2.16.840.1.113883.2.1.3.2.4.15" displayName="Admission to intensive care unit"/>
			<effectiveTime><low value="20240601"/></effectiveTime>
		</serviceEvent>
	</documentationOf>
	<authorization typeCode="AUTH">
		<consent classCode="CONS" moodCode="EVN">
			<code code="425691002" codeSystem="2.16.840.1.113883.2.1.3.2.4.15" displayName="Consent given for electronic record sharing"/>
			<statusCode code="completed"/>
		</consent>
	</authorization>
"#;

/// Convert one document (with the mappings in `maps`, default the embedded
/// ones) and return its message bundle; it must be converted.
fn convert_one(doc: &str, maps: Option<&std::path::Path>) -> Value {
    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("d.xml");
    std::fs::write(&input, doc).unwrap();
    let out = t.path().join("out");
    let extra: Vec<&std::ffi::OsStr> = match maps {
        Some(m) => vec!["--mappings".as_ref(), m.as_os_str()],
        None => vec![],
    };
    let r = convert(&input, &out, &extra);
    assert_eq!(r.code, 0, "{}", r.dump());
    let l = &ledger(&out)[0];
    assert_eq!(l["outcome"], "converted", "{l}");
    bundle_of(&out, l)
}

/// The first resource of type `ty` in the message's document bundle.
fn resource_of(b: &Value, ty: &str) -> Value {
    document_bundle(b)["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == ty)
        .unwrap_or_else(|| panic!("no {ty}"))
        .clone()
}

fn discharge_05() -> String {
    std::fs::read_to_string(
        common::root().join("testdata/discharge/discharge_05_duplicate_id_a.xml"),
    )
    .unwrap()
}

#[test]
fn header_facts_without_a_structured_place_become_rows() {
    let src = discharge_05();
    let at = src.find("\t<componentOf").expect("componentOf");
    let doc = format!(
        "{}{}{}",
        &src[..at],
        HEADER.trim_start_matches('\n'),
        &src[at..]
    );
    let b = convert_one(&doc, None);

    let expect = [
        (
            "Referrer details",
            &[
                "<th>Referrer</th><td>Imelda Sturrock, Wherry Lane Surgery</td>",
                "<th>Referrer address</th><td>12 Wherry Lane Brackley Fen ZZ2 4RT</td>",
                "<th>Referrer telephone</th><td>01234500777</td>",
            ][..],
        ),
        (
            "Plan and requested actions",
            &[
                "<th>Contact for call back</th><td>Ward Seven Coordinator, 01234500999</td>",
                "<th>Other participant</th><td>Philippa Larkham, Mother</td>",
            ][..],
        ),
        (
            "Legal information",
            &["<th>Consent</th><td>Consent given for electronic record sharing</td>"][..],
        ),
        (
            "Person completing record",
            &[
                "<th>Signed by</th><td>Rashid Eastwood, SDS user id 555015556667</td>",
                "<th>Date signed</th><td>2024-06-03T09:30:00+01:00</td>",
                "<th>Authenticated by</th><td>Dr Ottoline Quarrie, SDS user id 555015556668, 2024-06-03T10:00:00+01:00</td>",
                // Who entered the data and who informed, with their ids and
                // contact details (literal parts of concat() keep their spaces).
                "<th>Data entered by</th><td>Tamsin Ogilvy, Clinical Coder, SDS user id 555015550001, \
                 SDS role profile id 555015550002, Records Office ZZ2 1RO, 01234500111, \
                 Fenland Records Service, 01234500222, 2024-06-03T08:15:00+01:00</td>",
                "<th>Informant</th><td>Bryony Harkness, Daughter, 07700900333</td>",
            ][..],
        ),
        (
            "Clinical summary",
            &["<th>Service event</th><td>Admission to intensive care unit, 2024-06-01</td>"][..],
        ),
    ];
    for (title, rows) in expect {
        let div = section_div(&b, title).unwrap_or_else(|| panic!("no section {title}"));
        for row in rows {
            assert!(div.contains(row), "{title}: {row}\n{div}");
        }
    }
    // The informant who is a relative is also a RelatedPerson (§2.3).
    let related: Vec<Value> = document_bundle(&b)["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"].clone())
        .filter(|r| r["resourceType"] == "RelatedPerson")
        .collect();
    assert_eq!(related.len(), 1, "{related:?}");
    assert_eq!(related[0]["relationship"]["coding"][0]["code"], "DAU");
    assert_eq!(related[0]["name"][0]["family"], "Harkness");
}

/// An organisation known only by a local (non-ODS) identifier keeps it, with
/// its `urn:oid` system; and the custodian is not merged into an author
/// organisation of the same name that has no identifier (which would lose
/// the custodian's identifier).
#[test]
fn local_organisation_identifiers_are_kept() {
    let src = discharge_05();
    let author_id = "\t\t\t\t<id root=\"2.16.840.1.113883.2.1.3.2.4.19.1\" extension=\"XZT05\"/>\n\t\t\t\t<name>Brackley Fen NHS Trust</name>\n\t\t\t</representedOrganization>";
    assert!(src.contains(author_id));
    let doc = src
        .replace(
            author_id,
            "\t\t\t\t<name>Brackley Fen NHS Trust</name>\n\t\t\t</representedOrganization>",
        )
        .replace(
            "<id root=\"2.16.840.1.113883.2.1.3.2.4.19.1\" extension=\"XZT05\"/>\n\t\t\t\t<name>Brackley Fen NHS Trust</name>\n\t\t\t</representedCustodianOrganization>",
            "<id root=\"2.16.840.1.113883.2.1.3.2.4.18.24\" extension=\"TRUST-0042\"/>\n\t\t\t\t<name>Brackley Fen NHS Trust</name>\n\t\t\t</representedCustodianOrganization>",
        );
    assert!(doc.contains("TRUST-0042"));
    // The sender then has no ODS code either: a configured mailbox keeps the
    // message valid (mappings/deployment.tsv `mesh-mailbox`).
    let t = tempfile::tempdir().unwrap();
    let maps = t.path().join("maps");
    common::copy_tree(
        &common::root().join("mappings"),
        &maps,
        &["map", "tsv", "md"],
    );
    let dep = std::fs::read_to_string(maps.join("deployment.tsv")).unwrap();
    let dep = dep.replace("mesh-mailbox\t", "mesh-mailbox\tMBX-TEST-01");
    std::fs::write(maps.join("deployment.tsv"), dep).unwrap();
    let b = convert_one(&doc, Some(&maps));
    let docb = document_bundle(&b);
    let comp = &docb["entry"][0]["resource"];
    let custodian_ref = comp["custodian"]["reference"].as_str().unwrap();
    let custodian = &docb["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["fullUrl"] == custodian_ref)
        .unwrap()["resource"];
    assert_eq!(
        custodian["identifier"],
        serde_json::json!([{"system": "urn:oid:2.16.840.1.113883.2.1.3.2.4.18.24", "value": "TRUST-0042"}]),
        "{custodian}"
    );
    // The author's organisation (same name, no identifier) stays separate.
    let same_name = docb["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["resource"]["resourceType"] == "Organization"
                && e["resource"]["name"] == "Brackley Fen NHS Trust"
        })
        .count();
    assert_eq!(same_name, 2, "{docb}");
}

/// The patient's name parts per crosswalk §2.1.4: a birth family name
/// (qualifier `BR`) becomes a second name with use `maiden`, a call-me given
/// name (`CL`) an additional `usual` name, and several other family parts
/// one family name in their order — none of them is dropped from
/// Patient.name, and the official name stays first and single.
#[test]
fn patient_name_parts_have_their_places() {
    let src = discharge_05();
    let start = src.find("\t\t\t\t<name>").expect("patient name");
    let end = src[start..].find("</name>").expect("end") + start + "</name>".len();
    let name = "\t\t\t\t<name use=\"L\"><prefix>Mrs</prefix><given>Winifred</given>\
                <given qualifier=\"CL\">Freda</given><family>Ashcombe</family>\
                <family>Tull</family><family qualifier=\"BR\">Pennycook</family></name>";
    let doc = format!("{}{name}{}", &src[..start], &src[end..]);
    let b = convert_one(&doc, None);
    let patient = resource_of(&b, "Patient");
    assert_eq!(
        patient["name"],
        serde_json::json!([
            {"use": "official", "family": "Ashcombe Tull", "given": ["Winifred"], "prefix": ["Mrs"]},
            {"use": "maiden", "family": "Pennycook", "given": ["Winifred"]},
            {"use": "usual", "family": "Ashcombe Tull", "given": ["Freda"]}
        ]),
        "{patient}"
    );
}

/// Other demographics (crosswalk §2.1.9) have their CareConnect places and a
/// row in Patient demographics: ethnic category and languages as Patient
/// extensions; a guardian whose relationship the table codes (R19) as an
/// ITK-RelatedPerson-1 (§2.3: Encounter.participant, Distribution list
/// entry), any other guardian as Patient.contact with the relationship as
/// text (ITK-RelatedPerson-1 needs exactly one coding).
#[test]
fn ethnicity_language_and_guardian_have_their_places() {
    let src = discharge_05();
    let birth = src.find("<birthTime").expect("birthTime");
    let end = src[birth..].find("/>").expect("end") + birth + 2;
    let extra = "<maritalStatusCode code=\"N\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.16.82\" displayName=\"Not disclosed\"/>\
        <ethnicGroupCode code=\"CC\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.16.81\"/>\
        <guardian classCode=\"GUARD\"><code code=\"12\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.16.45\" displayName=\"Mother\"/>\
        <telecom use=\"MC\" value=\"tel:07700900444\"/><telecom use=\"PG\" value=\"tel:07600900445\"/>\
        <guardianPerson><name><given>Hester</given><family>Larkham</family></name></guardianPerson></guardian>\
        <guardian classCode=\"GUARD\"><code code=\"98\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.16.45\" displayName=\"Carer\"/>\
        <guardianPerson><name>Ward Seven Carer</name></guardianPerson></guardian>\
        <languageCommunication><languageCode code=\"cy\"/><preferenceInd value=\"true\"/></languageCommunication>";
    let doc = format!("{}{extra}{}", &src[..end], &src[end..]);
    // An emergency-contact number (§2.1.6: no FHIR use; said in the narrative).
    let doc = doc.replacen(
        "<patient classCode",
        "<telecom use=\"EC\" value=\"tel:01234500666\"/><patient classCode",
        1,
    );
    let b = convert_one(&doc, None);
    let patient = resource_of(&b, "Patient");
    assert_eq!(
        patient["extension"],
        serde_json::json!([
            {"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-EthnicCategory-1",
             "valueCodeableConcept": {"coding": [{"system": "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-EthnicCategory-1", "code": "CC", "display": "Welsh"}]}},
            {"url": "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSCommunication-1",
             "extension": [
                {"url": "language", "valueCodeableConcept": {"coding": [{"system": "https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-HumanLanguage-1", "code": "cy", "display": "Welsh"}]}},
                {"url": "preferred", "valueBoolean": true}
             ]}
        ]),
        "{patient}"
    );
    assert_eq!(
        patient["contact"],
        serde_json::json!([{
            "relationship": [{"text": "Carer"}],
            "name": {"use": "official", "text": "Ward Seven Carer"}
        }]),
        "{patient}"
    );
    let entries = document_bundle(&b)["entry"].as_array().unwrap().clone();
    let related: Vec<&Value> = entries
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "RelatedPerson")
        .collect();
    assert_eq!(related.len(), 1, "one RelatedPerson (the mother)");
    let mut rp = related[0]["resource"].clone();
    let url = related[0]["fullUrl"].clone();
    rp.as_object_mut().unwrap().remove("id");
    let patient_url = entries
        .iter()
        .find(|e| e["resource"]["resourceType"] == "Patient")
        .unwrap()["fullUrl"]
        .clone();
    assert_eq!(
        rp,
        serde_json::json!({
            "resourceType": "RelatedPerson",
            "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/ITK-RelatedPerson-1"]},
            "patient": {"reference": patient_url},
            "relationship": {
                "coding": [{"system": "http://hl7.org/fhir/v3/RoleCode", "code": "MTH", "display": "mother"}],
                "text": "Mother"
            },
            "name": [{"use": "official", "family": "Larkham", "given": ["Hester"]}],
            "telecom": [
                {"system": "phone", "value": "07700900444", "use": "mobile"},
                {"system": "pager", "value": "07600900445"}
            ]
        })
    );
    let encounter = entries
        .iter()
        .find(|e| e["resource"]["resourceType"] == "Encounter")
        .expect("Encounter");
    assert!(
        encounter["resource"]["participant"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["individual"]["reference"] == url),
        "{encounter}"
    );
    let dst = entries[0]["resource"]["section"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["title"] == "Distribution list")
        .expect("Distribution list")
        .clone();
    assert!(
        dst["entry"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reference"] == url),
        "{dst}"
    );
    assert!(patient.get("maritalStatus").is_none(), "{patient}");
    let div = section_div(&b, "Patient demographics").expect("demographics");
    for row in [
        "<th>Ethnic category</th><td>Welsh</td>",
        // §2.1.9: N (not disclosed) has no FHIR maritalStatus; the narrative keeps it.
        "<th>Marital status</th><td>Not disclosed</td>",
        "<th>Language</th><td>Welsh, preferred</td>",
        "<th>Emergency contact telephone</th><td>01234500666</td>",
        "<th>Guardian</th><td>Hester Larkham, Mother, 07700900444, 07600900445</td>",
        "<th>Guardian</th><td>Ward Seven Carer, Carer</td>",
    ] {
        assert!(div.contains(row), "{row}\n{div}");
    }
}

/// An encounter whose source end lies before its start (a data-entry slip)
/// must not fail the document on FHIR per-1: the end is omitted with a
/// `period-end-before-start` warning and both times stay in the narrative
/// rows.
#[test]
fn an_end_before_the_start_is_omitted_not_fatal() {
    let src = discharge_05();
    let high = src.find("<high value=\"").expect("high");
    let end = src[high..].find("/>").expect("end") + high + 2;
    let doc = format!("{}<high value=\"20230101\"/>{}", &src[..high], &src[end..]);
    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("d.xml");
    std::fs::write(&input, &doc).unwrap();
    let out = t.path().join("out");
    let r = convert(&input, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.dump());
    let l = &ledger(&out)[0];
    assert_eq!(l["outcome"], "converted", "{l}");
    assert!(
        !issue_messages(l, "period-end-before-start").is_empty(),
        "{l}"
    );
    let b = bundle_of(&out, l);
    let enc = resource_of(&b, "Encounter");
    assert!(enc["period"]["start"].is_string(), "{enc}");
    assert!(enc["period"].get("end").is_none(), "{enc}");
    let dis = section_div(&b, "Discharge details").expect("Discharge details");
    assert!(dis.contains("2023-01-01"), "{dis}");
}

/// Coded allergies (crosswalk §4.2–4.3) become CareConnect-ITK-AllergyIntolerance-1
/// resources in an Allergy List entered in the allergies section, with a
/// row each: the causative agent (code qualifier 246075003) is the code;
/// an agent without a SNOMED CT name gets the transfer-degraded code (R35)
/// and keeps what the source had as text; type and category follow the
/// entry's code (416098002 Drug allergy → allergy, medication).
#[test]
fn coded_allergies_become_allergy_intolerances() {
    let src = discharge_05();
    let entry = |template: &str, by_content_id: bool, code: &str, agent: &str| {
        let marker = if by_content_id {
            format!("<npfitlc:contentId root=\"2.16.840.1.113883.2.1.3.2.4.18.16\" extension=\"{template}\"/>")
        } else {
            format!(
                "<templateId root=\"2.16.840.1.113883.2.1.3.2.4.18.2\" extension=\"{template}\"/>"
            )
        };
        format!(
            "<entry typeCode=\"COMP\" contextConductionInd=\"true\">{marker}\
             <observation classCode=\"OBS\" moodCode=\"EVN\">\
             <id root=\"5A1E2C3D-0000-4000-8000-00000000000{}\"/>\
             <code {code} codeSystem=\"2.16.840.1.113883.2.1.3.2.4.15\">\
             <qualifier><name code=\"246075003\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.15\" displayName=\"causative agent\"/>\
             {agent}</qualifier></code>\
             <statusCode code=\"completed\"/><effectiveTime><low value=\"20240520\"/></effectiveTime>\
             </observation></entry>\n",
            template.len() % 10
        )
    };
    let entries = [
        entry(
            "COCD_TP146025UK04#Allergy",
            true,
            "code=\"416098002\" displayName=\"Drug allergy\"",
            "<value code=\"373270004\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.15\" displayName=\"Penicillin -class of antibiotic-\"/>",
        ),
        entry(
            "COCD_TP146022UK01.AllergyEvent",
            false,
            "code=\"416093006\" displayName=\"Allergic reaction to drug\"",
            "<value code=\"C1234\" codeSystem=\"2.16.840.1.113883.2.1.3.2.4.14\"/>",
        ),
    ]
    .concat();
    let at = src.find("<entry typeCode=\"COMP\"").expect("an entry");
    let doc = format!("{}{entries}{}", &src[..at], &src[at..]);
    let b = convert_one(&doc, None);
    let all = document_bundle(&b)["entry"].as_array().unwrap().clone();
    let allergies: Vec<Value> = all
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "AllergyIntolerance")
        .map(|e| e["resource"].clone())
        .collect();
    assert_eq!(allergies.len(), 2, "{allergies:?}");
    let a = &allergies[0];
    assert_eq!(a["type"], "allergy");
    assert_eq!(a["category"], serde_json::json!(["medication"]));
    assert_eq!(
        a["code"],
        serde_json::json!({"coding": [{"system": "http://snomed.info/sct", "code": "373270004",
            "display": "Penicillin -class of antibiotic-"}], "text": "Penicillin -class of antibiotic-"})
    );
    assert_eq!(a["clinicalStatus"], "active");
    assert_eq!(a["verificationStatus"], "confirmed");
    assert_eq!(a["assertedDate"], "2024-05-20");
    let e = &allergies[1];
    assert!(e.get("type").is_none(), "{e}");
    assert_eq!(
        e["code"],
        serde_json::json!({"coding": [{"system": "http://snomed.info/sct", "code": "196461000000101",
            "display": "Transfer-degraded drug allergy"}], "text": "code C1234"})
    );
    let list = all
        .iter()
        .find(|e| {
            e["resource"]["resourceType"] == "List"
                && e["resource"]["code"]["coding"][0]["code"] == "886921000000105"
        })
        .expect("an allergy List");
    let alg = all[0]["resource"]["section"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["title"] == "Allergies and adverse reactions")
        .expect("allergies section")
        .clone();
    assert_eq!(alg["entry"][0]["reference"], list["fullUrl"], "{alg}");
    let div = alg["text"]["div"].as_str().unwrap();
    assert!(
        div.contains("<th>Allergies and adverse reactions (coded)</th><td>Penicillin -class of antibiotic-, Drug allergy, 2024-05-20</td>"),
        "{div}"
    );
}
