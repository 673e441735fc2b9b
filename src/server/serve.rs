//! Serving: the listener loop with a bounded shutdown drain, and the shutdown signal.

use axum::Router;
use axum::serve::ListenerExt;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;

/// After SIGTERM, in-flight requests get this long; then the process exits anyway (below the usual
/// 30 s grace period of orchestrators).
const SHUTDOWN_DRAIN: Duration = Duration::from_secs(20);

/// Serves on `listener` until `shutdown` resolves, then finishes in-flight requests for at most
/// `SHUTDOWN_DRAIN` (L15).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_drain(listener, router, shutdown, SHUTDOWN_DRAIN).await
}

async fn serve_with_drain(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    drain: Duration,
) -> std::io::Result<()> {
    let (draining, drain_started) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        shutdown.await;
        let _ = draining.send(());
    };
    let drain_deadline = async move {
        if drain_started.await.is_ok() {
            tokio::time::sleep(drain).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = serve_until(listener, router, shutdown) => result,
        () = drain_deadline => {
            tracing::warn!(?drain, "requests still in flight at the drain deadline; exiting");
            Ok(())
        }
    }
}

async fn serve_until(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // TCP_NODELAY: a response written as headers then body must not wait for the client's delayed ACK
    // (Nagle), which cost ~40 ms per static file on kept-alive connections.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use std::time::Instant;

    /// Security review L15: a request that never ends cannot hold shutdown past the drain.
    #[tokio::test]
    async fn l15_shutdown_waits_for_requests_at_most_the_drain() {
        let router = Router::new().route(
            "/stuck",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(600)).await;
                "never"
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_with_drain(
            listener,
            router,
            async move {
                let _ = stopped.await;
            },
            Duration::from_millis(300),
        ));
        let stuck = tokio::spawn(async move {
            let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
            tokio::io::AsyncWriteExt::write_all(
                &mut stream,
                b"GET /stuck HTTP/1.1\r\nhost: x\r\n\r\n",
            )
            .await
            .expect("send");
            tokio::time::sleep(Duration::from_secs(600)).await;
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let _ = stop.send(());
        let result = tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("serve returned within the drain");
        assert!(result.expect("task").is_ok());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        stuck.abort();
    }
}
