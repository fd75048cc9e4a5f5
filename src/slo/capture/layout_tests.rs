//! The file layout: columns without values written as `Null` and read back as typed
//! nulls, a new file when such a column gets a value, repeated strings written as
//! dictionaries and read back as plain strings, and files of the earlier layouts (every
//! typed column written in full, strings plain; dictionaries of `Int32` keys, times as
//! plain `UInt64`) still read.

use std::sync::Arc;
use std::time::Duration;

use crate::attr::kv;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};

use super::halves::{HIGH_FROM, SPLIT_OF};
use super::layout::{DICTIONARY_OF, NULL_OF};
use super::tests::{engine, read_back_in_every_way, settings};
use super::*;

const T0: u64 = 1_800_000_000_000_000_000;

/// The shared test capture: rotation and retention far off, 1 GiB of disk.
fn cfg(dir: &Path) -> CaptureConfig {
    super::tests::cfg(dir, 1 << 30, Duration::from_secs(3600))
}

/// `n` server spans with a string `http.route`, and `http.response.status_code` (an int)
/// when `status` is given.
fn spans(n: usize, status: Option<i64>) -> ExportTraceServiceRequest {
    use opentelemetry_proto::tonic::trace::v1::Span;
    let spans = (0..n)
        .map(|i| {
            let mut attributes = vec![kv("http.route", format!("/r{}", i % 7))];
            if let Some(code) = status {
                attributes.push(kv("http.response.status_code", code));
            }
            Span {
                name: "GET".into(),
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

/// The schema a file states, read with Arrow alone.
fn file_schema(path: &Path) -> Arc<Schema> {
    let bytes = std::fs::read(path).unwrap();
    arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
        .unwrap()
        .schema()
}

pub(super) fn field<'a>(schema: &'a Schema, name: &str) -> &'a Field {
    schema
        .field_with_name(name)
        .unwrap_or_else(|_| panic!("no {name} in {schema:#?}"))
}

fn ints(column: &ArrayRef) -> Vec<Option<i64>> {
    column.as_primitive::<Int64Type>().iter().collect()
}

fn strings(column: &ArrayRef) -> Vec<Option<&str>> {
    column.as_string::<i32>().iter().collect()
}

#[test]
fn columns_without_values_take_no_buffers_and_read_back_as_typed_nulls() {
    let dir = tempfile::tempdir().unwrap();
    let capture = Capture::start(&cfg(dir.path()), settings()).unwrap();
    engine(&capture).record_spans_from(&spans(20, None), None, None, None);
    capture.close();
    let files = list_files(dir.path()).unwrap();
    assert_eq!(files.len(), 1);

    let schema = file_schema(&files[0].path);
    // Seven routes over twenty spans: a dictionary of strings, keys as narrow as they fit.
    let route = field(&schema, r#"attributes["http.route"].str"#);
    assert_eq!(
        route.data_type(),
        &DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8))
    );
    assert_eq!(
        route.metadata().get(DICTIONARY_OF).map(String::as_str),
        Some("Utf8")
    );
    for (name, stands_for) in [
        (r#"attributes["http.route"].int"#, "Int64"),
        (
            r#"attributes["http.response.status_code"].float"#,
            "Float64",
        ),
        (r#"attributes["http.request.method"].bool"#, "Boolean"),
        (TENANT, "Dictionary(Int32, Utf8)"),
    ] {
        let f = field(&schema, name);
        assert_eq!(f.data_type(), &DataType::Null, "{name}");
        assert_eq!(
            f.metadata().get(NULL_OF).map(String::as_str),
            Some(stands_for)
        );
    }
    assert!(
        schema
            .field_with_name(crate::slo::facts::ADJUSTED_COUNT)
            .is_err()
    );

    // Read back: every column a condition may read, the empty ones null in every row.
    let read: Vec<CapturedBatch> = Reader::open(&files[0].path).unwrap().collect();
    assert_eq!(read.len(), 1);
    let b = &read[0];
    read_back_in_every_way(b);
    let status = b
        .facts
        .attr_columns(&AttrRef::Item("http.response.status_code".into()))
        .unwrap();
    let int = status.int.as_ref().unwrap();
    assert_eq!((int.len(), int.null_count()), (20, 20));
    assert_eq!(int.data_type(), &DataType::Int64);
    assert_eq!(
        b.facts
            .attr_str(&AttrRef::Item("http.route".into()), 3)
            .as_deref(),
        Some("/r3")
    );
    assert_eq!(
        b.facts
            .attr_str(&AttrRef::Resource("k8s.namespace.name".into()), 3),
        None
    );
    let tenant = b.facts.batch.column_by_name(TENANT).unwrap();
    assert_eq!(tenant.null_count(), 20);
    assert!(tenant.as_dictionary_opt::<Int32Type>().is_some());
}

#[test]
fn a_value_in_a_column_written_as_null_starts_a_new_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let capture = Capture::start(&cfg(dir.path()), settings()).unwrap();
    let engine = engine(&capture);
    // A whole message: written at once, its columns fixed.
    engine.record_spans_from(&spans(8192, None), None, None, None);
    engine.record_spans_from(&spans(10, Some(503)), None, None, None);
    engine.record_spans_from(&spans(10, None), None, None, None);
    engine.record_spans_from(&spans(10, Some(200)), None, None, None);
    capture.close();
    let files = list_files(dir.path()).unwrap();
    assert_eq!(files.len(), 2, "{files:?}");
    let status = r#"attributes["http.response.status_code"].int"#;
    assert_eq!(
        field(&file_schema(&files[0].path), status).data_type(),
        &DataType::Null
    );
    // Status codes: as narrow as the values allow.
    assert_eq!(
        field(&file_schema(&files[1].path), status).data_type(),
        &DataType::Int16
    );
    let mut codes = Vec::new();
    for f in &files {
        let mut reader = Reader::open(&f.path).unwrap();
        for b in reader.by_ref() {
            let c = b.facts.batch.column_by_name(status).unwrap();
            codes.extend(ints(c));
        }
        assert_eq!(reader.warning(), None);
    }
    let mut want = vec![None; 8192];
    want.extend([Some(503); 10]);
    want.extend([None; 10]);
    want.extend([Some(200); 10]);
    assert_eq!(codes, want);
    assert_eq!(
        capture
            .counters()
            .spans
            .load(std::sync::atomic::Ordering::Relaxed),
        8222
    );
}

/// HTTP server spans as the semantic conventions name them (`{method} {route}`), each with
/// its `http.route`, `http.request.method` and a user id of its own (`enduser.id`).
fn http_spans(first: usize, n: usize) -> ExportTraceServiceRequest {
    let routes = [
        ("GET", "/api/orders/{id}"),
        ("POST", "/api/checkout"),
        ("GET", "/api/products"),
        ("DELETE", "/api/cart/items/{id}"),
    ];
    let mut req = spans(n, Some(200));
    let spans = &mut req.resource_spans[0].scope_spans[0].spans;
    for (i, span) in (first..).zip(spans.iter_mut()) {
        let (method, route) = routes[i % routes.len()];
        span.name = format!("{method} {route}");
        span.attributes = vec![
            kv("http.route", route),
            kv("http.request.method", method),
            kv("enduser.id", format!("user-{i:05}")),
        ];
    }
    req
}

#[test]
fn repeated_strings_are_dictionaries_in_the_file_and_read_back_as_the_strings_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = cfg(dir.path());
    config.columns.push(AttrRef::Item("enduser.id".into()));
    let capture = Capture::start(&config, settings()).unwrap();
    let engine = engine(&capture);
    // Two requests, gathered into one message.
    let requests = [http_spans(0, 150), http_spans(150, 90)];
    for req in &requests {
        engine.record_spans_from(req, None, None, None);
    }
    capture.close();
    let files = list_files(dir.path()).unwrap();
    assert_eq!(files.len(), 1);

    let schema = file_schema(&files[0].path);
    let dictionary = DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8));
    for name in [
        "name",
        r#"attributes["http.route"].str"#,
        r#"attributes["http.request.method"].str"#,
    ] {
        let f = field(&schema, name);
        assert_eq!(f.data_type(), &dictionary, "{name}");
        assert_eq!(
            f.metadata().get(DICTIONARY_OF).map(String::as_str),
            Some("Utf8")
        );
    }
    // A value per span: a dictionary would only add its keys.
    let user = field(&schema, r#"attributes["enduser.id"].str"#);
    assert_eq!(user.data_type(), &DataType::Utf8);

    // Read back: the strings as sent, in plain string columns (both requests were
    // received at the test clock's one time: one run of rows).
    let mut reader = Reader::open(&files[0].path).unwrap();
    let read: Vec<CapturedBatch> = reader.by_ref().collect();
    assert_eq!(reader.warning(), None);
    assert_eq!(read.len(), 1);
    let f = &read[0].facts;
    let sent: Vec<_> = requests
        .iter()
        .flat_map(|r| &r.resource_spans[0].scope_spans[0].spans)
        .collect();
    assert_eq!(f.len(), sent.len());
    assert_eq!(f.name_column().unwrap().data_type(), &DataType::Utf8);
    let names = f.name_column().unwrap().as_string::<i32>();
    for (row, span) in sent.iter().enumerate() {
        assert_eq!(names.value(row), span.name);
        let attr = |key: &str| f.attr_string(&AttrRef::Item(key.into()), row);
        let value = |i: usize| match &span.attributes[i].value {
            Some(AnyValue {
                value: Some(any_value::Value::StringValue(s)),
            }) => Some(s.clone()),
            _ => None,
        };
        assert_eq!(attr("http.route"), value(0));
        assert_eq!(attr("http.request.method"), value(1));
        assert_eq!(attr("enduser.id"), value(2));
    }
}

