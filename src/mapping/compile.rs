//! Mapping files → a compiled [`Plan`]. Every FHIR target path is resolved
//! against the STU3 element table here, every function, table, resource
//! key and section slice is checked here, so a compiled plan can only meet
//! data problems at run time.

use std::collections::{HashMap, HashSet};

use regex::Regex;

use super::expr::{self, Expr, Func};
use super::path::{self, Namespaces, Path};
use super::syntax::{lines, CompileError, Cursor, Line, Loc};
use crate::convert::table::Table;
use crate::fhir::defs::defs;

/// One segment of a FHIR target path, resolved.
#[derive(Debug, Clone)]
pub struct Seg {
    /// JSON property name.
    pub name: String,
    /// Serialisation order within its owner.
    pub order: i32,
    /// Repeating element.
    pub many: bool,
    /// Type code (or backbone path).
    pub ty: String,
}

/// How often a block or resource is instantiated.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Exactly once, same context.
    Once,
    /// Once when the expression selects an element; context = first match.
    If(Expr),
    /// Once per selected element; context = that element.
    Each(Path),
    /// Once per value of the expression; `$` = the value.
    For(Expr),
    /// Once when the expression has a value; context unchanged.
    When(Expr),
}

/// A statement in a resource body.
#[derive(Debug, Clone)]
pub enum Stmt {
    /// `target = expr`
    Assign {
        /// Resolved target.
        target: Vec<Seg>,
        /// Value.
        expr: Expr,
        /// Where.
        loc: Loc,
    },
    /// `target [mode]` + indented body: builds one object per instance.
    Block {
        /// Resolved target.
        target: Vec<Seg>,
        /// Instantiation.
        mode: Mode,
        /// Instance kept only when this holds (in the instance context).
        guard: Option<Guard>,
        /// Body.
        body: Vec<Stmt>,
        /// Where.
        loc: Loc,
    },
}

/// `where <expr>` / `unless <expr>` after a block or resource header.
#[derive(Debug, Clone)]
pub struct Guard {
    /// Keep the instance when the expression has a value (`where`), or when it has none (`unless`).
    pub positive: bool,
    /// The expression, evaluated in the instance context.
    pub expr: Expr,
}

/// A resource declaration.
#[derive(Debug, Clone)]
pub struct ResPlan {
    /// FHIR resource type.
    pub ty: String,
    /// Key used by `ref()`, `refs()` and sections.
    pub key: String,
    /// In the outer message bundle (MessageHeader, header resources).
    pub outer: bool,
    /// Instantiation.
    pub mode: Mode,
    /// Instance guard.
    pub guard: Option<Guard>,
    /// meta.profile.
    pub profile: Option<String>,
    /// Identity expression: resources with the same type and identity are one.
    pub identity: Option<Expr>,
    /// Body.
    pub body: Vec<Stmt>,
    /// Where declared.
    pub loc: Loc,
    /// Identity scope: the type, `outer/` first for the message bundle.
    pub scope: String,
    /// FHIR order (×2) of the resource's `id`.
    pub id_order: i32,
    /// FHIR order (×2) of the resource's `meta`.
    pub meta_order: i32,
}

/// How a source section is recognised.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// Section code (`code/@code`).
    Code(String),
    /// Normalised-title regex (anchored); `top` = only when the section has no routed parent.
    Title(Regex, bool),
    /// ToC CDA template id (before `#`).
    Template(String),
}

/// A routing rule.
#[derive(Debug, Clone)]
pub struct Route {
    /// Matcher.
    pub m: Matcher,
    /// Target slice key.
    pub slice: String,
}

/// The section-routing rules of a map.
#[derive(Debug, Clone)]
pub struct SectionRules {
    /// Where the top-level source sections are.
    pub from: Path,
    /// Routes, first hit wins (codes and templates before titles).
    pub routes: Vec<Route>,
    /// Title patterns of pure containers.
    pub containers: Vec<Regex>,
    /// Title patterns of sections to drop (placeholders).
    pub drops: Vec<Regex>,
    /// Where unmatched narrative goes.
    pub catch_all: String,
    /// Unstructured bodies (`unstructured PATH -> SLICE`): the elements the
    /// path selects are CDA `nonXMLBody` elements; a plain-text one is
    /// carried as narrative in the slice, anything else (a PDF, an image, an
    /// external reference) makes the document skipped (crosswalk R7).
    pub unstructured: Vec<(Path, String)>,
    /// All title patterns in one automaton (one pass per title).
    pub title_set: regex::RegexSet,
    /// Route index of each pattern in `title_set`.
    pub title_routes: Vec<usize>,
}

