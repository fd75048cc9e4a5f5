//! The narrow columns as one key a row (`combined.rs`): messages of random requests read
//! back as the same facts as the layout without it, a message with more combinations than
//! the file's keys number starts a new file, and captures of it read back whole.

use std::collections::{HashMap, HashSet};

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{Span, Status};
use proptest::prelude::*;

use super::combined::{COMBINED, COMBINED_IN};
use super::layout::{Layout, Seen};
use super::*;
use crate::attr::kv;
use crate::slo::facts::{FactsSchema, SpanFacts};
use crate::slo::spec::AttrRef;

const T0: u64 = 1_800_000_000_000_000_000;

/// One span's fields that the narrow columns hold.
#[derive(Debug, Clone)]
struct Fields {
    kind: i32,
    status: i32,
    code: Option<i64>,
    method: Option<&'static str>,
    route: &'static str,
}

fn fields() -> impl Strategy<Value = Fields> {
    let methods = prop::sample::select(vec![
        None,
        Some("GET"),
        Some("POST"),
        Some(""),
        Some("A-METHOD-LONGER-THAN-THIRTY-TWO-BYTES"),
    ]);
    let codes = prop::sample::select(vec![None, Some(200), Some(404), Some(503), Some(-1)]);
    let routes = prop::sample::select(vec!["/cart", "/pay", "/items/{id}"]);
    (0..6i32, 0..3i32, codes, methods, routes).prop_map(|(kind, status, code, method, route)| {
        Fields {
            kind,
            status,
            code,
            method,
            route,
        }
    })
}

fn request(spans: &[Fields]) -> ExportTraceServiceRequest {
    let spans = spans
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut attributes = vec![kv("http.route", f.route)];
            if let Some(m) = f.method {
                attributes.push(kv("http.request.method", m));
            }
            if let Some(c) = f.code {
                attributes.push(kv("http.response.status_code", c));
            }
            Span {
                name: format!("span {}", i % 3),
                kind: f.kind,
                start_time_unix_nano: T0 - 1_000_000,
                end_time_unix_nano: T0 + i as u64,
                status: (f.status != 0).then(|| Status {
                    code: f.status,
                    ..Default::default()
                }),
                attributes,
                ..Default::default()
            }
        })
        .collect();
    crate::test_otlp::traces_request(Vec::new(), spans)
}

/// The capture's facts of `spans`, as the writer gets them.
fn item(spans: &[Fields]) -> Item {
    let mut schema = FactsSchema::default();
    for key in DEFAULT_COLUMNS {
        schema.add_any(AttrRef::Item(key.to_string()));
    }
    let facts = SpanFacts::build(&request(spans), None, "k8s.cluster.name", &schema);
    Item {
        batch: facts.batch,
        kind: Kind::Spans,
        received: T0,
        tenant: None,
        charged: 0,
    }
}

/// The layout of a file whose first message is `first`, with or without combined columns.
fn layout(first: &[Item], combine: bool) -> Layout {
    let mut seen = Seen::default();
    for item in first {
        seen.note(item);
    }
    let schema = first[0].batch.schema();
    Layout::laid_out(&schema, &seen, HashMap::new(), first, combine)
}

/// The layouts with and without combined columns of a file whose first message is `first`.
fn both(seen: &Seen, first: &[Item]) -> (Layout, Layout) {
    let schema = first[0].batch.schema();
    (
        Layout::laid_out(&schema, seen, HashMap::new(), first, true),
        Layout::laid_out(&schema, seen, HashMap::new(), first, false),
    )
}

/// A message read back as the facts' columns.
fn restored(batch: RecordBatch) -> RecordBatch {
    super::restore::restore(batch, &HashSet::new()).unwrap()
}

