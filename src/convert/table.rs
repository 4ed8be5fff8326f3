//! Loader for the lookup tables in `mappings/tables/*.tsv`.
//!
//! Format: UTF-8 text, one row per line, fields separated by TAB. Lines
//! starting with `#` are comments (each table's header says what it is and
//! where it comes from); blank lines are ignored. The first field is the
//! key; every row must have the same number of fields (at least two); keys
//! must be unique and non-empty. Other fields may be empty. A trailing `\r`
//! is ignored.

/// A table that failed to parse; `line` and `col` are 1-based (`col` counts
/// TAB-separated fields).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("table {table}: line {line}, column {col}: {message}")]
pub struct TableError {
    pub table: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// A keyed lookup table.
#[derive(Debug, Clone, Default)]
pub struct Table {
    name: String,
    width: usize,
    rows: crate::fhir::defs::FastMap<String, Vec<String>>,
}

impl Table {
    /// Parse table text; `name` is used in error messages.
    pub fn parse(name: &str, text: &str) -> Result<Table, TableError> {
        let err = |line: usize, col: usize, message: String| TableError {
            table: name.to_string(),
            line,
            col,
            message,
        };
        let mut width = 0usize;
        let mut rows = crate::fhir::defs::FastMap::default();
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() < 2 {
                return Err(err(
                    line_no,
                    1,
                    "expected a key and at least one value separated by TAB".into(),
                ));
            }
            if width == 0 {
                width = fields.len();
            } else if fields.len() != width {
                return Err(err(
                    line_no,
                    fields.len().min(width) + 1,
                    format!("expected {width} fields, found {}", fields.len()),
                ));
            }
            for (c, f) in fields.iter().enumerate() {
                if f.trim() != *f {
                    return Err(err(
                        line_no,
                        c + 1,
                        "leading or trailing whitespace in field".into(),
                    ));
                }
            }
            let key = fields[0];
            if key.is_empty() {
                return Err(err(line_no, 1, "empty key".into()));
            }
            let values = fields[1..].iter().map(|s| s.to_string()).collect();
            if rows.insert(key.to_string(), values).is_some() {
                return Err(err(line_no, 1, format!("duplicate key {key:?}")));
            }
        }
        Ok(Table {
            name: name.to_string(),
            width,
            rows,
        })
    }

    /// The values (all fields after the key) of the row with `key`.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.rows.get(key).map(Vec::as_slice)
    }

    /// The table's name as given to [`Table::parse`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of value columns (fields after the key); 0 for an empty table.
    pub fn value_columns(&self) -> usize {
        self.width.saturating_sub(1)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_looks_up() {
        let t = Table::parse("t", "# header\n\na\t1\tx\r\nb\t2\t\n").unwrap();
        assert_eq!(t.get("a"), Some(&["1".to_string(), "x".to_string()][..]));
        assert_eq!(t.get("b").unwrap()[1], "");
        assert_eq!(t.get("c"), None);
        assert_eq!(t.len(), 2);
        assert_eq!(t.value_columns(), 2);
        assert_eq!(t.name(), "t");
    }

    #[test]
    fn errors_have_positions() {
        let e = Table::parse("t", "# h\na\t1\nb\t2\t3\n").unwrap_err();
        assert_eq!((e.line, e.col), (3, 3));
        let e = Table::parse("t", "a\t1\na\t2\n").unwrap_err();
        assert_eq!((e.line, e.col), (2, 1));
        assert!(e.message.contains("duplicate"));
        let e = Table::parse("t", "lonely\n").unwrap_err();
        assert_eq!((e.line, e.col), (1, 1));
        let e = Table::parse("t", "\t1\n").unwrap_err();
        assert_eq!((e.line, e.col), (1, 1));
        let e = Table::parse("t", "a\t 1\n").unwrap_err();
        assert_eq!((e.line, e.col), (1, 2));
        assert!(e.to_string().starts_with("table t: line 1, column 2"));
    }

    /// Every shipped table parses, and the key tables hold the rows the
    /// crosswalk requires.
    #[test]
    fn shipped_tables_parse() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/tables");
        let load = |n: &str| {
            let text = std::fs::read_to_string(dir.join(format!("{n}.tsv"))).unwrap();
            Table::parse(n, &text).unwrap_or_else(|e| panic!("{e}"))
        };
        let roots = load("identifier-roots");
        assert_eq!(
            roots.get("2.16.840.1.113883.2.1.4.1").unwrap()[0],
            "https://fhir.nhs.uk/Id/nhs-number"
        );
        let cs = load("code-systems");
        assert_eq!(
            cs.get("2.16.840.1.113883.2.1.3.2.4.15").unwrap()[0],
            "http://snomed.info/sct"
        );
        let jobs = load("sds-job-roles");
        assert_eq!(jobs.get("R0680").unwrap()[0], "Midwife");
        assert_eq!(jobs.len(), 392);
        let ver = load("nhs-number-verification");
        assert_eq!(ver.get("01").unwrap()[0], "Number present and verified");
        let ms = load("marital-status");
        assert_eq!(ms.get("P").unwrap()[0], "L");
        assert!(ms.get("N").is_none());
        let rel = load("relationship");
        assert_eq!(rel.get("01").unwrap()[0], "SPS");
        assert_eq!(rel.get("04").unwrap()[1], "http://hl7.org/fhir/v2/0131");
        let cs = load("care-setting");
        for k in ["default:EDIS", "default:MH", "default:ECD", "default:OPL"] {
            assert!(cs.get(k).is_some(), "{k}");
        }
        assert_eq!(cs.get("default:ECD").unwrap()[0], "394576009");
    }
}
