//! Adjustments of some clusters: exactly those clusters' events in the range leave the
//! budget (the other clusters', and so the rest of the `all` roll-up, still count), and
//! `slotel_slo_adjustment_active` is 1 for those clusters only.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use super::tests::{S, T0};
use super::{AdjustError, Adjustment, Doc};
use crate::slo::engine::{Engine, EngineConfig, GroupStatus, ManualClock};

const SLOS: &str = "service: checkout
slos:
  - name: availability
    objective: 99
    window: 30d
    sli:
      spans:
        where: kind == SPAN_KIND_SERVER
        bad: status.code == STATUS_CODE_ERROR
";

/// Server spans of `checkout` in `cluster`: 1000 outside the range (5 bad), then 200 bad
/// ones inside it (T0 − 60s to T0 + 30s).
fn request(cluster: &str) -> ExportTraceServiceRequest {
    let mut times: Vec<(u64, bool)> = (0..1000)
        .map(|i| (T0 - 240 * S + i * 100_000_000, i % 200 == 0))
        .collect();
    times.extend((0..200).map(|i| (T0 - 60 * S + i * 450_000_000, true)));
    super::tests::request_in(cluster, &times)
}

fn engine(adjustments: &str) -> Arc<Engine> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkout.yaml");
    std::fs::write(&path, format!("{SLOS}{adjustments}")).unwrap();
    let set = crate::slo::spec::load(&[path.display().to_string()], false).unwrap();
    Engine::new(EngineConfig::default(), Arc::new(ManualClock::new(T0)), set)
}

fn adjustment(clusters: &str) -> String {
    format!(
        "adjustments:
  - reason: seoul datacenter maintenance
{clusters}    start: \"{}\"
    end: \"{}\"
",
        super::rfc3339(T0 - 60 * S),
        super::rfc3339(T0 + 30 * S)
    )
}

fn entry<'a>(st: &'a [GroupStatus], cluster: &str) -> &'a GroupStatus {
    st.iter().find(|s| s.cluster == cluster).unwrap()
}

/// `slotel_slo_adjustment_active` by cluster.
fn active(e: &Engine) -> Vec<(String, f64)> {
    let families = super::series::families(e, &e.status());
    families[0]
        .rows
        .iter()
        .map(|(labels, v)| {
            let cluster = labels.iter().find(|(k, _)| k == "cluster").unwrap();
            (cluster.1.clone(), *v)
        })
        .collect()
}

#[test]
fn a_clusters_adjustment_removes_that_clusters_events_only() {
    let e = engine(&adjustment("    clusters: [seoul]\n"));
    for cluster in ["seoul", "busan"] {
        e.record_spans(&request(cluster), None);
    }
    let st = e.status();
    // Busan keeps its 1200 events (205 bad); seoul loses exactly the 200 in the range.
    assert_eq!(
        (entry(&st, "busan").total, entry(&st, "busan").good),
        (1200, 995)
    );
    assert_eq!(
        (entry(&st, "seoul").total, entry(&st, "seoul").good),
        (1000, 995)
    );
    // The roll-up is the sum: 2200 events, 210 bad.
    let all = entry(&st, "all");
    assert_eq!((all.total, all.good), (2200, 1990));
    assert_eq!(e.adjustments().adjusted("checkout", "availability"), 200);
    // Seoul's alerts are held back; busan's and the roll-up's are not.
    assert_eq!(
        active(&e),
        [
            ("all".to_string(), 0.0),
            ("busan".to_string(), 0.0),
            ("seoul".to_string(), 1.0),
        ]
    );
    // The entries name the clusters the adjustment applies to.
    let marks = super::api::marks(&e, "checkout", "availability", T0);
    assert_eq!(marks.len(), 1);
    assert_eq!(marks[0].clusters, ["seoul"]);
}

#[test]
fn an_adjustment_of_every_cluster_holds_back_every_clusters_alerts() {
    let e = engine(&adjustment(""));
    for cluster in ["seoul", "busan"] {
        e.record_spans(&request(cluster), None);
    }
    let st = e.status();
    assert_eq!(entry(&st, "all").total, 2000);
    assert_eq!(
        active(&e),
        [
            ("all".to_string(), 1.0),
            ("busan".to_string(), 1.0),
            ("seoul".to_string(), 1.0),
        ]
    );
    // Before the range starts, and with no traffic yet: a series for `all` and for each
    // cluster an adjustment names, all 0.
    let named = engine(&adjustment("    clusters: [seoul, busan]\n"));
    assert_eq!(
        active(&named)
            .iter()
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>(),
        ["all", "busan", "seoul"]
    );
    assert_eq!(
        active(&named).iter().map(|(_, v)| *v).collect::<Vec<_>>(),
        [0.0, 1.0, 1.0]
    );
}

#[test]
fn clusters_are_validated() {
    let doc = |clusters: Vec<String>| Doc {
        service: "checkout".into(),
        reason: "maintenance".into(),
        clusters,
        start: Some("2027-01-10T12:00:00Z".into()),
        end: Some("2027-01-10T13:00:00Z".into()),
        ..Doc::default()
    };
    let e = Adjustment::new(doc(vec!["all".into()])).unwrap_err();
    assert_eq!(e, AdjustError::RollUp("all".into()));
    assert!(e.to_string().contains("roll-up"), "{e}");
    let e = Adjustment::new(doc(vec![String::new()])).unwrap_err();
    assert_eq!(e, AdjustError::Required("clusters"));
    let e = Adjustment::new(doc((0..65).map(|i| format!("c{i}")).collect())).unwrap_err();
    assert!(e.to_string().contains("more than 64"), "{e}");
    let a = Adjustment::new(doc(vec!["seoul".into()])).unwrap();
    assert!(a.applies_in("seoul") && !a.applies_in("busan") && !a.applies_in("all"));
    // In a file: a list of names.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkout.yaml");
    let text = format!("{SLOS}{}", adjustment("    clusters: seoul\n"));
    std::fs::write(&path, text).unwrap();
    let err = crate::slo::spec::load(&[path.display().to_string()], false)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("adjustments[0].clusters"), "{err}");
}
