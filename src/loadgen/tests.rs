//! Tests of content generation, the limiter, classification, and whole runs against
//! in-process stub servers (OTLP/HTTP over HTTP/1.1, OTLP/gRPC over h2c).

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use fastrand::Rng;
use http_body_util::{BodyExt as _, Full};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::Message as _;
use tokio::time::{Duration, Instant};

use super::args::endpoint_uri;
use super::generate::{count_spans, latency_ns, logs, metrics, traces};
use super::send::{
    Class, LatencyHistogram, Outcome, RateLimiter, classify_status, rejected_in_body,
};
use super::*;

fn opts() -> ContentOpts {
    ContentOpts {
        now_unix_nano: 1_750_000_000_000_000_000,
        ..ContentOpts::default()
    }
}

const SIGNALS: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

fn attr<'a>(
    attributes: &'a [opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()
}

#[test]
fn generation_is_deterministic_per_seed() {
    for signal in SIGNALS {
        let a = Payload::generate(signal, &mut Rng::with_seed(7), 300, &opts());
        let b = Payload::generate(signal, &mut Rng::with_seed(7), 300, &opts());
        let c = Payload::generate(signal, &mut Rng::with_seed(8), 300, &opts());
        assert!(a == b, "{signal:?}: same seed, different content");
        assert!(a != c, "{signal:?}: different seeds, same content");
        assert_eq!(a.encode_protobuf(), b.encode_protobuf());
    }
}

#[test]
fn counts_match_requested_items() {
    for signal in SIGNALS {
        for n in [1, 2, 3, 7, 100, 512, 1000] {
            let payload = Payload::generate(signal, &mut Rng::with_seed(n as u64), n, &opts());
            assert_eq!(payload.items(), n, "{signal:?} {n}");
        }
    }
}

#[test]
fn ids_have_valid_lengths() {
    let req = traces(&mut Rng::with_seed(1), 2000, &opts());
    let spans = req
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans);
    let mut server_ids = BTreeSet::new();
    for span in spans {
        assert_eq!(span.trace_id.len(), 16);
        assert_eq!(span.span_id.len(), 8);
        assert!(span.parent_span_id.is_empty() || span.parent_span_id.len() == 8);
        assert!(span.trace_id.iter().any(|b| *b != 0) && span.span_id.iter().any(|b| *b != 0));
        assert!(span.start_time_unix_nano <= span.end_time_unix_nano);
        if span.kind == SpanKind::Server as i32 {
            assert!(server_ids.insert(span.span_id.clone()), "duplicate span id");
        }
    }
    let logs = logs(&mut Rng::with_seed(1), 500, &opts());
    let records = logs
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records);
    let mut with_trace = 0;
    for record in records {
        if !record.trace_id.is_empty() {
            with_trace += 1;
            assert_eq!((record.trace_id.len(), record.span_id.len()), (16, 8));
        }
    }
    assert!((200..400).contains(&with_trace), "{with_trace}");
}

#[test]
fn server_spans_have_about_eight_attributes_and_client_children() {
    let req = traces(&mut Rng::with_seed(3), 1000, &opts());
    let (mut servers, mut clients) = (0, 0);
    for span in req
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
    {
        if span.kind == SpanKind::Server as i32 {
            servers += 1;
            assert_eq!(span.attributes.len(), 8);
            for key in [
                "http.request.method",
                "http.route",
                "url.path",
                "http.response.status_code",
                "server.address",
            ] {
                assert!(attr(&span.attributes, key).is_some(), "{key}");
            }
        } else {
            clients += 1;
            assert_eq!(span.kind, SpanKind::Client as i32);
            assert!(!span.parent_span_id.is_empty());
        }
    }
    assert!(clients > 100 && servers > 600, "{servers} {clients}");
}

#[test]
fn resources_are_grouped_by_cluster_and_service() {
    let req = traces(&mut Rng::with_seed(4), 2000, &opts());
    let mut seen = BTreeSet::new();
    for rs in &req.resource_spans {
        let attributes = &rs.resource.as_ref().unwrap().attributes;
        let keys: Vec<&str> = attributes.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "service.name",
                "service.version",
                "k8s.cluster.name",
                "k8s.namespace.name",
                "k8s.pod.name"
            ]
        );
        let text = |k| match attr(attributes, k) {
            Some(Value::StringValue(s)) => s.clone(),
            other => panic!("{k}: {other:?}"),
        };
        assert!(
            seen.insert((text("k8s.cluster.name"), text("service.name"))),
            "group repeated"
        );
    }
    assert_eq!(seen.len(), 15);
    assert!(
        seen.iter()
            .all(|(c, _)| ["cluster-0", "cluster-1", "cluster-2"].contains(&c.as_str()))
    );
}

