//! `/api/v1/adjustments` on the admin listener, behind `service.admin.auth` like the rest
//! of the SLO API:
//!
//! - `GET /api/v1/adjustments[?service=…&slo=…]`: every adjustment (the SLO files' and the
//!   API's) with `source`, whether it is `active` now and its current or `next` range
//!   (within 7 days).
//! - `POST /api/v1/adjustments`: a JSON [`Doc`] without `id` and `created_at`; `author`
//!   and `reason` are required (the admin token names nobody, so the request says who).
//!   The service must have a loaded SLO, and `slos` must name its SLOs. Answers 201 with
//!   the adjustment and its `id`; the body is at most 16 KiB.
//! - `DELETE /api/v1/adjustments/{id}?author=…&reason=…`: both required; SLO files'
//!   adjustments are changed in their file (409).
//!
//! Every `/api/v1/slos` entry lists the adjustments of its SLO that are active or start
//! within 7 days ([`marks`]).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};

use super::store::{Store, StoreError};
use super::{Adjustment, Doc, MAX_TEXT, rfc3339};
use crate::slo::engine::Engine;

/// The largest `POST` body.
pub const MAX_BODY: usize = 16 * 1024;

#[derive(Clone)]
struct ApiState {
    engine: Arc<Engine>,
    store: Arc<Store>,
}

/// A range as the API shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Range {
    pub start: String,
    pub end: String,
}

/// An adjustment of an SLO as its status entries show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Mark {
    pub id: String,
    pub reason: String,
    pub active: bool,
    /// The active range, or the next one.
    pub range: Range,
    /// The clusters it applies to; empty (left out): every cluster.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<String>,
}

/// The adjustments of SLO `name` of `service` active at `now` or starting within 7 days.
pub fn marks(engine: &Engine, service: &str, name: &str, now: u64) -> Vec<Mark> {
    engine
        .adjustments()
        .of(service, name)
        .iter()
        .filter_map(|a| {
            let (s, e) = a.current_or_next(now)?;
            Some(Mark {
                id: a.doc.id.clone(),
                reason: a.doc.reason.clone(),
                active: s <= now && now < e,
                range: Range {
                    start: rfc3339(s),
                    end: rfc3339(e),
                },
                clusters: a.doc.clusters.clone(),
            })
        })
        .collect()
}

#[derive(serde::Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    doc: &'a Doc,
    source: &'static str,
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<Range>,
}

fn listed<'a>(a: &'a Adjustment, source: &'static str, now: u64) -> Listed<'a> {
    let next = a.current_or_next(now);
    Listed {
        doc: &a.doc,
        source,
        active: next.is_some_and(|(s, e)| s <= now && now < e),
        next: next.map(|(s, e)| Range {
            start: rfc3339(s),
            end: rfc3339(e),
        }),
    }
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

fn error(status: StatusCode, msg: impl std::fmt::Display) -> Response {
    json(status, &serde_json::json!({ "error": msg.to_string() }))
}

/// A query key the endpoint does not take, and those it does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown parameter {key:?}: expected {}", known.join(", "))]
struct UnknownParameter {
    key: String,
    known: &'static [&'static str],
}

/// The query's pairs; an unknown key is an error naming the known ones.
fn query(
    raw: Option<&str>,
    known: &'static [&'static str],
) -> Result<Vec<(String, String)>, UnknownParameter> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    for (k, _) in &pairs {
        if !known.contains(&k.as_str()) {
            return Err(UnknownParameter {
                key: k.clone(),
                known,
            });
        }
    }
    Ok(pairs)
}

async fn list(State(state): State<ApiState>, RawQuery(raw): RawQuery) -> Response {
    let filters = match query(raw.as_deref(), &["service", "slo"]) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let now = state.engine.now_nanos();
    let api: Vec<Arc<Adjustment>> = state.store.list();
    let all = state.engine.adjustments().all();
    let out: Vec<Listed<'_>> = all
        .iter()
        .filter(|a| {
            filters.iter().all(|(k, v)| match k.as_str() {
                "service" => a.doc.service == *v,
                _ => a.applies_to(&a.doc.service, v),
            })
        })
        .map(|a| {
            let source = if api.iter().any(|x| Arc::ptr_eq(x, a)) {
                "api"
            } else {
                "file"
            };
            listed(a, source, now)
        })
        .collect();
    json(
        StatusCode::OK,
        &serde_json::json!({ "persisted": state.store.persisted(), "adjustments": out }),
    )
}

