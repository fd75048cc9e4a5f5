use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, DataPointFlags, ExponentialHistogram, ExponentialHistogramDataPoint,
    Gauge, Metric, NumberDataPoint, Sum, metric, number_data_point,
};

use super::*;
use crate::attr::kv;

fn cfg(max_samples: usize) -> RemoteWriteConfig {
    RemoteWriteConfig {
        replica: Some("r1".into()),
        external_labels: [("region".to_string(), "kr".to_string())].into(),
        max_samples_per_request: max_samples,
        // The samples here are timestamped near the epoch.
        max_sample_age: None,
        ..RemoteWriteConfig::new("http://127.0.0.1:9/api/v1/write")
    }
}

fn request(metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    crate::test_otlp::metrics_request(vec![], metrics)
}

fn decode(records: &[Record]) -> Vec<prom::TimeSeries> {
    records
        .iter()
        .flat_map(|r| {
            let raw = snap::raw::Decoder::new().decompress_vec(&r.body).unwrap();
            prom::WriteRequest::decode(raw.as_slice())
                .unwrap()
                .timeseries
        })
        .collect()
}

fn counter(name: &str, v: f64, t_ms: u64, attrs: Vec<KeyValue>) -> Metric {
    Metric {
        name: name.into(),
        data: Some(metric::Data::Sum(Sum {
            data_points: vec![NumberDataPoint {
                attributes: attrs,
                time_unix_nano: t_ms * 1_000_000,
                value: Some(number_data_point::Value::AsDouble(v)),
                ..Default::default()
            }],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        })),
        ..Default::default()
    }
}

#[test]
fn counters_get_sorted_labels_replica_and_external_labels() {
    let rw = RemoteWrite::new(&cfg(100)).unwrap();
    let now = jiff::Timestamp::now().as_millisecond() as u64;
    let req = request(vec![counter(
        "slo.events",
        7.0,
        now - 1000,
        vec![kv("zone", "a"), kv("http.route", "/x")],
    )]);
    let series = decode(&rw.encode_metrics(&req, None).unwrap());
    assert_eq!(series.len(), 1);
    let names: Vec<&str> = series[0].labels.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        ["__name__", "http_route", "region", "slotel_replica", "zone"]
    );
    assert_eq!(series[0].labels[0].value, "slo_events_total");
    assert_eq!(series[0].samples[0].value, 7.0);
    assert_eq!(series[0].samples[0].timestamp, (now - 1000) as i64);
}

/// Replica and external labels are slotel's: a data-point attribute of the same name (or
/// one that sanitizes to it) is dropped, never sent instead or as a second label; the
/// resource's `job` beats an attribute, and a histogram's `le` is the conversion's.
#[test]
fn slotels_own_labels_win_over_sender_attributes() {
    use opentelemetry_proto::tonic::metrics::v1::{Histogram, HistogramDataPoint};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    let rw = RemoteWrite::new(&cfg(100)).unwrap();
    let now = jiff::Timestamp::now().as_millisecond() as u64;
    let hostile = vec![
        kv("slotel_replica", "evil"),
        kv("slotel.replica", "evil2"),
        kv("region", "us"),
        kv("job", "not-mine"),
        kv("le", "0"),
        kv("zone", "a"),
    ];
    let mut req = request(vec![
        counter("c", 1.0, now - 1000, hostile.clone()),
        Metric {
            name: "lat".into(),
            data: Some(metric::Data::Histogram(Histogram {
                data_points: vec![HistogramDataPoint {
                    attributes: hostile,
                    time_unix_nano: (now - 1000) * 1_000_000,
                    count: 3,
                    bucket_counts: vec![1, 2],
                    explicit_bounds: vec![0.5],
                    ..Default::default()
                }],
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
            })),
            ..Default::default()
        },
    ]);
    req.resource_metrics[0].resource = Some(Resource {
        attributes: vec![kv("service.name", "checkout"), kv("slotel_replica", "r9")],
        ..Default::default()
    });
    let series = decode(&rw.encode_metrics(&req, None).unwrap());
    // The counter, two buckets and the count.
    assert_eq!(series.len(), 4);
    let mut les = Vec::new();
    for s in &series {
        let names: Vec<&str> = s.labels.iter().map(|l| l.name.as_str()).collect();
        let mut unique = names.clone();
        unique.dedup();
        assert_eq!(names, unique, "one label per name: {names:?}");
        let get = |n: &str| {
            s.labels
                .iter()
                .find(|l| l.name == n)
                .map(|l| l.value.as_str())
        };
        assert_eq!(get("slotel_replica"), Some("r1"), "{:?}", s.labels);
        assert_eq!(get("region"), Some("kr"), "{:?}", s.labels);
        assert_eq!(get("job"), Some("checkout"), "{:?}", s.labels);
        assert_eq!(get("zone"), Some("a"));
        if get("__name__") == Some("lat_bucket") {
            les.push(get("le").unwrap_or_default().to_string());
        }
    }
    assert_eq!(les, ["0.5", "+Inf"]);
}

