//! convert (placeholder)