/// A generated section (`section KEY`).
#[derive(Debug, Clone)]
pub struct SectionDef {
    /// Slice key.
    pub slice: String,
    /// Only when this resource key was created.
    pub only_if: Option<String>,
    /// Resource keys referenced as entries.
    pub entries: Vec<String>,
    /// Generated narrative rows: label, optional `each` path (one row per
    /// selected element, the expression evaluated there), value.
    pub rows: Vec<(String, Option<Path>, Expr)>,
    /// Narrative when nothing else is there.
    pub empty_text: Option<String>,
    /// Where.
    pub loc: Loc,
}

/// A ToC document type (from `toc-types.tsv`).
#[derive(Debug, Clone)]
pub struct TocType {
    /// EDIS, MH, ECD or OPL.
    pub key: String,
    /// ITK event code.
    pub event: String,
    /// Event display.
    pub event_display: String,
    /// MessageDefinition URL.
    pub message_definition: String,
    /// Composition profile URL.
    pub composition_profile: String,
    /// Composition.type code.
    pub type_code: String,
    /// Composition.type display.
    pub type_display: String,
    /// Catch-all slice.
    pub catch_all: String,
}

/// A slice of a ToC Composition (from `toc-sections.tsv`).
#[derive(Debug, Clone)]
pub struct SliceDef {
    /// Key (ALG, DEM, …).
    pub key: String,
    /// SNOMED code.
    pub code: String,
    /// Fixed display.
    pub display: String,
    /// Fixed title.
    pub title: String,
    /// [`normalise_title`](crate::convert::text::normalise_title) of `title`.
    pub title_norm: String,
    /// Profile minimum.
    pub min: u32,
    /// Minimum number of entries when present.
    pub entry_min: u32,
}

/// One compiled mapping file.
#[derive(Debug, Clone)]
pub struct Plan {
    /// File name.
    pub file: String,
    /// `map NAME`.
    pub name: String,
    /// Kinds this map converts.
    pub applies_to: Vec<String>,
    /// Target ToC type.
    pub toc: TocType,
    /// Slices of that type, in table order.
    pub slices: Vec<SliceDef>,
    /// Resources in declaration order.
    pub resources: Vec<ResPlan>,
    /// Section routing.
    pub sections: Option<SectionRules>,
    /// Generated sections.
    pub section_defs: Vec<SectionDef>,
}

impl TocType {
    /// Constants by name, for `toc(...)`.
    pub fn constants(&self) -> std::collections::HashMap<&'static str, String> {
        [
            ("key", self.key.clone()),
            ("event", self.event.clone()),
            ("event-display", self.event_display.clone()),
            ("message-definition", self.message_definition.clone()),
            ("composition-profile", self.composition_profile.clone()),
            ("type-code", self.type_code.clone()),
            ("type-display", self.type_display.clone()),
        ]
        .into_iter()
        .collect()
    }
}

impl Plan {
    /// The slice with this key.
    pub fn slice(&self, key: &str) -> Option<&SliceDef> {
        self.slices.iter().find(|s| s.key == key)
    }
}

/// All compiled maps plus their tables.
#[derive(Debug)]
pub struct MapSet {
    /// Maps in file-name order.
    pub maps: Vec<Plan>,
    /// Tables by name.
    pub tables: HashMap<String, Table>,
}

impl MapSet {
    /// The map converting `kind`, if any.
    pub fn for_kind(&self, kind: &str) -> Option<&Plan> {
        self.maps
            .iter()
            .find(|m| m.applies_to.iter().any(|k| k == kind))
    }
}

/// A mapping source: file name and content.
pub struct Source {
    /// Name (relative path) for messages.
    pub name: String,
    /// Content.
    pub text: String,
}

struct Ns(Vec<(String, String)>);
impl Namespaces for Ns {
    fn uri(&self, p: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == p).map(|(_, v)| v.as_str())
    }
}

