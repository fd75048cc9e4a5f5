//! A span's route and method written as two dictionaries of their pairs with one keys
//! buffer (`pairs.rs`): on random requests (routes and methods missing, empty, long, a
//! route with several methods) the facts read back are the strings sent, the file's two
//! columns have the same keys, and their keys are written once.

use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_schema::DataType;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;

use super::layout::DICTIONARY_OF;
use super::tests::{engine, settings};
use super::*;
use crate::attr::kv;

const T0: u64 = 1_800_000_000_000_000_000;
const ROUTE: &str = r#"attributes["http.route"].str"#;
const METHOD: &str = r#"attributes["http.request.method"].str"#;

/// `n` spans of random routes and methods for `seed`: each attribute sometimes missing
/// or empty, a few routes long, a route mostly with one method.
fn random_request(n: usize, seed: u64) -> ExportTraceServiceRequest {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |m: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % m
    };
    let methods = ["GET", "POST", "DELETE", "", "PATCH"];
    let spans = (0..n)
        .map(|i| {
            let r = next(30);
            let mut attributes = Vec::new();
            match r {
                0 => {}
                1 => attributes.push(kv("http.route", "")),
                2..=4 => attributes.push(kv(
                    "http.route",
                    format!("/api/v1/a/route/longer/than/thirty-two/bytes/{r}"),
                )),
                _ => attributes.push(kv("http.route", format!("/items/{}", r % 9))),
            }
            match next(12) {
                0 => {}
                1 => attributes.push(kv("http.request.method", methods[next(5) as usize])),
                _ => attributes.push(kv("http.request.method", methods[(r % 3) as usize])),
            }
            Span {
                name: format!("span {}", r % 5),
                kind: 2,
                start_time_unix_nano: T0 - 1000 - i as u64,
                end_time_unix_nano: T0,
                attributes,
                ..Default::default()
            }
        })
        .collect();
    crate::test_otlp::traces_request(Vec::new(), spans)
}

/// The string attribute `key` of each span sent.
fn sent(requests: &[ExportTraceServiceRequest], key: &str) -> Vec<Option<String>> {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    requests
        .iter()
        .flat_map(|r| &r.resource_spans[0].scope_spans[0].spans)
        .map(|s| {
            s.attributes.iter().find(|a| a.key == key).and_then(|a| {
                match a.value.as_ref()?.value.as_ref()? {
                    Value::StringValue(s) => Some(s.clone()),
                    _ => None,
                }
            })
        })
        .collect()
}

#[test]
fn routes_and_methods_of_random_requests_read_back_as_sent_from_one_keys_buffer() {
    for seed in 0..6 {
        let dir = tempfile::tempdir().unwrap();
        let capture = Capture::start(
            &super::tests::cfg(dir.path(), 1 << 30, Duration::from_secs(3600)),
            settings(),
        )
        .unwrap();
        let engine = engine(&capture);
        let requests: Vec<ExportTraceServiceRequest> = (0..5)
            .map(|i| random_request(300 + 700 * i, seed * 10 + i as u64))
            .collect();
        for req in &requests {
            engine.record_spans_from(req, None, None, None);
        }
        capture.close();
        let files = list_files(dir.path()).unwrap();
        assert_eq!(files.len(), 1, "seed {seed}");

        // The file as Arrow reads it: two dictionaries (standing for strings) of the
        // same keys, each its own nulls.
        let bytes = std::fs::read(&files[0].path).unwrap();
        let stream =
            arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(&bytes), None).unwrap();
        let schema = stream.schema();
        let types = [ROUTE, METHOD].map(|name| {
            let f = schema.field_with_name(name).unwrap();
            assert_eq!(
                f.metadata().get(DICTIONARY_OF).map(String::as_str),
                Some("Utf8")
            );
            f.data_type().clone()
        });
        assert!(
            matches!(&types[0], DataType::Dictionary(_, v) if **v == DataType::Utf8),
            "{types:?}"
        );
        assert_eq!(types[0], types[1]);
        let batches: Vec<RecordBatch> = stream.map(|b| b.unwrap()).collect();
        for b in &batches {
            let keys = |name| {
                let column = b.column_by_name(name).unwrap();
                let keys = column.as_any_dictionary().keys().to_data();
                keys.buffers()[0].clone()
            };
            assert_eq!(keys(ROUTE), keys(METHOD), "seed {seed}");
        }

        let mut reader = Reader::open(&files[0].path).unwrap();
        let (mut routes, mut methods) = (Vec::new(), Vec::new());
        for b in reader.by_ref() {
            for row in 0..b.facts.len() {
                routes.push(
                    b.facts
                        .attr_string(&AttrRef::Item("http.route".into()), row),
                );
                methods.push(
                    b.facts
                        .attr_string(&AttrRef::Item("http.request.method".into()), row),
                );
            }
        }
        assert_eq!(reader.warning(), None);
        assert_eq!(routes, sent(&requests, "http.route"), "seed {seed}");
        assert_eq!(
            methods,
            sent(&requests, "http.request.method"),
            "seed {seed}"
        );
    }
}
