//! `slotel suggest` over a capture written by the capture writer from known spans: the
//! percentiles are the nearest-rank ones (within the HDR bound), the thresholds are the
//! rounded percentiles, and the budget spent and the alerts are those a hand computation
//! with the SRE Workbook's burn-rate factors gives.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;

use super::*;
use crate::attr::kv;
use crate::config::CaptureConfig;
use crate::slo::capture::{Capture, EngineSettings};
use crate::slo::engine::{Engine, EngineConfig, ManualClock};
use crate::test_otlp::{server_span, traces_of};

const S: u64 = 1_000_000_000;
const MS: u64 = 1_000_000;
/// A whole minute, so that every window holds whole minutes of traffic.
const T0: u64 = 1_800_000_000 * S;
const MINUTES: u64 = 60;
const PER_MINUTE: usize = 200;

/// A sent span: route, HTTP status, span status error, duration (ns), kind.
#[derive(Clone)]
struct Sent {
    route: &'static str,
    http: i64,
    error: bool,
    nanos: u64,
    kind: i32,
}

/// The attributes of `service`'s resource.
fn resource(service: &str) -> Vec<KeyValue> {
    vec![kv("service.name", service), kv("k8s.cluster.name", "c1")]
}

fn span(s: &Sent, end: u64, i: usize) -> Span {
    Span {
        kind: s.kind,
        attributes: vec![
            kv("http.route", s.route),
            kv("http.response.status_code", s.http),
        ],
        ..server_span(
            i as u64 + 1,
            format!("GET {}", s.route),
            end - s.nanos,
            end,
            s.error,
        )
    }
}

/// The `shop` server spans of one minute: durations round(10 ms × 1.03^i), i = 0..200,
/// even i on /pay and odd on /cart; span `(7·minute) mod 200` is the minute's one bad
/// span, by HTTP status 503 in even minutes and by span status in odd ones.
fn shop_minute(minute: u64) -> Vec<Sent> {
    let bad = (7 * minute as usize) % PER_MINUTE;
    (0..PER_MINUTE)
        .map(|i| Sent {
            route: if i % 2 == 0 { "/pay" } else { "/cart" },
            http: if i == bad && minute.is_multiple_of(2) {
                503
            } else {
                200
            },
            error: i == bad && minute % 2 == 1,
            nanos: (10.0 * 1.03f64.powi(i as i32)).round() as u64 * MS,
            kind: 2,
        })
        .collect()
}

/// Writes an hour of traffic into a capture under `dir`; returns every sent `shop`
/// server span.
fn capture(dir: &Path) -> Vec<Sent> {
    std::fs::write(
        dir.join("slos.yaml"),
        "service: other\nslos:\n  - name: a\n    objective: 99\n    window: 7d\n    sli:\n      spans:\n        where: kind == SPAN_KIND_SERVER\n        bad: status.code == STATUS_CODE_ERROR\n",
    )
    .unwrap();
    let set =
        crate::slo::spec::load(&[dir.join("slos.yaml").display().to_string()], false).unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let engine = Engine::new(EngineConfig::default(), clock.clone(), set);
    let defaults = EngineConfig::default();
    let capture = Capture::start(
        &CaptureConfig {
            directory: dir.join("capture"),
            rotate_every: Duration::from_secs(3600),
            max_bytes: 1 << 30,
            retention: Duration::from_secs(7 * 86_400),
            columns: Vec::new(),
            metrics: Vec::new(),
        },
        EngineSettings {
            allowed_lateness: defaults.allowed_lateness,
            max_future: defaults.max_future,
            max_groups_total: defaults.max_groups_total,
            metrics_started: engine.metrics_started(),
            max_request_memory: 128 << 20,
        },
    )
    .unwrap();
    assert!(engine.attach_sink(capture.clone()).is_ok());
    let mut sent = Vec::new();
    for minute in 0..MINUTES {
        let now = T0 + minute * 60 * S;
        clock.set(now);
        let shop = shop_minute(minute);
        // Client spans of shop (not server spans: never counted) and a second service.
        let client: Vec<Sent> = (0..50)
            .map(|_| Sent {
                route: "/pay",
                http: 503,
                error: true,
                nanos: 9 * S,
                kind: 3,
            })
            .collect();
        let web: Vec<Sent> = (0..20)
            .map(|_| Sent {
                route: "/",
                http: 200,
                error: false,
                nanos: 5 * MS,
                kind: 2,
            })
            .collect();
        let spans = |list: &[Sent]| {
            list.iter()
                .enumerate()
                .map(|(i, s)| span(s, now, i))
                .collect()
        };
        let mut shop_spans: Vec<Span> = spans(&shop);
        shop_spans.extend(spans(&client).into_iter().map(|mut s: Span| {
            s.span_id[0] = 0xcc;
            s
        }));
        let req = traces_of([
            (resource("shop"), shop_spans),
            (resource("web"), spans(&web)),
        ]);
        engine.record_spans_from(&req, None, None, None);
        sent.extend(shop);
    }
    capture.close();
    sent
}

