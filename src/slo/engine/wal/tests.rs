//! The log's encoding, framing and damage handling, and replay against live recording:
//! a crash at any point after a snapshot comes back to the live state exactly, with
//! nothing counted twice.

use std::path::Path;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, HistogramDataPoint, NumberDataPoint, number_data_point,
};

use super::record::{self, Encoder, Section, SegmentReader};
use super::*;
use crate::attr::kv;
use crate::slo::engine::metrics::SeriesRecord;
use crate::slo::engine::tests::{S, request};
use crate::slo::engine::window::Counts;
use crate::slo::engine::{Dropped, EngineConfig, ManualClock, snapshot};
use crate::slo::spec;
use crate::test_otlp::{counter, histogram, metrics_request, spans_mut};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

const T0: u64 = 1_800_000_000 * S;

fn key(cluster: &str, extra: &[&str]) -> GroupKey {
    GroupKey {
        cluster: cluster.into(),
        extra: extra.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn sections_decode_to_what_was_encoded() {
    let mut enc = Encoder::default();
    enc.begin_spans(7);
    enc.span(&key("seoul", &["/pay"]), T0, true, 1_200);
    enc.span(&key("busan", &[]), T0 - 5 * S, false, 0);
    enc.span(&key("seoul", &["/pay"]), T0 + 3, true, u64::MAX);
    enc.dropped(Dropped { late: 2, future: 1 });
    enc.begin_metrics(9);
    let lifetime = Counts { good: 3, total: 5 };
    enc.counts(&key("seoul", &[]), T0, -4, 5, lifetime);
    enc.carry(&key("seoul", &[]), 11);
    enc.series(&[SeriesRecord {
        name: "http.server.requests".into(),
        threshold: Some(0.25f64.to_bits()),
        base: 42,
        start: T0 - S,
        time: T0,
        count: 10,
        good: 4,
    }]);
    let bodies = enc.finish();
    assert_eq!(bodies.len(), 1);
    let sections = record::decode(&bodies[0]).expect("decodes");
    let [
        Section::Spans(spans),
        Section::Metrics(metrics),
        Section::Series(s),
    ] = &sections[..]
    else {
        panic!("three sections");
    };
    assert_eq!(spans.slo, 7);
    assert_eq!(spans.dropped, Dropped { late: 2, future: 1 });
    let events: Vec<_> = spans
        .spans()
        .map(|e| (spans.keys[e.key].clone(), e.t, e.good, e.latency))
        .collect();
    assert_eq!(
        events,
        vec![
            (key("seoul", &["/pay"]), T0, true, 1_200),
            (key("busan", &[]), T0 - 5 * S, false, 0),
            (key("seoul", &["/pay"]), T0 + 3, true, u64::MAX),
        ]
    );
    assert_eq!(metrics.slo, 9);
    let counts: Vec<_> = metrics.counts().collect();
    assert_eq!(counts.len(), 1);
    assert_eq!(
        (
            counts[0].t,
            counts[0].good,
            counts[0].total,
            counts[0].lifetime
        ),
        (T0, -4, 5, lifetime)
    );
    assert_eq!(metrics.carries().collect::<Vec<_>>(), vec![(0, 11)]);
    assert_eq!(s[0].name, "http.server.requests");
    assert_eq!(s[0].threshold, Some(0.25f64.to_bits()));
    assert_eq!((s[0].base, s[0].count, s[0].good), (42, 10, 4));
}

#[test]
fn bodies_that_lie_about_their_counts_are_refused_without_allocating() {
    // A span section claiming 2^60 keys in a few bytes.
    let mut body = vec![1u8];
    body.extend_from_slice(&7u64.to_le_bytes());
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]);
    assert!(record::decode(&body).is_err());
    // Unknown tag, truncated varint, key index past the table.
    assert!(record::decode(&[9]).is_err());
    assert!(record::decode(&[1, 0, 0]).is_err());
    let mut enc = Encoder::default();
    enc.begin_spans(1);
    enc.span(&key("a", &[]), T0, true, 5);
    let mut b = enc.finish().remove(0);
    // The event's key index (0, good) becomes 1 (index 0, still) → 4 (index 2): past the
    // one key of the table.
    // tag, id, late, future, key count, "a" (2), extras, event count: the event is next.
    let at = 1 + 8 + 1 + 1 + 1 + 2 + 1 + 1;
    assert_eq!(b[at], 1);
    b[at] = 4;
    assert!(record::decode(&b).is_err());
}

