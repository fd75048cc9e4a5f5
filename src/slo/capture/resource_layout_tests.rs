//! Columns keyed by the rows' resources (`cluster`, `service`, resource attributes) in
//! capture files: a file of the current layout, which writes them as dictionaries of
//! `Int32` keys, kept as a fixture, reads as a new capture of the same spans (a later
//! layout that writes them otherwise must still read it).

use arrow_schema::DataType;

use super::layout_tests::{field, fixture, reads_as_a_new_capture, request_of_fixture};
use super::runs::RUNS_OF;
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
