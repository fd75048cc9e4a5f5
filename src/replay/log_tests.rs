//! Replay of log SLIs: the capture holds every record's log facts beside the span facts,
//! the replay merges the two kinds' files by receipt time, and its answer equals the live
//! API's (counts, groups, unreadable latencies, percentiles, late drops); a field the
//! capture lacks is refused, one named in `slo.capture.columns` replays by hand count.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{ArrayValue, KeyValueList};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::Span;

use super::tests::{
    MS, S, T0, args, refusal, replay, replayed, slos_in, start, stop_at, write_slos,
};
use super::*;
use crate::attr::{AttrValue, kv};
use crate::test_otlp::{logs_request, traces_request};

const SLOS: &str = r#"
service: edge
slos:
  - name: availability
    objective: 99
    window: 7d
    sli:
      logs:
        where: resource.attributes["service.name"] == "edge" and body["status"] != nil
        bad: body["status"] >= 500 or attributes["retries"] > 2
  - name: latency
    objective: 95
    window: 7d
    sli:
      logs:
        where: resource.attributes["service.name"] == "edge" and severity_number >= SEVERITY_NUMBER_INFO
        latency:
          field: body["timing"]["request_time"]
          unit: s
        latency_threshold: 250ms
    percentiles: [50, 90, 99]
    group_by: ['body["upstream"]', 'attributes["tags"]']
  - name: spans
    objective: 99
    window: 7d
    sli:
      spans:
        where: kind == SPAN_KIND_SERVER
        latency_threshold: 100ms
"#;

/// One access-log record of minute `minute`, number `i`: its body a JSON line or a map,
/// numbers written as numbers or as strings, `-` and missing times, an array attribute.
fn record(minute: u64, i: u64, now: u64) -> LogRecord {
    let status = if (i + minute).is_multiple_of(13) {
        503
    } else {
        200
    };
    let ms = 20 + (i * 53 + minute * 7) % 400;
    let upstream = ["cart", "pay"][(i % 2) as usize];
    let time = match i % 7 {
        0 => "\"-\"".to_string(),
        1 => "null".to_string(),
        2 => format!("\"{}.{:03}\"", ms / 1000, ms % 1000),
        _ => format!("{}.{:03}", ms / 1000, ms % 1000),
    };
    let body = if i.is_multiple_of(3) {
        // A map body, as a collector's json_parser makes it.
        let timing = match i % 7 {
            0 => vec![kv("request_time", "-")],
            1 => Vec::new(),
            _ => vec![kv("request_time", Value::DoubleValue(ms as f64 / 1000.0))],
        };
        Value::KvlistValue(KeyValueList {
            values: vec![
                kv("status", Value::IntValue(status)),
                kv("upstream", upstream),
                kv(
                    "timing",
                    Value::KvlistValue(KeyValueList { values: timing }),
                ),
            ],
        })
        .into_any_value()
    } else if i % 11 == 5 {
        "GET /health 200 cut-off line, not JSON".into_any_value()
    } else {
        let status = if i.is_multiple_of(2) {
            format!("\"{status}\"")
        } else {
            status.to_string()
        };
        format!(
            r#"{{"status":{status},"upstream":"{upstream}","timing":{{"request_time":{time}}}}}"#
        )
        .into_any_value()
    };
    let tags = Value::ArrayValue(ArrayValue {
        values: vec![["web", "api"][(i % 2) as usize].into_any_value()],
    });
    LogRecord {
        // Some records carry their event time, the others count at their observed time.
        time_unix_nano: if i.is_multiple_of(2) {
            now - (i % 5) * S
        } else {
            0
        },
        observed_time_unix_nano: now,
        severity_number: if i % 10 == 9 { 5 } else { 9 },
        body: Some(body),
        attributes: vec![
            kv("retries", Value::IntValue((i % 4) as i64)),
            kv("tags", tags),
        ],
        ..Default::default()
    }
}