fn frames(bodies: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for b in bodies {
        let lsn = 1_000 + out.len() as u64;
        record::frame(lsn, b, &mut out);
    }
    out
}

fn read_all(bytes: &[u8]) -> (Vec<Vec<u8>>, record::ReadStats) {
    let mut r = SegmentReader::new(bytes, 1_000);
    let mut out = Vec::new();
    while let Some((_, _, body)) = r.next_frame().expect("reads") {
        out.push(body.to_vec());
    }
    (out, r.stats)
}

#[test]
fn a_torn_tail_is_skipped_and_counted() {
    let bytes = frames(&[b"one", b"two", b"three"]);
    for cut in 1..record::framed_len(5) {
        let (bodies, stats) = read_all(&bytes[..bytes.len() - cut]);
        assert_eq!(bodies, vec![b"one".to_vec(), b"two".to_vec()], "cut {cut}");
        assert_eq!(stats.torn, 1, "cut {cut}");
        assert_eq!(stats.damaged, 0, "cut {cut}");
    }
    let (bodies, stats) = read_all(&bytes);
    assert_eq!(bodies.len(), 3);
    assert_eq!(stats, record::ReadStats::default());
}

#[test]
fn a_damaged_frame_is_skipped_and_the_next_ones_are_read() {
    let bytes = frames(&[b"one", b"two", b"three"]);
    let second = record::framed_len(3);
    // Any byte of the second frame flipped: its CRCs (or position) tell.
    for at in second..second + record::framed_len(3) {
        let mut b = bytes.clone();
        b[at] ^= 0x5a;
        let (bodies, stats) = read_all(&b);
        assert_eq!(
            bodies,
            vec![b"one".to_vec(), b"three".to_vec()],
            "byte {at} damaged"
        );
        assert_eq!(stats.damaged, 1, "byte {at}");
        assert_eq!(stats.torn, 0, "byte {at}");
    }
    // Garbage between frames, and a frame written at the wrong position.
    let mut b = frames(&[b"one"]);
    b.extend_from_slice(&[0xff; 100]);
    let mut misplaced = Vec::new();
    record::frame(1, b"elsewhere", &mut misplaced);
    b.extend_from_slice(&misplaced);
    let lsn = 1_000 + b.len() as u64;
    record::frame(lsn, b"last", &mut b);
    let (bodies, stats) = read_all(&b);
    assert_eq!(bodies, vec![b"one".to_vec(), b"last".to_vec()]);
    assert_eq!(stats.damaged, 1, "one damaged region");
}

#[test]
fn a_huge_length_in_a_damaged_header_allocates_nothing() {
    let mut b = frames(&[b"one"]);
    let mut bad = Vec::new();
    record::frame(1_000 + b.len() as u64, &[0u8; 8], &mut bad);
    bad[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    let crc = crc32fast::hash(&bad[..16]);
    bad[16..20].copy_from_slice(&crc.to_le_bytes());
    b.extend_from_slice(&bad);
    let (bodies, stats) = read_all(&b);
    assert_eq!(bodies, vec![b"one".to_vec()]);
    assert_eq!(stats.damaged, 1);
}

fn examples(now: u64) -> (Arc<Engine>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(now));
    let set = spec::load(&["embedded:examples".to_string()], false).expect("example slos");
    (
        Engine::new(EngineConfig::default(), clock.clone(), set),
        clock,
    )
}

