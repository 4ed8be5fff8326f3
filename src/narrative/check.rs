//! Structural check of a finished narrative `div` against the FHIR STU3
//! rules (crosswalk §5.1): txt-1 element/attribute allow-list (from
//! `fhir-xhtml.xsd`), txt-2 non-whitespace content, XML well-formedness, and
//! no scripts, event attributes or `javascript:` URLs. Also the content-model
//! rules our converters could plausibly break (blocks inside inline
//! elements, table/list structure), since HAPI rejects those too.
//!
//! This is a cheap pre-flight check, not a full schema validation.

use std::borrow::Cow;
use std::sync::OnceLock;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::is_xml_char;
use crate::fhir::defs::FastSet;

/// The XHTML namespace required on the narrative `div`.
pub const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// The 53 elements of `fhir-xhtml.xsd`.
pub(crate) const ELEMENTS: &[&str] = &[
    "div",
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "address",
    "hr",
    "pre",
    "blockquote",
    "a",
    "span",
    "bdo",
    "br",
    "em",
    "strong",
    "dfn",
    "code",
    "samp",
    "kbd",
    "var",
    "cite",
    "abbr",
    "acronym",
    "q",
    "sub",
    "sup",
    "tt",
    "i",
    "b",
    "big",
    "small",
    "img",
    "map",
    "area",
    "table",
    "caption",
    "thead",
    "tfoot",
    "tbody",
    "colgroup",
    "col",
    "tr",
    "th",
    "td",
];

/// Attributes allowed on every element.
const CORE_ATTRS: &[&str] = &["id", "class", "style", "title", "lang", "xml:lang", "dir"];

/// Element-specific attributes.
pub(crate) fn element_attrs(el: &str) -> &'static [&'static str] {
    match el {
        "table" => &[
            "summary",
            "width",
            "border",
            "frame",
            "rules",
            "cellspacing",
            "cellpadding",
        ],
        "th" | "td" => &[
            "abbr", "axis", "headers", "scope", "rowspan", "colspan", "align", "char", "charoff",
            "valign",
        ],
        "tr" | "thead" | "tbody" | "tfoot" => &["align", "char", "charoff", "valign"],
        "col" | "colgroup" => &["span", "width", "align", "char", "charoff", "valign"],
        "a" => &[
            "href", "name", "type", "rel", "rev", "hreflang", "charset", "shape", "coords",
        ],
        "img" => &[
            "src", "alt", "longdesc", "height", "width", "usemap", "ismap",
        ],
        "area" => &["shape", "coords", "href", "nohref", "alt"],
        "map" => &["name"],
        "pre" => &["xml:space"],
        "blockquote" | "q" => &["cite"],
        "p" | "div" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => &["align"],
        _ => &[],
    }
}

/// Whether `attr` is allowed on `el`.
pub(crate) fn attr_allowed(el: &str, attr: &str) -> bool {
    CORE_ATTRS.contains(&attr) || element_attrs(el).contains(&attr)
}

/// Block-level elements (not allowed inside inline-only parents).
pub(crate) fn is_block(el: &str) -> bool {
    matches!(
        el,
        "div"
            | "p"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "ul"
            | "ol"
            | "li"
            | "dl"
            | "dt"
            | "dd"
            | "address"
            | "hr"
            | "pre"
            | "blockquote"
            | "table"
            | "caption"
            | "thead"
            | "tfoot"
            | "tbody"
            | "colgroup"
            | "col"
            | "tr"
            | "th"
            | "td"
    )
}

/// Elements whose content must be inline only.
fn inline_only(el: &str) -> bool {
    !is_block(el)
        || matches!(
            el,
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "pre" | "dt" | "address" | "caption"
        )
}

/// Elements that may only contain the listed child elements (and no text).
fn structural_children(el: &str) -> Option<&'static [&'static str]> {
    Some(match el {
        "ul" | "ol" => &["li"],
        "dl" => &["dt", "dd"],
        "table" => &[
            "caption", "col", "colgroup", "thead", "tfoot", "tbody", "tr",
        ],
        "thead" | "tbody" | "tfoot" => &["tr"],
        "tr" => &["th", "td"],
        "colgroup" => &["col"],
        _ => return None,
    })
}