/// slotel's own SLO series keep their labels where an external label has the same name
/// (an external `cluster` must not merge the per-cluster series); the replica label still
/// wins. A sender's series with the same attributes get the external value.
#[test]
fn slo_series_keep_their_labels_over_external_ones() {
    let rw = RemoteWrite::new(&RemoteWriteConfig {
        external_labels: [("cluster".to_string(), "mimir-eu".to_string())].into(),
        ..cfg(100)
    })
    .unwrap();
    let now = jiff::Timestamp::now().as_millisecond() as u64;
    let attrs = vec![kv("cluster", "seoul-prod"), kv("slotel_replica", "x")];
    let req = request(vec![counter("slotel_slo_events", 1.0, now - 1000, attrs)]);
    let own = decode(&rw.encode_slo_series(&req).unwrap());
    let get = |s: &prom::TimeSeries, n: &str| {
        s.labels
            .iter()
            .find(|l| l.name == n)
            .map(|l| l.value.clone())
    };
    assert_eq!(get(&own[0], "cluster").as_deref(), Some("seoul-prod"));
    assert_eq!(get(&own[0], "slotel_replica").as_deref(), Some("r1"));
    let rw = RemoteWrite::new(&RemoteWriteConfig {
        external_labels: [("cluster".to_string(), "mimir-eu".to_string())].into(),
        ..cfg(100)
    })
    .unwrap();
    let sent = decode(&rw.encode_metrics(&req, None).unwrap());
    assert_eq!(get(&sent[0], "cluster").as_deref(), Some("mimir-eu"));
    assert_eq!(get(&sent[0], "slotel_replica").as_deref(), Some("r1"));
}

#[test]
fn timestamps_only_move_forward_and_never_into_the_future() {
    let rw = RemoteWrite::new(&cfg(100)).unwrap();
    let now = jiff::Timestamp::now().as_millisecond() as u64;
    let at = |t| request(vec![counter("c_total", 1.0, t, vec![])]);
    assert_eq!(
        decode(&rw.encode_metrics(&at(now - 5000), None).unwrap()).len(),
        1
    );
    // Same and older timestamps are dropped (Prometheus would refuse the whole request).
    assert!(decode(&rw.encode_metrics(&at(now - 5000), None).unwrap()).is_empty());
    assert!(decode(&rw.encode_metrics(&at(now - 9000), None).unwrap()).is_empty());
    let future = decode(&rw.encode_metrics(&at(now + 3_600_000), None).unwrap());
    assert!(future[0].samples[0].timestamp <= jiff::Timestamp::now().as_millisecond());
}

#[test]
fn requests_hold_at_most_max_samples() {
    let rw = RemoteWrite::new(&cfg(10)).unwrap();
    let now = jiff::Timestamp::now().as_millisecond() as u64;
    let metrics = (0..25)
        .map(|i| counter(&format!("c{i}_total"), f64::from(i), now, vec![]))
        .collect();
    let records = rw
        .encode_metrics(&request(metrics), Some("team-a".into()))
        .unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(
        records.iter().map(|r| r.items).collect::<Vec<_>>(),
        [10, 10, 5]
    );
    assert!(
        records
            .iter()
            .all(|r| r.tenant.as_deref() == Some("team-a"))
    );
    assert_eq!(decode(&records).len(), 25);
}