/// Compile a set of sources: `*.map` files are maps, `*.tsv` files are
/// tables (name = file stem). `toc-types` and `toc-sections` are required.
pub fn compile(sources: &[Source]) -> Result<MapSet, CompileError> {
    let mut tables = HashMap::new();
    for s in sources.iter().filter(|s| s.name.ends_with(".tsv")) {
        let stem = std::path::Path::new(&s.name)
            .file_stem()
            .and_then(|x| x.to_str())
            .unwrap_or(&s.name)
            .to_string();
        let t = Table::parse(&stem, &s.text).map_err(|e| CompileError {
            file: s.name.clone(),
            loc: Loc {
                line: e.line as u32,
                col: e.col as u32,
            },
            message: e.message,
        })?;
        if tables.insert(stem.clone(), t).is_some() {
            return Err(CompileError {
                file: s.name.clone(),
                loc: Loc { line: 1, col: 1 },
                message: format!("a table named '{stem}' is already defined by another .tsv file; table names must be unique"),
            });
        }
    }
    for req in ["toc-types", "toc-sections"] {
        if !tables.contains_key(req) {
            return Err(CompileError {
                file: format!("{req}.tsv"),
                loc: Loc { line: 1, col: 1 },
                message: format!("required table '{req}.tsv' is missing from the mappings"),
            });
        }
    }
    let mut maps = Vec::new();
    let mut names = HashSet::new();
    for s in sources.iter().filter(|s| s.name.ends_with(".map")) {
        let plan = compile_map(&s.name, &s.text, &tables, sources)?;
        if !names.insert(plan.name.clone()) {
            return Err(CompileError {
                file: s.name.clone(),
                loc: Loc { line: 1, col: 1 },
                message: format!("a map named '{}' is already defined", plan.name),
            });
        }
        maps.push(plan);
    }
    let mut kinds = HashSet::new();
    for m in &maps {
        for k in &m.applies_to {
            if !kinds.insert(k.clone()) {
                return Err(CompileError {
                    file: m.file.clone(),
                    loc: Loc { line: 1, col: 1 },
                    message: format!("kind '{k}' is claimed by more than one map"),
                });
            }
        }
    }
    Ok(MapSet { maps, tables })
}

fn err(file: &str, loc: Loc, msg: impl Into<String>) -> CompileError {
    CompileError {
        file: file.into(),
        loc,
        message: msg.into(),
    }
}

fn toc_type(tables: &HashMap<String, Table>, key: &str) -> Option<TocType> {
    let r = tables.get("toc-types")?.get(key)?;
    let g = |i: usize| r.get(i).cloned().unwrap_or_default();
    Some(TocType {
        key: key.into(),
        event: g(0),
        event_display: g(1),
        message_definition: g(2),
        composition_profile: g(3),
        type_code: g(4),
        type_display: g(5),
        catch_all: g(6),
    })
}

fn slices_for(src: &[Source], toc: &str) -> Vec<SliceDef> {
    // toc-sections has a composite key (toc, slice): read it directly.
    let mut out = Vec::new();
    if let Some(s) = src.iter().find(|s| s.name.ends_with("toc-sections.tsv")) {
        for line in s.text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let c: Vec<&str> = line.split('\t').collect();
            let Some((t, key)) = c[0].split_once(':') else {
                continue;
            };
            if c.len() >= 6 && t == toc {
                out.push(SliceDef {
                    key: key.into(),
                    code: c[1].into(),
                    display: c[2].into(),
                    title: c[3].into(),
                    title_norm: crate::convert::text::normalise_title(c[3]),
                    min: c[4].parse().unwrap_or(0),
                    entry_min: c[5].parse().unwrap_or(0),
                });
            }
        }
    }
    out
}

struct Ctx<'a> {
    file: &'a str,
    ns: Ns,
    tables: &'a HashMap<String, Table>,
    keys: HashSet<String>,
}

