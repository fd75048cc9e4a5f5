//! SLO engine benchmarks: the whole record path (span facts, conditions, windows and
//! latency histograms) for one 512-span request with 1, 10 and 100 span SLOs loaded, and
//! the memory one SLO × group holds once every window is full.
//!
//! Inputs come from the load generator (seed 42) with its default content: 3 clusters, 5
//! services. Run: `cargo bench --bench slo_engine`. The memory figure is printed once, as
//! `memory: …`, before the timings.
//!
//! For instruction counts (`valgrind --tool=callgrind`, which load on the machine does not
//! move), `SLO_ENGINE_PASSES=N` skips criterion and records N requests the same way, with
//! the SLO files of `SLO_ENGINE_FILES` (a glob; none: no SLOs), then prints the spans
//! recorded and the status's total events (so a change cannot skip work unnoticed):
//!
//! ```sh
//! SLO_ENGINE_PASSES=400 SLO_ENGINE_FILES='benches/slo/five/*.yaml' \
//!     valgrind --tool=callgrind target/release/deps/slo_engine-* --bench
//! ```
//!
//! The reads of the status that do not depend on the number of spans, after those passes
//! (with `SLO_ENGINE_DAYS=D`, after D days of a request every 10 minutes before them, so
//! the coarser windows' slots are full): `SLO_ENGINE_SAMPLES=K` takes K samples of the
//! status history (`History::sample`, every 15 s in `slotel run`), `SLO_ENGINE_LISTS=K`
//! answers `GET /api/v1/slos` K times; each prints what it read. Their instructions alone:
//!
//! ```sh
//! SLO_ENGINE_PASSES=3100 SLO_ENGINE_SAMPLES=1 SLO_ENGINE_FILES='benches/slo/five/*.yaml' \
//!     valgrind --tool=callgrind --collect-atstart=no \
//!     --toggle-collect='slotel::slo::history::History::sample*' target/release/deps/slo_engine-* --bench
//! ```

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use slotel::loadgen::{ContentOpts, generate};
use slotel::slo::engine::{Engine, EngineConfig, ManualClock};
use slotel::slo::spec::{SloSet, parse_file};

/// The same allocator as the `slotel` binary, so the figures match what it does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SPANS: usize = 512;
const SERVICES: &[&str] = &["checkout", "payment", "cart", "catalog", "shipping"];
const T0: u64 = 1_800_000_000_000_000_000;

/// `n` SLOs: availability and latency SLOs cycling through the services.
fn slos(n: usize) -> SloSet {
    let mut text = String::new();
    let mut set = SloSet::default();
    for i in 0..n {
        let service = SERVICES[i % SERVICES.len()];
        text.clear();
        text.push_str(&format!("service: {service}\nslos:\n  - name: slo-{i}\n"));
        if i % 2 == 0 {
            text.push_str(&format!(
                "    objective: 99.9\n    window: 30d\n    sli:\n      spans:\n        where: resource.attributes[\"service.name\"] == \"{service}\" and kind == SPAN_KIND_SERVER\n        bad: status.code == STATUS_CODE_ERROR or attributes[\"http.response.status_code\"] >= 500\n"
            ));
        } else {
            text.push_str(&format!(
                "    objective: 99\n    window: 28d\n    sli:\n      spans:\n        where: resource.attributes[\"service.name\"] == \"{service}\" and kind == SPAN_KIND_SERVER\n        latency_threshold: 300ms\n"
            ));
        }
        match parse_file(&text, "bench.yaml") {
            Ok(s) => set.slos.extend(s),
            Err(e) => panic!("bench slo does not parse: {e:?}"),
        }
    }
    set
}

fn request(rng: &mut fastrand::Rng, now: u64) -> ExportTraceServiceRequest {
    let opts = ContentOpts {
        now_unix_nano: now,
        ..ContentOpts::default()
    };
    generate::traces(rng, SPANS, &opts)
}

/// Moves every span of `req` `by` nanoseconds later.
fn shift(req: &mut ExportTraceServiceRequest, by: u64) {
    for span in req
        .resource_spans
        .iter_mut()
        .flat_map(|r| &mut r.scope_spans)
        .flat_map(|s| &mut s.spans)
    {
        span.start_time_unix_nano += by;
        span.end_time_unix_nano += by;
    }
}

fn record(c: &mut Criterion) {
    let mut g = c.benchmark_group("slo_record_512_spans");
    g.throughput(Throughput::Elements(SPANS as u64));
    for n in [0usize, 1, 10, 100] {
        let clock = Arc::new(ManualClock::new(T0));
        let engine = Engine::new(EngineConfig::default(), clock.clone(), slos(n));
        let mut rng = fastrand::Rng::with_seed(42);
        let mut reqs: Vec<_> = (0..16).map(|_| request(&mut rng, T0)).collect();
        let mut i = 0u64;
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                // Time moves 100 ms per request, and the request's spans with it, so slots
                // fill and rotate as in production.
                i += 1;
                clock.set(T0 + i * 100_000_000);
                let req = &mut reqs[(i % 16) as usize];
                shift(req, 100_000_000 * 16 * u64::from(i > 16));
                engine.record_spans(black_box(req), None);
            })
        });
    }
    g.finish();
}