/// Everything an SLO keeps across restarts: status of every group and window, and each
/// group's lifetime counters and lifetime latency histogram. (Drop counters and effective
/// thresholds are since the start of the process, in no snapshot.)
fn shown(e: &Engine) -> Vec<String> {
    let mut out: Vec<String> = e
        .status()
        .into_iter()
        .map(|mut s| {
            s.effective_threshold = None;
            format!("{s:?}")
        })
        .collect();
    for slo in e.slos() {
        let st = slo.state();
        for (key, g) in &st.groups {
            // (Requests recorded at once from several threads may reach a group in
            // another order than the log's: the latencies' sum, whole nanoseconds, is the
            // same in any order.)
            let native = g.native.get();
            out.push(format!(
                "{}/{} {key:?} lifetime {:?} native {native:?}",
                slo.spec.service, slo.spec.name, g.lifetime
            ));
        }
        out.push(format!(
            "{}/{} overflowed {}",
            slo.spec.service, slo.spec.name, st.overflowed
        ));
    }
    out.push(format!("{:?}", e.metric_stats().series));
    out.sort();
    out
}

fn dropped(e: &Engine) -> Vec<Dropped> {
    e.slos().iter().map(|s| s.dropped()).collect()
}

/// Asserts two [`shown`] lists are equal, printing the first difference only.
#[track_caller]
fn same(a: &[String], b: &[String]) {
    let cut = |s: &str| s.chars().take(600).collect::<String>();
    for (x, y) in a.iter().zip(b) {
        if x != y {
            let at = x.chars().zip(y.chars()).take_while(|(p, q)| p == q).count();
            let from = at.saturating_sub(200);
            panic!(
                "differ at char {at}:\n  {}\n  {}",
                cut(&x.chars().skip(from).collect::<String>()),
                cut(&y.chars().skip(from).collect::<String>())
            );
        }
    }
    assert_eq!(a.len(), b.len());
}

fn total(e: &Engine, name: &str, cluster: &str) -> u64 {
    e.status()
        .iter()
        .find(|s| s.name == name && s.cluster == cluster)
        .map_or(0, |s| s.total)
}

/// Records through the log as the connector does and waits until it is durable.
fn record_spans(e: &Engine, req: &ExportTraceServiceRequest) {
    let wal = e.wal().expect("log attached");
    let mut unit = wal.begin().expect("log takes deltas");
    e.record_spans_logged(req, None, Some(&mut unit.enc));
    let (tx, rx) = std::sync::mpsc::channel();
    unit.commit(Some(Box::new(move |ok| {
        let _ = tx.send(ok);
    })));
    assert!(rx.recv().expect("completes"), "durable");
}

fn record_metrics(e: &Engine, req: &ExportMetricsServiceRequest) {
    let wal = e.wal().expect("log attached");
    let mut unit = wal.begin().expect("log takes deltas");
    e.record_metrics_logged(req, None, None, None, Some(&mut unit.enc));
    let (tx, rx) = std::sync::mpsc::channel();
    unit.commit(Some(Box::new(move |ok| {
        let _ = tx.send(ok);
    })));
    assert!(rx.recv().expect("completes"), "durable");
}

/// A restart after `kill -9`: a new engine restores the snapshot and replays the log.
fn restart(dir: &Path, now: u64) -> (Arc<Engine>, Replayed) {
    let (e, _) = examples(now);
    let restored = snapshot::restore(&e, dir);
    let (wal, replayed) = Wal::open(&e, dir, 64 << 20, restored.wal_position).expect("log opens");
    drop(wal);
    (e, replayed)
}

