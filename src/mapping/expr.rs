//! Expressions on the right of `=`: literals, source paths, `$`, and calls
//! of a fixed set of functions. Function names, arities, table names and
//! resource keys are all checked when the mapping is compiled.

use std::borrow::Cow;
use std::collections::HashMap;

use super::path::{self, item_text, Item, Namespaces, Path};
use super::syntax::{CompileError, Cursor, Loc};
use crate::convert::table::Table;
use crate::convert::text::trim;
use crate::fhir::defs::FastMap;
use crate::xml::{Document, NodeId};

/// The built-in functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// HL7 TS → FHIR date.
    Date,
    /// HL7 TS → FHIR dateTime.
    DateTime,
    /// HL7 TS → FHIR instant.
    Instant,
    /// `lookup(table, key [, column])`.
    Lookup,
    /// `join(sep, values…)`.
    Join,
    /// `concat(values…)`.
    Concat,
    /// First argument that has a value.
    First,
    /// Upper-case.
    Upper,
    /// Lower-case.
    Lower,
    /// `urn:uuid:` reference to the resource created under a key.
    Ref,
    /// References to every resource created under a key.
    Refs,
    /// Lower-case UUID, or a UUIDv5 of the value when it is not a UUID.
    Uuid,
    /// `if(condition, value)`: value when the condition has a value.
    If,
    /// `default(value, fallback, "rule")`: fallback with a ledger warning.
    Default,
    /// NHS number, warned when it fails Modulus 11.
    NhsNumber,
    /// UK postcode normalised; kept verbatim with a warning when invalid.
    Postcode,
    /// ContactPoint.system of a TEL URL.
    TelecomSystem,
    /// ContactPoint.value of a TEL URL.
    TelecomValue,
    /// ContactPoint.use of a TEL `@use`.
    TelecomUse,
    /// Patient.gender from an administrative gender code.
    Gender,
    /// HumanName.use from PN `@use`.
    NameUse,
    /// Address.use from AD `@use`.
    AddressUse,
    /// Address.type from AD `@use`.
    AddressType,
    /// Identifier.system from an OID root (identifier-roots table).
    OidSystem,
    /// Coding.system from a code-system OID (code-systems table).
    CodeSystem,
    /// CDA narrative block → XHTML div.
    Xhtml,
    /// Deployment setting (deployment table).
    Config,
    /// Text of the first value only.
    One,
    /// Is the SNOMED id in the UK drug extension (dm+d)?
    Dmd,
    /// A constant of the map's ToC type (`toc(event)` …).
    Toc,
    /// The document's business id (Composition.identifier value, R12).
    DocumentId,
    /// Text of the narrative an `originalText/reference/@value` (`#id`) points at.
    RefText,
    /// Midnight (Europe/London) of a TS date as an instant.
    Midnight,
    /// Has a value when the argument has none.
    Not,
    /// Base64 content with its whitespace removed; no value unless it decodes.
    Base64,
    /// `period-end(start, end)`: dateTime of `end`, unless it lies before `start`.
    PeriodEnd,
}

impl Func {
    fn by_name(n: &str) -> Option<(Func, usize, usize)> {
        use Func::*;
        Some(match n {
            "date" => (Date, 1, 1),
            "dateTime" => (DateTime, 1, 1),
            "instant" => (Instant, 1, 1),
            "lookup" => (Lookup, 2, 3),
            "join" => (Join, 2, 99),
            "concat" => (Concat, 1, 99),
            "first" => (First, 1, 99),
            "upper" => (Upper, 1, 1),
            "lower" => (Lower, 1, 1),
            "ref" => (Ref, 1, 1),
            "refs" => (Refs, 1, 1),
            "uuid" => (Uuid, 1, 1),
            "if" => (If, 2, 2),
            "default" => (Default, 3, 3),
            "nhs-number" => (NhsNumber, 1, 1),
            "postcode" => (Postcode, 1, 1),
            "telecom-system" => (TelecomSystem, 1, 2),
            "telecom-value" => (TelecomValue, 1, 1),
            "telecom-use" => (TelecomUse, 1, 1),
            "gender" => (Gender, 1, 1),
            "name-use" => (NameUse, 1, 1),
            "address-use" => (AddressUse, 1, 1),
            "address-type" => (AddressType, 1, 1),
            "oid-system" => (OidSystem, 1, 1),
            "code-system" => (CodeSystem, 1, 1),
            "xhtml" => (Xhtml, 1, 1),
            "config" => (Config, 1, 1),
            "one" => (One, 1, 1),
            "dmd" => (Dmd, 1, 1),
            "toc" => (Toc, 1, 1),
            "document-id" => (DocumentId, 0, 0),
            "ref-text" => (RefText, 1, 1),
            "midnight" => (Midnight, 1, 1),
            "not" => (Not, 1, 1),
            "base64" => (Base64, 1, 1),
            "period-end" => (PeriodEnd, 2, 2),
            _ => return None,
        })
    }