fn logs(records: Vec<LogRecord>, cluster: &str) -> ExportLogsServiceRequest {
    logs_request(
        vec![kv("service.name", "edge"), kv("k8s.cluster.name", cluster)],
        records,
    )
}

fn spans(now: u64, n: u64) -> ExportTraceServiceRequest {
    let spans = (0..n)
        .map(|i| Span {
            name: "GET /".into(),
            kind: 2,
            start_time_unix_nano: now - (50 + i * 10) * MS,
            end_time_unix_nano: now,
            ..Default::default()
        })
        .collect();
    traces_request(
        vec![kv("service.name", "edge"), kv("k8s.cluster.name", "seoul")],
        spans,
    )
}

/// 20 minutes of log requests from two clusters with span requests between them, and one
/// late record.
fn traffic(engine: &Engine, clock: &crate::slo::engine::ManualClock) -> u64 {
    let mut sent = 0;
    for minute in 0..20u64 {
        let now = T0 + minute * 60 * S;
        clock.set(now);
        for (c, cluster) in ["seoul", "busan"].into_iter().enumerate() {
            let mut records: Vec<LogRecord> = (0..25 + 5 * c as u64)
                .map(|i| record(minute, i, now))
                .collect();
            if minute == 10 && c == 0 {
                let mut late = record(minute, 4, now);
                late.time_unix_nano = now - 600 * S;
                records.push(late);
            }
            sent += records.len() as u64;
            engine.record_logs_from(&logs(records, cluster), None, Some("acme"), None);
            clock.set(now + (c as u64 + 1) * S);
            engine.record_spans_from(&spans(now, 4), None, Some("acme"), None);
        }
    }
    sent
}

#[test]
fn replay_of_captured_log_facts_equals_the_live_api() {
    let (dir, slos, engine, clock, capture) = start(SLOS);
    let sent = traffic(&engine, &clock);
    let end = T0 + 19 * 60 * S + 30 * S;
    let live_api = stop_at(&engine, &clock, &capture, end);
    let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(load(&capture.counters().log_records), sent);
    assert_eq!(load(&capture.counters().spans), 20 * 2 * 4);
    let files = crate::slo::capture::list_files(&dir.path().join("capture")).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("logs-")), "{names:?}");

    let report = replay(&args(dir.path(), &slos, Some(end)));
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.log_records, sent);
    assert_eq!(report.spans, 20 * 2 * 4);
    assert_eq!(report.batches, 20 * 2 * 2);
    assert_eq!(replayed(&report), live_api);

    // The live answer has what a replay must get right: counts, a late drop left out,
    // groups by a body field and an array attribute, unreadable latencies, percentiles.
    let entries = live_api["slos"].as_array().unwrap();
    let find = |name: &str, cluster: &str| {
        entries
            .iter()
            .find(|s| s["name"] == name && s["cluster"] == cluster && s.get("group").is_none())
            .unwrap()
    };
    // Per minute: 55 records, of which the cut-off lines (i % 11 == 5 but not a map body,
    // i % 3 == 0: i = 5 and 16 of each cluster) have no status.
    let per_minute = 55 - (2 + 2);
    assert_eq!(find("availability", "all")["total"], 20 * per_minute);
    let latency = find("latency", "all");
    assert!(latency["latency"]["p99"].as_f64().unwrap() > 0.0);
    // Unreadable latencies: the live engine's counts, replayed.
    let slo = |name: &str| {
        engine
            .slos()
            .into_iter()
            .find(|s| s.spec.name == name)
            .unwrap()
    };
    let live_unreadable = slo("latency").log_unreadable();
    assert_eq!(report.unreadable_latency.len(), 1);
    let replayed = &report.unreadable_latency[0];
    assert_eq!(replayed.name, "latency");
    assert_eq!(
        [
            replayed.counts["missing"],
            replayed.counts["dash"],
            replayed.counts["invalid"]
        ],
        live_unreadable
    );
    assert!(
        live_unreadable[0] > 0 && live_unreadable[1] > 0,
        "{live_unreadable:?}"
    );
    assert!(
        entries.iter().any(|s| s["name"] == "latency"
            && s["group"]["upstream"] == "pay"
            && s["group"]["tags"] == "[\"api\"]"),
        "{live_api}"
    );
    assert_eq!(slo("availability").dropped().late, 1);
}

