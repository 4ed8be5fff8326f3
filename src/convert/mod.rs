//! Value-level conversions used by the mapping runtime.
//!
//! Everything here works on plain strings and small values: HL7 v3 `TS`
//! timestamps → FHIR `date`/`dateTime`/`instant` ([`ts`]), NHS number,
//! postcode and ODS checks ([`nhs`]), placeholder detection ([`placeholder`]),
//! title/telecom/gender/use-code conversions ([`text`]) and the keyed lookup
//! tables in `mappings/tables/` ([`table`]).
//!
//! The module knows nothing about XML or FHIR JSON. Keeping the rules of
//! crosswalk §2.1 and §6 apart from tree walking and resource assembly lets
//! them be tested exhaustively (unit tests and proptests per file), reused by
//! every document family, and changed without touching the mapping engine.
//! Functions are pure, never panic on bad input, and report rejected values
//! through error enums or rule names so the caller can log them.

pub mod nhs;
pub mod placeholder;
pub mod table;
pub mod text;
pub mod ts;
