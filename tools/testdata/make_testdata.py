#!/usr/bin/env python3
"""Regenerate the synthetic test inputs under testdata/ (discharge/, other-kinds/, bad/).

Written for the itkbridge project (Apache-2.0).  All content is fictional.  Deterministic:
running it twice gives byte-identical files.   Usage:  python3 tools/testdata/make_testdata.py
"""
import os
import random
import re

from cda import (uid, header, document, structured_body, section, table, kv_table, finding,
                 treatment, supply, cre_type_list, nhs_valid, diagnosis, observation_media, allergy, E,
                 pretty_text)

HERE = os.path.dirname(os.path.abspath(__file__))
TD = os.path.join(os.path.dirname(os.path.dirname(HERE)), "testdata")

VERIFIED = "2.16.840.1.113883.2.1.4.1"
UNVERIFIED = "2.16.840.1.113883.2.1.3.2.4.18.23"
LOCAL = "2.16.840.1.113883.2.1.3.2.4.18.24"
SDS_USER = "1.2.826.0.1285.0.2.0.65"
SDS_ROLE = "1.2.826.0.1285.0.2.0.67"
DMD_VOLTAROL = "605911000001102"

DISCLAIMER = ("\n\tSynthetic test document written for the itkbridge project (Apache-2.0).\n"
              "\tAll patients, clinicians, organisations, identifiers and clinical content are fictional.\n")


