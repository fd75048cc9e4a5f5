//! `slotel redact [--config PATH] [FILE]`: redacts log bodies read as lines (a JSON object
//! or plain text per line) from a file or stdin and writes them to stdout, so rules can be
//! tried on sample logs before they are deployed. A count per type and action goes to
//! stderr; found values never do.
//!
//! `--report[=json]` prints, instead of the lines, how many items were redacted per type
//! and key path; `--dry-run` writes the lines with each detection marked by its type and
//! the value masked (`audit.rs`). `--tenant` and `--service` pick the policy.
//!
//! On a terminal, a run longer than a second shows its progress on stderr
//! ([`crate::cli::progress`]). Empty input is a success: like any filter, `redact` has
//! done its job when everything it read (nothing) is written.

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::audit::{self, TypeReport};
use super::{Policies, RedactError, Session};
use crate::cli::progress::ProgressLine;
use crate::config::{self, ConfigErrors, RedactionConfig};

/// Lines longer than this are cut (the rest of the line is dropped, and counted).
const MAX_LINE_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Args, Debug, Clone)]
pub struct RedactArgs {
    /// JSON lines to redact (one log body per line); stdin when absent or `-`.
    pub file: Option<PathBuf>,
    /// Print no summary on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print, instead of the redacted lines, how many items were redacted per type and
    /// key path (values are never shown): `--report` as a table, `--report=json`.
    #[arg(
        long,
        value_enum,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "text",
        conflicts_with = "dry_run"
    )]
    pub report: Option<ReportFormat>,
    /// Write the lines with each detection marked `[<type>:<action>:<shape>]` (the value
    /// masked) instead of redacted; `drop` marks instead of removing.
    #[arg(long)]
    pub dry_run: bool,
    /// Redact with the policy of this tenant (as a token of the tenant would).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Redact with the policy of this `service.name`.
    #[arg(long)]
    pub service: Option<String>,
}

/// How `--report` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

