use super::*;
use crate::slo::spec::parse_file;

const NOW: u64 = 1_780_000_000_000_000_000;

fn slo(extra: &str) -> Slo {
    let text = format!(
        "service: shop\nslos:\n  - name: pay\n    objective: 99\n    window: 30d\n    \
         sli: {{spans: {{where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}}}\n    \
         percentiles: [50, 99]\n{extra}"
    );
    parse_file(&text, "t.yaml").unwrap().remove(0)
}

fn sample(labels: &[(&str, &str)], value: f64) -> Sample {
    Sample {
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        value,
    }
}

/// `(good, bad)` of `window` for an entry at `cluster` (and group `route`).
fn counts(window: &str, cluster: &str, route: Option<&str>, good: f64, bad: f64) -> Vec<Sample> {
    let mut out = Vec::new();
    for (outcome, v) in [("good", good), ("bad", bad)] {
        let mut l = vec![
            ("slo", "pay"),
            ("service", "shop"),
            ("cluster", cluster),
            ("outcome", outcome),
            (WINDOW_LABEL, window),
        ];
        if let Some(r) = route {
            l.push(("http_route", r));
        }
        out.push(sample(&l, v));
    }
    out
}

#[test]
fn queries_read_the_recorded_increments_by_the_slos_labels() {
    let s = slo("    group_by: ['attributes[\"http.route\"]']\n");
    let windows = windows_of(&s);
    let q = counts_query(&s, &windows, NOW);
    assert!(
        q.starts_with(
            "label_replace(sum by (slo, service, cluster, http_route, outcome) \
         (sum_over_time(slo:sli_events:increase_step{service=\"shop\", slo=\"pay\"}[300s])), \
         \"slotel_window\", \"5m\", \"\", \"\") or "
        ),
        "{q}"
    );
    assert!(
        q.contains("[2592000s])), \"slotel_window\", \"30d\""),
        "{q}"
    );
    assert_eq!(q.matches(" or ").count(), windows.len() - 1);
    let l = latency_query(&s, &windows, NOW).unwrap();
    assert!(
        l.contains(
            "histogram_quantile(0.99, sum by (slo, service, cluster, http_route) \
         (increase(slotel_slo_latency_seconds{service=\"shop\", slo=\"pay\"}[3600s])))"
        ),
        "{l}"
    );
    assert!(l.contains("\"slotel_percentile\", \"p99\""), "{l}");
    // A fixed SLO window has no recorded increments: counter increases.
    let d = parse_file(
        "service: shop\nslos:\n  - name: d\n    objective: 99\n    window: 1d\n    \
         sli: {spans: {where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}\n",
        "t.yaml",
    )
    .unwrap()
    .remove(0);
    let q = counts_query(&d, &windows_of(&d), NOW);
    assert!(q.contains("increase(slotel_slo_events_total{"), "{q}");
    assert!(!q.contains("increase_step"), "{q}");
}