    /// Names of all functions (for error messages and docs).
    pub const NAMES: &'static [&'static str] = &[
        "date",
        "dateTime",
        "instant",
        "lookup",
        "join",
        "concat",
        "first",
        "upper",
        "lower",
        "ref",
        "refs",
        "uuid",
        "if",
        "default",
        "nhs-number",
        "postcode",
        "telecom-system",
        "telecom-value",
        "telecom-use",
        "gender",
        "name-use",
        "address-use",
        "address-type",
        "oid-system",
        "code-system",
        "xhtml",
        "config",
        "one",
        "dmd",
        "toc",
        "document-id",
        "ref-text",
        "midnight",
        "not",
        "base64",
        "period-end",
    ];
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub enum Expr {
    /// Quoted literal.
    Lit(String),
    /// Source path.
    Path(Path),
    /// Current `for` value.
    Dollar,
    /// Function call.
    Call(Func, Vec<Expr>, Loc),
    /// Table or key name argument (checked by the compiler).
    Name(String, Loc),
    /// `a | b`: values of both, in order.
    Union(Vec<Expr>),
}

/// Parse an expression.
pub fn parse(c: &mut Cursor, ns: &dyn Namespaces) -> Result<Expr, CompileError> {
    let first = parse_one(c, ns)?;
    let mut v = vec![first];
    loop {
        c.ws();
        if c.rest().starts_with('|') {
            c.pos += 1;
            c.ws();
            v.push(parse_one(c, ns)?);
        } else {
            break;
        }
    }
    Ok(if v.len() == 1 {
        v.remove(0)
    } else {
        Expr::Union(v)
    })
}

fn parse_one(c: &mut Cursor, ns: &dyn Namespaces) -> Result<Expr, CompileError> {
    c.ws();
    if let Some(s) = c.string()? {
        return Ok(Expr::Lit(s));
    }
    if c.eat("$") {
        return Ok(Expr::Dollar);
    }
    if path::starts_path(c) {
        return Ok(Expr::Path(path::parse(c, ns)?));
    }
    let at = c.loc();
    if c.peek().is_some_and(|d| d.is_ascii_digit()) {
        let r = c.rest();
        let end = r.find(|ch: char| !ch.is_ascii_digit()).unwrap_or(r.len());
        c.pos += end;
        return Ok(Expr::Name(r[..end].to_string(), at));
    }
    let save = c.pos;
    let name = c.ident().ok_or_else(|| {
        c.err("expected a value: \"literal\", a source path (hl7:…, @attr), $ or a function call")
    })?;
    if !c.rest().starts_with('(') {
        // A bare name is only meaningful as a function argument (table or
        // resource key); the caller checks where it is allowed.
        let _ = save;
        return Ok(Expr::Name(name.to_string(), at));
    }
    let (f, min, max) = Func::by_name(name).ok_or_else(|| CompileError {
        file: c.file.into(),
        loc: at,
        message: format!(
            "unknown function '{name}'; known functions: {}",
            Func::NAMES.join(", ")
        ),
    })?;
    c.pos += 1;
    let mut args = Vec::new();
    c.ws();
    if !c.eat(")") {
        loop {
            args.push(parse(c, ns)?);
            c.ws();
            if c.eat(",") {
                continue;
            }
            c.expect(")")?;
            break;
        }
    }
    if args.len() < min || args.len() > max {
        return Err(CompileError {
            file: c.file.into(),
            loc: at,
            message: if min == max {
                format!("{name}() takes {min} argument(s), got {}", args.len())
            } else {
                format!(
                    "{name}() takes {min} to {max} arguments, got {}",
                    args.len()
                )
            },
        });
    }
    Ok(Expr::Call(f, args, at))
}

