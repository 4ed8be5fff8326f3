//! Per-stage timings (only reported with `--stats`; never in the ledger,
//! so the ledger stays byte-identical across runs).

/// Pipeline stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading bytes (read or mmap).
    Read = 0,
    /// Decoding and XML parsing.
    Parse = 1,
    /// Recognising the kind.
    Recognise = 2,
    /// Running the mapping.
    Map = 3,
    /// Validating the bundle.
    Validate = 4,
    /// Serialising JSON.
    Serialise = 5,
    /// Writing files (writer thread).
    Write = 6,
}

/// Stage names in order.
pub const STAGES: [&str; 7] = [
    "read",
    "parse",
    "recognise",
    "map",
    "validate",
    "serialise",
    "write",
];

/// Nanoseconds per stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageTimes(pub [u64; 7]);

impl StageTimes {
    /// Add `ns` to a stage.
    pub fn add(&mut self, s: Stage, ns: u64) {
        self.0[s as usize] += ns;
    }

    /// Add all stages of another.
    pub fn merge(&mut self, o: &StageTimes) {
        for (a, b) in self.0.iter_mut().zip(o.0.iter()) {
            *a += b;
        }
    }
}
