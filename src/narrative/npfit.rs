//! GP Summary XHTML (`npfitxhtml:html/head/body`, `ED.NPfIT.Text.XHTML`) →
//! FHIR XHTML (crosswalk §5.2 last rows, §3.7).
//!
//! The source is already (almost) XHTML, but in its own namespace and with
//! no allow-list guarantee. Body children are re-emitted in the XHTML
//! namespace: allow-listed elements are kept with their allow-listed
//! attributes, `h3` metadata lines become `p`, `html`/`body` are unwrapped,
//! `head` is dropped, scripts and styles are dropped, and anything else is
//! unwrapped so that its text survives. Splitting at `h2` (§3.7) is the
//! caller's job; `h2` is kept here.

use super::check::{attr_allowed, is_block, ELEMENTS, XHTML_NS};
use std::borrow::Cow;

use super::writer::{Attr, Writer};
use super::Stats;
use crate::xml::{Document, NodeId, NodeKind};

/// Namespace of the NPfIT presentation XHTML.
pub const NS_NPFIT_XHTML: &str = "xhtml:NPfIT:PresentationText";

fn safe_url(v: &str) -> bool {
    let l = v.trim().to_ascii_lowercase();
    (l.starts_with("http://") || l.starts_with("https://") || l.starts_with("mailto:"))
        && !v
            .trim()
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
}

/// Re-emit the GP Summary XHTML below `el` (an `npfitxhtml:html`, its
/// `body`, or the HL7 element that holds it) as FHIR XHTML markup (no
/// wrapping div), appending to `out`. Returns whether any non-whitespace
/// text was produced.
pub fn npfit_xhtml_to_xhtml(
    doc: &Document,
    el: NodeId,
    out: &mut String,
    stats: &mut Stats,
) -> bool {
    let mut c = Conv {
        doc,
        stats,
        w: Writer::new(),
        depth_inline: 0,
    };
    c.children(el);
    let produced = c.w.produced();
    out.push_str(&c.w.finish());
    produced
}

struct Conv<'d, 'a, 's> {
    doc: &'d Document<'a>,
    stats: &'s mut Stats,
    w: Writer,
    /// Number of open inline-only elements (blocks inside are unwrapped).
    depth_inline: u32,
}

impl<'d> Conv<'d, '_, '_> {
    fn children(&mut self, id: NodeId) {
        for k in self.doc.children(id).collect::<Vec<_>>() {
            self.node(k);
        }
    }

