"""Builders for synthetic NHS CDA documents (itkbridge test data).

Everything here is written for this project; all people, organisations, identifiers and clinical
content are fictional.  Output is plain text with tab indentation (like the published NHS samples).
"""
import uuid

NS_UUID = uuid.UUID("6f1d3c0e-2b7a-4e59-9c11-0a5e7d3b8f42")  # private namespace for uuid5


def uid(name):
    """Deterministic upper-case UUID for a name (stable across regenerations)."""
    return str(uuid.uuid5(NS_UUID, name)).upper()


def nhs_check_digit(nine):
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return None if check == 10 else check


def nhs_valid(number):
    cd = nhs_check_digit(number[:9])
    return cd is not None and int(number[9]) == cd


TP = "2.16.840.1.113883.2.1.3.2.4.18.2"
CI = "2.16.840.1.113883.2.1.3.2.4.18.16"
SNOMED = "2.16.840.1.113883.2.1.3.2.4.15"


def ind(level):
    return "\t" * level


def tpl(level, ext, legacy=False):
    if legacy:
        return f'{ind(level)}<typeId root="2.16.840.1.113883.1.3" extension="{ext.replace("#", ".")}"/>\n'
    return f'{ind(level)}<templateId root="{TP}" extension="{ext}"/>\n'


def cid(level, ext, legacy=False):
    if legacy:
        return ""
    return f'{ind(level)}<npfitlc:contentId root="{CI}" extension="{ext}"/>\n'


# ---------------------------------------------------------------------------------------------
# Header
# ---------------------------------------------------------------------------------------------

def person_name(level, name):
    """name: str (text-only name) or dict(prefix, given(list), family, use)."""
    if isinstance(name, str):
        return f"{ind(level)}<name>{name}</name>\n"
    use = f' use="{name["use"]}"' if name.get("use") else ""
    out = f"{ind(level)}<name{use}>\n"
    if name.get("prefix"):
        out += f'{ind(level + 1)}<prefix>{name["prefix"]}</prefix>\n'
    for g in name.get("given", []):
        out += f"{ind(level + 1)}<given>{g}</given>\n"
    if name.get("call_me"):                       # preferred (call-me) given name
        out += f'{ind(level + 1)}<given qualifier="CL">{name["call_me"]}</given>\n'
    out += f'{ind(level + 1)}<family>{name["family"]}</family>\n'
    if name.get("birth_family"):                  # family name at birth
        out += f'{ind(level + 1)}<family qualifier="BR">{name["birth_family"]}</family>\n'
    out += f"{ind(level)}</name>\n"
    return out


def addr(level, lines, postcode, use="H"):
    out = f'{ind(level)}<addr use="{use}">\n'
    for line in lines:
        out += f"{ind(level + 1)}<streetAddressLine>{line}</streetAddressLine>\n"
    out += f"{ind(level + 1)}<postalCode>{postcode}</postalCode>\n{ind(level)}</addr>\n"
    return out


def addr_parts(level, parts, use):
    """Address from (part, text) pairs: houseNumber, streetName, streetAddressLine, city, county, postalCode."""
    out = f'{ind(level)}<addr use="{use}">\n'
    for tag, text in parts:
        out += f"{ind(level + 1)}<{tag}>{text}</{tag}>\n"
    return out + f"{ind(level)}</addr>\n"


def telecom(level, t):
    """t: (use, value)."""
    return f'{ind(level)}<telecom use="{t[0]}" value="{t[1]}"/>\n'


def sds_ids(level, ids):
    return "".join(f'{ind(level)}<id root="{root}" extension="{ext}"/>\n' for root, ext in ids)


def assigned_entity(level, e, tplname="COCD_TP145210GB01"):
    """<assignedEntity> of a header participation (data enterer, authenticators).

    e: dict(ids, role=(code, display), addr=(lines, postcode), telecom=(use, value), name, org=(ods, name)).
    """
    L = level
    o = f'{ind(L)}<assignedEntity classCode="ASSIGNED">\n'
    o += tpl(L + 1, f"{tplname}#AssignedEntity")
    o += sds_ids(L + 1, e["ids"])
    if e.get("role"):
        o += (f'{ind(L + 1)}<code code="{e["role"][0]}" displayName="{e["role"][1]}" '
              'codeSystem="2.16.840.1.113883.2.1.3.2.4.17.196"/>\n')
    if e.get("addr"):
        o += addr(L + 1, *e["addr"], use="WP")
    if e.get("telecom"):
        o += telecom(L + 1, e["telecom"])
    o += f'{ind(L + 1)}<assignedPerson classCode="PSN" determinerCode="INSTANCE">\n'
    o += tpl(L + 2, f"{tplname}#assignedPerson")
    o += person_name(L + 2, e["name"])
    o += f"{ind(L + 1)}</assignedPerson>\n"
    if e.get("org"):
        o += f'{ind(L + 1)}<representedOrganization classCode="ORG" determinerCode="INSTANCE">\n'
        o += tpl(L + 2, f"{tplname}#representedOrganization")
        o += f'{ind(L + 2)}<id root="2.16.840.1.113883.2.1.3.2.4.19.1" extension="{e["org"][0]}"/>\n'
        o += f'{ind(L + 2)}<name>{e["org"][1]}</name>\n'
        o += f"{ind(L + 1)}</representedOrganization>\n"
    return o + f"{ind(L)}</assignedEntity>\n"


