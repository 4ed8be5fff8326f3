//! The default mappings, embedded in the binary so a fresh install needs
//! no files; `--mappings DIR` replaces them as a whole.

use std::path::Path;

use super::compile::Source;

macro_rules! embed {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../mappings/", $name)))),*]
    };
}

/// (relative name, content) of every default mapping file.
pub const FILES: &[(&str, &str)] = embed!(
    "edischarge.map",
    "toc-types.tsv",
    "toc-sections.tsv",
    "deployment.tsv",
    "tables/identifier-roots.tsv",
    "tables/code-systems.tsv",
    "tables/sds-job-roles.tsv",
    "tables/nhs-number-verification.tsv",
    "tables/marital-status.tsv",
    "tables/relationship.tsv",
    "tables/ethnic-category.tsv",
    "tables/human-language.tsv",
    "tables/allergy-kinds.tsv",
    "tables/care-setting.tsv",
    "tables/nhs-number-roots.tsv",
    "tables/encounter-types.tsv",
    "tables/confidentiality.tsv",
    "tables/recipient-types.tsv",
    "tables/recipient-type-displays.tsv",
);

/// The embedded sources.
pub fn sources() -> Vec<Source> {
    FILES
        .iter()
        .map(|(n, t)| Source {
            name: (*n).to_string(),
            text: (*t).to_string(),
        })
        .collect()
}

/// Read every `*.map` and `*.tsv` below `dir` (sorted, recursive).
pub fn read_dir(dir: &Path) -> std::io::Result<Vec<Source>> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let e = e.map_err(std::io::Error::other)?;
        let p = e.path();
        let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
        if e.file_type().is_file() && (ext == "map" || ext == "tsv") {
            let name = p
                .strip_prefix(dir)
                .unwrap_or(p)
                .to_string_lossy()
                .replace('\\', "/");
            out.push(Source {
                name,
                text: std::fs::read_to_string(p)?,
            });
        }
    }
    if !out.iter().any(|s| s.name.ends_with(".map")) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no .map files in the mappings folder",
        ));
    }
    Ok(out)
}
