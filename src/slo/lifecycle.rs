//! The SLO engine's life in a running slotel: load the SLO files and restore the saved state
//! at start, reload the files when they change, snapshot the state, and put the SLO series
//! into the metrics pipeline every `slo.export_interval` — and once more at shutdown, after
//! every span and point that was acknowledged has been recorded.
//!
//! Start: [`SloRuntime::load`] (engine + restored state, before the pipelines exist: the
//! connector needs the engine) → [`SloRuntime::start`] (the background tasks, once the
//! metrics pipeline's sender exists). Shutdown: [`SloRuntime::stop_background`] → the
//! traces pipeline drains → the metrics pipeline drains and exports
//! [`SloRuntime::last_series`] (trace-aware journeys close their open traces first) →
//! [`SloRuntime::finish`] writes the last snapshot. While running, trace-aware journeys'
//! traces whose wait is over are closed every second.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::shutdown::{self, Shutdown};
use prost::Message;
use tokio::task::JoinHandle;

use super::engine::{Engine, EngineConfig, SystemClock};
use super::otlp_series::SeriesSource;
use super::state_lock::{StateLock, StateLockError};
use crate::config::{ConfigErrors, SloConfig};
use crate::pipeline::{Batch, LastBatch, Origin, Payload, PipelineSender, RequestContext};
use crate::telemetry::log_limit::LogLimiter;
use crate::telemetry::reload::ReloadGauges;

/// How often the SLO files are checked for changes.
const SLO_WATCH_INTERVAL: Duration = Duration::from_secs(5);

/// The SLO engine and the tasks that keep it loaded, saved and exported.
pub struct SloRuntime {
    engine: Arc<Engine>,
    files: Vec<String>,
    /// `slo.allow_empty`: an entry of `files` may match no SLO file.
    allow_empty: bool,
    state_dir: Option<PathBuf>,
    snapshot_interval: Duration,
    export_interval: Duration,
    /// The write-ahead log: its size limit, and where replay starts (the snapshot's
    /// position).
    wal_max_bytes: u64,
    wal_from: u64,
    /// Shared by the periodic exports and the last one, so that a series gone since the
    /// previous export gets its stale marker either way.
    source: Arc<Mutex<SeriesSource>>,
    /// What the status page charts, sampled from the engine.
    history: Arc<super::history::History>,
    /// Stops the file watch, the history samples, the rules sync, the closing of traces
    /// and the periodic exports ([`SloRuntime::stop_background`]).
    stop_background: shutdown::Trigger,
    /// `slo.rules_sync`: the ruler kept loaded with the SLOs' rule groups.
    rules_sync: Option<crate::rules::sync::RulesSync>,
    /// `slo.capture`, once [`SloRuntime::open_capture`] started it.
    capture: Option<Arc<super::capture::Capture>>,
    /// `slo.status_source`: where the status API reads every replica's numbers.
    status_source: Option<Arc<super::merged::StatusSource>>,
    snapshots: Option<JoinHandle<()>>,
    stop_snapshots: shutdown::Trigger,
    /// The API's budget adjustments, saved in `state_dir`.
    adjustments: Arc<super::adjust::store::Store>,
    /// `slotel_slo_files_last_reload_*`: set by every reload, SIGHUP's or the watch's.
    reload_gauges: ReloadGauges,
    /// `slo.state_dir` locked for this process, from before the restore until
    /// [`SloRuntime::finish`] has written the last snapshot.
    _state_lock: Option<StateLock>,
}

/// Why the SLO engine could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("invalid slo files:\n{0}")]
    Files(ConfigErrors),
    #[error(transparent)]
    State(#[from] StateLockError),
}

impl From<ConfigErrors> for LoadError {
    fn from(e: ConfigErrors) -> Self {
        LoadError::Files(e)
    }
}