#[test]
fn encoded_span_size_is_realistic() {
    let req = traces(&mut Rng::with_seed(5), 512, &opts());
    let per_span = req.encoded_len() / 512;
    assert!((250..=500).contains(&per_span), "{per_span} bytes per span");
}

#[test]
fn error_ratio_holds_over_100k_spans() {
    let mut rng = Rng::with_seed(6);
    let (mut servers, mut errors) = (0u64, 0u64);
    for _ in 0..100 {
        let req = traces(&mut rng, 1000, &opts());
        for span in req
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
        {
            if span.kind != SpanKind::Server as i32 {
                continue;
            }
            servers += 1;
            let Some(Value::IntValue(code)) = attr(&span.attributes, "http.response.status_code")
            else {
                panic!()
            };
            let error = span.status.as_ref().unwrap().code == StatusCode::Error as i32;
            assert_eq!(error, *code >= 500, "status ERROR exactly for 5xx");
            errors += u64::from(error);
        }
    }
    let ratio = errors as f64 / servers as f64;
    assert!(
        (ratio - 0.01).abs() < 0.0015,
        "error ratio {ratio} over {servers} server spans"
    );
}

#[test]
fn latency_median_is_near_p50_with_a_tail() {
    let mut rng = Rng::with_seed(9);
    let mut samples: Vec<u64> = (0..20_000).map(|_| latency_ns(&mut rng, 40.0)).collect();
    samples.sort_unstable();
    let (p50, p99) = (samples[10_000] as f64 / 1e6, samples[19_800] as f64 / 1e6);
    assert!((36.0..44.0).contains(&p50), "p50 {p50} ms");
    assert!(p99 > 3.0 * 40.0, "p99 {p99} ms");
}

#[test]
fn log_bodies_parse_as_json_and_carry_pii() {
    let req = logs(&mut Rng::with_seed(10), 2000, &opts());
    let mut emails = 0;
    for record in req
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
    {
        let Some(Value::StringValue(body)) = record.body.as_ref().and_then(|b| b.value.as_ref())
        else {
            panic!()
        };
        let json: serde_json::Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(
            json["level"].as_str().unwrap().to_ascii_uppercase(),
            record.severity_text
        );
        assert!(json["msg"].is_string());
        emails += usize::from(body.contains("@example"));
    }
    assert!(emails > 100, "{emails}");
}

