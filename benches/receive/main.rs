//! Receive-path benchmarks: protobuf and OTLP/JSON decoding of a 512-span request, the
//! reading on the wire that charges the memory budget before decoding (`wire_cost_walk`,
//! `json_cost_scan`), and the whole shared request path (weigh, charge, decode, validate,
//! queue) into a `nop` exporter, and (`slo_5`) with the SLO connector of five span SLOs
//! beside it. Spans that nothing changes are read on the wire and not decoded; the
//! `…_decoded` variants put a processor that does nothing on the traces pipeline, which
//! makes the receiver decode as it did before the wire reading (the same binary measures
//! both ways).
//!
//! Inputs come from the load generator's fixtures, the same payloads the tests and the
//! end-to-end benchmark use. Run: `cargo bench --bench receive`.
//!
//! For instruction counts, which do not move with the machine's load,
//! `RECEIVE_PASSES=<variant>:N` skips criterion and sends N requests through one
//! `receive_path` variant (`no_auth`, `no_auth_decoded`, …), then closes the pipelines so
//! that the exporter side's work is counted too; the difference of two counts over the
//! difference of N is the cost of one request:
//!
//! ```sh
//! RECEIVE_PASSES=no_auth:50  valgrind --tool=callgrind target/release/deps/receive-* --bench
//! RECEIVE_PASSES=no_auth:250 valgrind --tool=callgrind target/release/deps/receive-* --bench
//! ```

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use slotel::config::{AuthConfig, OtlpReceiverConfig, TokenConfig};
use slotel::export::NopExporter;
use slotel::loadgen::{ContentOpts, generate};
use slotel::pipeline::{Batch, Exporter, Pipeline, Processor};
use slotel::receiver::otlp::{self, Format};
use slotel::receiver::{Pipelines, Receiver};
use slotel::signal::{Protocol, Signal};
use slotel::slo::connector::SloConnector;
use slotel::slo::engine::{Engine, EngineConfig, ManualClock};
use slotel::slo::spec::{SloSet, parse_file};
use slotel::telemetry::Metrics;

/// The same allocator as the `slotel` binary, so the figures match what it does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SPANS: usize = 512;

fn payload() -> ExportTraceServiceRequest {
    let mut rng = fastrand::Rng::with_seed(42);
    generate::traces(&mut rng, SPANS, &ContentOpts::default())
}

fn decode(c: &mut Criterion) {
    let req = payload();
    let pb = req.encode_to_vec();
    let json = serde_json::to_vec(&req).unwrap_or_default();
    let mut g = c.benchmark_group("decode_512_spans");
    g.throughput(Throughput::Elements(SPANS as u64));
    g.bench_function("protobuf_prost", |b| {
        b.iter(|| {
            ExportTraceServiceRequest::decode(black_box(&pb[..])).map(|r| r.resource_spans.len())
        })
    });
    // What the receiver reads on the wire before it decodes: items and the decode bound.
    g.bench_function("wire_cost_walk", |b| {
        b.iter(|| slotel::receiver::wire::cost(Signal::Traces, black_box(&pb[..])).map(|c| c.items))
    });
    g.bench_function("json_cost_scan", |b| {
        b.iter(|| slotel::receiver::wire::json_cost(black_box(&json[..])))
    });
    g.bench_function("json_lenient", |b| {
        b.iter(|| {
            otlp::decode::<ExportTraceServiceRequest>(black_box(&json[..]), Format::Json)
                .map(|r| r.resource_spans.len())
        })
    });
    g.finish();
}

/// The time of the `slo_5` requests and of the engine's clock.
const T0: u64 = 1_800_000_000_000_000_000;

/// Five span SLOs over the load generator's services: availability and latency.
fn slos() -> SloSet {
    let mut set = SloSet::default();
    for (i, service) in ["checkout", "payment", "cart", "catalog", "shipping"]
        .iter()
        .enumerate()
    {
        let sli = if i % 2 == 0 {
            "bad: status.code == STATUS_CODE_ERROR or attributes[\"http.response.status_code\"] >= 500"
        } else {
            "latency_threshold: 300ms"
        };
        let text = format!(
            "service: {service}\nslos:\n  - name: slo-{i}\n    objective: 99\n    window: 30d\n    sli:\n      spans:\n        where: resource.attributes[\"service.name\"] == \"{service}\" and kind == SPAN_KIND_SERVER\n        {sli}\n"
        );
        match parse_file(&text, "bench.yaml") {
            Ok(s) => set.slos.extend(s),
            Err(e) => panic!("bench slo does not parse: {e:?}"),
        }
    }
    set
}

/// A processor that does nothing: its presence makes the receiver decode every request.
struct Idle;

impl Processor for Idle {
    fn name(&self) -> &str {
        "idle"
    }

    fn process(&self, _batch: &mut Batch) {}
}