def associated_entity(level, e, tplname, class_code="ASSIGNED"):
    """<associatedEntity> of a header participant (referrer, call-back contact).

    e: dict(ids, code=(code, system, display), addr=(lines, postcode, use), telecom=(use, value), name,
    org=(ods, name)).
    """
    L = level
    o = f'{ind(L)}<associatedEntity classCode="{class_code}">\n'
    o += tpl(L + 1, f"{tplname}#AssociatedEntity")
    o += sds_ids(L + 1, e.get("ids", []))
    if e.get("code"):
        c = e["code"]
        o += f'{ind(L + 1)}<code code="{c[0]}" codeSystem="{c[1]}" displayName="{c[2]}"/>\n'
    if e.get("addr"):
        o += addr(L + 1, *e["addr"])
    if e.get("telecom"):
        o += telecom(L + 1, e["telecom"])
    if e.get("name"):
        o += f'{ind(L + 1)}<associatedPerson classCode="PSN" determinerCode="INSTANCE">\n'
        o += tpl(L + 2, f"{tplname}#associatedPerson")
        o += person_name(L + 2, e["name"])
        o += f"{ind(L + 1)}</associatedPerson>\n"
    if e.get("org"):
        o += f'{ind(L + 1)}<scopingOrganization classCode="ORG" determinerCode="INSTANCE">\n'
        o += tpl(L + 2, f"{tplname}#scopingOrganization")
        o += f'{ind(L + 2)}<id root="2.16.840.1.113883.2.1.3.2.4.19.1" extension="{e["org"][0]}"/>\n'
        o += f'{ind(L + 2)}<name>{e["org"][1]}</name>\n'
        o += f"{ind(L + 1)}</scopingOrganization>\n"
    return o + f"{ind(L)}</associatedEntity>\n"


def patient_extras(p):
    """Patient children after birthTime, in CDA order: maritalStatusCode, ethnicGroupCode, guardian,
    languageCommunication (all optional)."""
    o = ""
    if p.get("marital"):
        o += (f'\t\t\t\t<maritalStatusCode code="{p["marital"][0]}" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.82" '
              f'displayName="{p["marital"][1]}"/>\n')
    if p.get("ethnic"):
        o += (f'\t\t\t\t<ethnicGroupCode code="{p["ethnic"][0]}" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.81" '
              f'displayName="{p["ethnic"][1]}"/>\n')
    g = p.get("guardian")
    if g:
        o += '\t\t\t\t<guardian classCode="GUARD">\n'
        o += tpl(5, "COCD_TP145201GB01#guardian")
        o += (f'\t\t\t\t\t<code code="{g["code"][0]}" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.45" '
              f'displayName="{g["code"][1]}"/>\n')
        if g.get("addr"):
            o += addr(5, *g["addr"])
        if g.get("telecom"):
            o += telecom(5, g["telecom"])
        o += '\t\t\t\t\t<guardianPerson classCode="PSN" determinerCode="INSTANCE">\n'
        o += tpl(6, "COCD_TP145201GB01#guardianPerson")
        o += person_name(6, g["name"])
        o += "\t\t\t\t\t</guardianPerson>\n\t\t\t\t</guardian>\n"
    for code, preferred in p.get("languages", []):
        o += "\t\t\t\t<languageCommunication>\n"
        o += tpl(5, "COCD_TP145201GB01#languageCommunication")
        o += f'\t\t\t\t\t<languageCode code="{code}"/>\n'
        o += f'\t\t\t\t\t<preferenceInd value="{preferred}"/>\n'
        o += "\t\t\t\t</languageCommunication>\n"
    return o


def device_author(a):
    """An authoring system (COCD_TP145207GB01): local id, model and software name, owning organisation."""
    t = "COCD_TP145207GB01"
    dev = a["device"]
    o = '\t<author typeCode="AUT" contextControlCode="OP">\n'
    o += cid(2, f"{t}#AssignedAuthorDevice")
    o += '\t\t<functionCode code="OA" displayName="Originating Author" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.178"/>\n'
    o += f'\t\t<time value="{a["time"]}"/>\n'
    o += '\t\t<assignedAuthor classCode="ASSIGNED">\n'
    o += tpl(3, f"{t}#AssignedAuthorDevice")
    for root, ext in dev.get("ids", []):
        o += f'\t\t\t<id root="{root}" extension="{ext}"/>\n'
    o += '\t\t\t<assignedAuthoringDevice classCode="DEV" determinerCode="INSTANCE">\n'
    o += tpl(4, f"{t}#assignedAuthoringDevice")
    o += f'\t\t\t\t<manufacturerModelName>{dev["model"]}</manufacturerModelName>\n'
    o += f'\t\t\t\t<softwareName>{dev["software"]}</softwareName>\n'
    o += "\t\t\t</assignedAuthoringDevice>\n"
    org = a["org"]
    o += '\t\t\t<representedOrganization classCode="ORG" determinerCode="INSTANCE">\n'
    o += tpl(4, f"{t}#representedOrganization")
    o += f'\t\t\t\t<id root="2.16.840.1.113883.2.1.3.2.4.19.1" extension="{org[0]}"/>\n'
    o += f"\t\t\t\t<name>{org[1]}</name>\n"
    o += "\t\t\t</representedOrganization>\n\t\t</assignedAuthor>\n\t</author>\n"
    return o