#[test]
fn flagged_points_become_stale_markers() {
    let rw = RemoteWrite::new(&cfg(100)).unwrap();
    let now = jiff::Timestamp::now().as_millisecond() as u64;
    let req = request(vec![Metric {
        data: Some(metric::Data::Gauge(Gauge {
            data_points: vec![NumberDataPoint {
                attributes: vec![kv("slo", "a"), kv("__name__", "slotel_slo_burn_rate")],
                time_unix_nano: now * 1_000_000,
                flags: DataPointFlags::NoRecordedValueMask as u32,
                ..Default::default()
            }],
        })),
        ..Default::default()
    }]);
    let series = decode(&rw.encode_metrics(&req, None).unwrap());
    assert_eq!(series[0].labels[0].value, "slotel_slo_burn_rate");
    assert_eq!(series[0].samples[0].value.to_bits(), STALE_NAN);
}

/// Expands native spans and deltas into (index, count).
fn expand(spans: &[prom::BucketSpan], deltas: &[i64]) -> Vec<(i32, i64)> {
    let mut out = Vec::new();
    let (mut idx, mut count, mut d) = (0i32, 0i64, 0usize);
    for (n, s) in spans.iter().enumerate() {
        idx += if n == 0 { s.offset } else { s.offset + 1 };
        for k in 0..s.length {
            if k > 0 {
                idx += 1;
            }
            count += deltas[d];
            d += 1;
            if count != 0 {
                out.push((idx, count));
            }
        }
    }
    assert_eq!(d, deltas.len());
    out
}

#[test]
fn exponential_histograms_become_native_histograms_at_the_schema() {
    // OTLP scale 8, offset 99: bucket k covers (2^((99+k)/256), 2^((100+k)/256)].
    let (spans, deltas) = native_buckets(99, &[3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 1], 8, 8);
    assert_eq!(expand(&spans, &deltas), [(100, 3), (110, 5), (111, 1)]);
    // Down to schema 6: native index ⌈i/4⌉.
    let (spans, deltas) = native_buckets(99, &[3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 1], 8, 6);
    assert_eq!(expand(&spans, &deltas), [(25, 3), (28, 6)]);
    let (spans, deltas) = native_buckets(-10, &[1, 0, 0, 0, 0, 0, 0, 2], 6, 6);
    assert_eq!(expand(&spans, &deltas), [(-9, 1), (-2, 2)]);

    let rw = RemoteWrite::new(&cfg(100)).unwrap();
    let now = jiff::Timestamp::now().as_millisecond() as u64;
    let req = request(vec![Metric {
        name: "lat_seconds".into(),
        data: Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: vec![ExponentialHistogramDataPoint {
                count: 10,
                sum: Some(1.5),
                zero_count: 1,
                ..crate::test_otlp::exponential_point(
                    0,
                    now * 1_000_000,
                    8,
                    99,
                    vec![3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 1],
                )
            }],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
        })),
        ..Default::default()
    }]);
    let series = decode(&rw.encode_metrics(&req, None).unwrap());
    let h = &series[0].histograms[0];
    assert_eq!(h.schema, 6);
    assert_eq!(h.count, Some(prom::histogram::Count::CountInt(10)));
    assert_eq!(
        h.zero_count,
        Some(prom::histogram::ZeroCount::ZeroCountInt(1))
    );
    assert_eq!(
        expand(&h.positive_spans, &h.positive_deltas),
        [(25, 3), (28, 6)]
    );
}

