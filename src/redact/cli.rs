//! `slotel redact [--config PATH] [FILE]`: redacts log bodies read as lines (a JSON object
//! or plain text per line) from a file or stdin and writes them to stdout, so rules can be
//! tried on sample logs before they are deployed. A count per type and action goes to
//! stderr; found values never do.

use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use super::{RedactError, Redactor};
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
    let redactor = Redactor::new(&rcfg)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut summary = match args.file.as_deref().filter(|p| *p != Path::new("-")) {
        Some(path) => {
            let file = std::fs::File::open(path).map_err(|source| RedactCliError::Read {
                path: path.display().to_string(),
                source,
            })?;
            redact_lines(
                &redactor,
                BufReader::new(file),
                &mut out,
                &path.display().to_string(),
            )?
        }
        None => redact_lines(&redactor, io::stdin().lock(), &mut out, "stdin")?,
    };
    out.flush().map_err(RedactCliError::Write)?;
    summary.defaults = defaults;
    Ok(summary)
}

/// Redacts every line of `input` into `out`.
pub fn redact_lines(
    redactor: &Redactor,
    mut input: impl BufRead,
    out: &mut impl Write,
    name: &str,
) -> Result<Summary, RedactCliError> {
    let mut session = redactor.session();
    let mut summary = Summary::default();
    let mut buf = Vec::new();
    loop {
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
        let r = Redactor::new(&RedactionConfig::default()).unwrap();
        let input = "{\"u\":\"kim@example.com\"}\nplain 010-1234-5678\n\nclean\n{\"broken\": \"x@example.com\"";
        let mut out = Vec::new();
        let s = redact_lines(&r, input.as_bytes(), &mut out, "t").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"u\":\"[REDACTED:email]\"}\nplain [REDACTED:phone]\n\nclean\n{\"broken\": \"[REDACTED:email]\""
        );
        assert_eq!((s.lines, s.changed), (5, 3));
        assert!(s.render().contains("email"));
        assert!(!s.render().contains("kim@"));
    }
}
