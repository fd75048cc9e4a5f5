//! Whether the last reload of the config file and of the SLO files worked, as Prometheus
//! reports its own: `slotel_config_last_reload_successful` and
//! `slotel_slo_files_last_reload_successful` (1 or 0) with
//! `…_last_reload_success_timestamp_seconds` (when the last good one happened). Loading at
//! start counts as a successful reload, so both are 1 once slotel runs.

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// One reloadable input's pair of gauges.
#[derive(Clone, Debug, Default)]
pub struct ReloadGauges {
    successful: Gauge,
    success_timestamp: Gauge<f64, AtomicU64>,
}

impl ReloadGauges {
    fn register(&self, registry: &mut Registry, name: &str, what: &str) {
        registry.register(
            format!("slotel_{name}_last_reload_successful"),
            format!("Whether the last {what} reload attempt was successful (1) or not (0)"),
            self.successful.clone(),
        );
        registry.register(
            format!("slotel_{name}_last_reload_success_timestamp_seconds"),
            format!("Timestamp of the last successful {what} reload"),
            self.success_timestamp.clone(),
        );
    }

    /// Records an attempt: a success also moves the timestamp to now.
    pub fn record(&self, ok: bool) {
        self.successful.set(i64::from(ok));
        if ok {
            let now = crate::unix_time::now_nanos() as f64 / 1e9;
            self.success_timestamp.set(now);
        }
    }

    /// Whether the last attempt succeeded.
    pub fn successful(&self) -> bool {
        self.successful.get() == 1
    }
}

/// The reload gauges of the config file and of the SLO files.
#[derive(Clone, Debug, Default)]
pub struct ReloadStatus {
    pub config: ReloadGauges,
    pub slo_files: ReloadGauges,
}

impl ReloadStatus {
    pub(super) fn register(&self, registry: &mut Registry) {
        self.config
            .register(registry, "config", "configuration file");
        self.slo_files.register(registry, "slo_files", "SLO files");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_keeps_the_time_of_the_last_success() {
        let g = ReloadGauges::default();
        g.record(true);
        let t = g.success_timestamp.get();
        assert!(t > 1.7e9, "{t}");
        g.record(false);
        assert!(!g.successful());
        assert_eq!(g.success_timestamp.get(), t);
        g.record(true);
        assert!(g.successful());
        assert!(g.success_timestamp.get() >= t);
    }
}
