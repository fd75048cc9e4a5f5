//! The cheaper forms of columns in capture files: integers and times' high halves as
//! narrow as their values, `.other` columns without their integers' decimal forms, receipt
//! times as runs; each read back as the column the live engine built, also when only some
//! columns are read.

use std::time::Duration;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_schema::{DataType, Schema};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{Span, Status};

use super::int_text::INT_TEXT_OF;
use super::layout::NULL_OF;
use super::narrow::NARROWED_OF;
use super::runs::RUNS_OF;
use super::tests::settings;
use super::*;
use crate::attr::kv;
use crate::slo::engine::{Engine, EngineConfig, ManualClock};

const T0: u64 = 1_800_000_000_000_000_000;
const STATUS: &str = "http.response.status_code";

fn cfg(dir: &Path) -> CaptureConfig {
    super::tests::cfg(dir, 1 << 30, Duration::from_secs(3600))
}

/// HTTP server and client spans, span `i` with the status code `codes[i % codes.len()]`
/// (an OTLP int, or a double when it has a fraction), errors for codes from 500.
fn spans(n: usize, codes: &[f64]) -> ExportTraceServiceRequest {
    let spans = (0..n)
        .map(|i| {
            let code = codes[i % codes.len()];
            let code_attr = match code.fract() == 0.0 {
                true => kv(STATUS, code as i64),
                false => kv(STATUS, code),
            };
            Span {
                name: "GET /cart".into(),
                kind: if i % 3 == 0 { 3 } else { 2 },
                start_time_unix_nano: T0 - 1_000_000,
                end_time_unix_nano: T0,
                status: (code >= 500.0).then(|| Status {
                    code: 2,
                    ..Default::default()
                }),
                attributes: vec![kv("http.route", "/cart"), code_attr],
                ..Default::default()
            }
        })
        .collect();
    crate::test_otlp::traces_request(Vec::new(), spans)
}

/// The engine's clock and an engine capturing into `capture`.
fn engine(capture: &Arc<Capture>) -> (Arc<ManualClock>, Arc<Engine>) {
    let clock = Arc::new(ManualClock::new(T0));
    let engine = Engine::new(EngineConfig::default(), clock.clone(), Default::default());
    assert!(engine.attach_sink(capture.clone()).is_ok());
    (clock, engine)
}

/// Records `requests` and returns the capture's files.
fn capture(dir: &Path, requests: &[ExportTraceServiceRequest]) -> Vec<CaptureFile> {
    let capture = Capture::start(&cfg(dir), settings()).unwrap();
    let (_, engine) = engine(&capture);
    for req in requests {
        engine.record_spans_from(req, None, None, None);
    }
    capture.close();
    list_files(dir).unwrap()
}

fn file_schema(path: &Path) -> Arc<Schema> {
    let bytes = std::fs::read(path).unwrap();
    arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
        .unwrap()
        .schema()
}

fn attr(key: &str, suffix: &str) -> String {
    format!("attributes[{key:?}].{suffix}")
}

/// Each row's status code attribute as the facts hold it: `.int` and `.other`.
fn codes(b: &CapturedBatch) -> (Vec<Option<i64>>, Vec<Option<String>>) {
    let c = b.facts.attr_columns(&AttrRef::Item(STATUS.into())).unwrap();
    let ints = c.int.as_ref().unwrap().as_primitive::<Int64Type>();
    let others = c.other.as_ref().unwrap().as_string::<i32>();
    (
        ints.iter().collect(),
        others.iter().map(|s| s.map(String::from)).collect(),
    )
}

/// What the spans of `requests` say: each one's status code attribute as an int (when
/// sent as one) and rendered (`.other`: every value that is not a string).
fn sent_codes(requests: &[ExportTraceServiceRequest]) -> (Vec<Option<i64>>, Vec<Option<String>>) {
    let spans = requests
        .iter()
        .flat_map(|r| &r.resource_spans[0].scope_spans[0].spans);
    spans
        .map(|s| match &s.attributes[1].value {
            Some(AnyValue {
                value: Some(any_value::Value::IntValue(i)),
            }) => (Some(*i), Some(i.to_string())),
            Some(AnyValue {
                value: Some(any_value::Value::DoubleValue(d)),
            }) => (None, Some(d.to_string())),
            other => panic!("{other:?}"),
        })
        .unzip()
}

fn read_all(files: &[CaptureFile]) -> Vec<CapturedBatch> {
    let mut all = Vec::new();
    for f in files {
        let mut reader = Reader::open(&f.path).unwrap();
        all.extend(reader.by_ref());
        assert_eq!(reader.warning(), None, "{}", f.path.display());
    }
    all
}

