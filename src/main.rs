//! `storefront` serves the app; `storefront sync-catalog` copies products and prices from Stripe;
//! `storefront resync` re-reads every customer's billing state from Stripe.

use std::process::ExitCode;
use std::sync::Arc;
use storefront::config::Config;
use storefront::server::{self, Services};
use tokio::sync::Semaphore;

const USAGE: &str = "usage: storefront [serve | sync-catalog | resync [--concurrency N]]";

#[tokio::main]
async fn main() -> ExitCode {
    keep_large_allocations_out_of_the_heap();
    // A missing .env is normal (production sets real environment variables).
    let _ = dotenvy::dotenv();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str).unwrap_or("serve");
    if !matches!(command, "serve" | "sync-catalog" | "resync") {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("storefront: {error}");
            return ExitCode::from(2);
        }
    };
    // Held to the end of `main`: dropping it writes out the buffered log lines.
    let _log = server::telemetry::init(config.log_format);
    match command {
        "sync-catalog" => sync_catalog(config).await,
        "resync" => {
            let concurrency = match args.iter().position(|a| a == "--concurrency") {
                Some(i) => match args
                    .get(i + 1)
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|n| *n > 0)
                {
                    Some(n) => n,
                    None => {
                        eprintln!("{USAGE}");
                        return ExitCode::from(2);
                    }
                },
                None => 4,
            };
            resync(config, concurrency).await
        }
        _ => serve(config).await,
    }
}

async fn serve(config: Config) -> ExitCode {
    let bind_addr = config.bind_addr;
    // No Stripe call happens before the listener is up (security review L15): Stripe work of the
    // start-up runs in the background.
    let (router, services, _startup) = match server::build(config).await {
        Ok(built) => built,
        Err(error) => {
            tracing::error!(%error, "start-up failed");
            eprintln!("storefront: {error}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(bind_addr).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::error!(%error, %bind_addr, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    let state = &services.state;
    tracing::info!(url = %state.config.app_url, %bind_addr, backend = ?state.db.backend, "storefront listening");
    let mut fatal = services.fatal_errors();
    let shutdown = async move {
        tokio::select! {
            () = server::shutdown_signal() => {}
            _ = fatal.wait_for(Option::is_some) => {}
        }
    };
    let result = server::serve(listener, router, shutdown).await;
    state.db.close().await;
    if let Some(reason) = services.fatal_errors().borrow().clone() {
        eprintln!("storefront: {reason}");
        return ExitCode::FAILURE;
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server error");
            ExitCode::FAILURE
        }
    }
}

async fn services_or_exit(config: Config) -> Result<Services, ExitCode> {
    server::build_services(config).await.map_err(|error| {
        eprintln!("storefront: {error}");
        ExitCode::FAILURE
    })
}

async fn sync_catalog(config: Config) -> ExitCode {
    let services = match services_or_exit(config).await {
        Ok(services) => services,
        Err(code) => return code,
    };
    match services.sync_catalog().await {
        Ok((report, plans)) => {
            println!(
                "catalog synced: {} products, {} prices, {plans} plans on sale",
                report.products, report.prices
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("catalog sync failed: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn resync(config: Config, concurrency: usize) -> ExitCode {
    let services = match services_or_exit(config).await {
        Ok(services) => services,
        Err(code) => return code,
    };
    let customers = match services.billing.customers_to_resync().await {
        Ok(customers) => customers,
        Err(error) => {
            eprintln!("resync: cannot list customers: {error}");
            return ExitCode::FAILURE;
        }
    };
    let total = customers.len();
    println!("resyncing {total} customers, {concurrency} at a time");
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for customer_id in customers {
        let (billing, permits) = (services.billing.clone(), permits.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let outcome = billing.sync_customer(&customer_id, None).await;
            (customer_id, outcome)
        });
    }
    let (mut done, mut failed) = (0, 0);
    while let Some(joined) = tasks.join_next().await {
        done += 1;
        match joined {
            Ok((customer_id, Ok(outcome))) => {
                println!("[{done}/{total}] {customer_id}: {outcome}")
            }
            Ok((customer_id, Err(error))) => {
                failed += 1;
                println!("[{done}/{total}] {customer_id}: FAILED {error}");
            }
            Err(error) => {
                failed += 1;
                println!("[{done}/{total}] task failed: {error}");
            }
        }
    }
    println!(
        "resync finished: {} synced, {failed} failed",
        total - failed
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Argon2 allocates 19 MiB per hash. After the first such block is freed, glibc raises its mmap
/// threshold and keeps later blocks in per-thread arenas: a handful of sign-ins left ~100 MiB
/// resident (speed issue, RSS budget). A fixed threshold keeps blocks of 1 MiB and more mmapped, so
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
