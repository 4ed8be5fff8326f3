//! FHIR STU3 knowledge: element definitions (generated from the official StructureDefinitions) and JSON building helpers.
pub mod defs;
pub mod pretty;
pub mod xml;
