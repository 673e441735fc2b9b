//! Logging: pretty for development, JSON with `LOG_FORMAT=json`. Filter with `RUST_LOG`.
//!
//! Why lines are buffered: one `write` system call per line to stdout, and ANSI colouring nobody
//! sees in a file, were most of a request's logging cost (docs/BENCHMARKS.md). Lines collect in a
//! buffer that is written out when it fills, at least every `FLUSH_EVERY`, at once for warnings and
//! errors, and when the process ends (`LogGuard`). Colours only go to a terminal.

use crate::config::LogFormat;
use axum::http::Request;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tracing::{Level, Metadata, Span};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_sessions=warn,tower_sessions_core=warn";
/// At most this much log output waits in memory...
const FLUSH_AT_BYTES: usize = 32 * 1024;
/// ...for at most this long.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Installs the global subscriber; a second call (tests start several apps) is a no-op. Keep the
/// guard until the process ends: dropping it writes out what is buffered.
pub fn init(format: LogFormat) -> LogGuard {
    let writer = BufferedStdout::default();
    writer.spawn_flusher();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .with_writer(writer.clone());
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    LogGuard(writer)
}

/// One span per request. Only the path is recorded: query strings and headers can carry secrets.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let request_id = request_id_of(request);
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    )
}

/// The one line logged for a kept page answered before the request span (`page_cache::FrontDoor`):
/// the span's fields and what `DefaultOnResponse` adds, without a span (issue 20: the span was
/// about a sixth of such a request's cost, and nothing else logs within it).
pub fn log_kept_page<B>(request: &Request<B>, started: std::time::Instant) {
    let request_id = request_id_of(request);
    tracing::info!(
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
        status = 200,
        latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "kept page served"
    );
}

/// The id `SetRequestId` gave the request (or the proxy's UUID it kept), "-" if none.
fn request_id_of<B>(request: &Request<B>) -> &str {
    request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
}

/// A client's (or proxy's) `X-Request-Id` is kept only if it is a UUID, so that a request can be
/// followed from the proxy's log into ours; anything else is dropped and replaced by our own. Before
/// (security review 2, L11), any value was logged verbatim, and in text logs spaces and `key=value`
/// in it forged fields.
pub fn drop_foreign_request_id<B>(mut request: Request<B>) -> Request<B> {
    let is_uuid = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() == 36 && uuid::Uuid::try_parse(v).is_ok());
    if !is_uuid {
        request.headers_mut().remove("x-request-id");
    }
    request
}

/// Request ids: UUID-shaped, from a fast thread-local generator. They name log lines, not secrets, so
/// they need not come from the operating system's random source (one system call per request).
#[derive(Clone, Copy, Default)]
pub struct FastRequestId;

impl tower_http::request_id::MakeRequestId for FastRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<tower_http::request_id::RequestId> {
        let id = uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes()).into_uuid();
        let value = axum::http::HeaderValue::from_str(&id.to_string()).ok()?;
        Some(tower_http::request_id::RequestId::new(value))
    }
}

/// Writes out the buffered log lines when dropped.
pub struct LogGuard(BufferedStdout);

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.0.flush();
    }
}

/// Stdout behind a shared buffer: a log line is a copy into memory, not a system call.
#[derive(Clone, Default)]
struct BufferedStdout(Arc<Mutex<Vec<u8>>>);

impl BufferedStdout {
    fn flush(&self) {
        let mut buffer = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !buffer.is_empty() {
            // Nowhere to report a failed write of the log itself; the lines are dropped.
            let _ = std::io::stdout().lock().write_all(&buffer);
            buffer.clear();
        }
    }

    /// A plain thread, so the command-line tasks and tests (any runtime, or none) flush the same way.
    fn spawn_flusher(&self) {
        let weak = Arc::downgrade(&self.0);
        let spawned = std::thread::Builder::new()
            .name("log-flush".into())
            .spawn(move || {
                while let Some(buffer) = weak.upgrade() {
                    BufferedStdout(buffer).flush();
                    std::thread::sleep(FLUSH_EVERY);
                }
            });
        if let Err(error) = spawned {
            eprintln!("logging: no flusher thread ({error}); lines are written as they come");
        }
    }
}

/// The writer for one line; warnings and errors are written out at once.
pub struct LogLine<'a> {
    target: &'a BufferedStdout,
    urgent: bool,
}

impl Write for LogLine<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let full = {
            let mut buffer = self.target.0.lock().unwrap_or_else(PoisonError::into_inner);
            buffer.extend_from_slice(bytes);
            buffer.len() >= FLUSH_AT_BYTES
        };
        if full || self.urgent {
            self.target.flush();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.target.flush();
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BufferedStdout {
    type Writer = LogLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LogLine {
            target: self,
            urgent: false,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        LogLine {
            target: self,
            urgent: *meta.level() <= Level::WARN,
        }
    }
}
