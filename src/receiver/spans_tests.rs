//! Spans read on the wire: which requests the receiver queues undecoded, and that every
//! other one takes the decoding path with the answers it always gave.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;

use super::*;
use crate::attr::kv;
use crate::config::{AuthConfig, TokenConfig};
use crate::loadgen::{ContentOpts, generate};
use crate::pipeline::{Batch, ExportError, Exporter, Payload, Pipeline, Processor};
use crate::slo::connector::SloConnector;
use crate::slo::engine::{EngineConfig, ManualClock};
use crate::slo::spec::{SloSet, parse_file};
use crate::telemetry::Metrics;

/// What an exporter saw of one batch.
#[derive(Debug)]
struct Seen {
    undecoded: bool,
    raw: bool,
    /// With the span facts the receiver read in its walk.
    walked: bool,
    items: usize,
    /// Bytes charged to the memory budget while the batch was exported, and the memory
    /// its walked facts hold.
    charged: usize,
    facts_bytes: usize,
    /// The payload, read (and so decoded) after the rest was noted.
    payload: Payload,
}

struct Capture(Mutex<Vec<Seen>>, MemoryBudget);

#[async_trait]
impl Exporter for Capture {
    fn id(&self) -> &str {
        "capture"
    }

    async fn export(&self, batch: &Batch) -> Result<(), ExportError> {
        let seen = Seen {
            undecoded: batch.undecoded().is_some(),
            raw: batch.raw().is_some(),
            walked: batch.walked_facts().is_some(),
            items: batch.items,
            charged: self.1.used(),
            facts_bytes: batch.walked_facts().map_or(0, |(f, _)| facts_bytes(f)),
            payload: batch.payload().clone(),
        };
        self.0.lock().unwrap().push(seen);
        Ok(())
    }
}

/// A processor that reads nothing and changes nothing.
struct Idle;

impl Processor for Idle {
    fn name(&self) -> &str {
        "idle"
    }

    fn process(&self, _batch: &mut Batch) {}
}

/// Sends `body` as a traces request and returns the answer and what the exporter saw.
async fn send(
    body: &[u8],
    processor: bool,
    token: bool,
) -> (Result<ExportTraceServiceResponse, ReceiveError>, Vec<Seen>) {
    send_to(body, processor, token, None).await
}

/// [`send`], with `engine`'s SLO connector first on the traces pipeline and its span
/// facts read by the receiver.
async fn send_to(
    body: &[u8],
    processor: bool,
    token: bool,
    engine: Option<Arc<Engine>>,
) -> (Result<ExportTraceServiceResponse, ReceiveError>, Vec<Seen>) {
    let (answer, seen, _) = send_watching(body, processor, token, engine).await;
    (answer, seen)
}

/// [`send_to`], and the bytes charged to the memory budget once the pipelines are closed.
async fn send_watching(
    body: &[u8],
    processor: bool,
    token: bool,
    engine: Option<Arc<Engine>>,
) -> (
    Result<ExportTraceServiceResponse, ReceiveError>,
    Vec<Seen>,
    usize,
) {
    let metrics = Metrics::new();
    let limits: crate::config::Limits = Default::default();
    let budget = MemoryBudget::new(limits.memory_budget);
    let capture = Arc::new(Capture(Mutex::default(), budget.clone()));
    let processors: Vec<Arc<dyn Processor>> = if processor {
        vec![Arc::new(Idle)]
    } else {
        Vec::new()
    };
    let pipelines: Vec<Pipeline> = Signal::ALL
        .iter()
        .map(|s| {
            Pipeline::start(
                *s,
                1 << 26,
                4,
                processors.clone(),
                engine
                    .iter()
                    .map(|e| Arc::new(SloConnector::new(e.clone())) as Arc<dyn Exporter>)
                    .chain([capture.clone() as Arc<dyn Exporter>])
                    .collect(),
                metrics.clone(),
            )
        })
        .collect();
    let cfg = OtlpReceiverConfig {
        grpc: None,
        http: None,
        auth: token.then(|| AuthConfig {
            tokens: vec![TokenConfig {
                token: "t0ken".into(),
                tenant: "acme".into(),
                cluster: Some("c1".into()),
            }],
        }),
        limits,
        retry_after: Duration::from_secs(1),
    };
    let receiver = Receiver::new(
        &cfg,
        "k8s.cluster.name",
        Pipelines {
            traces: pipelines[0].sender(),
            metrics: pipelines[1].sender(),
            logs: pipelines[2].sender(),
        },
        budget.clone(),
        metrics,
    );
    if let Some(engine) = engine {
        receiver.read_span_facts_for(engine);
    }
    let identity = receiver
        .authenticate(token.then_some(&b"Bearer t0ken"[..]))
        .unwrap();
    let answer = receiver
        .export::<ExportTraceServiceRequest>(
            Protocol::Grpc,
            identity,
            bytes::Bytes::copy_from_slice(body),
            None,
            Format::Protobuf,
        )
        .await
        .map(|a| a.response);
    for p in pipelines {
        p.close().await;
    }
    let seen = std::mem::take(&mut *capture.0.lock().unwrap());
    (answer, seen, budget.used())
}

