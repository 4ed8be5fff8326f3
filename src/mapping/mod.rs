//! The mapping language: plain-text files in `mappings/` that say how a
//! source document becomes FHIR resources, compiled once per run into a
//! [`compile::MapSet`] and run over every document.
//!
//! Why a language and not Rust code: the people who know where a fact goes
//! are clinical informaticians; the files read like a crosswalk table, and
//! every target element, function, table and slice is checked when the
//! file is compiled (with `file:line:col`), so run time only meets data
//! problems. The language is described in `mappings/README.md`.
//!
//! Stages: [`syntax`] (lines, cursor) → [`path`] and [`expr`] (source paths
//! and expressions) → [`compile`] (statements → plan, FHIR checks) →
//! [`run`] (plan × document → bundle), with [`sections`] routing narrative
//! and [`json`] keeping FHIR property order.

pub mod compile;
pub mod embedded;
pub mod expr;
pub mod json;
pub mod path;
pub mod run;
pub mod sections;
pub mod syntax;

pub use compile::{compile, MapSet, Plan, Source};
pub use syntax::CompileError;
