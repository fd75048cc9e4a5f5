//! The capture's files: readable while written, bounded on disk, old files removed.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::*;
use crate::slo::engine::{Engine, EngineConfig, ManualClock};

const S: u64 = 1_000_000_000;
const T0: u64 = 1_800_000_000 * S;

fn request(
    n: usize,
    seed: u64,
) -> opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
    use opentelemetry_proto::tonic::trace::v1::Span;
    let spans = (0..n)
        .map(|i| Span {
            name: format!("span {}", (i as u64 * 7919 + seed) % 1000),
            kind: 2,
            start_time_unix_nano: T0 - (i as u64 * 1_000_003 + seed) % S,
            end_time_unix_nano: T0,
            attributes: vec![crate::attr::kv(
                "http.route",
                format!("/r{}", (i as u64 + seed) % 97),
            )],
            ..Default::default()
        })
        .collect();
    crate::test_otlp::traces_request(Vec::new(), spans)
}

pub(super) fn cfg(dir: &std::path::Path, max_bytes: u64, retention: Duration) -> CaptureConfig {
    CaptureConfig {
        directory: dir.to_path_buf(),
        rotate_every: Duration::from_secs(600),
        max_bytes,
        retention,
        columns: vec![AttrRef::Resource("k8s.namespace.name".into())],
        metrics: Vec::new(),
    }
}

pub(super) fn settings() -> EngineSettings {
    EngineSettings {
        allowed_lateness: Duration::from_secs(300),
        max_future: Duration::from_secs(60),
        max_groups_total: 1024,
        metrics_started: 0,
        max_request_memory: 128 << 20,
    }
}

/// An engine without SLOs, capturing.
pub(super) fn engine(capture: &Arc<Capture>) -> Arc<Engine> {
    let engine = Engine::new(
        EngineConfig::default(),
        Arc::new(ManualClock::new(T0)),
        Default::default(),
    );
    assert!(engine.attach_sink(capture.clone()).is_ok());
    engine
}

/// The default columns and `resource.k8s.namespace.name` of a captured batch `b` read back
/// in every way a condition may read them: `.other` with ints' rows again, what the
/// capture asked for (`.other` without them) and more.
pub(super) fn read_back_in_every_way(b: &CapturedBatch) {
    let mut want = FactsSchema::default();
    for key in DEFAULT_COLUMNS {
        want.add_any(AttrRef::Item(key.into()));
    }
    want.add_any(AttrRef::Resource("k8s.namespace.name".into()));
    assert!(b.columns.attributes().eq(want.attributes()));
    assert!(
        b.columns
            .entries()
            .all(|(_, uses)| uses == crate::slo::ottl::Use::ANY)
    );
    assert_eq!(b.columns.covers(&want), Ok(()));
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    list_files(dir).unwrap().iter().map(|f| f.bytes).sum()
}

#[test]
fn a_file_in_progress_is_readable_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let capture = Capture::start(
        &cfg(dir.path(), 1 << 30, Duration::from_secs(3600)),
        settings(),
    )
    .unwrap();
    let engine = engine(&capture);
    engine.record_spans_from(&request(100, 1), Some("c9"), Some("acme"), None);
    // The writer flushes at least once a second.
    let mut read = Vec::new();
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(100));
        let files = list_files(dir.path()).unwrap();
        if let Some(f) = files.first()
            && let Ok(reader) = Reader::open(&f.path)
        {
            read = reader.collect();
            if !read.is_empty() {
                break;
            }
        }
    }
    assert_eq!(read.len(), 1, "the facts were not readable within 5 s");
    let b = &read[0];
    assert_eq!(b.facts.len(), 100);
    assert_eq!(b.received, T0);
    assert_eq!(b.engine.lateness, Some(300 * S));
    assert_eq!(b.engine.max_groups_total, Some(1024));
    assert_eq!(b.facts.cluster(0), "c9");
    // The default and configured columns, in every type a condition may read.
    read_back_in_every_way(b);
    assert_eq!(
        b.facts
            .attr_string(&AttrRef::Item("http.route".into()), 3)
            .as_deref(),
        Some("/r4")
    );
    let tenant = b.facts.batch.column_by_name(TENANT).unwrap();
    let tenant =
        arrow_array::cast::AsArray::as_dictionary::<arrow_array::types::Int32Type>(tenant.as_ref());
    assert_eq!(tenant.keys().value(5), 0);
    assert_eq!(
        arrow_array::cast::AsArray::as_string::<i32>(tenant.values().as_ref()).value(0),
        "acme"
    );
    capture.close();
    assert_eq!(capture.counters().spans.load(Ordering::Relaxed), 100);
}

