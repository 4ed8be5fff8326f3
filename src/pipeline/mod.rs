//! pipeline (placeholder)
