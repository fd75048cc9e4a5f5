//! The labels of SLO series, one definition for every path (`/metrics`, remote write, OTLP,
//! the status API and the generated rules).
//!
//! A `group_by` attribute becomes a label named as the OpenTelemetry-to-Prometheus
//! translation (Prometheus' and Mimir's OTLP endpoints) names attributes, so a group label
//! is called what the same attribute is called on the service's own metrics:
//!
//! - every character outside `[a-zA-Z0-9_]` becomes `_` (`http.route` → `http_route`,
//!   `k8s.namespace.name` → `k8s_namespace_name`);
//! - a name that then starts with a digit gets `key_` in front (`2xx` → `key_2xx`), one that
//!   starts with a single `_` gets `key` (`_private` → `key_private`);
//! - span and resource attributes are named alike (`resource.attributes["k8s.pod.name"]`
//!   → `k8s_pod_name`).
//!
//! A `group_by` list is refused when loading its SLO (with the file, line and column) when
//! a name would be empty, start with `__` (reserved by Prometheus), be one of slotel's own
//! labels ([`RESERVED`]) or be the same as another entry's name: the series would
//! otherwise merge or lose a label on the way to Prometheus. It is also refused past
//! [`MAX_GROUP_BY`] entries or with a name longer than [`MAX_GROUP_LABEL_NAME`] bytes,
//! which Mimir and Loki refuse a whole push for (the exporters never change the SLO
//! series to fit their backends).
//!
//! An empty or absent attribute value is the value [`MISSING`], never the empty string,
//! which Prometheus cannot tell from an absent label (see the roll-ups in `series.rs`).

use super::AttrRef;

/// Label names slotel's SLO series (or the scrape and remote write that carry them) use
/// themselves; a `group_by` attribute may not be named so.
pub const RESERVED: [&str; 9] = [
    "slo", "service", "cluster", "outcome", "window", "quantile", "le", "job", "instance",
];

/// The most `group_by` entries of an SLO. An SLO series has at most 7 labels of slotel's
/// (`__name__`, the replica label, `slo`, `service`, `cluster`, `window`, `quantile`), so
/// with 8 group labels and up to 15 external labels it stays within Mimir's 30 labels a
/// series (`max_label_names_per_series`).
pub const MAX_GROUP_BY: usize = 8;

/// The labels of an SLO series that are not group labels or external labels, at most.
pub const SLO_SERIES_OWN_LABELS: usize = 7;

/// The longest group label name: Loki's and Mimir's `max_label_name_length`.
pub const MAX_GROUP_LABEL_NAME: usize = 1024;

/// The label value of a group whose attribute is absent or empty.
pub const MISSING: &str = "__missing__";

/// The Prometheus label name of an attribute key (see the module doc).
pub fn label_name(key: &str) -> String {
    let mut out: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "key_");
    } else if out.starts_with('_') && !out.starts_with("__") {
        out.insert_str(0, "key");
    }
    out
}

impl AttrRef {
    /// The attribute key as written in the SLO (`http.route`); a body field's keys joined
    /// with `.` (`upstream.status`), `body` for the whole body.
    pub fn key(&self) -> std::borrow::Cow<'_, str> {
        match self {
            AttrRef::Item(k) | AttrRef::Resource(k) => std::borrow::Cow::Borrowed(k),
            AttrRef::Body(keys) if keys.is_empty() => std::borrow::Cow::Borrowed("body"),
            AttrRef::Body(keys) => std::borrow::Cow::Owned(keys.join(".")),
        }
    }

    /// Its label name on SLO series (`http_route`).
    pub fn label_name(&self) -> String {
        label_name(&self.key())
    }
}

/// A group label value: the value, or [`MISSING`] when empty.
pub fn label_value(value: &str) -> &str {
    if value.is_empty() { MISSING } else { value }
}

/// Label of an SLO window length (the `window` label): whole days as `30d`, whole hours as
/// `6h`, else seconds.
pub fn window_label(secs: u64) -> String {
    if secs.is_multiple_of(86_400) {
        format!("{}d", secs / 86_400)
    } else if secs.is_multiple_of(3_600) {
        format!("{}h", secs / 3_600)
    } else {
        format!("{secs}s")
    }
}

/// A series' labels: (name, value) in order.
pub type Labels = Vec<(String, String)>;

/// The group label names of an SLO, in `group_by` order (empty without `group_by`).
pub fn group_label_names(slo: &super::Slo) -> Vec<String> {
    slo.group_by.iter().map(AttrRef::label_name).collect()
}

