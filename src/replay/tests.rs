//! Replay against the live engine: the same facts on the same clock give the same answer;
//! an edited SLO gives the hand-computed counts; scripted outages page when the Workbook
//! says; damaged files are skipped with a located warning.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;

use super::*;
use crate::attr::kv;
use crate::config::CaptureConfig;
use crate::slo::capture::{Capture, EngineSettings};
use crate::slo::engine::EngineConfig;
use crate::test_otlp::{server_span, traces_request};

pub(super) const S: u64 = 1_000_000_000;
pub(super) const MS: u64 = 1_000_000;
pub(super) const T0: u64 = 1_800_000_000 * S;

/// A span: (route, HTTP status, end, duration in ms).
type Sp = (&'static str, i64, u64, u64);

fn request(spans: &[Sp]) -> ExportTraceServiceRequest {
    let spans = spans
        .iter()
        .enumerate()
        .map(|(i, (route, code, end, ms))| Span {
            attributes: vec![
                kv("http.route", route),
                kv("http.response.status_code", *code),
            ],
            ..server_span(
                i as u64 + 1,
                format!("GET {route}"),
                end - ms * MS,
                *end,
                *code >= 500,
            )
        })
        .collect();
    traces_request(
        vec![kv("service.name", "shop"), kv("k8s.cluster.name", "c1")],
        spans,
    )
}

const SLOS: &str = r#"
service: shop
slos:
  - name: availability
    objective: 99
    window: 7d
    sli:
      spans:
        where: resource.attributes["service.name"] == "shop"
        bad: attributes["http.response.status_code"] >= 500
    group_by:
      - attributes["http.route"]
    min_events: 1
  - name: latency
    objective: 95
    window: 7d
    sli:
      spans:
        where: attributes["http.route"] == "/pay"
        latency_threshold: 300ms
    percentiles: [50, 90, 99]
    min_events: 1
"#;

pub(super) fn write_slos(dir: &Path, text: &str) -> String {
    let path = dir.join("slos.yaml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn capture_cfg(dir: &Path) -> CaptureConfig {
    CaptureConfig {
        directory: dir.join("capture"),
        rotate_every: Duration::from_secs(600),
        max_bytes: 1 << 30,
        retention: Duration::from_secs(7 * 86_400),
        columns: Vec::new(),
        metrics: Vec::new(),
    }
}

/// A live engine on a manual clock with a capture attached.
pub(super) fn live(dir: &Path, slos: &str) -> (Arc<Engine>, Arc<ManualClock>, Arc<Capture>) {
    live_with(dir, slos, EngineConfig::default())
}

/// [`live`] with the engine set as `cfg` says, the capture told so as the server tells it.
fn live_with(
    dir: &Path,
    slos: &str,
    cfg: EngineConfig,
) -> (Arc<Engine>, Arc<ManualClock>, Arc<Capture>) {
    let set = crate::slo::spec::load(&[slos.to_string()], false).unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let settings = EngineSettings {
        allowed_lateness: cfg.allowed_lateness,
        max_future: cfg.max_future,
        max_groups_total: cfg.max_groups_total,
        metrics_started: 0,
        max_request_memory: 128 << 20,
    };
    let engine = Engine::new(cfg, clock.clone(), set);
    let capture = Capture::start(
        &capture_cfg(dir),
        EngineSettings {
            metrics_started: engine.metrics_started(),
            ..settings
        },
    )
    .unwrap();
    assert!(engine.attach_sink(capture.clone()).is_ok());
    (engine, clock, capture)
}

/// A temporary directory, the SLO file of `text` in it (its path), and a [`live`] engine
/// on those SLOs with its clock and capture: what every replay test starts from.
pub(super) type Started = (
    tempfile::TempDir,
    String,
    Arc<Engine>,
    Arc<ManualClock>,
    Arc<Capture>,
);

pub(super) fn start(text: &str) -> Started {
    let dir = tempfile::tempdir().unwrap();
    let slos = write_slos(dir.path(), text);
    let (engine, clock, capture) = live(dir.path(), &slos);
    (dir, slos, engine, clock, capture)
}

/// The live API's answer at `end`, the capture closed after it.
pub(super) fn stop_at(
    engine: &Engine,
    clock: &ManualClock,
    capture: &Capture,
    end: u64,
) -> serde_json::Value {
    clock.set(end);
    let answer = api(engine);
    capture.close();
    answer
}

/// The SLOs of `text` in `dir/sub/slos.yaml` (an edited set beside the captured one).
pub(super) fn slos_in(dir: &Path, sub: &str, text: &str) -> String {
    let sub = dir.join(sub);
    std::fs::create_dir_all(&sub).unwrap();
    write_slos(&sub, text)
}

/// Why the replay `args` describe is refused.
pub(super) fn refusal(args: &ReplayArgs) -> ReplayError {
    let set = crate::slo::spec::load(&args.slos, false).unwrap();
    match replay_set(set, args, |_, _| {}) {
        Ok(_) => panic!("replayed: {:?}", args.slos),
        Err(e) => e,
    }
}

pub(super) fn args(dir: &Path, slos: &str, to: Option<u64>) -> ReplayArgs {
    ReplayArgs {
        slos: vec![slos.to_string()],
        capture: dir.join("capture"),
        from: None,
        to,
        step: Duration::from_secs(60),
        format: Format::Json,
        out: None,
    }
}

pub(super) fn replay(args: &ReplayArgs) -> Report {
    let set = crate::slo::spec::load(&args.slos, false).unwrap();
    replay_set(set, args, |_, _| {}).unwrap()
}

/// What `GET /api/v1/slos` answers now (without the windows a replay leaves out).
pub(super) fn api(engine: &Engine) -> serde_json::Value {
    let mut slos = engine.status();
    for s in &mut slos {
        s.windows = None;
    }
    serde_json::json!({ "slos": crate::slo::api::entries(slos, engine) })
}

/// A replay's entries, as its JSON report writes them.
pub(super) fn replayed(report: &Report) -> serde_json::Value {
    serde_json::json!({ "slos": report.slos })
}

/// Traffic over 20 minutes: 3 routes, some errors, latencies around the threshold, and a
/// late span the engine drops.
fn traffic(engine: &Engine, clock: &ManualClock) -> Vec<Sp> {
    let mut sent = Vec::new();
    for minute in 0..20u64 {
        let now = T0 + minute * 60 * S;
        clock.set(now);
        let mut spans: Vec<Sp> = Vec::new();
        for i in 0..30u64 {
            let route = ["/pay", "/cart", "/home"][(i % 3) as usize];
            let code = if (i + minute) % 17 == 0 { 503 } else { 200 };
            let ms = 100 + (i * 37 + minute * 11) % 400;
            spans.push((route, code, now - (i % 5) * S, ms));
        }
        if minute == 10 {
            // Ended 10 minutes ago: late for the default 5m lateness.
            spans.push(("/pay", 200, now - 600 * S, 50));
        }
        engine.record_spans_from(&request(&spans), None, Some("acme"), None);
        sent.extend(spans);
    }
    sent
}

/// With `slo.max_groups_total` reached live, the replay refuses the same groups: events of
/// a group past the bound count in its SLO's `__overflow__` group on both paths.
#[test]
fn replay_applies_the_live_bound_on_groups_of_every_slo() {
    let dir = tempfile::tempdir().unwrap();
    let slos = write_slos(dir.path(), SLOS);
    let cfg = EngineConfig {
        max_groups_total: 2,
        ..EngineConfig::default()
    };
    let (engine, clock, capture) = live_with(dir.path(), &slos, cfg);
    traffic(&engine, &clock);
    let end = T0 + 19 * 60 * S + 17 * S;
    let live_api = stop_at(&engine, &clock, &capture, end);
    let overflow = |answer: &serde_json::Value| {
        answer["slos"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["group"].to_string().contains("__overflow__"))
            .map(|s| s["total"].as_u64().unwrap())
            .sum::<u64>()
    };
    assert!(overflow(&live_api) > 0, "{live_api}");

    let report = replay(&args(dir.path(), &slos, Some(end)));
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(replayed(&report), live_api);
}

#[test]
fn replay_of_the_capture_equals_the_live_api() {
    let (dir, slos, engine, clock, capture) = start(SLOS);
    traffic(&engine, &clock);
    let end = T0 + 19 * 60 * S + 17 * S;
    let live_api = stop_at(&engine, &clock, &capture, end);
    assert_eq!(
        capture
            .counters()
            .spans
            .load(std::sync::atomic::Ordering::Relaxed),
        20 * 30 + 1
    );

    let report = replay(&args(dir.path(), &slos, Some(end)));
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.spans, 20 * 30 + 1);
    assert_eq!(report.batches, 20);
    assert_eq!(replayed(&report), live_api);
    // The live answer has data: counts, a late drop excluded, percentiles.
    let all = &live_api["slos"][0];
    assert_eq!(all["cluster"], "all");
    assert_eq!(all["total"], 600);
    let latency = live_api["slos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "latency" && s["cluster"] == "all")
        .unwrap();
    assert_eq!(latency["total"], 200);
    assert!(latency["latency"]["p99"].as_f64().unwrap() > 0.0);
    // A timeline sample per minute from the first receipt to the end.
    let t = report
        .timeline
        .iter()
        .find(|t| t.entry.name == "availability" && t.entry.cluster == "all")
        .unwrap();
    assert_eq!(t.points.len(), 20);
    assert_eq!(t.points.last().unwrap().total, 600);

    // The HTML report: charts inline, nothing fetched.
    let html = render::html(&report);
    assert!(html.contains("<svg") && html.contains("error budget remaining"));
    assert!(html.contains("latency (seconds"));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
    let text = render::text(&report);
    assert!(text.contains("shop/availability"), "{text}");
}

#[test]
fn an_edited_threshold_gives_the_hand_computed_counts() {
    let (dir, slos, engine, clock, capture) = start(SLOS);
    let sent = traffic(&engine, &clock);
    capture.close();

    let edited = slos_in(dir.path(), "edited", &SLOS.replace("300ms", "250ms"));
    let end = T0 + 20 * 60 * S;
    let report = replay(&args(dir.path(), &edited, Some(end)));
    let latency = report
        .slos
        .iter()
        .find(|s| s.name == "latency" && s.cluster == "all")
        .unwrap();
    // By hand: /pay spans not late (the late one ended 600s before receipt), good at
    // ≤ 250 ms.
    // (The late span is the only one of 50 ms.)
    let pay: Vec<&Sp> = sent
        .iter()
        .filter(|(route, _, _, ms)| *route == "/pay" && *ms != 50)
        .collect();
    assert_eq!(pay.len(), 200);
    let good = pay.iter().filter(|s| s.3 <= 250).count() as u64;
    assert_eq!(latency.total, 200);
    assert_eq!(latency.good, good);
    assert!(good < 200 && good > 0);
    // And with the original threshold, more are good.
    let original = replay(&args(dir.path(), &slos, Some(end)));
    let before = original
        .slos
        .iter()
        .find(|s| s.name == "latency" && s.cluster == "all")
        .unwrap();
    assert_eq!(
        before.good,
        pay.iter().filter(|s| s.3 <= 300).count() as u64
    );
}

#[test]
fn a_column_the_capture_lacks_is_refused() {
    let (dir, _, engine, clock, capture) = start(SLOS);
    traffic(&engine, &clock);
    capture.close();
    let other = slos_in(
        dir.path(),
        "other",
        &SLOS.replace(
            "attributes[\"http.route\"] == \"/pay\"",
            "attributes[\"user.tier\"] == \"gold\"",
        ),
    );
    let err = refusal(&args(dir.path(), &other, None));
    assert!(
        err.to_string().contains("attributes[\"user.tier\"]"),
        "{err}"
    );
    assert!(err.to_string().contains("slo.capture.columns"), "{err}");
}

#[test]
fn damaged_files_are_skipped_with_their_place() {
    let (dir, slos, engine, clock, capture) = start(SLOS);
    traffic(&engine, &clock);
    // 40 requests of 300 spans more: the writer gathers requests up to 8,192 rows a
    // message, so the file holds two: the 20 small requests and 26 of these (8,400 rows),
    // then the other 14.
    let big: Vec<Sp> = (0..300u64)
        .map(|i| ("/pay", 200, T0 + 20 * 60 * S, 100 + i))
        .collect();
    for k in 0..40u64 {
        clock.set(T0 + 20 * 60 * S + k * S);
        engine.record_spans_from(&request(&big), None, Some("acme"), None);
    }
    capture.close();
    let files = crate::slo::capture::list_files(&dir.path().join("capture")).unwrap();
    assert_eq!(files.len(), 1);
    let good = std::fs::read(&files[0].path).unwrap();
    assert_eq!(replay(&args(dir.path(), &slos, None)).batches, 60);

    // Truncated in the second message: the requests of the first count, each a batch.
    let cut = good.len() * 9 / 10;
    std::fs::write(&files[0].path, &good[..cut]).unwrap();
    let report = replay(&args(dir.path(), &slos, None));
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    let w = &report.warnings[0];
    assert!(w.contains(&files[0].path.display().to_string()), "{w}");
    assert!(w.contains("batch 46"), "{w}");
    assert_eq!(report.batches, 46);

    // Every byte flipped after the header, in turn across the file: never a panic.
    for at in (64..good.len()).step_by(good.len() / 40 + 1) {
        let mut bad = good.clone();
        bad[at] ^= 0xA5;
        std::fs::write(&files[0].path, &bad).unwrap();
        let set = crate::slo::spec::load(std::slice::from_ref(&slos), false).unwrap();
        let _ = replay_set(set, &args(dir.path(), &slos, None), |_, _| {});
    }

    // Garbage beside a sound file: skipped, the sound file still read.
    std::fs::write(&files[0].path, &good).unwrap();
    std::fs::write(
        dir.path().join("capture/facts-0-garbage.arrows"),
        b"not arrow at all",
    )
    .unwrap();
    let report = replay(&args(dir.path(), &slos, None));
    assert_eq!(report.batches, 60);
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(report.warnings[0].contains("facts-0-garbage.arrows"));
}

/// A capture whose only file is damaged before its first batch: the refusal says which
/// file and where, not only that the capture holds nothing.
#[test]
fn a_capture_of_damaged_files_only_names_the_damage_in_its_refusal() {
    let (dir, slos, engine, clock, capture) = start(SLOS);
    traffic(&engine, &clock);
    capture.close();
    let files = crate::slo::capture::list_files(&dir.path().join("capture")).unwrap();
    let good = std::fs::read(&files[0].path).unwrap();
    // Cut 8 bytes into the stream: the schema message's length prefix and no more.
    std::fs::write(&files[0].path, &good[..8]).unwrap();
    let e = refusal(&args(dir.path(), &slos, None)).to_string();
    let path = files[0].path.display().to_string();
    assert!(
        e.contains("no span or log facts or metric requests in the capture"),
        "{e}"
    );
    assert!(
        e.contains(&format!("{path}: message 0 at byte 0: truncated metadata")),
        "{e}"
    );

    // Six damaged files: five named, the sixth counted.
    for k in 0..5 {
        std::fs::write(
            dir.path().join(format!("capture/facts-{k}-garbage.arrows")),
            b"not arrow",
        )
        .unwrap();
    }
    let e = refusal(&args(dir.path(), &slos, None)).to_string();
    assert_eq!(e.matches(".arrows: ").count(), 5, "{e}");
    assert!(e.ends_with("and 1 more"), "{e}");
}

const OUTAGE_SLO: &str = r#"
service: shop
slos:
  - name: availability
    objective: 99.9
    window: 30d
    sli:
      spans:
        where: resource.attributes["service.name"] == "shop"
        bad: attributes["http.response.status_code"] >= 500
    min_events: 1
"#;

/// Ten requests a minute for `minutes`, `errors` of them 503s from `outage` on.
fn steady(engine: &Engine, clock: &ManualClock, minutes: u64, outage: u64, errors: u64) {
    for minute in 0..minutes {
        let now = T0 + minute * 60 * S;
        clock.set(now);
        let spans: Vec<Sp> = (0..10)
            .map(|i| {
                let code = if minute >= outage && i < errors {
                    503
                } else {
                    200
                };
                ("/pay", code, now, 20)
            })
            .collect();
        engine.record_spans_from(&request(&spans), None, None, None);
    }
}

#[test]
fn an_outage_pages_when_the_workbook_says_and_a_slow_burn_does_not() {
    let (dir, slos, engine, clock, capture) = start(OUTAGE_SLO);
    // Two hours fine, then every request fails for 30 minutes, then fine for an hour.
    steady(&engine, &clock, 90, 60, 10);
    capture.close();
    let end = T0 + 150 * 60 * S;
    let mut a = args(dir.path(), &slos, Some(end));
    a.from = Some(T0);
    let report = replay(&a);
    let pages: Vec<&Alert> = report
        .alerts
        .iter()
        .filter(|a| a.severity == "page" && a.long_window == "1h")
        .collect();
    assert_eq!(pages.len(), 1, "{:?}", report.alerts);
    // 1h/5m at 14.4× (2% of a 30-day budget in an hour): at minute 60 the 5m window holds
    // 10 failures in 50 events (200×) and the 1h window 10 in about 600 (16×): both past
    // the factor at the first sample that sees the outage's first failures.
    assert_eq!(pages[0].start, rfc3339(T0 + 60 * 60 * S));
    assert!(pages[0].end.is_some());
    assert_eq!(
        report.alert_summary[0].pages as usize,
        report
            .alerts
            .iter()
            .filter(|a| a.severity == "page")
            .count()
    );

    // A 0.5× burn (0.05% errors against a 0.1% budget) fires nothing.
    let (dir, slos, engine, clock, capture) = start(OUTAGE_SLO);
    for minute in 0..240u64 {
        let now = T0 + minute * 60 * S;
        clock.set(now);
        // 2000 a minute, one failure: 0.05%.
        let spans: Vec<Sp> = (0..2000)
            .map(|i| ("/pay", if i == 0 { 503 } else { 200 }, now, 20))
            .collect();
        engine.record_spans_from(&request(&spans), None, None, None);
    }
    capture.close();
    let report = replay(&args(dir.path(), &slos, None));
    assert!(report.alerts.is_empty(), "{:?}", report.alerts);
    let burn = report.slos[0]
        .burn_rate
        .get("1h")
        .copied()
        .flatten()
        .unwrap();
    assert!((burn - 0.5).abs() < 1e-9, "{burn}");
}

/// The replay's entries are the API's entries: an SLO with a budget adjustment active at
/// the end time lists it in the replay as `GET /api/v1/slos` does (it was left out).
#[test]
fn a_replay_lists_the_budget_adjustments_the_api_lists() {
    // T0 is 2027-01-15T08:00:00Z; the range covers the traffic's second half and the end.
    let slos = format!(
        "{SLOS}adjustments:\n  - reason: maintenance\n    slos: [availability]\n    \
         start: 2027-01-15T08:10:00Z\n    end: 2027-01-15T09:00:00Z\n"
    );
    let (dir, slos, engine, clock, capture) = start(&slos);
    traffic(&engine, &clock);
    let end = T0 + 19 * 60 * S + 17 * S;
    let live_api = stop_at(&engine, &clock, &capture, end);
    let availability = &live_api["slos"][0];
    assert_eq!(availability["name"], "availability");
    assert_eq!(availability["adjustments"][0]["reason"], "maintenance");
    assert_eq!(availability["adjustments"][0]["active"], true);
    // The adjusted half of the traffic is not counted.
    assert!(availability["total"].as_u64().unwrap() < 600);

    let report = replay(&args(dir.path(), &slos, Some(end)));
    assert_eq!(replayed(&report), live_api);
}

/// Routes a sender chose, each an attack on the reader of the text report: a newline that
/// starts a forged row, a carriage return that overwrites one, ANSI colour and window
/// title sequences, a C1 control, a right-to-left override.
const HOSTILE_ROUTES: [&str; 5] = [
    "/a\nshop/availability  c9  -  ok  1  1",
    "/b\rforged",
    "/c\u{1b}[31mred\u{1b}[0m\u{1b}]0;title\u{7}",
    "/d\u{85}\u{2028}",
    "/e\u{202e}txt.exe",
];

#[test]
fn sender_values_cannot_drive_the_terminal_of_the_text_report() {
    let (dir, slos, engine, clock, capture) = start(SLOS);
    let spans: Vec<Sp> = HOSTILE_ROUTES.iter().map(|r| (*r, 503, T0, 100)).collect();
    clock.set(T0 + S);
    engine.record_spans_from(&request(&spans), None, Some("acme"), None);
    stop_at(&engine, &clock, &capture, T0 + 2 * S);
    let report = replay(&args(dir.path(), &slos, Some(T0 + 2 * S)));
    let text = render::text(&report);
    let controls: Vec<char> = text
        .chars()
        .filter(|&c| (c.is_control() && c != '\n') || matches!(c, '\u{2028}' | '\u{202e}'))
        .collect();
    assert!(controls.is_empty(), "{controls:?} in\n{text}");
    // Each route is one row, written with its controls escaped.
    for row in [
        "/a\\u{a}shop/availability",
        "/b\\u{d}forged",
        "/c\\u{1b}[31mred\\u{1b}[0m\\u{1b}]0;title\\u{7}",
        "/d\\u{85}\\u{2028}",
        "/e\\u{202e}txt.exe",
    ] {
        assert_eq!(
            text.lines().filter(|l| l.contains(row)).count(),
            1,
            "{row} in\n{text}"
        );
    }
    assert!(!text.lines().any(|l| l.starts_with("shop/availability")));
}

#[test]
fn printable_keeps_text_and_escapes_controls() {
    assert!(matches!(
        printable("/api/v1/사용자/ü"),
        std::borrow::Cow::Borrowed("/api/v1/사용자/ü")
    ));
    assert_eq!(printable("a\tb\u{0}c\u{7f}"), "a\\u{9}b\\u{0}c\\u{7f}");
    assert_eq!(printable("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
}

/// A time past the range was refused as "before 1970".
#[test]
fn times_past_the_range_are_refused_as_such() {
    assert_eq!(parse_time("1970-01-01T00:00:00Z").unwrap(), 0);
    assert!(parse_time("2539-12-31T00:00:00Z").is_ok());
    for late in ["2541-01-01T00:00:00Z", "2600-01-01T00:00:00Z", "1.9e10"] {
        assert_eq!(
            parse_time(late).unwrap_err().to_string(),
            format!("{late}: not a time after 1970 and before 2540"),
        );
    }
    assert_eq!(
        parse_time("1969-12-31T23:59:59Z").unwrap_err().to_string(),
        "1969-12-31T23:59:59Z: before 1970"
    );
}
