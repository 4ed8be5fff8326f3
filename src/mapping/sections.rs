//! Composition sections: generated slices (`section KEY` rows and entries)
//! plus source narrative routed to slices by the map's `sections` rules
//! (crosswalk §3.1, §3.5). Nothing with text is dropped: a source section
//! no rule matches goes to the catch-all slice under its own heading and is
//! counted as a coverage warning.

use std::collections::HashMap;
use std::rc::Rc;

use super::compile::{Matcher, Plan, SectionRules, SliceDef};
use super::expr::{self, Env, Finding};
use super::json::J;
use super::run::RunError;
use crate::convert::text::normalise_title;
use crate::narrative::{self, Stats};
use crate::xml::{NodeId, NS_HL7};

/// How source sections were placed.
#[derive(Debug, Default, Clone)]
pub struct Coverage {
    /// Source sections seen (with a title or text).
    pub sections: u32,
    /// Routed by code.
    pub by_code: u32,
    /// Routed by template.
    pub by_template: u32,
    /// Routed by title.
    pub by_title: u32,
    /// Carried inside a routed parent.
    pub inherited: u32,
    /// Sent to the catch-all slice (coverage warnings).
    pub catch_all: u32,
    /// Dropped as placeholders.
    pub dropped: u32,
    /// Narrative attributes or elements that could not be kept as markup.
    pub narrative_dropped_markup: u32,
    /// Plain-text bodies without sections carried as narrative (coverage
    /// warnings: nothing to route, so they go whole to one slice).
    pub unstructured: u32,
    /// Embedded attachments (`observationMedia`) with no place in the
    /// message (warnings; the narrative shows a marker where they were).
    pub attachments: u32,
}

struct Router<'p, 'e, 'x, 'd> {
    rules: &'p SectionRules,
    plan: &'p Plan,
    env: &'e mut Env<'x, 'd>,
    blocks: Vec<(String, String)>,
    cov: Coverage,
    stats: Stats,
    /// Title of each section looked at, and its normalised form.
    titles: crate::fhir::defs::FastMap<NodeId, Option<Rc<(String, String)>>>,
}

/// Generated and routed parts of one slice.
struct Slice {
    rows: String,
    blocks: Vec<String>,
    entries: Vec<String>,
    empty_text: Option<String>,
    first_seen: usize,
}

impl Slice {
    fn new(seq: &mut usize) -> Slice {
        *seq += 1;
        Slice {
            rows: String::new(),
            blocks: Vec::new(),
            entries: Vec::new(),
            empty_text: None,
            first_seen: *seq,
        }
    }
}