/// The labels of one SLO series set: `slo`, `service`, `cluster`, then, for a group of a
/// grouped SLO, one label per `group_by` attribute (`values` in `group_by` order, empty
/// ones as [`MISSING`]). `values: None` is a roll-up (`cluster="all"`, or one cluster's
/// groups together), which carries no group label; an SLO without `group_by` has only
/// roll-ups. Every path (`/metrics`, remote write, OTLP, the API, the rules) names SLO
/// series with this.
pub fn series_labels(slo: &super::Slo, cluster: &str, values: Option<&[String]>) -> Labels {
    let mut out = vec![
        ("slo".to_string(), slo.name.clone()),
        ("service".to_string(), slo.service.clone()),
        ("cluster".to_string(), cluster.to_string()),
    ];
    if let Some(values) = values {
        for (i, attr) in slo.group_by.iter().enumerate() {
            let v = values.get(i).map_or("", String::as_str);
            out.push((attr.label_name(), label_value(v).to_string()));
        }
    }
    out
}

/// Why entry `i` of a `group_by` list cannot be a label, if it cannot: its name is
/// invalid or reserved, or an earlier entry has the same name.
pub fn group_label_error(group_by: &[AttrRef], i: usize) -> Option<String> {
    let attr = group_by.get(i)?;
    let name = attr.label_name();
    if name.is_empty() {
        return Some(format!(
            "`{attr}`: an empty attribute name cannot be a label"
        ));
    }
    if i >= MAX_GROUP_BY {
        return Some(format!(
            "`{attr}`: at most {MAX_GROUP_BY} group_by entries, as Mimir refuses a series of \
             more than 30 labels"
        ));
    }
    if name.len() > MAX_GROUP_LABEL_NAME {
        return Some(format!(
            "`{}…` would be a label name of {} bytes, longer than the {MAX_GROUP_LABEL_NAME} \
             Loki and Mimir accept",
            name.chars().take(32).collect::<String>(),
            name.len()
        ));
    }
    if name.starts_with("__") {
        return Some(format!(
            "`{attr}` would be the label `{name}`: names starting with `__` are reserved by Prometheus"
        ));
    }
    if RESERVED.contains(&name.as_str()) {
        return Some(format!(
            "`{attr}` would be the label `{name}`, which slotel's SLO series use themselves \
             (reserved: {})",
            RESERVED.join(", ")
        ));
    }
    if let Some(other) = group_by[..i].iter().find(|a| a.label_name() == name) {
        return Some(format!(
            "`{attr}` and `{other}` would both be the label `{name}`"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_otlp_translation() {
        for (key, want) in [
            ("http.route", "http_route"),
            ("k8s.namespace.name", "k8s_namespace_name"),
            ("http_route", "http_route"),
            ("2xx", "key_2xx"),
            ("_private", "key_private"),
            ("__name__", "__name__"),
            ("a-b/c d", "a_b_c_d"),
            ("ünï", "key_n_"),
            ("Route", "Route"),
            ("a..b", "a__b"),
        ] {
            assert_eq!(label_name(key), want, "{key}");
        }
    }

    #[test]
    fn reserved_clashing_and_invalid_names_are_refused() {
        let item = |k: &str| AttrRef::Item(k.into());
        let res = |k: &str| AttrRef::Resource(k.into());
        let ok = [item("http.route"), res("k8s.namespace.name")];
        assert_eq!(group_label_error(&ok, 0), None);
        assert_eq!(group_label_error(&ok, 1), None);
        for name in RESERVED {
            let e = group_label_error(&[item(name)], 0).expect(name);
            assert!(e.contains("slotel's SLO series use"), "{e}");
        }
        let e = group_label_error(&[res("cluster")], 0).unwrap();
        assert!(e.contains("label `cluster`"), "{e}");
        let e = group_label_error(&[item("__name__")], 0).unwrap();
        assert!(e.contains("reserved by Prometheus"), "{e}");
        let e = group_label_error(&[item("")], 0).unwrap();
        assert!(e.contains("empty"), "{e}");
        let both = [item("http.route"), res("http_route")];
        assert_eq!(group_label_error(&both, 0), None);
        let e = group_label_error(&both, 1).unwrap();
        assert!(e.contains("both be the label `http_route`"), "{e}");
        assert_eq!(group_label_error(&both, 2), None);
    }

    #[test]
    fn empty_values_are_missing() {
        assert_eq!(label_value(""), MISSING);
        assert_eq!(label_value("/api/pay"), "/api/pay");
    }
}
