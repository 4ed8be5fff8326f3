//! The v1 structural checks (see the rule table in the parent module).
//!
//! All checks read the bundle as untyped JSON so that they also report on
//! input the typed model could not represent. Locations are FHIRPath with
//! 0-based indexes; messages never quote instance values.

use crate::fhir::defs::{FastMap as HashMap, FastSet as HashSet};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::rules as r;
use super::sections::{
    self, DocumentType, ALLERGIES_CODE, DEMOGRAPHICS_CODE, RESPONSE_EVENT_CODE,
    RESPONSE_EVENT_DISPLAY, RESPONSE_MESSAGE_DEFINITION, SNOMED,
};
use super::{Issue, Severity};

const SD: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/";
const MESSAGE_BUNDLE_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1";
const DOCUMENT_BUNDLE_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Document-Bundle-1";
const MESSAGE_HEADER_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-MessageHeader-2";
const HEADER_ORG_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Header-Organization-1";
const HEADER_PRACT_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-ITK-Header-Practitioner-1";
const HANDLING_URL: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2";
const RECIPIENT_TYPE_SYSTEM: &str = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1";
const EVENT_SYSTEM: &str = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2";
const CARE_SETTING_URL: &str =
    "https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-CareSettingType-1";
const ODS_ORGANIZATION_SYSTEM: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
const GP_PRACTICE_CODE: &str = "886711000000101";
const XHTML_DIV_START: &str = "<div xmlns=\"http://www.w3.org/1999/xhtml\"";

const KEY_BUS_ACK: &str = "BusAckRequested";
const KEY_INF_ACK: &str = "InfAckRequested";
const KEY_RECIPIENT_TYPE: &str = "RecipientType";
const KEY_MESSAGE_DEFINITION: &str = "MessageDefinition";
const KEY_SENDER_REFERENCE: &str = "SenderReference";
const KEY_LOCAL_EXTENSION: &str = "LocalExtension";

/// `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, by hand
/// (tested against that regex).
fn is_lower_uuid(id: &str) -> bool {
    /// Lower-case hex digits.
    const HEX: [bool; 256] = {
        let mut t = [false; 256];
        let mut c = 0;
        while c < 256 {
            t[c] = matches!(c as u8, b'0'..=b'9' | b'a'..=b'f');
            c += 1;
        }
        t
    };
    let b = id.as_bytes();
    b.len() == 36
        && b[8] == b'-'
        && b[13] == b'-'
        && b[18] == b'-'
        && b[23] == b'-'
        && [&b[..8], &b[9..13], &b[14..18], &b[19..23], &b[24..]]
            .iter()
            .all(|g| g.iter().all(|&c| HEX[c as usize]))
}
// STU3 `instant`: full date-time with seconds and a zone (the reference
// for [`is_instant`]).
#[cfg(test)]
static INSTANT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^-?[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$",
    )
    .unwrap()
});
// Test-harness rule 10007 for SenderReference.
static SENDER_REFERENCE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^.*\w+.*$").unwrap());

/// [`INSTANT`] (tested against it): the core `instant` check, with a leap
/// second allowed.
fn is_instant(t: &str) -> bool {
    super::formats::instant_or_leap_second(t)
}

/// [`SENDER_REFERENCE`] (`^.*\w+.*$`: no line feed, some word character)
/// without the regex for the usual case: an ASCII word byte decides; only
/// a line-feed-free string without one asks the (Unicode) regex.
fn is_sender_reference(t: &str) -> bool {
    let b = t.as_bytes();
    if b.contains(&b'\n') {
        return false;
    }
    b.iter().any(|&c| c.is_ascii_alphanumeric() || c == b'_') || SENDER_REFERENCE.is_match(t)
}
/// txt-2: some non-whitespace character outside markup (a linear scan;
/// this runs on every section of every bundle).
fn has_text_outside_tags(div: &str) -> bool {
    let mut in_tag = false;
    for c in div.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag && !c.is_whitespace() => return true,
            _ => {}
        }
    }
    false
}

/// Issue collector.
struct Out {
    issues: Vec<Issue>,
}

impl Out {
    fn push(&mut self, severity: Severity, rule: &'static str, loc: &str, msg: String) {
        self.issues.push(Issue::new(severity, rule, loc, msg));
    }
    fn error(&mut self, rule: &'static str, loc: &str, msg: impl Into<String>) {
        self.push(Severity::Error, rule, loc, msg.into());
    }
    fn warn(&mut self, rule: &'static str, loc: &str, msg: impl Into<String>) {
        self.push(Severity::Warning, rule, loc, msg.into());
    }
}

// ---------------------------------------------------------------- JSON helpers

/// A member of an object by key. FHIR objects are small: a scan is
/// cheaper than hashing the key (serde_json's map uses SipHash).
fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| super::scan::same(k, key))
        .map(|(_, x)| x)
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    get(v, key).and_then(Value::as_str)
}

fn non_empty(v: &Value, key: &str) -> bool {
    s(v, key).is_some_and(|x| !x.trim().is_empty())
}

fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    get(v, key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn present(v: &Value, key: &str) -> bool {
    get(v, key).is_some_and(|x| !x.is_null())
}

fn resource_type(v: &Value) -> Option<&str> {
    s(v, "resourceType")
}

fn profiles(v: &Value) -> impl Iterator<Item = &str> {
    get(v, "meta")
        .map(|m| arr(m, "profile"))
        .unwrap_or(&[])
        .iter()
        .filter_map(Value::as_str)
}

fn has_profile(v: &Value, url: &str) -> bool {
    profiles(v).any(|p| p == url)
}

/// A 0..1 element that some producers write as a one-item array: the
/// elements with their location suffixes.
fn one_or_many<'a>(v: &'a Value, key: &str) -> Vec<(String, &'a Value)> {
    match get(v, key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, x)| (format!("{key}[{i}]"), x))
            .collect(),
        Some(x) => vec![(key.to_string(), x)],
    }
}

// ---------------------------------------------------------------- bundle index

/// `base.name[i]`, rendered only when an issue is reported.
#[derive(Clone, Copy)]
struct Indexed<'a>(&'a str, &'static str, usize);

impl std::fmt::Display for Indexed<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}[{}]", self.0, self.1, self.2)
    }
}

/// `base.entry[i]`, rendered only when an issue is reported.
#[derive(Clone, Copy, PartialEq, Eq)]
struct EntryLoc<'a> {
    base: &'a str,
    i: usize,
}

impl std::fmt::Display for EntryLoc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.entry[{}]", self.base, self.i)
    }
}

/// `base.entry[i].resource`, rendered only when needed.
#[derive(Clone, Copy)]
struct ResourceLoc<'a>(EntryLoc<'a>);

impl std::fmt::Display for ResourceLoc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.resource", self.0)
    }
}

struct Entry<'a> {
    /// `…entry[i]`
    loc: EntryLoc<'a>,
    full_url: Option<&'a str>,
    resource: Option<&'a Value>,
}

impl<'a> Entry<'a> {
    fn rloc(&self) -> String {
        self.res_loc().to_string()
    }
    fn res_loc(&self) -> ResourceLoc<'a> {
        ResourceLoc(self.loc)
    }
    fn rtype(&self) -> Option<&'a str> {
        self.resource.and_then(resource_type)
    }
}

struct BundleIndex<'a> {
    entries: Vec<Entry<'a>>,
    by_url: HashMap<&'a str, usize>,
}

impl<'a> BundleIndex<'a> {
    fn new(bundle: &'a Value, loc: &'a str) -> Self {
        let items = arr(bundle, "entry");
        let mut entries = Vec::with_capacity(items.len());
        let mut by_url = HashMap::with_capacity_and_hasher(items.len(), Default::default());
        for (i, e) in items.iter().enumerate() {
            let full_url = s(e, "fullUrl");
            if let Some(u) = full_url {
                by_url.entry(u).or_insert(i);
            }
            entries.push(Entry {
                loc: EntryLoc { base: loc, i },
                full_url,
                resource: get(e, "resource").filter(|r| r.is_object()),
            });
        }
        BundleIndex { entries, by_url }
    }

    fn resolve(&self, reference: &str) -> Option<&Entry<'a>> {
        self.by_url.get(reference).map(|&i| &self.entries[i])
    }
}

/// The location of a present element: `loc.k[0]` when it repeats (an
/// array), `loc.k` otherwise.
fn at(v: &Value, loc: &str, k: &str) -> String {
    if get(v, k).is_some_and(Value::is_array) {
        format!("{loc}.{k}[0]")
    } else {
        format!("{loc}.{k}")
    }
}

/// The parent of a FHIRPath location (`A.b[2].c` -> `A.b[2]`): a missing
/// element is reported at its parent.
fn parent_of(loc: &str) -> String {
    match loc.rfind('.') {
        Some(i) => loc[..i].to_string(),
        None => loc.to_string(),
    }
}

