//! `slotel rules [--config PATH | --slos GLOB] --out DIR [--format …]`.

use std::path::{Path, PathBuf};

use super::{Format, GrafanaTarget};
use crate::config::{self, ConfigErrors};

/// Arguments of `slotel rules`.
#[derive(clap::Args, Debug, Clone)]
pub struct RulesArgs {
    /// SLO files to read (a glob; repeatable) instead of the config's `slo.files`.
    #[arg(long = "slos", value_name = "GLOB")]
    pub slos: Vec<String>,
    /// Directory to write the files to (created when missing).
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
    /// Uid of the Grafana data source (Prometheus or Mimir) the provisioned alerts query.
    #[arg(long, value_name = "UID", default_value = "mimir")]
    pub grafana_datasource_uid: String,
    /// Grafana folder of the provisioned alert rules.
    #[arg(long, value_name = "TITLE", default_value = "SLOs")]
    pub grafana_folder: String,
}

/// Why `slotel rules` failed.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The config or an SLO file is invalid: every error, `file:line:column: …`.
    #[error("{0}")]
    Invalid(ConfigErrors),
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
    let globs = if args.slos.is_empty() {
        config::load(config_path)
            .map_err(RulesError::Invalid)?
            .slo
            .files
    } else {
        args.slos.clone()
    };
    let set = crate::slo::spec::load(&globs).map_err(RulesError::Invalid)?;
    let grafana = GrafanaTarget {
        datasource_uid: args.grafana_datasource_uid.clone(),
        folder: args.grafana_folder.clone(),
        ..GrafanaTarget::default()
    };
    let outputs = super::generate(&set.slos, &args.format, &grafana);
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RulesError::Write { path, source }
    };
    std::fs::create_dir_all(&args.out).map_err(write_error(&args.out))?;
    let mut written = Vec::new();
    for output in outputs {
        let path = args.out.join(output.name);
        std::fs::write(&path, output.text).map_err(write_error(&path))?;
        written.push(path);
    }
    Ok(written)
}
