//! The `slotel` command line: `check` exit codes and messages, `--version`, `--help`,
//! `SLOTEL_CONFIG`.

use std::process::Command;

fn slotel() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_slotel"));
    c.env_remove("SLOTEL_CONFIG");
    c
}

#[test]
fn check_accepts_the_embedded_default() {
    let out = slotel().arg("check").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("<embedded>: ok"));
}

#[test]
fn check_reports_every_error_with_its_place_and_exits_1() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/config/several_errors.yaml"
    );
    let out = slotel()
        .args(["check", "--config", fixture])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.len() >= 5, "{err}");
    for l in &lines {
        assert!(l.starts_with(fixture), "{l}");
    }
    assert!(
        err.contains(":19:11: receivers.otlp.auth.tokens[0].clustr: unknown key"),
        "{err}"
    );
}

#[test]
fn slotel_config_names_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(
        &cfg,
        "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpont: 1\n",
    )
    .unwrap();
    let out = slotel()
        .arg("check")
        .env("SLOTEL_CONFIG", &cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("c.yaml:5:9: receivers.otlp.protocols.grpc.endpont: unknown key"),
        "{err}"
    );
    let missing = slotel()
        .args(["check", "--config", "/nonexistent/slotel.yaml"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/slotel.yaml"));
}

#[test]
fn version_and_help() {
    let out = slotel().arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("slotel {}", env!("CARGO_PKG_VERSION"))
    );
    let out = slotel().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["run", "check", "loadgen"] {
        assert!(help.contains(cmd), "{help}");
    }
    let out = slotel()
        .args(["run", "--config", "/nonexistent.yaml"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "run with a missing config fails"
    );
}

#[test]
fn the_container_config_is_valid() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/slotel.yaml");
    let out = slotel().args(["check", "--config", cfg]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_example_configs_are_valid() {
    for name in ["forwarding.yaml", "redaction.yaml"] {
        let cfg = format!("{}/config/examples/{name}", env!("CARGO_MANIFEST_DIR"));
        let out = slotel()
            .args(["check", "--config", &cfg])
            .env("SLOTEL_REDACTION_KEY", "an example key of enough length")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
