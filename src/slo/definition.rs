//! An SLO's definition as slotel reads it, for the status page: the native SLO file format
//! (whatever format the SLO was written in: OpenSLO definitions show as their native
//! equivalent), with its conditions as written, and where it was defined.

use super::spec::window_label;
use super::spec::{Budgeting, CalendarUnit, MetricSelector, MetricSli, Sli, Slo, SloWindow};

/// The body of `GET /api/v1/slos/{service}/{name}/definition`.
#[derive(Debug, serde::Serialize)]
pub struct Definition {
    pub service: String,
    pub name: String,
    pub description: Option<String>,
    pub runbook_url: Option<String>,
    /// `file:line` of the SLO's name.
    pub source: String,
    /// The definition in the native SLO file format.
    pub yaml: String,
}

/// A YAML scalar: plain when that reads back as the same string, else single-quoted (only
/// `'` is escaped there), else (control characters) double-quoted as JSON, which is valid
/// YAML.
fn q(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
        && s.starts_with(|c: char| c.is_ascii_alphabetic())
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null"
        );
    if plain {
        s.to_string()
    } else if !s.chars().any(char::is_control) {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

/// A number without float noise: `98.5`, not `98.50000000000001`.
fn n(v: f64) -> String {
    let rounded = (v * 1e9).round() / 1e9;
    format!("{rounded}")
}

fn duration(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        let secs = d.as_secs();
        if secs.is_multiple_of(3600) && secs > 0 {
            return window_label(secs);
        }
        if secs.is_multiple_of(60) && secs > 0 {
            return format!("{}m", secs / 60);
        }
        return format!("{secs}s");
    }
    format!("{ms}ms")
}

fn selector(out: &mut String, indent: &str, key: &str, m: &MetricSelector) {
    out.push_str(&format!("{indent}{key}:\n{indent}  name: {}\n", q(&m.name)));
    if let Some(f) = &m.filter {
        out.push_str(&format!("{indent}  where: {}\n", q(f.text())));
    }
}

