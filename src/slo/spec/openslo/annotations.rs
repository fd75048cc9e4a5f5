//! slotel's own settings on an OpenSLO SLO, read from `metadata.annotations` (OpenSLO
//! leaves annotations to tools; their values are strings):
//!
//! ```yaml
//! metadata:
//!   name: search-latency
//!   annotations:
//!     slotel.dev/percentiles: "50, 90, 99, 99.9"
//!     slotel.dev/group-by: 'attributes["http.route"], resource.attributes["k8s.namespace.name"]'
//!     slotel.dev/max-groups: "200"
//!     slotel.dev/min-events: "10"
//!     slotel.dev/adjusted-counts: "false"
//! ```
//!
//! They mean what `percentiles`, `group_by`, `max_groups`, `min_events` and
//! `adjusted_counts` mean in the native format. Lists are comma-separated (commas inside quoted attribute names do not
//! split). Other annotations are left alone; an unknown `slotel.dev/` key is an error, so
//! a typo does not go unnoticed.

use crate::slo::ottl;
use crate::slo::spec::AttrRef;
use crate::slo::spec::values::{self, Source};
use crate::yaml::read::{Ctx, hint};
use crate::yaml::{ConfigError, Node};

/// The prefix of slotel's annotations.
pub(super) const PREFIX: &str = "slotel.dev/";
const KEYS: [&str; 5] = [
    "percentiles",
    "group-by",
    "max-groups",
    "min-events",
    "adjusted-counts",
];

/// What the annotations set; `None` keeps the native format's default.
#[derive(Default)]
pub(super) struct Extras {
    pub(super) percentiles: Option<Vec<f64>>,
    pub(super) group_by: Vec<AttrRef>,
    /// Where `slotel.dev/group-by` is written.
    pub(super) group_by_node: Option<Node>,
    pub(super) max_groups: Option<usize>,
    pub(super) min_events: Option<u64>,
    pub(super) adjusted_counts: Option<bool>,
}

/// Reads `metadata.annotations`.
pub(super) fn read(ctx: &mut Ctx<'_>, src: &Source<'_>, node: &Node, path: &str) -> Extras {
    let mut out = Extras::default();
    for (k, v) in ctx.entries(node, path) {
        let Some(key) = ctx.key(k, path) else {
            continue;
        };
        let Some(name) = key.strip_prefix(PREFIX) else {
            continue;
        };
        let at = format!("{path}.{key}");
        match name {
            "percentiles" => out.percentiles = percentiles(ctx, v, &at),
            "group-by" => {
                out.group_by = group_by(ctx, src, v, &at);
                out.group_by_node = Some(v.clone());
            }
            "max-groups" => {
                out.max_groups = values::whole(ctx, v, &at, 1, values::MAX_GROUPS_LIMIT as u64)
                    .map(|n| n as usize);
            }
            "min-events" => out.min_events = values::whole(ctx, v, &at, 0, u64::MAX),
            "adjusted-counts" => {
                out.adjusted_counts = values::parsed(ctx, v, &at, |s| match s {
                    "true" => Ok(true),
                    "false" => Ok(false),
                    _ => Err(format!("expected \"true\" or \"false\", found {s:?}")),
                });
            }
            _ => {
                let msg = format!("unknown slotel annotation {key:?}{}", hint(name, &KEYS));
                ctx.error(k, &at, msg);
            }
        }
    }
    out
}

fn percentiles(ctx: &mut Ctx<'_>, node: &Node, path: &str) -> Option<Vec<f64>> {
    values::parsed(ctx, node, path, |s| {
        let mut out: Vec<f64> = Vec::new();
        for item in s.split(',').map(str::trim) {
            let p = match item.parse::<f64>() {
                Ok(p) if p > 0.0 && p < 100.0 => p,
                Ok(p) => return Err(format!("a percentile must be in (0, 100), found {p}")),
                Err(_) => {
                    return Err(format!(
                        "invalid percentile {item:?}, expected numbers separated by commas \
                         such as \"50, 90, 99.9\""
                    ));
                }
            };
            if out.contains(&p) {
                return Err(format!("percentile {p} is listed twice"));
            }
            out.push(p);
        }
        Ok(out)
    })
}

/// Splits on commas outside double quotes: (byte offset, item) pairs, items trimmed.
fn split_items(s: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    let mut push = |from: usize, to: usize| {
        let raw = &s[from..to];
        let lead = raw.len() - raw.trim_start().len();
        out.push((from + lead, raw.trim()));
    };
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                push(start, i);
                start = i + 1;
            }
            _ => {}
        }
    }
    push(start, s.len());
    out
}

