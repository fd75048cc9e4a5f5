//! The SLO engine's recent past, for the status page's charts: per SLO and cluster (the
//! `all` entry and each cluster's roll-up), points of the SLI, the error budget remaining,
//! the burn rate of every window and the latency percentiles of the shortest window, each
//! exactly as `GET /api/v1/slos` showed it when the point was taken.
//!
//! Two resolutions, both bounded: the last [`RECENT_POINTS`] steps of `slo.history_interval`
//! (5m by default: the last day), and the SLO window at 1/30 of its length
//! ([`WINDOW_POINTS`] points). A point stands for its step: it is the latest sample taken in
//! that step (samples come every [`SAMPLE_EVERY`] at most), so the newest point is always
//! recent. At most [`MAX_SERIES_PER_SLO`] clusters per SLO and [`MAX_SERIES`] in all keep a
//! history; the others are counted in `series_dropped`. History lives in memory only: a
//! restart starts it anew (the windows themselves survive with `slo.state_dir`).
//!
//! `GET /api/v1/slos/{service}/{name}/history` answers both resolutions merged (the coarse
//! points older than the oldest recent one, then the recent ones), columns per cluster, and
//! the burn-rate alert thresholds `slotel rules` would generate for the SLO. With
//! `slo.status_source` it answers the same shape from Prometheus range queries instead
//! ([`super::merged::history`]), with `"source": "prometheus"`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::engine::status::Ordered;
use super::engine::{Engine, GroupStatus, slo_window_secs};

/// Points of the recent resolution: a day of 5-minute steps.
pub const RECENT_POINTS: usize = 288;
/// Points of the SLO-window resolution (1/30 of the window each, plus the current one).
pub const WINDOW_POINTS: usize = 31;
/// Clusters (the `all` entry included) with a history, per SLO.
pub const MAX_SERIES_PER_SLO: usize = 16;
/// Series in all.
pub const MAX_SERIES: usize = 1024;
/// Burn-rate windows and percentiles kept per point.
const MAX_COLUMNS: usize = 12;
/// Samples are taken this often at most (less often when `slo.history_interval` is shorter).
pub const SAMPLE_EVERY: Duration = Duration::from_secs(15);
/// The shortest `slo.history_interval` honoured.
pub const MIN_STEP: Duration = Duration::from_secs(1);

/// One sample of one SLO × cluster. `f64::NAN` stands for `null`.
#[derive(Debug, Clone)]
struct Point {
    /// Unix seconds.
    t: u64,
    /// sli, error budget remaining, burn rates (window order), latencies (percentile order).
    values: Box<[f64]>,
}

#[derive(Debug, Default)]
struct Ring {
    points: VecDeque<Point>,
}

impl Ring {
    /// Adds `p`, replacing the last point when both fall in the same `step`.
    fn put(&mut self, p: Point, step: u64, cap: usize) {
        let step = step.max(1);
        if let Some(last) = self.points.back_mut()
            && last.t / step == p.t / step
        {
            *last = p;
            return;
        }
        self.points.push_back(p);
        while self.points.len() > cap {
            self.points.pop_front();
        }
    }
}

#[derive(Debug, Default)]
struct Series {
    cluster: String,
    recent: Ring,
    window: Ring,
}

/// The history of one SLO; reset when its windows, percentiles or objective change.
#[derive(Debug)]
struct SloHistory {
    objective: f64,
    window: String,
    window_secs: u64,
    /// Burn-rate windows, then the latency window.
    windows: Vec<String>,
    percentiles: Vec<String>,
    latency_window: Option<String>,
    series: Vec<Series>,
    dropped: u64,
}

/// The history of every loaded SLO.
pub struct History {
    step: Duration,
    slos: Mutex<HashMap<(String, String), SloHistory>>,
}

