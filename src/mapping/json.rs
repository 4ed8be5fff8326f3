//! The output tree built by the mapping runtime: objects keep the FHIR
//! order number of each property so serialisation follows FHIR order no
//! matter in which order the mapping assigned them.

use serde_json::{Map, Number, Value};

/// A JSON node under construction.
#[derive(Debug, Clone)]
pub enum J {
    /// Object: (order, name, value).
    Obj(Vec<(i32, String, J)>),
    /// Array.
    Arr(Vec<J>),
    /// String.
    Str(String),
    /// Number or boolean, as its literal text.
    Raw(String),
}

impl J {
    /// New empty object.
    pub fn obj() -> J {
        J::Obj(Vec::new())
    }

    /// True for an object or array with nothing in it.
    pub fn is_empty(&self) -> bool {
        match self {
            J::Obj(v) => v.is_empty(),
            J::Arr(v) => v.is_empty(),
            J::Str(s) => s.is_empty(),
            J::Raw(_) => false,
        }
    }

    /// Set or replace a property.
    pub fn set(&mut self, order: i32, name: &str, v: J) {
        if let J::Obj(fields) = self {
            if let Some(f) = fields.iter_mut().find(|f| f.1 == name) {
                f.2 = v;
            } else {
                fields.push((order, name.to_string(), v));
            }
        }
    }

    /// Add a property known to be absent.
    pub fn add(&mut self, order: i32, name: &str, v: J) {
        if let J::Obj(fields) = self {
            fields.push((order, name.to_string(), v));
        }
    }

    /// Get a property.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut J> {
        match self {
            J::Obj(fields) => fields.iter_mut().find(|f| f.1 == name).map(|f| &mut f.2),
            _ => None,
        }
    }

    /// Convert into a serde_json value, properties sorted by FHIR order
    /// (stable for equal orders), empty objects and arrays removed.
    pub fn into_value(self) -> Value {
        match self {
            J::Str(s) => Value::String(s),
            J::Raw(r) => match r.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => match r.parse::<Number>() {
                    Ok(n) => Value::Number(n),
                    Err(_) => Value::String(r),
                },
            },
            J::Arr(v) => {
                // Not an in-place collect: a Value is larger than a J, so
                // that would reallocate every array.
                let mut out = Vec::with_capacity(v.len());
                for x in v {
                    if x.is_empty() {
                        continue;
                    }
                    let x = x.into_value();
                    if !is_empty_value(&x) {
                        out.push(x);
                    }
                }
                Value::Array(out)
            }
            J::Obj(mut fields) => {
                fields.sort_by_key(|f| f.0);
                let mut m = Map::with_capacity(fields.len());
                for (_, k, v) in fields {
                    let v = v.into_value();
                    if !is_empty_value(&v) {
                        m.insert(k, v);
                    }
                }
                Value::Object(m)
            }
        }
    }
}

fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::String(s) => s.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

/// A resource object with `resourceType` first.
pub fn resource(ty: &str) -> J {
    resource_with_capacity(ty, 1)
}

/// [`resource`] with room for `n` properties.
pub fn resource_with_capacity(ty: &str, n: usize) -> J {
    let mut v = Vec::with_capacity(n.max(1));
    v.push((-100, "resourceType".into(), J::Str(ty.into())));
    J::Obj(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_pruned() {
        let mut o = resource("Patient");
        o.set(20, "name", J::Arr(vec![J::obj()]));
        o.set(5, "id", J::Str("x".into()));
        o.set(9, "active", J::Raw("true".into()));
        o.set(10, "n", J::Raw("1.50".into()));
        let s = serde_json::to_string(&o.into_value()).unwrap();
        assert_eq!(
            s,
            r#"{"resourceType":"Patient","id":"x","active":true,"n":1.50}"#
        );
    }
}
