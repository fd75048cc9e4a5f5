use arrow_array::Array as _;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, Span};

use super::*;
use crate::attr::{AttrValue, kv};
use crate::loadgen::{ContentOpts, generate};
use crate::slo::facts::{FactsSchema, SpanFacts};
use crate::test_otlp::{error_status, resource, resource_spans, traces_request};
use crate::user_regex::MAX_REGEX_LEN;

/// A server span of `checkout` answering 503 after 250ms, with a few attribute types, and
/// its resource's attributes.
fn span() -> (Span, Vec<KeyValue>) {
    let span = Span {
        name: "POST /api/pay".into(),
        kind: 2,
        start_time_unix_nano: 1_000_000_000,
        end_time_unix_nano: 1_250_000_000,
        status: Some(error_status()),
        attributes: vec![
            kv("http.route", "/api/pay"),
            kv("http.response.status_code", 503_i64),
            kv("ratio", 0.5),
            kv("retry", true),
            kv(
                "tags",
                Value::ArrayValue(ArrayValue {
                    values: vec!["a".into_any_value()],
                }),
            ),
            KeyValue {
                key: "empty".into(),
                value: None,
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let resource = vec![
        kv("service.name", "checkout"),
        kv("k8s.cluster.name", "seoul-prod"),
        kv("replicas", 3_i64),
    ];
    (span, resource)
}

fn request(span: Span, resource: Vec<KeyValue>) -> ExportTraceServiceRequest {
    traces_request(resource, vec![span])
}

/// Evaluates `text` on the sample span both ways and checks they agree.
fn eval(text: &str) -> bool {
    let condition =
        Condition::parse(text, ConditionTarget::Span).unwrap_or_else(|e| panic!("{text}: {e}"));
    let (span, attributes) = span();
    let row = condition.eval_span(&span, resource(attributes.clone()).as_ref());
    let mut schema = FactsSchema::default();
    schema.add_condition(&condition);
    let facts = SpanFacts::build(
        &request(span, attributes),
        None,
        "k8s.cluster.name",
        &schema,
    );
    let batch = condition.eval_batch(&facts);
    assert_eq!(batch.null_count(), 0, "{text}");
    assert_eq!(batch.value(0), row, "{text}: arrow and row-by-row disagree");
    row
}

#[test]
fn paths_literals_and_operators() {
    let holds = [
        r#"name == "POST /api/pay""#,
        "kind == SPAN_KIND_SERVER",
        "span.kind == 2",
        "status.code == STATUS_CODE_ERROR",
        "duration == 250ms",
        "duration > 0.2s and duration <= 1m",
        "duration < 1m30s",
        r#"attributes["http.route"] == "/api/pay""#,
        r#"attributes["http.response.status_code"] >= 500"#,
        r#"attributes["http.response.status_code"] > 502.5"#,
        r#"attributes["ratio"] == 0.5 and attributes["ratio"] < 1"#,
        r#"attributes["retry"] == true and attributes["retry"] > false"#,
        r#"resource.attributes["service.name"] == "checkout""#,
        r#"resource.attributes["replicas"] == 3.0"#,
        r#"attributes["missing"] == nil"#,
        r#"attributes["empty"] == nil"#,
        r#"attributes["http.route"] != nil"#,
        r#"name != nil"#,
        "true",
        "not false",
        "1 < 2",
        r#""b" > "a""#,
        "500 <= attributes[\"http.response.status_code\"]",
        "SPAN_KIND_SERVER == kind",
        r#"IsMatch(name, "^POST ")"#,
        r#"IsMatch(attributes["http.response.status_code"], "^5\\d\\d$")"#,
        r#"IsMatch(attributes["tags"], "\\[\"a\"\\]")"#,
        r#"IsMatch(resource.attributes["service.name"], "check")"#,
        r#"IsMatch(kind, "2")"#,
        r#"IsMatch("abc", "b")"#,
        r#"attributes["http.route"] == attributes["http.route"]"#,
        r#"attributes["missing"] == attributes["other-missing"]"#,
        r#"attributes["http.response.status_code"] > resource.attributes["replicas"]"#,
    ];
    for text in holds {
        assert!(eval(text), "{text} should hold");
    }
    let fails = [
        r#"name == "GET /""#,
        "kind == SPAN_KIND_CLIENT",
        "duration > 1s",
        r#"attributes["missing"] == "x""#,
        r#"attributes["missing"] > 1"#,
        r#"attributes["http.route"] == nil"#,
        r#"IsMatch(attributes["missing"], ".*")"#,
        r#"IsMatch(name, "^GET")"#,
        r#"attributes["missing"] < nil"#,
        "false",
        "not true",
    ];
    for text in fails {
        assert!(!eval(text), "{text} should not hold");
    }
}

/// OTTL: values of different types are never equal; `!=` holds, every other comparison is
/// false; ints and floats compare numerically.
#[test]
fn type_mismatches_follow_ottl() {
    let code = r#"attributes["http.response.status_code"]"#;
    assert!(!eval(&format!(r#"{code} == "503""#)));
    assert!(eval(&format!(r#"{code} != "503""#)));
    assert!(!eval(&format!(r#"{code} > "1""#)));
    assert!(!eval(&format!(r#"{code} < "9""#)));
    assert!(eval(&format!("{code} == 503.0")));
    assert!(!eval(r#"attributes["http.route"] > 5"#));
    assert!(eval(r#"attributes["http.route"] != 5"#));
    assert!(!eval(r#"attributes["retry"] == 1"#));
    assert!(!eval(r#"attributes["tags"] == "[\"a\"]""#));
    assert!(eval(r#"attributes["tags"] != nil"#));
    // A missing attribute is nil: `not (x == 1)` holds, unlike SQL's three-valued logic.
    assert!(eval(r#"not (attributes["missing"] == 1)"#));
    assert!(eval(r#"attributes["missing"] != 1"#));
    assert!(eval(r#"attributes["missing"] <= nil"#));
}

#[test]
fn precedence_not_and_or() {
    // not > and > or
    assert!(eval("true or false and false"));
    assert!(!eval("(true or false) and false"));
    assert!(!eval("not true or false"));
    assert!(eval("not (true and false)"));
    assert!(eval("not not true"));
    assert!(eval(
        r#"kind == SPAN_KIND_SERVER and (status.code == STATUS_CODE_ERROR or attributes["x"] == 1)"#
    ));
}

#[test]
fn errors_carry_their_column() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 1, "empty condition"),
        (
            "nme == \"x\"",
            1,
            "unknown path `nme`, did you mean `name`?",
        ),
        (
            "kind == SPAN_KIND_SERVR",
            9,
            "unknown enum `SPAN_KIND_SERVR`, did you mean `SPAN_KIND_SERVER`?",
        ),
        ("kind = 2", 6, "unexpected `=`, use `==` to compare"),
        (
            "kind == 2 && name == \"a\"",
            11,
            "unexpected `&`, use `and`",
        ),
        ("name == \"abc", 9, "unterminated string"),
        ("name == 'abc'", 9, "strings are written in double quotes"),
        (
            "(kind == 2",
            11,
            "expected `)`, found the end of the condition",
        ),
        (
            "kind == 2)",
            10,
            "unexpected `)`, expected `and`, `or` or the end",
        ),
        (
            "kind == 2 name == \"a\"",
            11,
            "unexpected `name`, expected `and`, `or` or the end",
        ),
        (
            "kind",
            5,
            "expected a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`) after the value, found the end of the condition",
        ),
        (
            "kind == ",
            9,
            "expected a value, found the end of the condition",
        ),
        ("kind == and", 9, "expected a value, found `and`"),
        (
            "kind == \"SERVER\"",
            9,
            "`kind` compares with SPAN_KIND_SERVER, SPAN_KIND_CLIENT, … or a number",
        ),
        (
            "kind == STATUS_CODE_ERROR",
            9,
            "`kind` compares with SPAN_KIND_SERVER, SPAN_KIND_CLIENT, … or a number",
        ),
        (
            "status.code == SPAN_KIND_SERVER",
            16,
            "`status.code` compares with STATUS_CODE_ERROR, STATUS_CODE_OK, STATUS_CODE_UNSET or a number",
        ),
        (
            "duration > 5",
            12,
            "`duration` compares with a duration such as `300ms` or `1.5s`",
        ),
        (
            "300ms < name",
            1,
            "`name` is a string, compare it with a string such as \"GET /\"",
        ),
        (
            "attributes[\"x\"] > 300ms",
            19,
            "a duration such as `300ms` compares only with `duration`",
        ),
        (
            "duration < 300 ms",
            12,
            "`duration` compares with a duration such as `300ms` or `1.5s`",
        ),
        (
            "duration < 300mx",
            12,
            "invalid duration `300mx`, expected e.g. `300ms`, `1.5s` or `1m30s` (units ns, us, ms, s, m, h, d, w)",
        ),
        (
            "attributes.x == 1",
            11,
            "expected `[\"key\"]` after `attributes`, found `.`",
        ),
        (
            "attributes[x] == 1",
            12,
            "expected the attribute key as a string, found `x`",
        ),
        (
            "attributes[\"a\"][\"b\"] == 1",
            16,
            "nested keys are not supported",
        ),
        (
            "resource.attrs[\"a\"] == 1",
            10,
            "expected `attributes` after `resource.`, found `attrs`",
        ),
        (
            "status == 1",
            8,
            "expected `.code` after `status`, found `==`",
        ),
        ("IsMatch(name)", 13, "expected `,` and a regex, found `)`"),
        (
            "IsMatch(name, name)",
            15,
            "expected the regex as a string, found `name`",
        ),
        ("IsMatch(name, \"(\")", 15, "invalid regex: unclosed group"),
        (
            "IsMatch(duration, \"1\")",
            9,
            "`IsMatch` needs a string-like value, `duration` is a duration",
        ),
        (
            "Matches(name, \"a\")",
            1,
            "unknown function `Matches`, expected `IsMatch`",
        ),
        (
            "isMatch(name, \"a\")",
            1,
            "unknown path `isMatch`, expected one of `name`, `kind`, `status`, `duration`, `attributes`, `resource`, `span`",
        ),
        (
            "name == \"\\d\"",
            10,
            "invalid escape `\\d`, expected one of \\\" \\\\ \\n \\t \\r (write a regex backslash as `\\\\`)",
        ),
        (
            "kind == 2 and",
            14,
            "expected a value, found the end of the condition",
        ),
        (
            "kind == 1 == 2",
            11,
            "unexpected `==`: a comparison takes two values, join comparisons with `and` or `or`",
        ),
        (
            "attributes[\"a\"] == 99999999999999999999",
            20,
            "invalid number `99999999999999999999`",
        ),
        (
            "name == \"é\" and kind ! 2",
            22,
            "unexpected `!`, use `not` or `!=`",
        ),
    ];
    let mut failures = Vec::new();
    for (text, column, message) in cases {
        match Condition::parse(text, ConditionTarget::Span) {
            Ok(_) => failures.push(format!("{text}: parsed")),
            Err(e) if e.column != *column || e.message != *message => failures.push(format!(
                "{text}\n  expected {column}: {message}\n  actual   {}: {}",
                e.column, e.message
            )),
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn regexes_are_size_limited() {
    let error = Condition::parse(r#"IsMatch(name, "\\w{1000}")"#, ConditionTarget::Span)
        .expect_err("too large");
    assert_eq!(error.column, 15);
    assert_eq!(
        error.message,
        "regex is too large: its compiled form exceeds 512 KiB"
    );
    let long = format!(r#"IsMatch(name, "{}")"#, "a".repeat(MAX_REGEX_LEN + 1));
    let error = Condition::parse(&long, ConditionTarget::Span).expect_err("too long");
    assert_eq!(error.message, "regex is longer than 4096 bytes");
    // Nesting is bounded too, so a hostile condition cannot overflow the stack.
    let deep = format!("{}true{}", "(".repeat(100), ")".repeat(100));
    let error = Condition::parse(&deep, ConditionTarget::Span).expect_err("too deep");
    assert_eq!(error.message, "nesting is deeper than 64 levels");
}

#[test]
fn metric_conditions_read_only_attributes() {
    let error = Condition::parse("name == \"x\"", ConditionTarget::Metric).expect_err("span field");
    assert_eq!(error.column, 1);
    assert_eq!(
        error.message,
        "`name` is a span field: metric conditions read only `attributes[\"k\"]` and \
         `resource.attributes[\"k\"]`"
    );
    let condition = Condition::parse(
        r#"attributes["http.route"] == "/api/cart" and resource.attributes["service.name"] == "cart""#,
        ConditionTarget::Metric,
    )
    .unwrap();
    let checkout = resource(span().1);
    let point = vec![kv("http.route", "/api/cart")];
    assert!(!condition.eval_point(&point, checkout.as_ref()));
    let cart = resource(vec![kv("service.name", "cart")]);
    assert!(condition.eval_point(&point, cart.as_ref()));
    assert!(!condition.eval_point(&point, None));
    assert!(!condition.eval_point(&[], cart.as_ref()));
}

#[test]
fn attributes_and_helpers() {
    let condition = Condition::parse(
        r#"attributes["b"] == 1 or resource.attributes["a"] == "x" or IsMatch(attributes["b"], "1") or attributes["c"] == nil"#,
        ConditionTarget::Span,
    )
    .unwrap();
    let attrs: Vec<AttrRef> = condition.attributes().into_iter().collect();
    assert_eq!(
        attrs,
        [
            AttrRef::Item("b".into()),
            AttrRef::Item("c".into()),
            AttrRef::Resource("a".into()),
        ]
    );
    let uses = condition.attribute_uses();
    assert_eq!(
        uses[0],
        (
            AttrRef::Item("b".into()),
            Use(Use::INT.0 | Use::FLOAT.0 | Use::TEXT.0)
        )
    );
    assert_eq!(uses[1], (AttrRef::Item("c".into()), Use::TEXT));
    assert_eq!(uses[2], (AttrRef::Resource("a".into()), Use::STR));
    assert_eq!(condition.text(), condition.clone().text());
    assert!(
        Condition::parse("true or kind == 1", ConditionTarget::Span)
            .unwrap()
            .is_always()
    );
    let negated = Condition::parse("kind == 2", ConditionTarget::Span)
        .unwrap()
        .negate();
    assert_eq!(negated.text(), "not (kind == 2)");
    let (span, attributes) = span();
    let resource = resource(attributes);
    assert!(!negated.eval_span(&span, resource.as_ref()));
    assert!(negated.negate().eval_span(&span, resource.as_ref()));
    assert_eq!(
        parse_duration("1.5s"),
        Ok(std::time::Duration::from_millis(1500))
    );
    assert_eq!(
        parse_duration("30d"),
        Ok(std::time::Duration::from_secs(30 * 86_400))
    );
    assert!(parse_duration("5").is_err());
    assert_eq!(
        parse_attribute(r#"resource.attributes["k"]"#),
        Ok(AttrRef::Resource("k".into()))
    );
    assert_eq!(
        parse_attribute("name").unwrap_err().message,
        "expected `attributes[\"key\"]`, `resource.attributes[\"key\"]` or (log slis) `body[\"key\"]`"
    );
}

/// Builds random conditions from pieces that touch every path, type and operator, and
/// checks that the Arrow evaluator agrees with the row-by-row one on every span of
/// load-generator traffic (plus the hand-made span with odd attribute types).
#[test]
fn arrow_agrees_with_row_by_row() {
    const LEAVES: &[&str] = &[
        r#"resource.attributes["service.name"] == "checkout""#,
        r#"resource.attributes["service.name"] != "payment""#,
        r#"resource.attributes["k8s.cluster.name"] >= "cluster-1""#,
        r#"resource.attributes["replicas"] > 2"#,
        "kind == SPAN_KIND_SERVER",
        "kind != SPAN_KIND_CLIENT",
        "kind > 2.5",
        "status.code == STATUS_CODE_ERROR",
        "status.code < 1",
        "duration > 40ms",
        "duration <= 300ms",
        r#"name == "GET /api/cart""#,
        r#"name < "P""#,
        r#"attributes["http.route"] == "/api/pay""#,
        r#"attributes["http.route"] != "/api/pay""#,
        r#"attributes["http.route"] == nil"#,
        r#"attributes["http.response.status_code"] >= 500"#,
        r#"attributes["http.response.status_code"] < 300.5"#,
        r#"attributes["http.response.status_code"] == "200""#,
        r#"attributes["http.response.status_code"] != 200"#,
        r#"attributes["server.port"] == 5432"#,
        r#"attributes["ratio"] >= 0.5"#,
        r#"attributes["retry"] == true"#,
        r#"attributes["tags"] != nil"#,
        r#"attributes["db.system.name"] == attributes["db.system.name"]"#,
        r#"attributes["http.response.status_code"] > attributes["server.port"]"#,
        r#"IsMatch(attributes["http.route"], "^/api/(pay|cart)")"#,
        r#"IsMatch(attributes["http.response.status_code"], "^5")"#,
        r#"IsMatch(resource.attributes["k8s.cluster.name"], "-[02]$")"#,
        r#"IsMatch(name, "SELECT")"#,
        r#"IsMatch(attributes["tags"], "a")"#,
        r#"IsMatch(status.code, "2")"#,
    ];
    let mut rng = fastrand::Rng::with_seed(7);
    let opts = ContentOpts {
        now_unix_nano: 1_700_000_000_000_000_000,
        ..ContentOpts::default()
    };
    let mut req = generate::traces(&mut rng, 2_000, &opts);
    let (odd_span, odd_resource) = span();
    req.resource_spans
        .push(request(odd_span, odd_resource).resource_spans.remove(0));
    // A resource without attributes at all.
    req.resource_spans.push(ResourceSpans {
        resource: None,
        ..resource_spans(Vec::new(), vec![span().0])
    });
    let random_condition = |rng: &mut fastrand::Rng| {
        let mut text = String::new();
        for i in 0..rng.usize(1..5) {
            if i > 0 {
                text.push_str([" and ", " or "][rng.usize(..2)]);
            }
            let leaf = LEAVES[rng.usize(..LEAVES.len())];
            match rng.u8(..4) {
                0 => text.push_str(&format!("not ({leaf})")),
                1 => text.push_str(&format!(
                    "({leaf} or {})",
                    LEAVES[rng.usize(..LEAVES.len())]
                )),
                _ => text.push_str(leaf),
            }
        }
        text
    };
    let conditions: Vec<Condition> = (0..300)
        .map(|_| Condition::parse(&random_condition(&mut rng), ConditionTarget::Span).unwrap())
        .chain(
            LEAVES
                .iter()
                .map(|l| Condition::parse(l, ConditionTarget::Span).unwrap()),
        )
        .collect();
    let mut schema = FactsSchema::default();
    for c in &conditions {
        schema.add_condition(c);
    }
    let facts = SpanFacts::build(&req, None, "k8s.cluster.name", &schema);
    let rows: Vec<(&Span, Option<&Resource>)> = req
        .resource_spans
        .iter()
        .flat_map(|r| {
            let resource = r.resource.as_ref();
            r.scope_spans
                .iter()
                .flat_map(move |s| s.spans.iter().map(move |sp| (sp, resource)))
        })
        .collect();
    assert_eq!(rows.len(), facts.len());
    let mut selective = 0;
    for condition in &conditions {
        let batch = condition.eval_batch(&facts);
        assert_eq!(batch.len(), rows.len());
        assert_eq!(batch.null_count(), 0);
        let mut matched = 0;
        for (i, (span, resource)) in rows.iter().enumerate() {
            let expected = condition.eval_span(span, *resource);
            matched += usize::from(expected);
            assert_eq!(batch.value(i), expected, "row {i}: {}", condition.text());
        }
        selective += usize::from(matched > 0 && matched < rows.len());
    }
    // Most conditions split the traffic: the test compares real decisions, not all-false.
    assert!(
        selective > conditions.len() / 2,
        "{selective} of {}",
        conditions.len()
    );
}

/// A condition whose attributes are not in the facts' schema reads them as absent.
#[test]
fn attributes_outside_the_schema_read_as_absent() {
    let (span, resource) = span();
    let facts = SpanFacts::build(
        &request(span, resource),
        None,
        "k8s.cluster.name",
        &FactsSchema::default(),
    );
    let eval = |text| {
        Condition::parse(text, ConditionTarget::Span)
            .unwrap()
            .eval_batch(&facts)
            .value(0)
    };
    assert!(!eval(r#"attributes["http.route"] == "/api/pay""#));
    assert!(eval(r#"attributes["http.route"] == nil"#));
    assert!(eval(r#"kind == SPAN_KIND_SERVER"#));
}

/// How deep `expr` nests (a leaf is 1).
fn depth(expr: &Expr) -> usize {
    match expr {
        Expr::And(a, b) | Expr::Or(a, b) => 1 + depth(a).max(depth(b)),
        Expr::Not(e) => 1 + depth(e),
        _ => 1,
    }
}

/// A chain of `or` and `and` terms is a balanced tree, so every walk over it (both
/// evaluators, drop) stays shallow: 1,000 terms nest 11 deep, not 1,000 (a chain of a few
/// thousand overflowed a runtime worker's stack on the first span).
#[test]
fn long_chains_are_balanced_and_evaluate_alike() {
    let terms = |op: &str, last: &str| {
        let mut t: Vec<String> = (0..parser::MAX_TERMS - 1)
            .map(|i| format!("attributes[\"http.route\"] == \"/r{i}\""))
            .collect();
        t.push(last.to_string());
        t.join(op)
    };
    let any = terms(" or ", "attributes[\"http.route\"] == \"/api/pay\"");
    let all = terms(" and ", "name == \"x\"").replace(" == ", " != ");
    for (text, expect) in [(&any, true), (&all, true)] {
        let c = Condition::parse(text, ConditionTarget::Span).unwrap();
        assert!(depth(c.expr()) <= 11, "depth {}", depth(c.expr()));
        assert_eq!(eval(text), expect);
    }
    // Folding still applies across the tree: one `true` makes the whole `or` true.
    let folded = Condition::parse(&terms(" or ", "1 == 1"), ConditionTarget::Span).unwrap();
    assert!(matches!(folded.expr(), Expr::Const(true)));
}

/// One term past the limit is refused at its column.
#[test]
fn a_condition_of_too_many_terms_is_refused_where_it_passes_the_limit() {
    let text = vec!["name == \"a\""; parser::MAX_TERMS + 1].join(" or ");
    let e = Condition::parse(&text, ConditionTarget::Span).unwrap_err();
    assert_eq!(e.column, 15 * parser::MAX_TERMS + 1);
    assert!(
        e.message
            .starts_with("more than 1000 comparisons in one condition"),
        "{}",
        e.message
    );
}
