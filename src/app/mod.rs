//! Wiring: builds exporters, pipelines, the receiver and the listeners from a [`Config`],
//! and shuts them down in stages.
//!
//! Start: exporters → pipelines → receiver → listeners bound → ready.
//! Shutdown: not ready → listeners stop accepting and finish in-flight requests (for at
//! most half of `service.shutdown_timeout`) → every pipeline drains into its exporters,
//! all at once → every exporter flushes, all at once, until shortly before the deadline
//! (a memory queue counts and logs what it drops then) while the last SLO snapshot is
//! written → admin listener stops. The whole shutdown is bounded by
//! `service.shutdown_timeout`.
//!
//! `startup.rs` writes the start-up log (one line per listener and exporter, a warning
//! per pipeline without exporters); `reload.rs` handles SIGHUP.

mod reload;
mod startup;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::shutdown;
use tokio::task::JoinHandle;

use crate::admin::{self, Health};
use crate::config::{Config, ConfigErrors, PipelineConfig};
use crate::export;
use crate::listener::{ConnLimits, Listener, ServerError};
use crate::pipeline::{Exporter, Pipeline};
use crate::receiver::{self, Pipelines, Receiver};
use crate::signal::Signal;
use crate::slo::connector::SloConnector;
use crate::slo::engine::Engine;
use crate::slo::lifecycle::SloRuntime;
use crate::slo::series::SloSeries;
use crate::telemetry::Metrics;

