//! Log SLIs in the engine: event time (time, else observed time), lateness, clusters,
//! groups on body fields, unreadable latencies, and the write-ahead log replaying exactly
//! what was recorded.

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::LogRecord;

use super::tests::{S, engine, find};
use super::*;
use crate::attr::{AttrValue, kv};
use crate::test_otlp::{by_resource, logs_of};

const T0: u64 = 1_800_000_000 * S;

const SLOS: &str = r#"
service: edge
slos:
  - name: availability
    objective: 99
    window: 30d
    sli:
      logs:
        where: body["status"] != nil
        bad: body["status"] >= 500
  - name: latency
    objective: 99
    window: 30d
    sli:
      logs:
        where: body["status"] != nil
        latency:
          field: body["request_time"]
          unit: s
        latency_threshold: 250ms
    group_by: ['body["upstream"]']
"#;

/// (cluster, time, observed time, body)
fn request(records: &[(&str, u64, u64, &str)]) -> ExportLogsServiceRequest {
    logs_of(by_resource(records.iter().map(
        |(cluster, time, observed, body)| {
            let record = LogRecord {
                time_unix_nano: *time,
                observed_time_unix_nano: *observed,
                body: Some(body.into_any_value()),
                ..Default::default()
            };
            (vec![kv("k8s.cluster.name", *cluster)], record)
        },
    )))
}

fn slos() -> Vec<crate::slo::spec::Slo> {
    crate::slo::spec::parse_file(SLOS, "edge.yaml").expect("valid")
}

fn sample() -> ExportLogsServiceRequest {
    let now = T0;
    request(&[
        // Counted at its time.
        (
            "a",
            now - 10 * S,
            now,
            r#"{"status": 200, "request_time": 0.1, "upstream": "u1"}"#,
        ),
        // No time: counted at its observed time.
        (
            "a",
            0,
            now - S,
            r#"{"status": "503", "request_time": "0.3", "upstream": "u1"}"#,
        ),
        // Ten minutes old: late (allowed lateness 5m), whatever its observed time.
        (
            "a",
            now - 600 * S,
            now,
            r#"{"status": 500, "request_time": 0.2}"#,
        ),
        // Two minutes ahead: in the future (max 1m).
        (
            "b",
            now + 120 * S,
            now,
            r#"{"status": 200, "request_time": 0.2}"#,
        ),
        (
            "b",
            now - S,
            now,
            r#"{"status": 200, "request_time": "-", "upstream": "u2"}"#,
        ),
        (
            "b",
            now - S,
            now,
            r#"{"status": 404, "request_time": 0.25, "upstream": "u2"}"#,
        ),
        // Not JSON: no status, no event.
        ("b", now - S, now, r#"{"status": 500, "request_"#),
        ("b", now - S, now, "GET / 500"),
    ])
}

#[test]
fn log_records_count_at_their_time_by_cluster_and_group() {
    let clock = Arc::new(ManualClock::new(T0));
    let e = engine(slos(), clock.clone());
    e.record_logs(&sample(), None);
    let st = e.status();
    let avail = find(&st, "availability", "all");
    assert_eq!((avail.total, avail.good), (4, 3));
    assert_eq!(
        (
            find(&st, "availability", "a").total,
            find(&st, "availability", "b").total
        ),
        (2, 2)
    );
    let slo = e
        .slos()
        .into_iter()
        .find(|s| s.spec.name == "availability")
        .unwrap();
    assert_eq!(slo.dropped(), Dropped { late: 1, future: 1 });

    let latency = find(&st, "latency", "all");
    // `-` is not counted; 0.1 s and 0.25 s are good, 0.3 s is not.
    assert_eq!((latency.total, latency.good), (3, 2));
    let slo = e
        .slos()
        .into_iter()
        .find(|s| s.spec.name == "latency")
        .unwrap();
    assert_eq!(slo.log_unreadable(), [0, 1, 0]);
    let groups: Vec<(String, String, u64, u64)> = st
        .iter()
        .filter(|s| s.name == "latency" && s.group.is_some())
        .map(|s| {
            let g = s.group.as_ref().unwrap();
            (s.cluster.clone(), g.0[0].1.clone(), s.total, s.good)
        })
        .collect();
    assert!(
        groups.contains(&("a".into(), "u1".into(), 2, 1)),
        "{groups:?}"
    );
    assert!(
        groups.contains(&("b".into(), "u2".into(), 1, 1)),
        "{groups:?}"
    );

    // The token's cluster wins over the resource attribute.
    e.record_logs(&sample(), Some("seoul-prod"));
    let st = e.status();
    assert_eq!(find(&st, "availability", "seoul-prod").total, 4);

    // Windows move on: 6 minutes later the 5m window holds nothing.
    clock.advance(Duration::from_secs(360));
    let st = e.status();
    let five = find(&st, "availability", "all").burn_rate.0[0].clone();
    assert_eq!(five, ("5m".to_string(), None));
}

#[test]
fn the_write_ahead_log_replays_log_events_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let live = engine(slos(), clock.clone());
    let (log, _) = wal::Wal::open(&live, dir.path(), 64 << 20, 0).unwrap();
    live.attach_wal(log.clone());
    let mut unit = log.begin().expect("log takes deltas");
    live.record_logs_logged(&sample(), None, Some(&mut unit.enc));
    let (tx, rx) = std::sync::mpsc::channel();
    unit.commit(Some(Box::new(move |ok| {
        let _ = tx.send(ok);
    })));
    assert!(rx.recv().unwrap(), "durable");
    log.close();

    let restarted = engine(slos(), clock);
    let (_log, _) = wal::Wal::open(&restarted, dir.path(), 64 << 20, 0).unwrap();
    let strip = |mut v: Vec<GroupStatus>| {
        v.sort_by_key(|s| format!("{} {} {:?}", s.name, s.cluster, s.group));
        v.into_iter()
            .map(|s| (s.name, s.cluster, s.group, s.total, s.good, s.latency))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(restarted.status()), strip(live.status()));
    let restored = restarted
        .slos()
        .into_iter()
        .find(|s| s.spec.name == "availability")
        .unwrap();
    assert_eq!(restored.dropped(), Dropped { late: 1, future: 1 });
}