/// Mimir refuses a series whose label value is longer than its `max_label_value_length`
/// (default 2048 bytes) with 400, and slotel then gives up on the whole request. A 4 KiB
/// data-point attribute and a 4 KiB `service.name` (the `job` label) are cut to 2048
/// bytes with a hash at the end, the series stay distinct, ordinary series are unchanged.
#[test]
fn label_values_past_mimirs_limit_are_cut_and_every_series_kept() {
    use opentelemetry_proto::tonic::resource::v1::Resource;
    let rw = RemoteWrite::new(&cfg(100)).unwrap();
    let now = jiff::Timestamp::now().as_millisecond() as u64;
    let long = "ü".repeat(2048); // 4096 bytes
    let mut req = request(vec![
        counter("c", 1.0, now - 1000, vec![kv("path", "/ok")]),
        counter("c", 2.0, now - 1000, vec![kv("path", format!("{long}1"))]),
        counter("c", 3.0, now - 1000, vec![kv("path", format!("{long}2"))]),
    ]);
    req.resource_metrics[0].resource = Some(Resource {
        attributes: vec![kv("service.name", &long)],
        ..Default::default()
    });
    let series = decode(&rw.encode_metrics(&req, None).unwrap());
    assert_eq!(series.len(), 3);
    let get = |s: &prom::TimeSeries, n: &str| {
        s.labels
            .iter()
            .find(|l| l.name == n)
            .map(|l| l.value.clone())
            .unwrap_or_default()
    };
    for s in &series {
        for l in &s.labels {
            assert!(l.value.len() <= 2048, "{}: {} bytes", l.name, l.value.len());
        }
        let job = get(s, "job");
        let (prefix, hash) = job.rsplit_once('~').unwrap();
        assert!(long.starts_with(prefix) && prefix.len() > 2000);
        assert_eq!(hash.len(), 16);
    }
    let paths: Vec<String> = series.iter().map(|s| get(s, "path")).collect();
    assert_eq!(paths[0], "/ok");
    assert_ne!(paths[1], paths[2]);
    assert_eq!(series[1].samples[0].value, 2.0);
    assert_eq!(series[2].samples[0].value, 3.0);
}

/// The SLO series' labels are never cut (the engine bounds them to 256 bytes a group).
#[test]
fn slo_series_labels_are_not_cut() {
    let rw = RemoteWrite::new(&RemoteWriteConfig {
        max_label_value_length: 64,
        ..cfg(100)
    })
    .unwrap();
    let now = jiff::Timestamp::now().as_millisecond() as u64;
    let group = "g".repeat(256);
    let req = request(vec![counter(
        "slo",
        1.0,
        now - 1000,
        vec![kv("group", &group)],
    )]);
    let series = decode(&rw.encode_slo_series(&req).unwrap());
    assert!(series[0].labels.iter().any(|l| l.value == group));
    let series = decode(&rw.encode_metrics(&req, None).unwrap());
    assert!(series[0].labels.iter().all(|l| l.value.len() <= 64));
}

#[test]
fn cut_label_values_end_at_a_character_boundary() {
    // 2-, 3- and 4-byte characters: the prefix never splits one.
    for c in ["ü", "서", "😀"] {
        for max in 64..72 {
            let mut v = c.repeat(100);
            assert!(cut_label_value(&mut v, max));
            assert!(
                v.len() <= max && v.len() > max - 17 - 4,
                "{max}: {}",
                v.len()
            );
        }
    }
    let mut short = "x".repeat(64);
    assert!(!cut_label_value(&mut short, 64));
    assert!(!cut_label_value(&mut short, 0));
}

