//! Compiles the protobuf files in `proto/` (Prometheus remote write, Loki push) with
//! prost-build. The descriptors come from protox, a protobuf compiler in Rust, so building
//! slotel needs no system `protoc`.
//!
//! Also names the build for `slotel_build_info`: `SLOTEL_REVISION` (the environment's
//! `SLOTEL_REVISION` when set, as in an image build without `.git`; else `git rev-parse
//! HEAD`; else `unknown`) and `SLOTEL_RUSTC_VERSION` (`$RUSTC --version`).

use std::process::Command;

fn main() {
    build_info();
    let files = ["proto/prometheus/remote.proto", "proto/loki/push.proto"];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    let descriptors = match protox::compile(files, ["proto"]) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot compile proto files: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = prost_build::Config::new().compile_fds(descriptors) {
        eprintln!("cannot generate Rust from proto files: {e}");
        std::process::exit(1);
    }
}

/// The output of a command, trimmed, if it ran and succeeded.
fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_string())
}

fn build_info() {
    println!("cargo:rerun-if-env-changed=SLOTEL_REVISION");
    let revision = match std::env::var("SLOTEL_REVISION") {
        Ok(r) if !r.trim().is_empty() => r.trim().to_string(),
        _ => {
            // Rebuild when the checked-out commit moves: HEAD, the branch it points to,
            // and packed refs (only those that exist: a missing path reruns every build).
            let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
            if let Some(branch) = output("git", &["symbolic-ref", "-q", "HEAD"]) {
                watched.push(branch);
            }
            for name in watched {
                if let Some(path) = output("git", &["rev-parse", "--git-path", &name])
                    && std::path::Path::new(&path).exists()
                {
                    println!("cargo:rerun-if-changed={path}");
                }
            }
            output("git", &["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_string())
        }
    };
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let rustc_version = output(&rustc, &["--version"]).unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=SLOTEL_REVISION={revision}");
    println!("cargo:rustc-env=SLOTEL_RUSTC_VERSION={rustc_version}");
}
