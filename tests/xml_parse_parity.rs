//! Parser parity: trees and errors for awkward inputs, pinned to what the
//! original `NsReader`-based parser produced (the expected dumps below were
//! generated with it, before the fast tokenizer and namespace scopes
//! replaced it). Default and redeclared namespaces, odd prefixes, CDATA,
//! references, comments between text, CRLF and lone CR, whitespace rules,
//! a leading BOM, UTF-16 input, and malformed documents with their exact
//! message and line:column.

use std::fmt::Write;

use itkbridge::xml::{self, Document};

/// Everything observable about a parse, one line per node.
fn dump(src: &str) -> String {
    let mut o = String::new();
    match Document::parse(src) {
        Err(e) => {
            let _ = write!(o, "ERR {}:{} {}", e.line, e.col, e.message);
        }
        Ok(d) => {
            let _ = writeln!(
                o,
                "root {} ns {:?} len {}",
                d.root(),
                d.namespaces(),
                d.len()
            );
            for id in 0..d.len() as u32 {
                let n = d.node(id);
                let kids: Vec<u32> = d.children(id).collect();
                let desc = d.descendants(id).last().copied();
                let attrs: Vec<(u16, &str, &str)> = d
                    .attrs(id)
                    .iter()
                    .map(|a| (a.ns, &*a.local, &*a.value))
                    .collect();
                let _ = writeln!(
                    o,
                    "{id} {:?} ns{} {:?} {:?} p{} pos{} kids{:?} desc{:?} attrs{:?} ht{}",
                    n.kind,
                    n.ns,
                    n.local,
                    n.text,
                    n.parent,
                    n.pos,
                    kids,
                    desc,
                    attrs,
                    d.has_text(id)
                );
            }
        }
    }
    o
}