def write(rel, data, mode="text"):
    path = os.path.join(TD, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(path, "wb") as fh:
        fh.write(data)


# =============================================================================================
# discharge 01: classic MIM-style discharge (default namespace, tabs, LF, times without offset)
# =============================================================================================

def discharge_01():
    n = "discharge_01"
    did = uid(n)
    d = dict(
        id=did, effective="20240314103000", conf="V",
        patient=dict(
            ids=[(VERIFIED, "9434765919", ""),
                 (LOCAL, "K0049211", ' assigningAuthorityName="XZT01:Kestrel Vale NHS Trust"')],
            addr=(["14 Larkspur Row", "Ambleford", "Westmereshire"], "ZZ1 4LR"),
            telecom="tel:01632960417",
            name=dict(use="L", prefix="Mrs", given=["Eleanor", "Rose"], family="Quillfeather"),
            gender=("2", "Female"), birth="19580611",
            gp=dict(ods="Z99901", name="Ambleford Green Surgery",
                    addr=(["2 Mill Lane", "Ambleford"], "ZZ1 2ML"))),
        authors=[dict(time="202403141030",
                      ids=[(SDS_ROLE, "555031234567"), (SDS_USER, "555012345678")],
                      role=("R0050", "Consultant"),
                      name=dict(prefix="Dr", given=["Tobias"], family="Wrenfield"),
                      org=("XZT01", "Kestrel Vale NHS Trust"))],
        custodian=("XZT01", "Kestrel Vale NHS Trust"),
        recipients=[
            dict(type="PRCP", person=dict(prefix="Dr", given=["Amara"], family="Holloway"),
                 sds="555098765432", role=("R0260", "General Medical Practitioner"),
                 org=("Z99901", "Ambleford Green Surgery")),
            dict(type="TRC", org=("XZC07", "Westmereshire Community Nursing Service")),
        ],
        encounter=dict(id=uid(n + "/enc"), code=("11429006", "Consultation"),
                       low="202403081130", high="202403131645",
                       responsible=dict(sds_role="555031234567",
                                        name=dict(prefix="Dr", given=["Tobias"], family="Wrenfield")),
                       location=dict(id="XZT0101", code=("309944008", "Obstetrics department"),
                                     org=("XZT01", "Kestrel Vale NHS Trust"))),
    )
    e = [uid(f"{n}/e{i}") for i in range(8)]
    entries = [
        treatment(e[0], "398307005", "Lower uterine segment caesarean section", "a1",
                  "202403091400", "202403091455"),
        finding(e[1], "169828005", "Twins - both live born", "a2", "202403091500"),
        finding(e[2], "48194001", "Pregnancy-induced hypertension", "a3", "202403081200"),
        finding(e[3], "278154007", "Blood group AB Rh(D) negative", "a4", "202403081200"),
        supply(e[4], DMD_VOLTAROL, "Voltarol Rapid 50mg tablets (Novartis Pharmaceuticals UK Ltd)", "a6",
               "50mg three times a day with food for 5 days. Supplied 13-Mar-2024 14:20", "202403131420",
               ("555077001122", dict(prefix="Ms", given=["Priya"], family="Calloway"))),
        supply(e[5], "39695211000001102", "Paracetamol 500mg tablets", "a7",
               "1g four times a day when required &amp; no more than 8 tablets in 24 hours",
               "202403131420",
               ("555077001122", dict(prefix="Ms", given=["Priya"], family="Calloway"))),
        cre_type_list(e[6], "185361000000102", "Medication", [e[4], e[5]]),
        cre_type_list(e[7], "185381000000106", "Procedures", [e[0]]),
    ]
    top = kv_table([("DATE OF ADMISSION:", "08-Mar-2024"), ("DATE OF DISCHARGE:", "13-Mar-2024")])
    top += "<paragraph/>" + kv_table([("Date Document Sent:", "14-Mar-2024 1030")])
    top += "<paragraph/>" + kv_table([("Hospital:", "Kestrel Vale General Hospital"),
                                      ("Organisation:", "Kestrel Vale NHS Trust"),
                                      ("Midwife:", "Mrs. Sinéad O&#8217;Rourke"),
                                      ("Pharmacist:", "Ms. Priya Calloway")])
    s = uid
    kids = [
        section(5, s(n + "/s2a"), "Summary of Care",
                "<list><item><content ID=\"a1\">Elective lower segment caesarean section.</content></item>"
                "<item><content ID=\"a2\">Twins, both born alive and well.</content></item>"
                "<item><content ID=\"a3\">Pregnancy-induced hypertension.</content></item></list>",
                depth=2),
        section(5, s(n + "/s2b"), "Pregnancy History",
                "<paragraph>Mrs Quillfeather is a primipara in whom a dichorionic twin pregnancy was found at the "
                "12-week scan. Early pregnancy was uneventful. <content ID=\"a4\">She is AB rhesus negative</content> "
                "and received anti-D prophylaxis at 28 weeks. Blood pressure rose from 34 weeks and labetalol was "
                "started by the day unit; she was admitted at 36+2 weeks for planned delivery.</paragraph>",
                depth=2),
        section(5, s(n + "/s2c"), "Operative Course",
                "<paragraph><content ID=\"a5\">Lower uterine segment caesarean section under spinal anaesthesia on "
                "09-Mar-2024.</content> Twin 1 (female, 2.41 kg) and twin 2 (male, 2.18 kg) were delivered without "
                "difficulty; estimated blood loss 650 ml.</paragraph>",
                depth=2),
        section(5, s(n + "/s2d"), "Post Operative Course",
                "<paragraph>Recovery was straightforward. Blood pressure settled &lt; 140/90 by day 3 and labetalol "
                "was stopped. Wound clean and dry; mobilising independently; breast and bottle feeding both babies."
                "</paragraph>",
                depth=2),
        section(5, s(n + "/s2e"), "Medication on Discharge",
                table([["<content ID=\"a6\">Voltarol Rapid 50mg tablets</content>", "50mg TDS with food", "5 days"],
                       ["<content ID=\"a7\">Paracetamol 500mg tablets</content>", "1g QDS PRN", "&#8212;"]],
                      head=["Medicine", "Dose", "Duration"]),
                depth=2),
        section(5, s(n + "/s2f"), "Ongoing Care",
                "<paragraph>Community midwife to visit on day 5 for wound review and removal of sutures. "
                "GP: please check blood pressure at 2 weeks &amp; review at the 6-week postnatal check. "
                "Prescription charge exemption (&#163;9.90 per item otherwise) applies.</paragraph>",
                depth=2),
    ]
    sections = [section(5, s(n + "/s1"), None, top, kids, depth=1, title_mode="empty")]
    body = structured_body(s(n + "/outer"), entries, sections)
    write("discharge/discharge_01_classic_default_ns.xml",
          document(d, body, comment=DISCLAIMER))


# =============================================================================================
# discharge 02: 2015 eDischarge headings, depth 3, large (>= 50 KB), CRLF line ends, +0000
# =============================================================================================

def big_narrative(rng):
    days = []
    base = ["Reviewed on the morning ward round.", "Seen with the registrar.",
            "Reviewed by the consultant.", "Seen on the post-take round."]
    obs_words = ["comfortable at rest", "mildly breathless on exertion", "sleeping better",
                 "appetite improving", "tolerating oral fluids", "mobilising with a frame",
                 "complaining of some ankle swelling", "brighter in mood"]
    plans = ["Continue intravenous furosemide and daily weights.",
             "Switch to oral furosemide; repeat renal profile tomorrow.",
             "Physiotherapy and occupational therapy to assess.",
             "Uptitrate bisoprolol as heart rate allows.",
             "Fluid restriction 1.5 litres per day; strict input &amp; output chart.",
             "Echocardiogram requested; chase result.",
             "Discuss with heart failure specialist nurse.",
             "Plan for discharge once weight stable for 48 hours."]
    for day in range(1, 15):
        w = 92.4 - day * 0.55 + rng.uniform(-0.2, 0.2)
        txt = (f"<paragraph><content styleCode=\"Bold\">Day {day}.</content> {rng.choice(base)} "
               f"Patient {rng.choice(obs_words)} and {rng.choice(obs_words)}. Weight {w:.1f} kg, "
               f"heart rate {rng.randint(68, 104)} /min, blood pressure {rng.randint(104, 138)}/"
               f"{rng.randint(58, 84)} mmHg, oxygen saturation {rng.randint(91, 98)}% on "
               f"{rng.choice(['room air', '2 litres via nasal cannulae', 'room air'])}. "
               f"Chest: {rng.choice(['bibasal crackles', 'fine crackles at the left base', 'clear', 'reduced air entry at the right base'])}. "
               f"Oedema {rng.choice(['to the knees', 'to mid-shin', 'at the ankles only', 'much reduced'])}. "
               f"{rng.choice(plans)} {rng.choice(plans)}</paragraph>")
        days.append(txt)
    return "".join(days)


def bloods_table(rng):
    analytes = [("Sodium", "mmol/L", 133, 141), ("Potassium", "mmol/L", 3.6, 5.3),
                ("Urea", "mmol/L", 6.0, 14.0), ("Creatinine", "&#181;mol/L", 88, 156),
                ("eGFR", "mL/min/1.73m&#178;", 38, 72), ("Haemoglobin", "g/L", 108, 126),
                ("White cell count", "&#215;10&#8313;/L", 5.1, 11.8), ("Platelets", "&#215;10&#8313;/L", 180, 320),
                ("CRP", "mg/L", 3, 48), ("NT-proBNP", "ng/L", 1800, 7400), ("Magnesium", "mmol/L", 0.65, 0.95),
                ("Albumin", "g/L", 31, 38)]
    head = ["Date"] + [f"{a} ({u})" for a, u, _, _ in analytes]
    rows = []
    for day in range(1, 15):
        row = [f"{day + 1:02d}-Apr-2024"]
        for _, _, lo, hi in analytes:
            v = rng.uniform(lo, hi)
            row.append(f"{v:.2f}" if hi < 10 else f"{v:.0f}")
        rows.append(row)
    return table(rows, head=head)


def obs_table(rng):
    head = ["Date / time", "Temp (&#176;C)", "HR", "BP", "RR", "SpO&#8322;", "NEWS2"]
    rows = []
    for day in range(1, 15):
        for t in ("0600", "1400", "2200"):
            rows.append([f"{day + 1:02d}/04 {t}", f"{rng.uniform(36.2, 37.6):.1f}", str(rng.randint(66, 102)),
                         f"{rng.randint(102, 140)}/{rng.randint(58, 86)}", str(rng.randint(14, 22)),
                         f"{rng.randint(92, 98)}%", str(rng.randint(0, 4))])
    return table(rows, head=head)


def discharge_02():
    n = "discharge_02"
    rng = random.Random(20240416)
    d = dict(
        id=uid(n), effective="20240416153000+0000", conf="N",
        patient=dict(
            ids=[(VERIFIED, "9990000018", ""),
                 (LOCAL, "MRN-7730412", ' assigningAuthorityName="XZT02:Harrowmere Hospitals NHS Foundation Trust"')],
            addr=(["Flat 3", "27 Tannery Court", "Harrowmere"], "ZZ9 3TC"),
            name=dict(use="L", prefix="Mr", given=["Desmond", "Albert"], family="Fairweather-Nkemelu"),
            gender=("1", "Male"), birth="19410203",
            gp=dict(ods="Z99902", name="Tannery Court Medical Practice",
                    addr=(["Tannery Court Health Centre", "Harrowmere"], "ZZ9 3HC"))),
        authors=[dict(time="20240416153000+0000",
                      ids=[(SDS_ROLE, "555032223334"), (SDS_USER, "555012223334")],
                      role=("R0050", "Consultant"),
                      name=dict(prefix="Dr", given=["Ingrid"], family="Achterberg"),
                      org=("XZT02", "Harrowmere Hospitals NHS Foundation Trust"))],
        custodian=("XZT02", "Harrowmere Hospitals NHS Foundation Trust"),
        recipients=[
            dict(type="PRCP", person=dict(prefix="Dr", given=["Kwame"], family="Ashdown"), sds="555098760001",
                 org=("Z99902", "Tannery Court Medical Practice")),
            dict(type="TRC", person=dict(given=["Bethan"], family="Lloyd-Pryce"),
                 role=("R0690", "Specialist Nurse Practitioner"), sds="555098760002",
                 org=("XZC02", "Harrowmere Heart Failure Nursing Team")),
            dict(type="TRC", org=("XZC03", "Harrowmere Community Pharmacy Service")),
        ],
        encounter=dict(id=uid(n + "/enc"), code=("11429006", "Consultation"),
                       low="20240402093000+0000", high="20240416120000+0000",
                       responsible=dict(sds_role="555032223334",
                                        name=dict(prefix="Dr", given=["Ingrid"], family="Achterberg")),
                       location=dict(id="XZT0203", code=("700241009", "Cardiology department"),
                                     org=("XZT02", "Harrowmere Hospitals NHS Foundation Trust"))),
    )
    e = [uid(f"{n}/e{i}") for i in range(9)]
    pharm = ("555077004455", dict(prefix="Mr", given=["Oluwaseun"], family="Brackenridge"))
    entries = [
        finding(e[0], "42343007", "Congestive heart failure", "h1", "20240402093000+0000"),
        finding(e[1], "49436004", "Atrial fibrillation", "h2", "20240402093000+0000"),
        finding(e[2], "709044004", "Chronic kidney disease", "h3", "20240402093000+0000"),
        treatment(e[3], "40701008", "Echocardiography", "p1", "20240404101500+0000", "20240404104500+0000"),
        treatment(e[4], "392231009", "Intravenous diuretic therapy", "p2",
                  "20240402110000+0000", "20240407180000+0000"),
        supply(e[5], "317972009", "Furosemide 40mg tablets", "m1",
               "40mg each morning; review weight daily and contact the heart failure nurse if gain &gt; 2 kg in 3 days",
               "20240416110000+0000", pharm),
        supply(e[6], "318420003", "Bisoprolol 2.5mg tablets", "m2", "2.5mg once daily", "20240416110000+0000", pharm),
        supply(e[7], DMD_VOLTAROL, "Voltarol Rapid 50mg tablets (Novartis Pharmaceuticals UK Ltd)", "m3",
               "STOPPED on admission &#8212; do not restart (NSAID in heart failure)", "20240416110000+0000", pharm),
        cre_type_list(e[8], "185361000000102", "Medication", [e[5], e[6], e[7]]),
    ]
    s = lambda k: uid(f"{n}/{k}")
    sec = section

    def leaf(key, title, text, kids=()):
        return sec(9, s(key), title, text, kids, depth=2)

    addr3 = sec(11, s("dest-addr"), "destination address",
                "Flat 3, 27 Tannery Court,<br/>Harrowmere,<br/>ZZ9 3TC", depth=3)
    narrative = (
        "<paragraph>Mr Fairweather-Nkemelu is an 83-year-old retired printer who lives alone in a first-floor flat "
        "with a stair lift and a twice-daily package of care. He was admitted via the emergency department with a "
        "ten-day history of increasing breathlessness, orthopnoea (three pillows), paroxysmal nocturnal dyspnoea and "
        "a weight gain of about 6 kg. He had been taking over-the-counter diclofenac for knee pain. On arrival he was "
        "in fast atrial fibrillation (ventricular rate 128 /min) with bibasal crackles and pitting oedema to the "
        "thighs.</paragraph>"
        "<paragraph>He was treated with intravenous furosemide, rate control and anticoagulation was continued. The "
        "echocardiogram showed a moderately impaired left ventricle (ejection fraction 35&#8211;40%) with moderate "
        "functional mitral regurgitation. Renal function worsened transiently on day 4 and improved as diuresis "
        "slowed. The heart failure specialist nurse saw him twice and the occupational therapist completed a kitchen "
        "assessment; he is confident with the stair lift and his carers&#8217; visits will continue.</paragraph>"
        + big_narrative(rng))
    clinical = [
        leaf("dx", "Diagnosis at discharge",
             "<list><item><content ID=\"h1\">Acute decompensated heart failure with reduced ejection fraction"
             "</content></item><item><content ID=\"h2\">Atrial fibrillation with fast ventricular response"
             "</content></item><item><content ID=\"h3\">Chronic kidney disease stage 3b</content></item></list>"),
        leaf("ops", "Operations and procedures",
             "<list><item><content ID=\"p1\">Transthoracic echocardiogram 04-Apr-2024</content></item>"
             "<item><content ID=\"p2\">Intravenous diuretic therapy 02&#8211;07 Apr 2024</content></item></list>"),
        leaf("reason", "Reason for Admission and Presenting Complaints",
             "Breathlessness, orthopnoea and leg swelling for ten days."),
        leaf("capacity", "Mental Capacity", "Has capacity for all decisions made during this admission."),
        leaf("adrt", "Advance decisions to refuse treatment and Resuscitation status",
             "No advance decision. For full escalation including resuscitation after discussion with patient "
             "&amp; daughter."),
        leaf("allergies", "Allergies", "Penicillin &#8212; rash (1998). No other known allergies."),
        leaf("narr", "Clinical narrative", narrative),
        leaf("inv", "Relevant investigations and results",
             "<paragraph>Daily blood results:</paragraph>" + bloods_table(rng)
             + "<paragraph>Observation chart (extract):</paragraph>" + obs_table(rng)
             + "<paragraph>Chest X-ray 02-Apr-2024: cardiomegaly, upper lobe diversion and small bilateral "
               "effusions. Repeat 12-Apr-2024: effusions resolved.</paragraph>"),
        leaf("ability", "Measures of physical ability and cognitive function",
             "Mobile with a frame indoors; Barthel 17/20; AMTS 10/10."),
        leaf("medchg", "Medication Changes",
             table([["Diclofenac (OTC)", "Stopped", "NSAID &#8212; worsens heart failure and renal function"],
                    ["Bisoprolol", "Started 2.5mg OD", "Rate control and heart failure"],
                    ["Furosemide", "Increased 20mg &#8594; 40mg OM", "Fluid overload"]],
                   head=["Medicine", "Change", "Reason"])),
        leaf("dismeds", "Discharge Medications",
             table([["<content ID=\"m1\">Furosemide 40mg tablets</content>", "40mg OM", "28 days"],
                    ["<content ID=\"m2\">Bisoprolol 2.5mg tablets</content>", "2.5mg OD", "28 days"],
                    ["<content ID=\"m3\">Voltarol Rapid 50mg tablets</content>", "STOPPED", "&#8212;"],
                    ["Apixaban 5mg tablets", "5mg BD", "own supply"]],
                   head=["Medicine", "Dose", "Supply"])),
    ]
    admission = [leaf("moa", "Method of Admission",
                      "Emergency: via Accident and Emergency (A and E) services"),
                 leaf("soa", "Source of Admission", "The usual place of residence"),
                 leaf("site", "Hospital Site", "Harrowmere General Hospital"),
                 leaf("trust", "Responsible Trust", "Harrowmere Hospitals NHS Foundation Trust"),
                 leaf("doa", "Date of Admission", "02-Apr-2024")]
    discharge = [leaf("dod", "Date of Discharge", "16-Apr-2024"),
                 leaf("dm", "Discharge Method", "Patient discharged on clinical advice or with clinical consent"),
                 leaf("dd", "Discharge Destination", "The usual place of residence", [addr3]),
                 leaf("dc", "Discharging Consultant", "Dr Ingrid Achterberg"),
                 leaf("dsp", "Discharging speciality/ Department", "Cardiology")]
    advice = [leaf("adv-h", "Hospital", "Heart failure clinic in 6 weeks (letter to follow)."),
              leaf("adv-gp", "GP",
                   "Please check U&amp;E in 1 week and titrate bisoprolol; consider an SGLT2 inhibitor once renal "
                   "function is stable."),
              leaf("adv-c", "Community and specialist services",
                   "Heart failure nurse home visit within 2 weeks; daily weights at home."),
              leaf("adv-r", "Results Awaited", "None.")]
    top = [
        sec(7, s("gp"), "GP Name", "Dr Kwame Ashdown"),
        sec(7, s("adm"), "Admission Details", None, admission),
        sec(7, s("dis"), "Discharge Details", None, discharge),
        sec(7, s("clin"), "Clinical Information", None, clinical),
        sec(7, s("adv"), "Advice, recommendations and future plan", None, advice),
    ]
    # the ITK sample nests the text sections one level deeper under a ClassificationSection
    body = structured_body(s("outer"), entries, [
        "\t\t\t\t\t<component typeCode=\"COMP\" contextConductionInd=\"true\">\n"
        "\t\t\t\t\t\t<npfitlc:contentId root=\"2.16.840.1.113883.2.1.3.2.4.18.16\" extension=\"COCD_TP146230GB01#ClassificationSection\"/>\n"
        "\t\t\t\t\t\t<section classCode=\"DOCSECT\" moodCode=\"EVN\">\n"
        "\t\t\t\t\t\t\t<templateId root=\"2.16.840.1.113883.2.1.3.2.4.18.2\" extension=\"COCD_TP146230GB01#ClassificationSection\"/>\n"
        f"\t\t\t\t\t\t\t<id root=\"{s('class')}\"/>\n" + "".join(top)
        + "\t\t\t\t\t\t</section>\n\t\t\t\t\t</component>\n"])
    text = document(d, body, comment=DISCLAIMER)
    write("discharge/discharge_02_edischarge_headings_large_crlf.xml", text.replace("\n", "\r\n"))


# =============================================================================================
# discharge 03: hl7: prefixed namespace, odd npfitlc prefix, invalid Mod-11 NHS number, +01
# =============================================================================================

def to_prefixed(text, hl7="hl7", lc="lcx"):
    text = text.replace('xmlns="urn:hl7-org:v3"', f'xmlns:{hl7}="urn:hl7-org:v3"')
    text = text.replace('xmlns:npfitlc="NPFIT:HL7:Localisation"', f'xmlns:{lc}="NPFIT:HL7:Localisation"')

    def tag(m):
        slash, name = m.group(1), m.group(2)
        if name.startswith("npfitlc:"):
            return f"<{slash}{lc}:{name[len('npfitlc:'):]}"
        if ":" in name:
            return m.group(0)
        return f"<{slash}{hl7}:{name}"

    text = re.sub(r"<(/?)([A-Za-z][\w.:-]*)", tag, text)
    text = re.sub(r'xsi:type="([A-Za-z_.]+)"', rf'xsi:type="{hl7}:\1"', text)
    return text


def discharge_03():
    n = "discharge_03"
    assert not nhs_valid("9434765918")
    d = dict(
        id=uid(n), effective="202405021745+01", conf="R",
        patient=dict(
            ids=[(VERIFIED, "9434765918", "")],
            addr=(["Rose Cottage", "Nether Stowbridge"], "ZZ4 7RC"),
            name=dict(prefix="Mr", given=["Callum"], family="Drummond-Ferreira"),
            gender=("1", "Male"), birth="19790930",
            gp=dict(ods="Z99903", name="Stowbridge &amp; District Surgery")),
        authors=[dict(time="202405021700+01",
                      ids=[(SDS_USER, "555013334445"), (SDS_ROLE, "555033334445")],
                      role=("R0050", "Consultant"),
                      name=dict(prefix="Miss", given=["Hélène"], family="Marchbanks"),
                      org=("XZT03", "Stowbridge University Hospitals NHS Trust"))],
        custodian=("XZT03", "Stowbridge University Hospitals NHS Trust"),
        recipients=[dict(type="PRCP", person=dict(prefix="Dr", given=["Ruth"], family="Okonjo-Lane"),
                         sds="555098760033", org=("Z99903", "Stowbridge &amp; District Surgery")),
                    dict(type="TRC", person=dict(given=["Marcus"], family="Tindall"),
                         role=("R8000", "Clinical Practitioner Access Role"), sds="555098760034",
                         org=("XZC04", "Stowbridge Community Dietetics"))],
        encounter=dict(id=uid(n + "/enc"), code=("11429006", "Consultation"),
                       low="202404270830+01", high="202405021600+01",
                       responsible=dict(sds_role="555033334445",
                                        name=dict(prefix="Miss", given=["Hélène"], family="Marchbanks")),
                       location=dict(id="XZT0305", code=("309937004", "General surgical department"),
                                     org=("XZT03", "Stowbridge University Hospitals NHS Trust"))),
    )
    e = [uid(f"{n}/e{i}") for i in range(4)]
    entries = [
        treatment(e[0], "80146002", "Appendicectomy", "b1", "202404271900+01", "202404272010+01"),
        finding(e[1], "74400008", "Appendicitis", "b2", "202404270830+01"),
        finding(e[2], "386661006", "Fever", "b3", "202404270830+01"),
        supply(e[3], "39732311000001104", "Amoxicillin 500mg capsules", "b4",
               "500mg three times a day for 5 days", "202405021500+01",
               ("555077009988", dict(given=["Zofia"], family="Wiśniewska"))),
    ]
    s = lambda k: uid(f"{n}/{k}")
    top = kv_table([("Admitted:", "27/04/2024 08:30"), ("Discharged:", "02/05/2024 16:00"),
                    ("Ward:", "Larch Ward (surgical)")])
    sections = [
        section(5, s("hdr"), None, top, depth=1, title_mode="unk"),
        section(5, s("sum"), "Clinical Summary", "", [
            section(7, s("sum-dx"), "Diagnosis",
                    "<content ID=\"b2\">Acute appendicitis</content> with <content ID=\"b3\">fever</content>",
                    depth=2),
            section(7, s("sum-op"), "Procedure",
                    "<content ID=\"b1\">Laparoscopic appendicectomy</content> 27/04/2024 &#8212; converted to open "
                    "because of a perforated retrocaecal appendix.", depth=2),
            section(7, s("sum-notes"), None,
                    "<paragraph>Post-operative ileus for 48 hours, managed conservatively.</paragraph>",
                    depth=2, title_mode="none"),
        ]),
        section(5, s("diet"), "Dietitian Notes",
                "<paragraph>Low-residue diet for 2 weeks, then normal diet as tolerated. Café-style small meals "
                "encouraged; 1&#8211;2 oral nutritional supplements per day (costing ~&#163;2 each if bought).</paragraph>"),
        section(5, s("meds"), "Medication on Discharge",
                "<list><item><content ID=\"b4\">Amoxicillin 500mg capsules TDS for 5 days</content></item></list>"),
        section(5, s("empty"), "Results Awaited", ""),
        section(5, s("plan"), "Ongoing Care",
                "<paragraph>Practice nurse to remove clips on day 10. Return if temperature &gt; 38&#176;C, "
                "worsening pain or wound discharge.</paragraph>"),
    ]
    body = structured_body(s("outer"), entries, sections)
    text = document(d, body, comment=DISCLAIMER)
    write("discharge/discharge_03_prefixed_hl7_ns_bad_nhs_number.xml", to_prefixed(text, "hl7", "lcx"))


# =============================================================================================
# discharge 04: UTF-16LE with BOM, unverified NHS number, text-only name, date-only, high UNK
# =============================================================================================

def discharge_04():
    n = "discharge_04"
    d = dict(
        id=uid(n), effective="20240520", conf="N",
        patient=dict(
            ids=[(UNVERIFIED, "9990000026", "")],
            addr=(["Room 12, Brambleside Care Home", "Oakhurst Lane", "Little Pennock"], "ZZ6 1BC"),
            name="Ms. Jane Doe",
            gender=("2", "Female"), birth="19330101"),
        authors=[dict(time="20240520", ids=None,
                      name=dict(given=["Ngozi"], family="Pemberton-Hartley"),
                      org=("XZT04", "Pennock Valley NHS Trust"))],
        custodian=("XZT04", "Pennock Valley NHS Trust"),
        recipients=[dict(type="PRCP", org=("Z99904", "Pennock Vale Health Centre"))],
        encounter=dict(id=uid(n + "/enc"), code=("11429006", "Consultation"), low="20240511", high=None,
                       location=dict(id="XZT0402", code=("225728007", "Accident and Emergency department"),
                                     org=("XZT04", "Pennock Valley NHS Trust"))),
    )
    e = [uid(f"{n}/e{i}") for i in range(2)]
    entries = [
        finding(e[0], "68566005", "Urinary tract infectious disease", "c1", "20240511"),
        finding(e[1], "2776000", "Delirium", "c2", "20240511"),
    ]
    s = lambda k: uid(f"{n}/{k}")
    sections = [
        section(5, s("hdr"), None,
                kv_table([("Admitted:", "11 May 2024"), ("Discharge date:", "not yet known (transfer pending)"),
                          ("Consultant:", "Dr Aurélie Saint-Clair")]), depth=1, title_mode="none"),
        section(5, s("sum"), "Summary of Care",
                "<paragraph>Found confused at her care home; <content ID=\"c1\">urinary tract infection</content> "
                "with <content ID=\"c2\">hyperactive delirium</content>. Treated with oral antibiotics. She’s now "
                "back to her usual self per the care home’s manager, Mr José Ibáñez.</paragraph>"),
        section(5, s("preg"), "Pregnancy History", ""),
        section(5, s("oc"), "Ongoing Care",
                "<paragraph>Encourage fluids (target 1.5 l/day). Funded nursing care contribution £219.71 per week "
                "unchanged.</paragraph>"),
    ]
    body = structured_body(s("outer"), entries, sections)
    text = document(d, body, prolog='<?xml version="1.0" encoding="UTF-16"?>\n', comment=DISCLAIMER)
    write("discharge/discharge_04_utf16le_bom_unverified_nhs.xml", b"\xff\xfe" + text.encode("utf-16-le"))


# =============================================================================================
# discharge 05 / 06: duplicate document id, different content
# =============================================================================================

DUP_ID = uid("duplicate-id")


def discharge_05_06():
    common_author = dict(ids=[(SDS_ROLE, "555035556667"), (SDS_USER, "555015556667")],
                         role=("R0050", "Consultant"),
                         name=dict(prefix="Prof", given=["Rashid"], family="Eastwood"),
                         org=("XZT05", "Brackley Fen NHS Trust"))
    # --- 05
    n = "discharge_05"
    d = dict(
        id=DUP_ID, effective="20240603091500+0100", conf="N",
        patient=dict(ids=[(VERIFIED, "9990000034", "")],
                     addr=(["9 Osier Walk", "Brackley Fen"], "ZZ2 9OW"),
                     name=dict(prefix="Miss", given=["Poppy"], family="Larkham"),
                     gender=("2", "Female"), birth="20010217",
                     gp=dict(ods="Z99905", name="Fenside Practice")),
        authors=[dict(time="20240603091500+0100", **common_author)],
        custodian=("XZT05", "Brackley Fen NHS Trust"),
        recipients=[dict(type="PRCP", person=dict(prefix="Dr", given=["Helga"], family="Marsh"),
                         sds="555098760055", org=("Z99905", "Fenside Practice"))],
        encounter=dict(id=uid(n + "/enc"), code=("11429006", "Consultation"),
                       low="20240601224500+0100", high="20240603080000+0100",
                       location=dict(id="XZT0501", code=("309904001", "Intensive care unit"),
                                     org=("XZT05", "Brackley Fen NHS Trust"))),
    )
    e = [uid(f"{n}/e{i}") for i in range(2)]
    entries = [finding(e[0], "420422005", "Diabetic ketoacidosis", "k1", "20240601224500+0100"),
               finding(e[1], None, None, "k2", "20240601224500+0100")]
    s = lambda k: uid(f"{n}/{k}")
    sections = [section(5, s("s1"), "Summary of Care",
                        "<paragraph><content ID=\"k1\">Diabetic ketoacidosis</content> precipitated by a "
                        "<content ID=\"k2\">missed insulin doses during a gastroenteritis illness</content>. "
                        "Fixed-rate insulin infusion for 20 hours.</paragraph>"),
                section(5, s("s2"), "Ongoing Care",
                        "<paragraph>Diabetes specialist nurse to phone within 48 hours; sick-day rules reinforced."
                        "</paragraph>")]
    write("discharge/discharge_05_duplicate_id_a.xml",
          document(d, structured_body(s("outer"), entries, sections), comment=DISCLAIMER))
    # --- 06: same id, different patient and content, encounter code + facility id nullFlavor
    n = "discharge_06"
    d = dict(
        id=DUP_ID, effective="202406041200", conf="R",
        patient=dict(ids=[(VERIFIED, "9990000042", "")],
                     addr=(["Lock Keeper’s House", "Canal Side", "Brackley Fen"], "ZZ2 1LK"),
                     name=dict(prefix="Mr", given=["Augustin"], family="Pelletier"),
                     gender=("1", "Male"), birth="19660722",
                     gp=dict(ods="Z99905", name="Fenside Practice")),
        authors=[dict(time="202406041200", **common_author)],
        custodian=("XZT05", "Brackley Fen NHS Trust"),
        recipients=[dict(type="PRCP", org=("Z99905", "Fenside Practice")),
                    dict(type="TRC", org=("XZC05", "Brackley Fen Drug &amp; Alcohol Service"))],
        encounter=dict(id=uid(n + "/enc"), code=None, low="202406021015", high="202406041130",
                       location=dict(id=None, code=("309904001", "Intensive care unit"),
                                     org=("XZT05", "Brackley Fen NHS Trust"))),
    )
    e = [uid(f"{n}/e{i}") for i in range(1)]
    entries = [finding(e[0], "197321007", "Steatosis of liver", "f1", "202406021015")]
    s = lambda k: uid(f"{n}/{k}")
    sections = [section(5, s("s1"), "Summary of Care",
                        "<paragraph>Admitted with upper abdominal pain. Ultrasound: <content ID=\"f1\">fatty liver"
                        "</content>, no gallstones. Alcohol intake 60 units/week; brief intervention given.</paragraph>"),
                section(5, s("s2"), "Social Context", "<paragraph>Lives with partner; works as a lock keeper.</paragraph>")]
    write("discharge/discharge_06_duplicate_id_b.xml",
          document(d, structured_body(s("outer"), entries, sections), comment=DISCLAIMER))


# =============================================================================================
# discharge 07: legacy Generic CDA (no messageType, template ids in typeId, '.' separator)
# =============================================================================================

def discharge_07():
    n = "discharge_07"
    d = dict(
        legacy=True, id=uid(n), effective="20070911", conf="0",
        patient=dict(ids=[(VERIFIED, "9990000050", ""), (LOCAL, "LEG-000417", "")],
                     name=dict(prefix="Mr", given=["Percival"], family="Thistlewood"),
                     gender=("1", "Male"), birth="19470405",
                     gp=dict(ods=None, name="Old Mill Care Home",
                             addr=(["7 Weir Way", "Millbrook"], "ZZ8 7WW"))),
        authors=[dict(time="20070911",
                      ids=[(SDS_USER, "555016667778"), (SDS_ROLE, "555036667778")],
                      role=("R0050", "Consultant"),
                      name=dict(prefix="Dr", given=["Cornelius"], family="Abernethy"),
                      org=("555000001234", "St Aldhelm's Hospital", "1.2.826.0.1285.0.1.10"))],
        custodian=("XZT07", "Millbrook Hospitals Trust"),
        recipients=[dict(type="PRCP", person=dict(prefix="Dr", given=["Imogen"], family="Fairclough"),
                         sds="555098760077", org=("Z99907", "Millbrook Surgery"))],
        encounter=dict(id=uid(n + "/enc"), code=("11429006", "Consultation"), low="20070903", high="20070910"),
    )
    e = [uid(f"{n}/e{i}") for i in range(1)]
    entries = [finding(e[0], "195967001", "Asthma", "g1", "20070903", legacy=True)]
    s = lambda k: uid(f"{n}/{k}")
    sections = [
        section(5, s("s1"), "Diagnoses", "<content ID=\"g1\">Acute severe asthma</content>", legacy=True),
        section(5, s("s2"), "Discharge Summary",
                "<paragraph>Nebulised salbutamol &amp; oral prednisolone; peak flow 78% of best at discharge."
                "</paragraph>", legacy=True),
    ]
    body = structured_body(s("outer"), entries, sections, legacy=True)
    write("discharge/discharge_07_legacy_generic_cda.xml", document(d, body, comment=DISCLAIMER))


# =============================================================================================
# discharge 08: rich header (names with CL/BR parts, ethnicity, guardian, language, two addresses,
# MC/EC telecoms, device author, data enterer, informant, authenticators, referrer, call-back
# contact, recipients with ids/addresses) and entries (Treatment without displayName, Diagnosis
# with a CV value, dm+d supply, embedded PNG shown by renderMultiMedia), pretty-printed narrative
# =============================================================================================

# a 2 x 2 pixel RGB PNG (73 bytes), fixed so regeneration never depends on the zlib version
PNG_2X2 = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR42mM4kRIARAwQCgArfgXxIXbrJAAAAABJRU5ErkJggg=="
# A minimal PDF header, base64 (the converter carries embedded PDFs as ITK-Attachment-Binary-1).
PDF_TINY = "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcgo8PC9Sb290IDEgMCBSPj4KJSVFT0YK"


def discharge_08():
    n = "discharge_08"
    nhs = "9990000085"
    assert nhs_valid(nhs)
    trust = ("XZT08", "Teifi Vale NHS Trust")
    gp = ("Z99908", "Cwmgarth Health Centre")
    consultant = dict(prefix="Dr", given=["Rhiannon"], family="Beddoe")
    d = dict(
        id=uid(n), effective="202406181430+0100", conf="R",
        patient=dict(
            ids=[(VERIFIED, nhs, ""),
                 (LOCAL, "TV-0088412", ' assigningAuthorityName="XZT08:Teifi Vale NHS Trust"')],
            addrs=[("H", [("houseNumber", "7"), ("streetName", "Heol y Felin"), ("city", "Cwmgarth"),
                          ("county", "Westmereshire"), ("postalCode", "ZZ8 7HF")]),
                   ("PST", [("streetAddressLine", "PO Box 808"), ("streetAddressLine", "Cwmgarth"),
                            ("postalCode", "ZZ8 0PB")])],
            telecoms=[("HP", "tel:01632960808"), ("MC", "tel:07700900808"), ("EC", "tel:01632960881")],
            name=dict(use="L", prefix="Mrs", given=["Gwenllian", "Mair"], call_me="Gwen", family="Havard",
                      birth_family="Prosser"),
            gender=("2", "Female"), birth="19400214",
            marital=("W", "Widowed"),
            ethnic=("CC", "Welsh"),
            guardian=dict(code=("05", "Guardian"),
                          addr=(["Ty Isaf", "Cwmgarth"], "ZZ8 7TI"),
                          telecom=("MC", "tel:07700900818"),
                          name=dict(prefix="Mr", given=["Emrys"], family="Havard")),
            languages=[("cy", "true")],
            gp=dict(ods=gp[0], name=gp[1], addr=(["Stryd Fawr", "Cwmgarth"], "ZZ8 1HC"))),
        authors=[dict(time="202406181430+0100",
                      ids=[(SDS_ROLE, "555038880801"), (SDS_USER, "555018880801")],
                      role=("R0050", "Consultant"), name=consultant, org=trust),
                 dict(time="202406181430+0100",
                      device=dict(ids=[(LOCAL, "TVEPR-DISCH-01")], model="Teifi Vale ePR 4.2",
                                  software="Discharge Letter Composer"),
                      org=trust)],
        data_enterer=dict(time="202406181405+0100",
                          ids=[(SDS_USER, "555018880802"), (SDS_ROLE, "555038880802")],
                          role=("R1984", "Health Records Administrator"),
                          addr=(["Ward Derwen, Ysbyty Teifi", "Glanteifi"], "ZZ8 2YT"),
                          telecom=("WP", "tel:01632960822"),
                          name=dict(prefix="Ms", given=["Lowri"], family="Pugh"), org=trust),
        informants=[dict(code=("43", "Daughter"),
                         addr=(["2 Maes y Coed", "Glanteifi"], "ZZ8 4MC"),
                         telecom=("MC", "tel:07700900843"),
                         name=dict(prefix="Mrs", given=["Eirlys"], family="Jenkins"))],
        custodian=trust,
        recipients=[
            dict(type="PRCP", person=dict(prefix="Dr", given=["Huw"], family="Pritchard"),
                 sds="555098760081", sds_role="555038760081", role=("R0260", "General Medical Practitioner"),
                 org=gp),
            dict(type="TRC", addr=(["Canolfan Adfer, Heol y Bont", "Glanteifi"], "ZZ8 3CR"),
                 telecom=("WP", "tel:01632960833"), org=("XZC08", "Teifi Vale Community Rehabilitation Team")),
        ],
        legal_authenticator=dict(time="202406181440+0100",
                                 ids=[(SDS_USER, "555018880801"), (SDS_ROLE, "555038880801")],
                                 role=("R0050", "Consultant"), name=consultant, org=trust),
        authenticators=[dict(time="202406181420+0100", ids=[(SDS_USER, "555018880803")],
                             role=("R0110", "Specialist Registrar"),
                             name=dict(prefix="Dr", given=["Cai"], family="Llywelyn"), org=trust)],
        participants=[
            dict(type="REFT", template="COCD_TP145214GB01", ids=[(SDS_USER, "555098760083")],
                 addr=(["Stryd Fawr", "Cwmgarth"], "ZZ8 1HC", "WP"), telecom=("WP", "tel:01632960844"),
                 name=dict(prefix="Dr", given=["Siân"], family="Wyn-Roberts"), org=gp),
            dict(type="CALLBCK", template="COCD_TP145212GB02",
                 telecom=("WP", "tel:01632960855"),
                 name=dict(prefix="Sister", given=["Nia"], family="Bevan"), org=trust),
        ],
        encounter=dict(id=uid(n + "/enc"), code=("11429006", "Consultation"),
                       low="202406101805+0100", high="202406181200+0100",
                       responsible=dict(sds_role="555038880801", name=consultant),
                       location=dict(id="XZT0803", code=("225746001", "Ward"), org=trust)),
    )
    e = [uid(f"{n}/e{i}") for i in range(7)]
    entries = [
        treatment(e[0], "52734007", None, "t1", "202406111400+0100", "202406111545+0100"),
        diagnosis(e[1], "5913000", "Fracture of neck of femur", "d1", "202406101805+0100"),
        supply(e[2], "39720311000001101", "Paracetamol 500mg soluble tablets", "m1",
               "1g four times a day when required for pain; dissolve in water. Supplied 18-Jun-2024 11:00",
               "202406181100+0100",
               ("555077008899", dict(prefix="Mr", given=["Gethin"], family="Rowlands"))),
        observation_media(e[3], "OM1", "image/png", PNG_2X2),
        cre_type_list(e[4], "185361000000102", "Medication", [e[2]]),
        allergy(e[5], ("416098002", "Drug allergy"), ("373270004", "Penicillin -class of antibiotic-"),
                "al1", "199803"),
        observation_media(e[6], "OM2", "application/pdf", PDF_TINY),
    ]
    s = lambda k: uid(f"{n}/{k}")
    L = 7  # level of <text> in a depth-1 section at level 5
    summary = pretty_text(
        L,
        E("paragraph",
          "Mrs Havard (known as Gwen) was admitted on 10-Jun-2024 after a fall in her kitchen; she could not "
          "weight-bear and her left leg was shortened and externally rotated. She had a",
          E("content", "left cemented total hip replacement", ID="t1"),
          "under spinal anaesthesia on 11-Jun-2024."),
        E("list",
          E("item", "Post-operative delirium on days 2&#8211;3, settled with reorientation and her daughter "
                    "staying overnight."),
          E("item", "Mobilising with a frame and one assistant by day 4; independent with the frame by day 6."),
          E("item", "Welsh is her first language; the ward arranged Welsh-speaking staff for her care.")),
        E("paragraph", "Wound on day 5:",
          E("renderMultiMedia", E("caption", "Hip wound, day 5 (photograph)"), referencedObject="OM1")),
    )
    diagnoses = pretty_text(
        L,
        E("list",
          E("item", E("content", "Displaced intracapsular fracture of the left neck of femur", ID="d1")),
          E("item", "Mild cognitive impairment (known to the memory clinic)"),
          listType="ordered"),
    )
    meds = pretty_text(
        L,
        E("table",
          E("thead", E("tr", E("th", "Medicine"), E("th", "Dose"), E("th", "Duration"), E("th", "Notes"))),
          E("tbody",
            E("tr", E("td", E("content", "Paracetamol 500mg soluble tablets", ID="m1")),
              E("td", "1g QDS PRN"), E("td", "2 weeks"), E("td", "New")),
            E("tr", E("td", "Enoxaparin 40mg injection"), E("td", "40mg once daily"), E("td", "28 days"),
              E("td", "New &#8212; district nurse to give")),
            E("tr", E("td", "Donepezil 5mg tablets"), E("td", "5mg at night"), E("td", "Continue"),
              E("td", "Unchanged")))),
    )
    ongoing = pretty_text(
        L,
        E("paragraph", "Actions for the GP:"),
        E("list",
          E("item", "Review pain relief at 2 weeks &amp; check the wound."),
          E("item", "Consider a bone-health assessment (FRAX) and start treatment if indicated.")),
        E("paragraph", "Orthopaedic clinic with X-ray in 6 weeks (appointment letter to follow, in Welsh)."),
    )
    home_visit = pretty_text(
        L,
        E("table",
          E("tbody",
            E("tr", E("td", E("content", "Visit date:", styleCode="Bold")), E("td", "14-Jun-2024")),
            E("tr", E("td", E("content", "Therapist:", styleCode="Bold")), E("td", "Ffion Dafis, OT")),
            E("tr", E("td", E("content", "Equipment:", styleCode="Bold")),
              E("td", "Raised toilet seat, perching stool, second stair rail")))),
        E("paragraph", "Access to the house is level; the bedroom and bathroom are upstairs.",
          E("br"), "Son (guardian) will stay for the first week."),
    )
    allergies = pretty_text(
        L,
        E("paragraph", E("content", "Penicillin", ID="al1"), "&#8212; widespread rash in 1998."),
        E("paragraph", "Discharge letter for the patient (PDF):",
          E("renderMultiMedia", E("caption", "Patient letter"), referencedObject="OM2")),
    )
    sections = [
        section(5, s("sum"), "Summary of Care", summary),
        section(5, s("alg"), "Allergies", allergies),
        section(5, s("dx"), "Diagnoses", diagnoses),
        section(5, s("meds"), "Medication on Discharge", meds),
        section(5, s("plan"), "Ongoing Care", ongoing),
        section(5, s("ot"), "Occupational Therapy Home Visit", home_visit),
    ]
    body = structured_body(s("outer"), entries, sections)
    write("discharge/discharge_08_rich_header_entries.xml", document(d, body, comment=DISCLAIMER))


# =============================================================================================
# other-kinds/: must be skipped by this version
# =============================================================================================

def simple_doc(n, message_type, code, title, body_title, body_text, extra=None, effective="202407011000+01",
               prolog='<?xml version="1.0" encoding="UTF-8"?>\n', comment=DISCLAIMER):
    d = dict(
        id=uid(n), message_type=message_type, code=code, title=title, effective=effective, conf="N",
        patient=dict(ids=[(VERIFIED, "9990000069", "")],
                     name=dict(prefix="Mrs", given=["Wilhelmina"], family="Brook"),
                     gender=("2", "Female"), birth="19820314",
                     gp=dict(ods="Z99909", name="Riverside Surgery")),
        authors=[dict(time=effective, ids=[(SDS_USER, "555019990001")], role=("R0050", "Consultant"),
                      name=dict(prefix="Dr", given=["Felix"], family="Armitage"),
                      org=("XZT09", "Riverside NHS Trust"))],
        custodian=("XZT09", "Riverside NHS Trust"),
        recipients=[dict(type="PRCP", org=("Z99909", "Riverside Surgery"))],
        encounter=dict(id=uid(n + "/enc"), code=("11429006", "Consultation"), low="202407010830+01",
                       high="202407010945+01"),
    )
    if extra:
        d.update(extra)
    s = lambda k: uid(f"{n}/{k}")
    body = structured_body(s("outer"), [], [section(5, s("s1"), body_title, body_text)])
    return document(d, body, prolog=prolog, comment=comment)


def soap_wrap(inner, trackingid, payload_id):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!--Synthetic ITK 2.x SOAP message written for the itkbridge project; all content is fictional.-->
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://www.w3.org/2005/08/addressing" xmlns:itk="urn:nhs-itk:ns:201005">
	<soap:Header>
		<wsa:MessageID>uuid:{uid('soap-msg')}</wsa:MessageID>
		<wsa:Action>urn:nhs-itk:services:201005:SendCDADocument-v2-0</wsa:Action>
		<wsa:To>https://itk.example.invalid/receiver</wsa:To>
		<wsa:From>
			<wsa:Address>https://itk.example.invalid/sender</wsa:Address>
		</wsa:From>
		<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">
			<wsu:Timestamp xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd" wsu:Id="{uid('soap-ts')}">
				<wsu:Created>2024-07-01T09:00:00Z</wsu:Created>
				<wsu:Expires>2024-07-01T09:10:00Z</wsu:Expires>
			</wsu:Timestamp>
			<wsse:UsernameToken>
				<wsse:Username>synthetic-test-sender</wsse:Username>
			</wsse:UsernameToken>
		</wsse:Security>
	</soap:Header>
	<soap:Body>
{de_wrap(inner, trackingid, payload_id, prefixed=True)}	</soap:Body>
</soap:Envelope>
"""


def de_wrap(inner, trackingid, payload_id, prefixed):
    p = "itk:" if prefixed else ""
    ns = ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' if prefixed else \
        ' xmlns="urn:nhs-itk:ns:201005" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    return f"""		<{p}DistributionEnvelope{ns}>
			<{p}header service="urn:nhs-itk:services:201005:SendCDADocument-v2-0" trackingid="{trackingid}">
				<{p}addresslist>
					<{p}address uri="urn:nhs-uk:addressing:ods:Z99909"/>
				</{p}addresslist>
				<{p}auditIdentity>
					<{p}id type="2.16.840.1.113883.2.1.3.2.4.18.27" uri="urn:nhs-uk:identity:ods:XZT09"/>
				</{p}auditIdentity>
				<{p}manifest count="1">
					<{p}manifestitem mimetype="text/xml" profileid="urn:nhs-en:profile:dischargeReport-v6-1" base64="false" compressed="false" id="uuid_{payload_id}" encrypted="false"/>
				</{p}manifest>
				<{p}senderAddress uri="urn:nhs-uk:addressing:ods:XZT09"/>
				<{p}handlingSpecification>
					<{p}spec value="true" key="urn:nhs-itk:ns:201005:ackrequested"/>
					<{p}spec value="urn:nhs-itk:interaction:primaryRecipientDischargeReport-v1-0" key="urn:nhs-itk:ns:201005:interaction"/>
				</{p}handlingSpecification>
			</{p}header>
			<{p}payloads count="1">
				<{p}payload id="uuid_{payload_id}">
{inner}				</{p}payload>
			</{p}payloads>
		</{p}DistributionEnvelope>
"""


def other_kinds():
    write("other-kinds/emergency_department_POCD_MT160001UK06.xml",
          simple_doc("ed", "POCD_MT160001UK06", ("185291000000100", "Emergency Department Report"),
                     "Emergency Department Event", "Presenting Complaint",
                     "Fell from a bicycle; abrasion to the left forearm. Cleaned &amp; dressed; discharged home."))
    write("other-kinds/outpatient_letter_POCD_MT170001UK06.xml",
          simple_doc("op", "POCD_MT170001UK06", ("163381000000105", "Outpatient Clinic Attendance"),
                     "Outpatient Clinic Attendance", "Clinic Letter",
                     "<paragraph>Seen in the rheumatology clinic. Hand pain improving with physiotherapy; "
                     "review in 6 months.</paragraph>"))
    related = (f'\t<relatedDocument typeCode="RPLC">\n\t\t<parentDocument classCode="DOCCLIN" moodCode="EVN">\n'
               f'\t\t\t<id root="{uid("discharge_01")}"/>\n'
               f'\t\t\t<setId root="{uid(uid("discharge_01") + "/set")}"/>\n'
               f'\t\t\t<versionNumber value="1"/>\n\t\t</parentDocument>\n\t</relatedDocument>\n')
    write("other-kinds/nullification_POCD_MT130001UK05.xml",
          simple_doc("null", "POCD_MT130001UK05", ("285091000000108", "Nullification Document"),
                     "Nullification Document", "Document Withdrawn",
                     "The discharge summary sent on 14-Mar-2024 was sent for the wrong patient and is withdrawn.",
                     extra=dict(related=related, version=2,
                                set_id=uid(uid("discharge_01") + "/set"))))
    inner = simple_doc("soap-discharge", "POCD_MT150001UK06", ("163391000000107", "Discharge from Inpatient Care"),
                       "Discharge from Inpatient Care", "Summary of Care",
                       "Day-case knee arthroscopy; discharged the same day.", prolog="", comment=None)
    write("other-kinds/soap_de_wrapped_discharge.xml",
          soap_wrap(inner, uid("soap-track"), uid("soap-payload")))
    inner = simple_doc("de-discharge", "POCD_MT150001UK06", ("163391000000107", "Discharge from Inpatient Care"),
                       "Discharge from Inpatient Care", "Summary of Care",
                       "Overnight observation after a simple faint; no further action.", prolog="", comment=None)
    write("other-kinds/distribution_envelope_bare.xml",
          '<?xml version="1.0" encoding="UTF-8"?>\n'
          "<!--Synthetic ITK Distribution Envelope (default namespace) written for the itkbridge project.-->\n"
          + de_wrap(inner, uid("de-track"), uid("de-payload"), prefixed=False).replace("\n\t\t", "\n")
          .lstrip("\t"))
    write("other-kinds/business_ack_BusinessResponseMessage.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<!--Synthetic ITK business acknowledgement written for the itkbridge project; all content is fictional.-->
<hl7:BusinessResponseMessage xmlns:hl7="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
	<hl7:id root="{uid('busack')}"/>
	<hl7:creationTime value="20240701091500"/>
	<hl7:interactionId root="2.16.840.1.113883.2.1.3.2.4.12" extension="urn:nhs-itk:interaction:ITKBusinessAcknowledgement-v1-0"/>
	<hl7:acknowledgedBy3 typeCode="AA">
		<hl7:conveyingTransmission>
			<hl7:id root="{uid('soap-track')}"/>
		</hl7:conveyingTransmission>
	</hl7:acknowledgedBy3>
	<hl7:communicationFunction1 typeCode="SND">
		<hl7:entity classCode="ENT" determinerCode="INSTANCE">
			<hl7:id root="2.16.840.1.113883.2.1.3.2.4.18.22" extension="urn:nhs-uk:addressing:ods:Z99909"/>
		</hl7:entity>
	</hl7:communicationFunction1>
	<hl7:communicationFunction typeCode="RCV">
		<hl7:entity classCode="ENT" determinerCode="INSTANCE">
			<hl7:id root="2.16.840.1.113883.2.1.3.2.4.18.22" extension="urn:nhs-uk:addressing:ods:XZT09"/>
		</hl7:entity>
	</hl7:communicationFunction>
	<hl7:acknowledgedBy2 typeCode="AA">
		<hl7:conveyingTransmission>
			<hl7:id root="{uid('soap-discharge')}"/>
		</hl7:conveyingTransmission>
	</hl7:acknowledgedBy2>
</hl7:BusinessResponseMessage>
""")
    write("other-kinds/ccda_us_discharge_summary.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<!--Synthetic C-CDA-like US document written for the itkbridge project; all content is fictional.-->
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:sdtc="urn:hl7-org:sdtc" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
	<realmCode code="US"/>
	<typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
	<templateId root="2.16.840.1.113883.10.20.22.1.1" extension="2015-08-01"/>
	<templateId root="2.16.840.1.113883.10.20.22.1.8" extension="2015-08-01"/>
	<id root="{uid('ccda')}"/>
	<code code="18842-5" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC" displayName="Discharge summary"/>
	<title>Discharge Summary</title>
	<effectiveTime value="20240701120000-0500"/>
	<confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
	<languageCode code="en-US"/>
	<recordTarget>
		<patientRole>
			<id root="2.16.840.1.113883.4.1" extension="999-00-0001"/>
			<patient>
				<name use="L"><given>Dorothy</given><family>Vanterpool</family></name>
				<administrativeGenderCode code="F" codeSystem="2.16.840.1.113883.5.1"/>
				<birthTime value="19600505"/>
			</patient>
		</patientRole>
	</recordTarget>
	<author>
		<time value="20240701120000-0500"/>
		<assignedAuthor>
			<id root="2.16.840.1.113883.4.6" extension="9999999901"/>
			<assignedPerson><name><given>Elias</given><family>Grunwald</family></name></assignedPerson>
		</assignedAuthor>
	</author>
	<custodian>
		<assignedCustodian>
			<representedCustodianOrganization>
				<id root="2.16.840.1.113883.4.6" extension="9999999902"/>
				<name>Example Valley Community Hospital</name>
			</representedCustodianOrganization>
		</assignedCustodian>
	</custodian>
	<component>
		<structuredBody>
			<component>
				<section>
					<templateId root="2.16.840.1.113883.10.20.22.2.24"/>
					<code code="11535-2" codeSystem="2.16.840.1.113883.6.1" displayName="Hospital discharge Dx"/>
					<title>Discharge Diagnosis</title>
					<text>Community-acquired pneumonia, resolved.</text>
				</section>
			</component>
		</structuredBody>
	</component>
</ClinicalDocument>
""")


# =============================================================================================
# bad/: must fail with a line:column
# =============================================================================================

def bad():
    with open(os.path.join(TD, "discharge/discharge_01_classic_default_ns.xml"), encoding="utf-8") as fh:
        full = fh.read()
    # cut inside the start tag of the patient's <administrativeGenderCode ...>
    cut = full.index('<administrativeGenderCode code="2"') + len('<administrativeGenderCode co')
    write("bad/truncated_discharge.xml", full[:cut])
    write("bad/not_xml.txt",
          "This is not an XML document.\nIt is a plain-text note that was saved into the archive by mistake.\n"
          "Patient: fictional. Nothing to convert here.\n")
    write("bad/empty.xml", b"")
    write("bad/unknown_root.xml", '<?xml version="1.0" encoding="UTF-8"?>\n<foo xmlns="urn:example"/>\n')
    write("bad/mismatched_end_tag.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:npfitlc="NPFIT:HL7:Localisation" classCode="DOCCLIN" moodCode="EVN">
	<typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
	<npfitlc:messageType root="2.16.840.1.113883.2.1.3.2.4.18.17" extension="POCD_MT150001UK06"/>
	<id root="{uid('bad-mismatch')}"/>
	<code code="163391000000107" codeSystem="2.16.840.1.113883.2.1.3.2.4.15"/>
	<title>Discharge from Inpatient Care</titel>
	<effectiveTime value="20240701"/>
</ClinicalDocument>
""")
    write("bad/doctype_external_entity.xml", f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE ClinicalDocument [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:npfitlc="NPFIT:HL7:Localisation" classCode="DOCCLIN" moodCode="EVN">
	<typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
	<npfitlc:messageType root="2.16.840.1.113883.2.1.3.2.4.18.17" extension="POCD_MT150001UK06"/>
	<id root="{uid('bad-xxe')}"/>
	<code code="163391000000107" codeSystem="2.16.840.1.113883.2.1.3.2.4.15"/>
	<title>Discharge from Inpatient Care &e;</title>
	<effectiveTime value="20240701"/>
</ClinicalDocument>
""")


if __name__ == "__main__":
    discharge_01()
    discharge_02()
    discharge_03()
    discharge_04()
    discharge_05_06()
    discharge_07()
    discharge_08()
    other_kinds()
    bad()
