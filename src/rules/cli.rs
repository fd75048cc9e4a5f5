//! `slotel rules [--config PATH | --slos GLOB] --out DIR [--format …] [--allow-empty]`.

use std::path::{Path, PathBuf};

use super::{DashboardKind, Format, GrafanaTarget, OperatorTarget, Options};
use crate::config::{self, ConfigErrors};

/// Arguments of `slotel rules`.
#[derive(clap::Args, Debug, Clone)]
pub struct RulesArgs {
    /// SLO files to read (a glob; repeatable) instead of the config's `slo.files`.
    #[arg(long = "slos", value_name = "GLOB")]
    pub slos: Vec<String>,
    /// Accept SLO globs and directories that match no SLO file, and write rules for no SLO
    /// at all (config: `slo.allow_empty`).
    #[arg(long)]
    pub allow_empty: bool,
    /// Directory to write the files to (created when missing); `-` writes the one file
    /// a single `--format` makes to stdout.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// What to write, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_values_t = Format::ALL.to_vec()
    )]
    pub format: Vec<Format>,
    /// The dashboard: a row per SLO (`per-slo`), or one for every SLO selected by
    /// variables (`generic`), which never needs regenerating.
    #[arg(long, value_enum, default_value = "per-slo")]
    pub dashboard: DashboardKind,
    /// The series' label set: slotel's (`slo`, `service`, `cluster`, group labels), or
    /// Sloth's (`sloth_id`, `sloth_service`, `sloth_slo`, `sloth_window`, one series per SLO:
    /// the `cluster="all"` roll-up), with `slo:time_period:days` and `sloth_slo_info`, for
    /// Sloth's Grafana dashboards.
    #[arg(long, value_enum, default_value = "slotel")]
    pub labels: super::LabelMode,
    /// Uid of the Grafana data source (Prometheus or Mimir) the provisioned alerts query.
    #[arg(long, value_name = "UID", default_value = "mimir")]
    pub grafana_datasource_uid: String,
    /// Grafana folder of the provisioned alert rules.
    #[arg(long, value_name = "TITLE", default_value = "SLOs")]
    pub grafana_folder: String,
    /// Evaluation interval of the rule groups (Prometheus and Grafana); long windows are
    /// sums of the counters' increases recorded once per interval.
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    pub interval: humantime::Duration,
    /// `metadata.name` of the PrometheusRule (`--format prometheus-operator`).
    #[arg(long, value_name = "NAME", default_value = "slotel")]
    pub operator_name: String,
    /// `metadata.namespace` of the PrometheusRule (default: none).
    #[arg(long, value_name = "NAMESPACE", default_value = "")]
    pub operator_namespace: String,
    /// Extra label `key=value` of the PrometheusRule, e.g. `release=kube-prometheus-stack`
    /// for its `ruleSelector` (repeatable).
    #[arg(long = "operator-label", value_name = "KEY=VALUE")]
    pub operator_labels: Vec<String>,
}

/// Why `slotel rules` failed.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The config or an SLO file is invalid: every error, `file:line:column: …`.
    #[error("{0}")]
    Invalid(ConfigErrors),
    /// No SLO to generate rules for (and `--allow-empty` not given).
    #[error(
        "no slo files given: name them with --slos or the config's slo.files \
         (--allow-empty writes empty rule files)"
    )]
    NoSlos,
    /// A bad argument.
    #[error("{0}")]
    Usage(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Loads the SLOs (from `--slos`, else the config's `slo.files`), generates the requested
/// files and writes them to `--out`; returns the paths written.
pub fn run(config_path: Option<&Path>, args: &RulesArgs) -> Result<Vec<PathBuf>, RulesError> {
    let (globs, allow_empty) = if args.slos.is_empty() {
        let slo = config::load(config_path).map_err(RulesError::Invalid)?.slo;
        (slo.files, slo.allow_empty || args.allow_empty)
    } else {
        (args.slos.clone(), args.allow_empty)
    };
    let set = crate::slo::spec::load(&globs, allow_empty).map_err(RulesError::Invalid)?;
    if set.slos.is_empty() && !allow_empty {
        return Err(RulesError::NoSlos);
    }
    let interval = args.interval.as_secs();
    let shortest = super::plan::WINDOWS[0];
    if interval == 0 || args.interval.subsec_nanos() != 0 || interval > shortest {
        // Every window is read from samples recorded once an interval: past the shortest
        // window, its alerts would read a window that holds no recording.
        let msg = format!(
            "--interval {}: must be whole seconds from 1s to {} (the shortest window \
             the rules record)",
            args.interval,
            super::plan::duration(shortest)
        );
        return Err(RulesError::Usage(msg));
    }
    let mut labels = std::collections::BTreeMap::new();
    for pair in &args.operator_labels {
        let Some((k, v)) = pair.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            let msg = format!("--operator-label {pair:?}: expected KEY=VALUE");
            return Err(RulesError::Usage(msg));
        };
        labels.insert(k.to_string(), v.to_string());
    }
    let options = Options {
        interval,
        grafana: GrafanaTarget {
            datasource_uid: args.grafana_datasource_uid.clone(),
            folder: args.grafana_folder.clone(),
        },
        operator: OperatorTarget {
            name: args.operator_name.clone(),
            namespace: args.operator_namespace.clone(),
            labels,
        },
        dashboard: args.dashboard,
        labels: args.labels,
    };
    let outputs =
        super::generate(&set.slos, &args.format, &options).map_err(RulesError::Invalid)?;
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RulesError::Write { path, source }
    };
    if args.out == Path::new("-") {
        return to_stdout(outputs);
    }
    std::fs::create_dir_all(&args.out).map_err(write_error(&args.out))?;
    let mut written = Vec::new();
    for output in outputs {
        let path = args.out.join(output.name);
        std::fs::write(&path, output.text).map_err(write_error(&path))?;
        written.push(path);
    }
    Ok(written)
}

/// `--out -`: the one generated file to stdout (several would run together there).
fn to_stdout(outputs: Vec<super::Output>) -> Result<Vec<PathBuf>, RulesError> {
    use std::io::Write;
    let [output] = <[_; 1]>::try_from(outputs).map_err(|outputs: Vec<super::Output>| {
        let names: Vec<&str> = outputs.iter().map(|o| o.name).collect();
        RulesError::Usage(format!(
            "--out -: stdout takes one file, this run makes {} ({}); choose one with --format \
             or give a directory",
            names.len(),
            names.join(", ")
        ))
    })?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(output.text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|source| RulesError::Write {
            path: PathBuf::from("-"),
            source,
        })?;
    Ok(Vec::new())
}
