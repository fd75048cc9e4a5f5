//! A real Prometheus (Debian's `prometheus` package, 2.42 in CI) for tests: started on a
//! free loopback port with a temp data dir, remote write receiving and native histograms
//! enabled, optional rule files and scrape targets; queried over its HTTP API; killed on drop.
//!
//! ```ignore
//! let prom = Prometheus::start(&[]);                       // or Prometheus::builder()…
//! let v = prom.query("up");                                // the API's `data` field
//! let url = prom.remote_write_url();                       // http://127.0.0.1:PORT/api/v1/write
//! ```
//!
//! The HTTP client is blocking (std `TcpStream`); from async tests call it inside
//! `tokio::task::spawn_blocking`. A missing `prometheus` binary is a test failure, never a skip.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::free_port;

/// How to start Prometheus.
#[derive(Debug, Clone)]
pub struct Builder {
    rule_files: Vec<PathBuf>,
    scrape_targets: Vec<String>,
    interval: String,
    extra_args: Vec<String>,
    native_histograms: bool,
}

impl Builder {
    /// Rule files to load (`rule_files` of the config).
    pub fn rule_file(mut self, path: impl AsRef<Path>) -> Self {
        self.rule_files.push(path.as_ref().to_path_buf());
        self
    }

    /// A `host:port` to scrape (`/metrics`) at the interval.
    pub fn scrape(mut self, target: impl Into<String>) -> Self {
        self.scrape_targets.push(target.into());
        self
    }

    /// Scrape and rule evaluation interval (default `1s`).
    pub fn interval(mut self, interval: &str) -> Self {
        self.interval = interval.to_string();
        self
    }

    /// Without the native histograms feature: scrapes ask for text and keep classic
    /// buckets.
    pub fn without_native_histograms(mut self) -> Self {
        self.native_histograms = false;
        self
    }

    /// More command-line flags.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.extra_args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// Starts Prometheus and waits until it is ready; panics if it cannot. A port free
    /// when picked can be taken before Prometheus binds it: it then exits saying so and is
    /// started again on another port (in a new directory), at most five times.
    pub fn start(self) -> Prometheus {
        for _ in 1..5 {
            match self.start_once() {
                Ok(prom) => return prom,
                Err(prom) if super::port_taken(&prom.log_text()) => continue,
                Err(prom) => panic!("prometheus exited:\n{}", prom.log_text()),
            }
        }
        self.start_once()
            .unwrap_or_else(|prom| panic!("prometheus exited:\n{}", prom.log_text()))
    }

    /// One start; `Err` with the process if it exits before it is ready.
    fn start_once(&self) -> Result<Prometheus, Prometheus> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = format!(
            "global:\n  scrape_interval: {i}\n  evaluation_interval: {i}\n",
            i = self.interval
        );
        if !self.rule_files.is_empty() {
            config.push_str("rule_files:\n");
            for f in &self.rule_files {
                config.push_str(&format!("  - {:?}\n", f.display().to_string()));
            }
        }
        if !self.scrape_targets.is_empty() {
            config.push_str(
                "scrape_configs:\n  - job_name: test\n    static_configs:\n      - targets:\n",
            );
            for t in &self.scrape_targets {
                config.push_str(&format!("          - {t:?}\n"));
            }
        }
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).expect("write prometheus.yml");
        let port = free_port();
        let log_path = dir.path().join("prometheus.log");
        let log = std::fs::File::create(&log_path).expect("prometheus.log");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .args(
                self.native_histograms
                    .then_some("--enable-feature=native-histograms"),
            )
            .args(&self.extra_args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start `prometheus` ({e}): install Debian's `prometheus` package \
                     (scripts/test.sh does)"
                )
            });
        let mut prom = Prometheus {
            child,
            port,
            log: log_path,
            dir,
        };
        // Up to 30 s: 300 polls 100 ms apart.
        for _ in 0..300 {
            if let Ok((200, _)) = prom.get("/-/ready") {
                return Ok(prom);
            }
            if let Ok(Some(_)) = prom.child.try_wait() {
                return Err(prom);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("prometheus not ready after 30s:\n{}", prom.log_text());
    }
}

/// A running Prometheus; killed when dropped.
pub struct Prometheus {
    child: Child,
    pub port: u16,
    log: PathBuf,
    pub dir: tempfile::TempDir,
}

impl Prometheus {
    /// Default options: no rules, no scrape targets, 1s intervals.
    pub fn builder() -> Builder {
        Builder {
            rule_files: Vec::new(),
            scrape_targets: Vec::new(),
            interval: "1s".to_string(),
            extra_args: Vec::new(),
            native_histograms: true,
        }
    }

    /// Starts Prometheus with `extra_args` and no rules.
    pub fn start(extra_args: &[&str]) -> Prometheus {
        Self::builder().args(extra_args).start()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The remote-write endpoint.
    pub fn remote_write_url(&self) -> String {
        format!("{}/api/v1/write", self.url())
    }

    /// What Prometheus logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// An instant query; the `data` of a successful answer, else the error text.
    pub fn try_query(&self, promql: &str) -> Result<serde_json::Value, String> {
        self.api(&format!("/api/v1/query?query={}", encode(promql)))
    }

    /// An instant query's `data`; panics with Prometheus' error.
    pub fn query(&self, promql: &str) -> serde_json::Value {
        self.try_query(promql)
            .unwrap_or_else(|e| panic!("query {promql:?} failed: {e}"))
    }

    /// The result vector of an instant query (empty when it is not a vector).
    pub fn vector(&self, promql: &str) -> Vec<serde_json::Value> {
        match &self.query(promql)["result"] {
            serde_json::Value::Array(items) => items.clone(),
            _ => Vec::new(),
        }
    }

    /// `/api/v1/rules`' `data`.
    pub fn rules(&self) -> serde_json::Value {
        self.api("/api/v1/rules").expect("rules API")
    }

    /// A GET on the API: `data` when the status is `success`.
    pub fn api(&self, path_and_query: &str) -> Result<serde_json::Value, String> {
        let (status, body) = self.get(path_and_query)?;
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            format!(
                "HTTP {status}, not JSON ({e}): {}",
                String::from_utf8_lossy(&body)
            )
        })?;
        if v["status"] == "success" {
            Ok(v["data"].clone())
        } else {
            Err(format!("HTTP {status}: {v}"))
        }
    }

    /// One HTTP/1.0 GET: status and body.
    pub fn get(&self, path_and_query: &str) -> Result<(u16, Vec<u8>), String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        write!(
            stream,
            "GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("no end of headers")?;
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line: {head}"))?;
        Ok((status, raw[split + 4..].to_vec()))
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Percent-encoding for a query parameter.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