/// (name, input, expected dump)
const CASES: &[(&str, &str, &str)] = &[
    (
        "default_ns",
        "<a xmlns=\"urn:d\"><b x=\"1\"/><c xmlns=\"\"><d/></c><e/></a>",
        "root 0 ns [\"\", \"urn:d\"] len 5\n0 Element ns1 \"a\" \"\" p4294967295 pos0 kids[1, 2, 4] descSome(4) attrs[] htfalse\n1 Element ns1 \"b\" \"\" p0 pos17 kids[] descNone attrs[(0, \"x\", \"1\")] htfalse\n2 Element ns0 \"c\" \"\" p0 pos27 kids[3] descSome(3) attrs[] htfalse\n3 Element ns0 \"d\" \"\" p2 pos39 kids[] descNone attrs[] htfalse\n4 Element ns1 \"e\" \"\" p0 pos47 kids[] descNone attrs[] htfalse\n",
    ),
    (
        "odd_prefixes",
        "<p:a xmlns:p=\"urn:hl7-org:v3\" xmlns:lcx=\"NPFIT:HL7:Localisation\"><lcx:m x:y=\"1\" xmlns:x=\"urn:x\"/><p:b lcx:t=\"v\" xsi:type=\"p:ST\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"/></p:a>",
        "root 0 ns [\"\", \"urn:hl7-org:v3\", \"NPFIT:HL7:Localisation\", \"urn:x\", \"http://www.w3.org/2001/XMLSchema-instance\"] len 3\n0 Element ns1 \"a\" \"\" p4294967295 pos0 kids[1, 2] descSome(2) attrs[] htfalse\n1 Element ns2 \"m\" \"\" p0 pos65 kids[] descNone attrs[(3, \"y\", \"1\")] htfalse\n2 Element ns1 \"b\" \"\" p0 pos97 kids[] descNone attrs[(2, \"t\", \"v\"), (4, \"type\", \"p:ST\")] htfalse\n",
    ),
    (
        "prefix_redeclared",
        "<p:a xmlns:p=\"urn:1\"><p:b xmlns:p=\"urn:2\"><p:c/></p:b><p:d/><q:e xmlns:q=\"urn:2\"/></p:a>",
        "root 0 ns [\"\", \"urn:1\", \"urn:2\"] len 5\n0 Element ns1 \"a\" \"\" p4294967295 pos0 kids[1, 3, 4] descSome(4) attrs[] htfalse\n1 Element ns2 \"b\" \"\" p0 pos21 kids[2] descSome(2) attrs[] htfalse\n2 Element ns2 \"c\" \"\" p1 pos42 kids[] descNone attrs[] htfalse\n3 Element ns1 \"d\" \"\" p0 pos54 kids[] descNone attrs[] htfalse\n4 Element ns2 \"e\" \"\" p0 pos60 kids[] descNone attrs[] htfalse\n",
    ),
    (
        "cdata_refs_comment_merge",
        "<text>a<![CDATA[<b>&amp;]]>&#163;&lt;<!-- c -->d<content ID=\"x\">e</content> <br/> </text>",
        "root 0 ns [\"\"] len 7\n0 Element ns0 \"text\" \"\" p4294967295 pos0 kids[1, 2, 4, 5, 6] descSome(5) attrs[] httrue\n1 Text ns0 \"\" \"a<b>&amp;£<d\" p0 pos6 kids[] descNone attrs[] htfalse\n2 Element ns0 \"content\" \"\" p0 pos48 kids[3] descNone attrs[(0, \"ID\", \"x\")] httrue\n3 Text ns0 \"\" \"e\" p2 pos64 kids[] descNone attrs[] htfalse\n4 Text ns0 \"\" \" \" p0 pos75 kids[] descNone attrs[] htfalse\n5 Element ns0 \"br\" \"\" p0 pos76 kids[] descNone attrs[] htfalse\n6 Text ns0 \"\" \" \" p0 pos81 kids[] descNone attrs[] htfalse\n",
    ),
    (
        "crlf",
        "<a>\r\n\t<text>x\r\ny\rz<br/>\r\n</text>\r\n\t<b t=\"1\r\n2\">p\r</b>\r\n</a>\r\n",
        "root 0 ns [\"\"] len 7\n0 Element ns0 \"a\" \"\" p4294967295 pos0 kids[1, 5] descSome(5) attrs[] httrue\n1 Element ns0 \"text\" \"\" p0 pos6 kids[2, 3, 4] descSome(3) attrs[] httrue\n2 Text ns0 \"\" \"x\\ny\\nz\" p1 pos12 kids[] descNone attrs[] htfalse\n3 Element ns0 \"br\" \"\" p1 pos18 kids[] descNone attrs[] htfalse\n4 Text ns0 \"\" \"\\n\" p1 pos23 kids[] descNone attrs[] htfalse\n5 Element ns0 \"b\" \"\" p0 pos35 kids[6] descNone attrs[(0, \"t\", \"1\\r\\n2\")] httrue\n6 Text ns0 \"\" \"p\\n\" p5 pos47 kids[] descNone attrs[] htfalse\n",
    ),
    (
        "cr_then_ref",
        "<a>x\r&#10;y\r<!---->\nz</a>",
        "root 0 ns [\"\"] len 2\n0 Element ns0 \"a\" \"\" p4294967295 pos0 kids[1] descNone attrs[] httrue\n1 Text ns0 \"\" \"x\\n\\ny\\n\\nz\" p0 pos3 kids[] descNone attrs[] htfalse\n",
    ),
    (
        "whitespace_rules",
        "<a>\n  <b> </b>\n  <name> <given>J</given> </name>\n  <c>&#32;</c><d> <![CDATA[ ]]> </d></a>",
        "root 0 ns [\"\"] len 9\n0 Element ns0 \"a\" \"\" p4294967295 pos0 kids[1, 2, 7, 8] descSome(8) attrs[] httrue\n1 Element ns0 \"b\" \"\" p0 pos6 kids[] descNone attrs[] htfalse\n2 Element ns0 \"name\" \"\" p0 pos17 kids[3, 4, 6] descSome(4) attrs[] httrue\n3 Text ns0 \"\" \" \" p2 pos23 kids[] descNone attrs[] htfalse\n4 Element ns0 \"given\" \"\" p2 pos24 kids[5] descNone attrs[] httrue\n5 Text ns0 \"\" \"J\" p4 pos31 kids[] descNone attrs[] htfalse\n6 Text ns0 \"\" \" \" p2 pos40 kids[] descNone attrs[] htfalse\n7 Element ns0 \"c\" \"\" p0 pos51 kids[] descNone attrs[] htfalse\n8 Element ns0 \"d\" \"\" p0 pos63 kids[] descNone attrs[] htfalse\n",
    ),
    (
        "xml_lang_and_refs",
        "<a xml:lang=\"en\" t=\"x &amp; y &#x41;\" u='\"q\"' v=\"1>2\" w=\"\"/>",
        "root 0 ns [\"\", \"http://www.w3.org/XML/1998/namespace\"] len 1\n0 Element ns0 \"a\" \"\" p4294967295 pos0 kids[] descNone attrs[(1, \"lang\", \"en\"), (0, \"t\", \"x & y A\"), (0, \"u\", \"\\\"q\\\"\"), (0, \"v\", \"1>2\"), (0, \"w\", \"\")] htfalse\n",
    ),
    (
        "prolog_and_misc",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- c1 -->\n<?pi x?>\n<a><?in side?>t<!---->u</a>\n<!-- end -->\n",
        "root 0 ns [\"\"] len 2\n0 Element ns0 \"a\" \"\" p4294967295 pos60 kids[1] descNone attrs[] httrue\n1 Text ns0 \"\" \"tu\" p0 pos74 kids[] descNone attrs[] htfalse\n",
    ),
    (
        "doctype_skipped",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ELEMENT a ANY>]>\n<a>x</a>",
        "root 0 ns [\"\"] len 2\n0 Element ns0 \"a\" \"\" p4294967295 pos54 kids[1] descNone attrs[] httrue\n1 Text ns0 \"\" \"x\" p0 pos57 kids[] descNone attrs[] htfalse\n",
    ),
    (
        "bom_then_root",
        "\u{feff}<a>\n<b>x</b></a>",
        "root 0 ns [\"\"] len 3\n0 Element ns0 \"a\" \"\" p4294967295 pos0 kids[1] descSome(1) attrs[] httrue\n1 Element ns0 \"b\" \"\" p0 pos4 kids[2] descNone attrs[] httrue\n2 Text ns0 \"\" \"x\" p1 pos7 kids[] descNone attrs[] htfalse\n",
    ),
    (
        "spaces_in_tags",
        "<a ><b /><c\n x = \"1\"\t/></a >",
        "root 0 ns [\"\"] len 3\n0 Element ns0 \"a\" \"\" p4294967295 pos0 kids[1, 2] descSome(2) attrs[] htfalse\n1 Element ns0 \"b\" \"\" p0 pos4 kids[] descNone attrs[] htfalse\n2 Element ns0 \"c\" \"\" p0 pos9 kids[] descNone attrs[(0, \"x\", \"1\")] htfalse\n",
    ),
    (
        "non_ascii",
        "<a n=\"é£\">’ £ é ñ<b/>ś</a>",
        "root 0 ns [\"\"] len 4\n0 Element ns0 \"a\" \"\" p4294967295 pos0 kids[1, 2, 3] descSome(2) attrs[(0, \"n\", \"é£\")] httrue\n1 Text ns0 \"\" \"’ £ é ñ\" p0 pos12 kids[] descNone attrs[] htfalse\n2 Element ns0 \"b\" \"\" p0 pos24 kids[] descNone attrs[] htfalse\n3 Text ns0 \"\" \"ś\" p0 pos28 kids[] descNone attrs[] htfalse\n",
    ),
    (
        "deep_default_switch",
        "<a xmlns=\"urn:a\"><b xmlns=\"urn:b\"><c/></b><d/></a>",
        "root 0 ns [\"\", \"urn:a\", \"urn:b\"] len 4\n0 Element ns1 \"a\" \"\" p4294967295 pos0 kids[1, 3] descSome(3) attrs[] htfalse\n1 Element ns2 \"b\" \"\" p0 pos17 kids[2] descSome(2) attrs[] htfalse\n2 Element ns2 \"c\" \"\" p1 pos34 kids[] descNone attrs[] htfalse\n3 Element ns1 \"d\" \"\" p0 pos42 kids[] descNone attrs[] htfalse\n",
    ),
    (
        "xmlns_empty_prefix",
        "<a xmlns:=\"urn:e\"><b/></a>",
        "root 0 ns [\"\", \"urn:e\"] len 2\n0 Element ns1 \"a\" \"\" p4294967295 pos0 kids[1] descSome(1) attrs[] htfalse\n1 Element ns1 \"b\" \"\" p0 pos18 kids[] descNone attrs[] htfalse\n",
    ),
    (
        "err_mismatched",
        "<a>\n<b></c></a>",
        "ERR 2:4 not well-formed XML: end tag does not match the open element <b>",
    ),
    (
        "err_duplicate_attr",
        "<a>\n  <b x='1' y='2' x='3'/></a>",
        "ERR 2:3 malformed attribute (quotes, '=' or duplicate name)",
    ),
    (
        "err_duplicate_xmlns",
        "<a xmlns=\"u\" xmlns=\"v\"/>",
        "ERR 1:1 malformed attribute (quotes, '=' or duplicate name)",
    ),
    (
        "err_undeclared_prefix",
        "<a>\n <x:b/></a>",
        "ERR 2:2 undeclared namespace prefix 'x'",
    ),
    (
        "err_undeclared_attr_prefix",
        "<a>\n <b x:c=\"1\"/></a>",
        "ERR 2:2 undeclared namespace prefix 'x'",
    ),
    (
        "err_undeclared_after_scope",
        "<a><b xmlns:p=\"u\"/><p:c/></a>",
        "ERR 1:20 undeclared namespace prefix 'p'",
    ),
    (
        "err_unbound_prefix",
        "<a xmlns:p=\"u\"><b xmlns:p=\"\"><p:c/></b></a>",
        "ERR 1:30 undeclared namespace prefix 'p'",
    ),
    (
        "err_reserved_xml",
        "<a>\n<b xmlns:xml=\"urn:bad\"/></a>",
        "ERR 1:1 namespace error (undeclared or reserved prefix)",
    ),
    (
        "err_reserved_xmlns",
        "<a>\n<b xmlns:xmlns=\"urn:bad\"/></a>",
        "ERR 1:1 namespace error (undeclared or reserved prefix)",
    ),
    (
        "err_reserved_uri",
        "<a>\n<b xmlns:q=\"http://www.w3.org/XML/1998/namespace\"/></a>",
        "ERR 1:1 namespace error (undeclared or reserved prefix)",
    ),
    (
        "err_unknown_entity",
        "<a>\n x &e; y</a>",
        "ERR 2:4 undefined entity reference or unescaped '&' (DTD entities are never resolved)",
    ),
    (
        "err_bad_char_ref",
        "<a>\n x &#0; y</a>",
        "ERR 2:4 invalid character reference",
    ),
    (
        "err_stray_amp",
        "<a>\n x & y</a>",
        "ERR 2:4 not well-formed XML: unescaped '&' or unclosed reference",
    ),
    (
        "err_amp_at_eof",
        "<a>x &amp",
        "ERR 1:6 not well-formed XML: unescaped '&' or unclosed reference",
    ),
    (
        "err_attr_entity",
        "<a>\n<b t=\"&nbsp;\"/></a>",
        "ERR 2:1 undefined entity or malformed reference in an attribute value (DTD entities are never resolved)",
    ),
    (
        "err_lt_in_attr",
        "<a>\n<b t=\"<\"/></a>",
        "ERR 2:1 '<' is not allowed in an attribute value",
    ),
    (
        "err_two_roots",
        "<a>x</a>\n<b/>",
        "ERR 2:1 more than one root element",
    ),
    (
        "err_text_after_root",
        "<a>x</a>\ny",
        "ERR 1:9 text outside the root element",
    ),
    (
        "err_text_before_root",
        "y<a>x</a>",
        "ERR 1:1 text outside the root element",
    ),
    (
        "err_cdata_outside",
        "<![CDATA[x]]><a/>",
        "ERR 1:1 CDATA outside the root element",
    ),
    (
        "err_ref_outside",
        "&amp;<a/>",
        "ERR 1:1 reference outside the root element",
    ),
    (
        "err_truncated",
        "<a>\n<b>text",
        "ERR 2:8 unexpected end of file: element not closed (truncated document?)",
    ),
    (
        "err_unclosed_quote",
        "<a>\n<b c=\"1></b></a>",
        "ERR 2:1 not well-formed XML: tag not closed: `>` not found before end of input",
    ),
    (
        "err_unclosed_cdata",
        "<a><![CDATA[x</a>",
        "ERR 1:4 not well-formed XML: CDATA not closed: `]]>` not found before end of input",
    ),
    (
        "err_unclosed_comment",
        "<a><!-- x </a>",
        "ERR 1:4 not well-formed XML: comment not closed: `-->` not found before end of input",
    ),
    (
        "err_short_comment",
        "<a><!--></a>",
        "ERR 1:4 not well-formed XML: comment not closed: `-->` not found before end of input",
    ),
    (
        "err_unclosed_pi",
        "<a><?pi </a>",
        "ERR 1:4 not well-formed XML: processing instruction or xml declaration not closed: `?>` not found before end of input",
    ),
    (
        "err_empty_pi",
        "<a><?></a>",
        "ERR 1:4 not well-formed XML: processing instruction or xml declaration not closed: `?>` not found before end of input",
    ),
    (
        "err_bang_junk",
        "<a><!x></a>",
        "ERR 1:4 not well-formed XML: unknown or missed symbol in markup",
    ),
    (
        "err_unmatched_end",
        "</a>",
        "ERR 1:1 not well-formed XML: end tag without a start tag",
    ),
    (
        "err_lt_at_eof",
        "<a>text<",
        "ERR 1:8 not well-formed XML: tag not closed: `>` not found before end of input",
    ),
    (
        "err_unquoted_value",
        "<a>\n<b c=1/></a>",
        "ERR 2:1 malformed attribute (quotes, '=' or duplicate name)",
    ),
    (
        "err_key_only",
        "<a>\n<b c/></a>",
        "ERR 2:1 malformed attribute (quotes, '=' or duplicate name)",
    ),
    (
        "err_control_char",
        "<a>\n  x\u{1}</a>",
        "ERR 2:4 control character not allowed in XML",
    ),
    (
        "err_not_xml",
        "hello world",
        "ERR 1:1 text outside the root element",
    ),
    (
        "err_empty",
        "",
        "ERR 1:1 no root element (not an XML document)",
    ),
    (
        "err_whitespace_only",
        " \n ",
        "ERR 2:2 no root element (not an XML document)",
    ),
    (
        "err_bad_xmlns_then_prefix",
        "<p:a c x=\"1\" xmlns:p=\"u\"/>",
        "ERR 1:1 undeclared namespace prefix 'p'",
    ),
    (
        "err_end_name_space_before",
        "<a></ a>",
        "ERR 1:4 not well-formed XML: end tag does not match the open element <a>",
    ),
    (
        "comment_double_hyphen_ok",
        "<a><!-- x -- y --></a>",
        "root 0 ns [\"\"] len 1\n0 Element ns0 \"a\" \"\" p4294967295 pos0 kids[] descNone attrs[] htfalse\n",
    ),
    (
        "empty_name_tag",
        "<a><>x</></a>",
        "root 0 ns [\"\"] len 3\n0 Element ns0 \"a\" \"\" p4294967295 pos0 kids[1] descSome(1) attrs[] httrue\n1 Element ns0 \"\" \"\" p0 pos3 kids[2] descNone attrs[] httrue\n2 Text ns0 \"\" \"x\" p1 pos5 kids[] descNone attrs[] htfalse\n",
    ),
    (
        "err_key_starts_with_eq",
        "<a>\n<b =\"1\"/></a>",
        "ERR 2:1 malformed attribute (quotes, '=' or duplicate name)",
    ),
    (
        "attrs_without_space",
        "<a x=\"1\"y=\"2\"/>",
        "root 0 ns [\"\"] len 1\n0 Element ns0 \"a\" \"\" p4294967295 pos0 kids[] descNone attrs[(0, \"x\", \"1\"), (0, \"y\", \"2\")] htfalse\n",
    ),
    (
        "spaces_around_eq",
        "<a b = \"1\" c= '2' d =\"3\"/>",
        "root 0 ns [\"\"] len 1\n0 Element ns0 \"a\" \"\" p4294967295 pos0 kids[] descNone attrs[(0, \"b\", \"1\"), (0, \"c\", \"2\"), (0, \"d\", \"3\")] htfalse\n",
    ),
    (
        "err_slash_inside_tag",
        "<a>\n<b/ ></a>",
        "ERR 2:6 not well-formed XML: end tag does not match the open element <b/>",
    ),
    (
        "gt_in_value_and_quotes",
        "<a t=\"a>b\" u=\"'\" v='\"'>x</a>",
        "root 0 ns [\"\"] len 2\n0 Element ns0 \"a\" \"\" p4294967295 pos0 kids[1] descNone attrs[(0, \"t\", \"a>b\"), (0, \"u\", \"'\"), (0, \"v\", \"\\\"\")] httrue\n1 Text ns0 \"\" \"x\" p0 pos23 kids[] descNone attrs[] htfalse\n",
    ),
];

