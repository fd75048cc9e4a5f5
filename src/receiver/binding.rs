//! Who may write which cluster, and which series: the helpers of the cluster binding and of
//! the names only slotel writes.
//!
//! - A token bound to a cluster makes that cluster the one value of the cluster attribute
//!   in everything it sends. Every attribute a backend would read as the same label is
//!   removed too: the OpenTelemetry-to-Prometheus translation (remote write, Mimir's OTLP
//!   endpoint, Loki's structured metadata) turns every character outside `[A-Za-z0-9_]`
//!   into `_`, so `k8s_cluster_name`, `k8s-cluster-name` and `k8s/cluster/name` all become
//!   the label `k8s.cluster.name` becomes.
//! - A cluster bound to a token is reserved for the tokens bound to it: a resource naming it
//!   from a token bound to no cluster is refused (partial success), so an unbound token
//!   cannot add events to, or forward data as, a cluster another token owns.
//! - Metric names whose Prometheus form starts with `slotel_slo_` are slotel's SLO series,
//!   which the generated recording rules and alerts read: a received metric of such a name
//!   is refused, so a sender cannot forge another cluster's (or its own) SLO numbers
//!   downstream.

use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;

pub(super) use crate::attr::same_label;

/// Removes every attribute that names `attr`'s label (see [`same_label`]).
pub(super) fn unbind(attrs: &mut Vec<KeyValue>, attr: &str) {
    if attrs.iter().any(|kv| same_label(&kv.key, attr)) {
        attrs.retain(|kv| !same_label(&kv.key, attr));
    }
}

pub(super) fn unbind_scope(scope: Option<&mut InstrumentationScope>, attr: &str) {
    if let Some(s) = scope {
        unbind(&mut s.attributes, attr);
    }
}

/// Sets `attr` to `cluster` exactly once on the resource, creating the resource if absent.
pub(super) fn bind_resource(resource: &mut Option<Resource>, attr: &str, cluster: &str) {
    let r = resource.get_or_insert_with(Resource::default);
    unbind(&mut r.attributes, attr);
    r.attributes.push(crate::attr::kv(attr, cluster));
}

/// The reserved cluster a resource names under `attr` (any copy of it), if any.
pub(super) fn reserved_cluster<'r>(
    resource: Option<&Resource>,
    attr: &str,
    reserved: &'r [Arc<str>],
) -> Option<&'r str> {
    resource?.attributes.iter().find_map(|kv| {
        if kv.key != attr {
            return None;
        }
        let Some(any_value::Value::StringValue(v)) = kv.value.as_ref()?.value.as_ref() else {
            return None;
        };
        reserved.iter().find(|r| ***r == **v).map(|r| &**r)
    })
}

/// The message of a resource refused for naming a reserved cluster.
pub(super) fn reserved_message(cluster: &str) -> String {
    format!("resource names cluster {cluster:?}, which is bound to another token")
}

/// Whether a metric of this name would arrive as one of slotel's SLO series: its words
/// (runs of ASCII letters and digits, as Prometheus and Mimir build names from OTLP
/// metric names) begin `slotel`, `slo`, ignoring ASCII case.
pub(super) fn slo_series_name(name: &str) -> bool {
    let mut words = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty());
    words
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("slotel"))
        && words.next().is_some_and(|w| w.eq_ignore_ascii_case("slo"))
}

/// The message of a metric refused for its name.
pub(super) fn slo_series_message(name: &str) -> String {
    format!(
        "metric {name:?} is named as slotel's own SLO series (slotel_slo_*), which only slotel writes"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::kv;

    #[test]
    fn keys_that_become_the_cluster_label_are_the_cluster_attribute() {
        let attr = "k8s.cluster.name";
        for key in [
            "k8s.cluster.name",
            "k8s_cluster_name",
            "k8s-cluster-name",
            "k8s/cluster/name",
            "k8s cluster name",
            "k8s:cluster.name",
            "k8s\u{e9}cluster.name",
        ] {
            assert!(same_label(key, attr), "{key:?}");
        }
        // Other labels: case, extra characters, other lengths.
        for key in [
            "K8s.Cluster.Name",
            "k8s.cluster.name ",
            "k8s.cluster.name\0",
            "k8s.cluster",
            "",
            "k8s__cluster_name",
        ] {
            assert!(!same_label(key, attr), "{key:?}");
        }
        assert!(same_label("1a", "_1a"));
    }

    #[test]
    fn unbind_removes_every_spelling_of_the_label() {
        let mut attrs = vec![
            kv("k8s.cluster.name", "b"),
            kv("k8s_cluster_name", "b"),
            kv("http.route", "/"),
            kv("k8s-cluster-name", "b"),
            kv("K8s.Cluster.Name", "b"),
        ];
        unbind(&mut attrs, "k8s.cluster.name");
        let keys: Vec<_> = attrs.iter().map(|k| k.key.as_str()).collect();
        assert_eq!(keys, ["http.route", "K8s.Cluster.Name"]);
    }

    #[test]
    fn a_resource_naming_a_reserved_cluster_is_found_under_any_copy() {
        let reserved: Vec<Arc<str>> = vec![Arc::from("a"), Arc::from("seoul")];
        let res = |attrs: Vec<KeyValue>| Resource {
            attributes: attrs,
            ..Default::default()
        };
        let attr = "k8s.cluster.name";
        let r = res(vec![kv(attr, "x"), kv(attr, "seoul")]);
        assert_eq!(reserved_cluster(Some(&r), attr, &reserved), Some("seoul"));
        for r in [
            res(vec![kv(attr, "b")]),
            res(vec![kv(attr, "A"), kv(attr, "a ")]),
            res(vec![kv("service.name", "a")]),
            res(vec![]),
        ] {
            assert_eq!(reserved_cluster(Some(&r), attr, &reserved), None);
        }
        assert_eq!(reserved_cluster(None, attr, &reserved), None);
    }

    #[test]
    fn slo_series_names_in_every_spelling_a_backend_reads_as_them() {
        for name in [
            "slotel_slo_events_total",
            "slotel.slo.events",
            "slotel..slo..events_total",
            "Slotel_SLO_burn_rate",
            "_slotel_slo_x",
            "slotel.slo",
        ] {
            assert!(slo_series_name(name), "{name:?}");
        }
        for name in [
            "slotel_exporter_sent_items_total",
            "slotel_slos",
            "slotelslo_events",
            "my_slotel_slo_events",
            "http.server.requests",
            "",
        ] {
            assert!(!slo_series_name(name), "{name:?}");
        }
    }
}
