//! Running a compiled [`Plan`] over one parsed document: instantiate the
//! resources (ids first, so references can point forward), execute their
//! bodies, build the Composition sections, and assemble the two bundles.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::compile::{Guard, Mode, Plan, ResPlan, Seg, Stmt};
use super::expr::{self, Env, Finding, Val};
use super::json::{self, J};
use super::path::Item;
use super::sections;
use crate::convert::table::Table;
use crate::fhir::defs::{defs, FastMap, FastSet};
use crate::xml::{Document, NodeId};

/// The project's UUIDv5 namespace (a fixed, arbitrary UUID).
pub const PROJECT_NS: uuid::Uuid = uuid::Uuid::from_u128(0x6c1f_2b0e_8d8a_4e1b_9a47_5b3e_2f6d_0c91);

const RFC4122: &str = "https://tools.ietf.org/html/rfc4122";

/// What converting one document produced.
#[derive(Debug)]
pub struct Output {
    /// The ITK3 message bundle.
    pub bundle: serde_json::Value,
    /// Data findings (ledger warnings).
    pub findings: Vec<Finding>,
    /// Source sections routed, by how (code, title, template, inherit, catch-all).
    pub coverage: sections::Coverage,
    /// Composition.identifier value (the source document id), for duplicate detection.
    pub document_id: String,
    /// First 16 bytes of the SHA-256 of the document's bytes.
    pub content_hash: [u8; 16],
}

/// Why a document could not be converted.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{rule}: {message}")]
pub struct RunError {
    /// Rule id.
    pub rule: &'static str,
    /// Message (no patient data).
    pub message: String,
    /// Position in the source, if known.
    pub line_col: Option<(u32, u32)>,
    /// The document is deliberately not converted (`skipped` in the
    /// ledger, not `failed`): e.g. an unstructured PDF body (crosswalk R7).
    pub skip: bool,
}

struct Instance {
    plan: usize,
    ctx: NodeId,
    id: String,
}