/// Where a required `meta.profile` URL that is not declared is reported:
/// at the declared profile (`meta.profile[0]`, present but wrong), else at
/// `meta`, else at the resource (a missing element is reported at its
/// parent).
fn profile_loc(v: &Value, loc: &str) -> String {
    match get(v, "meta") {
        Some(m) if !arr(m, "profile").is_empty() => format!("{loc}.meta.profile[0]"),
        Some(_) => format!("{loc}.meta"),
        None => loc.to_string(),
    }
}

// ---------------------------------------------------------------- entry point

/// The document-level checks on a bare ITK-Document-Bundle-1 (no message
/// header: the event agreement checks have nothing to compare against).
pub(super) fn check_document_bundle(doc: &Value) -> Vec<Issue> {
    let mut out = Out { issues: Vec::new() };
    let hdr = HeaderFacts::default();
    check_document(doc, "Bundle", &hdr, &mut out);
    out.issues
}

pub(super) fn check_message(bundle: &Value) -> Vec<Issue> {
    check_message_sized(bundle, None)
}

/// [`check_message`] for a bundle whose compact JSON is known to be at most
/// `len_at_most` bytes: the size limit is then only measured when that bound
/// exceeds it.
pub(super) fn check_message_sized(bundle: &Value, len_at_most: Option<usize>) -> Vec<Issue> {
    let mut out = Out { issues: Vec::new() };
    if !bundle.is_object() {
        out.push(
            Severity::Fatal,
            r::MESSAGE_BUNDLE,
            "Bundle",
            "input is not a JSON object".into(),
        );
        return out.issues;
    }
    if resource_type(bundle) != Some("Bundle") {
        out.push(
            Severity::Fatal,
            r::MESSAGE_BUNDLE,
            "Bundle",
            "resourceType is not Bundle".into(),
        );
        return out.issues;
    }
    check_message_bundle(bundle, &mut out);
    if len_at_most.is_none_or(|n| n > MAX_MESSAGE_BYTES) {
        check_message_size(bundle, &mut out);
    }
    let outer = BundleIndex::new(bundle, "Bundle");
    check_bundle_prohibited(bundle, "Bundle", &mut out);
    check_fullurls(&outer, &mut out);

    // MessageHeader: first and only one.
    let headers: Vec<&Entry> = outer
        .entries
        .iter()
        .filter(|e| e.rtype() == Some("MessageHeader"))
        .collect();
    if outer.entries.first().and_then(Entry::rtype) != Some("MessageHeader")
        && !outer.entries.is_empty()
    {
        out.error(
            r::ITK_ENTRY_ORDER,
            "Bundle.entry[0]",
            "the first entry of a message Bundle must be the MessageHeader",
        );
    }
    match headers.len() {
        0 => out.error(r::ITK_ENTRY_ORDER, "Bundle.entry", "no MessageHeader entry"),
        1 => {}
        _ => {
            for h in &headers[1..] {
                out.error(
                    r::ITK_ENTRY_ORDER,
                    &h.rloc(),
                    "more than one MessageHeader in the message Bundle",
                );
            }
        }
    }

    // Document bundles held by the outer bundle.
    let docs: Vec<&Entry> = outer
        .entries
        .iter()
        .filter(|e| e.rtype() == Some("Bundle"))
        .collect();

    let header = headers.first().copied();
    let mut hdr = HeaderFacts::default();
    if let Some(h) = header {
        hdr = check_header(h, &outer, &docs, &mut out);
    }
    let is_response = hdr.event_code.as_deref() == Some(RESPONSE_EVENT_CODE);
    if is_response {
        if let Some((dloc, url)) = &hdr.definition {
            if url != RESPONSE_MESSAGE_DEFINITION {
                out.error(
                    r::EVENT_DEFINITION,
                    dloc,
                    format!(
                        "MessageDefinition for event {RESPONSE_EVENT_CODE} must be {RESPONSE_MESSAGE_DEFINITION}"
                    ),
                );
            }
        }
    }

    if is_response {
        if let Some(h) = header {
            check_response(h, &outer, &mut out);
        }
    }

    // Header Organization / Practitioner resources.
    for e in &outer.entries {
        check_header_resource(e, &mut out);
    }

    // References in the outer bundle (document bundles are their own scope).
    for e in &outer.entries {
        if let Some(res) = e.resource {
            if e.rtype() != Some("Bundle") {
                let skip_definition = e.rtype() == Some("MessageHeader");
                check_references(
                    res,
                    &e.res_loc(),
                    e.full_url,
                    &outer,
                    skip_definition,
                    &mut out,
                );
            }
        }
    }

    if !is_response {
        match docs.len() {
            0 => out.error(
                r::DOCUMENT_BUNDLE,
                "Bundle.entry",
                "no document Bundle entry in the message (one document per transmission)",
            ),
            1 => {}
            _ => {
                for d in &docs[1..] {
                    out.error(
                        r::DOCUMENT_BUNDLE,
                        &d.rloc(),
                        "more than one document Bundle in the message (one document per transmission)",
                    );
                }
            }
        }
    }
    for d in &docs {
        if let Some(res) = d.resource {
            check_document(res, &d.rloc(), &hdr, &mut out);
        }
    }
    out.issues
}

fn check_message_bundle(b: &Value, out: &mut Out) {
    if s(b, "type") != Some("message") {
        out.error(
            r::MESSAGE_BUNDLE,
            "Bundle.type",
            "Bundle.type must be 'message'",
        );
    }
    if !has_profile(b, MESSAGE_BUNDLE_PROFILE) {
        out.error(
            r::MESSAGE_BUNDLE,
            &profile_loc(b, "Bundle"),
            format!("meta.profile must contain {MESSAGE_BUNDLE_PROFILE}"),
        );
    }
    match get(b, "identifier") {
        Some(id) if id.is_object() => {
            if !non_empty(id, "value") {
                out.error(
                    r::MESSAGE_BUNDLE,
                    "Bundle.identifier",
                    "Bundle.identifier.value is required",
                );
            }
        }
        _ => out.error(
            r::MESSAGE_BUNDLE,
            "Bundle",
            "Bundle.identifier (with value) is required",
        ),
    }
    let entries = arr(b, "entry");
    if entries.is_empty() {
        out.error(
            r::MESSAGE_BUNDLE,
            "Bundle.entry",
            "message Bundle has no entries",
        );
    }
    for (i, e) in entries.iter().enumerate() {
        if !get(e, "resource").is_some_and(Value::is_object) {
            out.error(
                r::MESSAGE_BUNDLE,
                &format!("Bundle.entry[{i}]"),
                "entry has no resource",
            );
        }
    }
}

/// The recommended maximum size of a whole ToC message ([EDIS-IG]
/// `design/build_attachments.md`: "restrict their overall message size to
/// a maximum of 5MB"; receivers may answer 20015 "Message too large").
/// Counted in bytes of the message as compact FHIR JSON, with 1 MB =
/// 1,000,000 bytes (as `--max-doc-mb`).
pub(super) const MAX_MESSAGE_BYTES: usize = 5_000_000;

/// Bytes of `v` as compact JSON without string escapes, and the bytes of
/// its strings (keys and values) that escapes could lengthen; stops adding
/// once the first passes `stop`.
fn json_size_parts(v: &Value, stop: usize, acc: &mut (usize, usize)) {
    if acc.0 > stop {
        return;
    }
    match v {
        Value::Null | Value::Bool(true) => acc.0 += 4,
        Value::Bool(false) => acc.0 += 5,
        Value::Number(n) => {
            struct Count(usize);
            impl std::fmt::Write for Count {
                fn write_str(&mut self, s: &str) -> std::fmt::Result {
                    self.0 += s.len();
                    Ok(())
                }
            }
            let mut c = Count(0);
            let _ = std::fmt::Write::write_fmt(&mut c, format_args!("{n}"));
            acc.0 += c.0;
        }
        Value::String(s) => {
            acc.0 += s.len() + 2;
            acc.1 += s.len();
        }
        Value::Array(a) => {
            acc.0 += 2 + a.len().saturating_sub(1);
            for x in a {
                json_size_parts(x, stop, acc);
            }
        }
        Value::Object(m) => {
            acc.0 += 2 + m.len().saturating_sub(1);
            for (k, x) in m {
                acc.0 += k.len() + 3;
                acc.1 += k.len();
                json_size_parts(x, stop, acc);
            }
        }
    }
}

