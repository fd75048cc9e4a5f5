//! Bad input of every shape gets a clear status, and a valid request right after it still
//! succeeds: the process neither crashes nor stops serving.

mod common;

use std::io::Write;

use common::*;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value;
use prost::Message;
use slotel::attr::kv;
use slotel::loadgen::ContentOpts;
use slotel::loadgen::generate;

fn valid_traces(n: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(7);
    generate::traces(&mut rng, n, &ContentOpts::default()).encode_to_vec()
}

const PB: (&str, &str) = ("content-type", "application/x-protobuf");

/// A valid HTTP request and a valid gRPC request both succeed.
async fn still_serving(s: &Server, why: &str) {
    let r = http_send(
        "POST",
        &format!("http://{}/v1/traces", s.http),
        &[PB],
        valid_traces(10),
    )
    .await;
    assert_eq!(r.status, 200, "http after {why}");
    let g = grpc_send(s.grpc, GRPC_TRACES, &[], &valid_traces(10), None).await;
    assert_eq!(g.code, 0, "grpc after {why}: {}", g.message);
}

fn gzip_bomb(inflated: usize) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..inflated >> 20 {
        enc.write_all(&zeros).unwrap();
    }
    enc.finish().unwrap()
}

fn span_with_attributes(n: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(3);
    let mut req = generate::traces(&mut rng, 1, &ContentOpts::default());
    let span = &mut req.resource_spans[0].scope_spans[0].spans[0];
    span.attributes = (0..n).map(|i| kv(&format!("k{i}"), i as i64)).collect();
    req.encode_to_vec()
}

/// An `ExportLogsServiceRequest` whose one log body is an AnyValue array nested `depth`
/// deep, encoded by hand from the inside out (prost's own encoder would recurse as deep).
fn deeply_nested_log(depth: usize) -> Vec<u8> {
    use otlp::wire_field as wrap;
    let mut value = wrap(1, b"leaf"); // AnyValue.string_value
    for _ in 0..depth {
        value = wrap(5, &wrap(1, &value)); // AnyValue.array_value { values: [value] }
    }
    let record = wrap(5, &value); // LogRecord.body
    wrap(1, &wrap(2, &wrap(2, &record))) // request.resource_logs.scope_logs.log_records
}

/// A string field holding bytes that are not UTF-8: span name `\xff\xfe`.
fn invalid_utf8_span() -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(5);
    let mut req = generate::traces(&mut rng, 1, &ContentOpts::default());
    req.resource_spans[0].scope_spans[0].spans[0].name = "MARKERNAME".into();
    let mut bytes = req.encode_to_vec();
    let at = bytes.windows(10).position(|w| w == b"MARKERNAME").unwrap();
    bytes[at] = 0xff;
    bytes[at + 1] = 0xfe;
    bytes
}

