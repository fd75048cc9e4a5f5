//! The SLO status API on the admin listener:
//!
//! - `GET /api/v1/slos`: one entry per SLO and group (`cluster: "all"` first, then per
//!   cluster its roll-up and its groups), with the status, the SLO window's counts, error
//!   ratio, budget remaining, burn rate per window and latency percentiles; `null` where
//!   there is no data.
//! - `GET /api/v1/slos/{service}/{name}`: the same for one SLO, plus every window in detail.
//!
//! Both take filters as query parameters, all of which an entry must match: `service`,
//! `slo`, `cluster`, `status`, and any group key, by its attribute name or its label name
//! (`?http.route=/api/pay` or `?http_route=/api/pay`; only group entries have group
//! values). A parameter that is neither is refused (400), so a typo is not an empty list.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::engine::{Engine, GroupStatus};

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

/// Query filters: (key, value), every one to match.
struct Filters(Vec<(String, String)>);

const FIELDS: [&str; 4] = ["service", "slo", "cluster", "status"];

impl Filters {
    /// Parses a query string; unknown keys (not a field, not a group key of a loaded SLO)
    /// are an error.
    fn parse(query: Option<&str>, engine: &Engine) -> Result<Self, String> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let slos = engine.slos();
        for (k, _) in &pairs {
            let known = FIELDS.contains(&k.as_str())
                || slos.iter().any(|s| {
                    s.spec
                        .group_by
                        .iter()
                        .any(|a| a.key() == k || a.label_name() == *k)
                });
            if !known {
                return Err(format!(
                    "unknown filter {k:?}: filters are service, slo, cluster, status and the \
                     group keys of the loaded SLOs"
                ));
            }
        }
        Ok(Self(pairs))
    }

    fn matches(&self, s: &GroupStatus) -> bool {
        self.0.iter().all(|(k, v)| match k.as_str() {
            "service" => s.service == *v,
            "slo" => s.name == *v,
            "cluster" => s.cluster == *v,
            "status" => s.status.as_str() == v,
            _ => {
                let by_key = s
                    .group
                    .as_ref()
                    .is_some_and(|g| g.get(k).is_some_and(|x| x == v));
                // Group labels follow slo, service, cluster.
                let by_label =
                    s.group.is_some() && s.labels.iter().skip(3).any(|(n, x)| n == k && x == v);
                by_key || by_label
            }
        })
    }
}

fn bad_request(msg: String) -> Response {
    json(
        StatusCode::BAD_REQUEST,
        &serde_json::json!({ "error": msg }),
    )
}

async fn list(State(engine): State<Arc<Engine>>, RawQuery(query): RawQuery) -> Response {
    let filters = match Filters::parse(query.as_deref(), &engine) {
        Ok(f) => f,
        Err(e) => return bad_request(e),
    };
    let mut slos: Vec<GroupStatus> = engine
        .status()
        .into_iter()
        .filter(|s| filters.matches(s))
        .collect();
    for s in &mut slos {
        s.windows = None;
    }
    json(StatusCode::OK, &List { slos: &slos })
}

async fn one(
    State(engine): State<Arc<Engine>>,
    Path((service, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let filters = match Filters::parse(query.as_deref(), &engine) {
        Ok(f) => f,
        Err(e) => return bad_request(e),
    };
    let all: Vec<_> = engine
        .status()
        .into_iter()
        .filter(|s| s.service == service && s.name == name)
        .collect();
    let found = !all.is_empty();
    let slos: Vec<_> = all.into_iter().filter(|s| filters.matches(s)).collect();
    if !found {
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