/// `n` server spans, span `i` named and routed `/items/{i % routes}`, ending `i` times
/// 1.1 s after `T0`, lasting `i` times 0.9 s (past 2^32 ns from the fifth span on).
fn routed_spans(n: usize, routes: usize) -> ExportTraceServiceRequest {
    let mut req = spans(n, Some(200));
    let spans = &mut req.resource_spans[0].scope_spans[0].spans;
    for (i, span) in spans.iter_mut().enumerate() {
        let route = format!("/items/{}", i % routes);
        span.name = format!("GET {route}");
        span.attributes = vec![kv("http.route", route)];
        span.end_time_unix_nano = T0 + i as u64 * 1_100_000_000;
        span.start_time_unix_nano = span.end_time_unix_nano - i as u64 * 900_000_000;
    }
    req
}

#[test]
fn times_are_written_as_two_halves_and_read_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let capture = Capture::start(&cfg(dir.path()), settings()).unwrap();
    let req = routed_spans(40, 4);
    engine(&capture).record_spans_from(&req, None, None, None);
    capture.close();
    let files = list_files(dir.path()).unwrap();
    assert_eq!(files.len(), 1);
    let schema = file_schema(&files[0].path);
    // High halves in one byte: the durations' (up to 35 s) as they are, the end times'
    // (up to 43 s after the receipt) as differences from the receipt time's.
    let halves = DataType::Struct(
        vec![
            Field::new("high", DataType::Int8, false),
            Field::new("low", DataType::UInt32, false),
        ]
        .into(),
    );
    for (name, from) in [
        ("end_time_unix_nano", Some(RECEIVED)),
        ("duration_nanos", None),
    ] {
        let f = field(&schema, name);
        assert_eq!(f.data_type(), &halves, "{name}");
        assert_eq!(
            f.metadata().get(SPLIT_OF).map(String::as_str),
            Some("UInt64")
        );
        assert_eq!(
            f.metadata().get(HIGH_FROM).map(String::as_str),
            from,
            "{name}"
        );
    }
    // Arrow alone sees the halves: (high + the receipt's high) << 32 | low is the time
    // sent (every span of the request was received at `T0`).
    let bytes = std::fs::read(&files[0].path).unwrap();
    let batch = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let end = batch
        .column_by_name("end_time_unix_nano")
        .unwrap()
        .as_struct();
    let high = end
        .column_by_name("high")
        .unwrap()
        .as_primitive::<arrow_array::types::Int8Type>()
        .value(39);
    let low = end
        .column_by_name("low")
        .unwrap()
        .as_primitive::<arrow_array::types::UInt32Type>()
        .value(39);
    let sent = &req.resource_spans[0].scope_spans[0].spans;
    let high = (T0 >> 32) as i64 + i64::from(high);
    assert_eq!(
        (high as u64) << 32 | u64::from(low),
        sent[39].end_time_unix_nano
    );

    let read: Vec<CapturedBatch> = Reader::open(&files[0].path).unwrap().collect();
    assert_eq!(read.len(), 1);
    let f = &read[0].facts;
    let want_end: Vec<u64> = sent.iter().map(|s| s.end_time_unix_nano).collect();
    let want_duration: Vec<u64> = sent
        .iter()
        .map(|s| s.end_time_unix_nano - s.start_time_unix_nano)
        .collect();
    assert_eq!(f.end_time_unix_nano(), &want_end[..]);
    assert_eq!(f.duration_nanos(), &want_duration[..]);
    assert!(want_duration[39] > 1 << 32);
}