/// A runtime value.
#[derive(Debug, Clone)]
pub enum Val {
    /// A node or attribute of the source.
    Item(Item),
    /// A computed string.
    Str(String),
}

/// A data finding raised while evaluating (a ledger warning).
#[derive(Debug, Clone)]
pub struct Finding {
    /// Stable rule id.
    pub rule: String,
    /// Message (locations and rules only, never patient data).
    pub message: String,
}

/// What an expression can see while it runs.
pub struct Env<'e, 'd> {
    /// The source document.
    pub doc: &'e Document<'d>,
    /// Tables by name.
    pub tables: &'e HashMap<String, Table>,
    /// Created resources: key → ids in creation order.
    pub ids: &'e FastMap<String, Vec<String>>,
    /// Context element of each created resource (parallel to `ids`).
    pub ctx_ids: &'e FastMap<String, Vec<NodeId>>,
    /// Findings raised so far.
    pub findings: &'e mut Vec<Finding>,
    /// Namespace for name-based UUIDs of this document.
    pub uuid_ns: uuid::Uuid,
    /// Constants of the ToC type (event, message-definition, …).
    pub toc: &'e HashMap<&'static str, String>,
    /// The document's business id.
    pub document_id: &'e str,
    /// Elements with an `ID` attribute (narrative anchors), in document
    /// order, listed on first use.
    pub anchors: &'e std::cell::OnceCell<Vec<NodeId>>,
    /// Spare value buffers (see [`Env::buf`]).
    pub bufs: &'e mut Vec<Vec<Val>>,
}

impl Env<'_, '_> {
    /// An empty value buffer, reused when one was handed back.
    pub fn buf(&mut self) -> Vec<Val> {
        self.bufs.pop().unwrap_or_default()
    }

    /// Hand a buffer back for reuse.
    pub fn give(&mut self, mut v: Vec<Val>) {
        v.clear();
        self.bufs.push(v);
    }

    /// Whether a value has a text ([`Env::text_owned`] without the copy).
    pub fn has_text(&mut self, v: &Val) -> bool {
        let s: Cow<str> = match v {
            Val::Str(s) => Cow::Borrowed(s.as_str()),
            Val::Item(it) => item_text(self.doc, *it),
        };
        self.clean(&s, node_of(v)).is_some()
    }

    /// Text of a value given away, with placeholders removed (and
    /// reported): a computed string that needs no trimming is kept rather
    /// than copied.
    pub fn text_owned(&mut self, v: Val) -> Option<String> {
        match v {
            Val::Str(s) => {
                let t = self.clean(&s, None)?;
                // `t` is a slice of `s`: equal lengths mean equal strings.
                Some(if t.len() == s.len() { s } else { t.to_string() })
            }
            Val::Item(it) => {
                let s = item_text(self.doc, it);
                let n = node_of(&v);
                match s {
                    Cow::Owned(o) => {
                        let t = self.clean(&o, n)?;
                        Some(if t.len() == o.len() { o } else { t.to_string() })
                    }
                    Cow::Borrowed(b) => self.clean(b, n).map(str::to_string),
                }
            }
        }
    }