/// What Mimir refuses a whole push for, one series of a received request each: more than
/// `max_label_names_per_series` labels (30 by default, slotel's and the name counted), a
/// sample older than `max_sample_age` (the TSDB head's lower bound, 1h behind). Only that
/// series is dropped, and counted; a label name past `max_label_name_length` (1024) is cut
/// to a valid name instead, and a metric name past `max_label_value_length` keeps the
/// name syntax (`_` before its hash, never `~`).
#[test]
fn series_past_mimirs_per_series_limits_are_cut_or_dropped_alone() {
    let rw = RemoteWrite::new(&RemoteWriteConfig {
        max_sample_age: RemoteWriteConfig::new("http://x").max_sample_age,
        ..cfg(100)
    })
    .unwrap();
    let metrics = crate::telemetry::Metrics::new();
    let rw = rw.counting("prometheusremotewrite/m", &metrics);
    let now = jiff::Timestamp::now().as_millisecond() as u64;
    // 26 attributes + `__name__`, replica, `region` (external): 29 labels; one more is 30.
    let attrs = |n: usize| (0..n).map(|i| kv(&format!("a{i:02}"), "v")).collect();
    let long_name = "n".repeat(1500);
    let req = request(vec![
        counter("ok_total", 1.0, now - 1000, attrs(27)),
        counter("many_total", 1.0, now - 1000, attrs(28)),
        counter("old_total", 1.0, now - 2 * 3_600_000, vec![]),
        counter("hour_total", 1.0, now - 3_500_000, vec![]),
        counter("named_total", 1.0, now - 1000, vec![kv(&long_name, "v")]),
        counter(&"m".repeat(3000), 1.0, now - 1000, vec![]),
    ]);
    let series = decode(&rw.encode_metrics(&req, None).unwrap());
    let names: Vec<&str> = series
        .iter()
        .map(|s| {
            let n = &s
                .labels
                .iter()
                .find(|l| l.name == "__name__")
                .unwrap()
                .value;
            &n[..n.len().min(11)]
        })
        .collect();
    assert_eq!(
        names,
        ["ok_total", "hour_total", "named_total", "mmmmmmmmmmm"]
    );
    assert_eq!(series[0].labels.len(), 30);
    let name_ok = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    let cut = series[2]
        .labels
        .iter()
        .find(|l| l.name.starts_with("nnn"))
        .unwrap();
    assert!(cut.name.len() <= 1024 && name_ok(&cut.name), "{}", cut.name);
    let metric = &series[3]
        .labels
        .iter()
        .find(|l| l.name == "__name__")
        .unwrap()
        .value;
    assert!(metric.len() <= 2048 && name_ok(metric), "{metric}");
    let text = metrics.encode();
    for (reason, n) in [
        ("too_many_labels", 1),
        ("too_old", 1),
        ("label_name_cut", 1),
        ("line_truncated", 0),
    ] {
        let line = format!(
            "slotel_exporter_limited_records_total{{exporter=\"prometheusremotewrite/m\",reason=\"{reason}\"}} {n}"
        );
        assert!(text.contains(&line), "{line}\n{text}");
    }
    // 0 turns each limit off.
    let off = RemoteWrite::new(&RemoteWriteConfig {
        max_label_names_per_series: 0,
        max_label_name_length: 0,
        max_label_value_length: 0,
        max_sample_age: None,
        ..cfg(100)
    })
    .unwrap();
    let series = decode(&off.encode_metrics(&req, None).unwrap());
    assert_eq!(series.len(), 6);
    assert!(
        series
            .iter()
            .any(|s| s.labels.iter().any(|l| l.name == long_name))
    );
}

/// slotel's own SLO series pass none of the per-series limits: they are never changed.
#[test]
fn slo_series_are_never_limited() {
    let rw = RemoteWrite::new(&RemoteWriteConfig {
        max_label_names_per_series: 5,
        max_label_name_length: 64,
        max_sample_age: Some(std::time::Duration::from_secs(1)),
        ..cfg(100)
    })
    .unwrap();
    let now = jiff::Timestamp::now().as_millisecond() as u64;
    let attrs = (0..8)
        .map(|i| kv(&format!("{}{i}", "g".repeat(100)), "v"))
        .collect();
    let req = request(vec![counter("slo", 1.0, now - 60_000, attrs)]);
    let series = decode(&rw.encode_slo_series(&req).unwrap());
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].labels.len(), 11);
    assert!(series[0].labels.iter().any(|l| l.name.len() == 101));
    assert!(decode(&rw.encode_metrics(&req, None).unwrap()).is_empty());
}

