//! String columns numbered by the walk against the plain path: each numbered column of a
//! request's facts (span names, the captured attributes' `.str` columns) numbers its rows
//! as a plain reading of the column does, and a capture message made with the numbers is
//! the message made without them, byte for byte, whatever the requests: more distinct
//! values than a request numbers, empty strings, values that differ only in their last
//! byte, rows without the attribute, requests without rows.

use std::collections::{HashMap, HashSet};

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use super::layout::{DICTIONARY_OF, Layout, Seen};
use super::restore::restore;
use super::*;
use crate::attr::kv;
use crate::slo::facts::numbered::{MOST, Numbered, PAD};

const T0: u64 = 1_800_000_000_000_000_000;

/// The schema of a capture with an extra column (`enduser.id`), as `Capture::start` makes
/// it.
fn capture_schema() -> FactsSchema {
    let mut schema = FactsSchema::default();
    for key in DEFAULT_COLUMNS {
        schema.add_any(AttrRef::Item(key.to_string()));
    }
    schema.add_any(AttrRef::Item("enduser.id".into()));
    schema
}

/// Spans named `names[i]` (cycled), with `http.route` `routes[i]` (cycled; `None`: without
/// it), a method, a status code (an int) and every fifth an `enduser.id`.
fn request(n: usize, names: &[String], routes: &[Option<String>]) -> ExportTraceServiceRequest {
    let spans = (0..n)
        .map(|i| {
            let mut attributes: Vec<KeyValue> = vec![
                kv("http.request.method", ["GET", "POST", ""][i % 3]),
                kv("http.response.status_code", 200 + (i % 4) as i64),
            ];
            if let Some(Some(route)) = routes.get(i % routes.len().max(1)) {
                attributes.push(kv("http.route", route.clone()));
            }
            if i % 5 == 0 {
                attributes.push(kv("enduser.id", format!("u{}", i % 11)));
            }
            Span {
                name: names[i % names.len()].clone(),
                kind: 2,
                start_time_unix_nano: T0 - 1_000_000,
                end_time_unix_nano: T0,
                attributes,
                ..Default::default()
            }
        })
        .collect();
    crate::test_otlp::traces_request(Vec::new(), spans)
}

/// The requests of the tests, each of one kind of values.
fn requests() -> Vec<ExportTraceServiceRequest> {
    let s = |v: &str| v.to_string();
    let routes = |n: usize| -> Vec<Option<String>> {
        (0..n).map(|i| Some(format!("/api/v1/items/{i}"))).collect()
    };
    // Values of every length up to 40 bytes, each beside one differing in its last byte.
    let last_byte: Vec<String> = (0..=40usize)
        .flat_map(|n| {
            let base: String = (0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
            let mut other = base.clone().into_bytes();
            if let Some(b) = other.last_mut() {
                *b = b'#';
            }
            [base, String::from_utf8(other).unwrap()]
        })
        .collect();
    let last_byte_routes: Vec<Option<String>> = last_byte.iter().cloned().map(Some).collect();
    vec![
        // No rows at all.
        request(0, &[s("GET")], &[None]),
        // A few names and routes, some spans without a route.
        request(
            512,
            &[s("GET /cart"), s("POST /api/v1/orders/{id}/items"), s("")],
            &[
                Some(s("/cart")),
                None,
                Some(s("")),
                Some(s("/a")),
                None,
                None,
            ],
        ),
        // More distinct routes than a request numbers: the routes plain, the rest numbered.
        request(600, &[s("GET /users/{id}")], &routes(MOST + 40)),
        // Exactly as many as it numbers.
        request(MOST * 2, &[s("x")], &routes(MOST)),
        // Values that differ only in their last byte, and empty strings.
        request(300, &last_byte, &last_byte_routes),
        // No span with a route: the column all null.
        request(40, &[s("GET"), s("GET"), s("PUT")], &[None]),
        // Long values (past 32 bytes) that share their first and last sixteen bytes.
        request(
            200,
            &(0..7)
                .map(|i| format!("GET /api/v1/orders/{i:04}/items/list/all"))
                .collect::<Vec<_>>(),
            &(0..9)
                .map(|i| Some(format!("/api/v2/catalogue/{i}/products/list/all")))
                .collect::<Vec<_>>(),
        ),
    ]
}

/// A string column's rows numbered the plain way: each value the order it first comes in,
/// a null row [`PAD`]; `None` past [`MOST`] values.
fn plain_numbers(column: &dyn Array) -> Option<Numbered> {
    let strings = column.as_string::<i32>();
    let mut seen: HashMap<&str, u8> = HashMap::new();
    let mut numbered = Numbered::default();
    for (row, value) in strings.iter().enumerate() {
        let key = match value {
            None => PAD,
            Some(v) => match seen.get(v) {
                Some(k) => *k,
                None if seen.len() == MOST => return None,
                None => {
                    let k = seen.len() as u8;
                    seen.insert(v, k);
                    numbered.firsts.push(row as u32);
                    k
                }
            },
        };
        numbered.keys.push(key);
    }
    Some(numbered)
}

/// The facts of `req` for a capture, read from the decoded request and from its bytes.
fn facts_of(req: &ExportTraceServiceRequest) -> [SpanFacts; 2] {
    let schema = capture_schema();
    let decoded = SpanFacts::build(req, None, "k8s.cluster.name", &schema);
    let body = req.encode_to_vec();
    let wire = SpanFacts::from_wire(&body, None, "k8s.cluster.name", &schema).unwrap();
    [decoded, wire]
}

#[test]
fn numbered_columns_number_their_rows_as_a_plain_reading_does() {
    for (r, req) in requests().iter().enumerate() {
        for facts in facts_of(req) {
            let schema = facts.batch.schema();
            let mut numbered = HashSet::new();
            for (i, field) in schema.fields().iter().enumerate() {
                let is_str = field.name() == "name" || field.name().ends_with(".str");
                let Some(walked) = facts.numbering(i) else {
                    continue;
                };
                assert!(is_str, "request {r}: {} numbered", field.name());
                numbered.insert(field.name().clone());
                assert_eq!(
                    Some(walked),
                    plain_numbers(facts.batch.column(i)).as_ref(),
                    "request {r}, column {}",
                    field.name()
                );
            }
            // Span names are numbered whatever the request; a `.str` column only when a
            // string came and it numbers them all.
            assert!(numbered.contains("name"), "request {r}");
            let route = facts
                .batch
                .column_by_name("attributes[\"http.route\"].str")
                .unwrap();
            let numbers_routes =
                route.null_count() < route.len() && plain_numbers(route.as_ref()).is_some();
            assert_eq!(
                numbered.contains("attributes[\"http.route\"].str"),
                numbers_routes,
                "request {r}"
            );
        }
    }
}

#[test]
fn facts_without_a_capture_number_nothing() {
    let mut schema = FactsSchema::default();
    schema.add_group_by(&AttrRef::Item("http.route".into()));
    let req = &requests()[1];
    let facts = SpanFacts::build(req, None, "k8s.cluster.name", &schema);
    assert!((0..facts.batch.num_columns()).all(|i| facts.numbering(i).is_none()));
}

/// A batch as the bytes of an Arrow IPC stream.
fn ipc_bytes(batch: &RecordBatch) -> Vec<u8> {
    let mut out = Vec::new();
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut out, &batch.schema()).unwrap();
    writer.write(batch).unwrap();
    writer.finish().unwrap();
    drop(writer);
    out
}