    /// `s` trimmed, without a vendor prefix, and not a placeholder
    /// (reported, at `at` when known).
    fn clean<'s>(&mut self, s: &'s str, at: Option<NodeId>) -> Option<&'s str> {
        let s = trim(crate::convert::placeholder::strip_vendor_prefix(trim(s)));
        if s.is_empty() {
            return None;
        }
        if let Some(rule) = crate::convert::placeholder::is_placeholder(s) {
            let at = self.loc_of(at);
            self.findings.push(Finding {
                rule: "placeholder".into(),
                message: format!("placeholder value ({rule}){at} treated as absent"),
            });
            return None;
        }
        Some(s)
    }

    fn warn(&mut self, rule: &str, message: String) {
        self.findings.push(Finding {
            rule: rule.into(),
            message,
        });
    }

    fn loc_of(&self, v: Option<NodeId>) -> String {
        match v {
            Some(n) => {
                let (l, c) = self.doc.line_col(n);
                format!(" at {l}:{c}")
            }
            None => String::new(),
        }
    }
}

/// The source node a value comes from.
fn node_of(v: &Val) -> Option<NodeId> {
    match v {
        Val::Item(Item::Node(n)) | Val::Item(Item::Attr(n, _)) => Some(*n),
        Val::Str(_) => None,
    }
}

/// Evaluate `e` in context `ctx` with `$` bound to `dollar`.
pub fn eval(e: &Expr, env: &mut Env, ctx: NodeId, dollar: Option<&Val>, out: &mut Vec<Val>) {
    match e {
        Expr::Lit(s) => out.push(Val::Str(s.clone())),
        Expr::Dollar => {
            if let Some(d) = dollar {
                out.push(d.clone())
            }
        }
        Expr::Name(n, _) => out.push(Val::Str(n.clone())),
        Expr::Path(p) => {
            p.visit(env.doc, ctx, &mut |it| {
                out.push(Val::Item(it));
                true
            });
        }
        Expr::Union(v) => {
            for x in v {
                eval(x, env, ctx, dollar, out);
            }
        }
        Expr::Call(f, args, _) => call(*f, args, env, ctx, dollar, out),
    }
}

/// Texts of the values of `e`, each with the source node it came from.
fn texts(
    e: &Expr,
    env: &mut Env,
    ctx: NodeId,
    dollar: Option<&Val>,
) -> Vec<(String, Option<NodeId>)> {
    let mut vals = env.buf();
    eval(e, env, ctx, dollar, &mut vals);
    let mut out = Vec::with_capacity(vals.len());
    for v in vals.drain(..) {
        let n = node_of(&v);
        if let Some(t) = env.text_owned(v) {
            out.push((t, n));
        }
    }
    env.give(vals);
    out
}

/// The first of [`texts`]: the other values are still looked at (for
/// their findings) but not copied.
fn first_text(
    e: &Expr,
    env: &mut Env,
    ctx: NodeId,
    dollar: Option<&Val>,
) -> Option<(String, Option<NodeId>)> {
    let mut vals = env.buf();
    eval(e, env, ctx, dollar, &mut vals);
    let mut first = None;
    for v in vals.drain(..) {
        if first.is_none() {
            let n = node_of(&v);
            first = env.text_owned(v).map(|t| (t, n));
        } else {
            let _ = env.has_text(&v);
        }
    }
    env.give(vals);
    first
}

/// Whether [`texts`] would have any (every value is looked at, for its
/// findings; nothing is copied).
fn any_text(e: &Expr, env: &mut Env, ctx: NodeId, dollar: Option<&Val>) -> bool {
    let mut vals = env.buf();
    eval(e, env, ctx, dollar, &mut vals);
    let mut any = false;
    for v in &vals {
        any |= env.has_text(v);
    }
    env.give(vals);
    any
}

fn name_of(e: &Expr) -> &str {
    match e {
        Expr::Name(n, _) | Expr::Lit(n) => n,
        _ => "",
    }
}

