use super::*;
use crate::slo::spec::parse_file;

fn slo() -> Slo {
    parse_file(
        "service: shop\nslos:\n  - name: pay\n    objective: 99\n    window: 30d\n    \
         sli: {spans: {where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}\n    \
         group_by: ['attributes[\"http.route\"]']\n    percentiles: [50, 99]\n",
        "t.yaml",
    )
    .unwrap()
    .remove(0)
}

fn series(labels: &[(&str, &str)], values: &[(u64, f64)]) -> RangeSeries {
    RangeSeries {
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        values: values.iter().map(|&(t, v)| (t as f64, v)).collect(),
    }
}

#[test]
fn ranges_are_bounded_and_end_now() {
    let now = 1_780_000_000;
    // A day of 5-minute steps: 288 points.
    let r = Range::ending(now, 300 * 287, 300);
    assert_eq!((r.step, r.points, r.end()), (300, 288, now));
    // A step too fine for the span is raised: at most MAX_POINTS points.
    let r = Range::ending(now, 86_400, 1);
    assert!(r.points <= MAX_POINTS, "{r:?}");
    assert_eq!(r.step, 86_400u64.div_ceil(MAX_POINTS - 1));
    assert_eq!(r.end(), now);
    // Never before the epoch.
    let r = Range::ending(1_000, 30 * 86_400, 86_400);
    assert_eq!((r.start, r.points), (1_000, 1));
    let (coarse, recent) = ranges(&slo(), Duration::from_secs(5), now);
    assert_eq!((coarse.step, coarse.points), (86_400, 31));
    assert_eq!((recent.step, recent.points), (5, 288));
    assert_eq!((coarse.end(), recent.end()), (now, now));
}

#[test]
fn one_query_reads_every_roll_up_recording() {
    let s = slo();
    let r = recorded::of(&s).unwrap();
    let q = query(&r);
    assert!(
        q.starts_with(
            "label_replace(slo:period_error_budget_remaining:ratio{service=\"shop\", slo=\"pay\", \
             http_route=\"\"}, \"slotel_column\", \"budget\", \"\", \"\") or "
        ),
        "{q}"
    );
    assert!(
        q.contains(
            "label_replace(slo:sli_error:ratio_rate30d{service=\"shop\", slo=\"pay\", \
             http_route=\"\"}, \"slotel_column\", \"burn:30d\", \"\", \"\")"
        ),
        "{q}"
    );
    assert!(
        q.ends_with(
            "label_replace(slo:latency_seconds:quantile_rate5m{service=\"shop\", slo=\"pay\", \
             http_route=\"\"}, \"slotel_column\", \"latency\", \"\", \"\")"
        ),
        "{q}"
    );
    // The budget, eight windows, the latency.
    assert_eq!(q.matches(" or ").count(), 1 + 8);
}