fn args(dir: &Path) -> SuggestArgs {
    SuggestArgs {
        capture: dir.join("capture"),
        service: None,
        route: None,
        from: None,
        to: None,
        window: Duration::from_secs(28 * 86_400),
        step: Duration::from_secs(60),
        format: Format::Json,
    }
}

/// The Workbook's burn-rate factors for a 28-day window (budget share × window / long
/// window): pages 2% in 1 h (13.44) and 5% in 6 h (5.6); tickets 10% in 1 d (2.8) and 10%
/// in 3 d (0.933). A steady burn above a factor keeps that alert firing from the first
/// sample to the end: one alert.
fn alerts(burn: f64) -> (u64, u64) {
    let pages = [13.44, 5.6].iter().filter(|f| burn > **f).count() as u64;
    let tickets = [2.8, 0.933].iter().filter(|f| burn > **f).count() as u64;
    (pages, tickets)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn availability_and_latency_suggestions_match_the_hand_computation() {
    let dir = tempfile::tempdir().unwrap();
    let sent = capture(dir.path());
    let found = suggest(&args(dir.path())).unwrap();
    assert!(found.warnings.is_empty(), "{:?}", found.warnings);
    assert!(found.window_covers_period);
    assert_eq!(found.from, rfc(T0));
    assert_eq!(found.to, rfc(T0 + (MINUTES - 1) * 60 * S));
    let names: Vec<&str> = found.services.iter().map(|s| s.service.as_str()).collect();
    assert_eq!(names, ["shop", "web"]);
    let shop = &found.services[0];
    let n = sent.len() as u64;
    assert_eq!(n, MINUTES * PER_MINUTE as u64);
    // Client spans are not server spans.
    assert_eq!(shop.spans, n);

    // Availability: one bad span in 200, every minute.
    let bad = sent.iter().filter(|s| s.error || s.http >= 500).count() as u64;
    assert_eq!(bad, MINUTES);
    assert_eq!((shop.availability.events, shop.availability.bad), (n, bad));
    let got: Vec<f64> = shop
        .availability
        .objectives
        .iter()
        .map(|c| c.objective)
        .collect();
    assert_eq!(got, AVAILABILITY);
    for c in &shop.availability.objectives {
        let budget = 1.0 - c.objective / 100.0;
        let spent = bad as f64 / n as f64 / budget;
        assert_eq!((c.events, c.bad), (n, bad), "{}", c.objective);
        assert!(
            close(c.budget_spent.unwrap(), spent),
            "{}: {:?} vs {spent}",
            c.objective,
            c.budget_spent
        );
        assert_eq!(c.met, spent <= 1.0 + 1e-9, "{}", c.objective);
        assert_eq!((c.pages, c.tickets), alerts(spent), "{}", c.objective);
    }
    // 99%: half the budget, quiet; 99.5%: all of it and the 3-day ticket; 99.99%: 50×,
    // both pages.
    let spent: Vec<(u64, u64, u64)> = shop
        .availability
        .objectives
        .iter()
        .map(|c| {
            (
                (c.budget_spent.unwrap() * 100.0).round() as u64,
                c.pages,
                c.tickets,
            )
        })
        .collect();
    assert_eq!(
        spent,
        [
            (50, 0, 0),
            (100, 0, 1),
            (500, 0, 2),
            (1000, 1, 2),
            (5000, 2, 2)
        ]
    );

    // Latency: nearest rank over the sorted durations, reported within HDR's 0.1%.
    let mut durations: Vec<u64> = sent.iter().map(|s| s.nanos).collect();
    durations.sort_unstable();
    for q in [50.0, 90.0, 95.0, 99.0, 99.5, 99.9] {
        let rank = ((q / 100.0 * n as f64) - 1e-9).ceil() as usize;
        let exact = durations[rank - 1] as f64 / 1e9;
        let got = shop.latency.percentiles[&percentile_key(q)];
        assert!(
            got >= exact && got <= exact * 1.001,
            "p{q}: {got} vs {exact}"
        );
    }
    // p90 = round(10 ms × 1.03^179) = 1985 ms → 2 s; p95 = 2668 ms → 3 s; p99 = 3380 ms,
    // p99.5 = 3482 ms and p99.9 = 3586 ms → 4 s.
    for (p, hand) in [
        ("p90", 1985.0),
        ("p95", 2668.0),
        ("p99", 3380.0),
        ("p995", 3482.0),
        ("p999", 3586.0),
    ] {
        let ms = shop.latency.percentiles[p] * 1e3;
        assert!(ms >= hand && ms <= hand * 1.001, "{p}: {ms} ms");
    }
    let suggested: Vec<(f64, &str)> = shop
        .latency
        .candidates
        .iter()
        .filter(|c| c.suggested)
        .map(|c| (c.objective, c.threshold.as_deref().unwrap()))
        .collect();
    assert_eq!(
        suggested,
        [
            (90.0, "2s"),
            (95.0, "3s"),
            (99.0, "4s"),
            (99.5, "4s"),
            (99.9, "4s")
        ]
    );
    assert_eq!(shop.latency.candidates.len(), 3 * LATENCY.len());
    for c in &shop.latency.candidates {
        let threshold = (c.threshold_seconds.unwrap() * 1e9).round() as u64;
        let slow = durations.iter().filter(|d| **d > threshold).count() as u64;
        let budget = 1.0 - c.objective / 100.0;
        let spent = slow as f64 / n as f64 / budget;
        let what = format!("{}% ≤ {:?}", c.objective, c.threshold);
        assert_eq!((c.events, c.bad), (n, slow), "{what}");
        assert!(
            close(c.budget_spent.unwrap(), spent),
            "{what}: {:?} vs {spent}",
            c.budget_spent
        );
        assert_eq!(c.met, spent <= 1.0 + 1e-9, "{what}");
        assert_eq!((c.pages, c.tickets), alerts(spent), "{what}");
        if c.suggested {
            assert!(c.met, "{what}");
        }
    }
    // 90% ≤ 2 s: exactly 20 of 200 slower, the whole budget (met), the 3-day ticket.
    let c = shop
        .latency
        .candidates
        .iter()
        .find(|c| c.objective == 90.0 && c.threshold.as_deref() == Some("2s"))
        .unwrap();
    assert_eq!(
        (c.bad, c.met, c.pages, c.tickets),
        (MINUTES * 20, true, 0, 1)
    );

    let text = render::text(&found);
    assert!(text.contains("    p99 is 3.38"), "{text}");
    assert!(
        text.contains(
            "s; 99% ≤ 4s would have spent 0% of the budget, never paged and never ticketed"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "99.99%: would have spent 5000% of the budget, paged twice and ticketed twice (not met)"
        ),
        "{text}"
    );
}

fn rfc(nanos: u64) -> String {
    crate::replay::rfc3339(nanos)
}

#[test]
fn a_route_and_a_service_narrow_the_spans() {
    let dir = tempfile::tempdir().unwrap();
    let sent = capture(dir.path());
    let mut a = args(dir.path());
    a.service = Some("shop".into());
    a.route = Some("/pay".into());
    let found = suggest(&a).unwrap();
    assert_eq!(found.services.len(), 1);
    let pay = &found.services[0];
    assert_eq!(pay.route.as_deref(), Some("/pay"));
    let on_pay: Vec<&Sent> = sent.iter().filter(|s| s.route == "/pay").collect();
    let bad = on_pay.iter().filter(|s| s.error || s.http >= 500).count() as u64;
    assert_eq!(pay.spans, on_pay.len() as u64);
    assert_eq!(
        (pay.availability.events, pay.availability.bad),
        (on_pay.len() as u64, bad)
    );

    a.service = Some("nobody".into());
    let err = suggest(&a).unwrap_err().to_string();
    assert!(
        err.contains("no server spans of service \"nobody\""),
        "{err}"
    );
}

#[test]
fn thresholds_round_up_to_one_of_eleven_steps_a_decade() {
    assert_eq!(nice_ceil(812 * MS), 900 * MS);
    assert_eq!(nice_ceil(900 * MS), 900 * MS);
    assert_eq!(nice_ceil(901 * MS), S);
    assert_eq!(nice_ceil(1_230 * MS), 1_500 * MS);
    assert_eq!(nice_ceil(2_668 * MS), 3 * S);
    assert_eq!(nice_ceil(2_100_000), 2_500_000);
    assert_eq!(nice_ceil(1), 1);
    assert_eq!(candidates::format_nanos(1_500 * MS), "1.5s");
    assert_eq!(candidates::format_nanos(1_234_500 * MS), "1234.5s");
    assert_eq!(candidates::format_nanos(1_500_001), "1500001ns");
    assert_eq!(candidates::format_nanos(250_000), "250us");
}

#[test]
fn sender_values_cannot_drive_the_terminal_of_the_text() {
    let dir = tempfile::tempdir().unwrap();
    capture(dir.path());
    let mut found = suggest(&args(dir.path())).unwrap();
    // A service and a route as a sender may name them: a forged line, a carriage return,
    // an ANSI colour and a window title sequence.
    found.services[0].service = "shop\nweb: 1000000 server spans\r".to_string();
    found.services[0].route = Some("/pay\u{1b}[2J\u{1b}]0;title\u{7}".to_string());
    let text = render::text(&found);
    let controls: Vec<char> = text
        .chars()
        .filter(|&c| c.is_control() && c != '\n')
        .collect();
    assert!(controls.is_empty(), "{controls:?} in\n{text}");
    assert!(
        text.contains(
            "shop\\u{a}web: 1000000 server spans\\u{d} /pay\\u{1b}[2J\\u{1b}]0;title\\u{7}:"
        ),
        "{text}"
    );
}