impl SloRuntime {
    /// Loads the SLO files into a new engine and restores the state saved in
    /// `slo.state_dir`.
    pub fn load(cfg: &SloConfig) -> Result<Self, LoadError> {
        let slos = super::spec::load(&cfg.files, cfg.allow_empty)?;
        // Before anything in the directory is read, moved aside or written.
        let state_lock = cfg.state_dir.as_deref().map(StateLock::take).transpose()?;
        let engine = Engine::new(
            EngineConfig {
                cluster_attribute: cfg.cluster_attribute.clone(),
                allowed_lateness: cfg.allowed_lateness,
                max_future: cfg.max_future,
                max_groups_total: cfg.max_groups_total,
            },
            Arc::new(SystemClock),
            slos,
        );
        let mut fresh = true;
        let mut wal_from = 0;
        if let Some(dir) = &cfg.state_dir {
            let restored = super::engine::snapshot::restore(&engine, dir);
            tracing::info!(slos = restored.slos, skipped = restored.skipped, dir = %dir.display(), "slo state restored");
            fresh = restored.slos == 0;
            wal_from = restored.wal_position;
        }
        let rules_sync = match &cfg.rules_sync {
            Some(r) => Some(crate::rules::sync::RulesSync::new(r).map_err(|e| {
                ConfigErrors(vec![crate::config::ConfigError {
                    file: String::new(),
                    path: "slo.rules_sync".to_string(),
                    line: 0,
                    column: 0,
                    message: e.to_string(),
                }])
            })?),
            None => None,
        };
        let status_source = match &cfg.status_source {
            Some(s) => Some(Arc::new(super::merged::StatusSource::new(s).map_err(
                |e| {
                    ConfigErrors(vec![crate::config::ConfigError {
                        file: String::new(),
                        path: "slo.status_source.prometheus".to_string(),
                        line: 0,
                        column: 0,
                        message: e.to_string(),
                    }])
                },
            )?)),
            None => None,
        };
        let source = SeriesSource::new(engine.clone(), super::engine::native::SCHEMA, fresh);
        let adjustments = Arc::new(super::adjust::store::Store::open(
            cfg.state_dir.as_deref(),
            engine.adjustments().clone(),
        ));
        Ok(Self {
            adjustments,
            engine,
            files: cfg.files.clone(),
            allow_empty: cfg.allow_empty,
            state_dir: cfg.state_dir.clone(),
            snapshot_interval: cfg.snapshot_interval,
            export_interval: cfg.export_interval,
            wal_max_bytes: cfg.wal_max_bytes,
            wal_from,
            source: Arc::new(Mutex::new(source)),
            history: super::history::History::new(cfg.history_interval),
            stop_background: shutdown::channel().0,
            rules_sync,
            capture: None,
            status_source,
            snapshots: None,
            stop_snapshots: shutdown::channel().0,
            reload_gauges: ReloadGauges::default(),
            _state_lock: state_lock,
        })
    }

    /// With `slo.state_dir`: replays the write-ahead log after the restored snapshot and
    /// opens it, so that the SLO connector is durable. Call before the pipelines start.
    pub fn open_wal(&self) -> std::io::Result<()> {
        if let Some(dir) = &self.state_dir {
            super::engine::wal::start(&self.engine, dir, self.wal_max_bytes, self.wal_from)?;
            // Events replayed without a snapshot before them: the series continue from
            // values an earlier process wrote, so they were not zero at this start.
            if self.engine.status().iter().any(|s| s.lifetime.total > 0) {
                self.source
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .not_fresh();
            }
        }
        Ok(())
    }