#[test]
fn matrices_become_columns_per_cluster() {
    let s = slo();
    let r = recorded::of(&s).unwrap();
    let now = 1_780_000_000;
    let (coarse, recent) = ranges(&s, Duration::from_secs(60), now);
    let base = |cluster: &'static str, column: &'static str| {
        vec![
            ("slo", "pay"),
            ("service", "shop"),
            ("cluster", cluster),
            (COLUMN, column),
        ]
    };
    let t = |k: u64| now - k * 60;
    let recent_m = vec![
        // Budget left of `all`: the last three steps; NaN is no value.
        series(
            &base("all", "budget"),
            &[(t(2), 0.5), (t(1), f64::NAN), (t(0), 0.4)],
        ),
        // An error ratio of 2% is a burn rate of 2.
        series(&base("all", "burn:1h"), &[(t(0), 0.02)]),
        series(
            &[base("all", "latency"), vec![("quantile", "0.99")]].concat(),
            &[(t(0), 0.25)],
        ),
        // Another cluster, and a group series (which the query would not select).
        series(&base("seoul", "burn:5m"), &[(t(1), 0.001)]),
        series(
            &[base("seoul", "budget"), vec![("http_route", "/pay")]].concat(),
            &[(t(0), -3.0)],
        ),
        // Not an evaluation time, an unknown window: ignored.
        series(&base("all", "burn:1h"), &[(t(0) - 7, 0.5)]),
        series(&base("all", "burn:7d"), &[(t(0), 0.5)]),
    ];
    // The coarse range: a day apart, one point older than the recent range.
    let coarse_m = vec![series(
        &base("all", "budget"),
        &[(now - 2 * 86_400, 0.9), (now, 0.1)],
    )];
    let v = view(&s, &r, (coarse, &coarse_m), (recent, &recent_m));
    assert_eq!(v.source, "prometheus");
    assert_eq!((v.window.as_str(), v.objective), ("30d", 0.99));
    assert_eq!((v.step_seconds, v.window_step_seconds), (60, 86_400));
    assert_eq!(v.latency_window.as_deref(), Some("5m"));
    assert!(!v.alerts.is_empty());
    let clusters: Vec<&str> = v.series.iter().map(|s| s.cluster.as_str()).collect();
    assert_eq!(clusters, ["all", "seoul"]);
    let all = &v.series[0];
    // The coarse points from two days ago (the first with a value) before the recent
    // range, then the recent range (the coarse point at `now` lies in it, which has its
    // own); a point without any value is a gap.
    assert_eq!(all.t.len(), 2 + 288);
    assert_eq!(&all.t[..3], [now - 2 * 86_400, now - 86_400, recent.start]);
    assert_eq!(&all.t[all.t.len() - 3..], [t(2), t(1), t(0)]);
    let tail = |v: &Vec<Option<f64>>| v[v.len() - 3..].to_vec();
    assert_eq!(&all.error_budget_remaining[..3], [Some(0.9), None, None]);
    assert_eq!(
        tail(&all.error_budget_remaining),
        [Some(0.5), None, Some(0.4)]
    );
    let sli: Vec<f64> = tail(&all.sli).iter().map(|v| v.unwrap_or(-1.0)).collect();
    for (got, want) in sli.iter().zip([0.995, -1.0, 0.994]) {
        assert!((got - want).abs() < 1e-12, "{sli:?}");
    }
    assert!((all.sli[0].unwrap() - 0.999).abs() < 1e-12);
    let burn = tail(all.burn_rate.get("1h").unwrap());
    assert!((burn[2].unwrap() - 2.0).abs() < 1e-12);
    assert_eq!(&burn[..2], [None, None]);
    assert!(
        all.burn_rate.get("1h").unwrap()[..all.t.len() - 1]
            .iter()
            .all(Option::is_none)
    );
    let labels: Vec<&str> = all.burn_rate.0.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(labels, ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]);
    assert_eq!(all.latency.get("p99").unwrap().last(), Some(&Some(0.25)));
    assert_eq!(all.latency.get("p50").unwrap(), &vec![None; all.t.len()]);
    let seoul = &v.series[1];
    assert_eq!(seoul.t, [t(1), t(0)], "from its first value on");
    assert_eq!(seoul.error_budget_remaining, [None, None]);
    assert!((seoul.burn_rate.get("5m").unwrap()[0].unwrap() - 0.1).abs() < 1e-12);
}

#[test]
fn clusters_over_the_limit_are_counted() {
    let s = slo();
    let r = recorded::of(&s).unwrap();
    let now = 1_780_000_000;
    let (coarse, recent) = ranges(&s, Duration::from_secs(60), now);
    let names: Vec<String> = (0..MAX_SERIES_PER_SLO + 2)
        .map(|i| format!("c{i:02}"))
        .chain(["all".to_string()])
        .collect();
    let m: Vec<RangeSeries> = names
        .iter()
        .map(|c| {
            series(
                &[("cluster", c.as_str()), (COLUMN, "budget")],
                &[(now, 0.5)],
            )
        })
        .collect();
    let v = view(&s, &r, (coarse, &[]), (recent, &m));
    assert_eq!(v.series.len(), MAX_SERIES_PER_SLO);
    assert_eq!(v.series[0].cluster, "all");
    assert_eq!(v.series[1].cluster, "c00");
    assert_eq!(v.series_dropped, 3);
    // Nothing recorded yet: no series.
    let v = view(&s, &r, (coarse, &[]), (recent, &[]));
    assert!(v.series.is_empty());
}

#[test]
fn range_answers_and_their_errors() {
    let ok = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"cluster":"all"},"values":[[1780000000,"0.5"],[1780000060,"NaN"]]}]}}"#;
    let m = parse_matrix(http::StatusCode::OK, ok).unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].values[0], (1_780_000_000.0, 0.5));
    assert!(m[0].values[1].1.is_nan());
    let vector = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
    let e = parse_matrix(http::StatusCode::OK, vector)
        .unwrap_err()
        .to_string();
    assert!(e.contains("range matrix") && e.contains("vector"), "{e}");
    let too_many = br#"{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries"}"#;
    let e = parse_matrix(http::StatusCode::BAD_REQUEST, too_many)
        .unwrap_err()
        .to_string();
    assert!(e.contains("400") && e.contains("maximum resolution"), "{e}");
    let timeout = br#"{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}"#;
    let e = parse_matrix(http::StatusCode::SERVICE_UNAVAILABLE, timeout)
        .unwrap_err()
        .to_string();
    assert!(e.contains("timeout") && e.contains("timed out"), "{e}");
    let shape = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[["x"]]}]}}"#;
    assert!(parse_matrix(http::StatusCode::OK, shape).is_err());
}
