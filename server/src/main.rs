//! The `plaster` binary: the command line lives in `plaster_server::cli`.

use std::process::ExitCode;

// The herd path allocates a few small blocks per request on two threads;
// mimalloc's per-thread heaps serve them faster than glibc's arenas (see
// docs/benchmarks-http.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    plaster_server::cli::main()
}
