//! The `slotel` command line.
//!
//! `completions.rs`: `slotel completions SHELL`; `progress.rs`: the progress line long
//! runs draw on a terminal.

pub mod completions;
pub mod progress;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::loadgen::LoadgenArgs;

/// OpenTelemetry SLO pipeline: OTLP in; SLIs, error budgets and redacted telemetry out.
#[derive(Parser, Debug)]
#[command(name = "slotel", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Config file (YAML). Without it, slotel runs on its embedded default.
    #[arg(long, short, global = true, env = "SLOTEL_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the pipeline (the default when no command is given).
    Run,
    /// Validate the config and print every error; exit 1 if there is any.
    Check {
        /// Also print each OpenTelemetry Collector key found and what slotel does with it.
        #[arg(long)]
        explain: bool,
    },
    /// Send generated OTLP traffic to a receiver and report throughput.
    Loadgen(LoadgenArgs),
    /// Redact log lines (one body per line) from FILE or stdin to stdout, with the
    /// config's `processors.redaction` (built-in defaults when it has none).
    Redact(crate::redact::cli::RedactArgs),
    /// Write Prometheus recording and alerting rules, a Grafana dashboard and Grafana
    /// alerting provisioning for the SLO files (of the config, or `--slos`).
    Rules(crate::rules::cli::RulesArgs),
    /// Evaluate SLO files over a capture of span facts (`slo.capture`): the status
    /// `GET /api/v1/slos` would have answered, a timeline, and the alerts the generated
    /// rules would have fired.
    Replay(crate::replay::ReplayArgs),
    /// Convert SLO specs of another tool (Sloth) into a slotel SLO file, saying why for
    /// every SLO that cannot be converted; exit 1 when none could.
    Import(crate::import::ImportArgs),
    /// Suggest objectives and latency thresholds from a capture (`slo.capture`): what each
    /// would have cost in error budget, pages and tickets.
    Suggest(crate::suggest::SuggestArgs),
    /// Write a shell completion script (bash, zsh or fish) to stdout.
    Completions(completions::CompletionsArgs),
}