fn sample() -> ExportTraceServiceRequest {
    let mut rng = fastrand::Rng::with_seed(5);
    generate::traces(&mut rng, 64, &ContentOpts::default())
}

#[tokio::test]
async fn clean_spans_are_queued_as_received_and_decode_to_the_same_request() {
    let req = sample();
    let body = req.encode_to_vec();
    let (answer, seen) = send(&body, false, false).await;
    assert_eq!(answer.unwrap().partial_success, None);
    assert_eq!(seen.len(), 1);
    assert!(seen[0].undecoded && seen[0].raw);
    assert_eq!(seen[0].items, 64);
    // Decoded on demand, it is the request that was sent.
    assert_eq!(seen[0].payload, Payload::Traces(req));
}

#[tokio::test]
async fn a_processor_gets_a_decoded_request() {
    let body = sample().encode_to_vec();
    let (answer, seen) = send(&body, true, false).await;
    assert!(answer.is_ok());
    assert!(!seen[0].undecoded && seen[0].raw);
}

/// `req` decoded, checked and bound to the test token's cluster: the decoding path.
fn bound(req: &ExportTraceServiceRequest) -> ExportTraceServiceRequest {
    let mut req = req.clone();
    req.bind_cluster("k8s.cluster.name", "c1");
    req
}

#[tokio::test]
async fn a_token_cluster_is_bound_on_the_wire() {
    let req = sample();
    let (answer, seen) = send(&req.encode_to_vec(), false, true).await;
    assert_eq!(answer.unwrap().partial_success, None);
    // Forwarded as rewritten, not decoded: only the resources changed.
    assert!(seen[0].undecoded && seen[0].raw);
    assert_eq!(seen[0].items, 64);
    assert_eq!(seen[0].payload, Payload::Traces(bound(&req)));
    let Payload::Traces(got) = &seen[0].payload else {
        panic!("not traces")
    };
    let cluster = got.resource_spans[0]
        .resource
        .as_ref()
        .unwrap()
        .attributes
        .last();
    assert_eq!(cluster.unwrap().key, "k8s.cluster.name");
}

#[tokio::test]
async fn a_token_cluster_named_below_the_resources_is_bound_on_the_decoding_path() {
    let mut req = sample();
    let span = &mut req.resource_spans[0].scope_spans[0].spans[1];
    span.attributes.push(kv("k8s_cluster_name", "other"));
    let (answer, seen) = send(&req.encode_to_vec(), false, true).await;
    assert_eq!(answer.unwrap().partial_success, None);
    assert!(!seen[0].undecoded && !seen[0].raw);
    let want = bound(&req);
    assert!(
        want.resource_spans[0].scope_spans[0].spans[1]
            .attributes
            .iter()
            .all(|kv| kv.key != "k8s_cluster_name")
    );
    assert_eq!(seen[0].payload, Payload::Traces(want));
}

#[tokio::test]
async fn a_broken_rule_gets_the_partial_success_of_the_decoding_path() {
    let good = Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        name: "ok".into(),
        ..Default::default()
    };
    let bad = Span {
        trace_id: vec![0; 16],
        ..good.clone()
    };
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![good, bad],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let (answer, seen) = send(&req.encode_to_vec(), false, false).await;
    let partial = answer.unwrap().partial_success.unwrap();
    assert_eq!(partial.rejected_spans, 1);
    assert!(
        partial.error_message.contains("invalid trace id"),
        "{partial:?}"
    );
    assert_eq!(seen.len(), 1);
    assert!(!seen[0].undecoded && !seen[0].raw);
    assert_eq!(seen[0].items, 1);
}

#[tokio::test]
async fn bytes_prost_refuses_are_refused_with_its_error() {
    // A span whose name is not UTF-8; and one with an attribute key that is not.
    let mut name = Span {
        trace_id: vec![1; 16],
        span_id: vec![2; 8],
        name: "ok".into(),
        ..Default::default()
    };
    name.attributes.push(kv("k", "v"));
    let req = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![name],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let body = req.encode_to_vec();
    for (from, to) in [(&b"ok"[..], &[0xc3u8, 0x28][..]), (b"k", &[0xff])] {
        let at = body.windows(from.len()).position(|w| w == from).unwrap();
        let mut broken = body.clone();
        broken[at..at + from.len()].copy_from_slice(to);
        let (answer, seen) = send(&broken, false, false).await;
        let err = answer.unwrap_err();
        let prost = ExportTraceServiceRequest::decode(&broken[..]).unwrap_err();
        assert_eq!(
            err.to_string(),
            ReceiveError::InvalidArgument(format!("cannot decode protobuf: {prost}")).to_string()
        );
        assert!(seen.is_empty());
    }
}

