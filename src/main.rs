//! The `slotel` binary: parse the command line, load the config, run, map the result to
//! an exit code. Nothing below this exits or panics on input.

use std::process::ExitCode;

/// Decoding OTLP allocates many small strings and vectors on one thread and frees them on
/// another (the pipeline's dispatcher); mimalloc handles that pattern far better than the
/// system allocator (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use slotel::cli::{Cli, Command};
use slotel::{app, config, loadgen, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("slotel: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match cli.command.unwrap_or(Command::Run) {
        Command::Run => runtime.block_on(run(cli.config)),
        Command::Check { explain } => check(cli.config, explain),
        Command::Redact(args) => redact(cli.config, &args),
        Command::Rules(args) => rules(cli.config, &args),
        Command::Import(args) => slotel::import::main(&args),
        Command::Replay(args) => match slotel::replay::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("slotel replay: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Suggest(args) => match slotel::suggest::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("slotel suggest: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Completions(args) => {
            match slotel::cli::completions::write(args.shell, &mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("slotel completions: cannot write the script: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Loadgen(args) if args.sink.is_some() => runtime.block_on(async {
            let Some(addr) = args.sink else {
                return ExitCode::FAILURE;
            };
            match loadgen::sink::run(addr).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("slotel loadgen --sink {addr}: {e}");
                    ExitCode::FAILURE
                }
            }
        }),
        Command::Loadgen(args) => runtime.block_on(async {
            let format = args.report;
            match loadgen::run(args).await {
                Ok(report) => {
                    println!("{}", report.render(format));
                    match report.failure() {
                        Some(why) => {
                            eprintln!("slotel loadgen: {why}");
                            ExitCode::FAILURE
                        }
                        None => ExitCode::SUCCESS,
                    }
                }
                Err(e) => {
                    eprintln!("slotel loadgen: {e}");
                    ExitCode::FAILURE
                }
            }
        }),
    };
    // Everything that matters has finished by now; do not wait for idle blocking threads.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    code
}

fn redact(path: Option<std::path::PathBuf>, args: &slotel::redact::cli::RedactArgs) -> ExitCode {
    match slotel::redact::cli::run(path.as_deref(), args) {
        Ok(summary) => {
            if !args.quiet {
                eprintln!("slotel redact: {}", summary.render());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("slotel redact: {e}");
            ExitCode::FAILURE
        }
    }
}

fn rules(path: Option<std::path::PathBuf>, args: &slotel::rules::cli::RulesArgs) -> ExitCode {
    use slotel::rules::cli::{RulesError, run};
    match run(path.as_deref(), args) {
        Ok(written) => {
            for path in written {
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(RulesError::Invalid(errors)) => {
            eprintln!("{errors}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("slotel rules: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check(path: Option<std::path::PathBuf>, explain: bool) -> ExitCode {
    let (cfg, translations) = config::load_explained(path.as_deref());
    for t in &translations {
        if explain {
            println!("{t}");
        } else if t.treatment == config::Treatment::Ignored {
            let (file, line, column) = (&t.file, t.line, t.column);
            eprintln!("{file}:{line}:{column}: warning: {}: {}", t.path, t.message);
        }
    }
    let cfg = match cfg {
        Ok(cfg) => cfg,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::FAILURE;
        }
    };
    for warning in config::pipeline_warnings(&cfg) {
        eprintln!("{}: warning: {warning}", cfg.source);
    }
    match slotel::slo::spec::load(&cfg.slo.files, cfg.slo.allow_empty) {
        Ok(set) => {
            let logs_redacted = slotel::app::runs_redaction(
                slotel::signal::Signal::Logs,
                &cfg.service.logs_pipeline,
            );
            if let Some(redaction) = cfg.redaction.as_ref().filter(|_| logs_redacted) {
                match slotel::redact::Policies::new(redaction) {
                    Ok(policies) => {
                        for lost in slotel::redact::slo_inputs::lost_log_inputs(&policies, &set) {
                            eprintln!("{}: warning: {lost}", cfg.source);
                        }
                    }
                    Err(e) => {
                        eprintln!("{}: {e}", cfg.source);
                        return ExitCode::FAILURE;
                    }
                }
            }
            println!("{}: ok ({} slos)", cfg.source, set.slos.len());
            ExitCode::SUCCESS
        }
        Err(errors) => {
            eprintln!("{errors}");
            ExitCode::FAILURE
        }
    }
}

async fn run(path: Option<std::path::PathBuf>) -> ExitCode {
    let (cfg, translations) = config::load_explained(path.as_deref());
    let cfg = match cfg {
        Ok(cfg) => cfg,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = telemetry::init_logs(&cfg.service.logs) {
        eprintln!("slotel: {e}");
        return ExitCode::FAILURE;
    }
    for t in translations
        .iter()
        .filter(|t| t.treatment == config::Treatment::Ignored)
    {
        tracing::warn!("{t}");
    }
    // Before start: a SIGHUP or SIGTERM from then on is handled, never the default action.
    let signals = Signals::install();
    let running = match app::start(&cfg).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    wait_for_stop(signals, &running, path.as_deref()).await;
    match running.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "unclean shutdown");
            ExitCode::FAILURE
        }
    }
}

/// SIGTERM and SIGHUP listeners (`None` when they could not be installed).
struct Signals(Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>);

impl Signals {
    fn install() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(t), Ok(h)) => Signals(Some((t, h))),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM/SIGHUP; only Ctrl-C stops slotel");
                Signals(None)
            }
        }
    }
}

/// Waits for SIGTERM or SIGINT; SIGHUP reloads meanwhile (see `app::Running::reload`).
async fn wait_for_stop(signals: Signals, running: &app::Running, config: Option<&std::path::Path>) {
    let Signals(Some((mut term, mut hup))) = signals else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    loop {
        tokio::select! {
            _ = term.recv() => {
                tracing::info!("SIGTERM received");
                return;
            }
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("SIGINT received");
                return;
            }
            _ = hup.recv() => running.reload(config),
        }
    }
}