#[test]
fn the_disk_bound_holds_and_removals_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let max = 256 * 1024;
    let capture =
        Capture::start(&cfg(dir.path(), max, Duration::from_secs(3600)), settings()).unwrap();
    let engine = engine(&capture);
    for i in 0..400 {
        engine.record_spans_from(&request(500, i), None, None, None);
        assert!(dir_bytes(dir.path()) <= max + 64 * 1024);
        if i % 50 == 0 {
            // Let the writer keep up; a full queue would drop (and count) instead.
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    capture.close();
    let c = capture.counters();
    assert!(
        dir_bytes(dir.path()) <= max,
        "{} > {max}",
        dir_bytes(dir.path())
    );
    assert!(c.removed_max_bytes.load(Ordering::Relaxed) > 0);
    assert_eq!(
        c.spans.load(Ordering::Relaxed) + c.dropped_spans.load(Ordering::Relaxed),
        400 * 500
    );
    assert_eq!(c.bytes.load(Ordering::Relaxed), dir_bytes(dir.path()));
    // What is left is whole and readable, the newest facts last.
    let files = list_files(dir.path()).unwrap();
    assert!(files.len() >= 2);
    for f in &files {
        let mut reader = Reader::open(&f.path).unwrap();
        assert!(reader.by_ref().count() > 0);
        assert_eq!(reader.warning(), None);
    }
}

#[test]
fn files_past_retention_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("facts-00000000000000000001-000001.arrows"),
        b"old",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"not ours").unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let capture = Capture::start(
        &cfg(dir.path(), 1 << 30, Duration::from_secs(1)),
        settings(),
    )
    .unwrap();
    assert_eq!(
        capture.counters().removed_retention.load(Ordering::Relaxed),
        1
    );
    assert!(list_files(dir.path()).unwrap().is_empty());
    assert!(dir.path().join("notes.txt").exists());
    capture.close();
}

#[test]
fn the_series_show_the_counters() {
    let dir = tempfile::tempdir().unwrap();
    let capture = Capture::start(
        &cfg(dir.path(), 1 << 30, Duration::from_secs(3600)),
        settings(),
    )
    .unwrap();
    capture.counters().dropped_spans.store(7, Ordering::Relaxed);
    capture
        .counters()
        .removed_max_bytes
        .store(2, Ordering::Relaxed);
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register_collector(Box::new(CaptureSeries(capture.clone())));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    for line in [
        "slotel_slo_capture_spans_total 0",
        "slotel_slo_capture_dropped_spans_total 7",
        "slotel_slo_capture_files_removed_total{reason=\"retention\"} 0",
        "slotel_slo_capture_files_removed_total{reason=\"max_bytes\"} 2",
        "slotel_slo_capture_bytes 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from\n{text}"
        );
    }
    capture.close();
}

#[test]
fn sampled_and_unsampled_requests_share_a_file_and_keep_their_adjusted_counts() {
    let dir = tempfile::tempdir().unwrap();
    let capture = Capture::start(
        &cfg(dir.path(), 1 << 30, Duration::from_secs(3600)),
        settings(),
    )
    .unwrap();
    let engine = engine(&capture);
    let mut sampled = request(10, 2);
    for (i, span) in sampled.resource_spans[0].scope_spans[0]
        .spans
        .iter_mut()
        .enumerate()
    {
        span.trace_state = if i % 2 == 0 { "ot=th:c" } else { "" }.to_string();
    }
    for req in [request(10, 1), sampled, request(10, 3)] {
        engine.record_spans_from(&req, None, None, None);
    }
    capture.close();
    let files = list_files(dir.path()).unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    // Requests received at the same time may come back as one batch: the rows, in order,
    // keep their counts (a batch without the column counts every span once).
    let mut weights = Vec::new();
    for batch in Reader::open(&files[0].path).unwrap() {
        match batch.facts.adjusted_counts() {
            Some(w) => weights.extend_from_slice(w),
            None => weights.extend(std::iter::repeat_n(1.0, batch.facts.len())),
        }
    }
    let mut want = vec![1.0; 10];
    want.extend([4.0, 1.0, 4.0, 1.0, 4.0, 1.0, 4.0, 1.0, 4.0, 1.0]);
    want.extend([1.0; 10]);
    assert_eq!(weights, want);
}

#[test]
fn metric_requests_wait_for_the_writer_within_their_byte_bound() {
    use crate::slo::engine::FactsSink;
    let dir = tempfile::tempdir().unwrap();
    let capture = Capture::start(
        &cfg(dir.path(), 1 << 30, Duration::from_secs(3600)),
        settings(),
    )
    .unwrap();
    let c = capture.counters();
    // More than the bound in one request: dropped and counted, nothing held.
    let huge = vec![0u8; (MAX_QUEUED_METRIC_BYTES + 1) as usize];
    capture.offer_metrics(huge, None, T0, None);
    assert_eq!(c.dropped_metric_requests.load(Ordering::Relaxed), 1);
    assert_eq!(c.queued_metric_bytes.load(Ordering::Relaxed), 0);
    // A request within it is written, and its bytes no longer count once taken.
    capture.offer_metrics(b"\x0a\x00".to_vec(), Some("c1"), T0, Some("acme"));
    capture.close();
    assert_eq!(c.metric_requests.load(Ordering::Relaxed), 1);
    assert_eq!(c.queued_metric_bytes.load(Ordering::Relaxed), 0);
    let files = list_files(dir.path()).unwrap();
    assert_eq!(files.len(), 1);
    assert!(
        files[0]
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("metrics-")
    );
    let mut reader = Reader::open(&files[0].path).unwrap();
    let r = reader.next_metrics().unwrap();
    assert_eq!((r.received, r.token_cluster.as_deref()), (T0, Some("c1")));
    assert_eq!(r.request.resource_metrics.len(), 1);
    assert!(reader.next_metrics().is_none());
    assert_eq!(reader.warning(), None);
}