/// Convert one document.
pub fn run(
    plan: &Plan,
    tables: &HashMap<String, Table>,
    doc: &Document,
    bytes: &[u8],
) -> Result<Output, RunError> {
    let mut content_hash = [0u8; 16];
    content_hash.copy_from_slice(&Sha256::digest(bytes)[..16]);
    let hash = hex(&content_hash);
    // Source document id: ClinicalDocument/id/@root (+ @extension).
    let root = doc.root();
    let mut findings = Vec::new();
    let mut id_el = doc.child(root, crate::xml::NS_HL7, "id");
    // Legacy Generic CDA puts the typeId values (2.16.840.1.113883.1.3 /
    // POCD_HD000040) in `id` (legacy-inputs §9): the set id is then the
    // only document-level identifier.
    if id_el.and_then(|n| doc.attr(n, "root")).map(str::trim) == Some("2.16.840.1.113883.1.3") {
        if let Some(set) = doc
            .child(root, crate::xml::NS_HL7, "setId")
            .filter(|&s| doc.attr(s, "root").is_some())
        {
            let (l, c) = doc.line_col(set);
            findings.push(Finding {
                rule: "legacy-document-id".into(),
                message: format!("document id holds the typeId values; the setId at {l}:{c} identifies the document"),
            });
            id_el = Some(set);
        }
    }
    let src_root = id_el
        .and_then(|n| doc.attr(n, "root"))
        .map(str::trim)
        .unwrap_or("");
    let src_ext = id_el
        .and_then(|n| doc.attr(n, "extension"))
        .map(str::trim)
        .unwrap_or("");
    let document_id = if !src_root.is_empty()
        && src_ext.is_empty()
        && uuid::Uuid::parse_str(src_root).is_ok()
    {
        src_root.to_lowercase()
    } else if !src_root.is_empty() {
        uuid::Uuid::new_v5(&PROJECT_NS, format!("{src_root}|{src_ext}").as_bytes()).to_string()
    } else if let Some(set) = doc
        .child(root, crate::xml::NS_HL7, "setId")
        .and_then(|n| doc.attr(n, "root"))
        .map(str::trim)
        .filter(|r| uuid::Uuid::parse_str(r).is_ok())
    {
        findings.push(Finding {
            rule: "document-id-missing".into(),
            message: "the document has no usable id/@root; its setId identifies it".into(),
        });
        set.to_lowercase()
    } else {
        // Still identifiable by content: a name-based UUID of the bytes.
        findings.push(Finding {
                rule: "document-id-missing".into(),
                message: "the document has no usable id/@root or setId; its identifier is derived from its content".into(),
            });
        uuid::Uuid::new_v5(&PROJECT_NS, format!("content/{hash}").as_bytes()).to_string()
    };
    let uuid_ns = uuid::Uuid::new_v5(&PROJECT_NS, format!("doc/{document_id}/{hash}").as_bytes());
    let mint = |name: &str| uuid_string(uuid::Uuid::new_v5(&uuid_ns, name.as_bytes()));

    let toc = plan.toc.constants();
    let anchors = std::cell::OnceCell::new();
    let mut bufs: Vec<Vec<Val>> = Vec::new();
    let mut ids: FastMap<String, Vec<String>> = FastMap::default();
    let mut ctx_of: FastMap<String, Vec<NodeId>> = FastMap::default();
    // The expression environment over this document's state (one place
    // that lists what expressions can see).
    macro_rules! here_env {
        () => {
            Env {
                doc,
                tables,
                ids: &ids,
                findings: &mut findings,
                uuid_ns,
                ctx_ids: &ctx_of,
                toc: &toc,
                document_id: &document_id,
                anchors: &anchors,
                bufs: &mut bufs,
            }
        };
    }
    let doc_bundle_id = mint("bundle/document");
    ids.insert("document".into(), vec![doc_bundle_id.clone()]);

    // Phase 1: instances and ids.
    let mut instances: Vec<Instance> = Vec::new();
    let mut seen: FastSet<String> = FastSet::default();
    // Identity keys as `scope/key` (the string the id is minted from).
    let mut by_identity: FastMap<String, String> = FastMap::default();
    for (pi, rp) in plan.resources.iter().enumerate() {
        let ctxs = {
            let mut env = here_env!();
            contexts(rp, &mut env)
        };
        for ctx in ctxs {
            // Identity: every value of the expression is a key of this
            // resource; two instances of one type sharing any key are one
            // resource (e.g. the same clinician known by SDS user id in one
            // place and by role-profile id in another).
            let scope = &rp.scope;
            let keys: Vec<String> = match rp.identity.as_ref() {
                Some(e) => {
                    let mut env = here_env!();
                    let mut v = env.buf();
                    expr::eval(e, &mut env, ctx, None, &mut v);
                    let mut k: Vec<String> = Vec::new();
                    for x in v.drain(..) {
                        if let Some(t) = env.text_owned(x) {
                            let sk = format!("{scope}/{t}");
                            if !k.contains(&sk) {
                                k.push(sk);
                            }
                        }
                    }
                    env.give(v);
                    k
                }
                None => Vec::new(),
            };
            let known = keys.iter().find_map(|k| by_identity.get(k).cloned());
            let id = match (known, keys.first()) {
                (Some(id), _) => id,
                (None, Some(first)) => mint(first),
                // The element's byte offset: stable for the same bytes, whatever
                // the tree's internal numbering.
                (None, None) => mint(&format!("key/{}/{}", rp.key, doc.node(ctx).pos)),
            };
            for k in keys {
                by_identity.entry(k).or_insert_with(|| id.clone());
            }
            push_keyed(&mut ids, &rp.key, id.clone());
            push_keyed(&mut ctx_of, &rp.key, ctx);
            if seen.insert(id.clone()) {
                instances.push(Instance { plan: pi, ctx, id });
            }
        }
    }
    // Phase 2: bodies.
    let ord = orders();
    let mut built: Vec<(usize, String, J)> = Vec::with_capacity(instances.len());
    for inst in instances {
        let rp = &plan.resources[inst.plan];
        // resourceType, id, meta and room for the body's properties.
        let mut obj = json::resource_with_capacity(&rp.ty, rp.body.len() + 3);
        obj.set(rp.id_order, "id", J::Str(inst.id.clone()));
        if let Some(p) = &rp.profile {
            let mut meta = J::obj();
            meta.set(ord.meta_profile, "profile", J::Arr(vec![J::Str(p.clone())]));
            obj.set(rp.meta_order, "meta", meta);
        }
        let mut env = here_env!();
        exec(&rp.body, &mut obj, &mut env, inst.ctx, None);
        built.push((inst.plan, inst.id, obj));
    }

    // Sections of the Composition.
    let comp_idx = built
        .iter()
        .position(|(pi, _, _)| {
            plan.resources[*pi].ty == "Composition" && !plan.resources[*pi].outer
        })
        .ok_or(RunError {
            rule: "composition-missing",
            message: "the map created no Composition".into(),
            line_col: None,
            skip: false,
        })?;
    let (secs, coverage) = {
        let mut env = here_env!();
        sections::build(plan, &mut env)?
    };
    {
        let comp = &mut built[comp_idx].2;
        comp.set(ord.comp_section, "section", J::Arr(secs));
    }

    // Assemble: document bundle (Composition first), then message bundle.
    let entry = |id: &str, res: J| -> J {
        J::Obj(vec![
            (1, "fullUrl".into(), J::Str(urn_uuid(id))),
            (2, "resource".into(), res),
        ])
    };
    let mut doc_entries = Vec::new();
    let mut outer_entries = Vec::new();
    let mut header = None;
    let mut comp = None;
    for (i, (pi, id, obj)) in built.into_iter().enumerate() {
        let rp: &ResPlan = &plan.resources[pi];
        if rp.outer {
            if rp.ty == "MessageHeader" && header.is_none() {
                header = Some(entry(&id, obj));
            } else {
                outer_entries.push(entry(&id, obj));
            }
        } else if i == comp_idx {
            comp = Some(entry(&id, obj));
        } else {
            doc_entries.push(entry(&id, obj));
        }
    }
    let comp = comp.ok_or(RunError {
        rule: "composition-missing",
        message: "no Composition".into(),
        line_col: None,
        skip: false,
    })?;
    let header = header.ok_or(RunError {
        rule: "message-header-missing",
        message: "the map created no MessageHeader".into(),
        line_col: None,
        skip: false,
    })?;
    doc_entries.insert(0, comp);
    let bundle = |id: &str, profile: &str, ident: String, ty: &str, entries: Vec<J>| -> J {
        let o = &ord.bundle;
        let mut b = json::resource("Bundle");
        b.set(o[0], "id", J::Str(id.into()));
        b.set(
            o[1],
            "meta",
            J::Obj(vec![(
                5,
                "profile".into(),
                J::Arr(vec![J::Str(profile.into())]),
            )]),
        );
        b.set(
            o[2],
            "identifier",
            J::Obj(vec![
                (4, "system".into(), J::Str(RFC4122.into())),
                (5, "value".into(), J::Str(ident)),
            ]),
        );
        b.set(o[3], "type", J::Str(ty.into()));
        b.set(o[4], "entry", J::Arr(entries));
        b
    };
    let doc_bundle = bundle(
        &doc_bundle_id,
        "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Document-Bundle-1",
        mint("identifier/document"),
        "document",
        doc_entries,
    );
    let mut outer = vec![header];
    outer.extend(outer_entries);
    outer.push(entry(&doc_bundle_id, doc_bundle));
    let msg = bundle(
        &mint("bundle/message"),
        "https://fhir.nhs.uk/STU3/StructureDefinition/ITK-Message-Bundle-1",
        mint("identifier/message"),
        "message",
        outer,
    );
    Ok(Output {
        bundle: msg.into_value(),
        findings,
        coverage,
        document_id,
        content_hash,
    })
}