#[test]
fn more_distinct_strings_than_a_files_keys_number_start_a_file_with_wider_keys() {
    let dir = tempfile::tempdir().unwrap();
    let capture = Capture::start(&cfg(dir.path()), settings()).unwrap();
    let engine = engine(&capture);
    // A first message with four routes: `Int8` keys. Then 300 routes in one message: more
    // than `Int8` keys number.
    let requests = [routed_spans(8192, 4), routed_spans(1200, 300)];
    for req in &requests {
        engine.record_spans_from(req, None, None, None);
    }
    capture.close();
    let files = list_files(dir.path()).unwrap();
    assert_eq!(files.len(), 2, "{files:?}");
    let route = r#"attributes["http.route"].str"#;
    let key = |path: &Path| match field(&file_schema(path), route).data_type() {
        DataType::Dictionary(k, _) => (**k).clone(),
        other => panic!("{other}"),
    };
    assert_eq!(key(&files[0].path), DataType::Int8);
    assert_eq!(key(&files[1].path), DataType::Int16);
    let mut routes = Vec::new();
    for f in &files {
        let mut reader = Reader::open(&f.path).unwrap();
        for b in reader.by_ref() {
            for row in 0..b.facts.len() {
                routes.push(
                    b.facts
                        .attr_string(&AttrRef::Item("http.route".into()), row),
                );
            }
        }
        assert_eq!(reader.warning(), None);
    }
    let sent: Vec<Option<String>> = requests
        .iter()
        .flat_map(|r| &r.resource_spans[0].scope_spans[0].spans)
        .map(|s| match &s.attributes[0].value {
            Some(AnyValue {
                value: Some(any_value::Value::StringValue(s)),
            }) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(routes, sent);
    assert_eq!(
        capture
            .counters()
            .spans
            .load(std::sync::atomic::Ordering::Relaxed),
        9392
    );
}

/// The request `tests/fixtures/capture/<name>-request.json`.
pub(super) fn request_of_fixture(name: &str) -> ExportTraceServiceRequest {
    let path = format!(
        "{}/tests/fixtures/capture/{name}-request.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let json = std::fs::read(path).unwrap();
    crate::receiver::otlp::decode(&json, crate::receiver::otlp::Format::Json).unwrap()
}

/// The one capture file of `tests/fixtures/capture/<name>/`, its schema as stated, and its
/// one request read back.
pub(super) fn fixture(name: &str) -> (Arc<Schema>, CapturedBatch) {
    let dir = format!(
        "{}/tests/fixtures/capture/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let files = list_files(Path::new(&dir)).unwrap();
    assert_eq!(files.len(), 1);
    let mut reader = Reader::open(&files[0].path).unwrap();
    let read: Vec<CapturedBatch> = reader.by_ref().collect();
    assert_eq!(reader.warning(), None);
    assert_eq!(read.len(), 1);
    (
        file_schema(&files[0].path),
        read.into_iter().next().unwrap(),
    )
}

/// `old` (a fixture read back) has the columns and values of the same spans captured now.
pub(super) fn reads_as_a_new_capture(old: &CapturedBatch, request: &ExportTraceServiceRequest) {
    let tmp = tempfile::tempdir().unwrap();
    let capture = Capture::start(&cfg(tmp.path()), settings()).unwrap();
    engine(&capture).record_spans_from(request, None, None, None);
    capture.close();
    let files = list_files(tmp.path()).unwrap();
    let new: Vec<CapturedBatch> = Reader::open(&files[0].path).unwrap().collect();
    assert_eq!(new.len(), 1);
    let new = &new[0];
    assert_eq!(new.columns, old.columns);
    let (old_schema, new_schema) = (old.facts.batch.schema(), new.facts.batch.schema());
    for field in old_schema.fields() {
        if field.name() == RECEIVED || field.name() == crate::slo::facts::ADJUSTED_COUNT {
            continue;
        }
        let at = new_schema.index_of(field.name()).unwrap();
        assert_eq!(
            new_schema.field(at).data_type(),
            field.data_type(),
            "{}",
            field.name()
        );
        // Logical equality: values and nulls (not what null slots hold).
        assert_eq!(
            new.facts.batch.column(at).to_data(),
            old.facts
                .batch
                .column_by_name(field.name())
                .unwrap()
                .to_data(),
            "{}",
            field.name()
        );
    }
}

/// `tests/fixtures/capture/previous-layout/` holds the capture slotel wrote, before files
/// left out the columns without values, of `previous-layout-request.json` (sent as
/// OTLP/HTTP JSON to a server with `columns: [resource.attributes["k8s.namespace.name"]]`).
#[test]
fn a_file_of_the_previous_layout_reads_as_before_and_as_a_new_capture_of_the_same_spans() {
    let (schema, old) = fixture("previous-layout");
    assert!(
        schema
            .fields()
            .iter()
            .all(|f| f.data_type() != &DataType::Null)
    );

    // What the request says, column by column.
    let f = &old.facts;
    assert_eq!(f.len(), 3);
    assert_eq!(f.service(0), "checkout");
    assert_eq!(
        f.duration_nanos(),
        &[250_000_000, 1_500_000_000, 100_000_000]
    );
    let status_code = f.status_column().unwrap().as_primitive::<Int32Type>();
    assert_eq!(status_code.values(), &[0, 2, 0]);
    let code = f
        .attr_columns(&AttrRef::Item("http.response.status_code".into()))
        .unwrap();
    assert_eq!(
        ints(code.int.as_ref().unwrap()),
        [Some(200), Some(503), None]
    );
    let float: Vec<_> = code
        .float
        .as_ref()
        .unwrap()
        .as_primitive::<Float64Type>()
        .iter()
        .collect();
    assert_eq!(float, [None, None, Some(404.5)]);
    let method = f
        .attr_columns(&AttrRef::Item("http.request.method".into()))
        .unwrap();
    let bools: Vec<_> = method.bool.as_ref().unwrap().as_boolean().iter().collect();
    assert_eq!(bools, [None, None, Some(true)]);
    assert_eq!(
        f.attr_str(&AttrRef::Item("http.route".into()), 1)
            .as_deref(),
        Some("/checkout")
    );
    assert_eq!(f.attr_str(&AttrRef::Item("http.route".into()), 2), None);
    assert_eq!(
        f.attr_str(&AttrRef::Resource("k8s.namespace.name".into()), 2)
            .as_deref(),
        Some("shop")
    );
    assert_eq!(f.adjusted_counts(), None);

    reads_as_a_new_capture(&old, &request_of_fixture("previous-layout"));
}

/// `tests/fixtures/capture/dictionary-layout/` holds the capture slotel wrote, with
/// repeated strings as dictionaries of `Int32` keys and times as plain `UInt64` columns,
/// of `dictionary-layout-request.json` (sent as the previous layout's was).
#[test]
fn a_file_of_the_int32_dictionary_layout_reads_as_a_new_capture_of_the_same_spans() {
    let (schema, old) = fixture("dictionary-layout");
    let int32_strings = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    for name in ["name", r#"attributes["http.route"].str"#] {
        assert_eq!(field(&schema, name).data_type(), &int32_strings, "{name}");
    }
    assert_eq!(
        field(&schema, "end_time_unix_nano").data_type(),
        &DataType::UInt64
    );

    has_the_dictionary_layout_requests_facts(&old.facts);
    reads_as_a_new_capture(&old, &request_of_fixture("dictionary-layout"));
}

/// What `dictionary-layout-request.json` says, column by column.
fn has_the_dictionary_layout_requests_facts(f: &crate::slo::facts::SpanFacts) {
    assert_eq!(f.len(), 6);
    assert_eq!(
        f.end_time_unix_nano(),
        &[
            1_800_000_000_250_000_000,
            1_800_000_001_500_000_000,
            1_800_000_000_200_000_000,
            1_800_000_000_300_000_000,
            1_800_000_000_410_000_000,
            1_800_000_004_500_000_000
        ]
    );
    // Past 2^32 ns: both halves of a split time matter.
    assert_eq!(f.duration_nanos()[5], 4_500_000_000);
    let names = f.name_column().unwrap().as_string::<i32>();
    let names: Vec<&str> = names.iter().flatten().collect();
    assert_eq!(
        names,
        [
            "GET /cart",
            "POST /checkout",
            "charge",
            "GET /cart",
            "GET /cart",
            "GET /cart"
        ]
    );
    let kinds = f.kind_column().unwrap().as_primitive::<Int32Type>();
    assert_eq!(kinds.values(), &[2, 2, 3, 2, 2, 2]);
    let status = f.status_column().unwrap().as_primitive::<Int32Type>();
    assert_eq!(status.values(), &[0, 2, 0, 0, 0, 2]);
    let code = f
        .attr_columns(&AttrRef::Item("http.response.status_code".into()))
        .unwrap();
    assert_eq!(
        ints(code.int.as_ref().unwrap()),
        [Some(200), Some(503), None, Some(200), Some(200), Some(500)]
    );
    // Values that are not strings, rendered: the integers and the double.
    assert_eq!(
        strings(code.other.as_ref().unwrap()),
        [
            Some("200"),
            Some("503"),
            Some("404.5"),
            Some("200"),
            Some("200"),
            Some("500")
        ]
    );
    let method = f
        .attr_columns(&AttrRef::Item("http.request.method".into()))
        .unwrap();
    assert_eq!(
        strings(method.other.as_ref().unwrap()),
        [None, None, Some("true"), None, None, None]
    );
    assert_eq!(
        f.attr_str(&AttrRef::Item("http.route".into()), 4)
            .as_deref(),
        Some("/cart")
    );
    assert_eq!(f.attr_str(&AttrRef::Item("http.route".into()), 2), None);
}

/// `tests/fixtures/capture/narrow-keys-layout/` holds the capture slotel wrote, with
/// dictionary keys as narrow as the values allowed and times as their two 32-bit halves
/// (`kind`, `status_code` and integers still in their own types, the receipt times a
/// `UInt64` a row), of `dictionary-layout-request.json` (sent as the previous layouts'
/// were).
#[test]
fn a_file_of_the_narrow_keys_layout_reads_as_a_new_capture_of_the_same_spans() {
    let (schema, old) = fixture("narrow-keys-layout");
    let int8_strings = DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8));
    for name in ["name", r#"attributes["http.route"].str"#] {
        assert_eq!(field(&schema, name).data_type(), &int8_strings, "{name}");
    }
    assert!(matches!(
        field(&schema, "end_time_unix_nano").data_type(),
        DataType::Struct(_)
    ));
    for (name, ty) in [
        ("kind", DataType::Int32),
        (
            r#"attributes["http.response.status_code"].int"#,
            DataType::Int64,
        ),
        (RECEIVED, DataType::UInt64),
    ] {
        assert_eq!(field(&schema, name).data_type(), &ty, "{name}");
    }
    has_the_dictionary_layout_requests_facts(&old.facts);
    reads_as_a_new_capture(&old, &request_of_fixture("dictionary-layout"));
}

/// A capture file whose `Null` column claims a type no capture column has.
fn file_with_null_of(dir: &Path, stands_for: &str) -> PathBuf {
    let schema = Arc::new(Schema::new(vec![
        Field::new("end_time_unix_nano", DataType::UInt64, false),
        Field::new(r#"attributes["k"].str"#, DataType::Null, true).with_metadata(
            std::collections::HashMap::from([(NULL_OF.to_string(), stands_for.to_string())]),
        ),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(arrow_array::UInt64Array::from(vec![1u64; 4])),
            Arc::new(arrow_array::NullArray::new(4)),
        ],
    )
    .unwrap();
    write_file(dir.join("facts-00000000000000000001-000001.arrows"), &batch)
}

/// `batch` written as an Arrow IPC stream at `path`, as a capture file is.
fn write_file(path: PathBuf, batch: &RecordBatch) -> PathBuf {
    let file = std::fs::File::create(&path).unwrap();
    let mut w = arrow_ipc::writer::StreamWriter::try_new(file, &batch.schema()).unwrap();
    w.write(batch).unwrap();
    w.finish().unwrap();
    path
}

/// A capture file whose dictionary column claims to stand for a column of integers.
fn file_with_dictionary_of(dir: &Path, stands_for: &str) -> PathBuf {
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let schema = Arc::new(Schema::new(vec![
        Field::new("end_time_unix_nano", DataType::UInt64, false),
        Field::new(r#"attributes["k"].str"#, dictionary, true).with_metadata(
            std::collections::HashMap::from([(DICTIONARY_OF.to_string(), stands_for.to_string())]),
        ),
    ]));
    let keys = arrow_array::Int32Array::from(vec![0, 1, 0, 1]);
    let values = Arc::new(arrow_array::StringArray::from(vec!["1", "2"]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(arrow_array::UInt64Array::from(vec![1u64; 4])),
            Arc::new(arrow_array::DictionaryArray::<Int32Type>::new(keys, values)),
        ],
    )
    .unwrap();
    write_file(dir.join("facts-00000000000000000002-000001.arrows"), &batch)
}

#[test]
fn a_dictionary_standing_for_other_than_strings_is_a_located_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut reader = Reader::open(&file_with_dictionary_of(dir.path(), "Int64")).unwrap();
    assert_eq!(reader.by_ref().count(), 0);
    let warning = reader.warning().unwrap();
    assert!(
        warning.contains("batch 0") && warning.contains(r#"attributes[\"k\"].str"#),
        "{warning}"
    );
}

#[test]
fn a_null_column_standing_for_an_unknown_type_is_a_located_warning() {
    let dir = tempfile::tempdir().unwrap();
    for stands_for in ["FixedSizeBinary(2147483647)", "List(Int64)", "no type"] {
        let path = file_with_null_of(dir.path(), stands_for);
        let mut reader = Reader::open(&path).unwrap();
        assert_eq!(reader.by_ref().count(), 0);
        let warning = reader.warning().unwrap();
        assert!(
            warning.contains("batch 0") && warning.contains(r#"attributes[\"k\"].str"#),
            "{warning}"
        );
    }
}

#[test]
fn files_written_by_arrows_own_stream_writer_read_back_as_the_writers_do() {
    // Until the writer compressed the buffers itself, capture files were written by
    // Arrow's `StreamWriter` (zstd level −5): the same messages written so read back
    // the same facts, receipt times and settings.
    let dir = tempfile::tempdir().unwrap();
    let capture = Capture::start(&cfg(dir.path()), settings()).unwrap();
    let engine = engine(&capture);
    engine.record_spans_from(&http_spans(0, 5000), None, None, None);
    engine.record_spans_from(&spans(4000, Some(503)), None, None, None);
    engine.record_spans_from(&http_spans(5000, 300), None, None, None);
    capture.close();
    let files = list_files(dir.path()).unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    let ours = &files[0].path;
    let bytes = std::fs::read(ours).unwrap();
    let reader =
        arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None).unwrap();
    let schema = reader.schema();
    let options = arrow_ipc::writer::IpcWriteOptions::default()
        .try_with_compression(Some(arrow_ipc::CompressionType::ZSTD))
        .and_then(|o| o.try_with_compression_level(Some(-5)))
        .unwrap();
    let arrows = dir.path().join("arrow.bin");
    let file = std::fs::File::create(&arrows).unwrap();
    let mut w =
        arrow_ipc::writer::StreamWriter::try_new_with_options(file, &schema, options).unwrap();
    let mut messages = 0;
    for batch in reader {
        w.write(&batch.unwrap()).unwrap();
        messages += 1;
    }
    w.finish().unwrap();
    assert!(messages >= 2, "{messages} messages");
    let read = |path: &Path| {
        let mut reader = Reader::open(path).unwrap();
        let batches: Vec<CapturedBatch> = reader.by_ref().collect();
        assert_eq!(reader.warning(), None);
        batches
    };
    let (want, got) = (read(ours), read(&arrows));
    assert_eq!(got.len(), want.len());
    assert_eq!(
        want.iter().map(|b| b.facts.batch.num_rows()).sum::<usize>(),
        9300
    );
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.facts.batch, w.facts.batch);
        assert_eq!(g.received, w.received);
        assert_eq!(g.rows_received, w.rows_received);
        assert_eq!(g.engine, w.engine);
    }
}

/// `tests/fixtures/capture/narrow-columns-layout/` holds the capture slotel wrote (the
/// current layout: `kind`, `status_code` and the status code's `.int` narrowed, names,
/// routes and methods as dictionaries, each its own column) of
/// `narrow-columns-layout-request.json`: 48 spans of three resources, every kind, status
/// unset, ok and error, codes and methods missing from some; sent as OTLP/HTTP JSON to a
/// server without SLOs, with `columns: [resource.attributes["k8s.namespace.name"]]`. A
/// later layout of those columns is checked against it.
#[test]
fn a_file_of_the_narrow_columns_layout_reads_as_sent_and_as_a_new_capture_of_the_same_spans() {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    let (schema, old) = fixture("narrow-columns-layout");
    for (name, ty) in [
        ("kind", DataType::Int8),
        ("status_code", DataType::Int8),
        (
            r#"attributes["http.response.status_code"].int"#,
            DataType::Int16,
        ),
    ] {
        assert_eq!(field(&schema, name).data_type(), &ty, "{name}");
    }
    let request = request_of_fixture("narrow-columns-layout");
    let spans: Vec<_> = request
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .collect();
    assert_eq!(old.facts.len(), 48);
    let batch = &old.facts.batch;
    let kinds = batch
        .column_by_name("kind")
        .unwrap()
        .as_primitive::<Int32Type>();
    let sent: Vec<i32> = spans.iter().map(|s| s.kind).collect();
    assert_eq!(kinds.values(), &sent[..]);
    let statuses = batch
        .column_by_name("status_code")
        .unwrap()
        .as_primitive::<Int32Type>();
    let sent: Vec<i32> = spans
        .iter()
        .map(|s| s.status.as_ref().map_or(0, |s| s.code))
        .collect();
    assert_eq!(statuses.values(), &sent[..]);
    let attr = |key: &str| -> Vec<Option<Value>> {
        spans
            .iter()
            .map(|s| {
                s.attributes
                    .iter()
                    .find(|a| a.key == key)
                    .and_then(|a| a.value.clone()?.value)
            })
            .collect()
    };
    let codes = ints(
        batch
            .column_by_name(r#"attributes["http.response.status_code"].int"#)
            .unwrap(),
    );
    let sent: Vec<Option<i64>> = attr("http.response.status_code")
        .into_iter()
        .map(|v| match v {
            Some(Value::IntValue(i)) => Some(i),
            None => None,
            Some(other) => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(codes, sent);
    assert!(codes.contains(&None));
    let methods = strings(
        batch
            .column_by_name(r#"attributes["http.request.method"].str"#)
            .unwrap(),
    );
    let sent: Vec<Option<String>> = attr("http.request.method")
        .into_iter()
        .map(|v| match v {
            Some(Value::StringValue(s)) => Some(s),
            None => None,
            Some(other) => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        methods,
        sent.iter().map(Option::as_deref).collect::<Vec<_>>()
    );
    assert!(methods.contains(&None));
    reads_as_a_new_capture(&old, &request);
}