#[tokio::test]
async fn http_bad_input_gets_clear_statuses() {
    let s = start().await;
    let url = format!("http://{}/v1/traces", s.http);
    let json = ("content-type", "application/json");

    let mut rng = fastrand::Rng::with_seed(11);
    let random: Vec<u8> = (0..4096).map(|_| rng.u8(..)).collect();
    let r = http_send("POST", &url, &[PB], random).await;
    assert_eq!(r.status, 400);
    still_serving(&s, "random bytes").await;

    let valid = valid_traces(50);
    let r = http_send("POST", &url, &[PB], valid[..valid.len() / 2].to_vec()).await;
    assert_eq!(r.status, 400, "truncated protobuf");
    still_serving(&s, "truncated protobuf").await;

    let r = http_send(
        "POST",
        &url,
        &[("content-type", "text/plain")],
        valid.clone(),
    )
    .await;
    assert_eq!(r.status, 415);
    let r = http_send("POST", &url, &[], valid.clone()).await;
    assert_eq!(r.status, 415, "no content type");
    let r = http_send(
        "POST",
        &url,
        &[PB, ("content-encoding", "br")],
        valid.clone(),
    )
    .await;
    assert_eq!(r.status, 415, "unknown content encoding");
    still_serving(&s, "wrong content type").await;

    for method in ["GET", "PUT", "DELETE"] {
        let r = http_send(method, &url, &[PB], Vec::new()).await;
        assert_eq!(r.status, 405, "{method}");
    }

    let r = http_send("POST", &url, &[json], &b"{\"resourceSpans\": [ {"[..]).await;
    assert_eq!(r.status, 400, "invalid json");
    assert_eq!(r.headers["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["code"], 3);
    assert!(body["message"].as_str().unwrap().contains("json"), "{body}");
    still_serving(&s, "invalid json").await;

    let r = http_send("POST", &url, &[PB], invalid_utf8_span()).await;
    assert_eq!(r.status, 400, "invalid utf-8 in a string field");
    let r = http_send(
        "POST",
        &url,
        &[json],
        &b"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"\xff\xfe\"}]}]}]}"[..],
    )
    .await;
    assert_eq!(r.status, 400, "invalid utf-8 in json");
    still_serving(&s, "invalid utf-8").await;

    let bomb = gzip_bomb(64 << 20);
    assert!(bomb.len() < 1 << 20);
    let r = http_send("POST", &url, &[PB, ("content-encoding", "gzip")], bomb).await;
    assert_eq!(r.status, 413, "gzip bomb");
    still_serving(&s, "gzip bomb").await;

    let r = http_send("POST", &url, &[PB], vec![0u8; 17 << 20]).await;
    assert_eq!(r.status, 413, "oversize body");
    still_serving(&s, "oversize body").await;

    let r = http_send("POST", &url, &[PB], span_with_attributes(100_000)).await;
    assert_eq!(r.status, 200, "100k attributes: partial success");
    let resp = ExportTraceServiceResponse::decode(&r.body[..]).unwrap();
    let ps = resp.partial_success.unwrap();
    assert_eq!(ps.rejected_spans, 1);
    assert!(
        ps.error_message.contains("attributes"),
        "{}",
        ps.error_message
    );
    still_serving(&s, "100k attributes").await;

    let r = http_send(
        "POST",
        &format!("http://{}/v1/logs", s.http),
        &[PB],
        deeply_nested_log(10_000),
    )
    .await;
    assert_eq!(r.status, 400, "anyvalue nested 10 000 deep");
    still_serving(&s, "deep nesting").await;

    let written = s.written();
    assert_eq!(
        s.metric(
            "slotel_receiver_refused_requests_total",
            &["reason=\"invalid\""]
        ),
        6.0
    );
    assert_eq!(
        s.metric(
            "slotel_receiver_refused_spans_total",
            &["reason=\"invalid_item\""]
        ),
        1.0
    );
    s.running.shutdown().await.unwrap();
    let _ = written;
}

#[tokio::test]
async fn grpc_bad_input_gets_clear_statuses() {
    let s = start().await;
    let mut rng = fastrand::Rng::with_seed(12);
    let random: Vec<u8> = (0..4096).map(|_| rng.u8(..)).collect();
    let g = grpc_send(s.grpc, GRPC_TRACES, &[], &random, None).await;
    assert_eq!(
        g.code, 3,
        "random bytes: INVALID_ARGUMENT, got {}",
        g.message
    );
    still_serving(&s, "grpc random bytes").await;

    let valid = valid_traces(50);
    let g = grpc_send(s.grpc, GRPC_TRACES, &[], &valid[..valid.len() / 3], None).await;
    assert_eq!(g.code, 3, "truncated");

    let g = grpc_send(s.grpc, GRPC_TRACES, &[], &invalid_utf8_span(), None).await;
    assert_eq!(g.code, 3, "invalid utf-8");

    let g = grpc_send(s.grpc, GRPC_TRACES, &[], &gzip_best(&valid), Some("gzip")).await;
    assert_eq!(g.code, 0, "gzip request: {}", g.message);
    let g = grpc_send(
        s.grpc,
        GRPC_TRACES,
        &[],
        &zstd::encode_all(&valid[..], 3).unwrap(),
        Some("zstd"),
    )
    .await;
    assert_eq!(g.code, 0, "zstd request: {}", g.message);

    let g = grpc_send(s.grpc, GRPC_TRACES, &[], &gzip_bomb(64 << 20), Some("gzip")).await;
    assert_eq!(
        g.code, 8,
        "gzip bomb: RESOURCE_EXHAUSTED, got {} {}",
        g.code, g.message
    );
    assert!(g.details.is_none(), "no RetryInfo on oversize");
    still_serving(&s, "grpc gzip bomb").await;

    let g = grpc_send(s.grpc, GRPC_TRACES, &[], &vec![0u8; 17 << 20], None).await;
    assert_eq!(g.code, 8, "oversize: RESOURCE_EXHAUSTED");
    still_serving(&s, "grpc oversize").await;

    // A compressed message over the limit before decompressing (random bytes do not
    // shrink) is refused the same way.
    let mut rng = fastrand::Rng::with_seed(9);
    let noise: Vec<u8> = (0..17 << 20).map(|_| rng.u8(..)).collect();
    let g = grpc_send(s.grpc, GRPC_TRACES, &[], &gzip_best(&noise), Some("gzip")).await;
    assert_eq!(
        g.code, 8,
        "compressed oversize: RESOURCE_EXHAUSTED, got {}",
        g.message
    );
    still_serving(&s, "grpc compressed oversize").await;
    assert_eq!(
        s.metric(
            "slotel_receiver_refused_requests_total",
            &["protocol=\"grpc\"", "reason=\"too_large\""]
        ),
        3.0
    );

    let g = grpc_send(s.grpc, GRPC_LOGS, &[], &deeply_nested_log(10_000), None).await;
    assert_eq!(g.code, 3, "deep nesting");

    let g = grpc_send(
        s.grpc,
        GRPC_TRACES,
        &[],
        &span_with_attributes(100_000),
        None,
    )
    .await;
    assert_eq!(g.code, 0);
    let resp = ExportTraceServiceResponse::decode(&g.body[..]).unwrap();
    assert_eq!(resp.partial_success.unwrap().rejected_spans, 1);

    let g = grpc_send(
        s.grpc,
        "/opentelemetry.proto.collector.trace.v1.TraceService/Nope",
        &[],
        &valid,
        None,
    )
    .await;
    assert_eq!(g.code, 12, "unknown method: UNIMPLEMENTED");
    still_serving(&s, "grpc everything").await;
    s.running.shutdown().await.unwrap();
}

/// With `service.admin.auth.metrics`, `/metrics` answers 401 without the admin token and
/// the text with it; the probes stay open. Without it, `/metrics` stays open beside a
/// protected API.
#[tokio::test]
async fn metrics_can_be_put_behind_the_admin_token() {
    const TOKEN: &str = "an-admin-token-of-some-length";
    for protected in [true, false] {
        let s = start_cfg(
            |mut c| {
                c.service.admin_auth = Some(slotel::config::AdminAuth {
                    token: TOKEN.into(),
                    metrics: protected,
                });
                c
            },
            Vec::new(),
        )
        .await;
        let get = |path: &'static str, token: Option<&'static str>| {
            let url = format!("http://{}{path}", s.admin);
            async move {
                let bearer = token.map(|t| format!("Bearer {t}"));
                let headers: Vec<(&str, &str)> = bearer
                    .as_deref()
                    .map(|b| ("authorization", b))
                    .into_iter()
                    .collect();
                http_send("GET", &url, &headers, Vec::new()).await
            }
        };
        let open = get("/metrics", None).await;
        let wrong = get("/metrics", Some("not-the-admin-token-at-all")).await;
        let right = get("/metrics", Some(TOKEN)).await;
        if protected {
            assert_eq!(open.status, 401);
            assert_eq!(wrong.status, 401);
            assert!(!String::from_utf8_lossy(&open.body).contains("slotel_"));
        } else {
            assert_eq!(open.status, 200);
            assert_eq!(wrong.status, 200);
        }
        assert_eq!(right.status, 200);
        assert!(String::from_utf8_lossy(&right.body).contains("# TYPE slotel_"));
        assert_eq!(get("/healthz", None).await.status, 200, "{protected}");
        assert_eq!(get("/readyz", None).await.status, 200, "{protected}");
        assert_eq!(get("/api/v1/slos", None).await.status, 401, "{protected}");
        s.running.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn tokens_are_required_and_bind_the_cluster() {
    let s = start_cfg(with_tokens, Vec::new()).await;
    let url = format!("http://{}/v1/traces", s.http);
    let body = valid_traces(20);
    for headers in [
        vec![PB],
        vec![PB, ("authorization", "Bearer wrong")],
        vec![PB, ("authorization", "Basic good-token")],
    ] {
        let r = http_send("POST", &url, &headers, body.clone()).await;
        assert_eq!(r.status, 401, "{headers:?}");
    }
    let g = grpc_send(s.grpc, GRPC_TRACES, &[], &body, None).await;
    assert_eq!(g.code, 16, "grpc without token: UNAUTHENTICATED");
    let g = grpc_send(
        s.grpc,
        GRPC_TRACES,
        &[("authorization", "Bearer nope")],
        &body,
        None,
    )
    .await;
    assert_eq!(g.code, 16);

    let r = http_send(
        "POST",
        &url,
        &[PB, ("authorization", "Bearer good-token")],
        body.clone(),
    )
    .await;
    assert_eq!(r.status, 200);
    let g = grpc_send(
        s.grpc,
        GRPC_TRACES,
        &[("authorization", "Bearer good-token")],
        &body,
        None,
    )
    .await;
    assert_eq!(g.code, 0, "{}", g.message);
    assert_eq!(
        s.metric(
            "slotel_receiver_refused_requests_total",
            &["reason=\"unauthenticated\""]
        ),
        5.0
    );
    let out = s.out.clone().unwrap();
    s.running.shutdown().await.unwrap();

    // Everything written carries the token's cluster, whatever the sender claimed.
    let text = std::fs::read_to_string(out).unwrap();
    let mut resources = 0;
    for line in text.lines() {
        let req: ExportTraceServiceRequest = serde_json::from_str(line).unwrap();
        for rs in req.resource_spans {
            resources += 1;
            let clusters: Vec<_> = rs
                .resource
                .unwrap()
                .attributes
                .into_iter()
                .filter(|kv| kv.key == "k8s.cluster.name")
                .collect();
            assert_eq!(clusters.len(), 1);
            assert_eq!(
                clusters[0].value.as_ref().unwrap().value,
                Some(any_value::Value::StringValue("seoul-prod".into()))
            );
        }
    }
    assert!(resources >= 2);
}