fn compile_map(
    file: &str,
    src: &str,
    tables: &HashMap<String, Table>,
    sources: &[Source],
) -> Result<Plan, CompileError> {
    let ls = lines(file, src)?;
    let mut cx = Ctx {
        file,
        ns: Ns(Vec::new()),
        tables,
        keys: HashSet::new(),
    };
    let mut name = None;
    let mut applies = Vec::new();
    let mut toc: Option<TocType> = None;
    let mut slices = Vec::new();
    let mut resources = Vec::new();
    let mut sections = None;
    let mut section_defs = Vec::new();
    // First pass: collect resource keys so ref() can point forward.
    for l in &ls {
        if l.indent == 0 {
            let mut c = Cursor::new(file, l.text, l.loc);
            let outer = c.eat_kw("outer");
            c.ws();
            if c.eat_kw("resource") {
                let _ = c.word();
                if let Some(k) = c.word() {
                    cx.keys.insert(k.to_string());
                }
            }
            let _ = outer;
        }
    }
    cx.keys.insert("document".into());
    let mut i = 0;
    while i < ls.len() {
        let l = &ls[i];
        if l.indent != 0 {
            return Err(err(
                file,
                l.loc,
                "unexpected indentation: this line does not belong to a block",
            ));
        }
        let mut c = Cursor::new(file, l.text, l.loc);
        let (body_start, body_end) = block_range(&ls, i);
        if c.eat_kw("map") {
            name = Some(
                c.word()
                    .ok_or_else(|| c.err("expected a map name"))?
                    .to_string(),
            );
        } else if c.eat_kw("applies-to") {
            while let Some(w) = c.word() {
                if !w.contains('/') {
                    return Err(c.err(format!("kind '{w}' must be written <family>/<type>, e.g. nhs-cda/POCD_MT150001UK06")));
                }
                applies.push(w.to_string());
            }
        } else if c.eat_kw("toc") {
            let at = {
                c.ws();
                c.loc()
            };
            let k = c
                .word()
                .ok_or_else(|| c.err("expected EDIS, MH, ECD or OPL"))?;
            toc = Some(toc_type(tables, k).ok_or_else(|| {
                err(
                    file,
                    at,
                    format!("unknown ToC type '{k}' (toc-types.tsv has EDIS, MH, ECD, OPL)"),
                )
            })?);
            slices = slices_for(sources, k);
        } else if c.eat_kw("namespace") {
            let p = c
                .word()
                .ok_or_else(|| c.err("expected a prefix"))?
                .to_string();
            c.expect("=")?;
            let u = c
                .word()
                .ok_or_else(|| c.err("expected a namespace URI"))?
                .to_string();
            cx.ns.0.push((p, u));
        } else if c.eat_kw("resource") || c.eat_kw("outer") {
            let outer = l.text.starts_with("outer");
            if outer {
                c.ws();
                if !c.eat_kw("resource") {
                    return Err(c.err("expected 'resource' after 'outer'"));
                }
            }
            let r = compile_resource(&mut cx, &mut c, outer, &ls[body_start..body_end])?;
            resources.push(r);
        } else if c.eat_kw("sections") {
            let toc = toc
                .as_ref()
                .ok_or_else(|| c.err("'toc' must come before 'sections'"))?;
            sections = Some(compile_sections(
                &cx,
                &mut c,
                &ls[body_start..body_end],
                toc,
                &slices,
            )?);
        } else if c.eat_kw("section") {
            if toc.is_none() {
                return Err(c.err("'toc' must come before 'section'"));
            }
            section_defs.push(compile_section_def(
                &cx,
                &mut c,
                &ls[body_start..body_end],
                &slices,
            )?);
        } else {
            return Err(c.err("expected one of: map, applies-to, toc, namespace, resource, outer resource, sections, section"));
        }
        i = body_end;
    }
    let toc = toc.ok_or_else(|| {
        err(
            file,
            Loc { line: 1, col: 1 },
            "missing 'toc EDIS|MH|ECD|OPL'",
        )
    })?;
    if !resources.iter().any(|r| r.ty == "Composition" && !r.outer) {
        return Err(err(
            file,
            Loc { line: 1, col: 1 },
            "a map must declare 'resource Composition <key>'",
        ));
    }
    if !resources.iter().any(|r| r.ty == "MessageHeader" && r.outer) {
        return Err(err(
            file,
            Loc { line: 1, col: 1 },
            "a map must declare 'outer resource MessageHeader <key>'",
        ));
    }
    Ok(Plan {
        file: file.into(),
        name: name.ok_or_else(|| err(file, Loc { line: 1, col: 1 }, "missing 'map NAME'"))?,
        applies_to: applies,
        toc,
        slices,
        resources,
        sections,
        section_defs,
    })
}

/// Lines after `i` indented deeper than line `i`: (start, end).
fn block_range(ls: &[Line], i: usize) -> (usize, usize) {
    let ind = ls[i].indent;
    let mut j = i + 1;
    while j < ls.len() && ls[j].indent > ind {
        j += 1;
    }
    (i + 1, j)
}