fn call(
    f: Func,
    args: &[Expr],
    env: &mut Env,
    ctx: NodeId,
    dollar: Option<&Val>,
    out: &mut Vec<Val>,
) {
    use crate::convert::ts;
    match f {
        Func::Date | Func::DateTime | Func::Instant => {
            for (t, v) in texts(&args[0], env, ctx, dollar) {
                match ts::parse_ts(&t) {
                    Ok(parsed) => {
                        let r = match f {
                            Func::Date => Some((parsed.to_date(), None)),
                            Func::DateTime => Some(parsed.to_date_time()),
                            _ => parsed.to_instant(),
                        };
                        if let Some((s, adj)) = r {
                            warn_adjusted(env, v, adj);
                            out.push(Val::Str(s));
                        }
                    }
                    Err(e) => warn_unusable(env, v, &e),
                }
            }
        }
        Func::PeriodEnd => {
            // A period whose end lies before its start breaks FHIR per-1 and
            // would fail the whole message: the end is left out with a
            // warning (its value stays in the narrative rows).
            let start =
                first_text(&args[0], env, ctx, dollar).and_then(|(t, _)| ts::parse_ts(&t).ok());
            for (t, v) in texts(&args[1], env, ctx, dollar) {
                match ts::parse_ts(&t) {
                    Ok(end) => {
                        if start.as_ref().is_some_and(|s| !s.starts_not_after(&end)) {
                            let at = env.loc_of(v);
                            env.warn(
                                "period-end-before-start",
                                format!("period end before its start{at}; end omitted"),
                            );
                            continue;
                        }
                        let (s, adj) = end.to_date_time();
                        warn_adjusted(env, v, adj);
                        out.push(Val::Str(s));
                    }
                    Err(e) => warn_unusable(env, v, &e),
                }
            }
        }
        Func::Lookup => {
            let table = name_of(&args[0]);
            let col = args
                .get(2)
                .map(|c| name_of(c).parse::<usize>().unwrap_or(1))
                .unwrap_or(1);
            for (t, _) in texts(&args[1], env, ctx, dollar) {
                if let Some(row) = env.tables.get(table).and_then(|tb| tb.get(&t)) {
                    if let Some(v) = row.get(col.saturating_sub(1)) {
                        if !v.is_empty() {
                            out.push(Val::Str(v.clone()));
                        }
                    }
                }
            }
        }
        Func::Join | Func::Concat => {
            let (sep, rest) = if f == Func::Join {
                // The separator is taken verbatim (a space must stay a space).
                let s = match &args[0] {
                    Expr::Lit(l) => l.clone(),
                    other => first_text(other, env, ctx, dollar)
                        .map(|x| x.0)
                        .unwrap_or_default(),
                };
                (s, &args[1..])
            } else {
                (String::new(), args)
            };
            let mut parts = Vec::new();
            for a in rest {
                // A literal part is taken verbatim too (`concat("SDS user
                // id ", …)` keeps its space).
                if let Expr::Lit(l) = a {
                    parts.push(l.clone());
                    continue;
                }
                let v: Vec<String> = texts(a, env, ctx, dollar)
                    .into_iter()
                    .map(|x| x.0)
                    .collect();
                // concat() is all-or-nothing: a missing part makes the whole
                // value absent (a bare prefix is never a value); join()
                // skips missing parts.
                if v.is_empty() && f == Func::Concat {
                    return;
                }
                parts.extend(v);
            }
            if !parts.is_empty() {
                out.push(Val::Str(parts.join(&sep)));
            }
        }
        Func::First => {
            for a in args {
                if let Some((t, _)) = first_text(a, env, ctx, dollar) {
                    out.push(Val::Str(t));
                    return;
                }
            }
        }
        Func::One => {
            if let Some((t, _)) = first_text(&args[0], env, ctx, dollar) {
                out.push(Val::Str(t));
            }
        }
        Func::Upper | Func::Lower => {
            for (t, _) in texts(&args[0], env, ctx, dollar) {
                out.push(Val::Str(if f == Func::Upper {
                    t.to_uppercase()
                } else {
                    t.to_lowercase()
                }));
            }
        }
        Func::Ref | Func::Refs => {
            let key = name_of(&args[0]);
            if let Some(ids) = env.ids.get(key) {
                if f == Func::Refs {
                    let mut seen = std::collections::HashSet::new();
                    for id in ids {
                        if seen.insert(id) {
                            out.push(Val::Str(super::run::urn_uuid(id)));
                        }
                    }
                } else {
                    // Prefer the resource made from this context, then one
                    // made from an ancestor or descendant, then the first.
                    let ctxs = env.ctx_ids.get(key);
                    let pick = ctxs
                        .and_then(|c| c.iter().position(|&n| n == ctx))
                        .or_else(|| {
                            ctxs.and_then(|c| c.iter().position(|&n| related(env.doc, n, ctx)))
                        })
                        .unwrap_or(0);
                    if let Some(id) = ids.get(pick) {
                        out.push(Val::Str(super::run::urn_uuid(id)));
                    }
                }
            }
        }
        Func::Uuid => {
            for (t, _) in texts(&args[0], env, ctx, dollar) {
                if uuid::Uuid::parse_str(&t).is_ok() && t.len() == 36 {
                    out.push(Val::Str(t.to_lowercase()));
                } else {
                    out.push(Val::Str(super::run::uuid_string(uuid::Uuid::new_v5(
                        &env.uuid_ns,
                        t.as_bytes(),
                    ))));
                }
            }
        }
        Func::If => {
            if any_text(&args[0], env, ctx, dollar) {
                for (t, _) in texts(&args[1], env, ctx, dollar) {
                    out.push(Val::Str(t));
                }
            }
        }
        Func::Default => {
            let v = texts(&args[0], env, ctx, dollar);
            if v.is_empty() {
                if let Some((t, _)) = first_text(&args[1], env, ctx, dollar) {
                    let rule = name_of(&args[2]).to_string();
                    // When the value was a table lookup, name the table and
                    // where the source code it lacks is — not the code
                    // itself: it is document text, and a garbled or
                    // misplaced value can be patient data.
                    let why = match &args[0] {
                        Expr::Call(Func::Lookup, la, _) => {
                            let keys = texts(&la[1], env, ctx, dollar);
                            if keys.is_empty() {
                                "source value absent".to_string()
                            } else {
                                let at: Vec<String> =
                                    keys.iter().map(|(_, n)| env.loc_of(*n)).collect();
                                format!(
                                    "source code{} not in table {}",
                                    at.join(","),
                                    name_of(&la[0])
                                )
                            }
                        }
                        _ => "source value absent".to_string(),
                    };
                    env.warn(&rule, format!("{why}; default used ({rule})"));
                    out.push(Val::Str(t));
                }
            } else {
                out.extend(v.into_iter().map(|x| Val::Str(x.0)));
            }
        }
        Func::NhsNumber => {
            for (t, v) in texts(&args[0], env, ctx, dollar) {
                if !crate::convert::nhs::nhs_number_valid(&t) {
                    let at = env.loc_of(v);
                    env.warn(
                        "nhs-number-invalid",
                        format!(
                            "NHS number fails the length or Modulus 11 check{at}; kept as written"
                        ),
                    );
                }
                out.push(Val::Str(t));
            }
        }
        Func::Postcode => {
            for (t, v) in texts(&args[0], env, ctx, dollar) {
                let (p, ok) = crate::convert::nhs::normalise_postcode(&t);
                if !ok {
                    let at = env.loc_of(v);
                    env.warn(
                        "postcode-invalid",
                        format!("postcode does not match the UK pattern{at}; kept verbatim"),
                    );
                }
                out.push(Val::Str(p));
            }
        }
        Func::TelecomSystem | Func::TelecomValue => {
            // telecom-system(url, use): a pager (`@use` PG) is told by its use.
            let use_code = args
                .get(1)
                .and_then(|a| first_text(a, env, ctx, dollar))
                .map(|x| x.0);
            for (t, _) in texts(&args[0], env, ctx, dollar) {
                if let Some(tc) = crate::convert::text::telecom(&t, use_code.as_deref()) {
                    out.push(Val::Str(if f == Func::TelecomSystem {
                        tc.system.to_string()
                    } else {
                        tc.value
                    }));
                }
            }
        }
        Func::TelecomUse => {
            for (t, _) in texts(&args[0], env, ctx, dollar) {
                if let Some(tc) = crate::convert::text::telecom("tel:0", Some(&t)) {
                    if let Some(u) = tc.use_ {
                        out.push(Val::Str(u.to_string()));
                    }
                }
            }
        }
        Func::Gender => {
            for (t, _) in texts(&args[0], env, ctx, dollar) {
                let g = crate::convert::text::gender_from_nhs_sex(&t)
                    .or_else(|| crate::convert::text::gender_from_hl7(&t));
                if let Some(g) = g {
                    out.push(Val::Str(g.to_string()));
                }
            }
        }
        Func::NameUse => {
            let v = first_text(&args[0], env, ctx, dollar).map(|x| x.0);
            if let Some(u) = crate::convert::text::name_use(v.as_deref()) {
                out.push(Val::Str(u.to_string()));
            }
        }
        Func::AddressUse | Func::AddressType => {
            let v = first_text(&args[0], env, ctx, dollar).map(|x| x.0);
            let au = crate::convert::text::address_use(v.as_deref());
            let r = if f == Func::AddressUse {
                au.use_
            } else {
                au.type_
            };
            if let Some(u) = r {
                out.push(Val::Str(u.to_string()));
            }
        }
        Func::OidSystem | Func::CodeSystem => {
            let table = if f == Func::OidSystem {
                "identifier-roots"
            } else {
                "code-systems"
            };
            let doc = env.doc;
            let mut key = String::new();
            for (t, v) in texts(&args[0], env, ctx, dollar) {
                // Context: the local name of the identifier element's parent
                // (e.g. 2.16.840.1.113883.2.1.3.2.4.18.24/patientRole).
                let parent = v.and_then(|n| doc.parent(n)).map(|p| doc.local(p));
                let tb = env.tables.get(table);
                let row = parent
                    .and_then(|p| {
                        key.clear();
                        key.push_str(&t);
                        key.push('/');
                        key.push_str(p);
                        tb.and_then(|tb| tb.get(&key))
                    })
                    .or_else(|| tb.and_then(|tb| tb.get(&t)));
                let sys = match row {
                    Some(r) => r.first().cloned().unwrap_or_default(),
                    None if uuid::Uuid::parse_str(&t).is_ok() => tb
                        .and_then(|tb| tb.get("(uuid)"))
                        .and_then(|r| r.first().cloned())
                        .unwrap_or_else(|| "https://tools.ietf.org/html/rfc4122".into()),
                    None if t.chars().all(|c| c.is_ascii_digit() || c == '.') => tb
                        .and_then(|tb| tb.get("(other)"))
                        .and_then(|r| r.first().cloned())
                        .unwrap_or_else(|| "urn:oid:{oid}".into())
                        .replace("{oid}", &t),
                    None => String::new(),
                };
                if !sys.is_empty() && sys != "-" {
                    out.push(Val::Str(sys));
                }
            }
        }
        Func::Xhtml => {
            let mut vals = env.buf();
            eval(&args[0], env, ctx, dollar, &mut vals);
            let mut body = String::new();
            let mut stats = crate::narrative::Stats::default();
            for v in &vals {
                if let Val::Item(Item::Node(n)) = *v {
                    crate::narrative::cda_text_to_xhtml(env.doc, n, &mut body, &mut stats);
                }
            }
            env.give(vals);
            if !body.trim().is_empty() {
                const OPEN: &str = "<div xmlns=\"http://www.w3.org/1999/xhtml\">";
                let mut s = String::with_capacity(OPEN.len() + body.len() + 6);
                s.push_str(OPEN);
                s.push_str(&body);
                s.push_str("</div>");
                out.push(Val::Str(s));
            }
        }
        Func::Config => {
            let key = name_of(&args[0]);
            if let Some(v) = env
                .tables
                .get("deployment")
                .and_then(|t| t.get(key))
                .and_then(|r| r.first())
            {
                if !v.is_empty() {
                    out.push(Val::Str(v.clone()));
                }
            }
        }
        Func::Toc => {
            if let Some(v) = env.toc.get(name_of(&args[0])) {
                out.push(Val::Str(v.clone()));
            }
        }
        Func::DocumentId => out.push(Val::Str(env.document_id.to_string())),
        Func::Not => {
            if !any_text(&args[0], env, ctx, dollar) {
                out.push(Val::Str("true".into()));
            }
        }
        Func::RefText => {
            for (t, _) in texts(&args[0], env, ctx, dollar) {
                let id = t.trim_start_matches('#');
                if let Some(n) = anchor(env, id) {
                    let s = env.doc.string_value(n);
                    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
                    if !s.is_empty() {
                        out.push(Val::Str(s));
                    }
                }
            }
        }
        Func::Midnight => {
            for (t, _) in texts(&args[0], env, ctx, dollar) {
                if let Ok(parsed) = ts::parse_ts(&t) {
                    let mut d = parsed.to_date();
                    while d.len() < 10 {
                        d.push_str("-01");
                    }
                    let compact: String = d.chars().filter(|c| c.is_ascii_digit()).collect();
                    if let Ok(m) = ts::parse_ts(&format!("{compact}0000")) {
                        if let Some((s, _)) = m.to_instant() {
                            out.push(Val::Str(s));
                        }
                    }
                }
            }
        }
        Func::Base64 => {
            use base64::Engine as _;
            for (t, _) in texts(&args[0], env, ctx, dollar) {
                let compact: String = t.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                if !compact.is_empty()
                    && base64::engine::general_purpose::STANDARD
                        .decode(compact.as_bytes())
                        .is_ok()
                {
                    out.push(Val::Str(compact));
                }
            }
        }
        Func::Dmd => {
            for (t, _) in texts(&args[0], env, ctx, dollar) {
                if is_dmd(&t) {
                    out.push(Val::Str(t));
                }
            }
        }
    }
}