/// Append `v` to the list under `key` (the key is copied only when new).
fn push_keyed<T>(m: &mut FastMap<String, Vec<T>>, key: &str, v: T) {
    match m.get_mut(key) {
        Some(list) => list.push(v),
        None => {
            m.insert(key.to_string(), vec![v]);
        }
    }
}

/// `urn:uuid:` and `id` (what `format!("urn:uuid:{id}")` gives).
pub fn urn_uuid(id: &str) -> String {
    let mut s = String::with_capacity(9 + id.len());
    s.push_str("urn:uuid:");
    s.push_str(id);
    s
}

/// A UUID as lower-case hyphenated text (its `to_string()`).
pub fn uuid_string(u: uuid::Uuid) -> String {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    u.hyphenated().encode_lower(&mut buf).to_owned()
}

fn hex(b: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(DIGITS[(x >> 4) as usize] as char);
        s.push(DIGITS[(x & 15) as usize] as char);
    }
    s
}

/// FHIR property orders the runtime sets itself, looked up once.
struct Orders {
    meta_profile: i32,
    comp_section: i32,
    /// Bundle id, meta, identifier, type, entry.
    bundle: [i32; 5],
}

fn orders() -> &'static Orders {
    static O: std::sync::OnceLock<Orders> = std::sync::OnceLock::new();
    O.get_or_init(|| {
        let d = defs();
        let b = |n: &str| d.order_of("Bundle", n).unwrap_or(50) as i32;
        Orders {
            meta_profile: d.order_of("Meta", "profile").unwrap_or(4) as i32 * 2,
            comp_section: d.order_of("Composition", "section").unwrap_or(90) as i32 * 2,
            bundle: [b("id"), b("meta"), b("identifier"), b("type"), b("entry")],
        }
    })
}

