//! Adjustments in SLO files, in the engine (exactly their events leave the budget, the
//! status entries and the series mark them) and in the store (saved, restored, audited).

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use super::store::{AUDIT, FILE, Store, StoreError};
use super::{Adjustment, Doc};
use crate::attr::kv;
use crate::slo::engine::{Engine, EngineConfig, GroupStatus, ManualClock};
use crate::slo::spec::{SloSet, parse_file};
use crate::test_otlp::{server_span, traces_request};

pub(super) const S: u64 = 1_000_000_000;
/// 2027-01-10T12:00:00Z, a Sunday.
pub(super) const T0: u64 = 1_799_582_400 * S;

const SLOS: &str = "service: checkout
slos:
  - name: availability
    objective: 99
    window: 30d
    sli:
      spans:
        where: kind == SPAN_KIND_SERVER
        bad: status.code == STATUS_CODE_ERROR
  - name: latency
    objective: 99
    window: 30d
    sli:
      spans:
        where: kind == SPAN_KIND_SERVER
        latency_threshold: 300ms
";

/// Server spans of `checkout`: (end time, error).
fn request(spans: &[(u64, bool)]) -> ExportTraceServiceRequest {
    request_in("c1", spans)
}

/// Server spans of `checkout` in `cluster`: (end time, error).
pub(super) fn request_in(cluster: &str, spans: &[(u64, bool)]) -> ExportTraceServiceRequest {
    let spans = spans
        .iter()
        .enumerate()
        .map(|(i, (end, error))| {
            server_span(i as u64 + 1, "GET /pay", end - 10_000_000, *end, *error)
        })
        .collect();
    traces_request(
        vec![
            kv("service.name", "checkout"),
            kv("k8s.cluster.name", cluster),
        ],
        spans,
    )
}

fn load(text: &str) -> SloSet {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkout.yaml");
    std::fs::write(&path, text).unwrap();
    crate::slo::spec::load(&[path.display().to_string()], false).unwrap()
}

fn engine(set: SloSet) -> (Arc<Engine>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    (
        Engine::new(EngineConfig::default(), clock.clone(), set),
        clock,
    )
}

fn all<'a>(st: &'a [GroupStatus], name: &str) -> &'a GroupStatus {
    st.iter()
        .find(|s| s.name == name && s.cluster == "all")
        .unwrap()
}

/// 1000 events outside the range (5 bad) and 200 bad ones inside it (from T0 − 60s to
/// T0 + 30s): the same traffic with and without the adjustment.
fn traffic() -> Vec<(u64, bool)> {
    let mut spans: Vec<(u64, bool)> = (0..1000)
        .map(|i| (T0 - 240 * S + i * 100_000_000, i % 200 == 0))
        .collect();
    spans.extend((0..200).map(|i| (T0 - 60 * S + i * 450_000_000, true)));
    spans
}

#[test]
fn an_adjustment_removes_exactly_its_events_from_the_budget() {
    let with = format!(
        "{SLOS}adjustments:
  - reason: database failover drill
    slos: [availability]
    start: \"{}\"
    end: \"{}\"
",
        super::rfc3339(T0 - 60 * S),
        super::rfc3339(T0 + 30 * S)
    );
    let (adjusted, _) = engine(load(&with));
    let (plain, _) = engine(load(SLOS));
    for e in [&adjusted, &plain] {
        e.record_spans(&request(&traffic()), None);
    }
    let (a, p) = (adjusted.status(), plain.status());
    let (a_av, p_av) = (all(&a, "availability"), all(&p, "availability"));
    // Without it: 1200 events, 205 bad.
    assert_eq!((p_av.total, p_av.good), (1200, 995));
    // With it: exactly the 200 inside the range are gone.
    assert_eq!((a_av.total, a_av.good), (1000, 995));
    assert_eq!(a_av.lifetime.total, 1000);
    // 5 bad of 1000 at 99%: half the budget left (hand computed).
    let left = a_av.error_budget_remaining.unwrap();
    assert!((left - 0.5).abs() < 1e-9, "{left}");
    assert_eq!(
        adjusted.adjustments().adjusted("checkout", "availability"),
        200
    );
    // `slos: [availability]`: the latency SLO keeps every event.
    assert_eq!(all(&a, "latency").total, 1200);
    assert_eq!(adjusted.adjustments().adjusted("checkout", "latency"), 0);
    // The status marks the range; the series say it is active.
    let marks = super::api::marks(&adjusted, "checkout", "availability", T0);
    assert_eq!(marks.len(), 1);
    assert!(marks[0].active);
    assert_eq!(marks[0].reason, "database failover drill");
    assert_eq!(marks[0].range.start, "2027-01-10T11:59:00Z");
    assert!(super::api::marks(&adjusted, "checkout", "latency", T0).is_empty());
    let families = super::series::families(&adjusted, &adjusted.status());
    let active = &families[0];
    assert_eq!(active.name, "slotel_slo_adjustment_active");
    let value = |slo: &str| {
        active
            .rows
            .iter()
            .find(|(l, _)| l.iter().any(|(k, v)| k == "slo" && v == slo))
            .unwrap()
            .1
    };
    assert_eq!((value("availability"), value("latency")), (1.0, 0.0));
}