/// The element whose `ID` attribute is `id` (narrative anchors).
pub fn find_id(doc: &Document, id: &str) -> Option<NodeId> {
    if id.is_empty() {
        return None;
    }
    doc.descendant_elements(doc.root())
        .find(|&n| doc.attr(n, "ID") == Some(id))
}

/// [`find_id`] through the document's anchor index.
/// The ledger warning of a local time moved across a clock change.
fn warn_adjusted(env: &mut Env, v: Option<NodeId>, adj: Option<crate::convert::ts::Adjustment>) {
    if let Some(a) = adj {
        let at = env.loc_of(v);
        env.warn(
            a.rule(),
            format!("local time adjusted for a clock change{at}"),
        );
    }
}

/// The ledger warning of a timestamp that cannot be read (the field is left out).
fn warn_unusable(env: &mut Env, v: Option<NodeId>, e: &crate::convert::ts::TsError) {
    let at = env.loc_of(v);
    env.warn(
        "invalid-timestamp",
        format!("timestamp not usable ({}){at}; field omitted", e.rule()),
    );
}

fn anchor(env: &Env, id: &str) -> Option<NodeId> {
    if id.is_empty() {
        return None;
    }
    let doc = env.doc;
    env.anchors
        .get_or_init(|| {
            doc.descendant_elements(doc.root())
                .filter(|&n| doc.attr(n, "ID").is_some())
                .collect()
        })
        .iter()
        .copied()
        .find(|&n| doc.attr(n, "ID") == Some(id))
}

fn related(doc: &Document, a: NodeId, b: NodeId) -> bool {
    let anc = |x: NodeId, y: NodeId| {
        let mut cur = doc.parent(y);
        while let Some(p) = cur {
            if p == x {
                return true;
            }
            cur = doc.parent(p);
        }
        false
    };
    anc(a, b) || anc(b, a)
}

/// A SNOMED CT id in the UK drug extension namespace (1000001) with
/// partition 10 (concept): crosswalk R34.
pub fn is_dmd(s: &str) -> bool {
    s.len() > 10 && s.bytes().all(|b| b.is_ascii_digit()) && s[..s.len() - 1].ends_with("100000110")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dmd_namespace() {
        assert!(is_dmd("605911000001102"));
        assert!(is_dmd("360311000001104"));
        assert!(!is_dmd("395889004"));
        assert!(!is_dmd("163391000000107"));
    }
}