#[test]
fn metrics_are_consistent_cumulative_histograms_sums_and_gauges() {
    let req = metrics(&mut Rng::with_seed(11), 1000, &opts());
    let mut kinds = BTreeSet::new();
    for metric in req
        .resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
    {
        match metric.data.as_ref().unwrap() {
            Data::Histogram(h) => {
                assert_eq!(metric.name, "http.server.request.duration");
                for p in &h.data_points {
                    assert_eq!(p.bucket_counts.len(), p.explicit_bounds.len() + 1);
                    assert_eq!(p.bucket_counts.iter().sum::<u64>(), p.count);
                    assert!(p.start_time_unix_nano < p.time_unix_nano);
                }
                kinds.insert("histogram");
            }
            Data::Sum(s) => {
                assert!(s.is_monotonic);
                kinds.insert("sum");
            }
            Data::Gauge(_) => _ = kinds.insert("gauge"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(kinds.len(), 3);
}

#[test]
fn json_encoding_round_trips() {
    for signal in SIGNALS {
        let payload = Payload::generate(signal, &mut Rng::with_seed(12), 50, &opts());
        let json = payload.encode_json().unwrap();
        let back = match signal {
            Signal::Traces => Payload::Traces(serde_json::from_slice(&json).unwrap()),
            Signal::Metrics => Payload::Metrics(serde_json::from_slice(&json).unwrap()),
            Signal::Logs => Payload::Logs(serde_json::from_slice(&json).unwrap()),
        };
        assert_eq!(back.items(), 50);
        // serde_json parses floats to within one ulp (no `float_roundtrip`), so metric
        // values may differ in the last bit; everything else must survive exactly.
        if signal != Signal::Metrics {
            assert!(back == payload, "{signal:?} changed in a json round trip");
        }
    }
}

#[test]
fn rate_limiter_paces_items_without_catch_up_bursts() {
    let t0 = Instant::now();
    let limiter = RateLimiter::new(1000.0);
    // Four workers asking at once get consecutive slots 100 ms apart.
    for k in 0..10u64 {
        assert_eq!(
            limiter.reserve(t0, 100),
            t0 + Duration::from_millis(100 * k)
        );
    }
    // The schedule is booked to t0 + 1 s; asking at t0 + 0.5 s waits for it.
    assert_eq!(
        limiter.reserve(t0 + Duration::from_millis(500), 512),
        t0 + Duration::from_secs(1)
    );
    // After a stall the schedule restarts at now rather than bursting to catch up.
    let later = t0 + Duration::from_secs(5);
    assert_eq!(limiter.reserve(later, 250), later);
    assert_eq!(
        limiter.reserve(later, 250),
        later + Duration::from_millis(250)
    );
}

#[test]
fn latency_histogram_quantiles() {
    let mut h = LatencyHistogram::default();
    for ms in 1..=1000 {
        h.record(Duration::from_millis(ms));
    }
    let p50 = h.quantile_us(0.5) / 1000.0;
    let p99 = h.quantile_us(0.99) / 1000.0;
    assert!((p50 / 500.0 - 1.0).abs() < 0.07, "{p50}");
    assert!((p99 / 990.0 - 1.0).abs() < 0.07, "{p99}");
    assert_eq!(h.quantile_us(1.0), 1_000_000.0);
    assert_eq!(LatencyHistogram::default().quantile_us(0.5), 0.0);
}

#[test]
fn grpc_codes_are_classified_like_an_otlp_exporter() {
    use tonic::{Code, Status};
    use tonic_types::{ErrorDetails, StatusExt as _};
    let class = |status: &Status| match classify_status(status) {
        Outcome::Refused { class, answer, .. } => (class, answer),
        other => panic!("{other:?}"),
    };
    let retry_info = ErrorDetails::with_retry_info(Some(Duration::from_secs(1)));
    let with_retry = Status::with_error_details(Code::ResourceExhausted, "full", retry_info);
    let cases = [
        (
            Status::unavailable("busy"),
            Class::Retryable,
            "grpc UNAVAILABLE",
        ),
        (
            Status::invalid_argument("bad"),
            Class::Permanent,
            "grpc INVALID_ARGUMENT",
        ),
        (
            Status::unauthenticated("who"),
            Class::Permanent,
            "grpc UNAUTHENTICATED",
        ),
        (
            Status::resource_exhausted("x"),
            Class::Permanent,
            "grpc RESOURCE_EXHAUSTED",
        ),
        (with_retry, Class::Retryable, "grpc RESOURCE_EXHAUSTED"),
        (
            Status::from_error("reset".into()),
            Class::Transport,
            "transport",
        ),
    ];
    for (status, expected, answer) in cases {
        assert_eq!(class(&status), (expected, answer.to_string()), "{status:?}");
    }
}

#[test]
fn partial_success_is_read_from_http_answers() {
    let response = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 5,
            error_message: "too many attributes".into(),
        }),
    };
    assert_eq!(rejected_in_body(false, &response.encode_to_vec()), Some(5));
    let json = serde_json::to_vec(&response).unwrap();
    assert_eq!(rejected_in_body(true, &json), Some(5));
    assert_eq!(rejected_in_body(false, b""), Some(0));
    assert_eq!(rejected_in_body(true, b"<html>"), None);
}

#[test]
fn endpoints_and_arguments_are_validated() {
    let uri = |e: Option<&str>, p| endpoint_uri(e, p, Signal::Logs).map(|u| u.to_string());
    assert_eq!(uri(None, Protocol::Grpc).unwrap(), "http://127.0.0.1:4317/");
    assert_eq!(
        uri(None, Protocol::Http).unwrap(),
        "http://127.0.0.1:4318/v1/logs"
    );
    assert_eq!(
        uri(Some("http://otel:9999/"), Protocol::Http).unwrap(),
        "http://otel:9999/v1/logs"
    );
    assert_eq!(
        uri(Some("otel/base"), Protocol::Http).unwrap(),
        "http://otel:4318/base/v1/logs"
    );
    assert_eq!(
        uri(Some("[::1]:4317"), Protocol::Grpc).unwrap(),
        "http://[::1]:4317/"
    );
    assert!(uri(Some("https://otel:4317"), Protocol::Grpc).is_err());
    assert!(uri(Some("otel:4317/x"), Protocol::Grpc).is_err());
    assert!(uri(Some("http://"), Protocol::Grpc).is_err());

    let bad = |f: fn(&mut LoadgenArgs)| {
        let mut args = LoadgenArgs::default();
        f(&mut args);
        args.validate().err().map(|e| e.to_string())
    };
    assert!(bad(|_| {}).is_none());
    assert!(
        bad(|a| a.encoding = Encoding::Json)
            .unwrap()
            .contains("--encoding json")
    );
    assert!(bad(|a| a.items_per_request = 0).is_some());
    assert!(bad(|a| a.error_ratio = 1.5).is_some());
    assert!(
        bad(|a| a.headers = vec!["novalue".into()])
            .unwrap()
            .contains("key=value")
    );
    assert!(bad(|a| a.headers = vec!["x-tenant=a\nb".into()]).is_some());
    let mut args = LoadgenArgs {
        token: Some("s3cret".into()),
        ..LoadgenArgs::default()
    };
    args.headers = vec!["X-Scope-OrgID=team-a".into()];
    let s = args.validate().unwrap();
    assert_eq!(s.headers["authorization"], "Bearer s3cret");
    assert_eq!(s.headers["x-scope-orgid"], "team-a");
    assert_eq!(s.duration, Some(std::time::Duration::from_secs(10)));
    assert!(!format!("{args:?}").contains("s3cret"));
    args.items = Some(10);
    assert_eq!(args.validate().unwrap().duration, None);
}

