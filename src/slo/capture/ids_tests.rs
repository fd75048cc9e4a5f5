//! The string ids the receive walk numbers for a capture (`SpanFacts::string_ids`): the
//! dictionary keys made of them equal those of looking every row up, for the facts read on
//! the wire and for those built of a decoded request, on random requests.

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use super::DEFAULT_COLUMNS;
use super::dictionary::{NO_ID, encode};
use crate::attr::kv;
use crate::slo::facts::{FactsSchema, SpanFacts};
use crate::slo::spec::AttrRef;

/// A capture's schema: the default columns and `enduser.id`, strings numbered when
/// `numbered`.
fn schema(numbered: bool) -> FactsSchema {
    let mut schema = FactsSchema::default();
    for key in DEFAULT_COLUMNS.iter().chain(&["enduser.id"]) {
        schema.add_any(AttrRef::Item(key.to_string()));
    }
    if numbered {
        schema.number_strings();
    }
    schema
}

/// A random request: a few resources of spans whose names, routes and methods come from
/// small pools (names of every length up to 48 bytes), the attributes now and then
/// missing, an int, a bool or an empty string.
fn request(seed: u64) -> ExportTraceServiceRequest {
    let mut rng = fastrand::Rng::with_seed(seed);
    let names: Vec<String> = (0..1 + rng.usize(..40))
        .map(|i| {
            let len = rng.usize(..=48);
            let tail: String = (0..len).map(|_| char::from(rng.u8(b'a'..=b'c'))).collect();
            format!("{i}{tail}")
        })
        .collect();
    let routes = ["/", "/api/cart/items/{id}", "/api/v1/orders/{id}/items/list", ""];
    let methods = ["GET", "POST", "DELETE", "PUT"];
    let value = |rng: &mut fastrand::Rng, key: &str, pool: &[&str]| -> Option<KeyValue> {
        match rng.u8(..12) {
            0 => None,
            1 => Some(kv(key, rng.i64(..500))),
            2 => Some(kv(key, rng.bool())),
            _ => Some(kv(key, pool[rng.usize(..pool.len())].to_string())),
        }
    };
    let resources = (0..1 + rng.usize(..4))
        .map(|r| {
            let spans: Vec<Span> = (0..rng.usize(..300))
                .map(|_| {
                    let mut attributes: Vec<KeyValue> = [
                        value(&mut rng, "http.route", &routes),
                        value(&mut rng, "http.request.method", &methods),
                        value(&mut rng, "enduser.id", &["u1", "u2"]),
                    ]
                    .into_iter()
                    .flatten()
                    .collect();
                    attributes.push(kv("http.response.status_code", 200));
                    Span {
                        name: names[rng.usize(..names.len())].clone(),
                        kind: 2,
                        start_time_unix_nano: 1,
                        end_time_unix_nano: 2,
                        attributes,
                        ..Default::default()
                    }
                })
                .collect();
            crate::test_otlp::resource_spans(vec![kv("service.name", format!("s{r}"))], spans)
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: resources,
    }
}

/// Every numbered column of `facts` keyed by its ids equals it keyed row by row; the
/// numbered columns are the name and the `.str` columns that hold a value.
fn check(facts: &SpanFacts, seed: u64) {
    let batch: &RecordBatch = &facts.batch;
    let numbered: Vec<usize> = facts.string_ids.iter().map(|(c, _)| *c).collect();
    for (i, field) in batch.schema().fields().iter().enumerate() {
        let column = batch.column(i);
        let wanted = field.name() == "name"
            || field.name().ends_with(".str") && column.null_count() < column.len();
        assert_eq!(
            numbered.contains(&i),
            wanted && !field.name().starts_with("resource."),
            "seed {seed}: {}",
            field.name()
        );
    }
    for (i, ids) in &facts.string_ids {
        let column = batch.column(*i);
        assert_eq!(column.data_type(), &DataType::Utf8);
        let strings = column.as_string::<i32>();
        for (row, id) in ids.ids.iter().enumerate() {
            match strings.is_valid(row) {
                true => {
                    let first = ids.firsts[*id as usize] as usize;
                    assert_eq!(strings.value(first), strings.value(row));
                }
                false => assert_eq!(*id, NO_ID),
            }
        }
        let parts: [&dyn Array; 1] = [column.as_ref()];
        let want = encode(&parts, &[], column.len(), &DataType::Int32).unwrap();
        let got = encode(&parts, &[Some(ids.as_ref())], column.len(), &DataType::Int32).unwrap();
        let (want, got) = (want.unwrap().to_data(), got.unwrap().to_data());
        assert_eq!(want.buffers(), got.buffers(), "seed {seed}");
        assert_eq!(want.nulls(), got.nulls(), "seed {seed}");
        assert_eq!(want.child_data(), got.child_data(), "seed {seed}");
    }
}

#[test]
fn walk_numbered_strings_key_the_dictionaries_as_every_rows_look_up() {
    let (numbered, plain) = (schema(true), schema(false));
    for seed in 0..60 {
        let req = request(seed);
        let body = req.encode_to_vec();
        let walked = SpanFacts::from_wire(&body, None, "k8s.cluster.name", &numbered).unwrap();
        let built = SpanFacts::build(&req, None, "k8s.cluster.name", &numbered);
        assert_eq!(walked.batch, built.batch, "seed {seed}");
        check(&walked, seed);
        check(&built, seed);
        assert_eq!(walked.string_ids, built.string_ids, "seed {seed}");
        // Without a capture nothing is numbered, and the columns are the same.
        let unnumbered = SpanFacts::from_wire(&body, None, "k8s.cluster.name", &plain).unwrap();
        assert!(unnumbered.string_ids.is_empty());
        assert_eq!(unnumbered.batch, walked.batch, "seed {seed}");
    }
}

#[test]
fn a_slice_of_the_facts_has_no_ids() {
    let facts = SpanFacts::build(&request(3), None, "k8s.cluster.name", &schema(true));
    assert!(!facts.string_ids.is_empty());
    assert!(facts.slice(0, facts.len() / 2).string_ids.is_empty());
}