/// Spans for checkout's SLOs: `n` server spans on `/api/pay` or `/api/cart` in two
/// clusters, every third an error, durations spread over 1 ms … 1 s, some late and some
/// in the future.
fn spans(n: usize, now: u64, seed: u64) -> ExportTraceServiceRequest {
    let mut req = ExportTraceServiceRequest::default();
    for i in 0..n as u64 {
        let x = i
            .wrapping_mul(2_654_435_761)
            .wrapping_add(seed.wrapping_mul(7_919));
        let cluster = if x % 2 == 0 { "seoul" } else { "busan" };
        let end = match x % 17 {
            0 => now - 600 * S,
            1 => now + 600 * S,
            _ => now - (x % 240) * S,
        };
        let dur = 1_000_000 + (x % 1_000) * 1_000_000;
        let mut one = request(&[(cluster, end, dur, x % 3 == 0)]);
        let route = if x % 5 == 0 { "/api/cart" } else { "/api/pay" };
        for sp in spans_mut(&mut one) {
            sp.attributes.push(kv("http.route", route));
        }
        req.resource_spans.extend(one.resource_spans);
    }
    req
}

#[test]
fn replay_after_a_snapshot_gives_the_live_state_exactly_and_counts_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (live, clock) = examples(T0);
    let (wal, replayed) = Wal::open(&live, dir.path(), 64 << 20, 0).unwrap();
    assert_eq!(replayed.frames, 0);
    for i in 0..5 {
        record_spans(&live, &spans(300, T0, i));
    }
    // The segments before the snapshot are kept here, as if slotel died before deleting
    // them: replay must skip their frames by position.
    let kept: Vec<_> = std::fs::read_dir(dir.path().join(DIR))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    snapshot::write(&live, dir.path()).unwrap();
    clock.advance(std::time::Duration::from_secs(30));
    for i in 5..9 {
        record_spans(&live, &spans(300, T0 + 30 * S, i));
    }
    assert!(total(&live, "pay-latency", "all") > 0);
    assert!(live.slos().iter().any(|s| s.dropped().late > 0));
    wal.close();
    for (p, bytes) in &kept {
        if !p.exists() {
            std::fs::write(p, bytes).unwrap();
        }
    }
    // A restart ten minutes later: replay does not judge lateness again, so the state is
    // what live recording made of it, seen at the same moment.
    clock.advance(std::time::Duration::from_secs(600));
    let (after, r) = restart(dir.path(), T0 + 630 * S);
    assert!(r.applied >= 4, "{r:?}");
    assert!(
        r.frames > r.applied,
        "frames before the snapshot were read and skipped"
    );
    assert_eq!(r.read, ReadStats::default());
    same(&shown(&after), &shown(&live));
}

#[test]
fn without_the_log_what_followed_the_snapshot_is_lost() {
    // The converse of the test above, so that it cannot pass by accident: the snapshot
    // alone misses what was recorded after it.
    let dir = tempfile::tempdir().unwrap();
    let (live, clock) = examples(T0);
    let (wal, _) = Wal::open(&live, dir.path(), 64 << 20, 0).unwrap();
    record_spans(&live, &spans(100, T0, 1));
    snapshot::write(&live, dir.path()).unwrap();
    clock.advance(std::time::Duration::from_secs(1));
    record_spans(&live, &spans(100, T0, 2));
    let live_total = total(&live, "availability", "all");
    wal.close();
    let (snap_only, _) = examples(T0 + S);
    snapshot::restore(&snap_only, dir.path());
    assert!(total(&snap_only, "availability", "all") < live_total);
    let (replayed, _) = restart(dir.path(), T0 + S);
    assert_eq!(total(&replayed, "availability", "all"), live_total);
}