#[test]
fn items_limit_sends_exact_counts() {
    let args = LoadgenArgs {
        items: Some(1300),
        items_per_request: 512,
        ..LoadgenArgs::default()
    };
    let settings = args.validate().unwrap();
    let pool = Pool::build(&Recipe::from(&settings), &settings).unwrap();
    let sizes: Vec<Option<u64>> = (0..4).map(|n| pool.request(n).map(|p| p.items)).collect();
    assert_eq!(sizes, [Some(512), Some(512), Some(276), None]);
}

#[test]
fn refresh_rebuilds_entries_with_current_timestamps() {
    let args = LoadgenArgs {
        items_per_request: 20,
        ..LoadgenArgs::default()
    };
    let settings = args.validate().unwrap();
    let mut recipe = Recipe::from(&settings);
    recipe.content.now_unix_nano = 1_000_000_000_000_000_000; // 2001
    let pool = Pool::build(&recipe, &settings).unwrap();
    let newest_end = |pool: &Pool| {
        let body = pool.request(0).unwrap().body;
        let req = ExportTraceServiceRequest::decode(body).unwrap();
        let spans = req.resource_spans.into_iter().flat_map(|r| r.scope_spans);
        spans
            .flat_map(|s| s.spans)
            .map(|s| s.end_time_unix_nano)
            .max()
            .unwrap()
    };
    assert!(newest_end(&pool) <= 1_000_000_000_000_000_000);
    pool.refresh(&recipe, 0, 1).unwrap();
    assert!(newest_end(&pool) > 1_700_000_000_000_000_000);
    assert_eq!(pool.request(0).unwrap().items, 20);
}

#[test]
fn decode_baseline_decodes_the_pool() {
    for (protocol, encoding, compression) in [
        (Protocol::Grpc, Encoding::Protobuf, Compression::None),
        (Protocol::Grpc, Encoding::Protobuf, Compression::Zstd),
        (Protocol::Http, Encoding::Json, Compression::Gzip),
    ] {
        let args = LoadgenArgs {
            decode_baseline: true,
            items: Some(10_000),
            duration: Some(Duration::from_secs(5).into()),
            items_per_request: 100,
            protocol,
            encoding,
            compression,
            ..LoadgenArgs::default()
        };
        let report = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(args))
            .unwrap();
        assert_eq!(report.mode, "decode-baseline");
        assert!(
            report.decoded_items >= 10_000 && report.decoded_items_per_second > 0.0,
            "{report}"
        );
        assert_eq!(report.sent_items, 0);
    }
}

/// What a stub server saw.
#[derive(Default)]
struct Seen {
    items: AtomicU64,
    authorized: AtomicU64,
}

/// Starts an OTLP stub: gRPC (h2c) or HTTP/1.1; answers `status` (HTTP) and reports one
/// rejected item per request as partial success.
async fn stub(grpc: bool, status: u16) -> (SocketAddr, Arc<Seen>) {
    use hyper::service::service_fn;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Seen::default());
    let shared = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let seen = Arc::clone(&shared);
            let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let seen = Arc::clone(&seen);
                async move { Ok::<_, std::convert::Infallible>(answer(req, &seen, grpc, status).await) }
            });
            let io = TokioIo::new(stream);
            tokio::spawn(async move {
                if grpc {
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service)
                        .await;
                } else {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await;
                }
            });
        }
    });
    (addr, seen)
}

type StubBody = http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>;

