use std::process::ExitCode;
use storefront::config::Config;
use storefront::server;

#[tokio::main]
async fn main() -> ExitCode {
    // A missing .env is normal (production sets real environment variables).
    let _ = dotenvy::dotenv();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("storefront: {error}");
            return ExitCode::from(2);
        }
    };
    server::telemetry::init(config.log_format);

    let bind_addr = config.bind_addr;
    let (router, state) = match server::build(config).await {
        Ok(built) => built,
        Err(error) => {
            tracing::error!(%error, "start-up failed");
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
    tracing::info!(url = %state.config.app_url, %bind_addr, backend = ?state.db.backend, "storefront listening");
    let result = server::serve(listener, router, server::shutdown_signal()).await;
    state.db.close().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server error");
            ExitCode::FAILURE
        }
    }
}
