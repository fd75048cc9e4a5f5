//! The admin listener: liveness, readiness, slotel's own metrics and the status page.
//!
//! - `GET /`, `GET /slo/{service}/{name}`: the status page ([`page`]), over the SLO status
//!   API ([`crate::slo::api`]); with `service.admin.auth`, the API asks for a bearer
//!   token ([`auth`]).
//! - `GET /healthz`: 200 while the process runs.
//! - `GET /readyz`: 200 once every listener is bound and exporters are started; 503 while
//!   draining, while any pipeline queue or the process-wide memory budget is over 90% full,
//!   while the budget refused a request in the last few seconds (so a load balancer sends
//!   traffic elsewhere while clients are being told "retry later"), or while a disk queue
//!   cannot write (its disk is full or failing), with the reason in the body.
//! - `GET /metrics`: OpenMetrics text; the Prometheus text format (0.0.4) when the
//!   `Accept` header prefers `text/plain` (as `promtool check metrics` reads); the
//!   Prometheus protobuf exposition (`io.prometheus.client.MetricFamily`, length-delimited,
//!   with native histograms) when it prefers that (Prometheus does with native histograms
//!   on).

pub mod auth;
pub mod page;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::pipeline::PipelineSender;
use crate::pipeline::budget::MemoryBudget;
use crate::signal::Signal;
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
    pub fn readiness(&self) -> Result<(), NotReady> {
        if self.draining.load(Ordering::Acquire) {
            return Err(NotReady::Draining);
        }
        if !self.ready.load(Ordering::Acquire) {
            return Err(NotReady::Starting);
        }
        if let Some(b) = self.budget.get() {
            if b.fill_ratio() > NOT_READY_FILL {
                return Err(NotReady::BudgetFull {
                    fill: b.fill_ratio(),
                });
            }
            if b.refused_within(REFUSED_RECENTLY) {
                return Err(NotReady::BudgetRefused);
            }
        }
        for q in &self.queues {
            let signal = q.signal();
            if let Some(why) = q.blocked() {
                return Err(NotReady::Blocked { signal, why });
            }
            if q.turned_away_within(REFUSED_RECENTLY) {
                return Err(NotReady::TurnedAway { signal });
            }
            let fill = q.fill_ratio();
            if fill > NOT_READY_FILL {
                return Err(NotReady::QueueFull { signal, fill });
            }
        }
        Ok(())
    }
}

/// Why slotel is not ready (the body of a 503 from `/readyz`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotReady {
    #[error("draining")]
    Draining,
    #[error("starting")]
    Starting,
    /// The process-wide memory budget is over 90% in use (`fill` is a ratio).
    #[error("memory budget is {:.0}% in use", .fill * 100.0)]
    BudgetFull { fill: f64 },
    #[error("the memory budget refused requests in the last seconds")]
    BudgetRefused,
    /// An exporter of the pipeline cannot take batches (a disk queue that cannot write).
    #[error("{} pipeline: {why}", .signal.as_str())]
    Blocked { signal: Signal, why: String },
    #[error(
        "{} pipeline turned requests away in the last seconds (every decode slot busy)",
        .signal.as_str()
    )]
    TurnedAway { signal: Signal },
    #[error("{} queue is {:.0}% full", .signal.as_str(), .fill * 100.0)]
    QueueFull { signal: Signal, fill: f64 },
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

/// The content type of the protobuf exposition.
pub const PROTOBUF: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// The expositions of `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    OpenMetrics,
    /// Prometheus text 0.0.4.
    Text,
    Protobuf,
}