/// The extra bytes serde_json's escapes add to the strings of `v`
/// (`"` and `\` one each, `\b \t \n \f \r` one, other control
/// characters five).
fn json_escape_extra(v: &Value) -> usize {
    fn extra(s: &str) -> usize {
        s.bytes()
            .map(|b| match b {
                b'"' | b'\\' | 0x08 | 0x09 | 0x0a | 0x0c | 0x0d => 1,
                0x00..=0x1f => 5,
                _ => 0,
            })
            .sum()
    }
    match v {
        Value::String(s) => extra(s),
        Value::Array(a) => a.iter().map(json_escape_extra).sum(),
        Value::Object(m) => m.iter().map(|(k, x)| extra(k) + json_escape_extra(x)).sum(),
        _ => 0,
    }
}

/// Whether `v` as compact JSON (`serde_json::to_vec(v)`) is longer than
/// `limit` bytes; the escapes are counted only when they could decide it.
fn json_longer_than(v: &Value, limit: usize) -> bool {
    let mut acc = (0, 0);
    json_size_parts(v, limit, &mut acc);
    let (raw, strings) = acc;
    // Escapes add at most five bytes per string byte.
    if raw > limit || raw.saturating_add(strings.saturating_mul(5)) <= limit {
        return raw > limit;
    }
    raw + json_escape_extra(v) > limit
}

/// Message size over the recommended 5 MB: a warning for the whole message.
fn check_message_size(b: &Value, out: &mut Out) {
    if json_longer_than(b, MAX_MESSAGE_BYTES) {
        out.warn(
            r::MESSAGE_SIZE,
            "Bundle",
            "the message is larger than the recommended maximum of 5 MB (5,000,000 bytes as compact JSON); receivers may answer 20015 (Message too large)",
        );
    }
}

fn check_bundle_prohibited(b: &Value, loc: &str, out: &mut Out) {
    for k in ["total", "link", "signature"] {
        if present(b, k) {
            out.error(
                r::BUNDLE_PROHIBITED,
                &at(b, loc, k),
                format!("Bundle.{k} is not allowed in ITK3 bundles (0..0)"),
            );
        }
    }
    for (i, e) in arr(b, "entry").iter().enumerate() {
        for k in ["link", "search", "request", "response"] {
            if present(e, k) {
                out.error(
                    r::BUNDLE_PROHIBITED,
                    &at(e, &format!("{loc}.entry[{i}]"), k),
                    format!("Bundle.entry.{k} is not allowed in ITK3 bundles (0..0)"),
                );
            }
        }
    }
}

/// fullUrl = urn:uuid:<id>, id a lower-case UUID, fullUrls unique (bdl-7).
fn check_fullurls(index: &BundleIndex, out: &mut Out) {
    let mut seen: HashSet<&str> =
        HashSet::with_capacity_and_hasher(index.entries.len(), Default::default());
    for e in &index.entries {
        let id = e.resource.and_then(|r| s(r, "id"));
        if id.is_none() {
            out.error(
                r::FULLURL_ID,
                &format!("{}.resource.id", e.loc),
                "resource has no id",
            );
        }
        match e.full_url {
            None => out.error(r::FULLURL_ID, &e.loc.to_string(), "entry has no fullUrl"),
            Some(u) => {
                if let Some(id) = id {
                    // The harness pre-check: the fullUrl ends with the id.
                    let ends = u
                        .strip_suffix(id)
                        .is_some_and(|head| head.ends_with(':') || head.ends_with('/'));
                    if !ends {
                        out.error(
                            r::FULLURL_ID,
                            &format!("{}.fullUrl", e.loc),
                            "fullUrl must end with the resource id ('urn:uuid:' + id in ITK3)",
                        );
                    } else if u.strip_prefix("urn:uuid:") == Some(id) {
                        if !is_lower_uuid(id) {
                            out.error(
                                r::FULLURL_ID,
                                &format!("{}.resource.id", e.loc),
                                "a urn:uuid fullUrl needs a lower-case UUID id",
                            );
                        }
                    } else {
                        out.warn(
                            r::FULLURL_UUID,
                            &format!("{}.fullUrl", e.loc),
                            "fullUrl is not 'urn:uuid:' + id (every ITK3 example uses urn:uuid)",
                        );
                    }
                }
                if !seen.insert(u) {
                    out.error(
                        r::FULLURL_UNIQUE,
                        &format!("{}.fullUrl", e.loc),
                        "fullUrl is not unique within the Bundle (bdl-7)",
                    );
                }
            }
        }
    }
}

/// A path segment under a resource: `.key` or `[i]`.
#[derive(Clone, Copy)]
enum Seg<'v> {
    Key(&'v str),
    Index(usize),
}