/// Elements that must contain at least one of these children.
fn required_children(el: &str) -> Option<&'static [&'static str]> {
    Some(match el {
        "ul" | "ol" => &["li"],
        "dl" => &["dt", "dd"],
        "table" => &["tbody", "tr"],
        "thead" | "tbody" | "tfoot" => &["tr"],
        "tr" => &["th", "td"],
        _ => return None,
    })
}

/// Elements allowed only inside one of these parents.
fn required_parent(el: &str) -> Option<&'static [&'static str]> {
    Some(match el {
        "li" => &["ul", "ol"],
        "dt" | "dd" => &["dl"],
        "tr" => &["table", "thead", "tbody", "tfoot"],
        "th" | "td" => &["tr"],
        "caption" | "thead" | "tfoot" | "tbody" | "colgroup" => &["table"],
        "col" => &["table", "colgroup"],
        "area" => &["map"],
        _ => return None,
    })
}

/// URL-valued attributes (checked for script schemes).
fn is_url_attr(a: &str) -> bool {
    matches!(a, "href" | "src" | "cite" | "longdesc" | "usemap")
}

fn bad_scheme(v: &str) -> bool {
    let squashed: String = v
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    squashed.starts_with("javascript:")
        || squashed.starts_with("vbscript:")
        || squashed.starts_with("data:text")
}

struct Open {
    name: Cow<'static, str>,
    required_seen: bool,
}

/// The allowed element names, for lookups without allocating.
fn intern(name: &str) -> Option<&'static str> {
    static SET: OnceLock<FastSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| ELEMENTS.iter().copied().collect())
        .get(name)
        .copied()
}