    /// With `slo.capture`: starts the capture and attaches it to the engine, so that every
    /// request's span facts are written from now on; `max_request_memory` is the
    /// receiver's, which bounds what a message of a capture file may hold.
    pub fn open_capture(
        &mut self,
        cfg: &SloConfig,
        max_request_memory: usize,
    ) -> std::io::Result<Option<Arc<super::capture::Capture>>> {
        let Some(capture_cfg) = &cfg.capture else {
            return Ok(None);
        };
        let capture = super::capture::Capture::start(
            capture_cfg,
            super::capture::EngineSettings {
                allowed_lateness: cfg.allowed_lateness,
                max_future: cfg.max_future,
                max_groups_total: cfg.max_groups_total,
                metrics_started: self.engine.metrics_started(),
                max_request_memory: max_request_memory as u64,
            },
        )?;
        if self.engine.attach_sink(capture.clone()).is_err() {
            return Err(std::io::Error::other("the engine has a capture already"));
        }
        tracing::info!(dir = %capture_cfg.directory.display(), "slo capture on");
        self.capture = Some(capture.clone());
        Ok(Some(capture))
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Reports the outcome of every reload from now on into `gauges` (the load that
    /// created this runtime succeeded: it is recorded as such).
    pub fn report_reloads(&mut self, gauges: ReloadGauges) {
        gauges.record(true);
        self.reload_gauges = gauges;
    }

    /// `slo.status_source`, when set.
    pub fn status_source(&self) -> Option<Arc<super::merged::StatusSource>> {
        self.status_source.clone()
    }

    /// The API's budget adjustments.
    pub fn adjustments(&self) -> &Arc<super::adjust::store::Store> {
        &self.adjustments
    }

    /// The history the status page charts.
    pub fn history(&self) -> &Arc<super::history::History> {
        &self.history
    }

    /// Starts watching the SLO files, snapshotting (with `state_dir`) and exporting the
    /// series into `metrics`.
    pub fn start(&mut self, metrics: PipelineSender) {
        let (stop, background) = shutdown::channel();
        self.stop_background = stop;
        spawn_until(
            &background,
            watch_files(
                self.engine.clone(),
                self.files.clone(),
                self.allow_empty,
                self.reload_gauges.clone(),
            ),
        );
        spawn_until(
            &background,
            super::history::sample_loop(self.engine.clone(), self.history.clone()),
        );
        if let Some(sync) = self.rules_sync.take() {
            spawn_until(
                &background,
                crate::rules::sync::run(self.engine.clone(), sync),
            );
        }
        spawn_until(&background, close_traces_loop(self.engine.clone()));
        spawn_until(
            &background,
            export_loop(self.source.clone(), metrics, self.export_interval),
        );
        let (stop, stop_rx) = shutdown::channel();
        self.stop_snapshots = stop;
        self.snapshots = self.state_dir.clone().map(|dir| {
            tokio::spawn(snapshot_loop(
                self.engine.clone(),
                dir,
                self.snapshot_interval,
                stop_rx,
            ))
        });
    }

    /// Reloads the SLO files: the new set replaces the old one only if it is valid as a
    /// whole; unchanged SLOs keep their state.
    pub fn reload(&self) -> Result<usize, ConfigErrors> {
        let result = reload(&self.engine, &self.files, self.allow_empty);
        self.reload_gauges.record(result.is_ok());
        result
    }

    /// Stops the file watch and the periodic exports (shutdown has begun).
    pub fn stop_background(&mut self) {
        self.stop_background.trigger();
    }

    /// The last export of the series, for the metrics pipeline to make once it has drained
    /// (see [`crate::pipeline::Pipeline::close_with`]).
    pub fn last_series(&self) -> LastBatch {
        let source = self.source.clone();
        let engine = self.engine.clone();
        Box::new(move || {
            // The traces pipeline has drained: trace-aware journeys close what is open.
            engine.close_all_traces();
            series_batch(&source)
        })
    }

    /// Writes the last snapshot (every pipeline has drained: it holds everything
    /// acknowledged).
    pub async fn finish(self) {
        // Trace-aware journeys' open traces go into the last snapshot (when
        // `last_series` did not close them already).
        let engine = self.engine.clone();
        let _ = tokio::task::spawn_blocking(move || engine.close_all_traces()).await;
        self.stop_snapshots.trigger();
        if let Some(s) = self.snapshots {
            let _ = s.await;
        }
        if let Some(capture) = self.capture {
            let _ = tokio::task::spawn_blocking(move || capture.close()).await;
        }
    }
}

/// Runs `task` on its own until `stop` fires.
fn spawn_until(stop: &Shutdown, task: impl Future<Output = ()> + Send + 'static) {
    tokio::spawn(stop.clone().run_until(task));
}

/// The series now as a batch of the SLO engine's own (`None` when there is nothing to
/// write).
fn series_batch(source: &Mutex<SeriesSource>) -> Option<Batch> {
    let req = source.lock().unwrap_or_else(|e| e.into_inner()).collect();
    let items = req
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| crate::receiver::check::metric_points(m.data.as_ref()))
        .sum();
    if items == 0 {
        return None;
    }
    let ctx = RequestContext {
        origin: Origin::Slo,
        ..RequestContext::default()
    };
    let bytes = req.encoded_len();
    Some(Batch::new(ctx, Payload::Metrics(req), items, bytes))
}

/// Closes trace-aware journeys' traces whose wait is over, every second.
async fn close_traces_loop(engine: Arc<Engine>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let engine = engine.clone();
        let _ = tokio::task::spawn_blocking(move || engine.close_traces()).await;
    }
}