#[test]
fn a_recurring_adjustment_excludes_each_occurrence_and_nothing_else() {
    // Sundays 11:58 to 12:01 UTC; T0 is a Sunday at 12:00.
    let text = format!(
        "{SLOS}adjustments:
  - reason: weekly restart
    rrule: FREQ=WEEKLY;BYDAY=SU;BYHOUR=11;BYMINUTE=58
    dtstart: 2026-01-04T11:58:00
    duration: 3m
"
    );
    let (e, clock) = engine(load(&text));
    // One event a second from 11:56 to 12:00: the last two minutes (120 events) are out.
    let spans: Vec<(u64, bool)> = (0..240).map(|i| (T0 - 240 * S + i * S, true)).collect();
    e.record_spans(&request(&spans), None);
    let st = e.status();
    assert_eq!(all(&st, "availability").total, 120);
    assert_eq!(all(&st, "latency").total, 120);
    // A week later, the same; in between, nothing is excluded.
    clock.set(T0 + 3 * 86_400 * S);
    let mid: Vec<(u64, bool)> = (0..60)
        .map(|i| (T0 + 3 * 86_400 * S - 60 * S + i * S, false))
        .collect();
    e.record_spans(&request(&mid), None);
    assert_eq!(all(&e.status(), "availability").total, 180);
    let marks = super::api::marks(&e, "checkout", "availability", T0 + 3 * 86_400 * S);
    assert!(!marks[0].active);
    assert_eq!(marks[0].range.start, "2027-01-17T11:58:00Z");
    assert_eq!(marks[0].range.end, "2027-01-17T12:01:00Z");
}

#[test]
fn file_adjustments_are_checked_with_their_place() {
    let bad = format!(
        "{SLOS}adjustments:
  - reason: typo
    slos: [availabilty]
    start: 2027-01-10T11:00:00Z
    end: 2027-01-10T12:00:00Z
  - reason: backwards
    start: 2027-01-10T12:00:00Z
    end: 2027-01-10T11:00:00Z
  - reason: both kinds
    start: 2027-01-10T12:00:00Z
    end: 2027-01-10T13:00:00Z
    rrule: FREQ=DAILY
  - reason: yearly
    rrule: FREQ=YEARLY
    dtstart: 2027-01-10T12:00:00
    duration: 1h
  - start: 2027-01-10T12:00:00Z
    end: 2027-01-10T13:00:00Z
  - reason: unknown key
    starts: 2027-01-10T12:00:00Z
"
    );
    let errors = parse_file(&bad, "checkout.yaml").unwrap_err();
    let text: Vec<String> = errors
        .iter()
        .map(|e| format!("{}:{} {}: {}", e.line, e.column, e.path, e.message))
        .collect();
    let has = |s: &str| text.iter().any(|t| t.contains(s));
    assert!(
        has("19:12 adjustments[0].slos[0]: no slo \"availabilty\" in this file"),
        "{text:#?}"
    );
    assert!(has("adjustments[1]: end must be after start"), "{text:#?}");
    assert!(
        has("adjustments[2]: give either start and end"),
        "{text:#?}"
    );
    assert!(
        has("adjustments[3]: rrule: FREQ=YEARLY is not supported"),
        "{text:#?}"
    );
    assert!(
        has("adjustments[4]: missing required field `reason`"),
        "{text:#?}"
    );
    assert!(has("adjustments[5].starts: unknown key"), "{text:#?}");
}

