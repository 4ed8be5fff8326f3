//! xml (placeholder)
