//! Mutants of a clean bundle (testdata/validate/mutants/mutants.json): the
//! file's records and the JSON Pointer operations that apply them. Shared by
//! tests/validate_mutants.rs (expected issues) and tests/validate_parity.rs
//! (issues unchanged by optimisation).
#![allow(dead_code)]

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{Map, Value};

/// The crate root (test data paths are relative to it).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A JSON file, or a panic naming it.
pub fn load_json(path: &PathBuf) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mutant {
    pub id: String,
    pub base: String,
    pub family: String,
    pub why: String,
    pub ops: Vec<Op>,
    pub expect: Expect,
    #[serde(default)]
    pub json_only: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Op {
    pub op: String,
    pub path: String,
    /// Present (possibly `null`) or absent.
    #[serde(default, deserialize_with = "present")]
    pub value: Option<Value>,
    #[serde(default)]
    pub to: Option<String>,
}

/// `Some(value)` for a member that is present, even when it is `null`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub severity: String,
    pub location: String,
    #[serde(default)]
    pub rule: Option<String>,
}

// ------------------------------------------------------------ JSON Pointer ops

/// Decode one JSON Pointer reference token.
fn token(t: &str) -> String {
    t.replace("~1", "/").replace("~0", "~")
}

/// Split a pointer into (parent tokens, last token).
fn split(path: &str) -> Result<(Vec<String>, String), String> {
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| format!("'{path}' is not a JSON Pointer (must start with '/')"))?;
    let mut toks: Vec<String> = rest.split('/').map(token).collect();
    let last = toks.pop().expect("split yields at least one token");
    Ok((toks, last))
}

fn parent_mut<'v>(
    doc: &'v mut Value,
    toks: &[String],
    path: &str,
) -> Result<&'v mut Value, String> {
    let mut cur = doc;
    for t in toks {
        cur = match cur {
            Value::Object(m) => m
                .get_mut(t)
                .ok_or_else(|| format!("{path}: no member '{t}'"))?,
            Value::Array(a) => {
                let i: usize = t
                    .parse()
                    .map_err(|_| format!("{path}: '{t}' is not an array index"))?;
                let n = a.len();
                a.get_mut(i)
                    .ok_or_else(|| format!("{path}: index {i} out of range (length {n})"))?
            }
            _ => return Err(format!("{path}: '{t}' goes into a primitive")),
        };
    }
    Ok(cur)
}

fn index(t: &str, len: usize, path: &str, allow_end: bool) -> Result<usize, String> {
    if allow_end && t == "-" {
        return Ok(len);
    }
    let i: usize = t
        .parse()
        .map_err(|_| format!("{path}: '{t}' is not an array index"))?;
    let max = if allow_end {
        len
    } else {
        len.saturating_sub(1)
    };
    if i > max || (!allow_end && len == 0) {
        return Err(format!("{path}: index {i} out of range (length {len})"));
    }
    Ok(i)
}

/// Apply one op. `set` replaces an existing member / array item or adds a
/// new object member; `insert` inserts into an array (`-` appends) or adds
/// an object member that must not exist yet; `remove` removes an existing
/// member / item; `rename` renames an object member in place.
pub fn apply(doc: &mut Value, op: &Op) -> Result<(), String> {
    let (toks, last) = split(&op.path)?;
    let path = op.path.as_str();
    let parent = parent_mut(doc, &toks, path)?;
    let value = || {
        op.value
            .clone()
            .ok_or_else(|| format!("{path}: '{}' needs a value", op.op))
    };
    match (op.op.as_str(), parent) {
        ("set", Value::Object(m)) => {
            m.insert(last, value()?);
        }
        ("set", Value::Array(a)) => {
            let i = index(&last, a.len(), path, false)?;
            a[i] = value()?;
        }
        ("insert", Value::Object(m)) => {
            if m.contains_key(&last) {
                return Err(format!("{path}: member '{last}' exists (use set)"));
            }
            m.insert(last, value()?);
        }
        ("insert", Value::Array(a)) => {
            let i = index(&last, a.len(), path, true)?;
            a.insert(i, value()?);
        }
        ("remove", Value::Object(m)) => {
            if m.shift_remove(&last).is_none() {
                return Err(format!("{path}: no member '{last}' to remove"));
            }
        }
        ("remove", Value::Array(a)) => {
            let i = index(&last, a.len(), path, false)?;
            a.remove(i);
        }
        ("rename", Value::Object(m)) => {
            let to = op
                .to
                .clone()
                .ok_or_else(|| format!("{path}: 'rename' needs 'to'"))?;
            if !m.contains_key(&last) {
                return Err(format!("{path}: no member '{last}' to rename"));
            }
            if m.contains_key(&to) {
                return Err(format!("{path}: member '{to}' exists already"));
            }
            let old = std::mem::take(m);
            let mut renamed = Map::new();
            for (k, v) in old {
                if k == last {
                    renamed.insert(to.clone(), v);
                } else {
                    renamed.insert(k, v);
                }
            }
            *m = renamed;
        }
        (o, p) => {
            return Err(format!(
                "{path}: op '{o}' cannot apply to a {} parent",
                match p {
                    Value::Object(_) => "object",
                    Value::Array(_) => "array",
                    _ => "primitive",
                }
            ))
        }
    }
    Ok(())
}

pub fn mutate(base: &Value, m: &Mutant) -> Result<Value, String> {
    let mut doc = base.clone();
    for op in &m.ops {
        apply(&mut doc, op)?;
    }
    if &doc == base {
        return Err("the ops leave the base unchanged".into());
    }
    Ok(doc)
}