#[test]
fn vectors_become_entries_with_the_engines_formulas_and_order() {
    let s = slo("    group_by: ['attributes[\"http.route\"]']\n    min_events: 10\n");
    let windows = windows_of(&s);
    let labels: Vec<&str> = windows.iter().map(|w| w.label.as_str()).collect();
    assert_eq!(labels, ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]);
    let mut v = Vec::new();
    // Group entries first in the vector, in no order: the mapping sorts them.
    v.extend(counts("30d", "seoul", Some("/b"), 500.0, 6.0));
    v.extend(counts("30d", "seoul", Some("/a"), 1000.0, 0.0));
    v.extend(counts("30d", "seoul", None, 1500.0, 5.0));
    v.extend(counts("30d", "all", None, 1994.0, 6.0));
    v.extend(counts("3d", "all", None, 990.0, 10.0));
    // Below min_events: no burn rate.
    v.extend(counts("5m", "all", None, 8.0, 1.0));
    v.extend(counts("30d", "berlin", None, 494.0, 1.0));
    // Fewer than min_events in the SLO window.
    v.extend(counts("30d", "busan", None, 4.0, 1.0));
    let lat = vec![
        sample(
            &[
                ("slo", "pay"),
                ("service", "shop"),
                ("cluster", "all"),
                (WINDOW_LABEL, "30d"),
                (PERCENTILE_LABEL, "p99"),
            ],
            0.25,
        ),
        sample(
            &[
                ("slo", "pay"),
                ("service", "shop"),
                ("cluster", "all"),
                (WINDOW_LABEL, "30d"),
                (PERCENTILE_LABEL, "p50"),
            ],
            f64::NAN,
        ),
    ];
    let e = entries(&s, &windows, NOW, &v, &lat, &[]);
    let order: Vec<(&str, Option<String>)> = e
        .iter()
        .map(|g| {
            (
                g.cluster.as_str(),
                g.group
                    .as_ref()
                    .map(|o| o.get("http.route").unwrap().clone()),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            ("all", None),
            ("berlin", None),
            ("busan", None),
            ("seoul", None),
            ("seoul", Some("/a".into())),
            ("seoul", Some("/b".into())),
        ]
    );
    let all = &e[0];
    assert_eq!((all.total, all.good), (2000, 1994));
    assert_eq!(all.error_ratio, Some(0.003));
    let budget_left = 1.0 - 0.003 / 0.01;
    assert!((all.error_budget_remaining.unwrap() - budget_left).abs() < 1e-12);
    // The long window (3d) burns at 0.01 / 0.01 = 1: not faster than 1×, so ok.
    assert!((all.burn_rate.get("3d").unwrap().unwrap() - 1.0).abs() < 1e-12);
    assert_eq!(all.burn_rate.get("5m"), Some(&None));
    assert_eq!(all.status, Status::Ok);
    let tte = all.time_to_exhaustion_seconds.unwrap();
    assert!((tte - budget_left * 30.0 * 86_400.0).abs() < 1e-6, "{tte}");
    assert_eq!(all.latency.get("p99"), Some(&Some(0.25)));
    assert_eq!(all.latency.get("p50"), Some(&None));
    assert_eq!(all.windows.as_ref().unwrap().len(), 8);
    assert_eq!(all.windows.as_ref().unwrap()[0].total, 9);
    // No window without data has a ratio.
    assert_eq!(all.windows.as_ref().unwrap()[1].error_ratio, None);
    assert_eq!(e[2].status, Status::InsufficientData);
    assert_eq!(e[2].error_ratio, Some(0.2));
    let b = &e[5];
    assert_eq!((b.total, b.good), (506, 500));
    assert_eq!(
        b.labels,
        [
            ("slo".to_string(), "pay".to_string()),
            ("service".into(), "shop".into()),
            ("cluster".into(), "seoul".into()),
            ("http_route".into(), "/b".into()),
        ]
    );
    // 1 − (6/506)/0.01 < 0: spent.
    assert_eq!(b.status, Status::Breaching);
    assert_eq!(b.time_to_exhaustion_seconds, Some(0.0));
    // Nothing but `all`: one entry without data.
    let empty = entries(&s, &windows, NOW, &[], &[], &[]);
    assert_eq!(empty.len(), 1);
    assert_eq!((empty[0].total, empty[0].status), (0, Status::NoData));
    assert_eq!(empty[0].error_budget_remaining, None);
}

#[test]
fn prometheus_errors_are_reasons() {
    let ok = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"cluster":"all"},"value":[1.5,"42"]}]}}"#;
    let v = parse_vector(http::StatusCode::OK, ok).unwrap();
    assert_eq!(v, [sample(&[("cluster", "all")], 42.0)]);
    let bad = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#;
    assert!(matches!(
        parse_vector(http::StatusCode::BAD_REQUEST, bad),
        Err(AnswerError::Refused { status, .. }) if status == http::StatusCode::BAD_REQUEST
    ));
    let e = parse_vector(http::StatusCode::BAD_REQUEST, bad)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("400") && e.contains("bad_data") && e.contains("parse error"),
        "{e}"
    );
    let e = parse_vector(http::StatusCode::BAD_GATEWAY, b"<html>upstream down</html>")
        .unwrap_err()
        .to_string();
    assert!(e.contains("502") && e.contains("upstream down"), "{e}");
    let e = parse_vector(http::StatusCode::OK, b"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("8 MiB"), "{e}");
    let m = br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
    assert!(
        parse_vector(http::StatusCode::OK, m)
            .unwrap_err()
            .to_string()
            .contains("matrix")
    );
}