/// Why slotel could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Listen(#[from] ServerError),
    #[error(transparent)]
    Slo(crate::slo::lifecycle::LoadError),
    #[error("shutdown did not finish within {0:?}; queued data may be lost")]
    ShutdownTimeout(Duration),
    #[error(transparent)]
    Redaction(#[from] crate::redact::RedactError),
    #[error("{0}")]
    Exporter(#[from] crate::export::ExporterError),
    #[error("cannot open the slo write-ahead log: {0}")]
    SloWal(std::io::Error),
    #[error("cannot start the slo capture: {0}")]
    SloCapture(std::io::Error),
}

/// The addresses slotel listens on (useful when the config asks for port 0).
#[derive(Clone, Copy, Debug)]
pub struct Addresses {
    pub grpc: Option<SocketAddr>,
    pub http: Option<SocketAddr>,
    pub admin: SocketAddr,
}

/// A running slotel.
pub struct Running {
    pub addresses: Addresses,
    metrics: Arc<Metrics>,
    /// The SLO engine, its file watch, snapshots and series exports.
    slo: SloRuntime,
    health: Arc<Health>,
    stop_receivers: shutdown::Trigger,
    stop_admin: shutdown::Trigger,
    receivers: Vec<JoinHandle<()>>,
    admin: JoinHandle<()>,
    pipelines: Vec<Pipeline>,
    exporters: Vec<Arc<dyn Exporter>>,
    shutdown_timeout: Duration,
    /// The config slotel runs, to tell whether a reloaded config file differs.
    config: Config,
}

fn pipeline_exporters(
    signal: Signal,
    cfg: &PipelineConfig,
    all: &[(String, Arc<dyn Exporter>)],
) -> Vec<Arc<dyn Exporter>> {
    let by_id: HashMap<&str, &Arc<dyn Exporter>> =
        all.iter().map(|(id, e)| (id.as_str(), e)).collect();
    let chosen: Vec<Arc<dyn Exporter>> = match &cfg.exporters {
        Some(ids) => ids
            .iter()
            .filter_map(|id| by_id.get(id.as_str()).map(|e| Arc::clone(e)))
            .collect(),
        None => all.iter().map(|(_, e)| e.clone()).collect(),
    };
    chosen.into_iter().filter(|e| e.accepts(signal)).collect()
}

/// Whether a pipeline runs the redaction processor: as its `processors` list says, else
/// traces and logs do and metrics do not.
pub fn runs_redaction(signal: Signal, cfg: &PipelineConfig) -> bool {
    match &cfg.processors {
        Some(ids) => ids.iter().any(|id| id == "redaction"),
        None => signal != Signal::Metrics,
    }
}

/// Starts slotel with `config`, with exporters built from it plus `extra` (tests and
/// embedders can add their own).
pub async fn start_with(
    config: &Config,
    extra: Vec<Arc<dyn Exporter>>,
) -> Result<Running, AppError> {
    let mut slo = SloRuntime::load(&config.slo).map_err(AppError::Slo)?;
    slo.open_wal().map_err(AppError::SloWal)?;
    let capture = slo
        .open_capture(&config.slo, config.receiver.limits.max_request_memory)
        .map_err(AppError::SloCapture)?;
    let engine = slo.engine().clone();
    let mut collectors: Vec<Box<dyn prometheus_client::collector::Collector>> =
        vec![Box::new(SloSeries(engine.clone()))];
    if let Some(capture) = capture {
        collectors.push(Box::new(crate::slo::capture::CaptureSeries(capture)));
    }
    let metrics = Metrics::with_collectors(collectors);
    metrics.reload.config.record(true);
    slo.report_reloads(metrics.reload.slo_files.clone());
    let mut all: Vec<(String, Arc<dyn Exporter>)> = Vec::new();
    for e in &config.exporters {
        let built = export::build(e, &metrics)?;
        all.push((e.id.clone(), built));
    }
    all.extend(extra.into_iter().map(|e| (e.id().to_string(), e)));

    // Redaction runs before the SLO connector and every exporter, in the pipelines whose
    // `processors` list it (by default traces and logs).
    let redaction: Vec<Arc<dyn crate::pipeline::Processor>> = match &config.redaction {
        Some(cfg) => vec![Arc::new(crate::redact::RedactionProcessor::with_policies(
            Arc::new(crate::redact::Policies::new(cfg)?),
            metrics.clone(),
        ))],
        None => Vec::new(),
    };
    let service = &config.service;
    let connector: Arc<dyn Exporter> = Arc::new(SloConnector::new(engine.clone()));
    let slots =
        crate::pipeline::decode_slots(tokio::runtime::Handle::current().metrics().num_workers());
    let start = |signal, cfg: &PipelineConfig| {
        let mut exporters = pipeline_exporters(signal, cfg, &all);
        if connector.accepts(signal) {
            exporters.insert(0, connector.clone());
        }
        Pipeline::start(
            signal,
            cfg.queue_max_bytes,
            slots,
            if runs_redaction(signal, cfg) {
                redaction.clone()
            } else {
                Vec::new()
            },
            exporters,
            metrics.clone(),
        )
    };
    let pipelines = vec![
        start(Signal::Traces, &service.traces),
        start(Signal::Metrics, &service.metrics),
        start(Signal::Logs, &service.logs_pipeline),
    ];
    let senders = Pipelines {
        traces: pipelines[0].sender(),
        metrics: pipelines[1].sender(),
        logs: pipelines[2].sender(),
    };
    let health = Health::new(vec![
        senders.traces.clone(),
        senders.metrics.clone(),
        senders.logs.clone(),
    ]);
    let rcfg = &config.receiver;
    let budget = crate::pipeline::budget::MemoryBudget::new(rcfg.limits.memory_budget);
    health.watch_budget(budget.clone());
    let receiver = Receiver::new(
        rcfg,
        &config.slo.cluster_attribute,
        senders,
        budget,
        metrics.clone(),
    );
    receiver.read_span_facts_for(engine.clone());

    let mut listeners = Vec::new();
    let mut addresses = Addresses {
        grpc: None,
        http: None,
        admin: service.admin_endpoint,
    };
    if let Some(g) = &rcfg.grpc {
        let l = Listener::bind("grpc", g.endpoint, g.tls.as_ref()).await?;
        let addr = l.local_addr().unwrap_or(g.endpoint);
        startup::listening("otlp/grpc", addr, g.tls.is_some());
        addresses.grpc = Some(addr);
        listeners.push((
            l,
            receiver::grpc::router(receiver.clone(), g.max_recv_msg_size),
        ));
    }
    if let Some(h) = &rcfg.http {
        let l = Listener::bind("http", h.endpoint, h.tls.as_ref()).await?;
        let addr = l.local_addr().unwrap_or(h.endpoint);
        startup::listening("otlp/http", addr, h.tls.is_some());
        addresses.http = Some(addr);
        listeners.push((
            l,
            receiver::http::router(receiver.clone(), h.max_request_body_size, h.cors.as_ref()),
        ));
    }
    let admin_listener = Listener::bind("admin", service.admin_endpoint, None).await?;
    addresses.admin = admin_listener
        .local_addr()
        .unwrap_or(service.admin_endpoint);
    startup::listening("admin", addresses.admin, false);

    let (stop_receivers, stop_rx) = shutdown::channel();
    let (stop_admin, stop_admin_rx) = shutdown::channel();
    // Receivers get their share of the shutdown budget to finish their requests; what
    // still lingers then is closed, so the rest is the pipelines' and exporters'.
    let drain = service.shutdown_timeout.mul_f64(RECEIVER_SHARE);
    let conn_limits = ConnLimits::receiver(&rcfg.limits);
    let receivers = listeners
        .into_iter()
        .map(|(l, router)| tokio::spawn(l.serve(router, conn_limits, stop_rx.clone(), drain)))
        .collect();
    drop(receiver);
    slo.start(pipelines[1].sender());
    // The admin listener runs on a thread of its own, so probes are answered whatever
    // the receivers' workers are doing.
    let admin = admin_listener
        .serve_on_own_thread(
            admin::router(health.clone(), metrics.clone(), service.admin_auth.as_ref())
                .merge(admin::protect(
                    crate::slo::api::router(engine.clone(), slo.status_source())
                        .merge(crate::slo::history::router(
                            engine.clone(),
                            slo.history().clone(),
                            slo.status_source(),
                        ))
                        .merge(crate::slo::adjust::api::router(
                            engine.clone(),
                            slo.adjustments().clone(),
                        )),
                    service.admin_auth.as_ref(),
                ))
                .merge(admin::page::router()),
            ConnLimits::admin(),
            stop_admin_rx,
            Duration::from_secs(1),
        )
        .map_err(|source| {
            AppError::Listen(ServerError::Bind {
                addr: addresses.admin,
                source,
            })
        })?;
    startup::exporters(config);
    startup::pipeline_warnings(config);
    health.set_ready();
    tracing::info!(
        config = %config.source,
        slos = engine.slos().len(),
        "slotel is ready"
    );
    Ok(Running {
        addresses,
        metrics,
        slo,
        health,
        stop_receivers,
        stop_admin,
        receivers,
        admin,
        pipelines,
        exporters: all.into_iter().map(|(_, e)| e).collect(),
        shutdown_timeout: service.shutdown_timeout,
        config: config.clone(),
    })
}

/// The share of `service.shutdown_timeout` receivers get to finish in-flight requests;
/// the rest is the pipelines' and exporters'.
const RECEIVER_SHARE: f64 = 0.5;

/// Starts slotel with the exporters of `config`.
pub async fn start(config: &Config) -> Result<Running, AppError> {
    start_with(config, Vec::new()).await
}

impl Running {
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn engine(&self) -> &Arc<Engine> {
        self.slo.engine()
    }

    /// Reloads the SLO files: the new set replaces the old one only if it is valid as a
    /// whole; unchanged SLOs keep their state.
    pub fn reload_slos(&self) -> Result<usize, ConfigErrors> {
        self.slo.reload()
    }

    /// Stops in stages (see the module doc) within `service.shutdown_timeout`.
    pub async fn shutdown(self) -> Result<(), AppError> {
        let budget = self.shutdown_timeout;
        let started = tokio::time::Instant::now();
        let deadline = started + budget;
        let receivers_by = started + budget.mul_f64(RECEIVER_SHARE);
        // Exporters give up a little before the deadline, so that what they drop is
        // counted and logged before the process exits.
        let exporters_by = deadline - (budget / 10).min(Duration::from_secs(1));
        let Running {
            health,
            stop_receivers,
            stop_admin,
            receivers,
            admin,
            pipelines,
            exporters,
            mut slo,
            ..
        } = self;
        slo.stop_background();
        health.set_draining();
        tracing::info!("shutting down: receivers stop accepting");
        let staged = async move {
            stop_receivers.trigger();
            let receivers_done = tokio::time::timeout_at(receivers_by, async {
                for r in receivers {
                    let _ = r.await;
                }
            })
            .await;
            match receivers_done {
                Ok(()) => tracing::info!("receivers stopped; draining pipelines"),
                Err(_) => tracing::warn!(
                    "receivers still finishing requests at their share of shutdown_timeout; draining pipelines anyway"
                ),
            }
            // Every pipeline drains at once, then every exporter flushes at once: one slow
            // backend does not take the others' time. The metrics pipeline drains after the
            // traces pipeline, so that the last SLO series it exports count every span.
            let mut pipelines: Vec<Option<Pipeline>> = pipelines.into_iter().map(Some).collect();
            let metrics_pipeline = pipelines[1].take();
            let close = |p: Pipeline, last| async move {
                let signal = p.sender().signal();
                if tokio::time::timeout_at(exporters_by, p.close_with(last))
                    .await
                    .is_err()
                {
                    tracing::error!(
                        signal = signal.as_str(),
                        "pipeline did not drain before the shutdown deadline"
                    );
                }
            };
            let mut closing = tokio::task::JoinSet::new();
            for p in pipelines.into_iter().flatten() {
                closing.spawn(close(p, None));
            }
            while closing.join_next().await.is_some() {}
            if let Some(p) = metrics_pipeline {
                close(p, Some(slo.last_series())).await;
            }
            // Pipelines are drained: the last snapshot holds everything acknowledged.
            let snapshot = tokio::spawn(slo.finish());
            let mut flushing = tokio::task::JoinSet::new();
            for e in exporters {
                flushing.spawn(async move {
                    if let Err(err) = e.shutdown(exporters_by).await {
                        tracing::warn!(exporter = e.id(), error = %err, "exporter shutdown failed");
                    }
                });
            }
            while flushing.join_next().await.is_some() {}
            let _ = snapshot.await;
        };
        let result = tokio::time::timeout_at(deadline, staged).await;
        stop_admin.trigger();
        let _ = admin.await;
        match result {
            Ok(()) => {
                tracing::info!("shutdown complete");
                Ok(())
            }
            Err(_) => Err(AppError::ShutdownTimeout(budget)),
        }
    }
}
