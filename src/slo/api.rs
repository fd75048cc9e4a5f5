//! The SLO status API on the admin listener:
//!
//! - `GET /api/v1/slos`: one entry per SLO and group (`cluster: "all"` first), with the
//!   SLO window's counts, error ratio, budget remaining, burn rate per window and latency
//!   percentiles; `null` where there is no data.
//! - `GET /api/v1/slos/{service}/{name}`: the same for one SLO, plus every window in detail.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::engine::Engine;

/// The response body: `{"slos": [...]}` with fields in their documented order.
#[derive(serde::Serialize)]
struct List<'a> {
    slos: &'a [super::engine::GroupStatus],
}

fn json(status: StatusCode, value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn list(State(engine): State<Arc<Engine>>) -> Response {
    let mut slos = engine.status();
    for s in &mut slos {
        s.windows = None;
    }
    json(StatusCode::OK, &List { slos: &slos })
}

async fn one(
    State(engine): State<Arc<Engine>>,
    Path((service, name)): Path<(String, String)>,
) -> Response {
    let slos: Vec<_> = engine
        .status()
        .into_iter()
        .filter(|s| s.service == service && s.name == name)
        .collect();
    if slos.is_empty() {
        return json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({ "error": format!("no slo {name:?} for service {service:?}") }),
        );
    }
    json(StatusCode::OK, &List { slos: &slos })
}

/// The API routes.
pub fn router(engine: Arc<Engine>) -> Router {
    Router::new()
        .route("/api/v1/slos", get(list))
        .route("/api/v1/slos/{service}/{name}", get(one))
        .with_state(engine)
}
