//! SIGHUP: the config file is read and validated again and the SLO files are reloaded.
//!
//! slotel applies a changed config only at its next start (listeners, exporters and
//! queues are built once); the SLO files are the part that reloads in place. Reading the
//! config again still matters: `slotel_config_last_reload_successful` then tells, before
//! the next restart fails, that the file on disk no longer loads.

use std::path::Path;

use super::Running;

impl Running {
    /// Handles a reload request (SIGHUP) for the config at `path` (`None`: the embedded
    /// default): validates it, then reloads the SLO files; logs and records both outcomes.
    pub fn reload(&self, path: Option<&Path>) {
        let gauges = &self.metrics.reload;
        match crate::config::load(path) {
            Ok(cfg) => {
                gauges.config.record(true);
                if cfg != self.config {
                    tracing::warn!(
                        config = %cfg.source,
                        "the config file changed: slotel applies it at its next start; only the slo files are reloaded now"
                    );
                }
            }
            Err(errors) => {
                gauges.config.record(false);
                tracing::error!(%errors, "the config file is invalid; the running config is kept");
            }
        }
        match self.reload_slos() {
            Ok(n) => tracing::info!(slos = n, "slo files reloaded"),
            Err(errors) => {
                tracing::error!(%errors, "slo files are invalid; keeping the loaded set")
            }
        }
    }
}
