//! The admin listener: liveness, readiness and slotel's own metrics.
//!
//! - `GET /healthz`: 200 while the process runs.
//! - `GET /readyz`: 200 once every listener is bound and exporters are started; 503 while
//!   draining, while any pipeline queue or the process-wide memory budget is over 90% full,
//!   while the budget refused a request in the last few seconds (so a load balancer sends
//!   traffic elsewhere while clients are being told "retry later"), or while a disk queue
//!   cannot write (its disk is full or failing), with the reason in the body.
//! - `GET /metrics`: Prometheus/OpenMetrics text.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::pipeline::PipelineSender;
use crate::pipeline::budget::MemoryBudget;
use crate::telemetry::Metrics;

/// Queue fill above which slotel reports not ready.
const NOT_READY_FILL: f64 = 0.9;

/// Not ready for this long after the memory budget refused a request.
const REFUSED_RECENTLY: std::time::Duration = std::time::Duration::from_secs(5);

/// What readiness depends on.
pub struct Health {
    ready: AtomicBool,
    draining: AtomicBool,
    queues: Vec<PipelineSender>,
    budget: std::sync::OnceLock<MemoryBudget>,
}

impl Health {
    pub fn new(queues: Vec<PipelineSender>) -> Arc<Self> {
        Arc::new(Self {
            ready: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            queues,
            budget: std::sync::OnceLock::new(),
        })
    }

    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Makes readiness follow the memory budget too.
    pub fn watch_budget(&self, budget: MemoryBudget) {
        let _ = self.budget.set(budget);
    }

    /// `Ok` when ready, else why not.
    pub fn readiness(&self) -> Result<(), String> {
        if self.draining.load(Ordering::Acquire) {
            return Err("draining".to_string());
        }
        if !self.ready.load(Ordering::Acquire) {
            return Err("starting".to_string());
        }
        if let Some(b) = self.budget.get() {
            if b.fill_ratio() > NOT_READY_FILL {
                return Err(format!(
                    "memory budget is {:.0}% in use",
                    b.fill_ratio() * 100.0
                ));
            }
            if b.refused_within(REFUSED_RECENTLY) {
                return Err("the memory budget refused requests in the last seconds".to_string());
            }
        }
        for q in &self.queues {
            if let Some(why) = q.blocked() {
                return Err(format!("{} pipeline: {why}", q.signal().as_str()));
            }
            let fill = q.fill_ratio();
            if fill > NOT_READY_FILL {
                return Err(format!(
                    "{} queue is {:.0}% full",
                    q.signal().as_str(),
                    fill * 100.0
                ));
            }
        }
        Ok(())
    }
}

#[derive(Clone)]
struct AdminState {
    health: Arc<Health>,
    metrics: Arc<Metrics>,
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AdminState>) -> Response {
    match state.health.readiness() {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response(),
    }
}

async fn metrics(State(state): State<AdminState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

/// The admin routes.
pub fn router(health: Arc<Health>, metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(self::metrics))
        .with_state(AdminState { health, metrics })
}