/// An engine with the five SLOs of the receive benchmark (every span matches each), its
/// clock at the load generator's `now`.
fn five_slos(now: u64) -> Arc<Engine> {
    let text = include_str!("../../benches/slo/five/all.yaml");
    let slos = parse_file(text, "all.yaml").unwrap();
    Engine::new(
        EngineConfig::default(),
        Arc::new(ManualClock::new(now)),
        SloSet::of(slos),
    )
}

#[tokio::test]
async fn spans_queued_as_received_carry_their_facts_and_record_as_decoded_ones() {
    let opts = ContentOpts::default();
    let mut rng = fastrand::Rng::with_seed(8);
    let requests: Vec<ExportTraceServiceRequest> = (0..3)
        .map(|_| generate::traces(&mut rng, 200, &opts))
        .collect();
    // Read in the receiver's walk and recorded by the connector …
    let walked = five_slos(opts.now_unix_nano);
    for req in &requests {
        let (answer, seen) =
            send_to(&req.encode_to_vec(), false, false, Some(walked.clone())).await;
        answer.unwrap();
        assert_eq!(seen.len(), 1);
        assert!(seen[0].walked && seen[0].raw);
    }
    // … against the decoded requests recorded directly.
    let decoded = five_slos(opts.now_unix_nano);
    for req in &requests {
        decoded.record_spans(req, None);
    }
    let (walked, decoded) = (walked.status(), decoded.status());
    assert!(
        walked.iter().map(|s| s.total).sum::<u64>() > 0,
        "{walked:?}"
    );
    assert_eq!(walked, decoded);
    // Without an engine (or with one that records no span), no facts are built.
    let (_, seen) = send(&requests[0].encode_to_vec(), false, false).await;
    assert!(!seen[0].walked && seen[0].undecoded);
}

#[tokio::test]
async fn spans_bound_on_the_wire_record_as_decoded_and_bound_ones() {
    let opts = ContentOpts {
        clusters: 3,
        ..ContentOpts::default()
    };
    let mut rng = fastrand::Rng::with_seed(9);
    let requests: Vec<ExportTraceServiceRequest> = (0..3)
        .map(|_| generate::traces(&mut rng, 200, &opts))
        .collect();
    let walked = five_slos(opts.now_unix_nano);
    for req in &requests {
        let (answer, seen) = send_to(&req.encode_to_vec(), false, true, Some(walked.clone())).await;
        answer.unwrap();
        assert!(seen[0].walked && seen[0].undecoded);
    }
    let decoded = five_slos(opts.now_unix_nano);
    for req in &requests {
        decoded.record_spans(&bound(req), Some("c1"));
    }
    let (walked, decoded) = (walked.status(), decoded.status());
    assert!(
        walked.iter().any(|s| s.cluster == "c1" && s.total > 0),
        "{walked:?}"
    );
    assert!(
        walked
            .iter()
            .all(|s| s.cluster == "c1" || s.cluster == "all"),
        "{walked:?}"
    );
    assert_eq!(walked, decoded);
}

#[tokio::test]
async fn walked_facts_are_charged_to_the_budget_with_their_batch() {
    let opts = ContentOpts::default();
    let mut rng = fastrand::Rng::with_seed(11);
    let body = generate::traces(&mut rng, 500, &opts).encode_to_vec();
    let (answer, bare, left) = send_watching(&body, false, false, None).await;
    answer.unwrap();
    assert_eq!(left, 0, "the charge comes back once the batch is done");
    let (answer, walked, left) =
        send_watching(&body, false, false, Some(five_slos(opts.now_unix_nano))).await;
    answer.unwrap();
    assert_eq!(left, 0, "the facts' charge comes back with the batch's");
    assert!(walked[0].walked && !bare[0].walked);
    // The same request, with facts and without: the budget holds the facts on top, at
    // least their fixed columns (end time, duration: 8 bytes each; the resource key: 4;
    // the five SLOs' facts are lean, without kind and status) for every span, and the
    // rows of the comparisons they hold instead.
    let extra = walked[0].charged - bare[0].charged;
    assert_eq!(extra, walked[0].facts_bytes);
    assert!(extra >= 500 * 20 + 500 / 8, "{extra} bytes for 500 spans");
}