/// Build the Composition.section array; an error when the document is to
/// be skipped (an unstructured body that is not plain text).
pub fn build(plan: &Plan, env: &mut Env) -> Result<(Vec<J>, Coverage), RunError> {
    let mut routed: Vec<(String, String)> = Vec::new();
    let mut cov = Coverage::default();
    if let Some(rules) = &plan.sections {
        let mut items = Vec::new();
        rules.from.eval(env.doc, env.doc.root(), &mut items);
        let tops: Vec<NodeId> = items
            .into_iter()
            .filter_map(|i| match i {
                super::path::Item::Node(n) => Some(n),
                _ => None,
            })
            .collect();
        let mut r = Router {
            rules,
            plan,
            env,
            blocks: Vec::new(),
            cov: Coverage::default(),
            stats: Stats::default(),
            titles: Default::default(),
        };
        for t in tops {
            r.visit_unrouted(t, None);
        }
        for (p, slice) in &rules.unstructured {
            let mut items = Vec::new();
            p.eval(r.env.doc, r.env.doc.root(), &mut items);
            for i in items {
                if let super::path::Item::Node(n) = i {
                    r.unstructured(n, slice)?;
                }
            }
        }
        cov = r.cov;
        attachments(r.env, &mut cov);
        cov.narrative_dropped_markup =
            r.stats.dropped_attrs + r.stats.unknown_elements + r.stats.unknown_styles;
        routed = r.blocks;
    }
    let mut slices: HashMap<String, Slice> = HashMap::new();
    let mut seq = 0usize;
    for def in &plan.section_defs {
        if let Some(k) = &def.only_if {
            if env.ids.get(k).is_none_or(|v| v.is_empty()) {
                continue;
            }
        }
        let mut rows = String::new();
        for (label, each, e) in &def.rows {
            // One row for the document, or one per element `each` selects.
            let ctxs: Vec<NodeId> = match each {
                None => vec![env.doc.root()],
                Some(p) => {
                    let mut items = Vec::new();
                    p.eval(env.doc, env.doc.root(), &mut items);
                    items
                        .into_iter()
                        .filter_map(|i| match i {
                            super::path::Item::Node(n) => Some(n),
                            _ => None,
                        })
                        .collect()
                }
            };
            for ctx in ctxs {
                let mut vals = Vec::new();
                expr::eval(e, env, ctx, None, &mut vals);
                let texts: Vec<String> =
                    vals.into_iter().filter_map(|v| env.text_owned(v)).collect();
                if texts.is_empty() {
                    continue;
                }
                rows.push_str("<tr><th>");
                narrative::escape_text(label, &mut rows);
                rows.push_str("</th><td>");
                narrative::escape_text(&texts.join("; "), &mut rows);
                rows.push_str("</td></tr>");
            }
        }
        let mut entries = Vec::new();
        for k in &def.entries {
            if let Some(ids) = env.ids.get(k) {
                for id in ids {
                    let r = super::run::urn_uuid(id);
                    if !entries.contains(&r) {
                        entries.push(r);
                    }
                }
            }
        }
        // A definition that yields nothing for this document does not
        // create its slice: slices are ordered by first appearance, and an
        // empty definition must not move routed narrative ahead.
        if rows.is_empty() && entries.is_empty() && def.empty_text.is_none() {
            continue;
        }
        let s = slices
            .entry(def.slice.clone())
            .or_insert_with(|| Slice::new(&mut seq));
        s.rows.push_str(&rows);
        for e in entries {
            if !s.entries.contains(&e) {
                s.entries.push(e);
            }
        }
        if def.empty_text.is_some() {
            s.empty_text = def.empty_text.clone();
        }
    }
    for (slice, html) in routed {
        let s = slices.entry(slice).or_insert_with(|| Slice::new(&mut seq));
        s.blocks.push(html);
    }
    // Slices that need an entry they cannot have go to the catch-all.
    let catch_all = plan
        .sections
        .as_ref()
        .map(|r| r.catch_all.clone())
        .unwrap_or_else(|| plan.toc.catch_all.clone());
    let needy: Vec<String> = slices
        .iter()
        .filter(|(k, s)| plan.slice(k).is_some_and(|d| d.entry_min > 0) && s.entries.is_empty())
        .map(|(k, _)| k.clone())
        .collect();
    for k in needy {
        if let Some(s) = slices.remove(&k) {
            if !s.blocks.is_empty() {
                env.findings.push(Finding {
                    rule: "section-rerouted".into(),
                    message: format!("slice {k} needs an entry that could not be built; its narrative went to {catch_all}"),
                });
                let c = slices
                    .entry(catch_all.clone())
                    .or_insert_with(|| Slice::new(&mut seq));
                c.blocks.extend(s.blocks);
            }
        }
    }
    // Mandatory slices always present.
    for d in plan.slices.iter().filter(|d| d.min > 0) {
        slices
            .entry(d.key.clone())
            .or_insert_with(|| Slice::new(&mut seq));
    }
    // Order (R28): DEM, GPP, REF, ADM, ATT, DIS, then first appearance, then ALG, PCR, DST.
    let head = ["DEM", "GPP", "REF", "ADM", "ATT", "DIS"];
    let tail = ["ALG", "PCR", "DST"];
    let mut keys: Vec<String> = slices.keys().cloned().collect();
    keys.sort_by_key(|k| {
        if let Some(i) = head.iter().position(|h| h == k) {
            (0, i, 0)
        } else if let Some(i) = tail.iter().position(|h| h == k) {
            (2, i, 0)
        } else {
            (1, 0, slices[k].first_seen)
        }
    });
    let mut out = Vec::new();
    for k in keys {
        let Some(def) = plan.slice(&k) else { continue };
        let s = &slices[&k];
        let mut div = String::from("<div xmlns=\"http://www.w3.org/1999/xhtml\">");
        let mut any = false;
        if !s.rows.is_empty() {
            div.push_str("<table><tbody>");
            div.push_str(&s.rows);
            div.push_str("</tbody></table>\n");
            any = true;
        }
        for b in &s.blocks {
            div.push_str(b);
            div.push('\n');
            any = true;
        }
        if !any {
            match (&s.empty_text, def.min > 0) {
                (Some(t), _) => {
                    div.push_str("<p>");
                    narrative::escape_text(t, &mut div);
                    div.push_str("</p>");
                }
                (None, true) => {
                    div.push_str("<p>No information for this section was included in the source document.</p>");
                }
                (None, false) => continue,
            }
        }
        div.push_str("</div>");
        let status = if s.blocks.is_empty() {
            "generated"
        } else {
            "additional"
        };
        out.push(section_json(def, status, div, &s.entries));
    }
    Ok((out, cov))
}