/// A file states the bound on its messages that its writer's `max_request_memory` implies
/// (twice it, from 256 MiB to 4 GiB); a reader takes that bound when it is larger than its
/// own and keeps its own otherwise, so a server accepting larger requests writes files
/// that replay reads, and a file cannot raise the bound past 4 GiB.
#[test]
fn a_file_states_its_message_bound_and_a_reader_takes_it_when_larger() {
    use super::frames::{MAX_MESSAGE, MOST_MESSAGE, bound_for, message_bound};
    assert_eq!(message_bound(128 << 20), MAX_MESSAGE);
    assert_eq!(message_bound(1), MAX_MESSAGE);
    assert_eq!(message_bound(1 << 30), 2 << 30);
    assert_eq!(message_bound(3 << 30), MOST_MESSAGE);
    assert_eq!(message_bound(u64::MAX), MOST_MESSAGE);
    assert_eq!(bound_for(None, MAX_MESSAGE), MAX_MESSAGE);
    assert_eq!(bound_for(Some("1024"), MAX_MESSAGE), MAX_MESSAGE);
    assert_eq!(bound_for(Some("1073741824"), MAX_MESSAGE), 1 << 30);
    assert_eq!(
        bound_for(Some("1125899906842624"), MAX_MESSAGE),
        MOST_MESSAGE
    );
    assert_eq!(bound_for(Some("-1"), MAX_MESSAGE), MAX_MESSAGE);
    assert_eq!(bound_for(Some("lots"), 4096), 4096);

    let dir = tempfile::tempdir().unwrap();
    let capture = Capture::start(
        &cfg(dir.path(), 1 << 30, Duration::from_secs(3600)),
        EngineSettings {
            max_request_memory: 1 << 30,
            ..settings()
        },
    )
    .unwrap();
    let engine = engine(&capture);
    engine.record_spans_from(&request(2000, 3), Some("c9"), None, None);
    capture.close();
    let files = list_files(dir.path()).unwrap();
    assert_eq!(files.len(), 1);
    let path = &files[0].path;
    let stream =
        arrow_ipc::reader::StreamReader::try_new(std::fs::File::open(path).unwrap(), None).unwrap();
    assert_eq!(
        stream
            .schema()
            .metadata()
            .get(META_MAX_MESSAGE)
            .map(String::as_str),
        Some("2147483648")
    );
    // The schema message's bytes, and the largest record batch's (a few times more).
    let bytes = std::fs::read(path).unwrap();
    let mut frames = super::frames::Frames::within(
        std::io::Cursor::new(&bytes),
        bytes.len() as u64,
        MAX_MESSAGE,
    );
    let mut sizes = Vec::new();
    while let Some(frame) = frames.next_frame() {
        sizes.push((frame.meta.len() + frame.body.len()) as u64);
    }
    let own = sizes[0];
    assert!(sizes.iter().max().unwrap() > &own, "{sizes:?}");
    // A reader whose own bound holds the schema but not the file's largest message takes
    // the file's.
    let mut reader = Reader::open_within(path, None, own).unwrap();
    let rows: usize = reader.by_ref().map(|b| b.facts.len()).sum();
    assert_eq!((rows, reader.warning()), (2000, None));

    // The same file stating no bound (as files written before they stated it) is read
    // within the reader's own: damage at its largest message.
    let key = META_MAX_MESSAGE.as_bytes();
    let at = bytes.windows(key.len()).position(|w| w == key).unwrap();
    let mut unstated = bytes.clone();
    unstated[at + key.len() - 1] = b'z';
    let old = dir.path().join("facts-00000000000000000001-000001.arrows");
    std::fs::write(&old, &unstated).unwrap();
    let mut reader = Reader::open_within(&old, None, own).unwrap();
    let rows: usize = reader.by_ref().map(|b| b.facts.len()).sum();
    assert!(rows < 2000);
    let warning = reader.warning().unwrap_or_default().to_string();
    assert!(
        warning.contains(&format!("more than a capture message holds ({own})")),
        "{warning}"
    );
    let mut reader = Reader::open_within(&old, None, MAX_MESSAGE).unwrap();
    let rows: usize = reader.by_ref().map(|b| b.facts.len()).sum();
    assert_eq!((rows, reader.warning()), (2000, None));
}