fn contexts(rp: &ResPlan, env: &mut Env) -> Vec<NodeId> {
    let root = env.doc.root();
    let raw: Vec<NodeId> = match &rp.mode {
        Mode::Once => vec![root],
        Mode::If(e) => first_node(e, env, root, None).into_iter().collect(),
        Mode::Each(p) => {
            let mut v = Vec::new();
            p.eval(env.doc, root, &mut v);
            let mut out: Vec<NodeId> = v
                .into_iter()
                .map(|i| match i {
                    Item::Node(n) | Item::Attr(n, _) => n,
                })
                .collect();
            out.dedup();
            out
        }
        Mode::When(e) | Mode::For(e) => {
            let mut v = env.buf();
            expr::eval(e, env, root, None, &mut v);
            let any = v.iter().any(|x| env.has_text(x));
            env.give(v);
            if any {
                vec![root]
            } else {
                vec![]
            }
        }
    };
    raw.into_iter()
        .filter(|&n| guard_ok(rp.guard.as_ref(), env, n, None))
        .collect()
}

fn first_node(e: &expr::Expr, env: &mut Env, ctx: NodeId, dollar: Option<&Val>) -> Option<NodeId> {
    let mut v = env.buf();
    expr::eval(e, env, ctx, dollar, &mut v);
    let n = v.iter().find_map(|x| match *x {
        Val::Item(Item::Node(n)) | Val::Item(Item::Attr(n, _)) => Some(n),
        Val::Str(_) => None,
    });
    env.give(v);
    n
}

fn guard_ok(g: Option<&Guard>, env: &mut Env, ctx: NodeId, dollar: Option<&Val>) -> bool {
    let Some(g) = g else { return true };
    let mut v = env.buf();
    expr::eval(&g.expr, env, ctx, dollar, &mut v);
    let has = v.iter().any(|x| env.has_text(x));
    env.give(v);
    has == g.positive
}

/// Execute statements into `obj` (an object under construction).
pub fn exec(stmts: &[Stmt], obj: &mut J, env: &mut Env, ctx: NodeId, dollar: Option<&Val>) {
    // Buffers shared by this body's assignments.
    let mut vals: Vec<Val> = env.buf();
    let mut texts: Vec<String> = Vec::new();
    for s in stmts {
        match s {
            Stmt::Assign {
                target, expr: e, ..
            } => {
                vals.clear();
                texts.clear();
                expr::eval(e, env, ctx, dollar, &mut vals);
                let last = &target[target.len() - 1];
                // Every value's text first (placeholder findings), then the
                // typing of those kept (typing findings).
                if !last.many {
                    // Only the first text is kept; the others are still
                    // looked at for their findings.
                    let mut first: Option<String> = None;
                    for v in vals.drain(..) {
                        if first.is_none() {
                            first = env.text_owned(v);
                        } else {
                            let _ = env.has_text(&v);
                        }
                    }
                    let Some(t) = first else { continue };
                    let Some(j) = typed(&last.ty, t, env) else {
                        continue;
                    };
                    let parent = navigate(obj, &target[..target.len() - 1]);
                    if parent.get_mut(&last.name).is_none() {
                        parent.add(last.order, &last.name, j);
                    }
                    continue;
                }
                for v in vals.drain(..) {
                    if let Some(t) = env.text_owned(v) {
                        texts.push(t);
                    }
                }
                if texts.is_empty() {
                    continue;
                }
                let prims: Vec<J> = texts
                    .drain(..)
                    .filter_map(|t| typed(&last.ty, t, env))
                    .collect();
                if prims.is_empty() {
                    continue;
                }
                let parent = navigate(obj, &target[..target.len() - 1]);
                attach(parent, last, prims, false);
            }
            Stmt::Block {
                target,
                mode,
                guard,
                body,
                ..
            } => {
                let mut made = Vec::new();
                let g = guard.as_ref();
                match mode {
                    Mode::Once => {
                        if guard_ok(g, env, ctx, dollar) {
                            made.push(build(body, env, ctx, dollar))
                        }
                    }
                    Mode::If(e) => {
                        if let Some(n) = first_node(e, env, ctx, dollar) {
                            if guard_ok(g, env, n, dollar) {
                                made.push(build(body, env, n, dollar));
                            }
                        }
                    }
                    Mode::Each(p) => {
                        let mut items = Vec::new();
                        p.eval(env.doc, ctx, &mut items);
                        for it in items {
                            if let Item::Node(n) = it {
                                if guard_ok(g, env, n, dollar) {
                                    made.push(build(body, env, n, dollar));
                                }
                            }
                        }
                    }
                    Mode::For(e) => {
                        let mut fv = env.buf();
                        expr::eval(e, env, ctx, dollar, &mut fv);
                        for v in &fv {
                            if env.has_text(v) && guard_ok(g, env, ctx, Some(v)) {
                                made.push(build(body, env, ctx, Some(v)));
                            }
                        }
                        env.give(fv);
                    }
                    Mode::When(e) => {
                        let mut wv = env.buf();
                        expr::eval(e, env, ctx, dollar, &mut wv);
                        let any = wv.iter().any(|v| env.has_text(v));
                        env.give(wv);
                        if any && guard_ok(g, env, ctx, dollar) {
                            made.push(build(body, env, ctx, dollar));
                        }
                    }
                }
                made.retain(|m| !m.is_empty());
                if made.is_empty() {
                    continue;
                }
                let last = &target[target.len() - 1];
                let parent = navigate(obj, &target[..target.len() - 1]);
                attach(parent, last, made, true);
            }
        }
    }
    env.give(vals);
}

