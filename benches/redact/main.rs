//! Redaction throughput on the labelled corpora, in bytes per second on one core. Group
//! `redact_corpus`: `testdata/redact/corpus.jsonl`, the bodies the recall test scores:
//!
//! - `json_bodies`: the JSON log bodies through [`Session::redact_str`] (walk, detect,
//!   rewrite), default config;
//! - `json_parse_serialize`: the same bodies through `serde_json::from_str::<Value>` and
//!   `to_string`: what any parse → modify → serialize redactor pays before detecting
//!   anything, measured in the same run as the yardstick;
//! - `text_bodies`: the plain-text bodies (access logs, free text) scanned as text;
//! - `clean_json`: JSON bodies with nothing (left) to redact: the cost of a clean body,
//!   which allocates nothing.
//!
//! Group `redact_eval`: the independent evaluation set (`testdata/redact/eval/corpus.jsonl`,
//! the documents `tests/redaction_eval.rs` scores), JSON documents (JSON log lines and
//! OTLP/JSON exports) through `redact_str` and through parse → serialize, and the
//! plain-text lines.
//!
//! Run: `cargo bench --bench redact`.
//!
//! Fixed passes instead of criterion, for CPU-time and instruction counts that do not depend
//! on the machine's load (`perf stat -e task-clock`, `valgrind --tool=callgrind`):
//! `REDACT_PASSES=SET:N target/release/deps/redact-…` runs N passes over one set, one session
//! per pass, and exits. SET is `corpus-json`, `corpus-parse`, `corpus-text`, `eval-json`,
//! `eval-parse` or `eval-text`; subtract an N = 0 run to leave the loading out.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group};
use slotel::config::RedactionConfig;
use slotel::redact::Redactor;

/// The same allocator as the `slotel` binary, so the figures match what it does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Corpus {
    json: Vec<String>,
    text: Vec<String>,
}

fn corpus() -> Corpus {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/redact/corpus.jsonl");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut c = Corpus {
        json: Vec::new(),
        text: Vec::new(),
    };
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let body = v["body"].as_str().unwrap_or_default().to_string();
        match v["kind"].as_str() {
            Some("json") => c.json.push(body),
            _ => c.text.push(body),
        }
    }
    c
}

/// The evaluation set: (JSON documents, plain-text lines).
fn eval_corpus() -> (Vec<String>, Vec<String>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/redact/eval/corpus.jsonl"
    );
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let (mut json, mut plain) = (Vec::new(), Vec::new());
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let doc = v["doc"].as_str().unwrap_or_default().to_string();
        match v["format"].as_str() {
            Some("text") => plain.push(doc),
            _ => json.push(doc),
        }
    }
    (json, plain)
}

fn bytes(bodies: &[String]) -> u64 {
    bodies.iter().map(|b| b.len() as u64).sum()
}

fn redact(c: &mut Criterion) {
    let corpus = corpus();
    let redactor = match Redactor::new(&RedactionConfig::default()) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    let clean: Vec<String> = corpus
        .json
        .iter()
        .map(|b| {
            redactor
                .session()
                .redact_str(b)
                .unwrap_or_else(|| b.clone())
        })
        .collect();

    let mut g = c.benchmark_group("redact_corpus");
    g.throughput(Throughput::Bytes(bytes(&corpus.json)));
    g.bench_function("json_bodies", |b| {
        b.iter(|| {
            let mut session = redactor.session();
            corpus
                .json
                .iter()
                .filter_map(|body| session.redact_str(black_box(body)))
                .count()
        })
    });
    g.bench_function("json_parse_serialize", |b| {
        b.iter(|| {
            corpus
                .json
                .iter()
                .filter_map(|body| serde_json::from_str::<serde_json::Value>(black_box(body)).ok())
                .map(|v| v.to_string().len())
                .sum::<usize>()
        })
    });
    g.throughput(Throughput::Bytes(bytes(&clean)));
    g.bench_function("clean_json", |b| {
        b.iter(|| {
            let mut session = redactor.session();
            clean
                .iter()
                .filter_map(|body| session.redact_str(black_box(body)))
                .count()
        })
    });
    g.throughput(Throughput::Bytes(bytes(&corpus.text)));
    g.bench_function("text_bodies", |b| {
        b.iter(|| {
            let mut session = redactor.session();
            corpus
                .text
                .iter()
                .filter_map(|body| session.redact_str(black_box(body)))
                .count()
        })
    });
    g.finish();

    let (json, text) = eval_corpus();
    let mut g = c.benchmark_group("redact_eval");
    g.throughput(Throughput::Bytes(bytes(&json)));
    g.bench_function("json_bodies", |b| {
        b.iter(|| {
            let mut session = redactor.session();
            json.iter()
                .filter_map(|body| session.redact_str(black_box(body)))
                .count()
        })
    });
    g.bench_function("json_parse_serialize", |b| {
        b.iter(|| {
            json.iter()
                .filter_map(|body| serde_json::from_str::<serde_json::Value>(black_box(body)).ok())
                .map(|v| v.to_string().len())
                .sum::<usize>()
        })
    });
    g.throughput(Throughput::Bytes(bytes(&text)));
    g.bench_function("text_bodies", |b| {
        b.iter(|| {
            let mut session = redactor.session();
            text.iter()
                .filter_map(|body| session.redact_str(black_box(body)))
                .count()
        })
    });
    g.finish();
}

/// `REDACT_PASSES=SET:N`: N passes over one set (see the module doc).
fn passes(spec: &str) {
    let (set, n) = spec.split_once(':').unwrap_or((spec, "1"));
    let n: usize = n
        .parse()
        .unwrap_or_else(|_| panic!("REDACT_PASSES={spec}: N is not a count"));
    let redactor = match Redactor::new(&RedactionConfig::default()) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    let (bodies, parse) = match set {
        "corpus-json" => (corpus().json, false),
        "corpus-parse" => (corpus().json, true),
        "corpus-text" => (corpus().text, false),
        "eval-json" => (eval_corpus().0, false),
        "eval-parse" => (eval_corpus().0, true),
        "eval-text" => (eval_corpus().1, false),
        other => panic!("REDACT_PASSES: unknown set {other:?}"),
    };
    let mut out = 0usize;
    for _ in 0..n {
        if parse {
            out += bodies
                .iter()
                .filter_map(|body| serde_json::from_str::<serde_json::Value>(black_box(body)).ok())
                .map(|v| v.to_string().len())
                .sum::<usize>();
        } else {
            let mut session = redactor.session();
            out += bodies
                .iter()
                .filter_map(|body| session.redact_str(black_box(body)))
                .count();
        }
    }
    println!("{set}: {n} passes over {} bytes ({out})", bytes(&bodies));
}

criterion_group!(benches, redact);

fn main() {
    if let Ok(spec) = std::env::var("REDACT_PASSES") {
        passes(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