def header(d):
    """d: dict describing the document header. Returns the XML from <typeId> to </componentOf>."""
    lg = d.get("legacy", False)
    o = ""
    if lg:
        o += '\t<typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>\n'
    else:
        o += '\t<typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>\n'
        o += f'\t<npfitlc:messageType root="2.16.840.1.113883.2.1.3.2.4.18.17" extension="{d.get("message_type", "POCD_MT150001UK06")}"/>\n'
    o += f'\t<id root="{d["id"]}"/>\n'
    code = d.get("code", ("163391000000107", "Discharge from Inpatient Care"))
    o += f'\t<code code="{code[0]}" codeSystem="{SNOMED}" displayName="{code[1]}"/>\n'
    o += f'\t<title>{d.get("title", "Discharge from Inpatient Care")}</title>\n'
    o += f'\t<effectiveTime value="{d["effective"]}"/>\n'
    conf = d.get("conf", "N")
    conf_names = {"N": "normal", "R": "restricted", "V": "very restricted"}
    if conf in conf_names:
        o += f'\t<confidentialityCode code="{conf}" codeSystem="2.16.840.1.113883.5.25" displayName="{conf_names[conf]}"/>\n'
    else:
        o += f'\t<confidentialityCode code="{conf}" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.158" displayName="Not sealed"/>\n'
    o += f'\t<setId root="{d.get("set_id", uid(d["id"] + "/set"))}"/>\n'
    o += f'\t<versionNumber value="{d.get("version", 1)}"/>\n'
    o += d.get("related", "")
    # ---- recordTarget
    p = d["patient"]
    ptpl = "COCD_TP145020UK01#PatientRole" if lg else "COCD_TP145201GB01#PatientRole"
    o += '\t<recordTarget typeCode="RCT" contextControlCode="OP">\n'
    o += cid(2, ptpl, lg) if not lg else tpl(2, ptpl).replace("#", ".")
    o += '\t\t<patientRole classCode="PAT">\n'
    o += tpl(3, ptpl, lg)
    for root, ext, extra in p["ids"]:
        if root is None:
            o += f'\t\t\t<id nullFlavor="{ext}"/>\n'
        else:
            o += f'\t\t\t<id root="{root}" extension="{ext}"{extra}/>\n'
    if p.get("addr"):
        o += addr(3, *p["addr"])
    for use, parts in p.get("addrs", []):
        o += addr_parts(3, parts, use)
    if p.get("telecom"):
        o += f'\t\t\t<telecom use="HP" value="{p["telecom"]}"/>\n'
    for t in p.get("telecoms", []):
        o += telecom(3, t)
    o += '\t\t\t<patient classCode="PSN" determinerCode="INSTANCE">\n'
    o += tpl(4, "COCD_TP145201GB01#patientPatient", lg)
    o += person_name(4, p["name"])
    g = p["gender"]
    o += f'\t\t\t\t<administrativeGenderCode code="{g[0]}" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.25" displayName="{g[1]}"/>\n'
    o += f'\t\t\t\t<birthTime value="{p["birth"]}"/>\n'
    o += patient_extras(p)
    o += "\t\t\t</patient>\n"
    gp = p.get("gp")
    if gp:
        o += '\t\t\t<providerOrganization classCode="ORG" determinerCode="INSTANCE">\n'
        o += tpl(4, "COCD_TP145201GB01#providerOrganization", lg)
        if gp.get("ods"):
            o += f'\t\t\t\t<id root="2.16.840.1.113883.2.1.3.2.4.19.1" extension="{gp["ods"]}"/>\n'
        o += f'\t\t\t\t<name>{gp["name"]}</name>\n'
        if gp.get("addr"):
            o += addr(4, *gp["addr"], use="WP")
        o += '\t\t\t\t<standardIndustryClassCode code="001" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.289" displayName="GP Practice"/>\n'
        o += "\t\t\t</providerOrganization>\n"
    o += "\t\t</patientRole>\n\t</recordTarget>\n"
    # ---- authors
    for a in d["authors"]:
        if a.get("device"):
            o += device_author(a)
            continue
        atpl = "COCD_TP145001UK01#AssignedAuthorSDS" if lg else "COCD_TP145200GB01#AssignedAuthor"
        o += '\t<author typeCode="AUT" contextControlCode="OP">\n'
        o += cid(2, atpl, lg) if not lg else tpl(2, atpl).replace("#", ".")
        o += '\t\t<functionCode code="OA" displayName="Originating Author" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.178"/>\n'
        o += f'\t\t<time value="{a["time"]}"/>\n'
        o += '\t\t<assignedAuthor classCode="ASSIGNED">\n'
        o += tpl(3, atpl, lg)
        if a.get("ids") is None:
            o += '\t\t\t<id nullFlavor="NI"/>\n'
        else:
            for root, ext in a["ids"]:
                o += f'\t\t\t<id root="{root}" extension="{ext}"/>\n'
        if a.get("role"):
            o += f'\t\t\t<code code="{a["role"][0]}" displayName="{a["role"][1]}" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.196"/>\n'
        o += '\t\t\t<assignedPerson classCode="PSN" determinerCode="INSTANCE">\n'
        o += tpl(4, atpl.split("#")[0] + "#assignedPerson", lg)
        o += person_name(4, a["name"])
        o += "\t\t\t</assignedPerson>\n"
        org = a["org"]
        o += '\t\t\t<representedOrganization classCode="ORG" determinerCode="INSTANCE">\n'
        o += tpl(4, atpl.split("#")[0] + "#representedOrganization", lg)
        o += f'\t\t\t\t<id root="{org[2] if len(org) > 2 else "2.16.840.1.113883.2.1.3.2.4.19.1"}" extension="{org[0]}"/>\n'
        o += f"\t\t\t\t<name>{org[1]}</name>\n"
        o += "\t\t\t</representedOrganization>\n\t\t</assignedAuthor>\n\t</author>\n"
    # ---- data enterer, informants
    de = d.get("data_enterer")
    if de:
        o += '\t<dataEnterer typeCode="ENT" contextControlCode="OP">\n'
        o += cid(2, "COCD_TP145210GB01#AssignedEntity")
        o += f'\t\t<time value="{de["time"]}"/>\n'
        o += assigned_entity(2, de)
        o += "\t</dataEnterer>\n"
    for inf in d.get("informants", []):
        o += '\t<informant typeCode="INF" contextControlCode="OP">\n'
        o += cid(2, "COCD_TP145007UK03#RelatedEntity")
        o += '\t\t<relatedEntity classCode="PRS">\n'
        o += tpl(3, "COCD_TP145007UK03#RelatedEntity")
        o += (f'\t\t\t<code code="{inf["code"][0]}" codeSystem="2.16.840.1.113883.2.1.3.2.4.16.45" '
              f'displayName="{inf["code"][1]}"/>\n')
        if inf.get("addr"):
            o += addr(3, *inf["addr"])
        if inf.get("telecom"):
            o += telecom(3, inf["telecom"])
        o += '\t\t\t<relatedPerson classCode="PSN" determinerCode="INSTANCE">\n'
        o += tpl(4, "COCD_TP145007UK03#relationshipHolder")
        o += person_name(4, inf["name"])
        o += "\t\t\t</relatedPerson>\n\t\t</relatedEntity>\n\t</informant>\n"
    # ---- custodian
    c = d["custodian"]
    o += '\t<custodian typeCode="CST">\n'
    o += cid(2, "COCD_TP145018UK03#AssignedCustodian", lg)
    o += '\t\t<assignedCustodian classCode="ASSIGNED">\n'
    o += tpl(3, "COCD_TP145018UK03#AssignedCustodian", lg)
    o += '\t\t\t<representedCustodianOrganization classCode="ORG" determinerCode="INSTANCE">\n'
    o += tpl(4, "COCD_TP145018UK03#representedCustodianOrganization", lg)
    o += f'\t\t\t\t<id root="2.16.840.1.113883.2.1.3.2.4.19.1" extension="{c[0]}"/>\n'
    o += f"\t\t\t\t<name>{c[1]}</name>\n"
    o += "\t\t\t</representedCustodianOrganization>\n\t\t</assignedCustodian>\n\t</custodian>\n"
    # ---- recipients
    for r in d.get("recipients", []):
        rt = "COCD_TP145202GB01#IntendedRecipient" if r.get("person") else "COCD_TP145203GB02#IntendedRecipient"
        o += f'\t<informationRecipient typeCode="{r["type"]}">\n'
        o += cid(2, rt, lg)
        o += '\t\t<intendedRecipient classCode="ASSIGNED">\n'
        o += tpl(3, rt, lg)
        if r.get("role"):
            o += f'\t\t\t<npfitlc:recipientRoleCode code="{r["role"][0]}" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.196" displayName="{r["role"][1]}"/>\n'
        if r.get("sds"):
            o += f'\t\t\t<id root="1.2.826.0.1285.0.2.0.65" extension="{r["sds"]}"/>\n'
        elif not r.get("person"):
            o += '\t\t\t<id nullFlavor="NA"/>\n'
        if r.get("sds_role"):
            o += f'\t\t\t<id root="1.2.826.0.1285.0.2.0.67" extension="{r["sds_role"]}"/>\n'
        if r.get("addr"):
            o += addr(3, *r["addr"], use="WP")
        if r.get("telecom"):
            o += telecom(3, r["telecom"])
        if r.get("person"):
            o += '\t\t\t<informationRecipient classCode="PSN" determinerCode="INSTANCE">\n'
            o += tpl(4, rt.split("#")[0] + "#assignedPerson", lg)
            o += person_name(4, r["person"])
            o += "\t\t\t</informationRecipient>\n"
        o += '\t\t\t<receivedOrganization classCode="ORG" determinerCode="INSTANCE">\n'
        o += tpl(4, rt.split("#")[0] + "#representedOrganization", lg)
        o += f'\t\t\t\t<id root="2.16.840.1.113883.2.1.3.2.4.19.1" extension="{r["org"][0]}"/>\n'
        o += f'\t\t\t\t<name>{r["org"][1]}</name>\n'
        o += "\t\t\t</receivedOrganization>\n\t\t</intendedRecipient>\n\t</informationRecipient>\n"
    # ---- legal authenticator, authenticators, participants
    la = d.get("legal_authenticator")
    if la:
        o += '\t<legalAuthenticator typeCode="LA" contextControlCode="OP">\n'
        o += cid(2, "COCD_TP145210GB01#AssignedEntity")
        o += f'\t\t<time value="{la["time"]}"/>\n'
        o += '\t\t<signatureCode code="S"/>\n'
        o += assigned_entity(2, la)
        o += "\t</legalAuthenticator>\n"
    for au in d.get("authenticators", []):
        o += '\t<authenticator typeCode="AUTHEN">\n'
        o += cid(2, "COCD_TP145210GB01#AssignedEntity")
        o += f'\t\t<time value="{au["time"]}"/>\n'
        o += '\t\t<signatureCode code="S"/>\n'
        o += assigned_entity(2, au)
        o += "\t</authenticator>\n"
    for pt in d.get("participants", []):
        o += f'\t<participant typeCode="{pt["type"]}" contextControlCode="OP">\n'
        o += cid(2, f'{pt["template"]}#AssociatedEntity')
        o += associated_entity(2, pt, pt["template"])
        o += "\t</participant>\n"
    # ---- encounter
    e = d.get("encounter")
    if e:
        o += '\t<componentOf typeCode="COMP">\n'
        o += cid(2, "COCD_TP146060UK01#EncompassingEncounter", lg)
        o += '\t\t<encompassingEncounter classCode="ENC" moodCode="EVN">\n'
        o += tpl(3, "COCD_TP146060UK01#EncompassingEncounter", lg)
        o += f'\t\t\t<id root="{e["id"]}"/>\n' if e.get("id") else '\t\t\t<id nullFlavor="NI"/>\n'
        if e.get("code"):
            o += f'\t\t\t<code code="{e["code"][0]}" codeSystem="{SNOMED}" displayName="{e["code"][1]}"/>\n'
        else:
            o += '\t\t\t<code nullFlavor="UNK"/>\n'
        o += "\t\t\t<effectiveTime>\n"
        o += f'\t\t\t\t<low value="{e["low"]}"/>\n'
        if e.get("high"):
            o += f'\t\t\t\t<high value="{e["high"]}"/>\n'
        else:
            o += '\t\t\t\t<high nullFlavor="UNK"/>\n'
        o += "\t\t\t</effectiveTime>\n"
        o += '\t\t\t<dischargeDispositionCode nullFlavor="NA"/>\n'
        rp = e.get("responsible")
        if rp:
            o += '\t\t\t<responsibleParty typeCode="RESP">\n'
            o += tpl(4, "COCD_TP146060UK01#responsibleParty", lg)
            o += cid(4, "COCD_TP145210GB01#AssignedEntity", lg)
            o += '\t\t\t\t<assignedEntity classCode="ASSIGNED">\n'
            o += tpl(5, "COCD_TP145210GB01#AssignedEntity", lg)
            o += f'\t\t\t\t\t<id root="1.2.826.0.1285.0.2.0.67" extension="{rp["sds_role"]}"/>\n'
            o += '\t\t\t\t\t<code code="R0050" displayName="Consultant" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.196"/>\n'
            o += '\t\t\t\t\t<assignedPerson classCode="PSN" determinerCode="INSTANCE">\n'
            o += tpl(6, "COCD_TP145210GB01#assignedPerson", lg)
            o += person_name(6, rp["name"])
            o += "\t\t\t\t\t</assignedPerson>\n\t\t\t\t</assignedEntity>\n\t\t\t</responsibleParty>\n"
        loc = e.get("location")
        if loc:
            o += '\t\t\t<location typeCode="LOC">\n'
            o += tpl(4, "COCD_TP146060UK01#location", lg)
            o += cid(4, "COCD_TP145211GB01#HealthCareFacility", lg)
            o += '\t\t\t\t<healthCareFacility classCode="SDLOC">\n'
            o += tpl(5, "COCD_TP145211GB01#HealthCareFacility", lg)
            if loc.get("id"):
                o += f'\t\t\t\t\t<id root="2.16.840.1.113883.2.1.3.2.4.19.2" extension="{loc["id"]}"/>\n'
            else:
                o += '\t\t\t\t\t<id nullFlavor="NA"/>\n'
            o += f'\t\t\t\t\t<code code="{loc["code"][0]}" codeSystem="{SNOMED}" displayName="{loc["code"][1]}"/>\n'
            o += '\t\t\t\t\t<serviceProviderOrganization classCode="ORG" determinerCode="INSTANCE">\n'
            o += tpl(6, "COCD_TP145211GB01#serviceProviderOrganization", lg)
            o += f'\t\t\t\t\t\t<id root="2.16.840.1.113883.2.1.3.2.4.19.1" extension="{loc["org"][0]}"/>\n'
            o += f'\t\t\t\t\t\t<name>{loc["org"][1]}</name>\n'
            o += "\t\t\t\t\t</serviceProviderOrganization>\n\t\t\t\t</healthCareFacility>\n\t\t\t</location>\n"
        o += "\t\t</encompassingEncounter>\n\t</componentOf>\n"
    return o


