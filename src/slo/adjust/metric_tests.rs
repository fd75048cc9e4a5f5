//! Adjustments on a metric SLI: delta counter increments whose point time falls in the
//! range leave the budget, the rest count.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Metric, NumberDataPoint, Sum, metric::Data, number_data_point,
};

use crate::attr::kv;
use crate::slo::engine::{Engine, EngineConfig, ManualClock};

const S: u64 = 1_000_000_000;
const T0: u64 = 1_799_582_400 * S;

/// Delta increments of `http.server.requests`: (time, 2xx, 5xx).
fn request(points: &[(u64, i64, i64)]) -> ExportMetricsServiceRequest {
    let data_points = points
        .iter()
        .flat_map(|(t, ok, bad)| {
            [(200, *ok), (503, *bad)].map(|(code, n)| NumberDataPoint {
                attributes: vec![kv("http.response.status_code", code)],
                start_time_unix_nano: t - 10 * S,
                time_unix_nano: *t,
                value: Some(number_data_point::Value::AsInt(n)),
                ..Default::default()
            })
        })
        .collect();
    crate::test_otlp::metrics_request(
        vec![kv("service.name", "cart"), kv("k8s.cluster.name", "c1")],
        vec![Metric {
            name: "http.server.requests".into(),
            data: Some(Data::Sum(Sum {
                data_points,
                aggregation_temporality: AggregationTemporality::Delta as i32,
                is_monotonic: true,
            })),
            ..Default::default()
        }],
    )
}

#[test]
fn a_metric_slis_increments_in_the_range_leave_the_budget() {
    let text = format!(
        "service: cart
slos:
  - name: availability
    objective: 99
    window: 7d
    sli:
      metric:
        bad:
          name: http.server.requests
          where: attributes[\"http.response.status_code\"] >= 500
        total: http.server.requests
adjustments:
  - reason: cache rebuild
    start: \"{}\"
    end: \"{}\"
",
        super::rfc3339(T0 - 60 * S),
        super::rfc3339(T0 + 10 * S)
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cart.yaml");
    std::fs::write(&path, &text).unwrap();
    let set = crate::slo::spec::load(&[path.display().to_string()], false).unwrap();
    let clock = Arc::new(ManualClock::new(T0 + 30 * S));
    let e = Engine::new(EngineConfig::default(), clock, set);
    // 100 before the range (none bad), 200 inside it (100 bad), 100 after it (5 bad).
    e.record_metrics(
        &request(&[
            (T0 - 120 * S, 100, 0),
            (T0 - 30 * S, 100, 100),
            (T0 + 20 * S, 95, 5),
        ]),
        None,
    );
    let st = e.status();
    let all = st.iter().find(|s| s.cluster == "all").unwrap();
    assert_eq!((all.total, all.good), (200, 195));
    assert_eq!(all.lifetime.total, 200);
    assert_eq!(e.adjustments().adjusted("cart", "availability"), 200);
}
