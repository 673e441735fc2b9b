//! `storefront serve` (the default): listens, serves, and stops on SIGTERM/SIGINT or when a background
//! check finds that this process must not go on serving.

use std::process::ExitCode;
use storefront::config::Config;
use storefront::server;

pub async fn run(config: Config) -> ExitCode {
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
