//! The receiver charges a request, before decoding it, an upper bound of what decoding
//! allocates (`receiver::wire`). This checks that bound against the allocator itself, for
//! requests shaped after the OTLP protos to cost the most per byte (empty messages,
//! empty attributes, nesting to prost's limit, packed bucket counts, wide maps) and for
//! realistic ones; and for OTLP/JSON, bounded from its objects by the arrays they are
//! elements of.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use slotel::loadgen::{ContentOpts, generate};
use slotel::receiver::otlp::{Format, OtlpRequest, decode};
use slotel::receiver::wire;
use slotel::signal::Signal;

/// The tests' OTLP builders (this test needs only the wire field, not the rest of `common`).
#[allow(dead_code)]
#[path = "common/otlp.rs"]
mod otlp;
use otlp::wire_field as field;

/// Counts this thread's live and peak heap bytes.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|p| {
            if now > p.get() {
                p.set(now)
            }
        });
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as a new block then the old one freed: the most a copy can hold.
        note(new_size as isize);
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        note(-(layout.size() as isize));
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak bytes allocated while decoding `body`, the decoded request kept alive.
fn decode_peak<R: OtlpRequest>(body: &[u8], format: Format) -> u64 {
    let base = LIVE.with(|l| l.get());
    PEAK.with(|p| p.set(base));
    let decoded = decode::<R>(body, format);
    let peak = PEAK.with(|p| p.get()) - base;
    assert!(decoded.is_ok(), "the request must decode");
    drop(decoded);
    peak.max(0) as u64
}

fn repeat(part: &[u8], n: usize) -> Vec<u8> {
    part.repeat(n)
}

/// request → resource_* (1) → scope_* (2) → items (2).
fn items_request(items: &[u8]) -> Vec<u8> {
    field(1, &field(2, items))
}

struct Case {
    name: &'static str,
    signal: Signal,
    body: Vec<u8>,
}

fn adversarial() -> Vec<Case> {
    let empty_span = field(2, &[]);
    let empty_attr = field(9, &[]);
    let span_with_empty_attrs = field(2, &repeat(&empty_attr, 2000));
    // AnyValue{array_value{values:[…]}} nested 40 deep (each level two messages).
    let mut nested = field(1, b"leaf");
    for _ in 0..40 {
        nested = field(5, &field(1, &nested));
    }
    let nested_log = field(2, &field(5, &nested));
    // kvlist_value with many empty KeyValues, as a log body.
    let wide_map = field(2, &field(5, &field(6, &repeat(&field(1, &[]), 50_000))));
    // An exponential histogram point with packed one-byte bucket counts.
    let mut packed = Vec::new();
    for i in 0..200_000u64 {
        prost::encoding::encode_varint(i % 100, &mut packed);
    }
    let buckets = field(2, &packed);
    let exp_point = field(1, &field(8, &buckets));
    let metric = field(10, &exp_point);
    let metrics = field(1, &field(2, &field(2, &metric)));
    // Empty gauge points.
    let gauge = field(5, &repeat(&field(1, &[]), 100_000));
    let gauges = field(1, &field(2, &field(2, &gauge)));
    // Many resources with one empty scope each.
    let resources = repeat(&field(1, &field(2, &[])), 50_000);
    // Spans with empty events and links.
    let span_events = field(
        2,
        &[repeat(&field(11, &[]), 1000), repeat(&field(13, &[]), 1000)].concat(),
    );
    vec![
        Case {
            name: "empty spans",
            signal: Signal::Traces,
            body: items_request(&repeat(&empty_span, 200_000)),
        },
        Case {
            name: "spans of empty attributes",
            signal: Signal::Traces,
            body: items_request(&repeat(&span_with_empty_attrs, 100)),
        },
        Case {
            name: "empty events and links",
            signal: Signal::Traces,
            body: items_request(&repeat(&span_events, 50)),
        },
        Case {
            name: "many empty resources",
            signal: Signal::Traces,
            body: resources,
        },
        Case {
            name: "nested arrays in log bodies",
            signal: Signal::Logs,
            body: items_request(&repeat(&nested_log, 500)),
        },
        Case {
            name: "a wide map body",
            signal: Signal::Logs,
            body: items_request(&wide_map),
        },
        Case {
            name: "packed exponential buckets",
            signal: Signal::Metrics,
            body: metrics,
        },
        Case {
            name: "empty gauge points",
            signal: Signal::Metrics,
            body: gauges,
        },
    ]
}