fn doc(reason: &str, start: u64, end: u64) -> Doc {
    Doc {
        service: "checkout".into(),
        reason: reason.into(),
        author: Some("alice".into()),
        start: Some(super::rfc3339(start)),
        end: Some(super::rfc3339(end)),
        ..Doc::default()
    }
}

#[test]
fn the_store_saves_restores_and_audits_who_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let (e, _) = engine(load(SLOS));
    let store = Store::open(Some(dir.path()), e.adjustments().clone());
    let a = store
        .create(doc("deploy of 4.2", T0, T0 + 3600 * S), T0)
        .unwrap();
    assert!(a.doc.id.starts_with("api-"));
    assert!(e.adjustments().active("checkout", "availability", T0 + S));
    let b = store
        .create(doc("cache warmup", T0 + 7200 * S, T0 + 7300 * S), T0)
        .unwrap();
    assert_ne!(a.doc.id, b.doc.id);
    store
        .delete(&a.doc.id, "bob", "deploy cancelled", T0)
        .unwrap();
    assert!(!e.adjustments().active("checkout", "availability", T0 + S));
    assert!(matches!(
        store.delete(&a.doc.id, "bob", "again", T0),
        Err(StoreError::NotFound(_))
    ));

    // A restart: the remaining one is back, in a new engine.
    let (e2, _) = engine(load(SLOS));
    let again = Store::open(Some(dir.path()), e2.adjustments().clone());
    let ids: Vec<String> = again.list().iter().map(|a| a.doc.id.clone()).collect();
    assert_eq!(ids, std::slice::from_ref(&b.doc.id));
    assert!(
        e2.adjustments()
            .active("checkout", "availability", T0 + 7250 * S)
    );

    let audit = std::fs::read_to_string(dir.path().join(AUDIT)).unwrap();
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["action"].as_str().unwrap(),
                l["author"].as_str().unwrap(),
                l["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("create", "alice", "deploy of 4.2"),
            ("create", "alice", "cache warmup"),
            ("delete", "bob", "deploy cancelled")
        ]
    );
}

#[test]
fn a_damaged_state_file_is_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(FILE), b"{\"adjustments\": [").unwrap();
    let (e, _) = engine(load(SLOS));
    let store = Store::open(Some(dir.path()), e.adjustments().clone());
    assert!(store.list().is_empty());
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|f| {
            f.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("adjustments.json.corrupt-")
        })
        .count();
    assert_eq!(aside, 1);
}

#[test]
fn the_store_is_bounded() {
    let (e, _) = engine(load(SLOS));
    let store = Store::open(None, e.adjustments().clone());
    for i in 0..super::store::MAX_ADJUSTMENTS as u64 {
        store
            .create(
                doc("window", T0 + i * 3600 * S, T0 + (i + 1) * 3600 * S),
                T0,
            )
            .unwrap();
    }
    let more = store.create(doc("one more", T0, T0 + 60 * S), T0);
    assert!(matches!(more, Err(StoreError::Full)));
    // Once the first has ended, it makes room.
    store
        .create(doc("one more", T0 + 7200 * S, T0 + 7260 * S), T0 + 3601 * S)
        .unwrap();
}

#[test]
fn invalid_documents_say_which_field() {
    let err = |d: Doc| Adjustment::new(d).unwrap_err().to_string();
    let mut d = doc("x", T0, T0 + 60 * S);
    d.reason = " ".into();
    assert!(err(d).contains("reason is required"));
    let d = doc("x", T0, T0 + 40 * 86_400 * S);
    assert!(err(d).contains("at most 31 days"));
    let mut d = doc("x", T0, T0 + 60 * S);
    d.start = Some("yesterday".into());
    assert!(err(d).contains("start: \"yesterday\" is not an RFC 3339 instant"));
    let d = Doc {
        service: "checkout".into(),
        reason: "x".into(),
        rrule: Some("FREQ=DAILY".into()),
        dtstart: Some("2027-01-10T02:00:00".into()),
        ..Doc::default()
    };
    assert!(err(d).contains("needs rrule, dtstart and duration"));
    let d = Doc {
        service: "checkout".into(),
        reason: "x".into(),
        rrule: Some("FREQ=DAILY".into()),
        dtstart: Some("2027-01-10T02:00:00".into()),
        time_zone: Some("Mars/Olympus".into()),
        duration: Some("1h".into()),
        ..Doc::default()
    };
    assert!(err(d).contains("unknown time zone"));
}
