//! fhir (placeholder)