fn build(body: &[Stmt], env: &mut Env, ctx: NodeId, dollar: Option<&Val>) -> J {
    let mut o = J::Obj(Vec::with_capacity(body.len()));
    exec(body, &mut o, env, ctx, dollar);
    o
}

fn typed(ty: &str, t: String, env: &mut Env) -> Option<J> {
    match ty {
        "boolean" => match t.as_str() {
            "true" | "false" => Some(J::Raw(t)),
            _ => {
                env.findings.push(Finding {
                    rule: "bad-boolean".into(),
                    message: "a boolean value was neither true nor false; omitted".into(),
                });
                None
            }
        },
        "integer" | "positiveInt" | "unsignedInt" | "decimal" => {
            if t.parse::<serde_json::Number>().is_ok() && !t.starts_with('+') && !t.starts_with('.')
            {
                Some(J::Raw(t))
            } else {
                env.findings.push(Finding {
                    rule: "bad-number".into(),
                    message: format!("a {ty} value is not a number; omitted"),
                });
                None
            }
        }
        _ => Some(J::Str(t)),
    }
}

/// Walk (creating as needed) to the object that holds the last segment.
fn navigate<'o>(obj: &'o mut J, segs: &[Seg]) -> &'o mut J {
    let Some((first, rest)) = segs.split_first() else {
        return obj;
    };
    if obj.get_mut(&first.name).is_none() {
        let v = if first.many {
            J::Arr(vec![J::obj()])
        } else {
            J::obj()
        };
        obj.set(first.order, &first.name, v);
    }
    let J::Obj(fields) = obj else {
        return obj;
    };
    let idx = fields.iter().position(|f| f.1 == first.name).unwrap_or(0);
    match &mut fields[idx].2 {
        J::Arr(v) => {
            if v.is_empty() {
                v.push(J::obj());
            }
            let n = v.len() - 1;
            navigate(&mut v[n], rest)
        }
        o => navigate(o, rest),
    }
}

fn attach(parent: &mut J, seg: &Seg, vals: Vec<J>, blocks: bool) {
    if seg.many {
        match parent.get_mut(&seg.name) {
            Some(J::Arr(v)) => {
                // An intermediate created by navigate() may have left an
                // empty placeholder object at the end.
                if blocks {
                    v.retain(|x| !x.is_empty());
                }
                v.extend(vals)
            }
            _ => parent.set(seg.order, &seg.name, J::Arr(vals)),
        }
    } else if parent.get_mut(&seg.name).is_none() {
        if let Some(v) = vals.into_iter().next() {
            parent.set(seg.order, &seg.name, v);
        }
    } else if blocks {
        // Merge a second block into an existing single object: fields not
        // yet present are added.
        if let (Some(J::Obj(existing)), Some(J::Obj(newf))) =
            (parent.get_mut(&seg.name), vals.into_iter().next())
        {
            for f in newf {
                if !existing.iter().any(|e| e.1 == f.1) {
                    existing.push(f);
                }
            }
        }
    }
}