async fn create(State(state): State<ApiState>, body: Bytes) -> Response {
    let doc: Doc = match serde_json::from_slice(&body) {
        Ok(d) => d,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid adjustment: {e}")),
    };
    if !doc.id.is_empty() || doc.created_at.is_some() {
        return error(
            StatusCode::BAD_REQUEST,
            "id and created_at are set by slotel, leave them out",
        );
    }
    if doc.author.as_deref().is_none_or(|a| a.trim().is_empty()) {
        return error(
            StatusCode::BAD_REQUEST,
            "author is required: who makes this adjustment",
        );
    }
    let slos = state.engine.slos();
    let names: Vec<&str> = slos
        .iter()
        .filter(|s| s.spec.service == doc.service)
        .map(|s| s.spec.name.as_str())
        .collect();
    if let Some(j) = slos.iter().find(|s| {
        s.spec.service == doc.service
            && matches!(&s.spec.sli, crate::slo::spec::Sli::Journey(j) if j.trace.is_none())
            && doc.slos.contains(&s.spec.name)
    }) {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "{:?} is a weighted journey: its events are its members', adjust those",
                j.spec.name
            ),
        );
    }
    if names.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            format!("no loaded slo has service {:?}", doc.service),
        );
    }
    if let Some(unknown) = doc.slos.iter().find(|s| !names.contains(&s.as_str())) {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "service {:?} has no slo {unknown:?} (its slos: {})",
                doc.service,
                names.join(", ")
            ),
        );
    }
    let now = state.engine.now_nanos();
    // Checking a recurring rule walks up to 200,000 of its periods: on the blocking pool,
    // so the admin runtime's one thread keeps answering probes meanwhile.
    let checked = {
        let doc = doc.clone();
        tokio::task::spawn_blocking(move || Adjustment::new(doc).map(|a| a.ended_before(now))).await
    };
    match checked {
        Ok(Ok(true)) => {
            return error(
                StatusCode::BAD_REQUEST,
                "every range of this adjustment has ended: adjustments apply to the events \
                 slotel records from now on, so it would change nothing",
            );
        }
        Ok(Ok(false)) => {}
        Ok(Err(e)) => return error(StatusCode::BAD_REQUEST, format!("invalid adjustment: {e}")),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
    let store = state.store.clone();
    let result = tokio::task::spawn_blocking(move || store.create(doc, now)).await;
    match result {
        Ok(Ok(a)) => json(
            StatusCode::CREATED,
            &serde_json::json!({
                "persisted": state.store.persisted(),
                "adjustment": listed(&a, "api", now),
            }),
        ),
        Ok(Err(e)) => store_error(&e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

fn store_error(e: &StoreError) -> Response {
    let status = match e {
        StoreError::Invalid(_) => StatusCode::BAD_REQUEST,
        StoreError::Full | StoreError::InFile(_) => StatusCode::CONFLICT,
        StoreError::NotFound(_) => StatusCode::NOT_FOUND,
        StoreError::Io { .. } => {
            tracing::error!(error = %e, cause = ?std::error::Error::source(e), "budget adjustment not saved");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    error(status, e)
}

async fn remove(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = match query(raw.as_deref(), &["author", "reason"]) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let (Some(author), Some(reason)) = (get("author"), get("reason")) else {
        return error(
            StatusCode::BAD_REQUEST,
            "author and reason are required query parameters: who deletes it and why",
        );
    };
    if author.len() > MAX_TEXT || reason.len() > MAX_TEXT {
        return error(
            StatusCode::BAD_REQUEST,
            format!("author and reason are at most {MAX_TEXT} bytes"),
        );
    }
    let now = state.engine.now_nanos();
    let store = state.store.clone();
    let result =
        tokio::task::spawn_blocking(move || store.delete(&id, &author, &reason, now)).await;
    match result {
        Ok(Ok(a)) => json(
            StatusCode::OK,
            &serde_json::json!({ "deleted": listed(&a, "api", now) }),
        ),
        Ok(Err(e)) => store_error(&e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// The routes (protect them with [`crate::admin::protect`]).
pub fn router(engine: Arc<Engine>, store: Arc<Store>) -> Router {
    Router::new()
        .route("/api/v1/adjustments", get(list).post(create))
        .route("/api/v1/adjustments/{id}", delete(remove))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(ApiState { engine, store })
}