/// Walk every nested object of `res` and check each `reference` string
/// resolves within `scope`.
fn check_references(
    res: &Value,
    loc: &dyn std::fmt::Display,
    own_url: Option<&str>,
    scope: &BundleIndex,
    skip_definition: bool,
    out: &mut Out,
) {
    struct Ctx<'c> {
        loc: &'c dyn std::fmt::Display,
        own_url: Option<&'c str>,
        scope: &'c BundleIndex<'c>,
        skip_definition: bool,
    }
    // The path is a stack of borrowed segments, rendered only for the
    // (rare) reported locations.
    fn render(ctx: &Ctx<'_>, path: &[Seg<'_>]) -> String {
        use std::fmt::Write as _;
        let mut s = ctx.loc.to_string();
        for seg in path {
            let _ = match seg {
                Seg::Key(k) => write!(s, ".{k}"),
                Seg::Index(i) => write!(s, "[{i}]"),
            };
        }
        s
    }
    fn walk<'v>(v: &'v Value, path: &mut Vec<Seg<'v>>, ctx: &Ctx<'_>, out: &mut Out) {
        match v {
            Value::Object(m) => {
                // The MessageDefinition handling key holds a canonical URL.
                let is_definition_key = ctx.skip_definition
                    && m.iter()
                        .find(|(k, _)| k.as_str() == "url")
                        .map(|(_, x)| x)
                        .and_then(Value::as_str)
                        == Some(KEY_MESSAGE_DEFINITION);
                for (k, child) in m {
                    let nested = matches!(child, Value::Object(_) | Value::Array(_));
                    if !nested && k != "reference" {
                        continue;
                    }
                    if k == "reference" {
                        if let Some(reference) = child.as_str() {
                            let bad = if ctx.own_url == Some(reference) {
                                Some((
                                    r::SELF_REFERENCE,
                                    "resource references its own entry's fullUrl",
                                ))
                            } else if ctx.scope.resolve(reference).is_none() {
                                Some((
                                    r::REF_RESOLVE,
                                    "reference does not resolve to the fullUrl of an entry in the same Bundle",
                                ))
                            } else {
                                None
                            };
                            if let Some((rule, msg)) = bad {
                                path.push(Seg::Key(k));
                                let l = render(ctx, path);
                                path.pop();
                                out.error(rule, &l, msg);
                            }
                        }
                        continue;
                    }
                    if nested && !(is_definition_key && k == "valueReference") {
                        path.push(Seg::Key(k));
                        walk(child, path, ctx, out);
                        path.pop();
                    }
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    if !matches!(child, Value::Object(_) | Value::Array(_)) {
                        continue;
                    }
                    path.push(Seg::Index(i));
                    walk(child, path, ctx, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let ctx = Ctx {
        loc,
        own_url,
        scope,
        skip_definition,
    };
    let mut path = Vec::with_capacity(16);
    walk(res, &mut path, &ctx, out);
}

// ---------------------------------------------------------------- MessageHeader

#[derive(Default)]
struct HeaderFacts {
    event_code: Option<String>,
    /// (location, URL) of the MessageDefinition handling key.
    definition: Option<(String, String)>,
}

fn check_header(h: &Entry, outer: &BundleIndex, docs: &[&Entry], out: &mut Out) -> HeaderFacts {
    let mut facts = HeaderFacts::default();
    let Some(mh) = h.resource else {
        return facts;
    };
    let loc = h.rloc();
    if !has_profile(mh, MESSAGE_HEADER_PROFILE) {
        out.error(
            r::HEADER_PROFILE,
            &profile_loc(mh, &loc),
            format!("MessageHeader meta.profile must contain {MESSAGE_HEADER_PROFILE}"),
        );
    }
    facts.definition = check_handling(mh, &loc, out);
    facts.event_code = check_event(mh, &loc, out);

    // sender / receiver
    check_party(mh, &loc, "sender", true, outer, out);
    check_party(mh, &loc, "receiver", false, outer, out);

    // timestamp, source, prohibited elements
    match s(mh, "timestamp") {
        None => out.error(
            r::HEADER_FIELDS,
            &parent_of(&format!("{loc}.timestamp")),
            "MessageHeader.timestamp is required",
        ),
        Some(t) if !is_instant(t) => out.error(
            r::HEADER_FIELDS,
            &format!("{loc}.timestamp"),
            "MessageHeader.timestamp is not a FHIR instant (date, time with seconds, and zone)",
        ),
        _ => {}
    }
    match get(mh, "source") {
        Some(src) if src.is_object() => {
            if !non_empty(src, "endpoint") {
                out.error(
                    r::HEADER_FIELDS,
                    &parent_of(&format!("{loc}.source.endpoint")),
                    "MessageHeader.source.endpoint (sender MESH mailbox) is required",
                );
            }
            for k in ["name", "software", "version", "contact"] {
                if present(src, k) {
                    out.error(
                        r::HEADER_FIELDS,
                        &format!("{loc}.source.{k}"),
                        format!("MessageHeader.source.{k} is not allowed (0..0)"),
                    );
                }
            }
        }
        _ => out.error(
            r::HEADER_FIELDS,
            &parent_of(&format!("{loc}.source")),
            "MessageHeader.source (with endpoint) is required",
        ),
    }
    for k in ["destination", "enterer", "author", "responsible", "reason"] {
        if present(mh, k) {
            out.error(
                r::HEADER_FIELDS,
                &at(mh, &loc, k),
                format!("MessageHeader.{k} is not allowed (0..0)"),
            );
        }
    }

    // focus
    let focus = one_or_many(mh, "focus");
    let is_response = facts.event_code.as_deref() == Some(RESPONSE_EVENT_CODE);
    if focus.len() > 1 {
        out.error(
            r::HEADER_FOCUS,
            &format!("{loc}.focus[1]"),
            "MessageHeader.focus may occur at most once",
        );
    }
    if focus.is_empty() && !is_response {
        out.warn(
            r::HEADER_FOCUS,
            &format!("{loc}.focus"),
            "MessageHeader.focus should reference the document Bundle entry",
        );
    }
    for (suffix, f) in &focus {
        let floc = format!("{loc}.{suffix}");
        match s(f, "reference") {
            None => out.error(r::HEADER_FOCUS, &floc, "focus has no reference"),
            Some(reference) => {
                // Unresolved references are reported by ref-resolve.
                if let Some(target) = outer.resolve(reference) {
                    if !docs.iter().any(|d| d.loc == target.loc) {
                        out.error(
                            r::HEADER_FOCUS,
                            &format!("{floc}.reference"),
                            "focus must reference the entry holding the document Bundle",
                        );
                    }
                }
            }
        }
    }
    facts
}

/// Returns the MessageDefinition key's location and URL, if well-formed.
fn check_handling(mh: &Value, loc: &str, out: &mut Out) -> Option<(String, String)> {
    let exts: Vec<(usize, &Value)> = arr(mh, "extension")
        .iter()
        .enumerate()
        .filter(|(_, e)| s(e, "url") == Some(HANDLING_URL))
        .collect();
    if exts.is_empty() {
        out.error(
            r::HANDLING_KEYS,
            &parent_of(&format!("{loc}.extension")),
            format!("MessageHeader must carry the {HANDLING_URL} extension"),
        );
        return None;
    }
    for (i, _) in &exts[1..] {
        out.error(
            r::HANDLING_KEYS,
            &format!("{loc}.extension[{i}]"),
            "the ITK message handling extension must occur exactly once",
        );
    }
    let (xi, ext) = exts[0];
    let xloc = format!("{loc}.extension[{xi}]");
    if ext
        .as_object()
        .is_some_and(|m| m.keys().any(|k| k.starts_with("value")))
    {
        out.error(
            r::HANDLING_KEYS,
            &xloc,
            "the ITK message handling extension is complex and must not have a value[x]",
        );
    }
    let subs = arr(ext, "extension");
    let mut definition = None;
    for key in [
        KEY_BUS_ACK,
        KEY_INF_ACK,
        KEY_RECIPIENT_TYPE,
        KEY_MESSAGE_DEFINITION,
        KEY_SENDER_REFERENCE,
        KEY_LOCAL_EXTENSION,
    ] {
        let found: Vec<(usize, &Value)> = subs
            .iter()
            .enumerate()
            .filter(|(_, e)| s(e, "url") == Some(key))
            .collect();
        if found.is_empty() {
            out.error(
                r::HANDLING_KEYS,
                &parent_of(&format!("{xloc}.extension")),
                format!("handling key {key} is missing (1..1)"),
            );
            continue;
        }
        for (i, _) in &found[1..] {
            out.error(
                r::HANDLING_KEYS,
                &format!("{xloc}.extension[{i}]"),
                format!("handling key {key} occurs more than once (1..1)"),
            );
        }
        let (i, sub) = found[0];
        let sloc = Indexed(&xloc, "extension", i);
        if let Some(d) = check_handling_key(key, sub, &sloc, out) {
            definition = Some(d);
        }
    }
    definition
}

/// The value[x] members of an extension.
fn value_keys(ext: &Value) -> Vec<&str> {
    ext.as_object()
        .map(|m| {
            m.keys()
                .filter(|k| k.starts_with("value"))
                .map(String::as_str)
                .collect()
        })
        .unwrap_or_default()
}

fn check_handling_key(
    key: &'static str,
    sub: &Value,
    sloc: &Indexed<'_>,
    out: &mut Out,
) -> Option<(String, String)> {
    let values = value_keys(sub);
    if values.len() != 1 {
        out.error(
            r::HANDLING_KEYS,
            &sloc.to_string(),
            format!("handling key {key} must have exactly one value[x]"),
        );
        return None;
    }
    let expected = match key {
        KEY_BUS_ACK | KEY_INF_ACK => "valueBoolean",
        KEY_RECIPIENT_TYPE => "valueCoding",
        KEY_MESSAGE_DEFINITION => "valueReference",
        KEY_SENDER_REFERENCE => "valueString",
        _ => return None, // LocalExtension: any value[x]
    };
    if values[0] != expected {
        out.error(
            r::HANDLING_KEYS,
            &sloc.to_string(),
            format!("handling key {key} must use {expected}"),
        );
        return None;
    }
    let v = get(sub, expected).unwrap_or(&Value::Null);
    // `{sloc}.{expected}`, rendered only for an issue.
    let vloc = || format!("{sloc}.{expected}");
    match key {
        KEY_BUS_ACK | KEY_INF_ACK if !v.is_boolean() => {
            out.error(
                r::HANDLING_KEYS,
                &vloc(),
                format!("handling key {key} must be true or false"),
            );
        }
        KEY_RECIPIENT_TYPE => {
            if s(v, "system") != Some(RECIPIENT_TYPE_SYSTEM) {
                out.error(
                    r::HANDLING_KEYS,
                    &format!("{}.system", vloc()),
                    format!("RecipientType system must be {RECIPIENT_TYPE_SYSTEM}"),
                );
            }
            let display = match s(v, "code") {
                Some("FA") => Some("For Action"),
                Some("FI") => Some("For Information"),
                _ => {
                    out.error(
                        r::HANDLING_KEYS,
                        &format!("{}.code", vloc()),
                        "RecipientType code must be FA or FI",
                    );
                    None
                }
            };
            if let Some(d) = display {
                if s(v, "display") != Some(d) {
                    out.error(
                        r::HANDLING_KEYS,
                        &format!("{}.display", vloc()),
                        format!("RecipientType display must be '{d}'"),
                    );
                }
            }
            for k in ["version", "userSelected"] {
                if present(v, k) {
                    out.error(
                        r::HANDLING_KEYS,
                        &format!("{}.{k}", vloc()),
                        format!("RecipientType {k} is not allowed (0..0)"),
                    );
                }
            }
        }
        KEY_MESSAGE_DEFINITION => match s(v, "reference") {
            Some(u) if !u.trim().is_empty() => {
                for k in ["identifier", "display"] {
                    if present(v, k) {
                        out.error(
                            r::HANDLING_KEYS,
                            &format!("{}.{k}", vloc()),
                            format!("MessageDefinition valueReference.{k} is not allowed (0..0)"),
                        );
                    }
                }
                return Some((format!("{}.reference", vloc()), u.to_string()));
            }
            _ => out.error(
                r::HANDLING_KEYS,
                &parent_of(&format!("{}.reference", vloc())),
                "MessageDefinition valueReference.reference is required",
            ),
        },
        KEY_SENDER_REFERENCE => match v.as_str() {
            Some(t) if !t.is_empty() && t.chars().count() <= 255 && is_sender_reference(t) => {}
            _ => out.error(
                r::HANDLING_KEYS,
                &vloc(),
                "SenderReference must be a non-empty string of at most 255 characters containing a word character",
            ),
        },
        _ => {}
    }
    None
}

/// Returns the event code if present.
fn check_event(mh: &Value, loc: &str, out: &mut Out) -> Option<String> {
    let eloc = format!("{loc}.event");
    let Some(ev) = get(mh, "event").filter(|e| e.is_object()) else {
        out.error(
            r::EVENT_CODING,
            &parent_of(&eloc),
            "MessageHeader.event is required",
        );
        return None;
    };
    if s(ev, "system") != Some(EVENT_SYSTEM) {
        out.error(
            r::EVENT_CODING,
            &format!("{eloc}.system"),
            format!("event.system must be {EVENT_SYSTEM}"),
        );
    }
    let code = s(ev, "code");
    let expected_display = match code {
        Some(RESPONSE_EVENT_CODE) => Some(RESPONSE_EVENT_DISPLAY),
        Some(c) => sections::by_event(c).map(|d| d.event_display),
        None => None,
    };
    match (code, expected_display) {
        (None, _) => out.error(
            r::EVENT_CODING,
            &parent_of(&format!("{eloc}.code")),
            "event.code is required",
        ),
        (Some(_), None) => out.error(
            r::EVENT_CODING,
            &format!("{eloc}.code"),
            "event.code must be one of ITK003D, ITK004D, ITK005D, ITK006D, ITK008M",
        ),
        (Some(c), Some(d)) => {
            if s(ev, "display") != Some(d) {
                out.error(
                    r::EVENT_CODING,
                    &format!("{eloc}.display"),
                    format!("event.display for {c} must be '{d}'"),
                );
            }
        }
    }
    for k in ["version", "userSelected"] {
        if present(ev, k) {
            out.error(
                r::EVENT_CODING,
                &format!("{eloc}.{k}"),
                format!("event.{k} is not allowed (0..0)"),
            );
        }
    }
    code.map(str::to_string)
}

fn check_party(
    mh: &Value,
    loc: &str,
    key: &str,
    required: bool,
    outer: &BundleIndex,
    out: &mut Out,
) {
    let ploc = format!("{loc}.{key}");
    let Some(p) = get(mh, key).filter(|v| !v.is_null()) else {
        if required {
            out.error(
                r::HEADER_PARTY,
                &parent_of(&ploc),
                format!("MessageHeader.{key} is required"),
            );
        } else {
            out.warn(
                r::HEADER_PARTY,
                &ploc,
                format!("MessageHeader.{key} should be sent (recipient validation)"),
            );
        }
        return;
    };
    if !p.is_object() {
        out.error(
            r::HEADER_PARTY,
            &ploc,
            format!("MessageHeader.{key} must be a single Reference"),
        );
        return;
    }
    let Some(reference) = s(p, "reference") else {
        out.error(
            r::HEADER_PARTY,
            &parent_of(&format!("{ploc}.reference")),
            format!("MessageHeader.{key}.reference is required"),
        );
        return;
    };
    // An unresolved reference is reported by ref-resolve.
    let Some(target) = outer.resolve(reference) else {
        return;
    };
    let ok = match (target.rtype(), target.resource) {
        (Some("Organization"), Some(res)) => has_profile(res, HEADER_ORG_PROFILE),
        (Some("Practitioner"), Some(res)) => has_profile(res, HEADER_PRACT_PROFILE),
        _ => false,
    };
    if !ok {
        out.error(
            r::HEADER_PARTY,
            &format!("{ploc}.reference"),
            format!(
                "MessageHeader.{key} must reference an Organization with profile CareConnect-ITK-Header-Organization-1 or a Practitioner with profile CareConnect-ITK-Header-Practitioner-1"
            ),
        );
    }
}

fn check_header_resource(e: &Entry, out: &mut Out) {
    let Some(res) = e.resource else { return };
    let allowed: &[&str] = match e.rtype() {
        Some("Organization") => &["resourceType", "id", "meta", "identifier"],
        Some("Practitioner") => &["resourceType", "id", "meta", "identifier", "name"],
        _ => return,
    };
    let m: &Map<String, Value> = match res.as_object() {
        Some(m) => m,
        None => return,
    };
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            out.error(
                r::HEADER_RESOURCE,
                &format!("{}.{k}", e.rloc()),
                format!(
                    "header {} may only carry {}",
                    e.rtype().unwrap_or_default(),
                    allowed[1..].join("/")
                ),
            );
        }
    }
}

// ---------------------------------------------------------------- document

fn check_document(doc: &Value, loc: &str, hdr: &HeaderFacts, out: &mut Out) {
    if s(doc, "type") != Some("document") {
        out.error(
            r::DOCUMENT_BUNDLE,
            &format!("{loc}.type"),
            "document Bundle.type must be 'document'",
        );
    }
    if !has_profile(doc, DOCUMENT_BUNDLE_PROFILE) {
        out.error(
            r::DOCUMENT_BUNDLE,
            &profile_loc(doc, loc),
            format!("meta.profile must contain {DOCUMENT_BUNDLE_PROFILE}"),
        );
    }
    match get(doc, "identifier").filter(|i| i.is_object()) {
        None => out.error(
            r::DOCUMENT_BUNDLE,
            &parent_of(&format!("{loc}.identifier")),
            "document Bundle.identifier with system and value is required (bdl-9)",
        ),
        Some(id) => {
            for k in ["system", "value"] {
                if !non_empty(id, k) {
                    out.error(
                        r::DOCUMENT_BUNDLE,
                        &parent_of(&format!("{loc}.identifier.{k}")),
                        format!("document Bundle.identifier.{k} is required (bdl-9)"),
                    );
                }
            }
        }
    }
    check_bundle_prohibited(doc, loc, out);
    let index = BundleIndex::new(doc, loc);
    check_fullurls(&index, out);
    for e in &index.entries {
        match e.resource {
            None => out.error(
                r::DOCUMENT_BUNDLE,
                &e.loc.to_string(),
                "entry has no resource",
            ),
            Some(res) => {
                check_references(res, &e.res_loc(), e.full_url, &index, false, out);
                if profiles(res).next().is_none() {
                    out.warn(
                        r::META_PROFILE,
                        &format!("{}.meta.profile", e.rloc()),
                        format!(
                            "{} does not declare meta.profile",
                            e.rtype().unwrap_or("resource")
                        ),
                    );
                }
                if e.rtype() == Some("Binary") {
                    check_attachment_type(res, &e.res_loc(), out);
                }
            }
        }
    }
    let Some(first) = index.entries.first() else {
        out.error(
            r::DOCUMENT_ENTRY_ORDER,
            &format!("{loc}.entry"),
            "document Bundle has no entries; the first must be the Composition",
        );
        return;
    };
    let comp = match (first.rtype(), first.resource) {
        (Some("Composition"), Some(c)) => c,
        _ => {
            out.error(
                r::DOCUMENT_ENTRY_ORDER,
                &first.loc.to_string(),
                "the first entry of a document Bundle must be the Composition",
            );
            return;
        }
    };
    check_composition(comp, &first.rloc(), &index, hdr, out);
}

/// The MIME types GP IT suppliers are expected to accept for ToC
/// attachments ([EDIS-IG] `design/build_attachments.md`; `image/jpg` is
/// listed beside `image/jpeg`). PDF is the default.
const ATTACHMENT_TYPES: &[&str] = &[
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/rtf",
    "text/html",
    "text/plain",
    "text/xml",
    "image/jpeg",
    "image/jpg",
    "image/png",
    "image/tiff",
];

/// An attachment (Binary) `contentType` outside [`ATTACHMENT_TYPES`] is an
/// error (receivers answer 20005, the NHS Digital harness 20004); one in
/// the list but not PDF is a warning (the IG says SHOULD be PDF, and the
/// harness approves `application/pdf` only). Parameters (`; charset=…`)
/// and case are ignored. A missing contentType is a core cardinality
/// error, reported elsewhere.
fn check_attachment_type(res: &Value, rloc: &ResourceLoc<'_>, out: &mut Out) {
    let Some(ct) = s(res, "contentType") else {
        return;
    };
    let media = ct.split(';').next().unwrap_or_default().trim();
    if media.eq_ignore_ascii_case("application/pdf") {
        return;
    }
    let loc = format!("{rloc}.contentType");
    if ATTACHMENT_TYPES
        .iter()
        .any(|t| media.eq_ignore_ascii_case(t))
    {
        out.warn(
            r::ATTACHMENT_TYPE,
            &loc,
            "attachments should be PDF (application/pdf, the default ToC attachment format; the NHS Digital test harness approves only PDF)",
        );
    } else {
        out.error(
            r::ATTACHMENT_TYPE,
            &loc,
            "attachment contentType is not a MIME type GP systems are expected to accept (pdf, doc, docx, rtf, html, txt, xml, jpeg, png, tiff); receivers answer 20005",
        );
    }
}

/// event ↔ MessageDefinition ↔ Composition profile; returns the document
/// type whose section table applies.
fn check_agreement(
    comp: &Value,
    cloc: &str,
    hdr: &HeaderFacts,
    out: &mut Out,
) -> Option<&'static DocumentType> {
    let by_profile = profiles(comp).find_map(sections::by_composition_profile);
    let by_event = hdr.event_code.as_deref().and_then(sections::by_event);
    let by_def = hdr
        .definition
        .as_ref()
        .and_then(|(_, u)| sections::by_message_definition(u));
    // The location of the Composition's ToC profile: its index in
    // meta.profile, or the parent when there is none to point at.
    let profiles = get(comp, "meta").map(|m| arr(m, "profile")).unwrap_or(&[]);
    let ploc = match profiles.iter().position(|p| {
        p.as_str()
            .and_then(sections::by_composition_profile)
            .is_some()
    }) {
        Some(i) => format!("{cloc}.meta.profile[{i}]"),
        None => profile_loc(comp, cloc),
    };

    if by_profile.is_none() {
        out.error(
            r::EVENT_DEFINITION,
            &ploc,
            format!("Composition meta.profile must contain one of the ToC Composition profiles ({SD}CareConnect-ITK-EDIS/MH/ECD/OPL-Composition-1)"),
        );
    }
    // The event is the anchor when it is a ToC event; otherwise the definition.
    let anchor = by_event.or(by_def);
    if let Some(t) = anchor {
        if let Some((dloc, url)) = &hdr.definition {
            if url != t.message_definition {
                out.error(
                    r::EVENT_DEFINITION,
                    dloc,
                    format!(
                        "MessageDefinition for event {} must be {}",
                        t.event_code, t.message_definition
                    ),
                );
            }
        }
        if by_profile.is_some() && by_profile != Some(t) {
            out.error(
                r::EVENT_DEFINITION,
                &ploc,
                format!(
                    "Composition profile for event {} must be {}",
                    t.event_code, t.composition_profile
                ),
            );
        }
    } else if hdr.event_code.as_deref() == Some(RESPONSE_EVENT_CODE) {
        out.error(
            r::EVENT_DEFINITION,
            &ploc,
            "an ITK Response (ITK008M) message must not carry a document",
        );
    }
    by_profile.or(anchor)
}

fn check_composition(
    comp: &Value,
    cloc: &str,
    index: &BundleIndex,
    hdr: &HeaderFacts,
    out: &mut Out,
) {
    let doc_type = check_agreement(comp, cloc, hdr, out);
    check_care_setting(comp, cloc, out);

    // identifier
    match get(comp, "identifier").filter(|i| i.is_object()) {
        None => out.error(
            r::COMPOSITION_FIELDS,
            &parent_of(&format!("{cloc}.identifier")),
            "Composition.identifier with system and value is required",
        ),
        Some(id) => {
            for k in ["system", "value"] {
                if !non_empty(id, k) {
                    out.error(
                        r::COMPOSITION_FIELDS,
                        &parent_of(&format!("{cloc}.identifier.{k}")),
                        format!("Composition.identifier.{k} is required"),
                    );
                }
            }
        }
    }
    for k in ["status", "date", "title"] {
        if !non_empty(comp, k) {
            out.error(
                r::COMPOSITION_FIELDS,
                &parent_of(&format!("{cloc}.{k}")),
                format!("Composition.{k} is required"),
            );
        }
    }
    // type: one coding with system/code/display
    match get(comp, "type").filter(|t| t.is_object()) {
        None => out.error(
            r::COMPOSITION_FIELDS,
            &parent_of(&format!("{cloc}.type")),
            "Composition.type is required",
        ),
        Some(t) => {
            let codings = arr(t, "coding");
            if codings.len() != 1 {
                out.error(
                    r::COMPOSITION_FIELDS,
                    &format!("{cloc}.type.coding"),
                    "Composition.type must have exactly one coding",
                );
            }
            if let Some(c) = codings.first() {
                for k in ["system", "code", "display"] {
                    if !non_empty(c, k) {
                        out.error(
                            r::COMPOSITION_FIELDS,
                            &parent_of(&format!("{cloc}.type.coding[0].{k}")),
                            format!("Composition.type.coding.{k} is required"),
                        );
                    }
                }
            }
        }
    }
    for k in ["confidentiality", "attester", "event"] {
        if present(comp, k) {
            out.error(
                r::COMPOSITION_FIELDS,
                &at(comp, cloc, k),
                format!("Composition.{k} is not allowed (0..0)"),
            );
        }
    }
    // subject → Patient
    match get(comp, "subject").and_then(|x| s(x, "reference")) {
        None => out.error(
            r::COMPOSITION_FIELDS,
            &parent_of(&format!("{cloc}.subject")),
            "Composition.subject.reference is required",
        ),
        Some(reference) => {
            if let Some(t) = index.resolve(reference) {
                if t.rtype() != Some("Patient") {
                    out.error(
                        r::COMPOSITION_TARGETS,
                        &format!("{cloc}.subject.reference"),
                        "Composition.subject must reference a Patient",
                    );
                } else {
                    // FHIR-DEM-01/02 (crosswalk §2.1.7, R18): the patient must
                    // be identified by an NHS number or a local identifier.
                    let identified = t
                        .resource
                        .map(|p| {
                            arr(p, "identifier")
                                .iter()
                                .any(|i| s(i, "value").is_some_and(|v| !v.trim().is_empty()))
                        })
                        .unwrap_or(false);
                    if !identified {
                        out.error(
                            r::PATIENT_IDENTIFIER,
                            &t.rloc(),
                            "the Patient has no identifier (NHS number or local identifier required)",
                        );
                    }
                }
            }
        }
    }
    // author → Practitioner | Device
    let authors = arr(comp, "author");
    if authors.is_empty() {
        out.error(
            r::COMPOSITION_FIELDS,
            &parent_of(&format!("{cloc}.author")),
            "Composition.author is required (1..*)",
        );
    }
    for (i, a) in authors.iter().enumerate() {
        let aloc = format!("{cloc}.author[{i}]");
        match s(a, "reference") {
            None => out.error(
                r::COMPOSITION_FIELDS,
                &parent_of(&format!("{aloc}.reference")),
                "Composition.author.reference is required",
            ),
            Some(reference) => {
                if let Some(t) = index.resolve(reference) {
                    if !matches!(t.rtype(), Some("Practitioner" | "Device")) {
                        out.error(
                            r::COMPOSITION_TARGETS,
                            &format!("{aloc}.reference"),
                            "Composition.author must reference a Practitioner or Device",
                        );
                    }
                }
            }
        }
    }
    // relatesTo
    let relates = one_or_many(comp, "relatesTo");
    if relates.len() > 1 {
        out.error(
            r::RELATES_TO,
            &format!("{cloc}.relatesTo[1]"),
            "Composition.relatesTo may occur at most once",
        );
    }
    for (suffix, rt) in &relates {
        if s(rt, "code") != Some("replaces") {
            out.error(
                r::RELATES_TO,
                &format!("{cloc}.{suffix}.code"),
                "Composition.relatesTo.code must be 'replaces'",
            );
        }
    }
    check_sections(comp, cloc, doc_type, out);
    check_gp_practice(comp, index, out);
}

/// The GP practice section (886711000000101): every Organization it
/// references carries the practice's ODS organisation code
/// (`https://fhir.nhs.uk/Id/ods-organization-code`; `V81999` when the
/// practice is unknown) — [EDIS-IG] GP practice section, target §6, §10.11.
/// An implementation-guide rule, so a warning, reported at the
/// Organization (the identifier slice it lacks is missing).
fn check_gp_practice(comp: &Value, index: &BundleIndex, out: &mut Out) {
    let mut seen: Vec<usize> = Vec::new();
    for sec in arr(comp, "section") {
        let code = get(sec, "code")
            .map(|c| arr(c, "coding"))
            .and_then(|c| c.first())
            .and_then(|c| s(c, "code"));
        if code != Some(GP_PRACTICE_CODE) {
            continue;
        }
        for e in arr(sec, "entry") {
            let Some(t) = s(e, "reference").and_then(|r| index.resolve(r)) else {
                continue; // unresolved: ref-resolve
            };
            let (Some("Organization"), Some(org)) = (t.rtype(), t.resource) else {
                continue; // other targets: section entry target checks
            };
            let has_ods = arr(org, "identifier")
                .iter()
                .any(|i| s(i, "system") == Some(ODS_ORGANIZATION_SYSTEM) && non_empty(i, "value"));
            if !has_ods && !seen.contains(&t.loc.i) {
                seen.push(t.loc.i);
                out.warn(
                    r::GP_PRACTICE_ODS,
                    &t.rloc(),
                    format!(
                        "the GP practice Organization has no identifier with system {ODS_ORGANIZATION_SYSTEM} (the practice ODS code, V81999 when unknown)"
                    ),
                );
            }
        }
    }
}

fn check_care_setting(comp: &Value, cloc: &str, out: &mut Out) {
    let exts: Vec<(usize, &Value)> = arr(comp, "extension")
        .iter()
        .enumerate()
        .filter(|(_, e)| s(e, "url") == Some(CARE_SETTING_URL))
        .collect();
    if exts.is_empty() {
        out.error(
            r::CARE_SETTING,
            &parent_of(&format!("{cloc}.extension")),
            format!("Composition must carry the {CARE_SETTING_URL} extension"),
        );
        return;
    }
    for (i, _) in &exts[1..] {
        out.error(
            r::CARE_SETTING,
            &format!("{cloc}.extension[{i}]"),
            "the care setting type extension must occur exactly once",
        );
    }
    let (i, ext) = exts[0];
    let vloc = format!("{cloc}.extension[{i}].valueCodeableConcept");
    let Some(cc) = get(ext, "valueCodeableConcept").filter(|v| v.is_object()) else {
        out.error(
            r::CARE_SETTING,
            &parent_of(&vloc),
            "care setting type extension needs a valueCodeableConcept",
        );
        return;
    };
    let codings = arr(cc, "coding");
    if codings.len() != 1 {
        out.error(
            r::CARE_SETTING,
            &format!("{vloc}.coding"),
            "care setting type must have exactly one coding",
        );
    }
    if let Some(c) = codings.first() {
        if s(c, "system") != Some(SNOMED) {
            out.error(
                r::CARE_SETTING,
                &format!("{vloc}.coding[0].system"),
                format!("care setting type coding system must be {SNOMED}"),
            );
        }
        for k in ["code", "display"] {
            if !non_empty(c, k) {
                out.error(
                    r::CARE_SETTING,
                    &parent_of(&format!("{vloc}.coding[0].{k}")),
                    format!("care setting type coding {k} is required"),
                );
            }
        }
    }
}

// ---------------------------------------------------------------- sections

fn check_sections(comp: &Value, cloc: &str, doc_type: Option<&DocumentType>, out: &mut Out) {
    let secs = arr(comp, "section");
    // A missing section is reported at its parent, the Composition.
    let sloc_all = cloc.to_string();
    if secs.is_empty() {
        out.error(
            r::MANDATORY_SECTION,
            &sloc_all,
            "Composition must have at least one section",
        );
    }
    let mut seen: HashSet<&str> = HashSet::default();
    for (i, sec) in secs.iter().enumerate() {
        // Rendered only when an issue is raised.
        let sloc = Indexed(cloc, "section", i);
        let code = check_section_code(sec, &sloc, out);
        let spec = match (code, doc_type) {
            (Some(c), Some(t)) => match t.section(c) {
                Some(spec) => Some(spec),
                None => {
                    out.error(
                        r::SECTION_CODE,
                        &format!("{sloc}.code.coding[0].code"),
                        format!(
                            "section code is not a section of the {} Composition profile (closed slicing)",
                            t.name
                        ),
                    );
                    None
                }
            },
            _ => None,
        };
        if let Some(c) = code {
            if !seen.insert(c) {
                out.error(
                    r::SECTION_DUPLICATE,
                    &format!("{sloc}.code.coding[0].code"),
                    "section code occurs more than once (each section slice is 0..1 or 1..1)",
                );
            }
        }
        // title
        match (s(sec, "title"), spec) {
            (None, _) => out.error(
                r::SECTION_FIXED,
                &parent_of(&format!("{sloc}.title")),
                "section title is required",
            ),
            (Some(t), Some(spec)) if t != spec.title => out.error(
                r::SECTION_FIXED,
                &format!("{sloc}.title"),
                format!(
                    "section title for code {} must be '{}'",
                    spec.code, spec.title
                ),
            ),
            _ => {}
        }
        if let Some(spec) = spec {
            let display = get(sec, "code")
                .map(|c| arr(c, "coding"))
                .and_then(|c| c.first())
                .and_then(|c| s(c, "display"));
            if display != Some(spec.display) {
                out.error(
                    r::SECTION_FIXED,
                    &format!("{sloc}.code.coding[0].display"),
                    format!(
                        "section code display for {} must be '{}'",
                        spec.code, spec.display
                    ),
                );
            }
            if spec.needs_entry && arr(sec, "entry").is_empty() {
                out.error(
                    r::SECTION_ENTRY,
                    &parent_of(&format!("{sloc}.entry")),
                    format!("section '{}' must have at least one entry", spec.title),
                );
            }
        }
        check_section_text(sec, &sloc, out);
        for k in ["emptyReason", "mode", "orderedBy", "section"] {
            if present(sec, k) {
                out.error(
                    r::SECTION_PROHIBITED,
                    &at(sec, &sloc.to_string(), k),
                    format!("section.{k} is not allowed (0..0)"),
                );
            }
        }
    }

    // Presence: profile 1..1 (error), IG Mandatory (warning).
    for (code, title) in [
        (ALLERGIES_CODE, "Allergies and adverse reactions"),
        (DEMOGRAPHICS_CODE, "Patient demographics"),
    ] {
        if !seen.contains(code) {
            out.error(
                r::MANDATORY_SECTION,
                &sloc_all,
                format!("required section '{title}' ({code}) is missing"),
            );
        }
    }
    if let Some(t) = doc_type {
        for spec in t.sections {
            if spec.ig_mandatory && !spec.profile_required && !seen.contains(spec.code) {
                out.warn(
                    r::IG_MANDATORY_SECTION,
                    &sloc_all,
                    format!(
                        "section '{}' ({}) is Mandatory in the {} implementation guide but missing",
                        spec.title, spec.code, t.name
                    ),
                );
            }
        }
    }
}

/// code with exactly one coding with system SNOMED and a code; returns the code.
fn check_section_code<'a>(sec: &'a Value, sloc: &Indexed<'_>, out: &mut Out) -> Option<&'a str> {
    let Some(code) = get(sec, "code").filter(|c| c.is_object()) else {
        out.error(
            r::SECTION_CODE,
            &parent_of(&format!("{sloc}.code")),
            "section code is required",
        );
        return None;
    };
    let codings = arr(code, "coding");
    if codings.len() != 1 {
        out.error(
            r::SECTION_CODE,
            &format!("{sloc}.code.coding"),
            "section code must have exactly one coding",
        );
    }
    let c = codings.first()?;
    if s(c, "system") != Some(SNOMED) {
        out.error(
            r::SECTION_CODE,
            &format!("{sloc}.code.coding[0].system"),
            format!("section code system must be {SNOMED}"),
        );
    }
    for k in ["version", "userSelected"] {
        if present(c, k) {
            out.error(
                r::SECTION_CODE,
                &format!("{sloc}.code.coding[0].{k}"),
                format!("section code.coding.{k} is not allowed (0..0)"),
            );
        }
    }
    if present(code, "text") {
        out.error(
            r::SECTION_CODE,
            &format!("{sloc}.code.text"),
            "section code.text is not allowed (0..0)",
        );
    }
    match s(c, "code") {
        Some(x) if !x.is_empty() => Some(x),
        _ => {
            out.error(
                r::SECTION_CODE,
                &parent_of(&format!("{sloc}.code.coding[0].code")),
                "section code.coding.code is required",
            );
            None
        }
    }
}

fn check_section_text(sec: &Value, sloc: &Indexed<'_>, out: &mut Out) {
    // Locations (`{sloc}.text`, `{sloc}.text.div`) are rendered only for
    // an issue.
    let Some(text) = get(sec, "text").filter(|t| t.is_object()) else {
        out.error(
            r::SECTION_TEXT,
            &parent_of(&format!("{sloc}.text")),
            "section text (narrative) is required",
        );
        return;
    };
    if !non_empty(text, "status") {
        out.error(
            r::SECTION_TEXT,
            &parent_of(&format!("{sloc}.text.status")),
            "section text.status is required",
        );
    }
    let dloc = || format!("{sloc}.text.div");
    match s(text, "div") {
        None => out.error(
            r::SECTION_TEXT,
            &parent_of(&dloc()),
            "section text.div is required",
        ),
        Some(div) if !div.starts_with(XHTML_DIV_START) => out.error(
            r::SECTION_TEXT,
            &dloc(),
            "section text.div must be an XHTML div starting <div xmlns=\"http://www.w3.org/1999/xhtml\"",
        ),
        Some(div) => {
            // Text outside tags is usually found at once; the `<img`
            // search (the whole div) only when there is none.
            if !has_text_outside_tags(div) && !div.contains("<img") {
                out.error(
                    r::SECTION_TEXT,
                    &dloc(),
                    "section text.div has no content (txt-2)",
                );
            }
        }
    }
}

// ---------------------------------------------------------------- responses

/// ITK3 response codes that are positive (target-itk3-toc.md §9).
const POSITIVE_RESPONSES: &[&str] = &["20013", "30001", "30004"];
const RESPONSE_CODES_SYSTEM: &str = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1";
const RESPONSE_OUTCOME_PROFILE: &str =
    "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Response-OperationOutcome-1";

/// The response level of §10: BusAckRequested false, response.identifier,
/// an ITK-Response-OperationOutcome-1 in response.details whose code agrees
/// with response.code and issue.severity (§9 table).
fn check_response(h: &Entry, outer: &BundleIndex, out: &mut Out) {
    let Some(mh) = h.resource else { return };
    let loc = h.rloc();
    // BusAckRequested must be false on responses (GP-GFR-19).
    for (i, ext) in arr(mh, "extension").iter().enumerate() {
        if s(ext, "url") != Some(HANDLING_URL) {
            continue;
        }
        for (j, sub) in arr(ext, "extension").iter().enumerate() {
            if s(sub, "url") == Some(KEY_BUS_ACK)
                && get(sub, "valueBoolean") == Some(&Value::Bool(true))
            {
                out.error(
                    r::RESPONSE,
                    &format!("{loc}.extension[{i}].extension[{j}].valueBoolean"),
                    "BusAckRequested must be false on an ITK Response (GP-GFR-19)",
                );
            }
        }
    }
    let Some(resp) = get(mh, "response") else {
        out.error(
            r::RESPONSE,
            &loc,
            "an ITK Response needs MessageHeader.response",
        );
        return;
    };
    let rloc = format!("{loc}.response");
    if !non_empty(resp, "identifier") {
        out.error(
            r::RESPONSE,
            &parent_of(&format!("{rloc}.identifier")),
            "response.identifier (the acknowledged MessageHeader.id) is required",
        );
    }
    let code = s(resp, "code");
    let Some(details) = get(resp, "details").and_then(|d| s(d, "reference")) else {
        out.error(
            r::RESPONSE,
            &format!("{rloc}.details"),
            "response.details must reference the ITK-Response-OperationOutcome-1",
        );
        return;
    };
    let Some(oo) = outer.entries.iter().find(|e| e.full_url == Some(details)) else {
        return; // ref-resolve reports it
    };
    let Some(ores) = oo.resource else { return };
    let oloc = oo.rloc();
    if s(ores, "resourceType") != Some("OperationOutcome") {
        out.error(
            r::RESPONSE,
            &format!("{rloc}.details.reference"),
            "response.details must reference an OperationOutcome",
        );
        return;
    }
    if !has_profile(ores, RESPONSE_OUTCOME_PROFILE) {
        out.error(
            r::RESPONSE,
            &format!("{oloc}.meta.profile"),
            format!("meta.profile must contain {RESPONSE_OUTCOME_PROFILE}"),
        );
    }
    for (i, issue) in arr(ores, "issue").iter().enumerate() {
        let iloc = format!("{oloc}.issue[{i}]");
        let codings: Vec<&Value> = issue
            .get("details")
            .map(|d| arr(d, "coding").iter().collect())
            .unwrap_or_default();
        let itk: Vec<&str> = codings
            .iter()
            .filter(|c| s(c, "system") == Some(RESPONSE_CODES_SYSTEM))
            .filter_map(|c| s(c, "code"))
            .collect();
        if itk.len() != 1 {
            out.error(
                r::RESPONSE,
                &format!("{iloc}.details"),
                "issue.details needs exactly one ITK-ResponseCodes-1 coding",
            );
            continue;
        }
        let positive = POSITIVE_RESPONSES.contains(&itk[0]);
        let want_code = if positive { "ok" } else { "fatal-error" };
        if code.is_some_and(|c| c != want_code) {
            out.error(
                r::RESPONSE,
                &format!("{rloc}.code"),
                format!(
                    "response.code must be '{want_code}' for ITK response code {} (§9)",
                    itk[0]
                ),
            );
        }
        let want_sev = if positive { "information" } else { "fatal" };
        if s(issue, "severity").is_some_and(|v| v != want_sev) {
            out.error(
                r::RESPONSE,
                &format!("{iloc}.severity"),
                format!(
                    "issue.severity must be '{want_sev}' for ITK response code {} (§9)",
                    itk[0]
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{
        is_instant, is_lower_uuid, is_sender_reference, json_longer_than, INSTANT, SENDER_REFERENCE,
    };
    use regex::Regex;

    #[test]
    fn json_size_is_the_compact_serialisation() {
        let v = serde_json::json!({
            "resourceType": "Bundle",
            "a": [1, -2.5, 1e300, 0, null, true, false, [], {}],
            "q\"k": "quote \" backslash \\ nl \n tab \t cr \r ff \u{c} bs \u{8} nul \u{0} us \u{1f} del \u{7f} é 日本",
            "n": {"x": "", "y": [{"z": "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"}]}
        });
        let exact = serde_json::to_vec(&v).unwrap().len();
        // Around the exact size, where the escapes decide.
        for limit in exact.saturating_sub(40)..exact + 40 {
            assert_eq!(json_longer_than(&v, limit), exact > limit, "limit {limit}");
        }
        assert!(!json_longer_than(&v, usize::MAX));
        assert!(json_longer_than(&v, 0));
    }

    #[test]
    fn instant_is_the_regex() {
        let seeds = [
            "2026-12-04T17:58:07Z",
            "2026-12-04T17:58:07+00:00",
            "-0001-01-31T23:59:60.123-14:00",
            "2026-02-29T00:00:00.5+13:59",
            "2026-12-04T17:58:07.0001Z",
            "2026-12-04T17:58:07",
            "2026-12-04",
            "",
            "Z",
        ];
        let swaps = [
            '0', '1', '2', '3', '4', '5', '6', '9', '-', '+', ':', 'T', 'Z', '.', ' ', 'x', 'é',
        ];
        let mut cases: Vec<String> = seeds.iter().map(|s| s.to_string()).collect();
        for seed in seeds {
            let chars: Vec<char> = seed.chars().collect();
            for i in 0..=chars.len() {
                cases.push(chars[..i].iter().collect());
                cases.push(chars[i..].iter().collect());
                for &c in &swaps {
                    let mut s = chars.clone();
                    if i < s.len() {
                        s[i] = c;
                        cases.push(s.iter().collect());
                        // And a second position, for pairs of digits.
                        for j in i + 1..s.len() {
                            for &d in &['0', '1', '3', '4', '5', '9'] {
                                let mut u = s.clone();
                                u[j] = d;
                                cases.push(u.iter().collect());
                            }
                        }
                    }
                    let mut s = chars.clone();
                    s.insert(i, c);
                    cases.push(s.iter().collect());
                }
            }
        }
        // The regex, and a real calendar day (the regex allows 29-31 in any
        // month; formats.rs checks the calendar for every date type).
        let real_day = |s: &str| {
            let s = s.strip_prefix('-').unwrap_or(s);
            match (s.get(0..4), s.get(5..7), s.get(8..10)) {
                (Some(y), Some(m), Some(d)) => match (y.parse(), m.parse(), d.parse()) {
                    (Ok(y), Ok(m), Ok(d)) => jiff::civil::Date::new(y, m, d).is_ok(),
                    _ => false,
                },
                _ => false,
            }
        };
        for s in &cases {
            let want = INSTANT.is_match(s) && real_day(s);
            assert_eq!(is_instant(s), want, "{s:?}");
        }
    }

    #[test]
    fn sender_reference_is_the_regex() {
        for s in [
            "",
            "a",
            "_",
            "-",
            "ab-12",
            " x ",
            "x\n",
            "\nx",
            "é",
            "--é--",
            "٣",
            "\u{300}",
            "-\u{200d}-",
            "\r",
            "a\rb",
            "¼",
            "Ⅻ",
            "!!",
            "\t",
            "日本",
            "\n",
        ] {
            assert_eq!(
                is_sender_reference(s),
                SENDER_REFERENCE.is_match(s),
                "{s:?}"
            );
        }
    }

    #[test]
    fn lower_uuid_is_the_regex() {
        let re =
            Regex::new(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$").unwrap();
        let good = "0a1b2c3d-4e5f-6789-abcd-ef0123456789";
        let mut cases: Vec<String> = vec![
            good.into(),
            String::new(),
            good.to_uppercase(),
            format!("{good}0"),
            good[1..].into(),
            "0a1b2c3d-4e5f-6789-abcd-ef012345678é".into(),
        ];
        // Every byte position replaced by each of a few bytes.
        for i in 0..good.len() {
            for c in ['-', 'g', 'A', 'F', '0', 'f', ' ', '/'] {
                let mut s: Vec<char> = good.chars().collect();
                s[i] = c;
                cases.push(s.into_iter().collect());
            }
        }
        for s in &cases {
            assert_eq!(is_lower_uuid(s), re.is_match(s), "{s:?}");
        }
    }
}
