//! mapping (placeholder)
