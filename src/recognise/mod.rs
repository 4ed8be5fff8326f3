//! recognise (placeholder)