fn receiver(
    rt: &tokio::runtime::Runtime,
    auth: bool,
    slo: bool,
    decode: bool,
) -> (Arc<Receiver>, Vec<Pipeline>) {
    let _guard = rt.enter();
    let metrics = Metrics::new();
    let nop: Arc<dyn Exporter> = Arc::new(NopExporter::new("nop"));
    let mut traces = vec![nop.clone()];
    if slo {
        let clock = Arc::new(ManualClock::new(T0));
        let engine = Engine::new(EngineConfig::default(), clock, slos());
        traces.push(Arc::new(SloConnector::new(engine)));
    }
    let pipelines: Vec<Pipeline> = Signal::ALL
        .iter()
        .map(|s| {
            let exporters = if *s == Signal::Traces {
                traces.clone()
            } else {
                vec![nop.clone()]
            };
            let processors: Vec<Arc<dyn Processor>> = if decode {
                vec![Arc::new(Idle)]
            } else {
                Vec::new()
            };
            Pipeline::start(
                *s,
                1 << 30,
                slotel::pipeline::decode_slots(1),
                processors,
                exporters,
                metrics.clone(),
            )
        })
        .collect();
    let senders = Pipelines {
        traces: pipelines[0].sender(),
        metrics: pipelines[1].sender(),
        logs: pipelines[2].sender(),
    };
    let cfg = OtlpReceiverConfig {
        grpc: None,
        http: None,
        auth: auth.then(|| AuthConfig {
            tokens: vec![TokenConfig {
                token: "t0ken".into(),
                tenant: "bench".into(),
                cluster: Some("c1".into()),
            }],
        }),
        limits: Default::default(),
        retry_after: std::time::Duration::from_secs(1),
    };
    (
        Receiver::new(
            &cfg,
            "k8s.cluster.name",
            senders,
            slotel::pipeline::budget::MemoryBudget::new(cfg.limits.memory_budget),
            metrics,
        ),
        pipelines,
    )
}

/// The `receive_path` variants: name, bearer token bound to a cluster, five SLOs, decoded.
const VARIANTS: [(&str, bool, bool, bool); 5] = [
    ("no_auth", false, false, false),
    ("no_auth_decoded", false, false, true),
    ("bearer_token_cluster_override", true, false, false),
    ("slo_5", false, true, false),
    ("slo_5_decoded", false, true, true),
];

/// `RECEIVE_PASSES=<variant>:N`: N requests through one variant without criterion, then
/// the pipelines are closed (everything queued is exported). Prints the requests accepted.
fn fixed_passes(spec: &str) {
    let Some((name, passes)) = spec.split_once(':') else {
        panic!("RECEIVE_PASSES: expected <variant>:<requests>, got {spec:?}");
    };
    let Ok(passes) = passes.parse::<u64>() else {
        panic!("RECEIVE_PASSES: {passes:?} is not a number of requests");
    };
    let Some(&(_, auth, slo, decode)) = VARIANTS.iter().find(|v| v.0 == name) else {
        panic!("RECEIVE_PASSES: no variant {name:?}");
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    // As in `receive_path`: the SLO variants' spans are at the engine clock's time.
    let pb = if slo {
        let opts = ContentOpts {
            now_unix_nano: T0,
            ..ContentOpts::default()
        };
        generate::traces(&mut fastrand::Rng::with_seed(42), SPANS, &opts).encode_to_vec()
    } else {
        payload().encode_to_vec()
    };
    let pb = bytes::Bytes::from(pb);
    let (recv, pipelines) = receiver(&rt, auth, slo, decode);
    let header: Option<&[u8]> = auth.then_some(b"Bearer t0ken");
    let accepted = rt.block_on(async {
        let mut accepted = 0u64;
        for _ in 0..passes {
            let identity = recv.authenticate(header).ok().flatten();
            let ok = recv
                .export::<ExportTraceServiceRequest>(
                    Protocol::Grpc,
                    identity,
                    pb.clone(),
                    None,
                    Format::Protobuf,
                )
                .await
                .is_ok();
            accepted += u64::from(ok);
        }
        drop(recv);
        for p in pipelines {
            p.close().await;
        }
        accepted
    });
    println!("{name}: {accepted} of {passes} requests of {SPANS} spans accepted");
}

fn receive_path(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let pb = bytes::Bytes::from(payload().encode_to_vec());
    let at_t0 = ContentOpts {
        now_unix_nano: T0,
        ..ContentOpts::default()
    };
    let pb_t0 = bytes::Bytes::from(
        generate::traces(&mut fastrand::Rng::with_seed(42), SPANS, &at_t0).encode_to_vec(),
    );
    let mut g = c.benchmark_group("receive_path_512_spans");
    g.throughput(Throughput::Elements(SPANS as u64));
    for (name, auth, slo, decode) in VARIANTS {
        let (recv, _pipelines) = receiver(&rt, auth, slo, decode);
        let pb = if slo { pb_t0.clone() } else { pb.clone() };
        let header: Option<&[u8]> = auth.then_some(b"Bearer t0ken");
        g.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let identity = recv.authenticate(header).ok().flatten();
                    recv.export::<ExportTraceServiceRequest>(
                        Protocol::Grpc,
                        identity,
                        black_box(pb.clone()),
                        None,
                        Format::Protobuf,
                    )
                    .await
                    .is_ok()
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, decode, receive_path);

fn main() {
    if let Ok(spec) = std::env::var("RECEIVE_PASSES") {
        fixed_passes(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
