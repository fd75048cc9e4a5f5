//! A replay [`Report`] as JSON, as a text table, or as one self-contained HTML page.

use std::fmt::Write;

use super::Report;

/// The report as pretty JSON.
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()))
}

/// `[#####-----] 3/7`
pub fn bar(done: usize, of: usize) -> String {
    const WIDTH: usize = 30;
    let filled = (done * WIDTH).checked_div(of).unwrap_or(WIDTH);
    format!(
        "[{}{}] {done}/{of}",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled)
    )
}

fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |v| format!("{:.3}%", v * 100.0))
}

/// `s` safe to print on a terminal: control characters (C0, DEL and C1, the line and
/// paragraph separators, and the bidirectional overrides and isolates) written as
/// `\u{1b}`. Values in reports come from senders (routes, services, clusters); raw, a
/// newline or carriage return would forge a row and an escape sequence would drive the
/// reader's terminal (colours, cursor moves that hide rows, window titles, hyperlinks).
pub(crate) fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}')
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    }
    if !s.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn group(g: &Option<std::collections::BTreeMap<String, String>>) -> String {
    match g {
        None => "-".to_string(),
        Some(g) => g
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// The report as tables: the status at the end time, the alerts, and alerts per week.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "replay {} → {} (step {}): {} spans, {} log records and {} metric requests in {} \
         batches from {} files",
        report.from,
        report.to,
        report.step,
        report.spans,
        report.log_records,
        report.metric_requests,
        report.batches,
        report.files
    );
    let _ = writeln!(out, "\nstatus at {}", report.to);
    let rows: Vec<[String; 9]> = report
        .slos
        .iter()
        .map(|s| {
            let key = super::EntryKey::of(s);
            [
                format!("{}/{}", s.service, s.name),
                s.cluster.clone(),
                group(&key.group),
                s.status.as_str().to_string(),
                s.total.to_string(),
                s.good.to_string(),
                percent(s.error_ratio),
                percent(s.error_budget_remaining),
                s.burn_rate
                    .0
                    .iter()
                    .filter_map(|(w, b)| b.map(|b| format!("{w}:{b:.2}")))
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
        })
        .collect();
    table(
        &mut out,
        [
            "SLO",
            "CLUSTER",
            "GROUP",
            "STATUS",
            "EVENTS",
            "GOOD",
            "ERRORS",
            "BUDGET LEFT",
            "BURN RATES",
        ],
        &rows,
    );
    let _ = writeln!(out, "\nalerts the generated rules would have fired");
    if report.alerts.is_empty() {
        let _ = writeln!(out, "  none");
    } else {
        let rows: Vec<[String; 7]> = report
            .alerts
            .iter()
            .map(|a| {
                [
                    format!("{}/{}", a.entry.service, a.entry.name),
                    a.entry.cluster.clone(),
                    group(&a.entry.group),
                    a.severity.to_string(),
                    format!("{}/{} > {}", a.long_window, a.short_window, a.factor),
                    a.start.clone(),
                    a.end.clone().unwrap_or_else(|| "(firing)".to_string()),
                ]
            })
            .collect();
        table(
            &mut out,
            [
                "SLO", "CLUSTER", "GROUP", "SEVERITY", "WINDOWS", "START", "END",
            ],
            &rows,
        );
    }
    let _ = writeln!(out, "\nalerts per SLO");
    let rows: Vec<[String; 5]> = report
        .alert_summary
        .iter()
        .map(|s| {
            [
                format!("{}/{}", s.service, s.name),
                s.pages.to_string(),
                s.tickets.to_string(),
                format!("{:.2}", s.pages_per_week),
                format!("{:.2}", s.tickets_per_week),
            ]
        })
        .collect();
    table(
        &mut out,
        ["SLO", "PAGES", "TICKETS", "PAGES/WEEK", "TICKETS/WEEK"],
        &rows,
    );
    out
}

/// A table of `rows` under `header`, columns aligned; every cell through [`printable`].
fn table<const N: usize>(out: &mut String, header: [&str; N], rows: &[[String; N]]) {
    let rows: Vec<[String; N]> = rows
        .iter()
        .map(|row| row.clone().map(|cell| printable(&cell).into_owned()))
        .collect();
    let rows = rows.as_slice();
    let mut widths: [usize; N] = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut String, cells: Vec<&str>| {
        let mut s = String::from(" ");
        for (cell, w) in cells.iter().zip(widths) {
            let _ = write!(s, " {cell:<w$}");
        }
        let _ = writeln!(out, "{}", s.trim_end());
    };
    line(out, header.to_vec());
    for row in rows {
        line(out, row.iter().map(String::as_str).collect());
    }
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An SVG line chart of `series` (name, values per point; `None` is a gap) over `n` points.
fn chart(title: &str, n: usize, series: &[(String, Vec<Option<f64>>)], percent: bool) -> String {
    const W: f64 = 640.0;
    const H: f64 = 160.0;
    const COLORS: [&str; 6] = [
        "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
    ];
    let values = series.iter().flat_map(|(_, v)| v.iter().flatten().copied());
    let (lo, hi) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let hi = if hi - lo < 1e-12 { lo + 1.0 } else { hi };
    let x = |i: usize| 40.0 + (W - 50.0) * i as f64 / (n.max(2) - 1) as f64;
    let y = |v: f64| 10.0 + (H - 30.0) * (1.0 - (v - lo) / (hi - lo));
    let label = |v: f64| {
        if percent {
            format!("{:.1}%", v * 100.0)
        } else {
            format!("{v:.2}")
        }
    };
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\">\
         <line x1=\"40\" y1=\"{:.1}\" x2=\"{W}\" y2=\"{:.1}\" stroke=\"#999\"/>\
         <text x=\"0\" y=\"14\" font-size=\"10\">{}</text><text x=\"0\" y=\"{:.1}\" font-size=\"10\">{}</text>",
        esc(title),
        y(lo.max(0.0).min(hi)),
        y(lo.max(0.0).min(hi)),
        label(hi),
        H - 20.0,
        label(lo),
    );
    for (k, (name, points)) in series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let mut path = String::new();
        let mut pen_up = true;
        for (i, v) in points.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if pen_up { "M" } else { "L" },
                        x(i),
                        y(*v)
                    );
                    pen_up = false;
                }
                None => pen_up = true,
            }
        }
        let _ = write!(
            svg,
            "<path d=\"{path}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"{color}\">{}</text>",
            45.0 + 90.0 * k as f64,
            H - 3.0,
            esc(name)
        );
    }
    svg.push_str("</svg></figure>");
    svg
}

