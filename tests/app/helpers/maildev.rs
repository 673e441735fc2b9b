//! A real SMTP server for the tests: maildev (end2end/node_modules, pinned in package.json), which
//! keeps every mail it receives and lists them over HTTP (`GET /email`).
//!
//! One instance is shared by the whole test process (`shared`), started on first use; tests tell
//! their mails apart by recipient, so each uses addresses of its own. A test that needs to stop and
//! start the server (SMTP faults) starts its own on fixed ports.
//!
//! maildev runs under `sh`, whose standard input is a pipe from this process: when the pipe closes
//! (`stop`, or this process ending in any way, even killed), `sh` kills maildev and removes its
//! mail directory. So no maildev outlives the tests.

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long maildev may take to listen (node starting on a busy 2-core machine).
const START_TIMEOUT: Duration = Duration::from_secs(45);
/// After the expected mails arrived, how long to watch for an unexpected extra one.
const QUIET_PERIOD: Duration = Duration::from_secs(2);

const SUPERVISOR: &str = r#"dir=$1; shift
mkdir -p "$dir"
"$@" --mail-directory "$dir" >"$dir.log" 2>&1 &
pid=$!
read -r _
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rm -rf "$dir" "$dir.log""#;

pub struct Maildev {
    pub smtp_port: u16,
    pub web_port: u16,
    log: PathBuf,
    process: Option<(Child, ChildStdin)>,
}

/// A mail as maildev received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Recipient addresses.
    pub to: Vec<String>,
    /// The `From` header as sent, e.g. `storefront <no-reply@localhost>`.
    pub from: String,
    pub message_id: String,
}

/// The maildev every `TestApp` sends to unless told otherwise.
pub fn shared() -> &'static Maildev {
    static SHARED: OnceLock<Maildev> = OnceLock::new();
    SHARED.get_or_init(|| {
        // Free ports are picked by binding port 0; another process may take one before maildev
        // binds it, so a failed start is tried again on new ports.
        for _ in 0..3 {
            let (smtp_port, web_port) = (free_port(), free_port());
            match Maildev::try_start(smtp_port, web_port) {
                Ok(maildev) => return maildev,
                Err(why) => eprintln!("maildev did not start on {smtp_port}/{web_port}: {why}"),
            }
        }
        panic!("maildev does not start; run `npm ci` in end2end/ (scripts/test does)");
    })
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `N` distinct free ports below the kernel's ephemeral range, for a server that is stopped and
/// started again on them: while it is stopped, no `bind(0)` of another test can be handed one.
pub fn fixed_free_ports<const N: usize>() -> [u16; N] {
    let low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let start = 10_000_u16.min(low.saturating_sub(1000));
    let span = low.saturating_sub(start).max(1);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
        ^ std::process::id();
    let mut free = (0..span)
        .map(|i| start + (seed as u16).wrapping_add(i) % span)
        .filter(|port| TcpListener::bind(("127.0.0.1", *port)).is_ok());
    std::array::from_fn(|_| free.next().expect("free ports below the ephemeral range"))
}

impl Maildev {
    /// Starts maildev on these ports of 127.0.0.1 and waits until both answer.
    pub fn start(smtp_port: u16, web_port: u16) -> Self {
        Self::try_start(smtp_port, web_port).unwrap_or_else(|why| panic!("maildev: {why}"))
    }

    fn try_start(smtp_port: u16, web_port: u16) -> Result<Self, String> {
        let bin =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("end2end/node_modules/.bin/maildev");
        if !bin.exists() {
            return Err(format!("{} is missing", bin.display()));
        }
        let dir = std::env::temp_dir().join(format!(
            "storefront-maildev-{}-{smtp_port}",
            std::process::id()
        ));
        let mut child = Command::new("sh")
            .args(["-c", SUPERVISOR, "maildev-supervisor"])
            .arg(&dir)
            .arg(&bin)
            .args([
                "--ip",
                "127.0.0.1",
                "--smtp",
                &smtp_port.to_string(),
                "--web",
                &web_port.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run sh: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin pipe")?;
        let maildev = Maildev {
            smtp_port,
            web_port,
            log: dir.with_extension("log"),
            process: Some((child, stdin)),
        };
        maildev.wait_until_listening()?;
        Ok(maildev)
    }

    fn wait_until_listening(&self) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        // Ours answering, not just anyone on the port: an SMTP greeting, and maildev's mail list.
        let answers = |port: u16, ask: &[u8], expect: &str| {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200))
            else {
                return false;
            };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let mut answer = [0_u8; 64];
            std::io::Write::write_all(&mut stream, ask).is_ok()
                && stream
                    .read(&mut answer)
                    .is_ok_and(|n| String::from_utf8_lossy(&answer[..n]).starts_with(expect))
        };
        let get_mails = b"GET /email HTTP/1.0\r\n\r\n";
        while !(answers(self.smtp_port, b"", "220 ")
            && answers(self.web_port, get_mails, "HTTP/1.1 200"))
        {
            let mut log = String::new();
            let _ = std::fs::File::open(&self.log).and_then(|mut f| f.read_to_string(&mut log));
            if log.contains("EADDRINUSE") || Instant::now() > deadline {
                return Err(format!("not listening: {log}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// Stops maildev and waits until it is gone (its ports are free again).
    pub fn stop(&mut self) {
        if let Some((mut child, stdin)) = self.process.take() {
            drop(stdin);
            let _ = child.wait();
        }
    }

    pub fn smtp_url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.smtp_port)
    }

    /// maildev's REST API, e.g. for Playwright (`MAIL_API_BASE`).
    pub fn api_base(&self) -> String {
        format!("http://127.0.0.1:{}", self.web_port)
    }

    /// Every mail maildev holds for `address`, oldest first.
    pub async fn mails_to(&self, address: &str) -> Vec<ReceivedMail> {
        let all: Vec<serde_json::Value> = reqwest::get(format!("{}/email", self.api_base()))
            .await
            .expect("maildev answers")
            .json()
            .await
            .expect("maildev's mail list");
        all.iter()
            .map(received)
            .filter(|mail| mail.to.iter().any(|to| to.eq_ignore_ascii_case(address)))
            .collect()
    }

    /// Waits until `count` mails to `address` have arrived, then a little longer to see that no
    /// more come; returns them. Fails if fewer arrive within `within`, or more than `count`.
    pub async fn exactly(
        &self,
        address: &str,
        count: usize,
        within: Duration,
    ) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + within;
        loop {
            let mails = self.mails_to(address).await;
            if mails.len() >= count {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {count} mails to {address} arrived within {within:?}",
                mails.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(QUIET_PERIOD).await;
        let mails = self.mails_to(address).await;
        let subjects: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
        assert_eq!(mails.len(), count, "mails to {address}: {subjects:?}");
        mails
    }
}

impl Drop for Maildev {
    fn drop(&mut self) {
        self.stop();
    }
}

fn received(mail: &serde_json::Value) -> ReceivedMail {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    ReceivedMail {
        subject: text(&mail["subject"]),
        text: text(&mail["text"]),
        html: text(&mail["html"]),
        to: mail["to"]
            .as_array()
            .map(|to| to.iter().map(|a| text(&a["address"])).collect())
            .unwrap_or_default(),
        from: text(&mail["headers"]["from"]),
        message_id: text(&mail["headers"]["message-id"]),
    }
}