/// Check a finished `<div xmlns="http://www.w3.org/1999/xhtml">…</div>`
/// against the FHIR STU3 narrative rules. Returns the list of problems
/// (empty = ok).
pub fn check_xhtml(div: &str) -> Vec<String> {
    let mut problems: Vec<String> = Vec::new();
    let mut reader = Reader::from_str(div);
    {
        let cfg = reader.config_mut();
        cfg.trim_text(false);
        cfg.check_end_names = true;
        cfg.expand_empty_elements = false;
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut roots = 0u32;
    let mut content = false;
    loop {
        let pos = reader.buffer_position();
        let ev = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                problems.push(format!(
                    "not well-formed at byte {}: {e}",
                    reader.error_position()
                ));
                return problems;
            }
        };
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let raw_name = e.name();
                let name: Cow<'static, str> = match std::str::from_utf8(raw_name.as_ref()) {
                    Ok(n) => match intern(n) {
                        Some(k) => Cow::Borrowed(k),
                        None => Cow::Owned(n.to_string()),
                    },
                    Err(_) => Cow::Owned(String::from_utf8_lossy(raw_name.as_ref()).into_owned()),
                };
                if stack.is_empty() {
                    roots += 1;
                    if roots > 1 {
                        problems.push(format!(
                            "more than one root element (<{name}> at byte {pos})"
                        ));
                    }
                    if name != "div" {
                        problems.push(format!("root element must be div, found <{name}>"));
                    }
                    match attr_value(e, "xmlns") {
                        Some(ns) if ns == XHTML_NS => {}
                        Some(ns) => problems
                            .push(format!("root div has namespace '{ns}', must be {XHTML_NS}")),
                        None => {
                            problems.push(format!("root div must declare xmlns=\"{XHTML_NS}\""))
                        }
                    }
                }
                check_element(e, &name, stack.last(), &mut problems);
                if let Some(parent) = stack.last_mut() {
                    if required_children(&parent.name).is_some_and(|r| r.contains(&name.as_ref())) {
                        parent.required_seen = true;
                    }
                }
                if name == "img" {
                    content = true;
                }
                let open = Open {
                    name,
                    required_seen: false,
                };
                if empty {
                    close_check(&open, &mut problems);
                } else {
                    stack.push(open);
                }
            }
            Event::End(_) => {
                if let Some(open) = stack.pop() {
                    close_check(&open, &mut problems);
                }
            }
            Event::Text(t) => {
                let bytes = t.as_ref();
                // Fast path: printable ASCII and tab/LF/CR need no char walk
                // (non-ASCII text is checked char by char).
                let plain = bytes
                    .iter()
                    .all(|&b| (0x20..0x7f).contains(&b) || b == b'\t' || b == b'\n' || b == b'\r');
                let raw = if plain {
                    Cow::Borrowed(std::str::from_utf8(bytes).unwrap_or_default())
                } else {
                    String::from_utf8_lossy(bytes)
                };
                if !plain && raw.chars().any(|c| !is_xml_char(c)) {
                    problems.push("text contains characters not allowed in XML".into());
                }
                let has = if plain {
                    bytes.iter().any(|b| !b.is_ascii_whitespace())
                } else {
                    raw.chars().any(|c| !c.is_whitespace())
                };
                text_check(&stack, has, &mut problems);
                content |= has && !stack.is_empty();
            }
            Event::CData(t) => {
                let has = t.as_ref().iter().any(|b| !b.is_ascii_whitespace());
                text_check(&stack, has, &mut problems);
                content |= has && !stack.is_empty();
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) if is_xml_char(c) => Some(c),
                        _ => {
                            problems.push("invalid character reference".into());
                            None
                        }
                    }
                } else {
                    let n = String::from_utf8_lossy(r.as_ref()).into_owned();
                    match quick_xml::escape::resolve_predefined_entity(&n) {
                        Some(v) => v.chars().next(),
                        None => {
                            problems.push(format!("undefined entity '&{n};' (only the XML predefined entities are allowed)"));
                            None
                        }
                    }
                };
                let has = c.is_some_and(|c| !c.is_whitespace());
                text_check(&stack, has, &mut problems);
                content |= has && !stack.is_empty();
            }
            Event::DocType(_) => problems.push("DOCTYPE not allowed in narrative".into()),
            Event::PI(_) => problems.push("processing instruction not allowed in narrative".into()),
            Event::Decl(_) => problems.push("XML declaration not allowed in narrative".into()),
            Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        let names: Vec<&str> = stack.iter().map(|o| o.name.as_ref()).collect();
        problems.push(format!(
            "not well-formed: unclosed element(s) {}",
            names.join(" > ")
        ));
    }
    if roots == 0 {
        problems.push("no root div".into());
    }
    if !content {
        problems.push("txt-2: the narrative has no non-whitespace content".into());
    }
    problems
}

fn attr_value(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == key.as_bytes())
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

fn text_check(stack: &[Open], non_ws: bool, problems: &mut Vec<String>) {
    if !non_ws {
        return;
    }
    match stack.last() {
        None => problems.push("text outside the root div".into()),
        Some(p) if structural_children(&p.name).is_some() => {
            problems.push(format!("text directly inside <{}> is not allowed", p.name))
        }
        _ => {}
    }
}

fn close_check(open: &Open, problems: &mut Vec<String>) {
    if let Some(req) = required_children(&open.name) {
        if !open.required_seen && intern(&open.name).is_some() {
            problems.push(format!(
                "<{}> needs at least one of <{}>",
                open.name,
                req.join(">, <")
            ));
        }
    }
}