/// Why `slotel redact` failed.
#[derive(Debug, thiserror::Error)]
pub enum RedactCliError {
    #[error("{0}")]
    Config(ConfigErrors),
    #[error(transparent)]
    Build(#[from] RedactError),
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: io::Error },
    #[error("cannot write the output: {0}")]
    Write(io::Error),
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Summary {
    pub lines: u64,
    pub changed: u64,
    pub truncated: u64,
    /// (type, action, count), non-zero only.
    pub counts: Vec<(String, &'static str, u64)>,
    /// Whether the config had no `processors.redaction` and the defaults were used.
    pub defaults: bool,
    /// The policy used (`default` or a policy's name).
    pub policy: String,
    /// Per type and key path (with `--report` or `--dry-run`).
    pub report: Vec<TypeReport>,
}

impl Summary {
    pub fn render(&self) -> String {
        let mut out = format!(
            "{} lines, {} changed{}",
            self.lines,
            self.changed,
            if self.defaults {
                " (no processors.redaction in the config: built-in defaults)"
            } else {
                ""
            }
        );
        if !self.policy.is_empty() && self.policy != super::policy::DEFAULT_POLICY {
            out.push_str(&format!(", policy {}", self.policy));
        }
        if self.truncated > 0 {
            out.push_str(&format!(
                ", {} cut at {MAX_LINE_BYTES} bytes",
                self.truncated
            ));
        }
        for (ty, action, n) in &self.counts {
            out.push_str(&format!("\n  {ty:16} {action:8} {n}"));
        }
        out
    }
}

/// Runs `slotel redact` with the config at `config_path` (or the embedded default).
pub fn run(config_path: Option<&Path>, args: &RedactArgs) -> Result<Summary, RedactCliError> {
    let cfg = config::load(config_path).map_err(RedactCliError::Config)?;
    let defaults = cfg.redaction.is_none();
    let rcfg = cfg.redaction.unwrap_or_else(RedactionConfig::default);
    let policies = Policies::new(&rcfg)?;
    let index = policies.select(args.tenant.as_deref(), args.service.as_deref());
    let mut session = policies.redactor(index).session();
    if args.report.is_some() || args.dry_run {
        session = session.audited(args.dry_run);
    }
    let stdout = io::stdout();
    let mut lines = BufWriter::new(stdout.lock());
    let mut sink = io::sink();
    // With --report the lines are not written: the report is the output.
    let out: &mut dyn Write = if args.report.is_some() {
        &mut sink
    } else {
        &mut lines
    };
    let mut progress = ProgressLine::stderr();
    let mut summary = match args.file.as_deref().filter(|p| *p != Path::new("-")) {
        Some(path) => {
            let file = std::fs::File::open(path).map_err(|source| RedactCliError::Read {
                path: path.display().to_string(),
                source,
            })?;
            redact_lines_with(
                &mut session,
                BufReader::new(file),
                out,
                &path.display().to_string(),
                &mut progress,
            )?
        }
        None => redact_lines_with(
            &mut session,
            io::stdin().lock(),
            out,
            "stdin",
            &mut progress,
        )?,
    };
    summary.defaults = defaults;
    summary.policy = policies.name(index).to_string();
    summary.report = session.report();
    match args.report {
        Some(ReportFormat::Text) => {
            let text = format!(
                "policy {}: {} lines, {} changed\n{}",
                summary.policy,
                summary.lines,
                summary.changed,
                audit::render(&summary.report)
            );
            lines
                .write_all(text.as_bytes())
                .map_err(RedactCliError::Write)?;
        }
        Some(ReportFormat::Json) => {
            let doc = serde_json::json!({
                "policy": summary.policy,
                "lines": summary.lines,
                "changed": summary.changed,
                "types": summary.report,
            });
            serde_json::to_writer_pretty(&mut lines, &doc)
                .map_err(|e| RedactCliError::Write(e.into()))?;
            lines.write_all(b"\n").map_err(RedactCliError::Write)?;
        }
        None => {}
    }
    lines.flush().map_err(RedactCliError::Write)?;
    Ok(summary)
}

/// Redacts every line of `input` into `out`.
pub fn redact_lines(
    session: &mut Session<'_>,
    input: impl BufRead,
    out: &mut dyn Write,
    name: &str,
) -> Result<Summary, RedactCliError> {
    let mut off: ProgressLine<io::Sink> = ProgressLine::new(None, tokio::time::Instant::now());
    redact_lines_with(session, input, out, name, &mut off)
}

/// How many lines pass between two looks at the clock for the progress line.
const PROGRESS_LINES: u64 = 4096;

/// [`redact_lines`], drawing `progress` as it goes.
fn redact_lines_with<W: Write>(
    session: &mut Session<'_>,
    mut input: impl BufRead,
    out: &mut dyn Write,
    name: &str,
    progress: &mut ProgressLine<W>,
) -> Result<Summary, RedactCliError> {
    let mut summary = Summary::default();
    let mut buf = Vec::new();
    let mut bytes = 0u64;
    loop {
        if progress.is_on() && summary.lines.is_multiple_of(PROGRESS_LINES) {
            let now = tokio::time::Instant::now();
            let secs = progress.elapsed(now).as_secs_f64().max(1e-3);
            let (lines, changed) = (summary.lines, summary.changed);
            progress.update(now, || {
                format!(
                    "slotel redact: {lines} lines, {changed} changed, {:.1} MiB/s",
                    bytes as f64 / secs / (1024.0 * 1024.0)
                )
            });
        }
        buf.clear();
        let n = (&mut input)
            .take(MAX_LINE_BYTES)
            .read_until(b'\n', &mut buf)
            .map_err(|source| RedactCliError::Read {
                path: name.to_string(),
                source,
            })?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        let mut newline = buf.last() == Some(&b'\n');
        if !newline && n as u64 == MAX_LINE_BYTES {
            // Cut: skip the rest of the line.
            summary.truncated += 1;
            let mut rest = Vec::new();
            let _ = input.read_until(b'\n', &mut rest);
            newline = true;
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        summary.lines += 1;
        // Invalid UTF-8 becomes U+FFFD and is scanned all the same (fail closed).
        let line = String::from_utf8_lossy(&buf);
        let redacted = session.redact_str(&line);
        if redacted.is_some() {
            summary.changed += 1;
        }
        let text = redacted.as_deref().unwrap_or(&line);
        out.write_all(text.as_bytes())
            .and_then(|()| {
                if newline {
                    out.write_all(b"\n")
                } else {
                    Ok(())
                }
            })
            .map_err(RedactCliError::Write)?;
    }
    progress.finish();
    summary.counts = session
        .counts()
        .map(|(t, a, n)| (t.to_string(), a.as_str(), n))
        .collect();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_in_lines_out() {
        let r = super::super::Redactor::new(&RedactionConfig::default()).unwrap();
        let input = "{\"u\":\"kim@example.com\"}\nplain 010-1234-5678\n\nclean\n{\"broken\": \"x@example.com\"";
        let mut out = Vec::new();
        let s = redact_lines(&mut r.session(), input.as_bytes(), &mut out, "t").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"u\":\"[REDACTED:email]\"}\nplain [REDACTED:phone]\n\nclean\n{\"broken\": \"[REDACTED:email]\""
        );
        assert_eq!((s.lines, s.changed), (5, 3));
        assert!(s.render().contains("email"));
        assert!(!s.render().contains("kim@"));
    }
}
