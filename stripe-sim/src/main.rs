//! `stripe-sim --port 12111 [--catalog path] [--account-id acct_…]`: serves the simulator on
//! 127.0.0.1 until Ctrl-C. A webhook endpoint comes from `STRIPE_SIM_WEBHOOK_URL` /
//! `STRIPE_SIM_WEBHOOK_SECRET`; the account id may also come from `STRIPE_SIM_ACCOUNT_ID`.

use std::path::PathBuf;

use stripe_sim::{CatalogSource, Sim, SimConfig};

const USAGE: &str = "usage: stripe-sim [--port PORT] [--catalog PATH] [--account-id acct_…]\n\
env: STRIPE_SIM_WEBHOOK_URL, STRIPE_SIM_WEBHOOK_SECRET (whsec_…), STRIPE_SIM_ACCOUNT_ID, RUST_LOG";

fn parse_args() -> Result<SimConfig, String> {
    let mut config = SimConfig {
        port: 12111,
        ..SimConfig::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let v = args.next().ok_or("--port needs a value")?;
                config.port = v.parse().map_err(|_| format!("invalid port: {v}"))?;
            }
            "--catalog" => {
                config.catalog = CatalogSource::Path(PathBuf::from(
                    args.next().ok_or("--catalog needs a path")?,
                ));
            }
            "--account-id" => {
                config.account_id = Some(args.next().ok_or("--account-id needs a value")?);
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument: {other}\n{USAGE}")),
        }
    }
    // The flag wins over the environment, so one shell can start several distinct accounts.
    if config.account_id.is_none() {
        config.account_id = std::env::var("STRIPE_SIM_ACCOUNT_ID")
            .ok()
            .filter(|s| !s.is_empty());
    }
    config.webhook_url = std::env::var("STRIPE_SIM_WEBHOOK_URL")
        .ok()
        .filter(|s| !s.is_empty());
    config.webhook_secret = std::env::var("STRIPE_SIM_WEBHOOK_SECRET")
        .ok()
        .filter(|s| !s.is_empty());
    Ok(config)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("stripe_sim=info")),
        )
        .init();
    let config = match parse_args() {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("{msg}");
            return std::process::ExitCode::from(2);
        }
    };
    let sim = match Sim::start(config).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("stripe-sim listening on {}", sim.base_url());
    println!("account: {}", sim.account_id());
    if let Some(secret) = sim.webhook_secret() {
        println!("webhook signing secret: {secret}");
    }
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("cannot wait for Ctrl-C: {e}");
    }
    sim.shutdown().await;
    std::process::ExitCode::SUCCESS
}