# ---------------------------------------------------------------------------------------------
# Body
# ---------------------------------------------------------------------------------------------

def section(level, sid, title, text, children=(), depth=1, title_mode="text", legacy=False,
            tplname="COCD_TP146061UK01"):
    """A <component><section> pair at indentation `level`.

    title_mode: 'text' | 'empty' (<title/>) | 'unk' (<title nullFlavor="UNK"/>) | 'none' (no title)
    text: None (no <text>), '' (empty <text/>), or narrative-block markup (already escaped).
    """
    names = {1: "Section1", 2: "section2", 3: "section3", 4: "section4"}
    comp = {1: "component", 2: "component1", 3: "component2", 4: "component3"}
    L = level
    o = f'{ind(L)}<component typeCode="COMP" contextConductionInd="true">\n'
    if depth == 1:
        o += cid(L + 1, f"{tplname}#Section1", legacy)
    else:
        o += tpl(L + 1, f"{tplname}#{comp[depth - 1]}", legacy)
    o += f'{ind(L + 1)}<section classCode="DOCSECT" moodCode="EVN">\n'
    o += tpl(L + 2, f"{tplname}#{names[depth]}", legacy)
    o += f'{ind(L + 2)}<id root="{sid}"/>\n'
    if title_mode == "text":
        o += f"{ind(L + 2)}<title>{title}</title>\n"
    elif title_mode == "empty":
        o += f"{ind(L + 2)}<title/>\n"
    elif title_mode == "unk":
        o += f'{ind(L + 2)}<title nullFlavor="UNK"/>\n'
    if text is not None:
        if text == "":
            o += f'{ind(L + 2)}<text/>\n'
        else:
            o += f"{ind(L + 2)}<text>{text}</text>\n"
    for ch in children:
        o += ch
    o += f"{ind(L + 1)}</section>\n{ind(L)}</component>\n"
    return o