/// Whether no column `batch` writes as a dictionary for plain strings holds a value twice.
fn repeats_no_value(batch: &RecordBatch) -> bool {
    let schema = batch.schema();
    schema
        .fields()
        .iter()
        .zip(batch.columns())
        .all(|(f, c)| match c.as_any_dictionary_opt() {
            Some(dict) if f.metadata().contains_key(DICTIONARY_OF) => {
                let values = dict.values().as_string::<i32>();
                values.iter().collect::<HashSet<_>>().len() == values.len()
            }
            _ => true,
        })
}

fn item(facts: &SpanFacts, numbered: bool, received: u64) -> Item {
    Item {
        batch: facts.batch.clone(),
        logs: false,
        received,
        tenant: None,
        numbered: match numbered {
            true => facts.numberings().clone(),
            false => Default::default(),
        },
    }
}

#[test]
fn messages_made_with_the_numbers_are_those_made_without_them_byte_for_byte() {
    let requests = requests();
    // Each request alone, and all of them (in two orders) in one message, for each way
    // of reading them; numbered and not mixed in one message too.
    for way in 0..2 {
        let facts: Vec<SpanFacts> = requests
            .iter()
            .map(|req| facts_of(req)[way].clone())
            .collect();
        let mut sets: Vec<Vec<usize>> = (0..facts.len()).map(|i| vec![i]).collect();
        sets.push((0..facts.len()).collect());
        sets.push((0..facts.len()).rev().collect());
        for set in sets {
            for first in [set.clone(), vec![set[0]], vec![1]] {
                let items = |numbered: &dyn Fn(usize) -> bool| -> Vec<Item> {
                    set.iter()
                        .map(|i| item(&facts[*i], numbered(*i), T0 + *i as u64))
                        .collect()
                };
                let plain = items(&|_| false);
                let mut seen = Seen::default();
                for item in &plain {
                    seen.note(item);
                }
                let firsts: Vec<Item> = first
                    .iter()
                    .map(|i| item(&facts[*i], false, T0 + *i as u64))
                    .collect();
                let schema = facts[set[0]].batch.schema();
                let layout = Layout::new(&schema, &seen, Default::default(), &firsts);
                let want = layout.message(&plain).unwrap();
                for numbered in
                    [&|_| true as bool, &|i: usize| i % 2 == 0] as [&dyn Fn(usize) -> bool; 2]
                {
                    let got = layout.message(&items(numbered)).unwrap();
                    let at = format!("way {way}, requests {set:?}, first {first:?}");
                    match (&want, &got) {
                        (Some(want), Some(got)) if repeats_no_value(want) => {
                            assert_eq!(ipc_bytes(got), ipc_bytes(want), "{at}")
                        }
                        // The plain path's table left a value out (strings made to
                        // collide past its probes) and added it again for each row; the
                        // numbered path once a request: the same strings.
                        (Some(want), Some(got)) => assert_eq!(
                            restore(got.clone(), &HashSet::new()).unwrap(),
                            restore(want.clone(), &HashSet::new()).unwrap(),
                            "{at}"
                        ),
                        (None, None) => {}
                        _ => panic!("{at}: {want:?} against {got:?}"),
                    }
                }
            }
        }
    }
}
