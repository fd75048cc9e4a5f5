use arrow_array::Array as _;
use arrow_schema::DataType;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;

use super::*;
use crate::attr::kv;
use crate::loadgen::{ContentOpts, generate};
use crate::slo::ottl::ConditionTarget;
use crate::test_otlp::traces_of;

fn span(name: &str, start: u64, end: u64, attributes: Vec<KeyValue>) -> Span {
    Span {
        name: name.into(),
        kind: 2,
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        attributes,
        ..Default::default()
    }
}

fn sample() -> ExportTraceServiceRequest {
    traces_of([
        (
            vec![
                kv("service.name", "checkout"),
                kv("k8s.cluster.name", "seoul-prod"),
            ],
            vec![
                span("a", 100, 350, vec![kv("http.route", "/api/pay")]),
                span("b", 500, 400, vec![kv("http.route", 7_i64), kv("x", "1")]),
            ],
        ),
        (vec![kv("k8s.cluster.name", 9_i64)], vec![]),
        (vec![], vec![span("c", 0, 10, vec![])]),
    ])
}

fn schema(conditions: &[&str]) -> FactsSchema {
    let mut schema = FactsSchema::default();
    for text in conditions {
        schema.add_condition(&Condition::parse(text, ConditionTarget::Span).unwrap());
    }
    schema
}

#[test]
fn fixed_columns() {
    let facts = SpanFacts::build(&sample(), None, "k8s.cluster.name", &FactsSchema::default());
    assert_eq!(facts.len(), 3);
    assert!(!facts.is_empty());
    assert_eq!(facts.end_time_unix_nano(), [350, 400, 10]);
    // End before start saturates to 0.
    assert_eq!(facts.duration_nanos(), [250, 0, 10]);
    let clusters: Vec<&str> = (0..3).map(|i| facts.cluster(i)).collect();
    assert_eq!(clusters, ["seoul-prod", "seoul-prod", UNKNOWN_CLUSTER]);
    let services: Vec<&str> = (0..3).map(|i| facts.service(i)).collect();
    assert_eq!(services, ["checkout", "checkout", UNKNOWN_SERVICE]);
    let schema = facts.batch.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "end_time_unix_nano",
            "duration_nanos",
            "cluster",
            "service",
            "name",
            "kind",
            "status_code"
        ]
    );
    assert!(matches!(
        facts.batch.column(2).data_type(),
        DataType::Dictionary(..)
    ));
}

#[test]
fn token_cluster_wins_and_other_attribute_names_the_cluster() {
    let facts = SpanFacts::build(
        &sample(),
        Some("tokyo"),
        "k8s.cluster.name",
        &FactsSchema::default(),
    );
    assert!((0..3).all(|i| facts.cluster(i) == "tokyo"));
    let facts = SpanFacts::build(&sample(), None, "service.name", &FactsSchema::default());
    assert_eq!(facts.cluster(0), "checkout");
    assert_eq!(facts.service(0), "checkout");
    // A non-string cluster attribute is printed.
    let mut req = sample();
    req.resource_spans[1].scope_spans[0]
        .spans
        .push(span("d", 0, 1, vec![]));
    let facts = SpanFacts::build(&req, None, "k8s.cluster.name", &FactsSchema::default());
    assert_eq!(facts.cluster(2), "9");
}

#[test]
fn only_the_columns_conditions_read() {
    let schema = schema(&[
        r#"attributes["http.route"] == "/api/pay""#,
        r#"attributes["x"] > 1"#,
        r#"IsMatch(resource.attributes["service.name"], "c")"#,
    ]);
    let attrs: Vec<&AttrRef> = schema.attributes().collect();
    assert_eq!(attrs.len(), 3);
    let facts = SpanFacts::build(&sample(), None, "k8s.cluster.name", &schema);
    let names: Vec<String> = facts
        .batch
        .schema()
        .fields()
        .iter()
        .skip(7)
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            r#"attributes["http.route"].str"#,
            r#"attributes["x"].int"#,
            r#"attributes["x"].float"#,
            r#"resource.attributes["service.name"].str"#,
            r#"resource.attributes["service.name"].other"#,
        ]
    );
    for column in facts.batch.columns() {
        assert_eq!(column.len(), 3);
    }
    // The int route of span "b" is not a string: null in `.str`.
    assert_eq!(facts.batch.column(7).null_count(), 2);
}