def table(rows, head=None, level=0):
    """Simple narrative table; rows are lists of cell markup."""
    o = "<table>"
    if head:
        o += "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead>"
    o += "<tbody>"
    for r in rows:
        o += "<tr>" + "".join(f'<td colspan="1" rowspan="1">{c}</td>' for c in r) + "</tr>"
    return o + "</tbody></table>"


def kv_table(pairs):
    return table([[f'<content styleCode="Bold">{k}</content>', v] for k, v in pairs])


def _entry_open(tplext, legacy=False):
    return ('\t\t\t\t\t<entry typeCode="COMP" contextConductionInd="true">\n'
            + cid(6, tplext, legacy))


def finding(eid, code, display, ref, time, legacy=False):
    o = _entry_open("COCD_TP146012UK04#Finding", legacy)
    o += '\t\t\t\t\t\t<observation classCode="OBS" moodCode="EVN">\n'
    o += tpl(7, "COCD_TP146012UK04#Finding", legacy)
    o += f'\t\t\t\t\t\t\t<id root="{eid}"/>\n'
    if code is None:
        o += '\t\t\t\t\t\t\t<code nullFlavor="UNK">\n'
    else:
        o += f'\t\t\t\t\t\t\t<code code="{code}" codeSystem="{SNOMED}" displayName="{display}">\n'
    o += f'\t\t\t\t\t\t\t\t<originalText>\n\t\t\t\t\t\t\t\t\t<reference value="#{ref}"/>\n\t\t\t\t\t\t\t\t</originalText>\n'
    o += "\t\t\t\t\t\t\t</code>\n"
    o += '\t\t\t\t\t\t\t<statusCode code="completed"/>\n'
    o += f'\t\t\t\t\t\t\t<effectiveTime value="{time}"/>\n'
    o += "\t\t\t\t\t\t</observation>\n\t\t\t\t\t</entry>\n"
    return o


