//! SLO record-path benchmarks: span facts built from one 512-span request, then 1, 10 or
//! 100 conditions evaluated over it with Arrow kernels, against the row-by-row evaluator
//! walking the prost spans.
//!
//! Inputs come from the load generator (seed 42), the traffic the example SLOs are written
//! for. Conditions are realistic SLO filters: service and span kind, routes, status codes,
//! latency, `IsMatch` on routes. Run: `cargo bench --bench slo`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use slotel::loadgen::{ContentOpts, generate};
use slotel::slo::facts::{FactsSchema, SpanFacts};
use slotel::slo::ottl::{Condition, ConditionTarget};

/// The same allocator as the `slotel` binary, so the figures match what it does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SPANS: usize = 512;

const SERVICES: &[&str] = &["checkout", "payment", "cart", "catalog", "shipping"];
const ROUTES: &[&str] = &[
    "/api/pay",
    "/api/cart",
    "/v1/payments",
    "/api/search",
    "/api/quote",
];

fn payload() -> ExportTraceServiceRequest {
    let mut rng = fastrand::Rng::with_seed(42);
    let opts = ContentOpts {
        now_unix_nano: 1_700_000_000_000_000_000,
        ..ContentOpts::default()
    };
    generate::traces(&mut rng, SPANS, &opts)
}

/// `n` conditions of the shapes SLO files use, cycling through services and routes.
fn conditions(n: usize) -> Vec<Condition> {
    (0..n)
        .map(|i| {
            let service = SERVICES[i % SERVICES.len()];
            let route = ROUTES[(i / SERVICES.len()) % ROUTES.len()];
            let text = match i % 5 {
                0 => format!(
                    r#"resource.attributes["service.name"] == "{service}" and kind == SPAN_KIND_SERVER"#
                ),
                1 => r#"status.code == STATUS_CODE_ERROR or attributes["http.response.status_code"] >= 500"#
                    .to_string(),
                2 => format!(
                    r#"resource.attributes["service.name"] == "{service}" and kind == SPAN_KIND_SERVER and attributes["http.route"] == "{route}""#
                ),
                3 => format!(r#"IsMatch(attributes["http.route"], "^{route}") and duration > 100ms"#),
                _ => format!(
                    r#"resource.attributes["k8s.cluster.name"] != "cluster-{}" and not (attributes["http.response.status_code"] < 400)"#,
                    i % 3
                ),
            };
            Condition::parse(&text, ConditionTarget::Span).unwrap_or_else(|e| panic!("{text}: {e}"))
        })
        .collect()
}

fn schema(conditions: &[Condition]) -> FactsSchema {
    let mut schema = FactsSchema::default();
    for c in conditions {
        schema.add_condition(c);
    }
    schema
}

/// Matches per condition, with Arrow: build the facts once, then one kernel pass each.
fn arrow(req: &ExportTraceServiceRequest, schema: &FactsSchema, conditions: &[Condition]) -> usize {
    let facts = SpanFacts::build(req, None, "k8s.cluster.name", schema);
    conditions
        .iter()
        .map(|c| c.eval_batch(&facts).true_count())
        .sum()
}

/// Matches per condition, row by row on the prost spans.
fn row(req: &ExportTraceServiceRequest, conditions: &[Condition]) -> usize {
    let mut matched = 0;
    for rs in &req.resource_spans {
        let resource = rs.resource.as_ref();
        for span in rs.scope_spans.iter().flat_map(|s| &s.spans) {
            for c in conditions {
                matched += usize::from(c.eval_span(span, resource));
            }
        }
    }
    matched
}

fn evaluate(c: &mut Criterion) {
    let req = payload();
    let mut g = c.benchmark_group("slo_conditions_512_spans");
    g.throughput(Throughput::Elements(SPANS as u64));
    for n in [1, 10, 100] {
        let conditions = conditions(n);
        let schema = schema(&conditions);
        assert_eq!(arrow(&req, &schema, &conditions), row(&req, &conditions));
        g.bench_with_input(BenchmarkId::new("arrow", n), &n, |b, _| {
            b.iter(|| arrow(black_box(&req), &schema, &conditions))
        });
        g.bench_with_input(BenchmarkId::new("row_by_row", n), &n, |b, _| {
            b.iter(|| row(black_box(&req), &conditions))
        });
    }
    g.finish();
}

fn build(c: &mut Criterion) {
    let req = payload();
    let mut g = c.benchmark_group("slo_facts_build_512_spans");
    g.throughput(Throughput::Elements(SPANS as u64));
    for n in [1, 100] {
        let schema = schema(&conditions(n));
        g.bench_with_input(BenchmarkId::new("conditions", n), &n, |b, _| {
            b.iter(|| SpanFacts::build(black_box(&req), None, "k8s.cluster.name", &schema).len())
        });
    }
    g.finish();
}

criterion_group!(benches, evaluate, build);
criterion_main!(benches);