fn check_element(
    e: &BytesStart<'_>,
    name: &str,
    parent: Option<&Open>,
    problems: &mut Vec<String>,
) {
    if intern(name).is_none() {
        if matches!(
            name,
            "script"
                | "style"
                | "iframe"
                | "object"
                | "embed"
                | "form"
                | "frame"
                | "frameset"
                | "base"
                | "link"
                | "meta"
        ) {
            problems.push(format!("txt-1: <{name}> is forbidden in narrative"));
        } else {
            problems.push(format!("txt-1: element <{name}> is not allowed"));
        }
    }
    if let Some(p) = parent {
        if inline_only(&p.name) && intern(&p.name).is_some() && is_block(name) {
            problems.push(format!(
                "block element <{name}> inside inline-only <{}>",
                p.name
            ));
        }
        if let Some(allowed) = structural_children(&p.name) {
            if !allowed.contains(&name) {
                problems.push(format!(
                    "<{name}> is not allowed directly inside <{}>",
                    p.name
                ));
            }
        }
        if name == "a" && p.name == "a" {
            problems.push("nested <a>".into());
        }
    }
    if let Some(parents) = required_parent(name) {
        if !parent.is_some_and(|p| parents.contains(&p.name.as_ref())) {
            problems.push(format!("<{name}> must be inside <{}>", parents.join(">/<")));
        }
    }
    let mut seen_src = false;
    let mut seen_alt = false;
    for a in e.attributes().with_checks(true) {
        let a = match a {
            Ok(a) => a,
            Err(x) => {
                problems.push(format!("bad attribute on <{name}>: {x}"));
                continue;
            }
        };
        let key = match std::str::from_utf8(a.key.as_ref()) {
            Ok(k) => Cow::Borrowed(k),
            Err(_) => String::from_utf8_lossy(a.key.as_ref()),
        };
        let key = key.as_ref();
        let value = match a.unescape_value() {
            Ok(v) => v,
            Err(x) => {
                problems.push(format!("bad value of {key} on <{name}>: {x}"));
                continue;
            }
        };
        if key == "xmlns" {
            if value != XHTML_NS {
                problems.push(format!(
                    "<{name}> declares namespace '{value}' (only XHTML is allowed)"
                ));
            }
            continue;
        }
        if key.starts_with("xmlns:") {
            problems.push(format!("<{name}> declares a namespace prefix ({key})"));
            continue;
        }
        if key.len() >= 2 && key[..2].eq_ignore_ascii_case("on") {
            problems.push(format!("txt-1: event attribute {key} on <{name}>"));
            continue;
        }
        if !attr_allowed(name, key) {
            problems.push(format!("txt-1: attribute {key} not allowed on <{name}>"));
        }
        if is_url_attr(key) && bad_scheme(&value) {
            problems.push(format!("script URL in {key} on <{name}>"));
        }
        if key == "style" {
            let l = value.to_ascii_lowercase();
            if l.contains("expression(") || l.contains("javascript:") || l.contains("url(") {
                problems.push(format!(
                    "style on <{name}> refers to external or script content"
                ));
            }
        }
        seen_src |= key == "src";
        seen_alt |= key == "alt";
    }
    if name == "img" && !(seen_src && seen_alt) {
        problems.push("<img> needs both src and alt".into());
    }
}

