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
//!
//! Both answer `{"source": …, "slos": [...]}`: `source` is `"local"` (this replica's
//! engine, with `note` saying that it shows this replica's share of the traffic), or with
//! `slo.status_source` `"prometheus"`: every replica's numbers, read from Prometheus for
//! the SLOs this replica has loaded ([`super::merged`]); an error of Prometheus answers
//! 502 with the reason.
//!
//! An entry of an SLO with budget adjustments active or starting within 7 days lists them
//! as `adjustments` ([`super::adjust::api::marks`]); `/api/v1/adjustments` is
//! [`super::adjust::api`].

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::engine::{Engine, GroupStatus};
use super::merged::StatusSource;

/// The response body: `{"source": …, "slos": [...]}` with fields in their documented
/// order.
#[derive(serde::Serialize)]
struct List<'a> {
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'static str>,
    slos: Vec<Entry<&'a GroupStatus>>,
}

/// An entry of `GET /api/v1/slos`: an SLO group's status, with its SLO's budget adjustments
/// (active or within 7 days) when it has any and, on the `all` entry of a log latency SLI,
/// the latencies it could not read. `slotel replay` reports the same entries.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry<S> {
    /// The group's status (its fields are the entry's).
    #[serde(flatten)]
    pub entry: S,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<super::adjust::api::Mark>,
    /// Log latency SLIs, on the `cluster: "all"` entry: records not counted because their
    /// latency field could not be read, by reason (every cluster together).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable_latency: Option<std::collections::BTreeMap<&'static str, u64>>,
}

impl<S: std::borrow::Borrow<GroupStatus>> std::ops::Deref for Entry<S> {
    type Target = GroupStatus;

    fn deref(&self) -> &GroupStatus {
        self.entry.borrow()
    }
}

/// The API's entries of `slos` at the engine's now (a replay's: its clock).
pub fn entries<S: std::borrow::Borrow<GroupStatus>>(
    slos: impl IntoIterator<Item = S>,
    engine: &Engine,
) -> Vec<Entry<S>> {
    let now = engine.now_nanos();
    let mut marks: std::collections::HashMap<(String, String), Vec<super::adjust::api::Mark>> =
        std::collections::HashMap::new();
    slos.into_iter()
        .map(|status| {
            let s = status.borrow();
            let adjustments = marks
                .entry((s.service.clone(), s.name.clone()))
                .or_insert_with(|| super::adjust::api::marks(engine, &s.service, &s.name, now))
                .clone();
            let unreadable_latency = unreadable_latency(engine, s);
            Entry {
                entry: status,
                adjustments,
                unreadable_latency,
            }
        })
        .collect()
}

/// The unreadable latency counts of a log latency SLI's `all` entry.
fn unreadable_latency(
    engine: &Engine,
    status: &GroupStatus,
) -> Option<std::collections::BTreeMap<&'static str, u64>> {
    if status.cluster != super::engine::state::ALL {
        return None;
    }
    let slo = engine
        .slos()
        .into_iter()
        .find(|s| s.spec.service == status.service && s.spec.name == status.name)?;
    let super::spec::Sli::Logs(super::spec::LogSli {
        latency: Some(_), ..
    }) = &slo.spec.sli
    else {
        return None;
    };
    let counts = slo.log_unreadable();
    Some(
        crate::slo::ottl::Unreadable::ALL
            .iter()
            .map(|w| (w.name(), counts[w.index()]))
            .collect(),
    )
}

/// What the local engine's numbers are.
const LOCAL_NOTE: &str = "this replica's share of the traffic: with several replicas, set \
                          slo.status_source to see all of it";

impl<'a> List<'a> {
    fn new(merged: bool, slos: &'a [GroupStatus], engine: &Engine) -> Self {
        Self {
            source: if merged { "prometheus" } else { "local" },
            note: (!merged).then_some(LOCAL_NOTE),
            slos: entries(slos, engine),
        }
    }
}

/// The engine, and where the entries come from.
#[derive(Clone)]
struct ApiState {
    engine: Arc<Engine>,
    source: Option<Arc<StatusSource>>,
}

impl ApiState {
    /// Every entry (of one SLO: `only` = (service, name)), from Prometheus with
    /// `status_source`; a 502 if it fails.
    async fn status(&self, only: Option<(&str, &str)>) -> Result<Vec<GroupStatus>, Response> {
        match &self.source {
            // Every group's status: on the blocking pool, so the admin runtime's one
            // thread keeps answering probes meanwhile.
            None => {
                let engine = self.engine.clone();
                tokio::task::spawn_blocking(move || engine.status())
                    .await
                    .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())
            }
            Some(s) => s.status(&self.engine, only).await.map_err(|e| {
                tracing::warn!(error = %e, "status_source: the query failed");
                json(
                    StatusCode::BAD_GATEWAY,
                    &serde_json::json!({ "error": format!("status_source: {e}") }),
                )
            }),
        }
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

/// A query key that is neither a field nor a group key of a loaded SLO.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown filter {0:?}: filters are service, slo, cluster, status and the \
     group keys of the loaded SLOs"
)]
struct UnknownFilter(String);

/// Query filters: (key, value), every one to match.
struct Filters(Vec<(String, String)>);

const FIELDS: [&str; 4] = ["service", "slo", "cluster", "status"];

impl Filters {
    /// Parses a query string; unknown keys (not a field, not a group key of a loaded SLO)
    /// are an error.
    fn parse(query: Option<&str>, engine: &Engine) -> Result<Self, UnknownFilter> {
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
                        .any(|a| a.key() == k.as_str() || a.label_name() == *k)
                });
            if !known {
                return Err(UnknownFilter(k.clone()));
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

async fn list(State(state): State<ApiState>, RawQuery(query): RawQuery) -> Response {
    let filters = match Filters::parse(query.as_deref(), &state.engine) {
        Ok(f) => f,
        Err(e) => return bad_request(e.to_string()),
    };
    let all = match state.status(None).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut slos: Vec<GroupStatus> = all.into_iter().filter(|s| filters.matches(s)).collect();
    for s in &mut slos {
        s.windows = None;
    }
    json(
        StatusCode::OK,
        &List::new(state.source.is_some(), &slos, &state.engine),
    )
}

async fn one(
    State(state): State<ApiState>,
    Path((service, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let filters = match Filters::parse(query.as_deref(), &state.engine) {
        Ok(f) => f,
        Err(e) => return bad_request(e.to_string()),
    };
    if !state
        .engine
        .slos()
        .iter()
        .any(|s| s.spec.service == service && s.spec.name == name)
    {
        return json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({ "error": format!("no slo {name:?} for service {service:?}") }),
        );
    }
    let all = match state.status(Some((&service, &name))).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let all: Vec<_> = all
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
    json(
        StatusCode::OK,
        &List::new(state.source.is_some(), &slos, &state.engine),
    )
}

/// The API routes; with `source` (`slo.status_source`) they answer from Prometheus.
pub fn router(engine: Arc<Engine>, source: Option<Arc<StatusSource>>) -> Router {
    Router::new()
        .route("/api/v1/slos", get(list))
        .route("/api/v1/slos/{service}/{name}", get(one))
        .with_state(ApiState { engine, source })
}
