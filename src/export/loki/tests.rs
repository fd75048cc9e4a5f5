use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
use opentelemetry_proto::tonic::logs::v1::ResourceLogs;

use super::*;
use crate::attr::{AttrValue, kv};

fn resource_logs(resource: &[(&str, &str)], records: Vec<LogRecord>) -> ResourceLogs {
    let attributes = resource.iter().map(|(k, v)| kv(k, v)).collect();
    crate::test_otlp::resource_logs(attributes, records)
}

fn record(ts: u64, body: &str) -> LogRecord {
    LogRecord {
        time_unix_nano: ts,
        body: Some(body.into_any_value()),
        ..Default::default()
    }
}

/// The entry of a record with no limit but the label value length.
fn entry_of(rec: &LogRecord, now_ns: u64) -> loki::Entry {
    let mut tally = Tally::default();
    let e = entry(rec, now_ns, &EntryLimits::labels_only(2048), &mut tally);
    assert_eq!(tally, Tally::default());
    e.expect("no time limit")
}

fn labels(names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .map(|n| (n.to_string(), sanitize(n, false)))
        .collect()
}

#[test]
fn label_values_are_escaped_for_the_selector_syntax() {
    let sel = selector(&[
        ("a".to_string(), r#"say "hi"\now"#.to_string()),
        ("b".to_string(), "line\nbreak\ttab\u{1}".to_string()),
        ("c".to_string(), "서울".to_string()),
    ]);
    assert_eq!(
        sel,
        r#"{a="say \"hi\"\\now", b="line\nbreak\ttab\u0001", c="서울"}"#
    );
    assert_eq!(selector(&[]), "{}");
}

#[test]
fn label_names_lose_dots_and_values_come_from_the_resource() {
    let req = ExportLogsServiceRequest {
        resource_logs: vec![resource_logs(
            &[
                ("service.name", "checkout"),
                ("k8s.cluster.name", "seoul"),
                ("host.name", "h1"),
            ],
            vec![record(5, "x")],
        )],
    };
    let (push, _, _) = push_request(
        &labels(&["service.name", "k8s.cluster.name", "k8s.namespace.name"]),
        &EntryLimits::labels_only(2048),
        &req,
        0,
    );
    assert_eq!(push.streams.len(), 1);
    // Sorted by name; attributes not configured (host.name) and absent ones are not labels.
    assert_eq!(
        push.streams[0].labels,
        r#"{k8s_cluster_name="seoul", service_name="checkout"}"#
    );
}

#[test]
fn one_stream_per_label_set_with_entries_sorted_by_time() {
    let req = ExportLogsServiceRequest {
        resource_logs: vec![
            resource_logs(
                &[("service.name", "a")],
                vec![record(30, "a30"), record(10, "a10")],
            ),
            resource_logs(&[("service.name", "b")], vec![record(20, "b20")]),
            // Same labels as the first resource (an attribute outside the label set differs).
            resource_logs(
                &[("service.name", "a"), ("pod", "p2")],
                vec![record(20, "a20")],
            ),
            resource_logs(&[("service.name", "c")], vec![]),
        ],
    };
    let (push, _, _) = push_request(
        &labels(&["service.name"]),
        &EntryLimits::labels_only(2048),
        &req,
        0,
    );
    let got: Vec<(String, Vec<String>)> = push
        .streams
        .iter()
        .map(|s| {
            (
                s.labels.clone(),
                s.entries.iter().map(|e| e.line.clone()).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                r#"{service_name="a"}"#.to_string(),
                vec!["a10".into(), "a20".into(), "a30".into()]
            ),
            (r#"{service_name="b"}"#.to_string(), vec!["b20".into()]),
        ]
    );
}

#[test]
fn a_resource_without_configured_labels_gets_unknown_service() {
    let req = ExportLogsServiceRequest {
        resource_logs: vec![resource_logs(&[], vec![record(1, "x")])],
    };
    let (push, _, _) = push_request(
        &labels(&["service.name"]),
        &EntryLimits::labels_only(2048),
        &req,
        0,
    );
    assert_eq!(
        push.streams[0].labels,
        r#"{service_name="unknown_service"}"#
    );
}

#[test]
fn ids_and_severity_become_structured_metadata() {
    let mut rec = record(1_700_000_000_123_456_789, "hello");
    rec.trace_id = (1..=16).collect();
    rec.span_id = vec![0xab; 8];
    rec.severity_number = 17;
    rec.attributes = vec![kv("http.route", "/pay"), kv("trace_id", "spoofed")];
    let e = entry_of(&rec, 0);
    let meta: Vec<(&str, &str)> = e
        .structured_metadata
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(
        meta,
        vec![
            ("trace_id", "0102030405060708090a0b0c0d0e0f10"),
            ("span_id", "abababababababab"),
            ("severity_text", "ERROR"),
            ("severity_number", "17"),
            ("http_route", "/pay"),
        ]
    );
    let ts = e.timestamp.unwrap_or_default();
    assert_eq!((ts.seconds, ts.nanos), (1_700_000_000, 123_456_789));
    // No ids, no severity: no metadata; the observed time stands in for a missing time.
    let mut bare = record(0, "x");
    bare.observed_time_unix_nano = 2_000_000_001;
    bare.trace_id = vec![0; 16];
    let e = entry_of(&bare, 99);
    assert!(e.structured_metadata.is_empty());
    let ts = e.timestamp.unwrap_or_default();
    assert_eq!((ts.seconds, ts.nanos), (2, 1));
    assert_eq!(
        entry_of(&record(0, "x"), 3_000_000_000)
            .timestamp
            .map(|t| t.seconds),
        Some(3)
    );
}

#[test]
fn string_bodies_are_lines_as_they_are_and_others_json() {
    assert_eq!(
        line(Some(&"{\"already\": \"json\"}".into_any_value())),
        "{\"already\": \"json\"}"
    );
    assert_eq!(line(None), "");
    let map = AnyValue {
        value: Some(any_value::Value::KvlistValue(KeyValueList {
            values: vec![
                kv("msg", "paid"),
                kv(
                    "n",
                    AnyValue {
                        value: Some(any_value::Value::IntValue(3)),
                    },
                ),
                kv(
                    "tags",
                    AnyValue {
                        value: Some(any_value::Value::ArrayValue(ArrayValue {
                            values: vec![AnyValue {
                                value: Some(any_value::Value::BoolValue(true)),
                            }],
                        })),
                    },
                ),
                kv(
                    "raw",
                    AnyValue {
                        value: Some(any_value::Value::BytesValue(vec![0xff, 0])),
                    },
                ),
                kv(
                    "nan",
                    AnyValue {
                        value: Some(any_value::Value::DoubleValue(f64::NAN)),
                    },
                ),
            ],
        })),
    };
    assert_eq!(
        line(Some(&map)),
        r#"{"msg":"paid","n":3,"tags":[true],"raw":"/wA=","nan":"NaN"}"#
    );
    assert_eq!(
        line(Some(&AnyValue {
            value: Some(any_value::Value::DoubleValue(1.5))
        })),
        "1.5"
    );
}

#[test]
fn push_urls_get_the_push_path_only_when_they_have_none() {
    let url = |e: &str| {
        push_url(e)
            .map(|u| u.to_string())
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        url("http://loki:3100").as_deref(),
        Ok("http://loki:3100/loki/api/v1/push")
    );
    assert_eq!(
        url("http://loki:3100/").as_deref(),
        Ok("http://loki:3100/loki/api/v1/push")
    );
    assert_eq!(
        url("https://gw.example/loki/api/v1/push").as_deref(),
        Ok("https://gw.example/loki/api/v1/push")
    );
}

#[test]
fn severity_names_cover_the_otlp_ranges() {
    let names: Vec<&str> = [0, 1, 4, 5, 9, 13, 16, 17, 21, 24, 25]
        .map(severity_name)
        .to_vec();
    assert_eq!(
        names,
        vec![
            "", "TRACE", "TRACE", "DEBUG", "INFO", "WARN", "WARN", "ERROR", "FATAL", "FATAL", ""
        ]
    );
}

/// Loki refuses a push whose label value is longer than its `max_label_value_length`
/// (default 2048 bytes) with 400, the other streams of the request with it. A 4 KiB value
/// (3-byte characters, so the cut must find a character boundary) is cut to 2048 bytes with
/// a hash at the end; two long values with one prefix stay two streams; ordinary streams
/// are as they were.
#[test]
fn a_stream_label_value_past_lokis_limit_is_cut_and_the_other_streams_kept() {
    let long_a = "서".repeat(1366); // 4098 bytes
    let long_b = format!("{}b", "서".repeat(1366));
    let req = ExportLogsServiceRequest {
        resource_logs: vec![
            resource_logs(&[("service.name", "checkout")], vec![record(1, "c1")]),
            resource_logs(&[("service.name", &long_a)], vec![record(2, "a")]),
            resource_logs(&[("service.name", &long_b)], vec![record(3, "b")]),
            resource_logs(&[("service.name", "cart")], vec![record(4, "c2")]),
        ],
    };
    let (push, cut, _) = push_request(
        &labels(&["service.name"]),
        &EntryLimits::labels_only(2048),
        &req,
        0,
    );
    assert_eq!(cut, 2);
    assert_eq!(push.streams.len(), 4);
    assert_eq!(push.streams[0].labels, r#"{service_name="checkout"}"#);
    assert_eq!(push.streams[3].labels, r#"{service_name="cart"}"#);
    let value = |i: usize| {
        let l = &push.streams[i].labels;
        l["{service_name=\"".len()..l.len() - 2].to_string()
    };
    let (a, b) = (value(1), value(2));
    assert_ne!(a, b);
    for v in [&a, &b] {
        assert!(v.len() <= 2048, "{} bytes", v.len());
        let (prefix, hash) = v.rsplit_once('~').unwrap();
        assert!(long_a.starts_with(prefix) && prefix.len() > 2000);
        assert_eq!(hash.len(), 16);
        assert!(hash.bytes().all(|c| c.is_ascii_hexdigit()));
    }
    // The same value is cut the same way in every request: one stream over time.
    let (again, _, _) = push_request(
        &labels(&["service.name"]),
        &EntryLimits::labels_only(2048),
        &req,
        0,
    );
    assert_eq!(again.streams[1].labels, push.streams[1].labels);
    // 0: no limit.
    let (whole, cut, _) = push_request(
        &labels(&["service.name"]),
        &EntryLimits::labels_only(0),
        &req,
        0,
    );
    assert_eq!(cut, 0);
    assert!(whole.streams[1].labels.contains(&long_a));
}

/// Loki's per-entry limits at their defaults (`LokiConfig::new`), at `now`: a line past
/// `max_line_size` truncated with its length, the attributes past 128 pairs or 64,000
/// bytes left out in their order (a small one after a large one kept), a record past
/// `reject_old_samples_max_age` or `creation_grace_period` dropped, and each counted once
/// per record; the other records as they were.
#[test]
fn entries_past_lokis_per_entry_limits_are_cut_or_dropped_alone() {
    let limits = EntryLimits::new(&LokiConfig::new("http://loki"));
    let now: u64 = 1_800_000_000_000_000_000;
    let day = 86_400_000_000_000;
    let with = |mut r: LogRecord, attrs: Vec<KeyValue>| {
        r.attributes = attrs;
        r
    };
    let many = (0..200).map(|i| kv(&format!("k{i}"), "v")).collect();
    let big = "b".repeat(40_000);
    let large = vec![
        kv("first", big.as_str()),
        kv("second", big.as_str()),
        kv("small", "s"),
    ];
    let mut traced = record(now, "traced");
    traced.trace_id = vec![1; 16];
    traced.severity_number = 9;
    let req = ExportLogsServiceRequest {
        resource_logs: vec![
            resource_logs(
                &[("service.name", "hostile")],
                vec![
                    record(now - 1, &"x".repeat(300_000)),
                    with(record(now - 2, "many"), many),
                    with(record(now - 3, "large"), large),
                    record(now - 8 * day, "old"),
                    record(now + 11 * 60_000_000_000, "ahead"),
                    record(now - 7 * day + 1, "week"),
                    record(now + 9 * 60_000_000_000, "soon"),
                    with(
                        traced,
                        (0..200).map(|i| kv(&format!("t{i}"), "v")).collect(),
                    ),
                ],
            ),
            resource_logs(&[("service.name", "cart")], vec![record(now - 4, "ok")]),
        ],
    };
    let (push, _, tally) = push_request(&labels(&["service.name"]), &limits, &req, now);
    let lines: Vec<&str> = push.streams[0]
        .entries
        .iter()
        .map(|e| &e.line[..e.line.len().min(6)])
        .collect();
    assert_eq!(lines, ["week", "large", "many", "xxxxxx", "traced", "soon"]);
    let entry = |line: &str| {
        push.streams[0]
            .entries
            .iter()
            .find(|e| e.line.starts_with(line))
            .unwrap()
    };
    let long = &entry("xxx").line;
    assert!(long.len() <= 256_000 && long.ends_with("…[truncated 300000 bytes]"));
    let names = |e: &loki::Entry| -> Vec<String> {
        e.structured_metadata
            .iter()
            .map(|p| p.name.clone())
            .collect()
    };
    let expected: Vec<String> = (0..128).map(|i| format!("k{i}")).collect();
    assert_eq!(names(entry("many")), expected);
    assert_eq!(names(entry("large")), ["first", "small"]);
    // trace_id, severity_text and severity_number count among the 128.
    let traced = names(entry("traced"));
    assert_eq!(traced.len(), 128);
    assert_eq!(
        traced[..3],
        ["trace_id", "severity_text", "severity_number"]
    );
    assert_eq!(traced[127], "t124");
    assert_eq!(push.streams[1].entries.len(), 1);
    assert_eq!(push.streams[1].entries[0].line, "ok");
    assert_eq!(
        [
            Reason::LineTruncated,
            Reason::MetadataDropped,
            Reason::TooOld,
            Reason::TooNew,
            Reason::LabelNameCut,
        ]
        .map(|r| tally.get(r)),
        [1, 3, 1, 1, 0]
    );
    // A stream whose every record is dropped is not sent.
    let old = ExportLogsServiceRequest {
        resource_logs: vec![resource_logs(
            &[("service.name", "a")],
            vec![record(1, "x")],
        )],
    };
    let (push, _, tally) = push_request(&labels(&["service.name"]), &limits, &old, now);
    assert!(push.streams.is_empty());
    assert_eq!(tally.get(Reason::TooOld), 1);
}