/// The timeline sees span and log requests in the order they were received: each minute
/// the seoul logs come at the minute, then spans, busan's logs and spans a second apart, so
/// the sample at a minute holds that minute's seoul logs but neither its busan logs nor its
/// spans.
#[test]
fn the_timeline_sees_spans_and_logs_in_receipt_order() {
    let (dir, slos, engine, clock, capture) = start(SLOS);
    traffic(&engine, &clock);
    let end = T0 + 19 * 60 * S + 30 * S;
    let live_api = stop_at(&engine, &clock, &capture, end);
    let report = replay(&args(dir.path(), &slos, Some(end)));
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let total = |name: &str, cluster: &str| {
        live_api["slos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name && s["cluster"] == cluster && s.get("group").is_none())
            .unwrap()["total"]
            .as_u64()
            .unwrap()
    };
    // Every minute brings the same records per cluster (the late one is dropped).
    let (seoul, busan) = (
        total("availability", "seoul") / 20,
        total("availability", "busan") / 20,
    );
    assert_eq!(total("availability", "seoul"), 20 * seoul);
    assert!(seoul > 0 && busan > 0 && seoul != busan);
    let points = |name: &str, cluster: &str| {
        &report
            .timeline
            .iter()
            .find(|t| t.entry.name == name && t.entry.cluster == cluster && t.entry.group.is_none())
            .unwrap()
            .points
    };
    for minute in 1..20u64 {
        let at = rfc3339(T0 + minute * 60 * S);
        let point = |name: &str, cluster: &str| {
            points(name, cluster)
                .iter()
                .find(|p| p.time == at)
                .unwrap()
                .total
        };
        assert_eq!(point("availability", "seoul"), (minute + 1) * seoul, "{at}");
        assert_eq!(point("availability", "busan"), minute * busan, "{at}");
        assert_eq!(point("spans", "all"), minute * 2 * 4, "{at}");
    }
}

#[test]
fn a_log_field_the_capture_lacks_is_refused_and_a_captured_column_replays() {
    let (dir, _, engine, clock, capture) = start(SLOS);
    traffic(&engine, &clock);
    capture.close();
    let edited = SLOS.replace(
        "bad: body[\"status\"] >= 500 or attributes[\"retries\"] > 2",
        "bad: body[\"method\"] == \"POST\"",
    );
    let other = slos_in(dir.path(), "other", &edited);
    let err = refusal(&args(dir.path(), &other, None));
    assert!(err.to_string().contains("body[\"method\"]"), "{err}");
    assert!(err.to_string().contains("slo.capture.columns"), "{err}");

    // A threshold of 100ms over the captured fields: counted by hand from the records.
    let edited = SLOS.replace("latency_threshold: 250ms", "latency_threshold: 100ms");
    let other = write_slos(std::path::Path::new(&other).parent().unwrap(), &edited);
    let report = replay(&args(dir.path(), &other, None));
    let (mut total, mut good) = (0u64, 0u64);
    for minute in 0..20u64 {
        for c in 0..2u64 {
            for i in 0..25 + 5 * c {
                let cut_off = i % 11 == 5 && i % 3 != 0;
                let readable = !cut_off && i % 7 != 0 && i % 7 != 1;
                if i % 10 == 9 || !readable {
                    continue;
                }
                total += 1;
                good += u64::from(20 + (i * 53 + minute * 7) % 400 <= 100);
            }
        }
    }
    let all = report
        .slos
        .iter()
        .find(|s| s.name == "latency" && s.cluster == "all")
        .unwrap();
    // The late record (i = 4 of minute 10) is readable, INFO, and dropped.
    assert_eq!((all.total, all.good), (total, good));
}