impl Definition {
    pub fn of(slo: &Slo) -> Self {
        let mut y = format!(
            "service: {}\nslos:\n  - name: {}\n",
            q(&slo.service),
            q(&slo.name)
        );
        if let Some(d) = &slo.description {
            y.push_str(&format!("    description: {}\n", q(d)));
        }
        y.push_str(&format!("    objective: {}\n", n(slo.objective * 100.0)));
        match &slo.window {
            SloWindow::Rolling(d) => {
                y.push_str(&format!("    window: {}\n", window_label(d.as_secs())))
            }
            SloWindow::Calendar { unit, time_zone } => y.push_str(&format!(
                "    window:\n      calendar: {}\n      time_zone: {}\n",
                match unit {
                    CalendarUnit::Week => "week",
                    CalendarUnit::Month => "month",
                },
                q(time_zone)
            )),
        }
        if let Budgeting::Timeslices {
            slice,
            slice_target,
        } = &slo.budgeting
        {
            y.push_str(&format!(
                "    budgeting_method: timeslices\n    timeslice:\n      size: {}\n      target: {}\n",
                duration(*slice),
                n(slice_target * 100.0)
            ));
        }
        y.push_str("    sli:\n");
        match &slo.sli {
            Sli::Spans(s) => {
                y.push_str(&format!(
                    "      spans:\n        where: {}\n",
                    q(s.filter.text())
                ));
                if let Some(b) = &s.bad {
                    y.push_str(&format!("        bad: {}\n", q(b.text())));
                }
                if let Some(t) = s.latency_threshold {
                    y.push_str(&format!("        latency_threshold: {}\n", duration(t)));
                }
            }
            Sli::Logs(l) => {
                y.push_str(&format!(
                    "      logs:\n        where: {}\n",
                    q(l.filter.text())
                ));
                if let Some(b) = &l.bad {
                    y.push_str(&format!("        bad: {}\n", q(b.text())));
                }
                if let Some(f) = &l.latency {
                    y.push_str(&format!(
                        "        latency:\n          field: {}\n          unit: {}\n",
                        q(&f.field.to_string()),
                        f.unit.name()
                    ));
                }
                if let Some(t) = l.latency_threshold {
                    y.push_str(&format!("        latency_threshold: {}\n", duration(t)));
                }
            }
            Sli::Metric(MetricSli::Threshold { metric, threshold }) => {
                y.push_str(&format!(
                    "      metric:\n        histogram: {}\n",
                    q(&metric.name)
                ));
                if let Some(f) = &metric.filter {
                    y.push_str(&format!("        where: {}\n", q(f.text())));
                }
                y.push_str(&format!("        threshold: {}\n", n(*threshold)));
            }
            Sli::Metric(MetricSli::Ratio { good, bad, total }) => {
                y.push_str("      metric:\n");
                if let Some(g) = good {
                    selector(&mut y, "        ", "good", g);
                }
                if let Some(b) = bad {
                    selector(&mut y, "        ", "bad", b);
                }
                selector(&mut y, "        ", "total", total);
            }
            Sli::Journey(j) => {
                // `journey` takes the place of `sli`.
                y.truncate(y.len() - "    sli:\n".len());
                y.push_str("    journey:\n");
                if let Some(t) = &j.trace {
                    y.push_str(&format!(
                        "      mode: trace\n      max_wait: {}\n      max_traces: {}\n",
                        duration(t.max_wait),
                        t.max_traces
                    ));
                }
                y.push_str("      members:\n");
                for m in &j.members {
                    y.push_str(&format!(
                        "        - slo: {}\n",
                        q(&format!("{}/{}", m.service, m.name))
                    ));
                    if m.weight != 1 {
                        y.push_str(&format!("          weight: {}\n", m.weight));
                    }
                }
            }
        }
        if slo.sli.has_latencies() {
            let ps: Vec<String> = slo.percentiles.iter().map(|p| n(*p)).collect();
            y.push_str(&format!("    percentiles: [{}]\n", ps.join(", ")));
        }
        if !slo.group_by.is_empty() {
            y.push_str("    group_by:\n");
            for a in &slo.group_by {
                y.push_str(&format!("      - {a}\n"));
            }
            y.push_str(&format!("    max_groups: {}\n", slo.max_groups));
        }
        if slo.min_events > 0 {
            y.push_str(&format!("    min_events: {}\n", slo.min_events));
        }
        if let Some(r) = &slo.runbook_url {
            y.push_str(&format!("    runbook_url: {}\n", q(r)));
        }
        if slo.alerting.disabled {
            y.push_str("    alerting:\n      disabled: true\n");
        }
        Definition {
            service: slo.service.clone(),
            name: slo.name.clone(),
            description: slo.description.clone(),
            runbook_url: slo.runbook_url.clone(),
            source: format!("{}:{}", slo.source.file, slo.source.line),
            yaml: y,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rendered YAML loads back into the same SLO.
    #[test]
    fn definition_loads_back_as_the_same_slo() {
        let set = crate::slo::spec::load(&["embedded:examples".to_string()], false)
            .expect("examples load");
        assert!(!set.slos.is_empty());
        for slo in &set.slos {
            let d = Definition::of(slo);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("slo.yaml");
            std::fs::write(&path, &d.yaml).unwrap();
            let back = crate::slo::spec::load(&[path.display().to_string()], false)
                .unwrap_or_else(|e| panic!("{}:\n{}\n{e}", slo.name, d.yaml));
            let b = &back.slos[0];
            assert_eq!(
                (&b.service, &b.name, b.objective, &b.window, &b.budgeting),
                (
                    &slo.service,
                    &slo.name,
                    slo.objective,
                    &slo.window,
                    &slo.budgeting
                ),
                "{}",
                d.yaml
            );
            assert!(b.sli == slo.sli, "{}", d.yaml);
            assert!(b.same_definition(slo), "{}", d.yaml);
            assert_eq!(b.fingerprint(), slo.fingerprint(), "{}", d.yaml);
            assert_eq!(
                (&b.group_by, &b.percentiles, b.min_events, &b.runbook_url),
                (
                    &slo.group_by,
                    &slo.percentiles,
                    slo.min_events,
                    &slo.runbook_url
                )
            );
        }
    }
}
