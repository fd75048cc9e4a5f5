//! The command-line habits users expect, checked on the real binary: shell completions,
//! the progress line (only on a terminal), exit codes when nothing was done, a readable
//! start-up log (text and JSON), and warnings for pipelines without exporters.

use std::io::{BufRead, BufReader};
mod common;

use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Ports, port_taken, slotel};

const SUBCOMMANDS: [&str; 9] = [
    "run",
    "check",
    "loadgen",
    "redact",
    "rules",
    "replay",
    "import",
    "suggest",
    "completions",
];

fn completions(shell: &str) -> String {
    let out = slotel().args(["completions", shell]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.trim().is_empty(), "{shell}: empty script");
    text
}

#[test]
fn bash_completion_parses_and_completes_every_subcommand() {
    let script = completions("bash");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slotel.bash");
    std::fs::write(&path, &script).unwrap();
    let syntax = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        syntax.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    // Load it the way bash-completion does and ask for the words after `slotel `.
    let probe = format!(
        "source {}; COMP_WORDS=(slotel ''); COMP_CWORD=1; COMP_LINE='slotel '; COMP_POINT=7; \
         _slotel slotel '' slotel; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display()
    );
    let out = Command::new("bash").args(["-c", &probe]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let words: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    for sub in SUBCOMMANDS {
        assert!(
            words.iter().any(|w| w == sub),
            "bash offers no {sub}: {words:?}"
        );
    }
}

#[test]
fn zsh_and_fish_completions_name_every_subcommand() {
    let zsh = completions("zsh");
    assert!(
        zsh.starts_with("#compdef slotel"),
        "{}",
        &zsh[..zsh.len().min(80)]
    );
    let fish = completions("fish");
    assert!(fish.contains("complete -c slotel"));
    for sub in SUBCOMMANDS {
        assert!(zsh.contains(&format!("'{sub}:")), "zsh script lacks {sub}");
        assert!(
            fish.contains(&format!(" -a \"{sub}\"")),
            "fish script lacks {sub}"
        );
    }
}

#[test]
fn completions_for_an_unknown_shell_is_a_usage_error() {
    let out = slotel().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bash"));
}

/// A loadgen run of `secs` against a server that refuses every request (HTTP 400), so it
/// lasts the whole duration and acknowledges nothing.
fn loadgen_args(secs: u32) -> Vec<String> {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 65_536];
            let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    [
        "loadgen",
        "--protocol",
        "http",
        "--endpoint",
        &format!("http://127.0.0.1:{port}"),
        "--concurrency",
        "1",
        "--items-per-request",
        "4",
        "--duration",
        &format!("{secs}s"),
    ]
    .map(str::to_string)
    .to_vec()
}

#[test]
fn no_progress_line_when_stderr_is_not_a_terminal() {
    let out = slotel().args(loadgen_args(2)).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // Nothing was acknowledged: exit 1 with the reason, and nothing else on stderr.
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains('\r') && !err.contains('\x1b'), "{err:?}");
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(
        err.starts_with("slotel loadgen: nothing was acknowledged"),
        "{err:?}"
    );
}

#[test]
fn progress_line_on_a_terminal() {
    // `script` runs the command on a pseudo-terminal and copies what it prints.
    let bin = env!("CARGO_BIN_EXE_slotel");
    let cmd = std::iter::once(bin.to_string())
        .chain(loadgen_args(3))
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script (util-linux) runs the pty test");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("\rslotel loadgen: ")
            && text.contains("requests, ")
            && text.contains("s left"),
        "{text:?}"
    );
    // The line is erased before the report is printed.
    assert!(text.contains("\r\x1b[K"), "{text:?}");
    assert!(text.contains("nothing was acknowledged"), "{text:?}");
}

#[test]
fn redact_of_empty_input_succeeds_with_empty_output() {
    let out = slotel()
        .args(["redact", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("0 lines, 0 changed"));
}

#[test]
fn replay_of_an_empty_capture_fails() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("capture");
    std::fs::create_dir(&capture).unwrap();
    let out = slotel()
        .args(["replay", "--slos", "embedded:examples", "--capture"])
        .arg(&capture)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no span or log facts"));
}

#[test]
fn rules_out_dash_writes_one_format_to_stdout_and_refuses_several() {
    let dir = tempfile::tempdir().unwrap();
    let rules = |formats: &str| {
        slotel()
            .current_dir(dir.path())
            .args([
                "rules",
                "--slos",
                "embedded:examples",
                "--out",
                "-",
                "--format",
                formats,
            ])
            .output()
            .unwrap()
    };
    let one = rules("prometheus");
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    let text = String::from_utf8(one.stdout).unwrap();
    assert!(
        text.starts_with("groups:") || text.contains("\ngroups:"),
        "{text}"
    );
    assert!(!text.contains("wrote "), "only the file on stdout");
    let two = rules("prometheus,grafana-dashboard");
    assert_eq!(two.status.code(), Some(1));
    let err = String::from_utf8_lossy(&two.stderr);
    assert!(err.contains("stdout takes one file, this run makes 2 (prometheus-rules.yaml, grafana-dashboard.json)"), "{err}");
    assert!(!dir.path().join("-").exists(), "no directory named -");
}

