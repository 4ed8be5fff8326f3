//! sink (placeholder)