def treatment(eid, code, display, ref, low, high, legacy=False):
    o = _entry_open("COCD_TP146027UK04#Treatment", legacy)
    o += '\t\t\t\t\t\t<procedure classCode="PROC" moodCode="EVN">\n'
    o += tpl(7, "COCD_TP146027UK04#Treatment", legacy)
    o += f'\t\t\t\t\t\t\t<id root="{eid}"/>\n'
    shown = f' displayName="{display}"' if display is not None else ""   # None: code + originalText only
    o += f'\t\t\t\t\t\t\t<code code="{code}" codeSystem="{SNOMED}"{shown}>\n'
    o += f'\t\t\t\t\t\t\t\t<originalText>\n\t\t\t\t\t\t\t\t\t<reference value="#{ref}"/>\n\t\t\t\t\t\t\t\t</originalText>\n'
    o += "\t\t\t\t\t\t\t</code>\n"
    o += '\t\t\t\t\t\t\t<statusCode code="completed"/>\n'
    o += f'\t\t\t\t\t\t\t<effectiveTime>\n\t\t\t\t\t\t\t\t<low value="{low}"/>\n\t\t\t\t\t\t\t\t<high value="{high}"/>\n\t\t\t\t\t\t\t</effectiveTime>\n'
    o += "\t\t\t\t\t\t</procedure>\n\t\t\t\t\t</entry>\n"
    return o


