//! `itkbridge validate`: read FHIR STU3 files (JSON or XML), validate them,
//! and write the per-file report.
//!
//! # Why
//!
//! ITK3 traffic over MESH and every official example are XML, while the
//! converter writes JSON; both go through the same definitions
//! ([`crate::fhir::xml`] reads XML into the JSON model), so a file and its
//! twin are judged alike. A file that cannot be read or parsed is invalid
//! with a fatal issue, never a crash.

use std::path::Path;

use serde_json::{json, Value};

use super::{validate_any, Issue, Severity};

/// The outcome for one file.
#[derive(Debug)]
pub struct FileReport {
    /// The path as given.
    pub file: String,
    /// Findings.
    pub issues: Vec<Issue>,
}

impl FileReport {
    /// No fatal or error issue.
    pub fn valid(&self) -> bool {
        !super::has_blocking(&self.issues)
    }

    /// One NDJSON report line.
    pub fn to_json(&self) -> Value {
        json!({
            "file": self.file,
            "valid": self.valid(),
            "issues": self.issues.iter().map(issue_json).collect::<Vec<_>>(),
        })
    }
}

/// The report form of an issue.
pub fn issue_json(i: &Issue) -> Value {
    json!({
        "severity": i.severity.as_str(),
        "code": i.code,
        "location": i.location,
        "rule": i.rule,
        "message": i.message,
        "itk_response": i.itk_response(),
    })
}

/// Rule id of an unreadable input.
pub const UNREADABLE: &str = "unreadable";

fn fatal(file: &str, location: &str, message: String) -> FileReport {
    FileReport {
        file: file.to_string(),
        issues: vec![Issue::new(Severity::Fatal, UNREADABLE, location, message)],
    }
}

/// Validate the bytes of one file.
pub fn validate_bytes(file: &str, bytes: &[u8]) -> FileReport {
    let text = match crate::xml::decode(bytes) {
        Ok(d) => d.text,
        Err(e) => return fatal(file, "", format!("cannot decode the file: {e}")),
    };
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let parsed: Result<Value, String> = if trimmed.starts_with('<') {
        crate::fhir::xml::xml_to_json(trimmed)
            .map_err(|e| format!("not a readable FHIR XML resource: {e}"))
    } else if trimmed.starts_with('{') {
        serde_json::from_str(trimmed).map_err(|e| {
            // serde_json's message names the position and the problem, not
            // the text.
            format!("not valid JSON: {e}")
        })
    } else {
        Err("neither FHIR JSON nor FHIR XML".to_string())
    };
    match parsed {
        Ok(v) => FileReport {
            file: file.to_string(),
            issues: validate_any(&v),
        },
        Err(m) => fatal(file, "", m),
    }
}

/// Validate one file.
pub fn validate_path(path: &Path) -> FileReport {
    let file = path.display().to_string();
    match std::fs::read(path) {
        Ok(b) => validate_bytes(&file, &b),
        Err(e) => fatal(&file, "", format!("cannot read the file: {}", e.kind())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_inputs_are_fatal_not_crashes() {
        for (bytes, what) in [
            (&b""[..], "decode"),
            (b"hello", "neither"),
            (b"{\"resourceType\": ", "JSON"),
            (
                b"<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"x\"/>",
                "XML",
            ),
        ] {
            let r = validate_bytes("f", bytes);
            assert!(!r.valid());
            assert_eq!(r.issues.len(), 1, "{what}");
            assert_eq!(r.issues[0].severity, Severity::Fatal);
            assert_eq!(r.issues[0].itk_response(), Some("10009"));
            let j = r.to_json();
            assert_eq!(j["valid"], false);
            assert_eq!(j["issues"][0]["severity"], "fatal");
        }
    }

    #[test]
    fn json_and_xml_twins_agree() {
        let json_text = r#"{"resourceType":"Patient","gender":"F","birthDate":"1970-01-01"}"#;
        let xml_text = r#"<Patient xmlns="http://hl7.org/fhir"><gender value="F"/><birthDate value="1970-01-01"/></Patient>"#;
        let a = validate_bytes("a.json", json_text.as_bytes());
        let b = validate_bytes("a.xml", xml_text.as_bytes());
        assert_eq!(a.to_json()["issues"], b.to_json()["issues"]);
        assert!(!a.valid());
        assert_eq!(a.issues[0].rule, "binding");
        assert_eq!(a.issues[0].location, "Patient.gender");
        assert_eq!(a.issues[0].code, "code-invalid");
    }
}