async fn answer(
    req: http::Request<hyper::body::Incoming>,
    seen: &Seen,
    grpc: bool,
    status: u16,
) -> http::Response<StubBody> {
    let (parts, body) = req.into_parts();
    if parts
        .headers
        .get("authorization")
        .is_some_and(|v| v == "Bearer t0k")
    {
        seen.authorized.fetch_add(1, Ordering::Relaxed);
    }
    let body = body.collect().await.unwrap().to_bytes();
    let encoding = if grpc {
        parts.headers.get("grpc-encoding")
    } else {
        parts.headers.get("content-encoding")
    };
    let compression = match encoding.map(|v| v.to_str().unwrap()) {
        Some("gzip") => Compression::Gzip,
        Some("zstd") => Compression::Zstd,
        _ => Compression::None,
    };
    let message = if grpc { &body[5..] } else { &body[..] };
    let raw = decompress(message, compression).unwrap();
    let json = parts
        .headers
        .get("content-type")
        .is_some_and(|v| v == "application/json");
    let request: ExportTraceServiceRequest = if json {
        serde_json::from_slice(&raw).unwrap()
    } else {
        ExportTraceServiceRequest::decode(&raw[..]).unwrap()
    };
    seen.items
        .fetch_add(count_spans(&request) as u64, Ordering::Relaxed);
    let response = ExportTraceServiceResponse {
        partial_success: Some(ExportTracePartialSuccess {
            rejected_spans: 1,
            error_message: "one bad span".into(),
        }),
    }
    .encode_to_vec();
    if grpc {
        let mut frame = vec![0u8];
        frame.extend_from_slice(&(response.len() as u32).to_be_bytes());
        frame.extend_from_slice(&response);
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
        let body = Full::new(Bytes::from(frame))
            .with_trailers(async move { Some(Ok(trailers)) })
            .boxed();
        return http::Response::builder()
            .header("content-type", "application/grpc")
            .body(body)
            .unwrap();
    }
    let body = if status == 200 {
        Bytes::from(response)
    } else {
        Bytes::from_static(b"busy")
    };
    http::Response::builder()
        .status(status)
        .header("content-type", "application/x-protobuf")
        .body(Full::new(body).boxed())
        .unwrap()
}

fn stub_args(addr: SocketAddr, protocol: Protocol) -> LoadgenArgs {
    LoadgenArgs {
        protocol,
        endpoint: Some(addr.to_string()),
        items: Some(5_000),
        items_per_request: 500,
        concurrency: 3,
        token: Some("t0k".into()),
        ..LoadgenArgs::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_against_grpc_stub_counts_partial_success() {
    for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
        let (addr, seen) = stub(true, 200).await;
        let report = run(LoadgenArgs {
            compression,
            ..stub_args(addr, Protocol::Grpc)
        })
        .await
        .unwrap();
        assert_eq!(seen.items.load(Ordering::Relaxed), 5_000, "{report}");
        assert_eq!(seen.authorized.load(Ordering::Relaxed), 10);
        assert_eq!((report.requests, report.sent_items), (10, 5_000));
        assert_eq!(
            (report.acknowledged_items, report.rejected_items),
            (4_990, 10),
            "{report}"
        );
        assert_eq!(report.refused_items(), 0);
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["acknowledged_items"], 4_990);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_against_http_stub_protobuf_and_json() {
    for (encoding, compression) in [
        (Encoding::Protobuf, Compression::None),
        (Encoding::Json, Compression::Gzip),
    ] {
        let (addr, seen) = stub(false, 200).await;
        let args = LoadgenArgs {
            encoding,
            compression,
            ..stub_args(addr, Protocol::Http)
        };
        let report = run(args).await.unwrap();
        assert_eq!(seen.items.load(Ordering::Relaxed), 5_000);
        assert_eq!(seen.authorized.load(Ordering::Relaxed), 10);
        assert_eq!(
            (report.acknowledged_items, report.rejected_items),
            (4_990, 10),
            "{report}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_classified_and_rate_and_duration_stop_the_run() {
    let (addr, _) = stub(false, 503).await;
    let args = LoadgenArgs {
        items: None,
        duration: Some(Duration::from_millis(500).into()),
        rate: 4_000.0,
        ..stub_args(addr, Protocol::Http)
    };
    let report = run(args).await.unwrap();
    // 4000 items/s in requests of 500 over 0.5 s: a request every 125 ms, 4 of them.
    assert!((3..=5).contains(&report.requests), "{report}");
    assert_eq!(report.refused.retryable_requests, report.requests);
    assert_eq!(report.errors.get("http 503"), Some(&report.requests));
    assert_eq!(report.acknowledged_items, 0);
    assert!(report.elapsed_seconds < 1.5);

    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let err = run(stub_args(closed, Protocol::Grpc)).await.unwrap_err();
    assert!(err.to_string().starts_with("cannot connect"), "{err}");
}