/// Plain text of the XHTML (for word-coverage checks): character data with
/// references resolved, block boundaries and `br` read as spaces, whitespace
/// collapsed and trimmed. Best effort on ill-formed input.
pub fn xhtml_text(div: &str) -> String {
    let mut raw = String::new();
    let mut reader = Reader::from_str(div);
    reader.config_mut().trim_text(false);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                let n = e.name();
                let n = String::from_utf8_lossy(n.as_ref());
                if is_block(&n) || n == "br" {
                    raw.push(' ');
                }
            }
            Ok(Event::End(e)) => {
                let n = e.name();
                let n = String::from_utf8_lossy(n.as_ref());
                if is_block(&n) {
                    raw.push(' ');
                }
            }
            Ok(Event::Text(t)) => raw.push_str(&String::from_utf8_lossy(t.as_ref())),
            Ok(Event::CData(t)) => raw.push_str(&String::from_utf8_lossy(t.as_ref())),
            Ok(Event::GeneralRef(r)) => {
                if r.is_char_ref() {
                    if let Ok(Some(c)) = r.resolve_char_ref() {
                        raw.push(c);
                    }
                } else if let Some(v) = quick_xml::escape::resolve_predefined_entity(
                    &String::from_utf8_lossy(r.as_ref()),
                ) {
                    raw.push_str(v);
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    raw.split([' ', '\t', '\n', '\r'])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::super::escape_text;
    use super::*;
    use proptest::prelude::*;

    fn wrap(inner: &str) -> String {
        format!("<div xmlns=\"{XHTML_NS}\">{inner}</div>")
    }

    fn rejects(inner: &str, needle: &str) {
        let p = check_xhtml(&wrap(inner));
        assert!(
            p.iter().any(|m| m.contains(needle)),
            "{inner}: expected '{needle}' in {p:?}"
        );
    }

    #[test]
    fn accepts_typical_narrative() {
        let div = wrap(
            "<div><h3>Meds</h3><p>A &amp; E <b>x</b><br/>y</p><ul><li>a</li></ul>\
             <table width=\"100%\"><caption>c</caption><thead><tr><th>h</th></tr></thead>\
             <tbody><tr><td colspan=\"2\">v</td></tr></tbody></table><a href=\"https://x.nhs.uk\">l</a></div>",
        );
        assert_eq!(check_xhtml(&div), Vec::<String>::new());
    }

    #[test]
    fn rejections() {
        rejects("<p>x</p><script>alert(1)</script>", "<script> is forbidden");
        rejects("<p onclick=\"alert(1)\">x</p>", "event attribute onclick");
        rejects("<u>x</u>", "element <u> is not allowed");
        rejects(
            "<font color=\"red\">x</font>",
            "element <font> is not allowed",
        );
        rejects("<p>x</p><b>", "");
        rejects("<a href=\" javascript:alert(1)\">x</a>", "script URL");
        rejects("<p>x &nbsp;</p>", "undefined entity");
        rejects("<span><p>x</p></span>", "inside inline-only");
        rejects("<ul>x</ul>", "text directly inside <ul>");
        rejects("<table><caption>x</caption></table>", "needs at least one");
        rejects("<td>x</td>", "must be inside");
        rejects("<p title=\"a\" title=\"b\">x</p>", "bad attribute");
        rejects("<img src=\"a.png\"/>x", "needs both src and alt");
        rejects(
            "<p class=\"a\">x</p><p bogus=\"1\">y</p>",
            "attribute bogus not allowed",
        );
    }

    #[test]
    fn rejects_empty_and_unbalanced() {
        assert!(check_xhtml(&format!("<div xmlns=\"{XHTML_NS}\"/>"))
            .iter()
            .any(|m| m.contains("txt-2")));
        assert!(check_xhtml(&wrap("  <p> </p> "))
            .iter()
            .any(|m| m.contains("txt-2")));
        assert!(!check_xhtml(&wrap("<p>x</b></p>")).is_empty());
        assert!(!check_xhtml(&format!("<div xmlns=\"{XHTML_NS}\"><p>x</p>")).is_empty());
        assert!(!check_xhtml("<div><p>x</p></div>").is_empty());
        assert!(!check_xhtml(&format!(
            "<div xmlns=\"{XHTML_NS}\">x</div><div xmlns=\"{XHTML_NS}\">y</div>"
        ))
        .is_empty());
    }

    #[test]
    fn text_extraction() {
        let div = wrap("<p>a&amp;b</p><table><tbody><tr><td>c</td><td>d&#163;</td></tr></tbody></table>e<br/>f");
        assert_eq!(xhtml_text(&div), "a&b c d£ e f");
    }

    proptest! {
        #[test]
        fn escaped_text_is_valid_and_round_trips(s in any::<String>()) {
            let mut inner = String::from("<p>");
            escape_text(&s, &mut inner);
            inner.push_str("</p>");
            let div = wrap(&inner);
            let kept: String = s.chars().filter(|&c| is_xml_char(c)).collect();
            let problems = check_xhtml(&div);
            if kept.chars().any(|c| !c.is_whitespace()) {
                prop_assert!(problems.is_empty(), "{:?} {:?}", div, problems);
            } else {
                prop_assert!(problems.iter().all(|p| p.contains("txt-2")), "{:?}", problems);
            }
            // XML parsers normalise CR to LF; both collapse as whitespace.
            let expected = kept
                .split([' ', '\t', '\n', '\r'])
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            prop_assert_eq!(xhtml_text(&div), expected);
        }
    }
}
