//! itkbridge: convert NHS ITK 2.x HL7v3 / CDA archives into ITK3 FHIR STU3
//! Transfer of Care messages, in parallel, with every output validated and
//! every input accounted for in a ledger.
//!
//! The pipeline (see ARCHITECTURE.md): discover → read → recognise → parse →
//! map → assemble → validate → write + ledger.

pub mod convert;
pub mod fhir;
pub mod mapping;
pub mod narrative;
pub mod pipeline;
pub mod recognise;
pub mod sink;
pub mod source;
pub mod validate;
pub mod xml;
