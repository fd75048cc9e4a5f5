//! slotel's process and build series and its reload gauges, scraped from `/metrics` of the
//! real binary: `process_*` as the Prometheus client guidelines define them,
//! `slotel_build_info`, and `slotel_{config,slo_files}_last_reload_*` through SIGHUP
//! reloads of a broken and a fixed file.

mod common;

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::free_port;

/// `GET /metrics` in the Prometheus text format (0.0.4); `None` until slotel answers.
fn scrape(admin: u16) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", admin)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain;version=0.0.4\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    let (head, body) = raw.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_string())
}

/// The value of the sample `name` (without labels, or the first with `labels` in it).
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?;
        let rest = match rest.strip_prefix('{') {
            Some(r) => r.split_once("} ")?.1,
            None => rest.strip_prefix(' ')?,
        };
        rest.trim().parse().ok()
    })
}

fn type_of<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("# TYPE {name} ")))
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

struct Slotel {
    child: Child,
    admin: u16,
    dir: tempfile::TempDir,
}

impl Drop for Slotel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Slotel {
    fn config_path(&self) -> std::path::PathBuf {
        self.dir.path().join("slotel.yaml")
    }

    fn slo_path(&self) -> std::path::PathBuf {
        self.dir.path().join("slos").join("checkout.yaml")
    }

    fn config_text(admin: u16, dir: &std::path::Path) -> String {
        format!(
            "receivers:\n  otlp:\n    protocols:\n      http: {{endpoint: 127.0.0.1:{}}}\n\
             exporters:\n  nop: {{}}\n\
             slo:\n  files: [\"{}/slos/*.yaml\"]\n\
             service:\n  admin: {{endpoint: 127.0.0.1:{admin}}}\n",
            free_port(),
            dir.display()
        )
    }

