//! Core STU3 invariants a Transfer of Care message can break, as hand-written
//! equivalents of their FHIRPath expressions (quoted beside each check and
//! tested against them in `tests`).
//!
//! # Why
//!
//! The snapshots carry the invariants as FHIRPath; a general evaluator is a
//! project of its own, while the handful a ToC message can break are short.
//! Each check is named by its key (`bdl-7`, `ext-1` ...), which is also the
//! issue's rule id, so a report can be looked up in the specification.

use crate::fhir::defs::FastSet;

use super::scan::Scan;
use serde_json::{Map, Value};

use super::instance::Walker;
use super::loc::Loc;
use super::Severity;

/// The invariant keys implemented here.
pub const KEYS: &[&str] = &[
    "bdl-1", "bdl-2", "bdl-3", "bdl-4", "bdl-5", "bdl-7", "bdl-8", "bdl-9", "cmp-1", "cmp-2",
    "dom-1", "dom-2", "dom-3", "dom-4", "ext-1", "lst-1", "lst-2", "per-1", "ref-1", "cpt-2",
    "qty-3", "att-1", "pat-1", "org-1", "ele-1", "txt-1", "txt-2",
];

fn has(o: &Map<String, Value>, k: &str) -> bool {
    o.keys()
        .any(|m| m == k || (m.len() == k.len() + 1 && m.starts_with('_') && &m[1..] == k))
}

fn has_value_x(o: &Map<String, Value>) -> bool {
    o.keys().any(|k| {
        let k = k.strip_prefix('_').unwrap_or(k);
        k.strip_prefix("value")
            .is_some_and(|r| r.chars().next().is_some_and(|c| c.is_ascii_uppercase()))
    })
}

fn arr<'v>(o: &'v Map<String, Value>, k: &str) -> &'v [Value] {
    o.at_key(k)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Resource-level invariants.
pub(crate) fn resource(w: &mut Walker<'_>, rt: &str, o: &Map<String, Value>, loc: &Loc<'_>) {
    // dom-*: contained resources.
    for (i, c) in arr(o, "contained").iter().enumerate() {
        let l = format!("{loc}.contained[{i}]");
        let Some(co) = c.as_object() else { continue };
        // dom-2: contained.contained.empty()
        if co.at_key("contained").is_some() {
            w.issue(
                Severity::Error,
                "dom-2",
                &l,
                "a contained resource must not contain resources (dom-2)",
            );
        }
        // dom-1: contained.text.empty()
        if co.at_key("text").is_some() {
            w.issue(
                Severity::Error,
                "dom-1",
                &l,
                "a contained resource must not have narrative (dom-1)",
            );
        }
        // dom-4: contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()
        if let Some(m) = co.at_key("meta").and_then(Value::as_object) {
            if m.at_key("versionId").is_some() || m.at_key("lastUpdated").is_some() {
                w.issue(
                    Severity::Error,
                    "dom-4",
                    &l,
                    "a contained resource must not have meta.versionId or meta.lastUpdated (dom-4)",
                );
            }
        }
        // dom-3: contained.where(('#'+id in %resource.descendants().reference).not()).empty()
        if let Some(id) = co.at_key("id").and_then(Value::as_str) {
            let want = format!("#{id}");
            let mut refs = Vec::new();
            for (k, v) in o {
                if k != "contained" {
                    collect_refs(v, &mut refs);
                }
            }
            if !refs.iter().any(|r| *r == want) {
                w.issue(
                    Severity::Error,
                    "dom-3",
                    &l,
                    "a contained resource must be referenced from its container (dom-3)",
                );
            }
        }
    }
    match rt {
        "Bundle" => bundle(w, o, loc),
        "List" => {
            // lst-1: emptyReason.empty() or entry.empty()
            if o.at_key("emptyReason").is_some() && !arr(o, "entry").is_empty() {
                w.issue(
                    Severity::Error,
                    "lst-1",
                    format!("{loc}.emptyReason"),
                    "a List can only have an emptyReason if it is empty (lst-1)",
                );
            }
            // lst-2: mode = 'changes' or entry.deleted.empty()
            let changes = o.at_key("mode").and_then(Value::as_str) == Some("changes");
            for (i, e) in arr(o, "entry").iter().enumerate() {
                if !changes && e.at_key("deleted").is_some() {
                    w.issue(
                        Severity::Error,
                        "lst-2",
                        format!("{loc}.entry[{i}].deleted"),
                        "entry.deleted only when List.mode is 'changes' (lst-2)",
                    );
                }
            }
        }
        "Organization"
            // org-1: (identifier.count() + name.count()) > 0
            if !has(o, "identifier") && !has(o, "name") => {
                w.issue(
                    Severity::Error,
                    "org-1",
                    loc,
                    "an Organization needs an identifier or a name (org-1)",
                );
            }
        _ => {}
    }
}

