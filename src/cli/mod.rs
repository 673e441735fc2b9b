//! The command line: one typed subcommand per operator task, one file each. Every command but `serve`
//! builds the services (database, migrations, catalog snapshot) without serving, runs, and exits.

mod resync;
mod serve;
mod sync_catalog;

use std::process::ExitCode;
use storefront::config::Config;
use storefront::server::{self, Services};

/// storefront: sell SaaS subscriptions and goods through Stripe.
#[derive(Debug, clap::Parser)]
#[command(name = "storefront", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Serve the app (the default).
    Serve,
    /// Copy every product and price from Stripe into the database.
    SyncCatalog,
    /// Re-read every customer's billing state from Stripe.
    Resync(resync::Options),
}

impl Cli {
    /// Runs the command with the configuration read from the environment.
    pub async fn run(self, config: Config) -> ExitCode {
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => serve::run(config).await,
            Command::SyncCatalog => sync_catalog::run(config).await,
            Command::Resync(options) => resync::run(config, options).await,
        }
    }
}

async fn services_or_exit(config: Config) -> Result<Services, ExitCode> {
    server::build_services(config).await.map_err(|error| {
        eprintln!("storefront: {error}");
        ExitCode::FAILURE
    })
}