/// The report as one self-contained HTML page (no scripts, no network): per SLO the status
/// at the end time, its budget burn-down, burn rates and latency percentiles (`cluster=all`),
/// the alerts, and alerts per week.
pub fn html(report: &Report) -> String {
    let mut out = String::from(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>slotel replay</title>\
         <style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
         td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px;text-align:left}\
         figure{display:inline-block;margin:0 1em 1em 0}figcaption{font-size:12px}</style></head><body>",
    );
    let _ = write!(
        out,
        "<h1>slotel replay</h1><p>{} → {} (step {}): {} spans, {} log records and {} metric \
         requests in {} batches from {} files</p>",
        esc(&report.from),
        esc(&report.to),
        esc(&report.step),
        report.spans,
        report.log_records,
        report.metric_requests,
        report.batches,
        report.files
    );
    for w in &report.warnings {
        let _ = write!(out, "<p><b>warning:</b> {}</p>", esc(w));
    }
    for summary in &report.alert_summary {
        let _ = write!(
            out,
            "<h2>{}/{}</h2><p>{} pages, {} tickets ({:.2} and {:.2} per week)</p>",
            esc(&summary.service),
            esc(&summary.name),
            summary.pages,
            summary.tickets,
            summary.pages_per_week,
            summary.tickets_per_week
        );
        let timeline = report.timeline.iter().find(|t| {
            t.entry.service == summary.service
                && t.entry.name == summary.name
                && t.entry.cluster == crate::slo::engine::state::ALL
        });
        if let Some(t) = timeline {
            let n = t.points.len();
            let budget = vec![(
                "budget remaining".to_string(),
                t.points.iter().map(|p| p.error_budget_remaining).collect(),
            )];
            out.push_str(&chart("error budget remaining", n, &budget, true));
            let windows: Vec<String> = t
                .points
                .last()
                .map(|p| p.burn_rate.0.iter().map(|(w, _)| w.clone()).collect())
                .unwrap_or_default();
            let burn: Vec<(String, Vec<Option<f64>>)> = windows
                .iter()
                .filter(|w| ["5m", "1h", "6h", "3d"].contains(&w.as_str()))
                .map(|w| {
                    (
                        w.clone(),
                        t.points
                            .iter()
                            .map(|p| p.burn_rate.get(w).copied().flatten())
                            .collect(),
                    )
                })
                .collect();
            out.push_str(&chart("burn rate", n, &burn, false));
            let keys: Vec<String> = t
                .points
                .last()
                .map(|p| p.latency.0.iter().map(|(k, _)| k.clone()).collect())
                .unwrap_or_default();
            if !keys.is_empty() {
                let latency: Vec<(String, Vec<Option<f64>>)> = keys
                    .iter()
                    .map(|k| {
                        (
                            k.clone(),
                            t.points
                                .iter()
                                .map(|p| p.latency.get(k).copied().flatten())
                                .collect(),
                        )
                    })
                    .collect();
                out.push_str(&chart("latency (seconds, SLO window)", n, &latency, false));
            }
        }
        out.push_str("<table><tr><th>cluster</th><th>group</th><th>status</th><th>events</th><th>good</th><th>errors</th><th>budget left</th></tr>");
        for s in report
            .slos
            .iter()
            .filter(|s| s.service == summary.service && s.name == summary.name)
        {
            let key = super::EntryKey::of(s);
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&s.cluster),
                esc(&group(&key.group)),
                s.status.as_str(),
                s.total,
                s.good,
                percent(s.error_ratio),
                percent(s.error_budget_remaining)
            );
        }
        out.push_str("</table>");
        let alerts: Vec<_> = report
            .alerts
            .iter()
            .filter(|a| a.entry.service == summary.service && a.entry.name == summary.name)
            .collect();
        if !alerts.is_empty() {
            out.push_str("<h3>alerts</h3><table><tr><th>cluster</th><th>group</th><th>severity</th><th>windows</th><th>start</th><th>end</th></tr>");
            for a in alerts {
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}/{} &gt; {}</td><td>{}</td><td>{}</td></tr>",
                    esc(&a.entry.cluster),
                    esc(&group(&a.entry.group)),
                    a.severity,
                    a.long_window,
                    a.short_window,
                    a.factor,
                    esc(&a.start),
                    esc(a.end.as_deref().unwrap_or("(firing)"))
                );
            }
            out.push_str("</table>");
        }
    }
    out.push_str("</body></html>\n");
    out
}
