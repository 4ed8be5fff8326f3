//! narrative (placeholder)