/// A request of `shape[i]` = (samples, histograms) for series i, samples and histograms
/// numbered so every item is told apart.
fn shaped_request(shape: &[(usize, usize)]) -> Record {
    let timeseries = shape
        .iter()
        .enumerate()
        .map(|(i, &(samples, histograms))| prom::TimeSeries {
            labels: vec![prom::Label {
                name: "__name__".into(),
                value: format!("series_{i}"),
            }],
            samples: (0..samples)
                .map(|t| prom::Sample {
                    value: i as f64,
                    timestamp: t as i64,
                })
                .collect(),
            histograms: (0..histograms)
                .map(|t| prom::Histogram {
                    sum: i as f64,
                    timestamp: t as i64,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    let req = prom::WriteRequest {
        timeseries,
        metadata: vec![prom::MetricMetadata {
            metric_family_name: "series_0".into(),
            ..Default::default()
        }],
    };
    let body = snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .unwrap();
    Record {
        tenant: Some("t1".into()),
        items: shape.iter().map(|&(s, h)| (s + h) as u64).sum(),
        route: 0,
        queued_ms: 7,
        body: Bytes::from(body),
    }
}

/// Every (series, sample or histogram) of a request, in order.
fn items_of(record: &Record) -> Vec<(String, bool, i64)> {
    decode(std::slice::from_ref(record))
        .into_iter()
        .flat_map(|s| {
            let name = s.labels[0].value.clone();
            let samples = s.samples.iter().map(|p| (name.clone(), false, p.timestamp));
            let hists = s
                .histograms
                .iter()
                .map(|h| (name.clone(), true, h.timestamp));
            samples.chain(hists).collect::<Vec<_>>()
        })
        .collect()
}

proptest::proptest! {
    /// Split again and again down to single items, a request's parts hold each of its
    /// samples and histograms exactly once, with their series' labels, in order (samples
    /// among samples, histograms among histograms); each
    /// part counts its items, keeps the tenant, and only the first keeps the metadata.
    #[test]
    fn a_request_splits_down_to_its_items(
        shape in proptest::collection::vec((0usize..5, 0usize..3), 1..12),
    ) {
        let whole = shaped_request(&shape);
        let want = items_of(&whole);
        let mut got = Vec::new();
        let mut parts = vec![whole.clone()];
        let mut requests = 0;
        while let Some(part) = parts.pop() {
            requests += 1;
            proptest::prop_assert_eq!(part.items as usize, items_of(&part).len());
            proptest::prop_assert_eq!(part.tenant.as_deref(), Some("t1"));
            match split_request(&part) {
                Some([a, b]) => {
                    proptest::prop_assert_eq!(a.items + b.items, part.items);
                    parts.push(b);
                    parts.push(a);
                }
                None => {
                    proptest::prop_assert!(part.items <= 1, "{} items left whole", part.items);
                    got.extend(items_of(&part));
                }
            }
        }
        // Series in order; within a series, samples and histograms each in order.
        let mut want_sorted = want.clone();
        want_sorted.sort();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        proptest::prop_assert_eq!(got_sorted, want_sorted);
        let by_kind = |v: &[(String, bool, i64)], hist: bool| -> Vec<(String, i64)> {
            v.iter().filter(|i| i.1 == hist).map(|i| (i.0.clone(), i.2)).collect()
        };
        for hist in [false, true] {
            proptest::prop_assert_eq!(by_kind(&got, hist), by_kind(&want, hist));
        }
        proptest::prop_assert!(requests <= 2 * (want.len() + shape.len()));
        if let Some([a, _]) = split_request(&whole) {
            let raw = snap::raw::Decoder::new().decompress_vec(&a.body).unwrap();
            let first = prom::WriteRequest::decode(raw.as_slice()).unwrap();
            proptest::prop_assert_eq!(first.metadata.len(), 1);
        }
    }
}

#[test]
fn a_body_that_does_not_decode_is_not_split() {
    let mut r = shaped_request(&[(3, 0), (2, 0)]);
    r.body = Bytes::from_static(b"\xff\xff\xff\xff\x0fnot snappy");
    assert!(split_request(&r).is_none());
    // A length prefix past the bound is refused before any allocation.
    let mut huge = Vec::new();
    let mut n: u64 = 1 << 40;
    while n >= 0x80 {
        huge.push((n as u8) | 0x80);
        n >>= 7;
    }
    huge.push(n as u8);
    r.body = Bytes::from(huge);
    assert!(split_request(&r).is_none());
}