/// The exposition an `Accept` header prefers: protobuf when it names
/// `application/vnd.google.protobuf` with `proto=io.prometheus.client.MetricFamily` (and
/// `encoding=delimited`, or no encoding) at a quality above zero and at least that of every
/// text type; Prometheus text when `text/plain` ranks above `application/openmetrics-text`;
/// else OpenMetrics.
pub fn negotiate(accept: &str) -> Exposition {
    let mut proto_q: f64 = 0.0;
    let mut text_q: f64 = 0.0;
    let mut plain_q: f64 = 0.0;
    let mut om_q: f64 = 0.0;
    for entry in accept.split(',') {
        let mut parts = entry.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let mut q = 1.0;
        let mut proto = None;
        let mut encoding = None;
        for p in parts {
            let Some((k, v)) = p.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"');
            match k.trim().to_ascii_lowercase().as_str() {
                "q" => q = v.parse::<f64>().unwrap_or(0.0).clamp(0.0, 1.0),
                "proto" => proto = Some(v.to_string()),
                "encoding" => encoding = Some(v.to_ascii_lowercase()),
                _ => {}
            }
        }
        match media.as_str() {
            "application/vnd.google.protobuf"
                if proto.as_deref() == Some("io.prometheus.client.MetricFamily")
                    && encoding.as_deref().is_none_or(|e| e == "delimited") =>
            {
                proto_q = proto_q.max(q);
            }
            "application/openmetrics-text" => {
                om_q = om_q.max(q);
                text_q = text_q.max(q);
            }
            "text/plain" => {
                plain_q = plain_q.max(q);
                text_q = text_q.max(q);
            }
            "text/*" | "*/*" => text_q = text_q.max(q),
            _ => {}
        }
    }
    if proto_q > 0.0 && proto_q >= text_q {
        Exposition::Protobuf
    } else if plain_q > om_q {
        Exposition::Text
    } else {
        Exposition::OpenMetrics
    }
}

async fn metrics(State(state): State<AdminState>, headers: HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let exposition = negotiate(accept);
    // Encoding reads every SLO group; on the blocking pool, so the admin runtime's one
    // thread keeps answering probes while a large exposition is written.
    let metrics = state.metrics.clone();
    match tokio::task::spawn_blocking(move || encode(&metrics, exposition)).await {
        Ok(response) => response,
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The body of `/metrics` in `exposition`.
fn encode(metrics: &Metrics, exposition: Exposition) -> Response {
    match exposition {
        Exposition::Protobuf => match metrics.encode_protobuf() {
            Ok(body) => return ([(header::CONTENT_TYPE, PROTOBUF)], body).into_response(),
            Err(e) => {
                tracing::warn!(error = %e, "protobuf exposition failed; answering with text");
            }
        },
        Exposition::Text => {
            return (
                [(
                    header::CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8",
                )],
                metrics.encode_prometheus_text(),
            )
                .into_response();
        }
        Exposition::OpenMetrics => {}
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.encode(),
    )
        .into_response()
}

/// `routes` behind `service.admin.auth`'s token, when one is set.
pub fn protect(routes: Router, auth: Option<&crate::config::AdminAuth>) -> Router {
    match auth {
        Some(a) => routes.layer(axum::middleware::from_fn_with_state(
            auth::AdminToken::new(&a.token),
            auth::require,
        )),
        None => routes,
    }
}

/// The admin routes: the probes, always open, and `/metrics`, behind the admin token
/// when `service.admin.auth.metrics` asks for it.
pub fn router(
    health: Arc<Health>,
    metrics: Arc<Metrics>,
    auth: Option<&crate::config::AdminAuth>,
) -> Router {
    let state = AdminState { health, metrics };
    let scrape = Router::new()
        .route("/metrics", get(self::metrics))
        .with_state(state.clone());
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
        .merge(protect(scrape, auth.filter(|a| a.metrics)))
}

#[cfg(test)]
mod tests {
    use super::{Exposition, negotiate};

    fn wants_protobuf(accept: &str) -> bool {
        negotiate(accept) == Exposition::Protobuf
    }

    #[test]
    fn protobuf_only_when_preferred() {
        // Prometheus with native histograms on.
        assert!(wants_protobuf(
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,\
             application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
        ));
        // Prometheus without: text first.
        assert!(!wants_protobuf(
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,\
             text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        ));
        assert!(!wants_protobuf(""));
        assert!(!wants_protobuf("*/*"));
        assert!(!wants_protobuf(
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"
        ));
        assert!(!wants_protobuf(
            "application/vnd.google.protobuf;proto=other.Message;encoding=delimited"
        ));
        assert!(!wants_protobuf(
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;q=0"
        ));
        assert_eq!(negotiate("text/plain;version=0.0.4"), Exposition::Text);
        assert_eq!(negotiate(""), Exposition::OpenMetrics);
        assert_eq!(negotiate("*/*"), Exposition::OpenMetrics);
        assert_eq!(
            negotiate("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"),
            Exposition::OpenMetrics
        );
    }
}
