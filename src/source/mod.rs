//! source (placeholder)