#[test]
fn integers_are_written_as_narrow_as_their_values_and_read_back_in_their_own_types() {
    let dir = tempfile::tempdir().unwrap();
    let requests = [spans(300, &[200.0, 404.0, 503.0])];
    let files = capture(dir.path(), &requests);
    assert_eq!(files.len(), 1);
    let schema = file_schema(&files[0].path);
    for (name, written, stands_for) in [
        ("kind".to_string(), DataType::Int8, "Int32"),
        ("status_code".to_string(), DataType::Int8, "Int32"),
        (attr(STATUS, "int"), DataType::Int16, "Int64"),
    ] {
        let f = schema.field_with_name(&name).unwrap();
        assert_eq!(f.data_type(), &written, "{name}");
        assert_eq!(
            f.metadata().get(NARROWED_OF).map(String::as_str),
            Some(stands_for),
            "{name}"
        );
    }

    let read = read_all(&files);
    assert_eq!(read.len(), 1);
    let f = &read[0].facts;
    let kinds = f.kind_column().unwrap().as_primitive::<Int32Type>();
    let want_kinds: Vec<i32> = (0..300).map(|i| if i % 3 == 0 { 3 } else { 2 }).collect();
    assert_eq!(kinds.values(), &want_kinds[..]);
    let status = f.status_column().unwrap().as_primitive::<Int32Type>();
    let want_status: Vec<i32> = (0..300).map(|i| if i % 3 == 2 { 2 } else { 0 }).collect();
    assert_eq!(status.values(), &want_status[..]);
    assert_eq!(codes(&read[0]), sent_codes(&requests));
}

#[test]
fn an_integer_wider_than_its_files_column_starts_a_file_of_a_wider_type() {
    let dir = tempfile::tempdir().unwrap();
    // A whole first message of HTTP codes (`Int16`), then a code past 32,767.
    let requests = [spans(8192, &[200.0, 503.0]), spans(10, &[200.0, 70_000.0])];
    let files = capture(dir.path(), &requests);
    assert_eq!(files.len(), 2, "{files:?}");
    let int = attr(STATUS, "int");
    let ty = |f: &CaptureFile| {
        file_schema(&f.path)
            .field_with_name(&int)
            .unwrap()
            .data_type()
            .clone()
    };
    assert_eq!(ty(&files[0]), DataType::Int16);
    assert_eq!(ty(&files[1]), DataType::Int32);
    let read = read_all(&files);
    let (mut ints, mut others) = (Vec::new(), Vec::new());
    for b in &read {
        let (i, o) = codes(b);
        ints.extend(i);
        others.extend(o);
    }
    assert_eq!((ints, others), sent_codes(&requests));
}

#[test]
fn status_codes_sent_as_integers_take_no_other_column_and_read_back_rendered() {
    let dir = tempfile::tempdir().unwrap();
    let requests = [spans(100, &[200.0, 503.0])];
    let files = capture(dir.path(), &requests);
    let schema = file_schema(&files[0].path);
    let other = schema.field_with_name(&attr(STATUS, "other")).unwrap();
    assert_eq!(other.data_type(), &DataType::Null);
    assert_eq!(
        other.metadata().get(NULL_OF).map(String::as_str),
        Some("Utf8")
    );
    assert_eq!(
        other.metadata().get(INT_TEXT_OF),
        Some(&attr(STATUS, "int"))
    );
    let read = read_all(&files);
    assert_eq!(codes(&read[0]), sent_codes(&requests));
    assert_eq!(
        read[0]
            .facts
            .attr_string(&AttrRef::Item(STATUS.into()), 1)
            .as_deref(),
        Some("503")
    );
}

#[test]
fn codes_of_other_types_keep_their_rendered_values_beside_the_integers() {
    let dir = tempfile::tempdir().unwrap();
    let requests = [spans(40, &[200.0, 404.5, 503.0, 200.0])];
    let files = capture(dir.path(), &requests);
    let schema = file_schema(&files[0].path);
    let other = schema.field_with_name(&attr(STATUS, "other")).unwrap();
    assert_ne!(other.data_type(), &DataType::Null);
    assert_eq!(
        other.metadata().get(INT_TEXT_OF),
        Some(&attr(STATUS, "int"))
    );
    let read = read_all(&files);
    assert_eq!(codes(&read[0]), sent_codes(&requests));

    // Read for a replay that only groups by the code (its text): the integers are
    // decoded to render them, and not handed on.
    let mut needed = FactsSchema::default();
    needed.add_group_by(&AttrRef::Item(STATUS.into()));
    let mut reader = Reader::open_for(&files[0].path, Some(&needed)).unwrap();
    let read: Vec<CapturedBatch> = reader.by_ref().collect();
    assert_eq!(reader.warning(), None);
    assert_eq!(read[0].columns, needed);
    let batch_schema = read[0].facts.batch.schema();
    assert!(batch_schema.field_with_name(&attr(STATUS, "int")).is_err());
    let texts: Vec<Option<String>> = (0..40)
        .map(|row| {
            read[0]
                .facts
                .attr_string(&AttrRef::Item(STATUS.into()), row)
        })
        .collect();
    assert_eq!(texts, sent_codes(&requests).1);
}

