//! `slotel import --from sloth FILE`: Sloth SLO specs (`version: prometheus/v1` files and
//! Kubernetes `PrometheusServiceLevel` objects, several documents allowed) as slotel SLO
//! files.
//!
//! Sloth computes SLIs with PromQL over stored series; slotel counts events from the OTLP
//! data it receives. An SLO converts when its SLI is an `events` SLI whose error and total
//! queries are each `sum(rate(metric{…}[{{.window}}]))` (or `increase`): that is a ratio of
//! two counters, which becomes a metric SLI (`bad` / `total`) over the OTLP metrics those
//! series came from, the label matchers becoming conditions on the points' attributes.
//! So does a latency SLI written as Sloth's examples write it, the error query a
//! histogram's `_count` less its `_bucket` at one `le` and the total query that count: a
//! histogram threshold SLI at that bound. Every other SLO is left out with its reason:
//! `raw` SLIs (an error ratio already computed), `plugin` SLIs (queries slotel never sees),
//! and events queries of any other shape (other arithmetic, several selectors, grouping by
//! labels).
//!
//! Every converted SLO is checked by slotel's own SLO loader before it is written, so the
//! output loads as it is.
//!
//! # Layout
//!
//! - `promql.rs`: the query shapes that convert, and label matchers as conditions.
//! - `sloth.rs`: the two Sloth formats read into one shape, and each SLO converted.

mod promql;
mod sloth;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where SLOs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFrom {
    /// Sloth: `version: prometheus/v1` files or `PrometheusServiceLevel` objects
    /// (`sloth.slok.dev/v1`).
    Sloth,
}

/// Arguments of `slotel import`.
#[derive(clap::Args, Debug, Clone)]
pub struct ImportArgs {
    /// The format of FILE.
    #[arg(long = "from", value_enum)]
    pub from: ImportFrom,
    /// The file to convert (`-`: stdin).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where to write the slotel SLO file (default: stdout).
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The SLO window: Sloth's specs have none (`sloth generate --default-slo-period`,
    /// 30d unless given).
    #[arg(long, value_name = "DURATION", default_value = "30d")]
    pub window: String,
    /// The OTLP name of a Prometheus metric, `PROM=OTLP` (repeatable), e.g.
    /// `http_requests_total=http.server.requests`. Without one, a name loses its `_total` or
    /// `_count` suffix and is otherwise taken as it is.
    #[arg(long = "metric", value_name = "PROM=OTLP")]
    pub metrics: Vec<String>,
}

/// The largest file read.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// What an import made of a file.
#[derive(Debug, Default)]
pub struct Report {
    /// The slotel SLO file (empty when nothing converted).
    pub text: String,
    /// `service/name` of every converted SLO.
    pub converted: Vec<String>,
    /// `service/name: why` of every SLO left out.
    pub refused: Vec<String>,
    /// What a reader should check in the converted SLOs (metric and label names taken as
    /// they are, settings slotel has no place for).
    pub notes: Vec<String>,
}

/// Why an import failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {0}: {1}")]
    Read(String, String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Usage(String),
}

/// Converts `text` (named `file` in messages) from Sloth.
pub fn convert(text: &str, file: &str, args: &ImportArgs) -> Result<Report, ImportError> {
    let mut metrics = Vec::new();
    for pair in &args.metrics {
        let Some((prom, otlp)) = pair
            .split_once('=')
            .filter(|(p, o)| !p.is_empty() && !o.is_empty())
        else {
            return Err(ImportError::Usage(format!(
                "--metric {pair:?}: expected PROM=OTLP, e.g. http_requests_total=http.server.requests"
            )));
        };
        metrics.push((prom.to_string(), otlp.to_string()));
    }
    match args.from {
        ImportFrom::Sloth => sloth::convert(text, file, &args.window, &metrics),
    }
}

fn read(path: &Path) -> Result<String, ImportError> {
    let name = path.display().to_string();
    let cannot = |e: std::io::Error| ImportError::Read(name.clone(), e.to_string());
    let mut text = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .take(MAX_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(cannot)?;
    } else {
        // The regular file only (a FIFO or device is refused, not waited on or read for
        // ever), refused by its size past the limit.
        text = crate::regular_file::read_to_string(path, MAX_FILE_BYTES).map_err(cannot)?;
    }
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(ImportError::Read(
            name,
            "input is larger than 4 MiB".to_string(),
        ));
    }
    Ok(text)
}

/// Runs `slotel import`: the slotel SLO file to `--out` or stdout, a line per SLO left out
/// (and per note) on stderr; fails when no SLO converted.
pub fn run(args: &ImportArgs) -> Result<Report, ImportError> {
    let text = read(&args.file)?;
    let report = convert(&text, &args.file.display().to_string(), args)?;
    if report.converted.is_empty() {
        return Ok(report);
    }
    match &args.out {
        Some(path) => std::fs::write(path, &report.text)
            .map_err(|e| ImportError::Read(path.display().to_string(), e.to_string()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(report.text.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| ImportError::Read("stdout".to_string(), e.to_string()))?;
        }
    }
    Ok(report)
}

/// `slotel import` as a command: its exit code.
pub fn main(args: &ImportArgs) -> ExitCode {
    match run(args) {
        Ok(report) => {
            for note in &report.notes {
                eprintln!("slotel import: note: {note}");
            }
            for refused in &report.refused {
                eprintln!("slotel import: not converted: {refused}");
            }
            if report.converted.is_empty() {
                eprintln!(
                    "slotel import: no SLO of {} could be converted",
                    args.file.display()
                );
                return ExitCode::FAILURE;
            }
            let to = args
                .out
                .as_ref()
                .map_or_else(|| "stdout".to_string(), |p| p.display().to_string());
            eprintln!(
                "slotel import: converted {} of {} SLOs to {to}",
                report.converted.len(),
                report.converted.len() + report.refused.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("slotel import: {e}");
            ExitCode::FAILURE
        }
    }
}