/// Fills every window of one SLO (3 clusters + all) with 31 days of realistic traffic and
/// prints the bytes held per SLO × group.
fn memory() {
    let clock = Arc::new(ManualClock::new(T0));
    let engine = Engine::new(EngineConfig::default(), clock.clone(), slos(1));
    let mut rng = fastrand::Rng::with_seed(7);
    // One 512-span request every 10 minutes of event time for 31 days, plus a request
    // every second for the last 10 minutes, so fine and coarse slots are all in use.
    let days = 31u64;
    let mut t = T0;
    let end = T0 + days * 86_400 * 1_000_000_000;
    while t < end {
        clock.set(t);
        engine.record_spans(&request(&mut rng, t), None);
        t += if end - t < 600_000_000_000 {
            1_000_000_000
        } else {
            600_000_000_000
        };
    }
    let slo = &engine.slos()[0];
    // Groups held in memory: the status also lists `all`, which is computed, not stored.
    let groups = engine.status().len() - 1;
    let bytes = slo.heap_bytes();
    println!(
        "memory: {} bytes for 1 SLO × {groups} groups: {:.1} KiB per SLO × group",
        bytes,
        bytes as f64 / groups as f64 / 1024.0
    );
}

fn benches(c: &mut Criterion) {
    memory();
    record(c);
}

/// `SLO_ENGINE_PASSES=N`: N requests through the record path, without criterion.
fn fixed_passes(passes: u64) {
    let set = match std::env::var("SLO_ENGINE_FILES") {
        Ok(glob) if !glob.is_empty() => match slotel::slo::spec::load(&[glob], false) {
            Ok(set) => set,
            Err(e) => panic!("SLO_ENGINE_FILES: {e}"),
        },
        _ => SloSet::default(),
    };
    let slos = set.slos.len();
    let count = |name: &str| -> u64 {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    // Days of a request every 10 minutes of event time before the passes.
    let days = count("SLO_ENGINE_DAYS");
    let start = T0 - days * 86_400 * 1_000_000_000;
    let clock = Arc::new(ManualClock::new(start));
    let engine = Engine::new(EngineConfig::default(), clock.clone(), set);
    let mut rng = fastrand::Rng::with_seed(42);
    let mut t = start;
    while t < T0 {
        clock.set(t);
        engine.record_spans(&request(&mut rng, t), None);
        t += 600_000_000_000;
    }
    let mut reqs: Vec<_> = (0..16).map(|_| request(&mut rng, T0)).collect();
    for i in 1..=passes {
        clock.set(T0 + i * 100_000_000);
        let req = &mut reqs[(i % 16) as usize];
        shift(req, 100_000_000 * 16 * u64::from(i > 16));
        engine.record_spans(black_box(req), None);
    }
    let samples = count("SLO_ENGINE_SAMPLES");
    if samples > 0 {
        let history = slotel::slo::history::History::new(Duration::from_secs(300));
        for _ in 0..samples {
            history.sample(black_box(&engine));
        }
        println!("{samples} samples of the status history");
    }
    let lists = count("SLO_ENGINE_LISTS");
    if lists > 0 {
        use tower::ServiceExt;
        let runtime = match tokio::runtime::Builder::new_current_thread().build() {
            Ok(r) => r,
            Err(e) => panic!("runtime: {e}"),
        };
        let mut bytes = 0;
        for _ in 0..lists {
            let app = slotel::slo::api::router(engine.clone(), None);
            let req = axum::http::Request::get("/api/v1/slos")
                .body(axum::body::Body::empty())
                .unwrap_or_default();
            bytes += runtime.block_on(async {
                let res = app.oneshot(req).await.unwrap_or_default();
                match http_body_util::BodyExt::collect(res.into_body()).await {
                    Ok(b) => b.to_bytes().len(),
                    Err(e) => panic!("body: {e}"),
                }
            });
        }
        println!("{lists} answers of GET /api/v1/slos, {bytes} bytes");
    }
    let events: u64 = engine
        .status()
        .iter()
        .filter(|s| s.cluster == "all")
        .map(|s| s.total)
        .sum();
    println!("{passes} requests of {SPANS} spans, {slos} SLOs: {events} events in the SLO windows");
}

fn main() {
    if let Some(passes) = std::env::var("SLO_ENGINE_PASSES")
        .ok()
        .and_then(|p| p.parse().ok())
    {
        fixed_passes(passes);
        return;
    }
    group();
    Criterion::default().configure_from_args().final_summary();
}

criterion_group! {
    name = group;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = benches
}
