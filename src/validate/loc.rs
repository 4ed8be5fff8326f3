//! FHIRPath locations built lazily: a chain of segments on the stack that is
//! rendered to text only when an issue is reported (validation walks every
//! element; formatting every path up front was a third of its cost).

use std::fmt;

#[derive(Clone, Copy)]
enum Seg<'p> {
    /// A rendered prefix (`Bundle`, or a stored entry location).
    Root(&'p str),
    /// `.name` or `.name[i]`.
    Name(&'p str, Option<usize>),
}

/// A location: a segment and its parent.
#[derive(Clone, Copy)]
pub(crate) struct Loc<'p> {
    parent: Option<&'p Loc<'p>>,
    seg: Seg<'p>,
}

impl<'p> Loc<'p> {
    /// A root location (`Bundle`) or any rendered prefix.
    pub fn root(s: &'p str) -> Self {
        Loc {
            parent: None,
            seg: Seg::Root(s),
        }
    }

    /// `self.name`, or `self.name[i]` for a repeating element.
    pub fn at<'q>(&'q self, name: &'q str, index: Option<usize>) -> Loc<'q> {
        Loc {
            parent: Some(self),
            seg: Seg::Name(name, index),
        }
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = self.parent {
            p.write(f)?;
        }
        match self.seg {
            Seg::Root(s) => f.write_str(s),
            Seg::Name(n, None) => write!(f, ".{n}"),
            Seg::Name(n, Some(i)) => write!(f, ".{n}[{i}]"),
        }
    }
}

impl fmt::Display for Loc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f)
    }
}

impl From<&Loc<'_>> for String {
    fn from(l: &Loc<'_>) -> String {
        l.to_string()
    }
}

impl From<Loc<'_>> for String {
    fn from(l: Loc<'_>) -> String {
        l.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_fhirpath() {
        let b = Loc::root("Bundle");
        let e = b.at("entry", Some(3));
        let r = e.at("resource", None);
        let t = r.at("title", None);
        assert_eq!(t.to_string(), "Bundle.entry[3].resource.title");
        assert_eq!(String::from(&Loc::root("X.y[0]").at("z", None)), "X.y[0].z");
    }
}
