//! The `itkbridge` command: a thin layer over the library.

mod cli;

/// mimalloc instead of the system allocator: the converter allocates many
/// small, short-lived objects per document on every worker thread, where
/// glibc's malloc cost 15-18 % of all instructions (callgrind, discharge
/// samples); mimalloc's per-thread free lists make that a few per cent.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::main());
}