#[test]
fn a_second_crash_after_replay_counts_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (live, _) = examples(T0);
    let (wal, _) = Wal::open(&live, dir.path(), 64 << 20, 0).unwrap();
    record_spans(&live, &spans(200, T0, 1));
    let want = shown(&live);
    wal.close();
    // Two restarts without a snapshot in between: the second replays the same frames
    // once, and the new (empty) segment of the first adds nothing.
    let (first, _) = restart(dir.path(), T0);
    same(&shown(&first), &want);
    drop(first);
    let (second, r) = restart(dir.path(), T0);
    same(&shown(&second), &want);
    assert_eq!(
        dropped(&second),
        dropped(&live),
        "late and future drops replayed too"
    );
    assert!(dropped(&live).iter().any(|d| d.late > 0 && d.future > 0));
    assert_eq!(r.segments, 2);
    // And a snapshot of the replayed state then more spans, then a crash.
    let (e, _) = examples(T0);
    snapshot::restore(&e, dir.path());
    let (w, _) = Wal::open(&e, dir.path(), 64 << 20, 0).unwrap();
    snapshot::write(&e, dir.path()).unwrap();
    record_spans(&e, &spans(50, T0, 9));
    let want = shown(&e);
    w.close();
    drop(w);
    let (third, _) = restart(dir.path(), T0);
    same(&shown(&third), &want);
}

#[test]
fn torn_and_damaged_frames_on_disk_are_skipped_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let (live, _) = examples(T0);
    let (wal, _) = Wal::open(&live, dir.path(), 64 << 20, 0).unwrap();
    for i in 0..3 {
        record_spans(&live, &spans(20, T0, i));
    }
    wal.close();
    let seg = list_segments(&dir.path().join(DIR)).unwrap()[0];
    let path = segment_path(&dir.path().join(DIR), seg);
    let mut bytes = std::fs::read(&path).unwrap();
    // Damage the first frame's body, and append half a frame (a torn write).
    bytes[record::HEADER + 3] ^= 0xff;
    let mut torn = Vec::new();
    record::frame(seg + bytes.len() as u64, &[1, 2, 3, 4, 5, 6], &mut torn);
    bytes.extend_from_slice(&torn[..torn.len() / 2]);
    std::fs::write(&path, &bytes).unwrap();
    let (after, r) = restart(dir.path(), T0);
    assert_eq!(r.read.damaged, 1, "{r:?}");
    assert_eq!(r.read.torn, 1, "{r:?}");
    assert_eq!(r.applied, 2);
    // The first request is missing, the other two are there.
    let (two, _) = examples(T0);
    two.record_spans(&spans(20, T0, 1), None);
    two.record_spans(&spans(20, T0, 2), None);
    same(&shown(&after), &shown(&two));
    // Writing resumes past the torn bytes, in a new segment.
    assert_eq!(r.end, seg + bytes.len() as u64);
}