fn parse_mode(cx: &Ctx, c: &mut Cursor) -> Result<Mode, CompileError> {
    c.ws();
    if c.at_end() {
        return Ok(Mode::Once);
    }
    if c.eat_kw("once") {
        return Ok(Mode::Once);
    }
    {
        let r = c.rest();
        if r.starts_with("where ") || r.starts_with("unless ") {
            return Ok(Mode::Once);
        }
    }
    if c.eat_kw("if") {
        let e = expr::parse(c, &cx.ns)?;
        check_expr(cx, &e)?;
        return Ok(Mode::If(e));
    }
    if c.eat_kw("each") {
        c.ws();
        return Ok(Mode::Each(path::parse(c, &cx.ns)?));
    }
    if c.eat_kw("for") {
        let e = expr::parse(c, &cx.ns)?;
        check_expr(cx, &e)?;
        return Ok(Mode::For(e));
    }
    if c.eat_kw("when") {
        let e = expr::parse(c, &cx.ns)?;
        check_expr(cx, &e)?;
        return Ok(Mode::When(e));
    }
    Err(c.err("expected once, if <path>, each <path>, for <expr> or when <expr>"))
}

fn parse_guard(cx: &Ctx, c: &mut Cursor) -> Result<Option<Guard>, CompileError> {
    c.ws();
    let positive = if c.eat_kw("where") {
        true
    } else if c.eat_kw("unless") {
        false
    } else {
        return Ok(None);
    };
    let e = expr::parse(c, &cx.ns)?;
    check_expr(cx, &e)?;
    Ok(Some(Guard { positive, expr: e }))
}

fn compile_resource(
    cx: &mut Ctx,
    c: &mut Cursor,
    outer: bool,
    body: &[Line],
) -> Result<ResPlan, CompileError> {
    let loc = c.loc();
    c.ws();
    let tloc = c.loc();
    let ty = c
        .word()
        .ok_or_else(|| c.err("expected a resource type"))?
        .to_string();
    if !defs().is_resource(&ty) {
        return Err(err(
            cx.file,
            tloc,
            format!("'{ty}' is not a FHIR STU3 resource type"),
        ));
    }
    let key = c
        .word()
        .ok_or_else(|| c.err("expected a key for this resource"))?
        .to_string();
    let mode = parse_mode(cx, c)?;
    let guard = parse_guard(cx, c)?;
    if !c.at_end() {
        return Err(c.err("unexpected text after the resource header"));
    }
    let mut profile = None;
    let mut identity = None;
    let mut stmts_lines = Vec::new();
    for l in body {
        let mut lc = Cursor::new(cx.file, l.text, l.loc);
        if l.indent == body[0].indent && lc.eat_kw("profile") {
            profile = Some(
                lc.word()
                    .ok_or_else(|| lc.err("expected a profile URL"))?
                    .to_string(),
            );
        } else if l.indent == body[0].indent && lc.eat_kw("identity") {
            let e = expr::parse(&mut lc, &cx.ns)?;
            check_expr(cx, &e)?;
            identity = Some(e);
        } else {
            stmts_lines.push(l.clone());
        }
    }
    let body = compile_stmts(cx, &stmts_lines, &ty)?;
    let scope = format!("{}{}", if outer { "outer/" } else { "" }, ty);
    let d = crate::fhir::defs::defs();
    let id_order = d.order_of(&ty, "id").unwrap_or(0) as i32 * 2;
    let meta_order = d.order_of(&ty, "meta").unwrap_or(1) as i32 * 2;
    Ok(ResPlan {
        scope,
        id_order,
        meta_order,
        ty,
        key,
        outer,
        mode,
        guard,
        profile,
        identity,
        body,
        loc,
    })
}

fn compile_stmts(cx: &Ctx, ls: &[Line], owner: &str) -> Result<Vec<Stmt>, CompileError> {
    let mut out = Vec::new();
    if ls.is_empty() {
        return Ok(out);
    }
    let base = ls[0].indent;
    let mut i = 0;
    while i < ls.len() {
        let l = &ls[i];
        if l.indent != base {
            return Err(err(cx.file, l.loc, "inconsistent indentation"));
        }
        let (bs, be) = block_range(ls, i);
        let mut c = Cursor::new(cx.file, l.text, l.loc);
        let target = parse_target(cx, &mut c, owner)?;
        c.ws();
        if c.eat("=") {
            if bs != be {
                return Err(err(
                    cx.file,
                    ls[bs].loc,
                    "an assignment has no indented body",
                ));
            }
            let last = target.last().map(|s| s.ty.clone()).unwrap_or_default();
            if !defs().is_primitive(&last) {
                return Err(err(
                    cx.file,
                    l.loc,
                    format!("'{}' is a {last}, not a primitive: assign to its parts (e.g. {}.…) or open a block", target_text(&target), target_text(&target)),
                ));
            }
            let e = expr::parse(&mut c, &cx.ns)?;
            check_expr(cx, &e)?;
            if !c.at_end() {
                return Err(c.err("unexpected text after the expression"));
            }
            out.push(Stmt::Assign {
                target,
                expr: e,
                loc: l.loc,
            });
        } else {
            let mode = parse_mode(cx, &mut c)?;
            let guard = parse_guard(cx, &mut c)?;
            if !c.at_end() {
                return Err(c.err("unexpected text: expected '= value', a block mode (if, each, for, when) or a guard (where, unless)"));
            }
            let last = target.last().map(|s| s.ty.clone()).unwrap_or_default();
            if defs().is_primitive(&last) {
                return Err(err(
                    cx.file,
                    l.loc,
                    format!(
                        "'{}' is a primitive ({last}): use '= value'",
                        target_text(&target)
                    ),
                ));
            }
            if bs == be {
                return Err(err(cx.file, l.loc, "a block needs an indented body"));
            }
            let body = compile_stmts(cx, &ls[bs..be], &last)?;
            out.push(Stmt::Block {
                target,
                mode,
                guard,
                body,
                loc: l.loc,
            });
        }
        i = be;
    }
    Ok(out)
}