fn group_by(ctx: &mut Ctx<'_>, src: &Source<'_>, node: &Node, path: &str) -> Vec<AttrRef> {
    let Some(text) = values::text(ctx, node, path) else {
        return Vec::new();
    };
    let mut out: Vec<AttrRef> = Vec::new();
    for (offset, item) in split_items(&text) {
        match ottl::parse_attribute(item) {
            Ok(a) if out.contains(&a) => {
                ctx.error(node, path, format!("`{a}` is listed twice"));
            }
            Ok(a) => {
                out.push(a);
                if let Some(msg) = crate::slo::spec::group_label_error(&out, out.len() - 1) {
                    ctx.error(node, path, msg);
                }
            }
            Err(e) => {
                // The column of the error inside the annotation's value.
                let at = text[..offset].chars().count() + e.column.saturating_sub(1);
                let (line, column) = values::locate(src, node, &text, at);
                ctx.errors.push(ConfigError {
                    file: ctx.file.to_string(),
                    path: path.to_string(),
                    line,
                    column,
                    message: e.message,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::slo::spec::{AttrRef, parse_file};

    fn doc(annotations: &str) -> String {
        format!(
            r#"apiVersion: openslo/v1
kind: SLO
metadata:
  name: search
  annotations:
    team: search
{annotations}
spec:
  service: catalog
  indicator:
    spec:
      thresholdMetric:
        metricSource:
          type: slotel
          spec:
            query: kind == SPAN_KIND_SERVER
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
      op: lte
      value: 300ms
"#
        )
    }

    #[test]
    fn a_group_by_that_cannot_be_a_label_is_refused() {
        let text = doc(
            "    slotel.dev/group-by: 'attributes[\"http.route\"], resource.attributes[\"http_route\"], attributes[\"le\"]'",
        );
        let errors = parse_file(&text, "search.yaml").unwrap_err();
        let messages: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].contains("would both be the label `http_route`"),
            "{messages:?}"
        );
        assert!(
            messages[1].contains("would be the label `le`"),
            "{messages:?}"
        );
        assert!(
            errors
                .iter()
                .all(|e| e.line > 0 && e.path.ends_with("group-by"))
        );
    }

    #[test]
    fn annotations_set_percentiles_group_by_max_groups_and_min_events() {
        let text = doc(concat!(
            "    slotel.dev/percentiles: \"50, 99.9\"\n",
            "    slotel.dev/group-by: 'attributes[\"http.route\"], resource.attributes[\"k8s.namespace.name\"]'\n",
            "    slotel.dev/max-groups: \"20\"\n",
            "    slotel.dev/min-events: \"5\"",
        ));
        let slos = parse_file(&text, "search.yaml").unwrap_or_else(|e| panic!("{e:?}"));
        let s = &slos[0];
        assert_eq!(s.percentiles, [50.0, 99.9]);
        assert_eq!(
            s.group_by,
            [
                AttrRef::Item("http.route".into()),
                AttrRef::Resource("k8s.namespace.name".into())
            ]
        );
        assert_eq!((s.max_groups, s.min_events), (20, 5));
        // Without annotations: the native format's defaults.
        let plain = parse_file(&doc(""), "search.yaml").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(plain[0].percentiles, crate::slo::spec::DEFAULT_PERCENTILES);
        assert!(plain[0].group_by.is_empty());
    }

    #[test]
    fn bad_annotations_are_located_errors() {
        let text = doc(concat!(
            "    slotel.dev/percentile: \"50\"\n",
            "    slotel.dev/percentiles: \"50, 100\"\n",
            "    slotel.dev/group-by: 'attributes[\"a\"], atributes[\"b\"]'\n",
            "    slotel.dev/max-groups: \"0\"",
        ));
        let errors = parse_file(&text, "search.yaml").unwrap_err();
        let messages: Vec<String> = errors
            .iter()
            .map(|e| format!("{}:{}: {}: {}", e.line, e.column, e.path, e.message))
            .collect();
        assert_eq!(errors.len(), 4, "{messages:#?}");
        assert!(
            messages[0].starts_with(
                "7:5: metadata.annotations.slotel.dev/percentile: unknown slotel annotation"
            ),
            "{messages:#?}"
        );
        assert!(messages[0].contains("percentiles"), "{messages:#?}");
        assert!(
            messages[1].contains("a percentile must be in (0, 100), found 100"),
            "{messages:#?}"
        );
        // The bad path's column inside the quoted value: `atributes` starts at column 44.
        assert!(
            messages[2].starts_with("9:44: metadata.annotations.slotel.dev/group-by"),
            "{messages:#?}"
        );
        assert!(messages[3].contains("must be at least 1"), "{messages:#?}");
    }

    #[test]
    fn items_split_outside_quotes() {
        let items = super::split_items(r#"attributes["a,b"], resource.attributes["c\"d,"] ,x"#);
        let texts: Vec<&str> = items.iter().map(|(_, s)| *s).collect();
        assert_eq!(
            texts,
            [
                r#"attributes["a,b"]"#,
                r#"resource.attributes["c\"d,"]"#,
                "x"
            ]
        );
        assert_eq!(items[1].0, 19);
    }
}