/// The names of the columns written as members of a combined column.
fn members(batch: &RecordBatch) -> Vec<String> {
    batch
        .schema()
        .fields()
        .iter()
        .filter(|f| f.metadata().contains_key(COMBINED_IN))
        .map(|f| f.name().clone())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Messages of random requests (laid out by the first) read back as the messages of
    /// the layout without combined columns do.
    #[test]
    fn combined_messages_read_back_as_the_layout_without_them(
        first in prop::collection::vec(fields(), 1..40),
        rest in prop::collection::vec(prop::collection::vec(fields(), 0..40), 0..3),
    ) {
        let mut messages = vec![item(&first)];
        messages.extend(rest.iter().map(|spans| item(spans)));
        // As the writer: a file laid out by its first message, a new one when a message
        // has values in a column written as `Null` or does not fit the narrow types.
        let mut seen = Seen::default();
        let mut files: Option<(Layout, Layout)> = None;
        for item in messages {
            let items = [item];
            let new_column = seen.note(&items[0]);
            let mut fresh = false;
            if new_column || files.is_none() {
                files = Some(both(&seen, &items));
                fresh = true;
            }
            let (new, old) = files.as_ref().unwrap();
            prop_assert!(!old.output.fields().iter().any(|f| f.name() == COMBINED));
            let (mut written, mut plain) = (new.message(&items).unwrap(), old.message(&items).unwrap());
            if written.is_none() || plain.is_none() {
                prop_assert!(!fresh);
                files = Some(both(&seen, &items));
                let (new, old) = files.as_ref().unwrap();
                (written, plain) = (new.message(&items).unwrap(), old.message(&items).unwrap());
            }
            let (a, b) = (restored(written.unwrap()), restored(plain.unwrap()));
            prop_assert_eq!(a.schema(), b.schema());
            for (x, y) in a.columns().iter().zip(b.columns()) {
                prop_assert_eq!(x.to_data(), y.to_data());
            }
        }
    }
}

fn span(kind: i32, status: i32, code: i64, method: &'static str) -> Fields {
    Fields {
        kind,
        status,
        code: Some(code),
        method: Some(method),
        route: "/cart",
    }
}

#[test]
fn kind_status_codes_and_methods_are_one_key_a_row() {
    let spans: Vec<Fields> = (0..64)
        .map(|i| span([1, 2, 3][i % 3], [0, 2][i % 2], [200, 503][i / 32], "GET"))
        .collect();
    let first = vec![item(&spans)];
    let batch = layout(&first, true).message(&first).unwrap().unwrap();
    let plain = layout(&first, false).message(&first).unwrap().unwrap();
    let mut names = members(&batch);
    names.sort();
    assert_eq!(
        names,
        [
            "attributes[\"http.request.method\"].str",
            "attributes[\"http.response.status_code\"].int",
            "attributes[\"http.route\"].str",
            "kind",
            "name",
            "status_code",
        ]
    );
    let combined = batch.column_by_name(COMBINED).unwrap();
    assert!(matches!(combined.data_type(), DataType::Dictionary(k, _) if **k == DataType::UInt8));
    // Three kinds (and names with them), two statuses (with the kind: six), two codes (by
    // half), one route and method: 12 combinations.
    assert_eq!(combined.as_any_dictionary().values().len(), 12);
    for name in names {
        assert_eq!(
            batch.column_by_name(&name).unwrap().data_type(),
            &DataType::Null
        );
    }
    assert_eq!(restored(batch), restored(plain));
}

#[test]
fn more_combinations_than_the_keys_number_is_a_new_file_not_a_wrong_one() {
    // A first message of four combinations; a later one of 6 × 3 × 20 = 360.
    let first: Vec<Fields> = (0..8)
        .map(|i| span(2, 0, [200, 404][i % 2], ["GET", "POST"][i / 4]))
        .collect();
    let first = vec![item(&first)];
    let file = layout(&first, true);
    assert!(file.output.fields().iter().any(|f| f.name() == COMBINED));
    let many: Vec<Fields> = (0..360i32)
        .map(|i| span(i % 6, (i / 6) % 3, 200 + i64::from(i / 18), "GET"))
        .collect();
    assert!(file.message(&[item(&many)]).unwrap().is_none());
    // Laid out by it, a file does not combine that many (63 at most in its first message).
    let mut seen = Seen::default();
    seen.note(&item(&many));
    let wide = Layout::new(
        &first[0].batch.schema(),
        &seen,
        HashMap::new(),
        &[item(&many)],
    );
    let batch = wide.message(&[item(&many)]).unwrap().unwrap();
    let combined = batch.column_by_name(COMBINED);
    assert!(combined.is_none_or(|c| c.as_any_dictionary().values().len() <= 63 * 4));
}