#[test]
fn a_snapshot_deletes_the_segments_it_covers() {
    let dir = tempfile::tempdir().unwrap();
    let (live, _) = examples(T0);
    let (wal, _) = Wal::open(&live, dir.path(), 64 << 20, 0).unwrap();
    for i in 0..3 {
        record_spans(&live, &spans(50, T0, i));
    }
    snapshot::write(&live, dir.path()).unwrap();
    record_spans(&live, &spans(50, T0, 7));
    snapshot::write(&live, dir.path()).unwrap();
    record_spans(&live, &spans(50, T0, 8));
    // Deletion runs on the flusher: wait for it (up to 10 s: a loaded machine runs it late).
    for _ in 0..1000 {
        if wal.segment_count() == 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(wal.segment_count(), 1);
    assert_eq!(list_segments(&dir.path().join(DIR)).unwrap().len(), 1);
    let (next, durable, held) = wal.positions();
    assert_eq!(next, durable);
    assert!(
        held > 0 && held < 8_192,
        "only the last request is held: {held}"
    );
}

#[test]
fn the_log_asks_for_a_snapshot_past_its_limit_and_refuses_past_twice_that() {
    let dir = tempfile::tempdir().unwrap();
    let (live, _) = examples(T0);
    let (wal, _) = Wal::open(&live, dir.path(), 4_096, 0).unwrap();
    let wanted = || {
        rt_block(async {
            tokio::time::timeout(std::time::Duration::from_millis(10), wal.snapshot_wanted())
                .await
                .is_ok()
        })
    };
    assert!(!wanted());
    while wal.refusing().is_none() {
        record_spans(&live, &spans(50, T0, 1));
        assert!(wal.positions().2 < 2 * 4_096 + 16_384, "bounded");
    }
    assert!(wanted(), "a snapshot was asked for");
    assert!(wal.begin().is_err());
    snapshot::write(&live, dir.path()).unwrap();
    assert!(wal.refusing().is_none(), "a snapshot makes room");
    assert!(wal.begin().is_ok());
}

fn rt_block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn concurrent_requests_share_syncs_and_each_completes_once_durable() {
    let dir = tempfile::tempdir().unwrap();
    let (live, _) = examples(T0);
    let (wal, _) = Wal::open(&live, dir.path(), 64 << 20, 0).unwrap();
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    std::thread::scope(|s| {
        for t in 0..8 {
            let (live, wal, done) = (&live, &wal, done.clone());
            s.spawn(move || {
                for i in 0..25 {
                    let mut unit = wal.begin().unwrap();
                    live.record_spans_logged(
                        &spans(10, T0, t * 100 + i),
                        None,
                        Some(&mut unit.enc),
                    );
                    let done = done.clone();
                    let (tx, rx) = std::sync::mpsc::channel();
                    unit.commit(Some(Box::new(move |ok| {
                        assert!(ok);
                        done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let _ = tx.send(());
                    })));
                    rx.recv().unwrap();
                }
            });
        }
    });
    assert_eq!(done.load(std::sync::atomic::Ordering::SeqCst), 200);
    let (next, durable, _) = wal.positions();
    assert_eq!(next, durable);
    wal.close();
    let (after, _) = restart(dir.path(), T0);
    same(&shown(&after), &shown(&live));
}

/// Cumulative points of cart's metrics at `time`: the request-latency histogram and the
/// requests counter (total, and 5xx as bad).
fn cart(time: u64, n: u64) -> ExportMetricsServiceRequest {
    const CUMULATIVE: i32 = AggregationTemporality::Cumulative as i32;
    let start = T0 - 3_600 * S;
    let sum = |status: i64, v: u64| NumberDataPoint {
        start_time_unix_nano: start,
        time_unix_nano: time,
        attributes: vec![kv("http.response.status_code", status)],
        value: Some(number_data_point::Value::AsInt(v as i64)),
        ..Default::default()
    };
    metrics_request(
        vec![kv("service.name", "cart"), kv("k8s.cluster.name", "seoul")],
        vec![
            histogram(
                "http.server.request.duration",
                CUMULATIVE,
                vec![HistogramDataPoint {
                    start_time_unix_nano: start,
                    time_unix_nano: time,
                    count: 10 * n,
                    explicit_bounds: vec![0.1, 0.25, 0.5],
                    bucket_counts: vec![n, 3 * n, 4 * n, 2 * n],
                    ..Default::default()
                }],
            ),
            counter(
                "http.server.requests",
                CUMULATIVE,
                vec![sum(200, 9 * n), sum(500, n)],
            ),
        ],
    )
}

#[test]
fn cumulative_metrics_replay_their_series_so_the_next_point_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    // slotel started before the series did, so their first points count in full.
    let started = T0 - 7_200 * S;
    let (live, clock) = examples(started);
    clock.advance(std::time::Duration::from_secs(7_200));
    let (wal, _) = Wal::open(&live, dir.path(), 64 << 20, 0).unwrap();
    record_metrics(&live, &cart(T0 - 60 * S, 1));
    snapshot::write(&live, dir.path()).unwrap();
    record_metrics(&live, &cart(T0 - 30 * S, 3));
    let want = shown(&live);
    wal.close();
    let (after, c) = examples(started);
    c.advance(std::time::Duration::from_secs(7_200));
    let restored = snapshot::restore(&after, dir.path());
    let (w, r) = Wal::open(&after, dir.path(), 64 << 20, restored.wal_position).unwrap();
    drop(w);
    assert!(r.applied >= 1);
    same(&shown(&after), &want);
    // The next cumulative point counts its increment over the replayed one, not over the
    // snapshot's: both engines take it and still agree.
    live.record_metrics(&cart(T0 - 10 * S, 4), None);
    after.record_metrics(&cart(T0 - 10 * S, 4), None);
    same(&shown(&after), &shown(&live));
    assert_eq!(total(&after, "request-latency", "all"), 40);
    assert_eq!(total(&after, "request-availability", "all"), 40);
}

