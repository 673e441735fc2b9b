//! `storefront resync [--concurrency N]`: re-reads every customer's billing state from Stripe, as
//! after lost webhooks or a restore (docs/OPERATIONS.md).

use std::num::NonZeroUsize;
use std::process::ExitCode;
use std::sync::Arc;
use storefront::config::Config;
use tokio::sync::Semaphore;

#[derive(Debug, clap::Args)]
pub struct Options {
    /// Customers read from Stripe at once (each sync is a few Stripe calls).
    #[arg(long, default_value = "4")]
    concurrency: NonZeroUsize,
}

pub async fn run(config: Config, options: Options) -> ExitCode {
    let concurrency = options.concurrency;
    let services = match super::services_or_exit(config).await {
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
    let permits = Arc::new(Semaphore::new(concurrency.get()));
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