    /// Starts slotel on free ports; again on other ports (at most five times) when it exits
    /// before it answers, as it does when a port was taken between its pick and its bind.
    fn start() -> Slotel {
        for _ in 0..5 {
            let dir = tempfile::tempdir().unwrap();
            let admin = free_port();
            std::fs::create_dir(dir.path().join("slos")).unwrap();
            std::fs::copy(
                concat!(env!("CARGO_MANIFEST_DIR"), "/config/slos/checkout.yaml"),
                dir.path().join("slos").join("checkout.yaml"),
            )
            .unwrap();
            std::fs::write(
                dir.path().join("slotel.yaml"),
                Self::config_text(admin, dir.path()),
            )
            .unwrap();
            let child = Command::new(env!("CARGO_BIN_EXE_slotel"))
                .args(["run", "--config"])
                .arg(dir.path().join("slotel.yaml"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut s = Slotel { child, admin, dir };
            for _ in 0..200 {
                if scrape(admin).is_some() {
                    return s;
                }
                if s.child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if s.child.try_wait().unwrap().is_none() {
                panic!("slotel did not answer /metrics");
            }
        }
        panic!("slotel exited before it answered, five times");
    }

    fn sighup(&self) {
        let ok = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// Scrapes until `name` has `value` (reloads are handled asynchronously).
    fn wait_for(&self, name: &str, value: f64) -> String {
        let mut last = String::new();
        for _ in 0..100 {
            last = scrape(self.admin).unwrap_or_default();
            if sample(&last, name) == Some(value) {
                return last;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{name} never became {value}:\n{last}");
    }
}

/// User plus system CPU seconds of `pid`, as `/proc/<pid>/stat` gives them (fields 14 and
/// 15 after the parenthesised name, in USER_HZ = 100 ticks a second: proc(5)).
fn cpu_seconds_of(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 =
        after_name[11].parse::<u64>().unwrap() + after_name[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

#[test]
fn process_series_follow_the_prometheus_client_conventions() {
    let s = Slotel::start();
    // Some work to count: the CPU seconds of a scrape lie between two readings around it.
    for _ in 0..20 {
        scrape(s.admin).unwrap();
    }
    let before = cpu_seconds_of(s.child.id());
    let text = scrape(s.admin).unwrap();
    let after = cpu_seconds_of(s.child.id());
    let want = [
        ("process_cpu_seconds_total", "counter"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_virtual_memory_bytes", "gauge"),
        ("process_open_fds", "gauge"),
        ("process_max_fds", "gauge"),
        ("process_start_time_seconds", "gauge"),
    ];
    for (name, kind) in want {
        assert_eq!(type_of(&text, name), Some(kind), "{name}:\n{text}");
        assert!(sample(&text, name).is_some(), "no sample {name}");
    }
    let v = |name| sample(&text, name).unwrap();
    let start = v("process_start_time_seconds");
    assert!((now() - start).abs() < 60.0, "start {start}, now {}", now());
    let cpu = v("process_cpu_seconds_total");
    assert!(
        before <= cpu && cpu <= after,
        "{before} <= {cpu} <= {after}"
    );
    // A server with a tokio runtime, mimalloc and listeners is bigger than a megabyte
    // resident and has reserved more address space than it has touched.
    assert!(v("process_resident_memory_bytes") > 1e6);
    assert!(v("process_virtual_memory_bytes") > v("process_resident_memory_bytes"));
    // stdin, stdout, stderr and three listening sockets at least, below the limit.
    assert!(v("process_open_fds") >= 6.0);
    assert!(v("process_max_fds") > v("process_open_fds"));

    assert_eq!(type_of(&text, "slotel_build_info"), Some("gauge"));
    let info = text
        .lines()
        .find(|l| l.starts_with("slotel_build_info{"))
        .unwrap();
    assert!(info.ends_with("} 1"), "{info}");
    assert!(
        info.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))),
        "{info}"
    );
    assert!(info.contains("rustc=\"rustc 1."), "{info}");
    let revision = info
        .split("revision=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(
        revision == "unknown"
            || (revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit())),
        "{info}"
    );
}

#[test]
fn reload_gauges_follow_sighup_reloads_of_broken_and_fixed_files() {
    let s = Slotel::start();
    let text = scrape(s.admin).unwrap();
    for name in ["config", "slo_files"] {
        let ok = format!("slotel_{name}_last_reload_successful");
        let ts = format!("slotel_{name}_last_reload_success_timestamp_seconds");
        assert_eq!(type_of(&text, &ok), Some("gauge"));
        assert_eq!(type_of(&text, &ts), Some("gauge"));
        assert_eq!(sample(&text, &ok), Some(1.0), "{name} at start");
        let at = sample(&text, &ts).unwrap();
        assert!((now() - at).abs() < 60.0, "{name}: {at}");
    }
    let started = sample(
        &text,
        "slotel_slo_files_last_reload_success_timestamp_seconds",
    )
    .unwrap();

    // A broken SLO file: the gauge drops to 0, the last success keeps its time.
    let good = std::fs::read_to_string(s.slo_path()).unwrap();
    std::fs::write(
        s.slo_path(),
        good.replace("objective: 99 ", "objective: 120 "),
    )
    .unwrap();
    s.sighup();
    let text = s.wait_for("slotel_slo_files_last_reload_successful", 0.0);
    assert_eq!(
        sample(
            &text,
            "slotel_slo_files_last_reload_success_timestamp_seconds"
        ),
        Some(started)
    );
    assert_eq!(
        sample(&text, "slotel_config_last_reload_successful"),
        Some(1.0)
    );

    // Fixed: back to 1, with a newer success time.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(s.slo_path(), &good).unwrap();
    s.sighup();
    let text = s.wait_for("slotel_slo_files_last_reload_successful", 1.0);
    assert!(
        sample(
            &text,
            "slotel_slo_files_last_reload_success_timestamp_seconds"
        )
        .unwrap()
            > started
    );

    // The config file: a typo makes its reload fail; fixed, it succeeds again.
    let config = std::fs::read_to_string(s.config_path()).unwrap();
    std::fs::write(s.config_path(), config.replace("exporters:", "exportres:")).unwrap();
    s.sighup();
    s.wait_for("slotel_config_last_reload_successful", 0.0);
    std::fs::write(s.config_path(), &config).unwrap();
    s.sighup();
    s.wait_for("slotel_config_last_reload_successful", 1.0);
}