fn section_json(def: &SliceDef, status: &str, div: String, entries: &[String]) -> J {
    let coding = J::Obj(vec![
        (3, "system".into(), J::Str("http://snomed.info/sct".into())),
        (5, "code".into(), J::Str(def.code.clone())),
        (6, "display".into(), J::Str(def.display.clone())),
    ]);
    let mut fields = vec![
        (1, "title".into(), J::Str(def.title.clone())),
        (
            2,
            "code".into(),
            J::Obj(vec![(2, "coding".into(), J::Arr(vec![coding]))]),
        ),
        (
            3,
            "text".into(),
            J::Obj(vec![
                (2, "status".into(), J::Str(status.into())),
                (3, "div".into(), J::Str(div)),
            ]),
        ),
    ];
    if !entries.is_empty() {
        fields.push((
            6,
            "entry".into(),
            J::Arr(
                entries
                    .iter()
                    .map(|e| J::Obj(vec![(3, "reference".into(), J::Str(e.clone()))]))
                    .collect(),
            ),
        ));
    }
    J::Obj(fields)
}

impl Router<'_, '_, '_, '_> {
    /// [`Router::title`] and its [`normalise_title`], computed once per section.
    fn titled(&mut self, sec: NodeId) -> Option<Rc<(String, String)>> {
        if let Some(t) = self.titles.get(&sec) {
            return t.clone();
        }
        let t = self.title(sec).map(|t| {
            let n = normalise_title(&t);
            Rc::new((t, n))
        });
        self.titles.insert(sec, t.clone());
        t
    }