fn realistic() -> Vec<Case> {
    let mut rng = fastrand::Rng::with_seed(17);
    let opts = ContentOpts::default();
    vec![
        Case {
            name: "traces",
            signal: Signal::Traces,
            body: generate::traces(&mut rng, 512, &opts).encode_to_vec(),
        },
        Case {
            name: "logs",
            signal: Signal::Logs,
            body: generate::logs(&mut rng, 512, &opts).encode_to_vec(),
        },
        Case {
            name: "metrics",
            signal: Signal::Metrics,
            body: generate::metrics(&mut rng, 512, &opts).encode_to_vec(),
        },
    ]
}

fn peak(case: &Case, format: Format) -> u64 {
    match case.signal {
        Signal::Traces => decode_peak::<ExportTraceServiceRequest>(&case.body, format),
        Signal::Logs => decode_peak::<ExportLogsServiceRequest>(&case.body, format),
        Signal::Metrics => decode_peak::<ExportMetricsServiceRequest>(&case.body, format),
    }
}

#[test]
fn the_wire_bound_covers_what_protobuf_decoding_allocates() {
    for case in adversarial().iter().chain(&realistic()) {
        let bound = wire::cost(case.signal, &case.body).unwrap().decoded_bytes;
        let used = peak(case, Format::Protobuf);
        println!(
            "{:32} body {:>9} B  decoded peak {:>11} B  bound {:>11} B  ({:.2}x)",
            case.name,
            case.body.len(),
            used,
            bound,
            bound as f64 / used.max(1) as f64
        );
        assert!(
            used <= bound,
            "{}: decoding took {used} bytes, above the bound of {bound}",
            case.name
        );
    }
}

#[test]
fn the_wire_bound_of_realistic_requests_stays_close() {
    for case in realistic() {
        let bound = wire::cost(case.signal, &case.body).unwrap().decoded_bytes;
        let used = peak(&case, Format::Protobuf);
        // Close enough that a legitimate 16 MiB request fits the default request limit.
        assert!(
            bound <= used * 4,
            "{}: bound {bound} is more than 4x the {used} bytes decoding took",
            case.name
        );
    }
}

/// The same requests as OTLP/JSON, written by slotel's own encoder.
fn as_json(case: &Case) -> Vec<u8> {
    use slotel::pipeline::otlp_json::encode;
    match case.signal {
        Signal::Traces => encode(&ExportTraceServiceRequest::decode(&case.body[..]).unwrap()),
        Signal::Logs => encode(&ExportLogsServiceRequest::decode(&case.body[..]).unwrap()),
        Signal::Metrics => encode(&ExportMetricsServiceRequest::decode(&case.body[..]).unwrap()),
    }
    .unwrap()
}

#[test]
fn the_json_bound_covers_what_json_decoding_allocates() {
    let mut cases = realistic();
    cases.extend(adversarial().into_iter().filter(|c| {
        // JSON nesting is bounded by serde_json's own limit (128).
        c.name != "nested arrays in log bodies"
    }));
    cases.push(Case {
        name: "empty span objects",
        signal: Signal::Traces,
        body: Vec::new(),
    });
    for case in &mut cases {
        let json = if case.body.is_empty() {
            let spans = vec!["{}"; 100_000].join(",");
            format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{spans}]}}]}}]}}"#)
                .into_bytes()
        } else {
            as_json(case)
        };
        let bound = wire::json_cost(&json);
        let c = Case {
            name: case.name,
            signal: case.signal,
            body: json,
        };
        let used = peak(&c, Format::Json);
        println!(
            "json {:27} body {:>9} B  decoded peak {:>11} B  bound {:>11} B  ({:.2}x)",
            c.name,
            c.body.len(),
            used,
            bound,
            bound as f64 / used.max(1) as f64
        );
        assert!(
            used <= bound,
            "json {}: decoding took {used} bytes, above the bound of {bound}",
            c.name
        );
    }
}