    fn attrs(&mut self, id: NodeId, tag: &str) -> Vec<Attr<'d>> {
        let mut out = Vec::new();
        for a in self.doc.attrs(id) {
            let name: &str = &a.local;
            // `id` is dropped (R40: ids must be unique across the Composition).
            if a.ns != 0 || name == "id" {
                if a.ns != 0 {
                    self.stats.dropped_attrs += 1;
                }
                continue;
            }
            let allowed = super::check::element_attrs(tag)
                .iter()
                .chain(["class", "style", "title", "lang", "dir"].iter())
                .find(|k| **k == name && attr_allowed(tag, k))
                .copied();
            let v = a.value.trim();
            let ok = match allowed {
                Some("href") => safe_url(v),
                Some("style") => {
                    let l = v.to_ascii_lowercase();
                    !(l.contains("expression(") || l.contains("javascript:") || l.contains("url("))
                }
                Some("src" | "longdesc" | "usemap" | "cite") => false,
                Some(_) => true,
                None => false,
            };
            match allowed {
                Some(k) if ok => out.push((k, Cow::Borrowed(v))),
                _ => self.stats.dropped_attrs += 1,
            }
        }
        out
    }

    fn node(&mut self, id: NodeId) {
        let d = self.doc;
        if d.node(id).kind == NodeKind::Text {
            self.w.text(d.text(id));
            return;
        }
        let ns = d.ns_uri(id);
        let local = d.local(id);
        if ns != NS_NPFIT_XHTML && ns != XHTML_NS {
            self.stats.unknown_elements += 1;
            self.children(id);
            return;
        }
        match local {
            "html" | "body" => self.children(id),
            "head" => {}
            "script" | "style" | "object" | "iframe" | "embed" | "applet" => {
                self.stats.unknown_elements += 1
            }
            "br" => self.w.br(),
            "hr" | "col" if self.depth_inline == 0 => {
                let a = self.attrs(id, local);
                self.w.empty_block(local, &a);
            }
            "img" | "area" | "map" => {
                // No embedded images in a FHIR narrative: keep the alt text.
                self.stats.unknown_elements += 1;
                if let Some(alt) = d.attr(id, "alt").filter(|a| !a.trim().is_empty()) {
                    self.w.text(&format!("[image: {}]", alt.trim()));
                }
                self.children(id);
            }
            "a" => {
                let a = self.attrs(id, "a");
                if a.iter().any(|(k, _)| *k == "href") {
                    self.inline("a", a, id);
                } else {
                    self.children(id);
                }
            }
            "h3" => self.block(id, "p"),
            t if ELEMENTS.contains(&t) && is_block(t) => {
                if self.depth_inline > 0 {
                    // A block where only inline content may go: keep the text.
                    self.w.soft_break();
                    self.children(id);
                    self.w.soft_break();
                } else {
                    self.block(id, t);
                }
            }
            t if ELEMENTS.contains(&t) => {
                let t: &'static str = ELEMENTS
                    .iter()
                    .find(|e| **e == t)
                    .copied()
                    .unwrap_or("span");
                let a = self.attrs(id, t);
                self.inline(t, a, id);
            }
            _ => {
                self.stats.unknown_elements += 1;
                self.children(id);
            }
        }
    }

    fn inline(&mut self, tag: &'static str, attrs: Vec<Attr<'_>>, id: NodeId) {
        let snap = self.w.snapshot();
        let outer = self.w.begin_produced();
        self.w.open_inline(tag, &attrs);
        self.depth_inline += 1;
        self.children(id);
        self.depth_inline -= 1;
        self.w.close_inline(tag);
        if !self.w.end_produced(outer) {
            self.w.restore(snap);
        }
    }

    fn block(&mut self, id: NodeId, tag: &str) {
        let tag: &'static str = ELEMENTS
            .iter()
            .find(|e| **e == tag)
            .copied()
            .unwrap_or("div");
        let attrs = self.attrs(id, tag);
        let droppable = matches!(
            tag,
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "div" | "pre"
        );
        let inline_only = matches!(
            tag,
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "pre" | "dt" | "address" | "caption"
        );
        let snap = self.w.snapshot();
        let outer = self.w.begin_produced();
        self.w.open_block(tag, &attrs);
        if inline_only {
            self.depth_inline += 1;
        }
        self.children(id);
        if inline_only {
            self.depth_inline -= 1;
        }
        self.w.close_block(tag);
        if !self.w.end_produced(outer) && droppable {
            self.w.restore(snap);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::check_xhtml;
    use super::*;

    fn conv(body: &str) -> (String, Stats) {
        let src = format!(
            "<value xmlns=\"urn:hl7-org:v3\" xmlns:npfitxhtml=\"{NS_NPFIT_XHTML}\" mediaType=\"text/plain\">\
             <npfitxhtml:html><npfitxhtml:head><npfitxhtml:title>GP Summary</npfitxhtml:title></npfitxhtml:head>\
             <npfitxhtml:body>{body}</npfitxhtml:body></npfitxhtml:html></value>"
        );
        let doc = Document::parse(&src).unwrap();
        let mut out = String::new();
        let mut stats = Stats::default();
        assert!(npfit_xhtml_to_xhtml(&doc, doc.root(), &mut out, &mut stats));
        let div = format!("<div xmlns=\"{XHTML_NS}\">{out}</div>");
        let problems = check_xhtml(&div);
        assert!(problems.is_empty(), "{out}\n{problems:?}");
        (out, stats)
    }

    #[test]
    fn gp_summary_body() {
        let (out, stats) = conv(
            "<npfitxhtml:h2>Allergies and Adverse Reactions</npfitxhtml:h2>\
             <npfitxhtml:h3>Summary date: 01-Jan-2010</npfitxhtml:h3>\
             <npfitxhtml:table id=\"t1\" width=\"100%\" onclick=\"x()\"><npfitxhtml:thead><npfitxhtml:tr>\
             <npfitxhtml:td>Date</npfitxhtml:td><npfitxhtml:td>Allergy</npfitxhtml:td></npfitxhtml:tr></npfitxhtml:thead>\
             <npfitxhtml:tbody><npfitxhtml:tr><npfitxhtml:td>2009</npfitxhtml:td>\
             <npfitxhtml:td> Penicillin &amp; <npfitxhtml:u>rash</npfitxhtml:u></npfitxhtml:td></npfitxhtml:tr>\
             </npfitxhtml:tbody></npfitxhtml:table><npfitxhtml:script>bad()</npfitxhtml:script>",
        );
        assert_eq!(
            out,
            "<h2>Allergies and Adverse Reactions</h2><p>Summary date: 01-Jan-2010</p>\
             <table width=\"100%\"><thead><tr><td>Date</td><td>Allergy</td></tr></thead>\
             <tbody><tr><td>2009</td><td>\nPenicillin &amp; rash</td></tr></tbody></table>"
        );
        assert_eq!(stats.unknown_elements, 2);
        assert_eq!(stats.dropped_attrs, 1);
    }

    #[test]
    fn links_and_blocks_in_inline() {
        let (out, _) = conv(
            "<npfitxhtml:p>See <npfitxhtml:a href=\"javascript:x()\">here</npfitxhtml:a> and \
             <npfitxhtml:a href=\"https://nhs.uk\">nhs</npfitxhtml:a></npfitxhtml:p>\
             <npfitxhtml:p><npfitxhtml:span>a<npfitxhtml:div>b</npfitxhtml:div></npfitxhtml:span></npfitxhtml:p>",
        );
        assert_eq!(
            out,
            "<p>See here and <a href=\"https://nhs.uk\">nhs</a></p><p><span>a<br/>b</span></p>"
        );
    }
}