fn collect_refs<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if k == "contained" {
                    continue;
                }
                if k == "reference" {
                    if let Some(s) = x.as_str() {
                        out.push(s);
                    }
                }
                collect_refs(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

fn bundle(w: &mut Walker<'_>, o: &Map<String, Value>, loc: &Loc<'_>) {
    let ty = o.at_key("type").and_then(Value::as_str).unwrap_or("");
    // bdl-1: total.empty() or (type = 'searchset') or (type = 'history')
    if o.at_key("total").is_some() && ty != "searchset" && ty != "history" {
        w.issue(
            Severity::Error,
            "bdl-1",
            format!("{loc}.total"),
            "total only when a search or history (bdl-1)",
        );
    }
    // bdl-9: type = 'document' implies (identifier.system.exists() and identifier.value.exists())
    if ty == "document" {
        let id = o.at_key("identifier");
        let ok = id.and_then(|i| i.at_key("system")).is_some()
            && id.and_then(|i| i.at_key("value")).is_some();
        if !ok {
            w.issue(
                Severity::Error,
                "bdl-9",
                loc,
                "a document Bundle must have identifier.system and identifier.value (bdl-9)",
            );
        }
    }
    let entries = arr(o, "entry");
    let mut seen: FastSet<&str> =
        FastSet::with_capacity_and_hasher(entries.len(), Default::default());
    for (i, e) in entries.iter().enumerate() {
        let l = loc.at("entry", Some(i));
        let Some(eo) = e.as_object() else { continue };
        // bdl-2: entry.search.empty() or (type = 'searchset')
        if eo.at_key("search").is_some() && ty != "searchset" {
            w.issue(
                Severity::Error,
                "bdl-2",
                format!("{l}.search"),
                "entry.search only when a search (bdl-2)",
            );
        }
        // bdl-3: entry.request mandatory for batch/transaction/history, otherwise prohibited
        let needs_req = matches!(ty, "batch" | "transaction" | "history");
        if needs_req != eo.at_key("request").is_some() {
            w.issue(Severity::Error, "bdl-3", l, "entry.request mandatory for batch/transaction/history, otherwise prohibited (bdl-3)");
        }
        // bdl-4: entry.response mandatory for batch-response/transaction-response/history, otherwise prohibited
        let needs_resp = matches!(ty, "batch-response" | "transaction-response" | "history");
        if needs_resp != eo.at_key("response").is_some() {
            w.issue(Severity::Error, "bdl-4", l, "entry.response mandatory for batch-response/transaction-response/history, otherwise prohibited (bdl-4)");
        }
        // bdl-5: resource.exists() or request.exists() or response.exists()
        if eo.at_key("resource").is_none()
            && eo.at_key("request").is_none()
            && eo.at_key("response").is_none()
        {
            w.issue(
                Severity::Error,
                "bdl-5",
                l,
                "an entry must have a resource unless it is a request or response (bdl-5)",
            );
        }
        if let Some(u) = eo.at_key("fullUrl").and_then(Value::as_str) {
            // bdl-8: fullUrl.contains('/_history/').not()
            if u.contains("/_history/") {
                w.issue(
                    Severity::Error,
                    "bdl-8",
                    format!("{l}.fullUrl"),
                    "fullUrl cannot be a version-specific reference (bdl-8)",
                );
            }
            // bdl-7: entry.where(fullUrl).select(fullUrl+resource.meta.versionId).isDistinct()
            let version = eo
                .at_key("resource")
                .and_then(|r| r.at_key("meta"))
                .and_then(|m| m.at_key("versionId"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let key: &str = if version.is_empty() { u } else { "" };
            if !key.is_empty() && !seen.insert(key) {
                w.issue(
                    Severity::Error,
                    "bdl-7",
                    format!("{l}.fullUrl"),
                    "fullUrl must be unique in a Bundle (bdl-7)",
                );
            }
        }
    }
}

/// Whether [`element`] has rules for `owner` (the walk skips the call
/// otherwise).
pub(crate) fn has_element_rules(owner: &str) -> bool {
    matches!(
        owner,
        "Identifier"
            | "Extension"
            | "Period"
            | "ContactPoint"
            | "Quantity"
            | "Attachment"
            | "Patient.contact"
            | "Composition.section"
            | "Reference"
    )
}

/// Element-level invariants, by owner type or backbone path.
pub(crate) fn element(w: &mut Walker<'_>, owner: &str, o: &Map<String, Value>, loc: &Loc<'_>) {
    match owner {
        "Identifier" => super::identifiers::check(w, o, loc),
        "Extension"
            // ext-1: extension.exists() != value.exists()
            if o.at_key("extension").is_some() == has_value_x(o) => {
                w.issue(
                    Severity::Error,
                    "ext-1",
                    loc,
                    "an extension must have either extensions or a value[x], not both (ext-1)",
                );
            }
        "Period" => {
            // per-1: start.empty() or end.empty() or (start <= end)
            if let (Some(s), Some(e)) = (
                o.at_key("start").and_then(Value::as_str),
                o.at_key("end").and_then(Value::as_str),
            ) {
                {
                    if after(s, e) {
                        w.issue(
                            Severity::Error,
                            "per-1",
                            loc,
                            "Period.start must not be after Period.end (per-1)",
                        );
                    }
                }
            }
        }
        "ContactPoint"
            // cpt-2: value.empty() or system.exists()
            if has(o, "value") && !has(o, "system") => {
                w.issue(
                    Severity::Error,
                    "cpt-2",
                    loc,
                    "a ContactPoint with a value needs a system (cpt-2)",
                );
            }
        "Quantity"
            // qty-3: code.empty() or system.exists()
            if has(o, "code") && !has(o, "system") => {
                w.issue(
                    Severity::Error,
                    "qty-3",
                    loc,
                    "a Quantity with a code needs a system (qty-3)",
                );
            }
        "Attachment"
            // att-1: data.empty() or contentType.exists()
            if has(o, "data") && !has(o, "contentType") => {
                w.issue(
                    Severity::Error,
                    "att-1",
                    loc,
                    "an Attachment with data needs a contentType (att-1)",
                );
            }
        "Patient.contact"
            // pat-1: name.exists() or telecom.exists() or address.exists() or organization.exists()
            if !["name", "telecom", "address", "organization"]
                .iter()
                .any(|k| has(o, k))
            => {
                w.issue(
                    Severity::Error,
                    "pat-1",
                    loc,
                    "a contact needs a name, telecom, address or organization (pat-1)",
                );
            }
        "Composition.section" => {
            // cmp-1: text.exists() or entry.exists() or section.exists()
            if !has(o, "text") && !has(o, "entry") && !has(o, "section") {
                w.issue(
                    Severity::Error,
                    "cmp-1",
                    loc,
                    "a section must have text, entries or sub-sections (cmp-1)",
                );
            }
            // cmp-2: emptyReason.empty() or entry.empty()
            if has(o, "emptyReason") && has(o, "entry") {
                w.issue(
                    Severity::Error,
                    "cmp-2",
                    loc,
                    "a section can only have an emptyReason if it is empty (cmp-2)",
                );
            }
        }
        "Reference" => {
            // ref-1: reference.startsWith('#').not() or (reference.substring(1) in %resource.contained.id)
            if let Some(r) = o.at_key("reference").and_then(Value::as_str) {
                if let Some(id) = r.strip_prefix('#') {
                    let ok = w.contained_ids().is_some_and(|ids| ids.contains(id));
                    if !ok {
                        w.issue(
                            Severity::Error,
                            "ref-1",
                            format!("{loc}.reference"),
                            "a local reference must point at a contained resource (ref-1)",
                        );
                    }
                }
            }
        }
        _ => {}
    }
}

/// Whether FHIR date/dateTime `a` is after `b`: instants compare in UTC
/// when both have a time and an offset; otherwise the common date prefix
/// (the precision both share) is compared.
fn after(a: &str, b: &str) -> bool {
    if a.contains('T') && b.contains('T') {
        if let (Ok(x), Ok(y)) = (a.parse::<jiff::Timestamp>(), b.parse::<jiff::Timestamp>()) {
            return x > y;
        }
    }
    let n = a.len().min(b.len()).min(10);
    a.get(..n) > b.get(..n)
}

#[cfg(test)]
mod tests {
    use super::super::instance::validate_instance;
    use serde_json::{json, Value};

    fn rules(v: &Value) -> Vec<(&'static str, String)> {
        validate_instance(v)
            .into_iter()
            .filter(|i| i.severity.is_blocking())
            .map(|i| (i.rule, i.location))
            .collect()
    }

    #[test]
    fn extension_needs_value_or_extensions() {
        let p = json!({"resourceType": "Patient", "extension": [{"url": "http://x"}]});
        assert_eq!(
            rules(&p),
            vec![("ext-1", "Patient.extension[0]".to_string())]
        );
        let p = json!({"resourceType": "Patient", "extension": [{"url": "http://x", "valueCode": "a", "extension": [{"url": "y", "valueCode": "b"}]}]});
        assert_eq!(
            rules(&p),
            vec![("ext-1", "Patient.extension[0]".to_string())]
        );
    }

    #[test]
    fn bundle_invariants() {
        let b = json!({"resourceType": "Bundle", "type": "document", "total": 2,
        "entry": [
            {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Basic", "code": {"text": "x"}}},
            {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Basic", "code": {"text": "y"}}},
            {"fullUrl": "http://a/Basic/1/_history/2", "resource": {"resourceType": "Basic", "code": {"text": "z"}}},
            {"fullUrl": "urn:uuid:4"},
            {"fullUrl": "urn:uuid:5", "resource": {"resourceType": "Basic", "code": {"text": "w"}},
             "search": {"mode": "match"}, "request": {"method": "GET", "url": "Basic"},
             "response": {"status": "200 OK"}}
        ]});
        let r = rules(&b);
        for (k, l) in [
            ("bdl-1", "Bundle.total"),
            ("bdl-9", "Bundle"),
            ("bdl-7", "Bundle.entry[1].fullUrl"),
            ("bdl-8", "Bundle.entry[2].fullUrl"),
            ("bdl-5", "Bundle.entry[3]"),
            ("bdl-2", "Bundle.entry[4].search"),
            ("bdl-3", "Bundle.entry[4]"),
            ("bdl-4", "Bundle.entry[4]"),
        ] {
            assert!(r.contains(&(k, l.to_string())), "{k} at {l}: {r:?}");
        }
    }

    #[test]
    fn element_invariants() {
        let p = json!({"resourceType": "Patient",
            "telecom": [{"value": "x"}],
            "contact": [{"gender": "male"}],
            "managingOrganization": {"reference": "#nope"},
            "extension": [{"url": "http://x", "valuePeriod": {"start": "2020-02-01", "end": "2020-01-01"}}]});
        let r = rules(&p);
        for (k, l) in [
            ("cpt-2", "Patient.telecom[0]"),
            ("pat-1", "Patient.contact[0]"),
            ("ref-1", "Patient.managingOrganization.reference"),
            ("per-1", "Patient.extension[0].valuePeriod"),
        ] {
            assert!(r.contains(&(k, l.to_string())), "{k} at {l}: {r:?}");
        }
    }

    #[test]
    fn contained_and_list_invariants() {
        let l = json!({"resourceType": "List", "status": "current", "mode": "snapshot",
            "emptyReason": {"text": "none"},
            "entry": [{"item": {"reference": "#c1"}, "deleted": true}],
            "contained": [{"resourceType": "Basic", "id": "c1", "code": {"text": "x"}, "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}},
                          {"resourceType": "Basic", "id": "c2", "code": {"text": "y"}}]});
        let r = rules(&l);
        for (k, loc) in [
            ("lst-1", "List.emptyReason"),
            ("lst-2", "List.entry[0].deleted"),
            ("dom-1", "List.contained[0]"),
            ("dom-3", "List.contained[1]"),
        ] {
            assert!(r.contains(&(k, loc.to_string())), "{k} at {loc}: {r:?}");
        }
    }

    #[test]
    fn period_order_compares_like_with_like() {
        assert!(super::after("2020-02-01", "2020-01-01"));
        assert!(!super::after("2020-01-01", "2020-01-02T10:00:00Z"));
        assert!(!super::after("2020-01-02", "2020-01-02T10:00:00Z"));
        assert!(super::after(
            "2020-01-02T11:00:00+01:00",
            "2020-01-02T09:59:59Z"
        ));
        assert!(!super::after(
            "2020-01-02T10:00:00+01:00",
            "2020-01-02T09:30:00Z"
        ));
        assert!(!super::after("2020", "2020-06-01"));
    }

    #[test]
    fn every_key_is_listed_once() {
        let mut k = super::KEYS.to_vec();
        k.sort_unstable();
        k.dedup();
        assert_eq!(k.len(), super::KEYS.len());
    }
}