/// Starts `slotel run` on `config(ports)`, collects its stderr until it is ready, stops it
/// with SIGTERM and returns every line it logged, with the ports it ran on. A port free when
/// picked can be taken before slotel binds it: it is then started again on other ports, at
/// most five times.
fn run_log(config: impl Fn(Ports) -> String) -> (Vec<String>, Ports) {
    for _ in 0..5 {
        let ports = Ports::free();
        if let Some(lines) = run_log_once(&config(ports)) {
            return (lines, ports);
        }
    }
    panic!("slotel found a port taken five times");
}

/// [`run_log`] once; `None` when slotel exited at start because a port was taken.
fn run_log_once(config: &str) -> Option<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slotel.yaml");
    std::fs::write(&path, config).unwrap();
    let mut child = slotel()
        .args(["run", "--config"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => {
                let ready = line.contains("slotel is ready");
                lines.push(line);
                if ready {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) if lines.iter().any(|l| port_taken(l)) => {
                let _ = child.wait();
                return None;
            }
            Err(_) => {
                let _ = child.kill();
                panic!("slotel did not become ready: {lines:#?}");
            }
        }
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{lines:#?}");
    lines.extend(rx.try_iter());
    Some(lines)
}

fn two_exporter_config(extra_service: &str) -> impl Fn(Ports) -> String {
    move |p| {
        format!(
            "receivers:\n  otlp:\n    protocols:\n      grpc: {{endpoint: 127.0.0.1:{}}}\n      http: {{endpoint: 127.0.0.1:{}}}\n\
             exporters:\n  debug: {{}}\n  otlphttp/backend:\n    endpoint: https://user:secret@backend.example:4318\n\
             service:\n  admin: {{endpoint: 127.0.0.1:{}}}\n{extra_service}",
            p.grpc, p.http, p.admin
        )
    }
}

#[test]
fn start_up_log_has_one_readable_line_per_listener_and_exporter() {
    let (lines, ports) = run_log(two_exporter_config(""));
    let (grpc, http, admin) = (ports.grpc, ports.http, ports.admin);
    let all = lines.join("\n");
    for (name, port) in [("otlp/grpc", grpc), ("otlp/http", http), ("admin", admin)] {
        let want = format!("listening listener={name} address=127.0.0.1:{port} tls=off");
        let n = lines.iter().filter(|l| l.ends_with(&want)).count();
        assert_eq!(n, 1, "{want}\n{all}");
    }
    let exporters: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("exporter started"))
        .collect();
    assert_eq!(exporters.len(), 2, "{all}");
    assert!(
        exporters[0].ends_with(
            "exporter started exporter=debug destination=stderr signals=traces,metrics,logs"
        ),
        "{all}"
    );
    assert!(exporters[1].ends_with(
        "exporter started exporter=otlphttp/backend destination=https://backend.example:4318 signals=traces,metrics,logs"
    ), "{all}");
    // No Rust Debug renderings, no credentials, no pipeline warning (every pipeline has one).
    for bad in ["Some(", "None", "\"", "secret", "WARN"] {
        assert!(!all.contains(bad), "{bad} in the start-up log:\n{all}");
    }
}

#[test]
fn start_up_log_is_json_when_configured() {
    let (lines, Ports { grpc, .. }) = run_log(two_exporter_config(
        "  telemetry:\n    logs:\n      format: json\n",
    ));
    let docs: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let grpc_line = docs
        .iter()
        .find(|d| d["listener"] == "otlp/grpc")
        .expect("a line for the grpc listener");
    assert_eq!(grpc_line["message"], "listening");
    assert_eq!(grpc_line["address"], format!("127.0.0.1:{grpc}"));
    assert_eq!(grpc_line["level"], "INFO");
    let exporters: Vec<&serde_json::Value> = docs
        .iter()
        .filter(|d| d["message"] == "exporter started")
        .collect();
    assert_eq!(exporters.len(), 2);
    assert_eq!(exporters[1]["exporter"], "otlphttp/backend");
}

#[test]
fn pipelines_without_exporters_are_warned_about_in_check_and_at_start() {
    let config = |p: Ports| {
        format!(
            "receivers:\n  otlp:\n    protocols:\n      http: {{endpoint: 127.0.0.1:{}}}\n\
             exporters:\n  loki:\n    endpoint: http://127.0.0.1:3100\n\
             service:\n  admin: {{endpoint: 127.0.0.1:{}}}\n",
            p.http, p.admin
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slotel.yaml");
    std::fs::write(&path, config(Ports::free())).unwrap();
    let check = slotel()
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&check.stderr);
    assert!(
        check.status.success(),
        "a warning does not fail check: {err}"
    );
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains(": warning: ")).collect();
    assert_eq!(warnings.len(), 2, "{err}");
    assert!(warnings[0].contains(
        "service.pipelines.traces has no exporter (no configured exporter takes traces)"
    ));
    assert!(warnings[1].contains("service.pipelines.metrics has no exporter"));
    let (lines, _) = run_log(config);
    let warned: Vec<&String> = lines.iter().filter(|l| l.contains(" WARN ")).collect();
    assert_eq!(warned.len(), 2, "{lines:#?}");
    assert!(warned[0].contains("service.pipelines.traces has no exporter"));
}
