//! A replay [`Report`] as JSON or as a text table.

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
        "replay {} → {} (step {}): {} spans in {} batches from {} files",
        report.from, report.to, report.step, report.spans, report.batches, report.files
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

fn table<const N: usize>(out: &mut String, header: [&str; N], rows: &[[String; N]]) {
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
