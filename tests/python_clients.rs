//! Runs `tests/python` (pytest) against the slotel binary built for this test run, so
//! `cargo test` and `cargo nextest run` cover slotel with the real Python OpenTelemetry SDK
//! and its OTLP exporters (gRPC and HTTP) as clients.
//!
//! The interpreter comes from `SLOTEL_PYTHON`, else `.venv/bin/python` in the repo; it needs
//! the packages in `tests/python/requirements.txt`. A missing interpreter is a failure, not
//! a skip: `bash scripts/test.sh` creates the venv (or see the panic message).

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

/// Bounds a hang of one pytest run.
const PYTEST_TIMEOUT: Duration = Duration::from_secs(300);
/// The remote-write suite includes a 60 s backend outage.
const REMOTE_WRITE_TIMEOUT: Duration = Duration::from_secs(600);

/// Files with their own test below (so nextest runs them in parallel with the rest).
const OWN_TESTS: &[&str] = &[
    "tests/python/test_remote_write.py",
    "tests/python/test_remote_write_load.py",
    "tests/python/test_otlp_export.py",
    "tests/python/test_consistency.py",
    "tests/python/test_status_page.py",
    "tests/python/test_merged_view.py",
    "tests/python/test_sloth.py",
    "tests/python/test_adjustments.py",
    "tests/python/test_unseen_shapes.py",
];
/// The OTLP and Loki exporter suite takes about 30 s (a SIGKILL and restart included).
const OTLP_EXPORT_TIMEOUT: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_millis(100);

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    let root = repo_root();
    let (python, source) = match std::env::var_os("SLOTEL_PYTHON") {
        Some(p) if !p.is_empty() => (PathBuf::from(p), "SLOTEL_PYTHON"),
        _ => (
            root.join(".venv/bin/python"),
            "the default .venv/bin/python",
        ),
    };
    let python = if python.is_relative() {
        root.join(python)
    } else {
        python
    };
    if !python.exists() {
        panic!(
            "\nthe Python for the client tests is missing: {} (from {source}) does not exist.\n\
             Create it with `bash scripts/test.sh` (sets up everything and runs all checks), or:\n\
             \n    cd {} && python3 -m venv .venv && .venv/bin/pip install -r tests/python/requirements.txt\n\
             \nor set SLOTEL_PYTHON to an interpreter that has tests/python/requirements.txt installed.\n",
            python.display(),
            root.display(),
        );
    }
    python
}

/// Reads a child's pipe to the end on its own thread, so a full pipe never blocks the child.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Kills the child's whole process group (pytest and the slotel processes it started).
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", &format!("-{}", child.id())])
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn python_sdk_clients() {
    let mut args = vec!["tests/python".to_string()];
    args.extend(OWN_TESTS.iter().map(|f| format!("--ignore={f}")));
    run_pytest(&args, PYTEST_TIMEOUT);
}

/// Remote write into a real Prometheus (tests/python/test_remote_write.py).
#[test]
fn python_remote_write_into_prometheus() {
    run_pytest(
        &["tests/python/test_remote_write.py".to_string()],
        REMOTE_WRITE_TIMEOUT,
    );
}

/// SLO series of many groups into a real Prometheus on time, and a slow backend making
/// slotel drop the oldest snapshots (tests/python/test_remote_write_load.py).
#[test]
fn python_remote_write_keeps_up_under_load() {
    run_pytest(
        &["tests/python/test_remote_write_load.py".to_string()],
        PYTEST_TIMEOUT,
    );
}

/// OTLP and Loki exporters into independent sinks (tests/python/test_otlp_export.py).
#[test]
fn python_otlp_and_loki_exporters() {
    run_pytest(
        &["tests/python/test_otlp_export.py".to_string()],
        OTLP_EXPORT_TIMEOUT,
    );
}

/// Every example SLO shape on every path: API, /metrics, remote write and scrape into real
/// Prometheus servers loading the generated rules (tests/python/test_consistency.py).
#[test]
fn python_one_truth_for_slo_numbers() {
    run_pytest(
        &["tests/python/test_consistency.py".to_string()],
        REMOTE_WRITE_TIMEOUT,
    );
}