    fn title(&self, sec: NodeId) -> Option<String> {
        let doc = self.env.doc;
        let t = doc.child(sec, NS_HL7, "title")?;
        let s = doc.string_value(t);
        let s = crate::convert::placeholder::strip_vendor_prefix(s.trim())
            .trim()
            .to_string();
        if s.is_empty() || crate::convert::placeholder::is_placeholder(&s).is_some() {
            return None;
        }
        Some(s.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    fn children(&self, sec: NodeId) -> Vec<NodeId> {
        let doc = self.env.doc;
        doc.elements(sec)
            .filter(|&c| doc.is(c, NS_HL7, "component"))
            .filter_map(|c| doc.child(c, NS_HL7, "section"))
            .collect()
    }

    fn text_el(&self, sec: NodeId) -> Option<NodeId> {
        let doc = self.env.doc;
        let t = doc.child(sec, NS_HL7, "text")?;
        // Tables or lists with only whitespace carry nothing.
        if !doc.has_text(t) {
            return None;
        }
        // Placeholders are short: only then is the text worth materialising.
        let end_short = doc.descendant_elements(t).nth(3).is_none();
        if end_short {
            let s = doc.string_value(t);
            if s.len() < 200 && crate::convert::placeholder::is_placeholder(s.trim()).is_some() {
                return None;
            }
        }
        Some(t)
    }

    /// A section is dropped only when it is a placeholder through and
    /// through (crosswalk §6.2 `SUBSUB2`): a placeholder or `drop` title
    /// *and* no real text of its own or below it. A placeholder title over
    /// real text just loses the title (nothing with text is dropped).
    fn dropped(&self, sec: NodeId) -> bool {
        let doc = self.env.doc;
        let Some(t) = doc.child(sec, NS_HL7, "title") else {
            return false;
        };
        let sv = doc.string_value(t);
        let raw = sv.trim();
        if raw.is_empty() {
            return false;
        }
        let placeholder = crate::convert::placeholder::is_placeholder(raw).is_some() || {
            // Normalised once for all drop rules.
            let norm = (!self.rules.drops.is_empty()).then(|| normalise_title(raw));
            norm.is_some_and(|n| self.rules.drops.iter().any(|r| r.is_match(&n)))
        };
        if !placeholder {
            return false;
        }
        let real_text = self.text_el(sec).is_some()
            || self.children(sec).iter().any(|&c| self.subtree_has_text(c));
        !real_text
    }

    fn subtree_has_text(&self, sec: NodeId) -> bool {
        self.text_el(sec).is_some() || self.children(sec).iter().any(|&c| self.subtree_has_text(c))
    }

    fn route_of(&mut self, sec: NodeId, has_routed_parent: bool) -> Option<(String, &'static str)> {
        let doc = self.env.doc;
        let code = doc
            .child(sec, NS_HL7, "code")
            .and_then(|c| doc.attr(c, "code"))
            .map(str::trim);
        let templates: Vec<&str> = doc
            .elements(sec)
            .filter(|&c| doc.is(c, NS_HL7, "templateId"))
            .filter_map(|c| doc.attr(c, "extension"))
            .map(|e| e.split(['#', '.']).next().unwrap_or(""))
            .collect();
        let title = self.titled(sec);
        for r in &self.rules.routes {
            if let Matcher::Template(t) = &r.m {
                if templates.contains(&t.as_str()) {
                    return Some((r.slice.clone(), "template"));
                }
            }
        }
        if let Some(code) = code {
            // A code equal to a slice code of this ToC type wins outright.
            if let Some(s) = self.plan.slices.iter().find(|s| s.code == code) {
                return Some((s.key.clone(), "code"));
            }
            for r in &self.rules.routes {
                if let Matcher::Code(c) = &r.m {
                    if c == code {
                        return Some((r.slice.clone(), "code"));
                    }
                }
            }
        }
        if let Some(t) = title {
            // One automaton pass; then the first matching route in order.
            let hits = self.rules.title_set.matches(&t.1);
            for (k, &ri) in self.rules.title_routes.iter().enumerate() {
                if !hits.matched(k) {
                    continue;
                }
                let r = &self.rules.routes[ri];
                if let Matcher::Title(_, top) = &r.m {
                    if !*top || !has_routed_parent {
                        return Some((r.slice.clone(), "title"));
                    }
                }
            }
        }
        None
    }

    fn is_container(&mut self, sec: NodeId) -> bool {
        if self.text_el(sec).is_none() {
            return true;
        }
        match self.titled(sec) {
            Some(t) => self.rules.containers.iter().any(|r| r.is_match(&t.1)),
            None => false,
        }
    }

    fn note_drop(&mut self, sec: NodeId) {
        self.cov.dropped += 1;
        let (l, c) = self.env.doc.line_col(sec);
        self.env.findings.push(Finding {
            rule: "section-dropped".into(),
            message: format!(
                "source section at {l}:{c} is a placeholder (title and text); not carried"
            ),
        });
    }

    fn visit_unrouted(&mut self, sec: NodeId, prefix: Option<String>) {
        if self.dropped(sec) {
            self.note_drop(sec);
            return;
        }
        if let Some((slice, how)) = self.route_of(sec, false) {
            self.count(how);
            self.emit(sec, &slice, prefix);
            return;
        }
        let leaf = self.text_el(sec).is_none() && self.children(sec).is_empty();
        if leaf && self.titled(sec).is_none() {
            // Neither title nor text nor sub-sections: nothing to carry.
            return;
        }
        // A titled leaf without text is not a container: its heading is all
        // it says, and it is carried like any unrouted section (below).
        if !leaf && self.is_container(sec) {
            if self.text_el(sec).is_some() {
                // A container pattern with text of its own: keep the text in
                // the catch-all, then route the children.
                self.cov.sections += 1;
            }
            let title = self.titled(sec).map(|t| t.0.clone());
            let p = match (&prefix, &title) {
                (Some(p), Some(t)) => Some(format!("{p} – {t}")),
                (None, Some(t)) => Some(t.clone()),
                (p, None) => p.clone(),
            };
            if let Some(t) = self.text_el(sec) {
                let mut html = String::from("<div>");
                // Headed like any unrouted block: with the titles of the
                // containers above it (crosswalk.md §3.5 step 3).
                if let Some(h) = &p {
                    heading(3, h, &mut html);
                }
                narrative::cda_text_to_xhtml(self.env.doc, t, &mut html, &mut self.stats);
                html.push_str("</div>");
                let c = self.rules.catch_all.clone();
                self.blocks.push((c, html));
            }
            for c in self.children(sec) {
                self.visit_unrouted(c, p.clone());
            }
            return;
        }
        // Unmatched section with text: catch-all, under its own heading.
        self.cov.catch_all += 1;
        let (l, c) = self.env.doc.line_col(sec);
        self.env.findings.push(Finding {
            rule: "unrouted-section".into(),
            message: format!(
                "source section at {l}:{c} matched no routing rule; carried in the {} narrative",
                self.rules.catch_all
            ),
        });
        let ca = self.rules.catch_all.clone();
        self.emit(sec, &ca, prefix);
    }

    /// A CDA `nonXMLBody` (crosswalk R7, §5.2): plain text (inline or
    /// base64) is carried as paragraphs in `slice` with a coverage warning;
    /// any other content — a PDF or other media type, a compressed or
    /// external body — makes the document skipped, since an ITK3 message
    /// must not carry a whole unstructured document.
    fn unstructured(&mut self, body: NodeId, slice: &str) -> Result<(), RunError> {
        let doc = self.env.doc;
        let (l, c) = doc.line_col(body);
        let skip = |what: String| {
            RunError {
            rule: "unstructured-document",
            message: format!(
                "the document body is {what}; a Transfer of Care message must not carry a whole unstructured document (crosswalk R7)"
            ),
            line_col: Some((l, c)),
            skip: true,
        }
        };
        let Some(t) = doc.child(body, NS_HL7, "text") else {
            return Err(skip("a nonXMLBody without text".into()));
        };
        // ED defaults: text/plain, inline characters.
        let media = doc
            .attr(t, "mediaType")
            .map(str::trim)
            .unwrap_or("text/plain");
        let base = media.split(';').next().unwrap_or("").trim();
        if !base.eq_ignore_ascii_case("text/plain") {
            return Err(skip(format!(
                "a nonXMLBody of media type {}",
                shown_media_type(base)
            )));
        }
        if doc.attr(t, "compression").is_some() {
            return Err(skip("a compressed nonXMLBody".into()));
        }
        let raw = doc.string_value(t);
        let b64 = doc
            .attr(t, "representation")
            .is_some_and(|r| r.trim().eq_ignore_ascii_case("B64"));
        let text: std::borrow::Cow<str> = if b64 {
            use base64::Engine as _;
            let compact: Vec<u8> = raw.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&compact)
                .map_err(|_| skip("a nonXMLBody whose base64 content does not decode".into()))?;
            let s = String::from_utf8(bytes)
                .map_err(|_| skip("a base64 plain-text nonXMLBody that is not UTF-8".into()))?;
            std::borrow::Cow::Owned(s)
        } else {
            std::borrow::Cow::Borrowed(&*raw)
        };
        if text.trim().is_empty() {
            if doc.child(t, NS_HL7, "reference").is_some() {
                return Err(skip("a reference to an external document".into()));
            }
            // An empty plain-text body: nothing to carry.
            return Ok(());
        }
        let mut html = String::from("<div>");
        if narrative::plain_text_to_xhtml(&text, &mut html) {
            html.push_str("</div>");
            self.cov.unstructured += 1;
            self.env.findings.push(Finding {
                rule: "unstructured-body".into(),
                message: format!(
                    "the document body at {l}:{c} is plain text without sections; carried in the {slice} narrative"
                ),
            });
            self.blocks.push((slice.to_string(), html));
        }
        Ok(())
    }

    fn count(&mut self, how: &str) {
        self.cov.sections += 1;
        match how {
            "code" => self.cov.by_code += 1,
            "template" => self.cov.by_template += 1,
            _ => self.cov.by_title += 1,
        }
    }

    fn emit(&mut self, sec: NodeId, slice: &str, prefix: Option<String>) {
        let slice_title = self
            .plan
            .slice(slice)
            .map(|s| s.title_norm.as_str())
            .unwrap_or_default();
        let mut html = String::from("<div>");
        let title = self.titled(sec);
        let shown = match (&prefix, &title) {
            (Some(p), Some(t)) => Some(format!("{p} – {}", t.0)),
            (None, Some(t)) if t.1 == slice_title => None,
            (None, Some(t)) => Some(t.0.clone()),
            (Some(p), None) => Some(p.clone()),
            (None, None) => None,
        };
        if let Some(h) = &shown {
            heading(3, h, &mut html);
        }
        let bare = html.len();
        if let Some(t) = self.text_el(sec) {
            narrative::cda_text_to_xhtml(self.env.doc, t, &mut html, &mut self.stats);
        }
        let mut deferred = Vec::new();
        self.render_children(sec, slice, 4, &mut html, &mut deferred);
        if html.len() > bare || deferred.is_empty() {
            html.push_str("</div>");
            if html != "<div></div>" {
                self.blocks.push((slice.to_string(), html));
            }
            for (c, s, p) in deferred {
                self.emit(c, &s, p);
            }
            return;
        }
        // Nothing of its own (no text, nothing inherited) but descendants
        // routed elsewhere: it did not come along, so no heading-only block;
        // its title heads those descendants instead, as a container's would
        // (crosswalk.md §3.5 step 3) — otherwise a title equal to its slice
        // title (R30, no heading) was lost altogether.
        let p = join_titles(prefix, title.map(|t| t.0.clone()));
        for (c, s, q) in deferred {
            self.emit(c, &s, join_titles(p.clone(), q));
        }
    }

    fn render_children(
        &mut self,
        sec: NodeId,
        slice: &str,
        level: u8,
        html: &mut String,
        deferred: &mut Vec<(NodeId, String, Option<String>)>,
    ) {
        for c in self.children(sec) {
            if self.dropped(c) {
                self.note_drop(c);
                continue;
            }
            if let Some((s, how)) = self.route_of(c, true) {
                if s != slice {
                    self.count(how);
                    deferred.push((c, s, None));
                    continue;
                }
            }
            self.cov.sections += 1;
            self.cov.inherited += 1;
            let start = html.len();
            // A line break before each nested block (and after each
            // heading and block, below): the words of one source section's
            // text never run into a neighbour's or a heading's when the div
            // is read as plain text.
            html.push_str("\n<div>");
            let title = self.titled(c).map(|t| t.0.clone());
            if let Some(t) = &title {
                heading(level.min(6), t, html);
            }
            let bare = html.len();
            if let Some(t) = self.text_el(c) {
                narrative::cda_text_to_xhtml(self.env.doc, t, html, &mut self.stats);
            }
            let routed_below = deferred.len();
            self.render_children(c, slice, level + 1, html, deferred);
            if html.len() == bare && (title.is_none() || deferred.len() > routed_below) {
                // Nothing of its own (no text, nothing inherited): no empty or
                // heading-only block — an empty one alone makes the slice's
                // div empty (txt-2); its title heads the descendants routed
                // elsewhere instead (crosswalk.md §3.5 steps 3 and 4).
                html.truncate(start);
                for d in &mut deferred[routed_below..] {
                    d.2 = join_titles(title.clone(), d.2.take());
                }
                continue;
            }
            html.push_str("</div>");
        }
    }
}

/// A media type as the ledger may show it: only a plain `type/subtype`
/// token of up to 64 characters (never free text from the document).
fn shown_media_type(m: &str) -> &str {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    match m.split_once('/') {
        Some((a, b)) if m.len() <= 64 && token(a) && token(b) => m,
        _ => "(not a media type)",
    }
}

/// Embedded attachments (`observationMedia`: images, NHS Pathways XML,
/// documents) that no mapping made a resource of are data the message
/// cannot carry: the Transfer of Care harness accepts only PDF Binaries
/// (crosswalk.md §5.2, R33) and their bytes are not narrative. Each is a
/// warning with its place and media type and is counted, so none goes
/// silently; the narrative keeps a marker.
fn attachments(env: &mut Env, cov: &mut Coverage) {
    let doc = env.doc;
    let Some(ns) = doc.ns_index(NS_HL7) else {
        return;
    };
    for m in doc.named_descendants(doc.root(), ns, "observationMedia") {
        // Carried: a resource (an ITK-Attachment-Binary-1) was made from it.
        if env.ctx_ids.values().any(|nodes| nodes.contains(&m)) {
            continue;
        }
        let value = doc.child(m, NS_HL7, "value");
        let shown = match value
            .and_then(|v| doc.attr(v, "mediaType"))
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            Some(m) => shown_media_type(m),
            None => "(no media type)",
        };
        let (l, c) = doc.line_col(m);
        cov.attachments += 1;
        env.findings.push(Finding {
            rule: "attachment-not-carried".into(),
            message: format!(
                "embedded attachment at {l}:{c} ({shown}) has no place in the message (only the narrative's marker of it is kept)"
            ),
        });
    }
}

/// `outer – inner` (crosswalk.md §3.5 step 3), or whichever is present.
fn join_titles(outer: Option<String>, inner: Option<String>) -> Option<String> {
    match (outer, inner) {
        (Some(o), Some(i)) => Some(format!("{o} – {i}")),
        (o, None) => o,
        (None, i) => i,
    }
}

fn heading(level: u8, text: &str, out: &mut String) {
    let l = (b'0' + level.clamp(3, 6)) as char;
    out.push_str("<h");
    out.push(l);
    out.push('>');
    narrative::escape_text(text, out);
    out.push_str("</h");
    out.push(l);
    out.push_str(">\n");
}
