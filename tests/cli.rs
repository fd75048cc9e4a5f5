//! The `slotel` command line: `check` exit codes and messages, `--version`, `--help`,
//! `SLOTEL_CONFIG`.

mod common;

use common::slotel;

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

/// A config whose only SLO entry is `files`, written to `dir`.
fn config_with_slo_files(dir: &std::path::Path, files: &str, extra: &str) -> std::path::PathBuf {
    let cfg = dir.join("slotel.yaml");
    std::fs::write(
        &cfg,
        format!(
            "receivers:\n  otlp:\n    protocols:\n      grpc: {{endpoint: 127.0.0.1:0}}\n\
             slo:\n  files: [{files}]\n{extra}service:\n  admin: {{endpoint: 127.0.0.1:0}}\n"
        ),
    )
    .unwrap();
    cfg
}

/// A typo in an SLO glob (or a directory without SLO files) fails `check`, `run` and
/// `rules` with a message naming the entry, instead of running without those SLOs and their
/// alerts; `slo.allow_empty` / `--allow-empty` accept it.
#[test]
fn slo_inputs_that_match_nothing_fail_check_run_and_rules() {
    let dir = tempfile::tempdir().unwrap();
    let typo = format!("{}/typo/*.yaml", dir.path().display());
    let empty_dir = dir.path().join("slos");
    std::fs::create_dir(&empty_dir).unwrap();
    let empty_dir = empty_dir.display().to_string();
    let out_dir = dir.path().join("out");

    for (entry, message) in [
        (&typo, "glob matches no slo file"),
        (&empty_dir, "directory holds no slo file"),
    ] {
        let want = format!("{entry}: {message}");
        let cfg = config_with_slo_files(dir.path(), &format!("{entry:?}"), "");
        for args in [vec!["check"], vec!["run"]] {
            let out = slotel()
                .args(&args)
                .arg("--config")
                .arg(&cfg)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
            assert!(err.contains(&want), "{args:?}: {err}");
            assert!(err.contains("allow_empty"), "{args:?}: {err}");
        }
        let out = slotel()
            .args(["rules", "--slos", entry, "--out"])
            .arg(&out_dir)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(&want), "{err}");
        assert!(!out_dir.exists(), "nothing is written");
    }

    // Allowed explicitly: check passes with no SLOs, rules writes empty files.
    let cfg = config_with_slo_files(dir.path(), &format!("{typo:?}"), "  allow_empty: true\n");
    let out = slotel()
        .arg("check")
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok (0 slos)"));
    let out = slotel()
        .args([
            "rules",
            "--allow-empty",
            "--format",
            "prometheus",
            "--slos",
            &typo,
            "--out",
        ])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rules = std::fs::read_to_string(out_dir.join("prometheus-rules.yaml")).unwrap();
    assert!(rules.contains("groups: []"), "{rules}");
}

/// `slotel rules` with no SLO files at all (none configured) is an error too.
#[test]
fn rules_without_any_slo_file_fails() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_with_slo_files(dir.path(), "", "");
    let out = slotel()
        .args(["rules", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no slo files given"), "{err}");
}

/// `slotel loadgen` against a server that refuses every request acknowledged nothing:
/// exit 1, and the report still says what was attempted.
#[test]
fn loadgen_exits_1_when_nothing_was_acknowledged() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            // Read the request head and body (small: 4 spans), then refuse it.
            let mut buf = [0u8; 65_536];
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(200)));
            let _ = stream.read(&mut buf);
            let body = "refused";
            let _ = write!(
                stream,
                "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let out = slotel()
        .args(["loadgen", "--protocol", "http", "--endpoint"])
        .arg(format!("http://127.0.0.1:{port}"))
        .args([
            "--items",
            "40",
            "--concurrency",
            "1",
            "--items-per-request",
            "4",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{err}\n{report}");
    assert!(err.contains("nothing was acknowledged"), "{err}");
    assert!(report.contains("acknowledged 0"), "{report}");
}