def supply(eid, code, display, ref, instructions, time, pharmacist, legacy=False):
    o = _entry_open("COCD_TP146033UK04#SupplyMedication", legacy)
    o += '\t\t\t\t\t\t<supply classCode="SPLY" moodCode="EVN">\n'
    o += tpl(7, "COCD_TP146033UK04#SupplyMedication", legacy)
    o += f'\t\t\t\t\t\t\t<id root="{eid}"/>\n'
    o += f'\t\t\t\t\t\t\t<code code="373784005" codeSystem="{SNOMED}" displayName="dispensing medication">\n'
    o += f'\t\t\t\t\t\t\t\t<qualifier>\n\t\t\t\t\t\t\t\t\t<value code="385658003" codeSystem="{SNOMED}" displayName="done"/>\n\t\t\t\t\t\t\t\t</qualifier>\n'
    o += "\t\t\t\t\t\t\t</code>\n"
    o += f'\t\t\t\t\t\t\t<effectiveTime value="{time}"/>\n'
    o += '\t\t\t\t\t\t\t<product typeCode="PRD">\n'
    o += tpl(8, "COCD_TP146033UK04#product", legacy)
    o += '\t\t\t\t\t\t\t\t<manufacturedProduct classCode="MANU">\n'
    o += tpl(9, "COCD_TP146033UK04#manufacturedProduct", legacy)
    o += '\t\t\t\t\t\t\t\t\t<manufacturedMaterial classCode="MMAT" determinerCode="KIND">\n'
    o += tpl(10, "COCD_TP146033UK04#manufacturedMaterial", legacy)
    o += f'\t\t\t\t\t\t\t\t\t\t<code code="{code}" codeSystem="{SNOMED}" displayName="{display}">\n'
    o += f'\t\t\t\t\t\t\t\t\t\t\t<originalText>\n\t\t\t\t\t\t\t\t\t\t\t\t<reference value="#{ref}"/>\n\t\t\t\t\t\t\t\t\t\t\t</originalText>\n'
    o += "\t\t\t\t\t\t\t\t\t\t</code>\n"
    o += "\t\t\t\t\t\t\t\t\t</manufacturedMaterial>\n\t\t\t\t\t\t\t\t</manufacturedProduct>\n\t\t\t\t\t\t\t</product>\n"
    o += '\t\t\t\t\t\t\t<performer typeCode="PRF">\n'
    o += tpl(8, "COCD_TP146033UK04#performer", legacy)
    o += f'\t\t\t\t\t\t\t\t<time value="{time}"/>\n'
    o += '\t\t\t\t\t\t\t\t<assignedEntity classCode="ASSIGNED">\n'
    o += tpl(9, "COCD_TP145210GB01#AssignedEntity", legacy)
    o += f'\t\t\t\t\t\t\t\t\t<id root="1.2.826.0.1285.0.2.0.65" extension="{pharmacist[0]}"/>\n'
    o += '\t\t\t\t\t\t\t\t\t<code code="R1290" displayName="Pharmacist" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.196"/>\n'
    o += '\t\t\t\t\t\t\t\t\t<assignedPerson classCode="PSN" determinerCode="INSTANCE">\n'
    o += person_name(10, pharmacist[1])
    o += "\t\t\t\t\t\t\t\t\t</assignedPerson>\n\t\t\t\t\t\t\t\t</assignedEntity>\n\t\t\t\t\t\t\t</performer>\n"
    o += '\t\t\t\t\t\t\t<entryRelationship typeCode="COMP" contextConductionInd="true">\n'
    o += tpl(8, "COCD_TP146033UK04#entryRelationship", legacy)
    o += '\t\t\t\t\t\t\t\t<seperatableInd value="false"/>\n'
    o += '\t\t\t\t\t\t\t\t<observation classCode="OBS" moodCode="EVN">\n'
    o += tpl(9, "COCD_TP146033UK04#supplyInstructions", legacy)
    o += '\t\t\t\t\t\t\t\t\t<code code="SI" displayName="Supply Instructions" codeSystem="2.16.840.1.113883.2.1.3.2.4.17.192"/>\n'
    o += f'\t\t\t\t\t\t\t\t\t<value xsi:type="ST">{instructions}</value>\n'
    o += "\t\t\t\t\t\t\t\t</observation>\n\t\t\t\t\t\t\t</entryRelationship>\n"
    o += "\t\t\t\t\t\t</supply>\n\t\t\t\t\t</entry>\n"
    return o


def cre_type_list(eid, code, display, ids, legacy=False):
    o = _entry_open("COCD_TP146062UK01#CRETypeList", legacy)
    o += '\t\t\t\t\t\t<observation classCode="OBS" moodCode="EVN">\n'
    o += tpl(7, "COCD_TP146062UK01#CRETypeList", legacy)
    o += f'\t\t\t\t\t\t\t<id root="{eid}"/>\n'
    o += f'\t\t\t\t\t\t\t<code code="{code}" codeSystem="{SNOMED}" displayName="{display}"/>\n'
    for i in ids:
        o += f'\t\t\t\t\t\t\t<value xsi:type="II" root="{i}"/>\n'
    o += "\t\t\t\t\t\t</observation>\n\t\t\t\t\t</entry>\n"
    return o


def diagnosis(eid, code, display, ref, time, legacy=False):
    """COCD_TP146011UK04#Diagnosis with the diagnosis as a coded value (observation code 282291009
    Diagnosis, value xsi:type CV), its originalText pointing into the narrative."""
    o = _entry_open("COCD_TP146011UK04#Diagnosis", legacy)
    o += '\t\t\t\t\t\t<observation classCode="OBS" moodCode="EVN">\n'
    o += tpl(7, "COCD_TP146011UK04#Diagnosis", legacy)
    o += f'\t\t\t\t\t\t\t<id root="{eid}"/>\n'
    o += f'\t\t\t\t\t\t\t<code code="282291009" codeSystem="{SNOMED}" displayName="Diagnosis"/>\n'
    o += '\t\t\t\t\t\t\t<statusCode code="completed"/>\n'
    o += f'\t\t\t\t\t\t\t<effectiveTime value="{time}"/>\n'
    o += f'\t\t\t\t\t\t\t<value xsi:type="CV" code="{code}" codeSystem="{SNOMED}" displayName="{display}">\n'
    o += f'\t\t\t\t\t\t\t\t<originalText>\n\t\t\t\t\t\t\t\t\t<reference value="#{ref}"/>\n\t\t\t\t\t\t\t\t</originalText>\n'
    o += "\t\t\t\t\t\t\t</value>\n"
    o += "\t\t\t\t\t\t</observation>\n\t\t\t\t\t</entry>\n"
    return o