#[test]
fn attr_string_renders_any_type() {
    let mut schema = FactsSchema::default();
    let route = AttrRef::Item("http.route".into());
    let cluster = AttrRef::Resource("k8s.cluster.name".into());
    schema.add_group_by(&route);
    schema.add_group_by(&cluster);
    let mut req = sample();
    req.resource_spans[1].scope_spans[0]
        .spans
        .push(span("d", 0, 1, vec![]));
    let facts = SpanFacts::build(&req, None, "k8s.cluster.name", &schema);
    assert_eq!(facts.attr_string(&route, 0).as_deref(), Some("/api/pay"));
    assert_eq!(facts.attr_string(&route, 1).as_deref(), Some("7"));
    assert_eq!(facts.attr_string(&route, 3), None);
    assert_eq!(
        facts.attr_string(&cluster, 0).as_deref(),
        Some("seoul-prod")
    );
    assert_eq!(facts.attr_string(&cluster, 2).as_deref(), Some("9"));
    assert_eq!(facts.attr_string(&cluster, 3), None);
    assert_eq!(facts.attr_string(&AttrRef::Item("nope".into()), 0), None);
    // A compared-only int attribute still renders.
    let schema = self::schema(&[r#"attributes["http.route"] > 1"#]);
    let facts = SpanFacts::build(&sample(), None, "k8s.cluster.name", &schema);
    assert_eq!(facts.attr_string(&route, 1).as_deref(), Some("7"));
    assert_eq!(facts.attr_string(&route, 0), None);
}

#[test]
fn empty_request() {
    let facts = SpanFacts::build(
        &ExportTraceServiceRequest::default(),
        None,
        "k8s.cluster.name",
        &schema(&[r#"attributes["a"] == 1"#]),
    );
    assert!(facts.is_empty());
    assert!(facts.end_time_unix_nano().is_empty());
    let c = Condition::parse(
        r#"attributes["a"] == 1 or kind == 2"#,
        ConditionTarget::Span,
    )
    .unwrap();
    assert_eq!(c.eval_batch(&facts).len(), 0);
}

#[test]
fn loadgen_traffic() {
    let mut rng = fastrand::Rng::with_seed(1);
    let req = generate::traces(&mut rng, 512, &ContentOpts::default());
    let schema = schema(&[r#"attributes["http.route"] == "/api/pay""#]);
    let facts = SpanFacts::build(&req, None, "k8s.cluster.name", &schema);
    assert_eq!(facts.len(), 512);
    assert!((0..512).all(|i| facts.cluster(i).starts_with("cluster-")));
    let services: std::collections::BTreeSet<&str> = (0..512).map(|i| facts.service(i)).collect();
    assert_eq!(services.len(), 5);
}

/// The Arrow schema a [`FactsSchema`] keeps after its first batch (shared by its copies)
/// is the one a batch of the same columns gets built alone: with and without adjusted
/// counts, in any order; a schema changed afterwards gets its own.
#[test]
fn the_kept_arrow_schema_is_each_batchs_own() {
    let mut sampled = sample();
    sampled.resource_spans[0].scope_spans[0].spans[0].trace_state = "ot=th:8".into();
    let conditions = [
        r#"attributes["http.route"] == "/api/pay""#,
        r#"resource.attributes["k8s.cluster.name"] != nil"#,
    ];
    let mut kept = schema(&conditions);
    kept.add_trace_ids();
    let copy = kept.clone();
    for (i, req) in [sample(), sampled.clone(), sample(), sampled]
        .iter()
        .enumerate()
    {
        // Alternate between two copies: they share what they keep.
        let used = if i % 2 == 0 { &kept } else { &copy };
        let facts = SpanFacts::build(req, None, "k8s.cluster.name", used);
        let mut fresh = schema(&conditions);
        fresh.add_trace_ids();
        let alone = SpanFacts::build(req, None, "k8s.cluster.name", &fresh);
        assert_eq!(facts.adjusted_counts().is_some(), i % 2 == 1);
        assert_eq!(facts.batch.schema(), alone.batch.schema(), "request {i}");
        assert_eq!(facts.batch, alone.batch, "request {i}");
    }
    // Another column: another schema, not the one kept.
    let mut more = kept.clone();
    more.add_any(AttrRef::Item("x".into()));
    let facts = SpanFacts::build(&sample(), None, "k8s.cluster.name", &more);
    assert!(
        facts
            .batch
            .schema()
            .field_with_name(r#"attributes["x"].int"#)
            .is_ok()
    );
    assert!(!Arc::ptr_eq(&more.arrow.0, &kept.arrow.0));
    let first = facts.batch.schema();
    let again = SpanFacts::build(&sample(), None, "k8s.cluster.name", &more);
    assert!(
        Arc::ptr_eq(&first, &again.batch.schema()),
        "kept after the change"
    );
}

/// A kept Arrow schema that does not fit the columns (another column's type, or a field
/// not nullable where the column has nulls) is not used: the batch gets the schema made
/// for its columns, as a batch built alone does.
#[test]
fn a_kept_schema_that_does_not_fit_is_not_used() {
    use arrow_schema::{Field, Schema};
    let conditions = [r#"attributes["http.route"] == "/api/pay""#];
    let alone = SpanFacts::build(&sample(), None, "k8s.cluster.name", &schema(&conditions));
    let fields = alone.batch.schema().fields().clone();
    // The last field (`attributes["http.route"].str`, null in the third span) not
    // nullable; then the first field of another type.
    let not_nullable: Vec<Field> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            f.as_ref()
                .clone()
                .with_nullable(i + 1 < fields.len() && f.is_nullable())
        })
        .collect();
    let retyped: Vec<Field> = fields
        .iter()
        .enumerate()
        .map(|(i, f)| match i {
            0 => Field::new(f.name(), DataType::Int64, f.is_nullable()),
            _ => f.as_ref().clone(),
        })
        .collect();
    assert!(alone.batch.column(fields.len() - 1).null_count() > 0);
    for wrong in [not_nullable, retyped] {
        let kept = schema(&conditions);
        let wrong = Arc::new(Schema::new(wrong));
        assert!(kept.arrow.cell(false, false).set(wrong.clone()).is_ok());
        let facts = SpanFacts::build(&sample(), None, "k8s.cluster.name", &kept);
        assert_eq!(facts.batch.schema(), alone.batch.schema());
        assert_eq!(facts.batch, alone.batch);
        assert!(!Arc::ptr_eq(&facts.batch.schema(), &wrong));
    }
}

/// The columns' plan a schema keeps (made by its first request) builds the batch a fresh
/// schema builds, through every copy of the schema, read on the wire or decoded; another
/// cluster attribute gets a plan of its own (not the kept one), and a schema changed
/// afterwards a new one.
#[test]
fn the_kept_plan_builds_the_batch_a_fresh_one_builds() {
    use prost::Message as _;
    let conditions = [
        r#"attributes["http.route"] == "/api/pay""#,
        r#"resource.attributes["service.name"] != nil"#,
        r#"attributes["x"] != nil"#,
    ];
    let kept = schema(&conditions);
    let copy = kept.clone();
    let body = sample().encode_to_vec();
    for (i, cluster_attribute) in ["k8s.cluster.name", "service.name", "k8s.cluster.name"]
        .into_iter()
        .enumerate()
    {
        let used = if i % 2 == 0 { &kept } else { &copy };
        let alone = SpanFacts::build(&sample(), None, cluster_attribute, &schema(&conditions));
        let built = SpanFacts::build(&sample(), None, cluster_attribute, used);
        let walked = SpanFacts::from_wire(&body, None, cluster_attribute, used).unwrap();
        assert_eq!(built.batch, alone.batch, "{cluster_attribute}");
        assert_eq!(walked.batch, alone.batch, "{cluster_attribute}");
        let clusters: Vec<&str> = (0..3).map(|i| walked.cluster(i)).collect();
        let expected = match cluster_attribute {
            "service.name" => ["checkout", "checkout", UNKNOWN_CLUSTER],
            _ => ["seoul-prod", "seoul-prod", UNKNOWN_CLUSTER],
        };
        assert_eq!(clusters, expected);
    }
    // Kept for the first cluster attribute only.
    let plan = kept.plans.cell().get().expect("kept by the first request");
    assert_eq!(&*plan.cluster_attribute, "k8s.cluster.name");
    assert!(Arc::ptr_eq(&kept.plans.0, &copy.plans.0));
    // A column more: a new plan, and the batch has its column.
    let mut more = kept.clone();
    more.add_any(AttrRef::Item("y".into()));
    assert!(more.plans.cell().get().is_none());
    let facts = SpanFacts::from_wire(&body, None, "k8s.cluster.name", &more).unwrap();
    let mut fresh = schema(&conditions);
    fresh.add_any(AttrRef::Item("y".into()));
    let alone = SpanFacts::build(&sample(), None, "k8s.cluster.name", &fresh);
    assert_eq!(facts.batch, alone.batch);
    assert!(
        facts
            .batch
            .schema()
            .field_with_name(r#"attributes["y"].other"#)
            .is_ok()
    );
    let mut merged = kept.clone();
    merged.merge(&more);
    assert!(merged.plans.cell().get().is_none());
}

#[test]
fn a_resources_run_of_rows_ends_where_another_resource_starts() {
    // Resources of 0 to 40 spans (runs across eights and not), some empty; the run from
    // every row, under every limit, against a row-by-row scan.
    let mut rng = fastrand::Rng::with_seed(28);
    for _ in 0..40 {
        let resources: Vec<_> = (0..rng.usize(1..12))
            .map(|r| {
                let spans = (0..rng.usize(..40))
                    .map(|i| span("s", 0, i as u64, vec![]))
                    .collect();
                (vec![kv("service.name", format!("svc-{r}"))], spans)
            })
            .collect();
        let facts = SpanFacts::build(
            &traces_of(resources),
            None,
            "k8s.cluster.name",
            &FactsSchema::default(),
        );
        let n = facts.len();
        for row in 0..n {
            for limit in [row + 1, row + 7, row + 9, n, n + 3] {
                let want = (row + 1..limit.min(n))
                    .find(|r| facts.resource_of(*r) != facts.resource_of(row))
                    .unwrap_or(limit.min(n).max(row + 1));
                assert_eq!(facts.resource_run_end(row, limit), want, "{row} {limit}");
            }
        }
        assert_eq!(facts.resource_run_end(n, n), n);
    }
}