fn target_text(t: &[Seg]) -> String {
    t.iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

fn parse_target(cx: &Ctx, c: &mut Cursor, owner: &str) -> Result<Vec<Seg>, CompileError> {
    let d = defs();
    let mut segs = Vec::new();
    let mut cur = owner.to_string();
    loop {
        let at = c.loc();
        let r = c.rest();
        let end = r
            .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
            .unwrap_or(r.len());
        if end == 0 {
            return Err(c.err("expected a FHIR element name"));
        }
        let name = &r[..end];
        c.pos += end;
        if let Some(base) = name.strip_prefix('_') {
            // `_x`: the JSON object carrying id/extension of primitive x.
            let e = d
                .element(&cur, base)
                .filter(|e| e.types.first().is_some_and(|t| d.is_primitive(t)))
                .ok_or_else(|| {
                    err(
                        cx.file,
                        at,
                        format!("'{name}' needs '{base}' to be a primitive element of {cur}"),
                    )
                })?;
            segs.push(Seg {
                name: name.into(),
                order: e.order as i32 * 2 + 1,
                many: e.max_many,
                ty: "Element".into(),
            });
            cur = "Element".into();
            if !c.eat(".") {
                break;
            }
            continue;
        }
        let e = d.element(&cur, name).ok_or_else(|| {
            let known: Vec<&str> = d.elements(&cur).iter().map(|e| e.name).collect();
            let hint = closest(name, &known)
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
            err(
                cx.file,
                at,
                format!("'{name}' is not an element of {cur} in FHIR STU3{hint}"),
            )
        })?;
        if e.max_zero {
            return Err(err(
                cx.file,
                at,
                format!("{cur}.{name} is prohibited (max 0)"),
            ));
        }
        let ty = e.types.first().copied().unwrap_or("Element").to_string();
        let order = if cur == "Extension" && name == "url" {
            -1
        } else {
            e.order as i32 * 2
        };
        segs.push(Seg {
            name: name.into(),
            order,
            many: e.max_many,
            ty: ty.clone(),
        });
        cur = ty;
        if !c.eat(".") {
            break;
        }
    }
    Ok(segs)
}

fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for k in known {
        let d = edit_distance(name, k);
        if d <= 2 && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
    }
    best.map(|b| b.1)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn check_expr(cx: &Ctx, e: &Expr) -> Result<(), CompileError> {
    match e {
        Expr::Name(n, loc) => Err(err(cx.file, *loc, format!("'{n}' is not a value: quote literals (\"{n}\"), prefix element steps (hl7:{n}) or call a function ({n}(…))"))),
        Expr::Union(v) => v.iter().try_for_each(|x| check_expr(cx, x)),
        Expr::Call(f, args, loc) => {
            let name_arg = |i: usize| -> Result<String, CompileError> {
                match args.get(i) {
                    Some(Expr::Name(n, _)) => Ok(n.clone()),
                    Some(Expr::Lit(n)) => Ok(n.clone()),
                    _ => Err(err(cx.file, *loc, "expected a name here")),
                }
            };
            match f {
                Func::Lookup => {
                    let t = name_arg(0)?;
                    let tb = cx.tables.get(&t).ok_or_else(|| err(cx.file, *loc, format!("unknown table '{t}' (tables are the .tsv files of the mappings folder)")))?;
                    if let Some(c) = args.get(2) {
                        let n = name_arg(2)?;
                        let col: usize = n.parse().map_err(|_| err(cx.file, *loc, "column must be a number"))?;
                        if col == 0 || col > tb.value_columns() {
                            let _ = c;
                            return Err(err(cx.file, *loc, format!("table '{t}' has {} value column(s)", tb.value_columns())));
                        }
                    }
                    check_expr(cx, &args[1])
                }
                Func::Ref | Func::Refs => {
                    let k = name_arg(0)?;
                    if !cx.keys.contains(&k) {
                        return Err(err(cx.file, *loc, format!("no resource is declared with key '{k}'")));
                    }
                    Ok(())
                }
                Func::Config => {
                    let k = name_arg(0)?;
                    let ok = cx.tables.get("deployment").is_some_and(|t| t.get(&k).is_some());
                    if !ok {
                        return Err(err(cx.file, *loc, format!("'{k}' is not a setting in deployment.tsv")));
                    }
                    Ok(())
                }
                Func::Toc => {
                    let k = name_arg(0)?;
                    const KEYS: &[&str] = &["event", "event-display", "message-definition", "composition-profile", "type-code", "type-display", "key"];
                    if !KEYS.contains(&k.as_str()) {
                        return Err(err(cx.file, *loc, format!("toc() knows {}", KEYS.join(", "))));
                    }
                    Ok(())
                }
                Func::Default => {
                    name_arg(2)?;
                    check_expr(cx, &args[0])?;
                    check_expr(cx, &args[1])
                }
                Func::OidSystem => {
                    if !cx.tables.contains_key("identifier-roots") {
                        return Err(err(cx.file, *loc, "oid-system() needs the table identifier-roots.tsv"));
                    }
                    check_expr(cx, &args[0])
                }
                Func::CodeSystem => {
                    if !cx.tables.contains_key("code-systems") {
                        return Err(err(cx.file, *loc, "code-system() needs the table code-systems.tsv"));
                    }
                    check_expr(cx, &args[0])
                }
                _ => args.iter().try_for_each(|a| check_expr(cx, a)),
            }
        }
        _ => Ok(()),
    }
}

/// `-> SLICE` at the cursor: the slice key, checked against the ToC type.
fn target_slice(cx: &Ctx, c: &mut Cursor, slices: &[SliceDef]) -> Result<String, CompileError> {
    c.expect("->")?;
    c.ws();
    let at = c.loc();
    let s = c
        .word()
        .ok_or_else(|| c.err("expected a slice key"))?
        .to_string();
    slice_check(cx, slices, &s, at)?;
    Ok(s)
}

fn slice_check(cx: &Ctx, slices: &[SliceDef], key: &str, loc: Loc) -> Result<(), CompileError> {
    if slices.iter().any(|s| s.key == key) {
        Ok(())
    } else {
        let known: Vec<&str> = slices.iter().map(|s| s.key.as_str()).collect();
        Err(err(
            cx.file,
            loc,
            format!(
                "'{key}' is not a section slice of this ToC type; slices: {}",
                known.join(" ")
            ),
        ))
    }
}

fn title_regex(cx: &Ctx, c: &mut Cursor) -> Result<Regex, CompileError> {
    let at = {
        c.ws();
        c.loc()
    };
    let s = c
        .string()?
        .ok_or_else(|| c.err("expected a quoted title pattern"))?;
    Regex::new(&format!("^(?:{s})$"))
        .map_err(|e| err(cx.file, at, format!("bad title pattern: {e}")))
}

fn compile_sections(
    cx: &Ctx,
    c: &mut Cursor,
    body: &[Line],
    toc: &TocType,
    slices: &[SliceDef],
) -> Result<SectionRules, CompileError> {
    c.ws();
    let from = if c.eat_kw("from") {
        c.ws();
        path::parse(c, &cx.ns)?
    } else {
        return Err(c.err("expected 'from <path>' naming the top-level source sections"));
    };
    let mut routes = Vec::new();
    let mut containers = Vec::new();
    let mut drops = Vec::new();
    let mut catch_all = toc.catch_all.clone();
    let mut unstructured = Vec::new();
    for l in body {
        let mut c = Cursor::new(cx.file, l.text, l.loc);
        if c.eat_kw("unstructured") {
            c.ws();
            let p = path::parse(&mut c, &cx.ns)?;
            unstructured.push((p, target_slice(cx, &mut c, slices)?));
        } else if c.eat_kw("route") {
            c.ws();
            let m = if c.eat_kw("code") {
                Matcher::Code(
                    c.word()
                        .ok_or_else(|| c.err("expected a code"))?
                        .to_string(),
                )
            } else if c.eat_kw("template") {
                Matcher::Template(
                    c.word()
                        .ok_or_else(|| c.err("expected a template id"))?
                        .to_string(),
                )
            } else if c.eat_kw("title") {
                Matcher::Title(title_regex(cx, &mut c)?, false)
            } else if c.eat_kw("top-title") {
                Matcher::Title(title_regex(cx, &mut c)?, true)
            } else {
                return Err(c.err("expected code, template, title or top-title"));
            };
            routes.push(Route {
                m,
                slice: target_slice(cx, &mut c, slices)?,
            });
        } else if c.eat_kw("container") {
            c.ws();
            if !c.eat_kw("title") {
                return Err(c.err("expected 'title \"pattern\"'"));
            }
            containers.push(title_regex(cx, &mut c)?);
        } else if c.eat_kw("drop") {
            c.ws();
            if !c.eat_kw("title") {
                return Err(c.err("expected 'title \"pattern\"'"));
            }
            drops.push(title_regex(cx, &mut c)?);
        } else if c.eat_kw("catch-all") {
            c.ws();
            let at = c.loc();
            catch_all = c
                .word()
                .ok_or_else(|| c.err("expected a slice key"))?
                .to_string();
            slice_check(cx, slices, &catch_all, at)?;
        } else {
            return Err(c.err("expected route, container, drop, unstructured or catch-all"));
        }
        if !c.at_end() {
            return Err(c.err("unexpected text at end of line"));
        }
    }
    let mut pats = Vec::new();
    let mut title_routes = Vec::new();
    for (i, r) in routes.iter().enumerate() {
        if let Matcher::Title(re, _) = &r.m {
            pats.push(re.as_str().to_string());
            title_routes.push(i);
        }
    }
    let title_set = regex::RegexSet::new(&pats)
        .map_err(|e| err(cx.file, c.loc(), format!("title patterns: {e}")))?;
    Ok(SectionRules {
        from,
        routes,
        containers,
        drops,
        catch_all,
        unstructured,
        title_set,
        title_routes,
    })
}

/// A declared resource key at the cursor.
fn resource_key(cx: &Ctx, c: &mut Cursor) -> Result<String, CompileError> {
    c.ws();
    let at = c.loc();
    let k = c
        .word()
        .ok_or_else(|| c.err("expected a resource key"))?
        .to_string();
    if !cx.keys.contains(&k) {
        return Err(err(
            cx.file,
            at,
            format!("no resource is declared with key '{k}'"),
        ));
    }
    Ok(k)
}

fn compile_section_def(
    cx: &Ctx,
    c: &mut Cursor,
    body: &[Line],
    slices: &[SliceDef],
) -> Result<SectionDef, CompileError> {
    let loc = c.loc();
    c.ws();
    let at = c.loc();
    let slice = c
        .word()
        .ok_or_else(|| c.err("expected a slice key"))?
        .to_string();
    slice_check(cx, slices, &slice, at)?;
    let mut only_if = None;
    c.ws();
    if c.eat_kw("if") {
        only_if = Some(resource_key(cx, c)?);
    }
    let mut def = SectionDef {
        slice,
        only_if,
        entries: Vec::new(),
        rows: Vec::new(),
        empty_text: None,
        loc,
    };
    for l in body {
        let mut c = Cursor::new(cx.file, l.text, l.loc);
        if c.eat_kw("entry") {
            def.entries.push(resource_key(cx, &mut c)?);
        } else if c.eat_kw("row") {
            let label = c
                .string()?
                .ok_or_else(|| c.err("expected a quoted row label"))?;
            c.ws();
            let each = if c.eat_kw("each") {
                c.ws();
                Some(path::parse(&mut c, &cx.ns)?)
            } else {
                None
            };
            c.expect("=")?;
            let e = expr::parse(&mut c, &cx.ns)?;
            check_expr(cx, &e)?;
            def.rows.push((label, each, e));
        } else if c.eat_kw("empty-text") {
            def.empty_text = Some(c.string()?.ok_or_else(|| c.err("expected quoted text"))?);
        } else {
            return Err(c.err("expected entry, row or empty-text"));
        }
        if !c.at_end() {
            return Err(c.err("unexpected text at end of line"));
        }
    }
    Ok(def)
}
