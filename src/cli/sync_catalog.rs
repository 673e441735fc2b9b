//! `storefront sync-catalog`: copies every product and price from Stripe into the database.

use std::process::ExitCode;
use storefront::config::Config;

pub async fn run(config: Config) -> ExitCode {
    let services = match super::services_or_exit(config).await {
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