/// Puts the SLO series into the metrics pipeline every `interval`. A full pipeline skips
/// one export (counted in the log); the counters are cumulative, so the next one carries
/// what was skipped.
async fn export_loop(
    source: Arc<Mutex<SeriesSource>>,
    metrics: PipelineSender,
    interval: Duration,
) {
    let mut tick = tokio::time::interval(interval.max(Duration::from_millis(100)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let log = LogLimiter::default();
    loop {
        tick.tick().await;
        let source = source.clone();
        let Ok(batch) = tokio::task::spawn_blocking(move || series_batch(&source)).await else {
            continue;
        };
        let Some(batch) = batch else { continue };
        if let Err(e) = metrics.try_send(batch)
            && let Some(more) = log.check("slo_series_skipped")
        {
            tracing::warn!(error = %e, "slo series not exported this interval{more}");
        }
    }
}

fn reload(engine: &Engine, files: &[String], allow_empty: bool) -> Result<usize, ConfigErrors> {
    let set = super::spec::load(files, allow_empty)?;
    let n = set.slos.len();
    engine.replace(set);
    Ok(n)
}

/// Reloads the SLO files when they change (new, removed or modified files), as SIGHUP does.
async fn watch_files(
    engine: Arc<Engine>,
    files: Vec<String>,
    allow_empty: bool,
    gauges: ReloadGauges,
) {
    let mut seen = super::spec::fingerprint(&files);
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + SLO_WATCH_INTERVAL,
        SLO_WATCH_INTERVAL,
    );
    loop {
        tick.tick().await;
        let files_now = files.clone();
        let Ok(now) =
            tokio::task::spawn_blocking(move || super::spec::fingerprint(&files_now)).await
        else {
            continue;
        };
        if now == seen {
            continue;
        }
        seen = now;
        let (engine, files) = (engine.clone(), files.clone());
        let result =
            tokio::task::spawn_blocking(move || reload(&engine, &files, allow_empty)).await;
        gauges.record(matches!(result, Ok(Ok(_))));
        match result {
            Ok(Ok(n)) => tracing::info!(slos = n, "slo files changed and were reloaded"),
            Ok(Err(errors)) => {
                tracing::error!(%errors, "slo files changed but are invalid; keeping the loaded set")
            }
            Err(e) => tracing::error!(error = %e, "slo reload task failed"),
        }
    }
}

/// Writes SLO state every `interval`, and a last time once `stop` is triggered (the shutdown
/// sequence sends it after the pipelines have drained).
async fn snapshot_loop(engine: Arc<Engine>, dir: PathBuf, interval: Duration, mut stop: Shutdown) {
    let write = |engine: Arc<Engine>, dir: PathBuf| async move {
        let result =
            tokio::task::spawn_blocking(move || super::engine::snapshot::write(&engine, &dir))
                .await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "slo state snapshot failed"),
            Err(e) => tracing::error!(error = %e, "slo state snapshot task failed"),
        }
    };
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    loop {
        let stopped = tokio::select! {
            _ = tick.tick() => false,
            _ = super::engine::wal::snapshot_wanted(&engine) => false,
            _ = stop.wait() => true,
        };
        if stopped {
            break;
        }
        write(engine.clone(), dir.clone()).await;
    }
    write(engine, dir).await;
}