#[test]
fn receipt_times_are_runs_one_per_request_and_read_back_per_row() {
    let dir = tempfile::tempdir().unwrap();
    let capture = Capture::start(&cfg(dir.path()), settings()).unwrap();
    let (clock, engine) = engine(&capture);
    let sizes = [30, 1, 200];
    for (i, n) in sizes.iter().enumerate() {
        clock.set(T0 + i as u64 * 1_000_000);
        engine.record_spans_from(&spans(*n, &[200.0]), None, None, None);
    }
    capture.close();
    let files = list_files(dir.path()).unwrap();
    assert_eq!(files.len(), 1);
    let schema = file_schema(&files[0].path);
    let received = schema.field_with_name(RECEIVED).unwrap();
    assert!(matches!(received.data_type(), DataType::RunEndEncoded(..)));
    assert_eq!(
        received.metadata().get(RUNS_OF).map(String::as_str),
        Some("UInt64")
    );
    // One message, three requests: the reader hands out each with its receipt time.
    let read = read_all(&files);
    let requests: Vec<(usize, u64)> = read.iter().map(|b| (b.facts.len(), b.received)).collect();
    assert_eq!(
        requests,
        [(30, T0), (1, T0 + 1_000_000), (200, T0 + 2_000_000)]
    );
    let mut reader = Reader::open(&files[0].path).unwrap();
    let message = reader.next_message().unwrap();
    assert_eq!(message.rows_received.len(), 231);
    assert_eq!(message.rows_received[30], T0 + 1_000_000);
}

#[test]
fn a_span_ending_long_before_its_receipt_starts_a_file_with_wider_high_halves() {
    let dir = tempfile::tempdir().unwrap();
    // A whole first message ending at the receipt time, then spans an hour late.
    let mut late = spans(10, &[200.0]);
    for s in &mut late.resource_spans[0].scope_spans[0].spans {
        s.end_time_unix_nano = T0 - 3_600_000_000_000;
        s.start_time_unix_nano = s.end_time_unix_nano - 1_000_000;
    }
    let requests = [spans(8192, &[200.0]), late];
    let files = capture(dir.path(), &requests);
    assert_eq!(files.len(), 2, "{files:?}");
    let high = |f: &CaptureFile| match file_schema(&f.path)
        .field_with_name("end_time_unix_nano")
        .unwrap()
        .data_type()
    {
        DataType::Struct(fields) => fields[0].data_type().clone(),
        other => panic!("{other}"),
    };
    assert_eq!(high(&files[0]), DataType::Int8);
    assert_eq!(high(&files[1]), DataType::Int16);
    let ends: Vec<u64> = read_all(&files)
        .iter()
        .flat_map(|b| b.facts.end_time_unix_nano().to_vec())
        .collect();
    let sent: Vec<u64> = requests
        .iter()
        .flat_map(|r| &r.resource_spans[0].scope_spans[0].spans)
        .map(|s| s.end_time_unix_nano)
        .collect();
    assert_eq!(ends, sent);
}

/// The facts of `requests` read back from a capture of an engine with the SLOs of `slos`
/// (none when empty): the files' schemas and batches.
fn captured_with(
    slos: &str,
    requests: &[ExportTraceServiceRequest],
) -> Vec<(Arc<Schema>, RecordBatch)> {
    let dir = tempfile::tempdir().unwrap();
    let set = match slos {
        "" => Default::default(),
        text => {
            let path = dir.path().join("slos.yaml");
            std::fs::write(&path, text).unwrap();
            crate::slo::spec::load(&[path.display().to_string()], false).unwrap()
        }
    };
    let captured = dir.path().join("capture");
    let capture = Capture::start(&cfg(&captured), settings()).unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let engine = Engine::new(EngineConfig::default(), clock, set);
    assert!(engine.attach_sink(capture.clone()).is_ok());
    for req in requests {
        engine.record_spans_from(req, None, None, None);
    }
    capture.close();
    let files = list_files(&captured).unwrap();
    let schemas = files.iter().map(|f| file_schema(&f.path));
    schemas
        .zip(read_all(&files))
        .map(|(schema, b)| (schema, b.facts.batch))
        .collect()
}

/// The capture alone asks for `.other` without ints' rows, so nothing renders them; an SLO
/// that groups by the status code reads `.other` whole, so the facts render them. The
/// files of both are the same and read back the same: the ints' rows rendered from `.int`.
#[test]
fn other_columns_without_ints_rendered_write_what_rendered_ones_write() {
    let by_code = r#"service: checkout
slos:
  - name: by-code
    objective: 99.9
    window: 30d
    sli:
      spans:
        where: kind == SPAN_KIND_SERVER
        bad: status.code == STATUS_CODE_ERROR
    group_by:
      - attributes["http.response.status_code"]
"#;
    for codes in [
        &[200.0, 503.0][..],
        &[200.0, 404.5, 503.0, 200.0],
        &[0.5, 1.5],
    ] {
        let requests = [spans(300, codes), spans(7, &[201.0, 2.5]), spans(50, codes)];
        let alone = captured_with("", &requests);
        let read_whole = captured_with(by_code, &requests);
        assert!(!alone.is_empty());
        assert_eq!(alone, read_whole, "{codes:?}");
        let rows: usize = alone.iter().map(|(_, b)| b.num_rows()).sum();
        assert_eq!(rows, 357);
    }
}
