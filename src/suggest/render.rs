//! [`Suggestions`] as JSON or as text: one sentence per objective, then the tables.

use std::fmt::Write;

use super::{Cost, LATENCY, ServiceSuggestions, Suggestions};
use crate::replay::printable;
use crate::slo::engine::status::percentile_key;

/// Pretty JSON.
pub fn json(s: &Suggestions) -> String {
    serde_json::to_string_pretty(s)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()))
}

fn times(n: u64, verb: &str) -> String {
    match n {
        0 => format!("never {verb}"),
        1 => format!("{verb} once"),
        2 => format!("{verb} twice"),
        n => format!("{verb} {n} times"),
    }
}

fn spent(c: &Cost) -> String {
    c.budget_spent
        .map_or_else(|| "-".to_string(), |v| format!("{:.0}%", v * 100.0))
}

/// `0.812` s → `812ms`, `1.25` → `1.25s`.
fn seconds(v: f64) -> String {
    let trim = |s: String| s.trim_end_matches('0').trim_end_matches('.').to_string();
    if v >= 1.0 {
        trim(format!("{v:.3}")) + "s"
    } else if v >= 1e-3 {
        trim(format!("{:.1}", v * 1e3)) + "ms"
    } else {
        trim(format!("{:.1}", v * 1e6)) + "us"
    }
}

fn sentence(c: &Cost) -> String {
    format!(
        "would have spent {} of the budget, {} and {}{}",
        spent(c),
        times(c.pages, "paged"),
        times(c.tickets, "ticketed"),
        if c.met { "" } else { " (not met)" }
    )
}

fn service(out: &mut String, s: &ServiceSuggestions, period: &str) {
    let _ = writeln!(
        out,
        "\n{}{}: {} server spans",
        printable(&s.service),
        s.route
            .as_ref()
            .map_or(String::new(), |r| format!(" {}", printable(r))),
        s.spans
    );
    let a = &s.availability;
    if let Some(ratio) = a.ratio {
        let _ = writeln!(
            out,
            "  availability over {period} is {:.3}% ({} bad of {})",
            ratio * 100.0,
            a.bad,
            a.events
        );
    }
    for c in &a.objectives {
        let _ = writeln!(out, "    {}%: {}", c.objective, sentence(c));
    }
    let p = &s.latency.percentiles;
    if !p.is_empty() {
        let mut keys: Vec<(f64, String)> = [50.0]
            .iter()
            .chain(LATENCY.iter())
            .map(|q| (*q, percentile_key(*q)))
            .collect();
        keys.retain(|(_, k)| p.contains_key(k));
        let list: Vec<String> = keys
            .iter()
            .filter_map(|(q, k)| p.get(k).map(|v| format!("p{q} {}", seconds(*v))))
            .collect();
        let _ = writeln!(out, "  latency over {period}: {}", list.join(", "));
    }
    for c in s.latency.candidates.iter().filter(|c| c.suggested) {
        let secs = p.get(&percentile_key(c.objective)).copied().unwrap_or(0.0);
        let _ = writeln!(
            out,
            "    p{} is {}; {}% ≤ {} {}",
            c.objective,
            seconds(secs),
            c.objective,
            c.threshold.as_deref().unwrap_or("-"),
            sentence(c)
        );
    }
    // Every threshold against every objective: budget spent, pages/tickets.
    let mut thresholds: Vec<&str> = s
        .latency
        .candidates
        .iter()
        .filter_map(|c| c.threshold.as_deref())
        .collect();
    thresholds.dedup();
    if thresholds.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "  latency alternatives (budget spent, pages/tickets; * not met):"
    );
    let mut header = format!("    {:>10}", "threshold");
    for o in LATENCY {
        let _ = write!(header, " {:>16}", format!("{o}%"));
    }
    let _ = writeln!(out, "{header}");
    for t in thresholds {
        let mut row = format!("    {t:>10}");
        for o in LATENCY {
            let cell = s
                .latency
                .candidates
                .iter()
                .find(|c| c.threshold.as_deref() == Some(t) && c.objective == o)
                .map_or_else(
                    || "-".to_string(),
                    |c| {
                        format!(
                            "{}{} {}/{}",
                            if c.met { "" } else { "*" },
                            spent(c),
                            c.pages,
                            c.tickets
                        )
                    },
                );
            let _ = write!(row, " {cell:>16}");
        }
        let _ = writeln!(out, "{row}");
    }
}

/// One block per service.
pub fn text(s: &Suggestions) -> String {
    let mut out = String::new();
    let from =
        jiff::Timestamp::from_nanosecond(crate::replay::parse_time(&s.from).unwrap_or(0) as i128);
    let to =
        jiff::Timestamp::from_nanosecond(crate::replay::parse_time(&s.to).unwrap_or(0) as i128);
    let period = match (from, to) {
        (Ok(f), Ok(t)) => {
            let secs = (t.as_second() - f.as_second()).max(0) as u64;
            humantime::format_duration(std::time::Duration::from_secs(secs)).to_string()
        }
        _ => "the period".to_string(),
    };
    let _ = writeln!(
        out,
        "suggest {} → {} ({period}); each alternative as an SLO over a {} window, alerts judged every {}",
        s.from, s.to, s.window, s.step
    );
    if !s.window_covers_period {
        let _ = writeln!(
            out,
            "note: the period is longer than the window: budgets are those of the last {}",
            s.window
        );
    }
    for svc in &s.services {
        service(&mut out, svc, &period);
    }
    out
}