/// Sloth's Grafana dashboards (every query) and a Pyrra SLO over what slotel writes, on a
/// real Prometheus loading `slotel rules --labels sloth` (tests/python/test_sloth.py).
#[test]
fn python_sloth_dashboards_and_pyrra() {
    run_pytest(&["tests/python/test_sloth.py".to_string()], PYTEST_TIMEOUT);
}

/// The merged view: two replicas remote-write into one Prometheus loading the generated
/// rules, and a third slotel with `slo.status_source` answers with their sum
/// (tests/python/test_merged_view.py).
#[test]
fn python_merged_view_from_prometheus() {
    run_pytest(
        &["tests/python/test_merged_view.py".to_string()],
        PYTEST_TIMEOUT,
    );
}

/// Budget adjustments through the REST API of the real binary: created, listed, deleted
/// with who and why, persisted across restarts, applied to the SDK's spans, and seen by a
/// real Prometheus (tests/python/test_adjustments.py).
#[test]
fn python_budget_adjustments_end_to_end() {
    run_pytest(
        &["tests/python/test_adjustments.py".to_string()],
        PYTEST_TIMEOUT,
    );
}

/// SLO shapes the shipped examples lack (odd group values and keys, objectives, windows,
/// log and metric SLIs, journeys, sampling, adjustments, timeslices with groups) on every
/// path: API, `/metrics`, remote write and scrape into real Prometheus servers loading the
/// generated rules, the OTLP file exporter, the status page's JSON and `slotel replay`
/// (tests/python/test_unseen_shapes.py).
#[test]
fn python_unseen_slo_shapes_read_the_same_on_every_path() {
    run_pytest(
        &["tests/python/test_unseen_shapes.py".to_string()],
        PYTEST_TIMEOUT,
    );
}

/// The status page in headless Chromium (tests/python/test_status_page.py): Debian's
/// `chromium` must be installed (`bash scripts/test.sh` does); without it the test fails.
#[test]
fn python_status_page_in_chromium() {
    run_pytest(
        &["tests/python/test_status_page.py".to_string()],
        OTLP_EXPORT_TIMEOUT,
    );
}

fn run_pytest(targets: &[String], timeout: Duration) {
    let python = python();
    let root = repo_root();
    let slotel = Path::new(env!("CARGO_BIN_EXE_slotel"));
    assert!(
        slotel.is_file(),
        "slotel binary missing at {}",
        slotel.display()
    );

    let mut cmd = Command::new(&python);
    cmd.args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .args(targets)
        .current_dir(&root)
        .env("SLOTEL_BIN", slotel)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The SDK reads OTEL_* variables (OTEL_SDK_DISABLED, OTEL_EXPORTER_OTLP_*, …); a
    // developer's shell must not change what the tests send.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("OTEL_") {
            cmd.env_remove(key);
        }
    }
    // Its own process group, so a timeout can kill pytest and every slotel it started.
    cmd.process_group(0);

    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
    let stdout = drain(child.stdout.take().expect("stdout is piped"));
    let stderr = drain(child.stderr.take().expect("stderr is piped"));

    let mut waited = Duration::ZERO;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if waited >= timeout => {
                kill_group(&mut child);
                break None;
            }
            Ok(None) => {
                thread::sleep(POLL);
                waited += POLL;
            }
            Err(e) => panic!("waiting for pytest: {e}"),
        }
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let output = format!("--- pytest stdout ---\n{stdout}\n--- pytest stderr ---\n{stderr}");

    match status {
        None => panic!(
            "pytest did not finish within {}s and was killed\n{output}",
            timeout.as_secs()
        ),
        Some(s) if s.success() => println!("{output}"),
        Some(s) => {
            let hint = if output.contains("No module named") {
                "\nhint: the interpreter lacks the test packages: \
                 pip install -r tests/python/requirements.txt (or run scripts/test.sh)"
            } else {
                ""
            };
            panic!(
                "python client tests failed ({s}) with {}{hint}\n{output}",
                python.display()
            )
        }
    }
}