/// `spans` with `tracestate` sampling thresholds: whole (th:c, p:2), fractional (th:aab),
/// zero (p:63), unreadable, and none.
fn sampled_spans(n: usize, now: u64, seed: u64) -> ExportTraceServiceRequest {
    let mut req = spans(n, now, seed);
    let states = ["ot=th:c", "ot=th:aab", "", "ot=p:2", "ot=p:63", "ot=th:zz"];
    for (i, span) in spans_mut(&mut req).enumerate() {
        span.trace_state = states[(i + seed as usize) % states.len()].to_string();
    }
    req
}

#[test]
fn sampled_spans_replay_and_restore_with_their_adjusted_and_raw_counts() {
    let dir = tempfile::tempdir().unwrap();
    let (live, clock) = examples(T0);
    let (wal, _) = Wal::open(&live, dir.path(), 64 << 20, 0).unwrap();
    // Unsampled traffic first, so raw counts start from counts the group already has.
    record_spans(&live, &spans(100, T0, 99));
    for i in 0..3 {
        record_spans(&live, &sampled_spans(300, T0, i));
    }
    snapshot::write(&live, dir.path()).unwrap();
    clock.advance(std::time::Duration::from_secs(30));
    for i in 3..6 {
        record_spans(&live, &sampled_spans(300, T0 + 30 * S, i));
    }
    let all = live
        .status()
        .into_iter()
        .find(|s| s.name == "availability" && s.cluster == "all")
        .unwrap();
    assert!(all.total > all.raw_total.unwrap(), "{all:?}");
    wal.close();
    let (after, r) = restart(dir.path(), T0 + 30 * S);
    assert!(r.applied >= 3, "{r:?}");
    same(&shown(&after), &shown(&live));
}

/// The state directory deleted under a running log: the round written into the removed
/// segment is refused (no restart would read it) and a snapshot is asked for; within the
/// retry the log makes its directory and a segment again and takes requests, with no
/// restart; after a snapshot, a restart holds what the live engine holds.
#[test]
fn a_removed_log_directory_refuses_that_round_asks_for_a_snapshot_and_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let (live, _) = examples(T0);
    let (wal, _) = Wal::open(&live, dir.path(), 64 << 20, 0).unwrap();
    record_spans(&live, &spans(20, T0, 1));
    std::fs::remove_dir_all(dir.path().join(DIR)).unwrap();
    let mut unit = wal.begin().expect("not failed yet");
    live.record_spans_logged(&spans(20, T0, 2), None, Some(&mut unit.enc));
    let (tx, rx) = std::sync::mpsc::channel();
    unit.commit(Some(Box::new(move |ok| {
        let _ = tx.send(ok);
    })));
    assert!(
        !rx.recv().unwrap(),
        "written into a removed file: not durable"
    );
    let wanted = rt_block(async {
        tokio::time::timeout(std::time::Duration::from_millis(100), wal.snapshot_wanted())
            .await
            .is_ok()
    });
    assert!(wanted, "a snapshot was asked for");
    let mut waited = 0;
    while wal.refusing().is_some() {
        assert!(waited < 50, "the log came back within its retry");
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    }
    record_spans(&live, &spans(20, T0, 3));
    assert!(dir.path().join(DIR).is_dir(), "the directory is made again");
    snapshot::write(&live, dir.path()).unwrap();
    wal.close();
    let (after, _) = restart(dir.path(), T0);
    same(&shown(&after), &shown(&live));
}