#[test]
fn trees_and_errors_match_the_original_parser() {
    let mut failed = Vec::new();
    for (name, input, expected) in CASES {
        let got = dump(input);
        if got != *expected {
            failed.push(format!("{name}:\n--- expected\n{expected}\n--- got\n{got}"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// The same documents as UTF-16 (LE and BE, with a BOM) decode to the same
/// text and so parse to the same trees.
#[test]
fn utf16_input_parses_like_utf8() {
    for (name, input, expected) in CASES {
        if input.is_empty() || input.starts_with('\u{feff}') || input.contains("encoding=") {
            continue;
        }
        for le in [true, false] {
            let mut bytes = if le {
                vec![0xFF, 0xFE]
            } else {
                vec![0xFE, 0xFF]
            };
            for u in input.encode_utf16() {
                bytes.extend_from_slice(&if le { u.to_le_bytes() } else { u.to_be_bytes() });
            }
            let d = xml::decode(&bytes).expect("decodes");
            assert_eq!(d.text, *input, "{name}");
            assert_eq!(dump(&d.text), *expected, "{name} (le: {le})");
        }
    }
}

/// Namespace indexes are shared by equal URIs and attribute values keep
/// their references decoded, on a real sample with prefixed namespaces.
#[test]
fn prefixed_sample_resolves_like_default_sample() {
    let read = |f: &str| std::fs::read(format!("testdata/discharge/{f}")).expect("sample");
    let b3 = read("discharge_03_prefixed_hl7_ns_bad_nhs_number.xml");
    let d3 = xml::decode(&b3).expect("decodes");
    let doc = Document::parse(&d3.text).expect("parses");
    let hl7 = doc.ns_index(xml::NS_HL7).expect("hl7 namespace");
    assert!(doc.is(doc.root(), xml::NS_HL7, "ClinicalDocument"));
    let elements = doc.descendants(doc.root());
    let npfit = elements
        .iter()
        .filter(|&&e| doc.ns_uri(e) == xml::NS_NPFITLC)
        .count();
    assert!(npfit >= 2, "lcx: elements resolve to the NPfIT namespace");
    assert!(elements
        .iter()
        .all(|&e| doc.node(e).ns == hl7 || doc.ns_uri(e) == xml::NS_NPFITLC));
}
