//! Receive-path benchmarks: protobuf and OTLP/JSON decoding of a 512-span request, the
//! reading on the wire that charges the memory budget before decoding (`wire_cost_walk`,
//! `json_cost_scan`), and the whole shared request path (weigh, charge, decode, validate,
//! queue) into a `nop` exporter.
//!
//! Inputs come from the load generator's fixtures, the same payloads the tests and the
//! end-to-end benchmark use. Run: `cargo bench --bench receive`.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use slotel::config::{AuthConfig, OtlpReceiverConfig, TokenConfig};
use slotel::export::NopExporter;
use slotel::loadgen::{ContentOpts, generate};
use slotel::pipeline::{Exporter, Pipeline};
use slotel::receiver::otlp::{self, Format};
use slotel::receiver::{Pipelines, Receiver};
use slotel::signal::{Protocol, Signal};
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

fn receiver(rt: &tokio::runtime::Runtime, auth: bool) -> (Arc<Receiver>, Vec<Pipeline>) {
    let _guard = rt.enter();
    let metrics = Metrics::new();
    let nop: Arc<dyn Exporter> = Arc::new(NopExporter::new("nop"));
    let pipelines: Vec<Pipeline> = Signal::ALL
        .iter()
        .map(|s| {
            let slots = slotel::pipeline::decode_slots(1);
            Pipeline::start(
                *s,
                1 << 30,
                slots,
                Vec::new(),
                vec![nop.clone()],
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

fn receive_path(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let pb = bytes::Bytes::from(payload().encode_to_vec());
    let mut g = c.benchmark_group("receive_path_512_spans");
    g.throughput(Throughput::Elements(SPANS as u64));
    for (name, auth) in [("no_auth", false), ("bearer_token_cluster_override", true)] {
        let (recv, _pipelines) = receiver(&rt, auth);
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
criterion_main!(benches);
