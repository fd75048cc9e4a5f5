//! Sending: the rate limiter, the latency histogram, how answers are classified, and whole
//! runs against the stub servers.

use std::sync::atomic::Ordering;

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message as _;
use tokio::time::{Duration, Instant};

use super::stub::{stub, stub_args};
use crate::loadgen::client::{Class, Outcome, classify_status, rejected_in_body};
use crate::loadgen::report::LatencyHistogram;
use crate::loadgen::send::RateLimiter;
use crate::loadgen::{Encoding, LoadgenArgs, run};
use crate::signal::{Compression, Protocol};

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
