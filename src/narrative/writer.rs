//! An XHTML output buffer that applies the whitespace rules of Rec. R36:
//! runs of whitespace collapse to one space, whitespace at block edges
//! (start/end of `p`, `li`, `td`, … and of the whole output) disappears, and
//! one space survives between inline runs (`foo <span>bar</span> baz`).
//!
//! Whitespace is never written eagerly: it becomes *pending* and is only
//! materialised when more inline content follows on the same line. Opening
//! or closing a block discards it. A pending *break* (from flattening a
//! block that sits where only inline content is allowed) works the same way
//! and becomes a `<br/>`.
//!
//! Whitespace of the source that these rules swallow between blocks (at a
//! block's start or end, between rows, cells or items) is not lost as a
//! separator: one line break is written where it was swallowed — after a
//! closing tag, between tags, or at the very start of a block when nothing
//! separated the block itself — where it changes nothing on screen. So the
//! words of two cells, items or paragraphs run together in the output's
//! plain text exactly when they ran together in the source's
//! (`<td>Marriott</td>\n<td>Pharmacist` never becomes `MarriottPharmacist`),
//! however that text is read.
//!
//! Every emitter can be undone with [`Writer::snapshot`] /
//! [`Writer::restore`], which is how empty paragraphs, spans, rows and lists
//! are dropped after the fact in a single pass.

use std::borrow::Cow;

use super::{escape_attr, escape_text};

/// XML whitespace.
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// An attribute to write: name and (unescaped) value, borrowed from the
/// source document where it is copied unchanged.
pub(crate) type Attr<'v> = (&'static str, Cow<'v, str>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Pending {
    None,
    Space,
    Break,
}

/// Saved writer state, see [`Writer::restore`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    len: usize,
    pending: Pending,
    line_start: bool,
    space_written: bool,
    produced: bool,
    owed: bool,
    chain: (usize, bool),
}

/// The output buffer.
#[derive(Debug)]
pub(crate) struct Writer {
    pub(crate) out: String,
    pending: Pending,
    /// At the start of a block or line: leading whitespace is insignificant.
    line_start: bool,
    /// A collapsed space was written and no text followed yet.
    space_written: bool,
    /// Non-whitespace text was written (since the last `take_produced`).
    produced: bool,
    /// Inside `pre`: whitespace is kept verbatim.
    preserve: u32,
    /// The pending whitespace (or break) swallowed source whitespace.
    owed: bool,
    /// End of the latest run of opening tags written back to back, and
    /// whether whitespace (or nothing) precedes that run: whitespace
    /// swallowed right after such a run is already separated.
    chain: (usize, bool),
}

impl Writer {
    pub(crate) fn new() -> Writer {
        Writer::appending_to(String::new())
    }