def allergy(eid, kind, agent, ref, time, legacy=False):
    """COCD_TP146025UK04#Allergy: observation code `kind` = (code, display) (e.g. 416098002 Drug
    allergy), the causative agent (code, display) as the qualifier 246075003, its originalText
    pointing into the narrative."""
    o = _entry_open("COCD_TP146025UK04#Allergy", legacy)
    o += '\t\t\t\t\t\t<observation classCode="OBS" moodCode="EVN">\n'
    o += tpl(7, "COCD_TP146025UK04#Allergy", legacy)
    o += f'\t\t\t\t\t\t\t<id root="{eid}"/>\n'
    o += f'\t\t\t\t\t\t\t<code code="{kind[0]}" codeSystem="{SNOMED}" displayName="{kind[1]}">\n'
    o += '\t\t\t\t\t\t\t\t<qualifier>\n'
    o += f'\t\t\t\t\t\t\t\t\t<name code="246075003" codeSystem="{SNOMED}" displayName="causative agent"/>\n'
    o += f'\t\t\t\t\t\t\t\t\t<value code="{agent[0]}" codeSystem="{SNOMED}" displayName="{agent[1]}">\n'
    o += f'\t\t\t\t\t\t\t\t\t\t<originalText>\n\t\t\t\t\t\t\t\t\t\t\t<reference value="#{ref}"/>\n\t\t\t\t\t\t\t\t\t\t</originalText>\n'
    o += '\t\t\t\t\t\t\t\t\t</value>\n'
    o += '\t\t\t\t\t\t\t\t</qualifier>\n'
    o += '\t\t\t\t\t\t\t</code>\n'
    o += '\t\t\t\t\t\t\t<statusCode code="completed"/>\n'
    o += f'\t\t\t\t\t\t\t<effectiveTime>\n\t\t\t\t\t\t\t\t<low value="{time}"/>\n\t\t\t\t\t\t\t</effectiveTime>\n'
    o += "\t\t\t\t\t\t</observation>\n\t\t\t\t\t</entry>\n"
    return o


def observation_media(eid, xml_id, media_type, b64, legacy=False):
    """COCD_TP146224GB02#ObservationMedia: an embedded base64 attachment that a renderMultiMedia
    marker (referencedObject=xml_id) in the narrative points at."""
    o = _entry_open("COCD_TP146224GB02#ObservationMedia", legacy)
    o += f'\t\t\t\t\t\t<observationMedia classCode="OBS" moodCode="EVN" ID="{xml_id}">\n'
    o += tpl(7, "COCD_TP146224GB02#ObservationMedia", legacy)
    o += f'\t\t\t\t\t\t\t<id root="{eid}"/>\n'
    o += f'\t\t\t\t\t\t\t<value mediaType="{media_type}" representation="B64">{b64}</value>\n'
    o += "\t\t\t\t\t\t</observationMedia>\n\t\t\t\t\t</entry>\n"
    return o


# ---------------------------------------------------------------------------------------------
# Pretty-printed narrative (as some CDA generators write it: one element per line, indented)
# ---------------------------------------------------------------------------------------------

def E(tag, *children, **attrs):
    """A narrative element: E("content", "text", ID="a1"). Attribute names ending in '_' lose it."""
    return (tag, {k.rstrip("_"): v for k, v in attrs.items()}, list(children))


def pretty(node, level):
    """Serialise an E() tree with tab indentation: an element whose children are all text stays on
    one line; otherwise every child (text run or element) goes on its own line."""
    if isinstance(node, str):
        return f"{ind(level)}{node}\n"
    tag, attrs, kids = node
    a = "".join(f' {k}="{v}"' for k, v in attrs.items())
    if not kids:
        return f"{ind(level)}<{tag}{a}/>\n"
    if all(isinstance(k, str) for k in kids):
        return f"{ind(level)}<{tag}{a}>{''.join(kids)}</{tag}>\n"
    return (f"{ind(level)}<{tag}{a}>\n" + "".join(pretty(k, level + 1) for k in kids)
            + f"{ind(level)}</{tag}>\n")


def pretty_text(level, *blocks):
    """Section <text> content for section(): a newline, the blocks one level deeper than <text>,
    and the indentation of the closing tag."""
    return "\n" + "".join(pretty(b, level + 1) for b in blocks) + ind(level)


def document(d, body, root_extra="", prolog='<?xml version="1.0" encoding="UTF-8"?>\n', comment=None):
    o = prolog
    if comment:
        o += f"<!--{comment}-->\n"
    o += ('<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:npfitlc="NPFIT:HL7:Localisation" '
          'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" classCode="DOCCLIN" moodCode="EVN"'
          f"{root_extra}>\n")
    o += header(d)
    o += body
    o += "</ClinicalDocument>\n"
    return o


def structured_body(outer_id, entries, sections, outer_template=None, legacy=False):
    """Outer (untitled) section holding coded entries + the tree of text sections."""
    o = '\t<component typeCode="COMP" contextConductionInd="true">\n'
    o += '\t\t<structuredBody classCode="DOCBODY" moodCode="EVN">\n'
    o += '\t\t\t<component typeCode="COMP" contextConductionInd="true">\n'
    if outer_template:
        o += cid(4, outer_template, legacy)
    o += '\t\t\t\t<section classCode="DOCSECT" moodCode="EVN">\n'
    if outer_template:
        o += tpl(5, outer_template, legacy)
    o += f'\t\t\t\t\t<id root="{outer_id}"/>\n'
    o += "".join(entries)
    o += "".join(sections)
    o += "\t\t\t\t</section>\n\t\t\t</component>\n\t\t</structuredBody>\n\t</component>\n"
    return o
