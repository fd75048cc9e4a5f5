//! Resource columns as runs in capture files: what a new capture writes, and that files of
//! the layout before (resource columns as dictionaries of `Int32` keys) still read.

use arrow_schema::DataType;

use super::layout_tests::{
    cfg, field, file_schema, fixture, reads_as_a_new_capture, request_of_fixture,
};
use super::runs::RUNS_OF;
use super::tests::{engine, settings};
use super::*;

/// The resource columns of the fixture's request.
const RESOURCE_COLUMNS: [&str; 3] = [
    "cluster",
    "service",
    r#"resource.attributes["k8s.namespace.name"].str"#,
];

fn int32_dictionary() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

/// The request of `resource-dictionary-layout-request.json`, row by row: four resources
/// of three, two, two spans and one (the second without `k8s.namespace.name` and
/// `k8s.cluster.name`, the fourth without `service.name`), `times` times over.
fn has_the_resource_requests_facts(f: &crate::slo::facts::SpanFacts, times: usize) {
    assert_eq!(f.len(), 8 * times);
    let services: Vec<&str> = (0..f.len()).map(|row| f.service(row)).collect();
    let service = [
        "checkout",
        "checkout",
        "checkout",
        "cart",
        "cart",
        "checkout",
        "checkout",
        "unknown_service",
    ];
    assert_eq!(services, service.repeat(times));
    let clusters: Vec<&str> = (0..f.len()).map(|row| f.cluster(row)).collect();
    let cluster = [
        "eu-1", "eu-1", "eu-1", "unknown", "unknown", "eu-1", "eu-1", "us-2",
    ];
    assert_eq!(clusters, cluster.repeat(times));
    let namespace = AttrRef::Resource("k8s.namespace.name".into());
    let namespaces: Vec<Option<String>> = (0..f.len())
        .map(|row| f.attr_string(&namespace, row))
        .collect();
    let namespaces: Vec<Option<&str>> = namespaces.iter().map(Option::as_deref).collect();
    let shop = Some("shop");
    let want = [shop, shop, shop, None, None, shop, shop, shop];
    assert_eq!(namespaces, want.repeat(times));
}

/// `tests/fixtures/capture/resource-dictionary-layout/` holds the capture slotel wrote,
/// with the columns keyed by the rows' resources as dictionaries of `Int32` keys (names,
/// routes and methods as narrow-keyed dictionaries, times as halves, integers narrowed,
/// receipt times as runs), of `resource-dictionary-layout-request.json` (sent as OTLP/HTTP
/// JSON to a server with `columns: [resource.attributes["k8s.namespace.name"]]`).
#[test]
fn a_file_of_the_resource_dictionary_layout_reads_as_a_new_capture_of_the_same_spans() {
    let (schema, old) = fixture("resource-dictionary-layout");
    for name in RESOURCE_COLUMNS {
        let f = field(&schema, name);
        assert_eq!(f.data_type(), &int32_dictionary(), "{name}");
        assert!(!f.metadata().contains_key(RUNS_OF), "{name}");
    }
    has_the_resource_requests_facts(&old.facts, 1);
    reads_as_a_new_capture(&old, &request_of_fixture("resource-dictionary-layout"));
}

#[test]
fn resource_columns_are_written_as_runs_and_read_back_as_the_dictionaries_the_engine_built() {
    let tmp = tempfile::tempdir().unwrap();
    let capture = Capture::start(&cfg(tmp.path()), settings()).unwrap();
    let request = request_of_fixture("resource-dictionary-layout");
    // Two requests in one message: each one's resources are runs of their own.
    engine(&capture).record_spans_from(&request, None, None, None);
    engine(&capture).record_spans_from(&request, None, None, None);
    capture.close();
    let files = list_files(tmp.path()).unwrap();
    assert_eq!(files.len(), 1);
    let schema = file_schema(&files[0].path);
    for name in RESOURCE_COLUMNS {
        let f = field(&schema, name);
        assert!(
            matches!(f.data_type(), DataType::RunEndEncoded(..)),
            "{name}: {}",
            f.data_type()
        );
        assert_eq!(
            f.metadata().get(RUNS_OF).map(String::as_str),
            Some("Dictionary(Int32, Utf8)"),
            "{name}"
        );
    }
    // Both requests were received at the same time of the engine's clock: read back as
    // one batch.
    let read: Vec<CapturedBatch> = Reader::open(&files[0].path).unwrap().collect();
    assert_eq!(read.len(), 1);
    for b in &read {
        has_the_resource_requests_facts(&b.facts, 2);
        let facts = b.facts.batch.schema();
        for name in RESOURCE_COLUMNS {
            assert_eq!(
                field(&facts, name).data_type(),
                &int32_dictionary(),
                "{name}"
            );
        }
    }
}