#[test]
fn a_combined_column_without_a_member_or_of_another_type_is_an_error() {
    let spans: Vec<Fields> = (0..16)
        .map(|i| span(2, i32::from(i % 2 == 0), 200, "GET"))
        .collect();
    let first = vec![item(&spans)];
    let batch = layout(&first, true).message(&first).unwrap().unwrap();
    let at = batch.schema().index_of(COMBINED).unwrap();
    // The combined column left out: its members cannot be read.
    let mut columns = batch.columns().to_vec();
    let mut fields: Vec<_> = batch.schema().fields().iter().cloned().collect();
    columns.remove(at);
    fields.remove(at);
    let without =
        RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), columns).unwrap();
    let e = super::restore::restore(without, &HashSet::new()).unwrap_err();
    assert!(e.to_string().contains("slotel.combined"), "{e}");
}

/// `tests/fixtures/capture/narrow-columns-layout/` holds the capture slotel wrote, before
/// the narrow columns were one key a row (`kind`, `status_code` and the status code's
/// `.int` narrowed, methods a dictionary, each its own column), of
/// `narrow-columns-layout-request.json` (48 spans of three resources: every kind, status
/// unset, ok and error, codes and methods missing from some; sent as OTLP/HTTP JSON to a
/// server without SLOs, with `columns: [resource.attributes["k8s.namespace.name"]]`).
#[test]
fn a_file_of_the_layout_before_combined_columns_reads_as_a_new_capture_of_the_same_spans() {
    use super::layout_tests::{fixture, reads_as_a_new_capture, request_of_fixture};
    let (schema, old) = fixture("narrow-columns-layout");
    assert!(schema.index_of(COMBINED).is_err());
    assert_eq!(
        schema.field_with_name("kind").unwrap().data_type(),
        &DataType::Int8
    );
    let request = request_of_fixture("narrow-columns-layout");
    let spans: Vec<&opentelemetry_proto::tonic::trace::v1::Span> = request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .collect();
    assert_eq!(old.facts.len(), 48);
    let batch = &old.facts.batch;
    let kinds: Vec<i32> = batch
        .column_by_name("kind")
        .unwrap()
        .as_primitive::<arrow_array::types::Int32Type>()
        .values()
        .to_vec();
    assert_eq!(kinds, spans.iter().map(|s| s.kind).collect::<Vec<_>>());
    let code = "attributes[\"http.response.status_code\"].int";
    let codes: Vec<Option<i64>> = batch
        .column_by_name(code)
        .unwrap()
        .as_primitive::<arrow_array::types::Int64Type>()
        .iter()
        .collect();
    let sent: Vec<Option<i64>> = spans
        .iter()
        .map(|s| {
            s.attributes
                .iter()
                .find(|a| a.key == "http.response.status_code")
                .and_then(|a| a.value.as_ref()?.value.as_ref())
                .map(|v| match v {
                    opentelemetry_proto::tonic::common::v1::any_value::Value::IntValue(i) => *i,
                    _ => panic!("codes are ints"),
                })
        })
        .collect();
    assert_eq!(codes, sent);
    assert!(codes.contains(&None));
    reads_as_a_new_capture(&old, &request);
    // The same spans captured now are written with the combined column.
    let tmp = tempfile::tempdir().unwrap();
    let capture = Capture::start(
        &super::tests::cfg(tmp.path(), 1 << 30, std::time::Duration::from_secs(3600)),
        super::tests::settings(),
    )
    .unwrap();
    super::tests::engine(&capture).record_spans_from(&request, None, None, None);
    capture.close();
    let files = list_files(tmp.path()).unwrap();
    let schema = super::layout_tests::file_schema(&files[0].path);
    let members: Vec<&str> = schema
        .fields()
        .iter()
        .filter(|f| f.metadata().contains_key(COMBINED_IN))
        .map(|f| f.name().as_str())
        .collect();
    assert!(
        members.contains(&"kind") && members.contains(&"status_code"),
        "{members:?}"
    );
    assert!(schema.index_of(COMBINED).is_ok());
}
