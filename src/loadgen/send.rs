//! Sending: N workers, each with its own [`Target`], take requests from the pool
//! round-robin under an optional shared rate limit, until the duration or item budget is
//! spent. Nothing is retried. On a terminal, a progress line on stderr shows the running
//! totals every second ([`crate::cli::progress`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::time::{Duration, Instant};

use super::args::Settings;
use super::client::{Outcome, Target};
use super::pool::{Pool, Recipe, refresh_periodically};
use super::report::{LatencyHistogram, per_second};
use super::{LoadgenError, Report};

/// How long one request may take before it counts as a transport failure.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the workers until the duration or item budget is spent.
pub(crate) async fn send(
    settings: Settings,
    recipe: Recipe,
    pool: Arc<Pool>,
) -> Result<Report, LoadgenError> {
    let targets = Target::connect(&settings).await?;
    let limiter = settings.rate.map(|rate| Arc::new(RateLimiter::new(rate)));
    let next_request = Arc::new(AtomicU64::new(0));
    // The pool's refresher and the progress line run until the workers are done.
    let (stop, background) = crate::shutdown::channel();
    tokio::spawn(
        background
            .clone()
            .run_until(refresh_periodically(Arc::clone(&pool), recipe)),
    );
    let start = Instant::now();
    let deadline = settings.duration.map(|d| start + d);
    let totals = Arc::new(Totals::default());
    let progress = show_progress(Arc::clone(&totals), deadline);
    let progress = tokio::spawn(background.run_until(progress));
    let workers: Vec<_> = targets
        .into_iter()
        .map(|target| {
            let job = Job {
                pool: Arc::clone(&pool),
                next_request: Arc::clone(&next_request),
                limiter: limiter.clone(),
                deadline,
                totals: Arc::clone(&totals),
            };
            tokio::spawn(worker(target, job))
        })
        .collect();
    let mut report = Report::new("send", &settings);
    let mut latency = LatencyHistogram::default();
    let mut failure = None;
    for handle in workers {
        match handle.await {
            Ok((part, part_latency)) => {
                report.merge(part);
                latency.merge(&part_latency);
            }
            Err(e) => failure = Some(LoadgenError::Task(e)),
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    stop.trigger();
    // The progress line is erased before the report is printed.
    let _ = progress.await;
    if let Some(e) = failure {
        return Err(e);
    }
    report.latency_ms = latency.summary();
    report.elapsed_seconds = elapsed;
    report.sent_items_per_second = per_second(report.sent_items, elapsed);
    report.acknowledged_items_per_second = per_second(report.acknowledged_items, elapsed);
    Ok(report)
}

/// What every worker shares.
struct Job {
    pool: Arc<Pool>,
    next_request: Arc<AtomicU64>,
    limiter: Option<Arc<RateLimiter>>,
    deadline: Option<Instant>,
    totals: Arc<Totals>,
}

/// The running totals of every worker, for the progress line (one add per request).
#[derive(Default)]
struct Totals {
    requests: AtomicU64,
    sent_items: AtomicU64,
    acknowledged_items: AtomicU64,
}

/// Erases the progress line when dropped: the task drawing it is stopped at the end.
struct Erase(crate::cli::progress::ProgressLine<std::io::Stderr>);

impl Drop for Erase {
    fn drop(&mut self) {
        self.0.finish();
    }
}

/// Redraws the progress line every second until stopped (only on a terminal).
async fn show_progress(totals: Arc<Totals>, deadline: Option<Instant>) {
    let mut line = Erase(crate::cli::progress::ProgressLine::stderr());
    if !line.0.is_on() {
        return;
    }
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let now = Instant::now();
        let secs = line.0.elapsed(now).as_secs_f64().max(1e-3);
        let (requests, sent, acked) = (
            totals.requests.load(Ordering::Relaxed),
            totals.sent_items.load(Ordering::Relaxed),
            totals.acknowledged_items.load(Ordering::Relaxed),
        );
        let left = deadline.map_or(String::new(), |d| {
            format!(", {}s left", d.saturating_duration_since(now).as_secs())
        });
        line.0.update(now, || {
            format!(
                "slotel loadgen: {:.0}s, {requests} requests, {sent} items sent, {acked} acknowledged ({:.0} items/s){left}",
                secs,
                acked as f64 / secs
            )
        });
    }
}

/// Sends requests one after another; returns its counts and latencies.
async fn worker(mut target: Target, job: Job) -> (Report, LatencyHistogram) {
    let (mut report, mut latency) = (Report::default(), LatencyHistogram::default());
    let past = |at: Instant| job.deadline.is_some_and(|d| at >= d);
    while !past(Instant::now()) {
        let n = job.next_request.fetch_add(1, Ordering::Relaxed);
        let Some(request) = job.pool.request(n) else {
            break;
        };
        if let Some(limiter) = &job.limiter {
            let at = limiter.reserve(Instant::now(), request.items);
            if past(at) {
                break;
            }
            tokio::time::sleep_until(at).await;
        }
        let bytes = request.body.len() as u64;
        let began = Instant::now();
        let outcome = tokio::time::timeout(REQUEST_TIMEOUT, target.send(request.body))
            .await
            .unwrap_or_else(|_| Outcome::transport("timed out"));
        latency.record(began.elapsed());
        let acked_before = report.acknowledged_items;
        report.record(request.items, bytes, outcome);
        let t = &job.totals;
        t.requests.fetch_add(1, Ordering::Relaxed);
        t.sent_items.fetch_add(request.items, Ordering::Relaxed);
        t.acknowledged_items
            .fetch_add(report.acknowledged_items - acked_before, Ordering::Relaxed);
    }
    (report, latency)
}

/// Paces requests so that items leave at `rate` per second across all workers: a token
/// bucket holding one request's worth, so a stall is not followed by a catch-up burst.
pub(crate) struct RateLimiter {
    seconds_per_item: f64,
    next: Mutex<Option<Instant>>,
}

impl RateLimiter {
    pub(crate) fn new(items_per_second: f64) -> Self {
        let seconds_per_item = 1.0 / items_per_second;
        Self {
            seconds_per_item,
            next: Mutex::new(None),
        }
    }

    /// Books `items` and returns when they may be sent (never before `now`).
    pub(crate) fn reserve(&self, now: Instant, items: u64) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let at = next.map_or(now, |n| n.max(now));
        *next = Some(at + Duration::from_secs_f64(self.seconds_per_item * items as f64));
        at
    }
}
