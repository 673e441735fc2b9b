//! The `storefront` binary: `serve` (the default), and the operator's commands in `cli/`.

mod cli;

use clap::Parser;
use std::process::ExitCode;
use storefront::config::Config;
use storefront::server;

#[tokio::main]
async fn main() -> ExitCode {
    keep_large_allocations_out_of_the_heap();
    // Before the configuration, so that `--help` and a usage error (exit 2) need no environment.
    let cli = cli::Cli::parse();
    // A missing .env is normal (production sets real environment variables).
    let _ = dotenvy::dotenv();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("storefront: {error}");
            return ExitCode::from(2);
        }
    };
    // Held to the end of `main`: dropping it writes out the buffered log lines.
    let _log = server::telemetry::init(config.log_format);
    cli.run(config).await
}

/// Argon2 allocates 19 MiB per hash. After the first such block is freed, glibc raises its mmap
/// threshold and keeps later blocks in per-thread arenas: a handful of sign-ins left ~100 MiB
/// resident (docs/BENCHMARKS.md, memory). A fixed threshold keeps blocks of 1 MiB and more mmapped, so
/// they go back to the system when freed, at the cost of a page-fault pass per hash.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_large_allocations_out_of_the_heap() {
    // SAFETY: mallopt only sets an allocator parameter (thread-safe in glibc); no memory is touched.
    let applied = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20) };
    if applied != 1 {
        eprintln!(
            "storefront: could not set the malloc mmap threshold; memory may grow after sign-ins"
        );
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_large_allocations_out_of_the_heap() {}