    /// A writer that appends to `out` (what is already there is kept and
    /// never looked at: snapshots are taken after it).
    pub(crate) fn appending_to(out: String) -> Writer {
        Writer {
            out,
            pending: Pending::None,
            line_start: true,
            space_written: false,
            produced: false,
            preserve: 0,
            owed: false,
            chain: (usize::MAX, false),
        }
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            len: self.out.len(),
            pending: self.pending,
            line_start: self.line_start,
            space_written: self.space_written,
            produced: self.produced,
            owed: self.owed,
            chain: self.chain,
        }
    }

    /// Undo everything written since `s`.
    pub(crate) fn restore(&mut self, s: Snapshot) {
        self.out.truncate(s.len);
        self.pending = s.pending;
        self.line_start = s.line_start;
        self.space_written = s.space_written;
        self.produced = s.produced;
        self.owed = s.owed;
        self.chain = s.chain;
    }

    /// Start tracking whether a subtree produces text; returns the outer flag.
    pub(crate) fn begin_produced(&mut self) -> bool {
        std::mem::replace(&mut self.produced, false)
    }

    /// Whether text was produced since `begin_produced`; merges the outer flag.
    pub(crate) fn end_produced(&mut self, outer: bool) -> bool {
        let inner = self.produced;
        self.produced = outer || inner;
        inner
    }

    pub(crate) fn produced(&self) -> bool {
        self.produced
    }

    fn flush(&mut self) {
        match self.pending {
            Pending::None => return,
            Pending::Space => {
                self.out.push(' ');
                self.space_written = true;
            }
            Pending::Break => {
                self.out.push_str("<br/>");
                if self.owed {
                    self.out.push('\n');
                }
                self.space_written = false;
            }
        }
        self.pending = Pending::None;
        self.owed = false;
        self.chain.0 = usize::MAX;
    }

    /// `source`: the whitespace is the document's (not a space or break
    /// the converter adds), so a separator is owed where it is swallowed.
    fn want(&mut self, p: Pending, source: bool) {
        if self.line_start {
            if source {
                self.separate();
            }
            return;
        }
        if p == Pending::Space && self.space_written {
            return;
        }
        if source {
            self.owed = true;
        }
        if p > self.pending {
            self.pending = p;
        }
    }

    /// Source whitespace swallowed at a block boundary: one line break
    /// (see the module doc) unless whitespace or nothing precedes —
    /// including whitespace before the opening tags just written, so a
    /// block's content stays trimmed whenever the source separated the
    /// block itself. (Always appended: text is never inserted before what
    /// is written, which would shift what snapshots point at.)
    fn separate(&mut self) {
        if self.out.len() == self.chain.0 && self.chain.1 {
            return;
        }
        if self.out.as_bytes().last().is_some_and(|&b| !is_ws(b)) {
            self.out.push('\n');
            self.chain.0 = usize::MAX;
        }
    }

    /// Drops pending whitespace at a block boundary; source whitespace
    /// becomes a separator there.
    fn drop_pending(&mut self) {
        let owed = self.owed;
        self.pending = Pending::None;
        self.owed = false;
        if owed {
            self.separate();
        }
    }

    /// Whitespace-only source text where only elements may stand (between
    /// rows, cells, items): nothing to write but a separator.
    pub(crate) fn source_whitespace(&mut self) {
        if self.preserve == 0 {
            self.separate();
        }
    }

    /// Character data, collapsed (or verbatim inside `pre`).
    pub(crate) fn text(&mut self, s: &str) {
        if self.preserve > 0 {
            if s.is_empty() {
                return;
            }
            self.flush();
            escape_text(s, &mut self.out);
            self.chain.0 = usize::MAX;
            if s.chars().any(|c| !c.is_whitespace()) {
                self.produced = true;
            }
            self.line_start = false;
            self.space_written = false;
            return;
        }
        // Runs of non-whitespace joined by single spaces are written in one
        // piece: a lone space between two words collapses to itself, which
        // is what pending it and flushing it would write.
        let b = s.as_bytes();
        // XML whitespace (what collapses).
        let ws = is_ws;
        let mut i = 0;
        while i < b.len() {
            if ws(b[i]) {
                self.want(Pending::Space, true);
                i += 1;
                continue;
            }
            self.flush();
            self.line_start = false;
            self.space_written = false;
            let st = i;
            loop {
                while i < b.len() && !ws(b[i]) {
                    i += 1;
                }
                if i + 1 < b.len() && b[i] == b' ' && !ws(b[i + 1]) {
                    i += 1;
                    continue;
                }
                break;
            }
            // Whitespace bytes are ASCII, so `st..i` are char boundaries.
            let run = &s[st..i];
            if !self.produced && run.chars().any(|c| !c.is_whitespace()) {
                self.produced = true;
            }
            escape_text(run, &mut self.out);
            self.chain.0 = usize::MAX;
        }
    }

    /// A space that separates inline runs (e.g. after a paragraph caption).
    pub(crate) fn soft_space(&mut self) {
        self.want(Pending::Space, false);
    }

    /// A line break that is only written if more inline content follows.
    pub(crate) fn soft_break(&mut self) {
        self.want(Pending::Break, false);
    }

    fn tag(&mut self, name: &str, attrs: &[Attr<'_>], empty: bool) {
        if self.out.len() != self.chain.0 {
            self.chain.1 = self.out.as_bytes().last().is_none_or(|&b| is_ws(b));
        }
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            escape_attr(v, &mut self.out);
            self.out.push('"');
        }
        self.out.push_str(if empty { "/>" } else { ">" });
        self.chain.0 = if empty { usize::MAX } else { self.out.len() };
    }

    /// Open an inline element: pending whitespace goes before it.
    pub(crate) fn open_inline(&mut self, name: &str, attrs: &[Attr<'_>]) {
        self.flush();
        self.tag(name, attrs, false);
    }

    /// Close an inline element: pending whitespace carries over after it.
    pub(crate) fn close_inline(&mut self, name: &str) {
        self.chain.0 = usize::MAX;
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// Open a block element: pending whitespace is discarded.
    pub(crate) fn open_block(&mut self, name: &str, attrs: &[Attr<'_>]) {
        self.drop_pending();
        self.tag(name, attrs, false);
        self.line_start = true;
        self.space_written = false;
        if name == "pre" {
            self.preserve += 1;
        }
    }

    /// Close a block element: pending whitespace is discarded.
    pub(crate) fn close_block(&mut self, name: &str) {
        let owed = self.owed;
        self.pending = Pending::None;
        self.owed = false;
        if name == "pre" {
            self.preserve = self.preserve.saturating_sub(1);
        }
        self.chain.0 = usize::MAX;
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        if owed {
            self.separate();
        }
        self.line_start = true;
        self.space_written = false;
    }

    /// An empty block-level element such as `col` or `hr`.
    pub(crate) fn empty_block(&mut self, name: &str, attrs: &[Attr<'_>]) {
        self.drop_pending();
        self.tag(name, attrs, true);
        self.line_start = true;
        self.space_written = false;
    }

    /// An explicit `<br/>`: whitespace around it is insignificant.
    pub(crate) fn br(&mut self) {
        self.drop_pending();
        self.out.push_str("<br/>");
        self.chain.0 = usize::MAX;
        self.line_start = true;
        self.space_written = false;
    }

    /// Append already-converted inline markup (a footnote body).
    pub(crate) fn raw_inline(&mut self, markup: &str) {
        if markup.is_empty() {
            return;
        }
        self.flush();
        self.out.push_str(markup);
        self.chain.0 = usize::MAX;
        self.line_start = false;
        self.space_written = false;
    }

    /// Finish: drop trailing whitespace, return the markup.
    pub(crate) fn finish(mut self) -> String {
        self.pending = Pending::None;
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_and_trims() {
        let mut w = Writer::new();
        w.text("  foo \n\t bar ");
        w.open_inline("span", &[]);
        w.text(" baz ");
        w.close_inline("span");
        w.text("  qux  ");
        assert_eq!(w.finish(), "foo bar <span>baz</span> qux");
    }

    #[test]
    fn blocks_drop_edge_whitespace() {
        let mut w = Writer::new();
        w.text("a ");
        w.open_block("p", &[]);
        w.text(" b ");
        w.close_block("p");
        w.text(" c");
        assert_eq!(w.finish(), "a\n<p>b</p>\nc");
        // Without whitespace in the source, none is added.
        let mut w = Writer::new();
        w.text("a");
        w.open_block("p", &[]);
        w.text("b");
        w.close_block("p");
        w.text("c");
        assert_eq!(w.finish(), "a<p>b</p>c");
    }

    #[test]
    fn swallowed_whitespace_separates_outside_the_blocks() {
        // <tr> <td> Marriott </td> <td> Pharmacist </td> </tr>
        let mut w = Writer::new();
        w.open_block("table", &[]);
        w.source_whitespace();
        w.open_block("tr", &[]);
        w.source_whitespace();
        w.open_block("td", &[]);
        w.text(" Marriott ");
        w.close_block("td");
        w.source_whitespace();
        w.open_block("td", &[]);
        w.open_inline("b", &[]);
        w.text("\n Pharmacist ");
        w.close_inline("b");
        w.close_block("td");
        w.source_whitespace();
        w.close_block("tr");
        w.close_block("table");
        assert_eq!(
            w.finish(),
            "<table><tr><td>Marriott</td>\n<td><b>Pharmacist</b></td>\n</tr></table>"
        );
    }

    #[test]
    fn soft_break_only_between_content() {
        let mut w = Writer::new();
        w.soft_break();
        w.text("a");
        w.soft_break();
        w.text(" b");
        w.soft_break();
        assert_eq!(w.finish(), "a<br/>\nb");
    }

    #[test]
    fn snapshot_restore() {
        let mut w = Writer::new();
        w.text("a ");
        let s = w.snapshot();
        w.open_inline("span", &[]);
        w.close_inline("span");
        w.restore(s);
        w.text("b");
        assert_eq!(w.finish(), "a b");
    }
}
