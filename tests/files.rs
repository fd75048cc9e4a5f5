//! Files slotel reads that are not what they should be: an SLO file replaced by a FIFO
//! before a reload, a certificate that is `/dev/zero`, a `${file:…}` token that is a
//! FIFO, a write-ahead log segment that is a FIFO. Each is refused with an error naming the
//! file and what it is; nothing waits on it, reads it for ever or takes the process down.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use common::{KillOnDrop, run_on_free_ports};

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

/// `slotel ARGS`, its exit status and stderr; killed (and `None`) after `limit`, with a
/// 2 GiB address-space limit so a read that never ends fails fast.
fn run_limited(args: &[&str], limit: Duration) -> (Option<ExitStatus>, String) {
    let dir = tempfile::tempdir().unwrap();
    let err = dir.path().join("stderr");
    let mut command = Command::new(env!("CARGO_BIN_EXE_slotel"));
    command
        .args(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap());
    // SAFETY: setrlimit is async-signal-safe and touches only the child.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, || {
            let lim = libc::rlimit {
                rlim_cur: 2 << 30,
                rlim_max: 2 << 30,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    let mut child = KillOnDrop(command.spawn().unwrap());
    let step = Duration::from_millis(20);
    let mut status = None;
    for _ in 0..limit.as_millis() / step.as_millis() {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(step);
    }
    drop(child);
    (status, std::fs::read_to_string(err).unwrap_or_default())
}

const SLO: &str = "service: shop\nslos:\n  - name: availability\n    objective: 99.9\n    window: 30d\n    sli:\n      spans:\n        where: kind == SPAN_KIND_SERVER\n        bad: status.code == STATUS_CODE_ERROR\n";

fn write_config(dir: &Path, extra: &str) -> PathBuf {
    let cfg = dir.join("slotel.yaml");
    std::fs::write(
        &cfg,
        format!(
            "receivers:\n  otlp:\n    protocols:\n      http: {{endpoint: 127.0.0.1:0}}\n{extra}"
        ),
    )
    .unwrap();
    cfg
}

/// `slotel check --config CFG`: exit code and stderr (the check must end within 30 s).
fn check(cfg: &Path) -> (i32, String) {
    let (status, err) = run_limited(
        &["check", "--config", cfg.to_str().unwrap()],
        Duration::from_secs(30),
    );
    let status = status.unwrap_or_else(|| panic!("check waited on a FIFO: {err}"));
    (status.code().unwrap_or(-1), err)
}

#[test]
fn check_names_an_slo_file_and_a_token_file_that_are_fifos() {
    let dir = tempfile::tempdir().unwrap();
    let slos = dir.path().join("slos");
    std::fs::create_dir(&slos).unwrap();
    std::fs::write(slos.join("shop.yaml"), SLO).unwrap();
    mkfifo(&slos.join("pay.yaml"));
    let cfg = write_config(
        dir.path(),
        &format!("slo: {{files: [\"{}\"]}}\n", slos.display()),
    );
    let (code, err) = check(&cfg);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "{}: cannot read slo file: not a regular file but a FIFO",
            slos.join("pay.yaml").display()
        )),
        "{err}"
    );

    let token = dir.path().join("token");
    mkfifo(&token);
    let cfg = write_config(
        dir.path(),
        &format!(
            "    auth: {{tokens: [{{token: \"${{file:{}}}\", tenant: t}}]}}\n",
            token.display()
        ),
    );
    let (code, err) = check(&cfg);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!(
            "slotel.yaml:5:29: receivers.otlp.auth.tokens[0].token: cannot read file \"{}\": not a regular file but a FIFO",
            token.display()
        )),
        "{err}"
    );
}