fn value(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

impl History {
    /// A history with recent points `step` apart (at least [`MIN_STEP`]).
    pub fn new(step: Duration) -> Arc<Self> {
        Arc::new(Self {
            step: step.max(MIN_STEP),
            slos: Mutex::new(HashMap::new()),
        })
    }

    /// How often [`History::sample`] should run.
    pub fn sample_every(&self) -> Duration {
        self.step.min(SAMPLE_EVERY)
    }

    /// Takes a point of every SLO and cluster from `engine` now.
    pub fn sample(&self, engine: &Engine) {
        let now = engine.now_nanos() / 1_000_000_000;
        let window_secs: HashMap<(String, String), u64> = engine
            .slos()
            .iter()
            .map(|s| {
                (
                    (s.spec.service.clone(), s.spec.name.clone()),
                    slo_window_secs(&s.spec),
                )
            })
            .collect();
        self.record(&engine.status(), &window_secs, now);
    }

    fn record(
        &self,
        statuses: &[GroupStatus],
        window_secs: &HashMap<(String, String), u64>,
        now: u64,
    ) {
        let mut slos = self.slos.lock().unwrap_or_else(|p| p.into_inner());
        // SLOs no longer loaded lose their history.
        slos.retain(|k, _| window_secs.contains_key(k));
        let mut total: usize = slos.values().map(|h| h.series.len()).sum();
        let step = self.step.as_secs().max(1);
        for s in statuses.iter().filter(|s| s.group.is_none()) {
            let key = (s.service.clone(), s.name.clone());
            let Some(&secs) = window_secs.get(&key) else {
                continue;
            };
            let windows: Vec<String> = s
                .burn_rate
                .0
                .iter()
                .take(MAX_COLUMNS)
                .map(|(w, _)| w.clone())
                .collect();
            let latency = s.windows.as_ref().and_then(|w| w.first());
            let percentiles: Vec<String> = latency
                .map(|w| {
                    w.latency
                        .0
                        .iter()
                        .take(MAX_COLUMNS)
                        .map(|(p, _)| p.clone())
                        .collect()
                })
                .unwrap_or_default();
            let h = slos.entry(key).or_insert_with(|| SloHistory {
                objective: s.objective,
                window: s.window.clone(),
                window_secs: secs,
                windows: windows.clone(),
                percentiles: percentiles.clone(),
                latency_window: latency.map(|w| w.window.clone()),
                series: Vec::new(),
                dropped: 0,
            });
            if h.objective != s.objective
                || h.window_secs != secs
                || h.windows != windows
                || h.percentiles != percentiles
            {
                total -= h.series.len();
                *h = SloHistory {
                    objective: s.objective,
                    window: s.window.clone(),
                    window_secs: secs,
                    windows: windows.clone(),
                    percentiles: percentiles.clone(),
                    latency_window: latency.map(|w| w.window.clone()),
                    series: Vec::new(),
                    dropped: 0,
                };
            }
            let i = match h.series.iter().position(|x| x.cluster == s.cluster) {
                Some(i) => i,
                None if h.series.len() < MAX_SERIES_PER_SLO && total < MAX_SERIES => {
                    total += 1;
                    h.series.push(Series {
                        cluster: s.cluster.clone(),
                        ..Series::default()
                    });
                    h.series.len() - 1
                }
                None => {
                    h.dropped += 1;
                    continue;
                }
            };
            let mut values = vec![
                value(s.error_ratio.map(|e| 1.0 - e)),
                value(s.error_budget_remaining),
            ];
            values.extend(
                s.burn_rate
                    .0
                    .iter()
                    .take(MAX_COLUMNS)
                    .map(|(_, v)| value(*v)),
            );
            if let Some(w) = latency {
                values.extend(w.latency.0.iter().take(MAX_COLUMNS).map(|(_, v)| value(*v)));
            }
            let p = Point {
                t: now,
                values: values.into_boxed_slice(),
            };
            let series = &mut h.series[i];
            series
                .window
                .put(p.clone(), (secs / 30).max(1), WINDOW_POINTS);
            series.recent.put(p, step, RECENT_POINTS);
        }
    }

    /// The history of one SLO as the API answers it, `None` for an SLO without one.
    fn view(&self, service: &str, name: &str) -> Option<HistoryView> {
        let slos = self.slos.lock().unwrap_or_else(|p| p.into_inner());
        let h = slos.get(&(service.to_string(), name.to_string()))?;
        let series = h
            .series
            .iter()
            .map(|s| {
                let oldest_recent = s.recent.points.front().map_or(u64::MAX, |p| p.t);
                let points: Vec<&Point> = s
                    .window
                    .points
                    .iter()
                    .filter(|p| p.t < oldest_recent)
                    .chain(s.recent.points.iter())
                    .collect();
                let column = |i: usize| -> Vec<Option<f64>> {
                    points
                        .iter()
                        .map(|p| p.values.get(i).copied().filter(|v| !v.is_nan()))
                        .collect()
                };
                let n = h.windows.len();
                SeriesView {
                    cluster: s.cluster.clone(),
                    t: points.iter().map(|p| p.t).collect(),
                    sli: column(0),
                    error_budget_remaining: column(1),
                    burn_rate: Ordered(
                        h.windows
                            .iter()
                            .enumerate()
                            .map(|(i, w)| (w.clone(), column(2 + i)))
                            .collect(),
                    ),
                    latency: Ordered(
                        h.percentiles
                            .iter()
                            .enumerate()
                            .map(|(i, p)| (p.clone(), column(2 + n + i)))
                            .collect(),
                    ),
                }
            })
            .collect();
        Some(HistoryView {
            service: service.to_string(),
            name: name.to_string(),
            objective: h.objective,
            window: h.window.clone(),
            step_seconds: self.step.as_secs().max(1),
            window_step_seconds: (h.window_secs / 30).max(1),
            latency_window: h.latency_window.clone(),
            alerts: Vec::new(),
            series_dropped: h.dropped,
            series,
        })
    }
}

/// The body of `GET /api/v1/slos/{service}/{name}/history`.
#[derive(Debug, serde::Serialize)]
struct HistoryView {
    service: String,
    name: String,
    objective: f64,
    window: String,
    /// Recent points are this far apart.
    step_seconds: u64,
    /// Older points (back to the SLO window) are this far apart.
    window_step_seconds: u64,
    /// The window of the latency columns.
    latency_window: Option<String>,
    /// The burn-rate alerts `slotel rules` generates for the SLO.
    alerts: Vec<crate::rules::BurnRateAlert>,
    /// Samples of clusters that got no history (over the limits).
    series_dropped: u64,
    series: Vec<SeriesView>,
}

#[derive(Debug, serde::Serialize)]
struct SeriesView {
    cluster: String,
    /// Unix seconds.
    t: Vec<u64>,
    sli: Vec<Option<f64>>,
    error_budget_remaining: Vec<Option<f64>>,
    burn_rate: Ordered<Vec<Option<f64>>>,
    latency: Ordered<Vec<Option<f64>>>,
}

#[derive(Clone)]
struct ApiState {
    engine: Arc<Engine>,
    history: Arc<History>,
    /// `slo.status_source`: the history comes from Prometheus instead.
    source: Option<Arc<super::merged::StatusSource>>,
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

fn not_found(service: &str, name: &str) -> Response {
    json(
        StatusCode::NOT_FOUND,
        &serde_json::json!({ "error": format!("no slo {name:?} for service {service:?}") }),
    )
}

async fn history(
    State(state): State<ApiState>,
    Path((service, name)): Path<(String, String)>,
) -> Response {
    let Some(slo) = state
        .engine
        .slos()
        .into_iter()
        .find(|s| s.spec.service == service && s.spec.name == name)
    else {
        return not_found(&service, &name);
    };
    if let Some(source) = &state.source {
        return match super::merged::history::history(source, &slo.spec, state.history.step).await {
            Ok(view) => json(StatusCode::OK, &view),
            Err(e) => {
                tracing::warn!(error = %e, "status_source: the history query failed");
                json(
                    StatusCode::BAD_GATEWAY,
                    &serde_json::json!({ "error": format!("status_source: {e}") }),
                )
            }
        };
    }
    let mut view = state.history.view(&service, &name).unwrap_or(HistoryView {
        service: service.clone(),
        name: name.clone(),
        objective: slo.spec.objective,
        window: String::new(),
        step_seconds: state.history.step.as_secs().max(1),
        window_step_seconds: (slo_window_secs(&slo.spec) / 30).max(1),
        latency_window: None,
        alerts: Vec::new(),
        series_dropped: 0,
        series: Vec::new(),
    });
    view.alerts = crate::rules::burn_rate_alerts(&slo.spec);
    json(StatusCode::OK, &view)
}

async fn definition(
    State(state): State<ApiState>,
    Path((service, name)): Path<(String, String)>,
) -> Response {
    match state
        .engine
        .slos()
        .into_iter()
        .find(|s| s.spec.service == service && s.spec.name == name)
    {
        Some(slo) => json(
            StatusCode::OK,
            &super::definition::Definition::of(&slo.spec),
        ),
        None => not_found(&service, &name),
    }
}

/// Samples `engine` into `history` every [`History::sample_every`], from now on.
pub async fn sample_loop(engine: Arc<Engine>, history: Arc<History>) {
    let mut tick = tokio::time::interval(history.sample_every());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let (engine, history) = (engine.clone(), history.clone());
        let _ = tokio::task::spawn_blocking(move || history.sample(&engine)).await;
    }
}

/// `GET /api/v1/slos/{service}/{name}/history` and `…/definition`; with `source`
/// (`slo.status_source`) the history is read from Prometheus ([`super::merged::history`]).
pub fn router(
    engine: Arc<Engine>,
    history: Arc<History>,
    source: Option<Arc<super::merged::StatusSource>>,
) -> Router {
    Router::new()
        .route("/api/v1/slos/{service}/{name}/history", get(self::history))
        .route("/api/v1/slos/{service}/{name}/definition", get(definition))
        .with_state(ApiState {
            engine,
            history,
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(cluster: &str, budget: f64) -> GroupStatus {
        GroupStatus {
            name: "availability".into(),
            service: "checkout".into(),
            cluster: cluster.into(),
            group: None,
            objective: 0.99,
            window: "30d".into(),
            status: super::super::engine::status::Status::Ok,
            total: 10,
            good: 9,
            raw_total: None,
            raw_good: None,
            raw_unit: None,
            error_ratio: Some(0.1),
            error_budget_remaining: Some(budget),
            time_to_exhaustion_seconds: None,
            burn_rate: Ordered(vec![("5m".into(), Some(2.0)), ("1h".into(), None)]),
            latency: Ordered(vec![]),
            timeslices: None,
            effective_threshold: None,
            windows: None,
            lifetime: Default::default(),
            native: Default::default(),
            classic: Vec::new(),
            latency_bounds: Arc::from(Vec::new()),
            labels: Default::default(),
        }
    }

    fn windows() -> HashMap<(String, String), u64> {
        HashMap::from([(("checkout".into(), "availability".into()), 30 * 86_400)])
    }

    #[test]
    fn recent_points_are_one_per_step_and_bounded() {
        let h = History::new(Duration::from_secs(300));
        let w = windows();
        // Two samples in one step: the later one stands for it.
        h.record(&[status("all", 0.5)], &w, 1_000_000);
        h.record(&[status("all", 0.4)], &w, 1_000_010);
        let v = h.view("checkout", "availability").unwrap();
        assert_eq!(v.series[0].t, [1_000_010]);
        assert_eq!(v.series[0].error_budget_remaining, [Some(0.4)]);
        assert_eq!(
            v.series[0].burn_rate.get("1h"),
            Some(&vec![None]),
            "null stays null"
        );
        // Three days of samples, one per step.
        let samples = 3 * 288;
        for i in 1..=samples {
            h.record(&[status("all", 0.3)], &w, 1_000_010 + i * 300);
        }
        let v = h.view("checkout", "availability").unwrap();
        let s = &v.series[0];
        // The recent ring holds the last day; older points come from the window ring,
        // one per 1/30 of the 30d window (a day), each the latest of its day.
        let recent_from = 1_000_010 + (samples - RECENT_POINTS as u64 + 1) * 300;
        assert_eq!(
            s.t.iter().filter(|t| **t >= recent_from).count(),
            RECENT_POINTS
        );
        let older: Vec<u64> = s.t.iter().copied().filter(|t| *t < recent_from).collect();
        assert!(older.len() >= 2, "{older:?}");
        let days: std::collections::BTreeSet<u64> = older.iter().map(|t| t / 86_400).collect();
        assert_eq!(days.len(), older.len(), "one point per day: {older:?}");
        for t in &older {
            assert!(
                (t + 300) / 86_400 > t / 86_400 || *t == 1_000_010 + samples * 300,
                "{t} is the last sample of its day"
            );
        }
        assert!(s.t.len() <= RECENT_POINTS + WINDOW_POINTS);
        assert!(s.t.windows(2).all(|w| w[0] < w[1]), "time ascends");
    }

    #[test]
    fn clusters_beyond_the_limit_are_counted_not_kept() {
        let h = History::new(Duration::from_secs(60));
        let w = windows();
        let many: Vec<GroupStatus> = (0..MAX_SERIES_PER_SLO + 3)
            .map(|i| status(&format!("c{i}"), 0.5))
            .collect();
        h.record(&many, &w, 100);
        let v = h.view("checkout", "availability").unwrap();
        assert_eq!(v.series.len(), MAX_SERIES_PER_SLO);
        assert_eq!(v.series_dropped, 3);
        // An SLO no longer loaded loses its history.
        h.record(&[], &HashMap::new(), 200);
        assert!(h.view("checkout", "availability").is_none());
    }
}