#[test]
fn a_certificate_that_never_ends_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("slotel.yaml");
    std::fs::write(
        &cfg,
        "receivers:\n  otlp:\n    protocols:\n      http: {endpoint: 127.0.0.1:0, tls: {cert_file: /dev/zero, key_file: /dev/zero}}\n",
    )
    .unwrap();
    let (status, err) = run_limited(
        &["run", "--config", cfg.to_str().unwrap()],
        Duration::from_secs(30),
    );
    let status = status.unwrap_or_else(|| panic!("still running: {err}"));
    // An exit code, not a signal (the read of /dev/zero used to end in an abort).
    assert_eq!(status.code(), Some(1), "{status:?}: {err}");
    assert!(
        err.contains("/dev/zero: not a regular file but a character device"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_slo_file_replaced_by_a_fifo_fails_the_reload_and_sigterm_still_stops_slotel() {
    let dir = tempfile::tempdir().unwrap();
    let slos = dir.path().join("slos");
    std::fs::create_dir(&slos).unwrap();
    let file = slos.join("shop.yaml");
    std::fs::write(&file, SLO).unwrap();
    let cfg = dir.path().join("slotel.yaml");
    let log = dir.path().join("slotel.log");
    let (child, _) = run_on_free_ports(&cfg, Some(&log), &[], |p| {
        format!(
            "receivers:\n  otlp:\n    protocols:\n      http: {{endpoint: 127.0.0.1:{}}}\n\
             exporters:\n  nop:\n\
             slo: {{files: [\"{}\"]}}\n\
             service:\n  admin: {{endpoint: 127.0.0.1:{}}}\n  telemetry: {{logs: {{level: warn}}}}\n",
            p.http,
            slos.display(),
            p.admin
        )
    })
    .await
    .unwrap();
    let mut child = child;
    std::fs::remove_file(&file).unwrap();
    mkfifo(&file);
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let said = format!(
        "{}: cannot read slo file: not a regular file but a FIFO",
        file.display()
    );
    let mut logged = String::new();
    for _ in 0..250 {
        logged = std::fs::read_to_string(&log).unwrap_or_default();
        if logged.contains(&said) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(logged.contains(&said), "{logged}");
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut exit = None;
    for _ in 0..750 {
        if let Some(s) = child.try_wait().unwrap() {
            exit = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let exit = exit.expect("slotel did not stop on SIGTERM after the reload");
    assert_eq!(exit.code(), Some(0));
}

/// Starts slotel on free ports with the example SLOs and `slo.state_dir: state`, its log
/// in `log`; fails the test if the start does not end within a minute.
async fn start_with_state(
    cfg: &Path,
    log: &Path,
    state: &Path,
) -> Result<(KillOnDrop, common::Ports), String> {
    tokio::time::timeout(
        Duration::from_secs(60),
        run_on_free_ports(cfg, Some(log), &[], |p| {
            format!(
                "receivers:\n  otlp:\n    protocols:\n      http: {{endpoint: 127.0.0.1:{}}}\n\
                 exporters:\n  nop:\n\
                 slo: {{files: [\"embedded:examples\"], state_dir: \"{}\"}}\n\
                 service:\n  admin: {{endpoint: 127.0.0.1:{}}}\n",
                p.http,
                state.display(),
                p.admin
            )
        }),
    )
    .await
    .expect("slotel waited on the FIFO")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wal_segment_that_is_a_fifo_stops_the_start_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("state/slo-wal");
    std::fs::create_dir_all(&wal).unwrap();
    let segment = wal.join("0000000000000000.wal");
    mkfifo(&segment);
    let cfg = dir.path().join("slotel.yaml");
    let log = dir.path().join("slotel.log");
    let state = dir.path().join("state");
    let started = start_with_state(&cfg, &log, &state).await;
    let err = match started {
        Ok(_) => panic!("slotel started on a WAL segment that is a FIFO"),
        Err(e) => e,
    };
    assert!(
        err.contains(&format!(
            "{}: not a regular file but a FIFO",
            segment.display()
        )),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_files_that_are_fifos_are_moved_aside_and_slotel_starts_empty() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    // The engine's snapshot and the API's budget adjustments.
    let files = ["slo-state.json", "adjustments.json"];
    for file in files {
        mkfifo(&state.join(file));
    }
    let cfg = dir.path().join("slotel.yaml");
    let log = dir.path().join("slotel.log");
    let started = start_with_state(&cfg, &log, &state).await;
    let _child = started.unwrap();
    let said = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        said.matches("not a regular file but a FIFO").count(),
        files.len(),
        "{said}"
    );
    let names: Vec<String> = std::fs::read_dir(&state)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for file in files {
        let aside = names
            .iter()
            .any(|n| n.starts_with(&format!("{file}.corrupt-")));
        assert!(aside, "{file} was not moved aside: {names:?}");
    }
}
