//! What a valid config may still get wrong: a pipeline that sends what it receives
//! nowhere. `slotel check` prints these warnings and `slotel run` logs them at start; they
//! never fail either, since a pipeline without exporters is sometimes what is wanted (the
//! SLO engine alone reads spans and metrics).

use super::{Config, ExporterKind, PipelineConfig};
use crate::signal::Signal;

/// Whether an exporter of this kind takes `signal` (the built exporters agree: see
/// `Exporter::accepts`).
pub fn exporter_accepts(kind: &ExporterKind, signal: Signal) -> bool {
    match kind {
        ExporterKind::RemoteWrite(..) => signal == Signal::Metrics,
        ExporterKind::Loki(..) => signal == Signal::Logs,
        ExporterKind::Debug { .. }
        | ExporterKind::File { .. }
        | ExporterKind::Nop
        | ExporterKind::OtlpGrpc(..)
        | ExporterKind::OtlpHttp(..) => true,
    }
}

/// The ids of the exporters a pipeline feeds.
pub fn pipeline_exporters<'a>(
    cfg: &'a Config,
    signal: Signal,
    pipeline: &'a PipelineConfig,
) -> Vec<&'a str> {
    cfg.exporters
        .iter()
        .filter(|e| {
            pipeline
                .exporters
                .as_ref()
                .is_none_or(|ids| ids.contains(&e.id))
        })
        .filter(|e| exporter_accepts(&e.kind, signal))
        .map(|e| e.id.as_str())
        .collect()
}

/// One warning per pipeline that has no exporter for its signal, saying where its data
/// ends.
pub fn pipeline_warnings(cfg: &Config) -> Vec<String> {
    let pipelines = [
        (Signal::Traces, &cfg.service.traces),
        (Signal::Metrics, &cfg.service.metrics),
        (Signal::Logs, &cfg.service.logs_pipeline),
    ];
    let mut out = Vec::new();
    for (signal, pipeline) in pipelines {
        if !pipeline_exporters(cfg, signal, pipeline).is_empty() {
            continue;
        }
        let why = match &pipeline.exporters {
            Some(ids) if ids.is_empty() => "its exporters list is empty".to_string(),
            Some(ids) => format!("none of [{}] takes {}", ids.join(", "), signal.as_str()),
            None if cfg.exporters.is_empty() => "no exporter is configured".to_string(),
            None => format!("no configured exporter takes {}", signal.as_str()),
        };
        let fate = match signal {
            Signal::Traces => "spans received feed the SLO engine and are then dropped",
            Signal::Metrics => {
                "received metrics feed the SLO engine and are then dropped, and the SLO series are only on /metrics"
            }
            Signal::Logs => "log records received are dropped",
        };
        out.push(format!(
            "service.pipelines.{} has no exporter ({why}): {fate}",
            signal.as_str()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(yaml: &str) -> Config {
        let text = format!("receivers:\n  otlp:\n    protocols:\n      http: {{}}\n{yaml}");
        crate::config::parse(&text, "test.yaml", &crate::config::SystemLookup)
            .expect("valid config")
    }

    #[test]
    fn no_exporter_at_all_warns_for_every_pipeline() {
        let w = pipeline_warnings(&config("exporters: {}\n"));
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(
            w[0].starts_with(
                "service.pipelines.traces has no exporter (no exporter is configured)"
            )
        );
        assert!(w[2].contains("log records received are dropped"));
    }

    #[test]
    fn an_exporter_that_takes_every_signal_silences_them() {
        assert!(pipeline_warnings(&config("exporters:\n  debug: {}\n")).is_empty());
    }

    #[test]
    fn a_metrics_only_exporter_leaves_traces_and_logs_without_one() {
        let w = pipeline_warnings(&config(
            "exporters:\n  prometheusremotewrite:\n    endpoint: http://127.0.0.1:9090/api/v1/write\n",
        ));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("traces has no exporter (no configured exporter takes traces)"));
        assert!(w[1].starts_with("service.pipelines.logs"));
    }

    #[test]
    fn an_empty_or_mismatched_list_is_named() {
        let w = pipeline_warnings(&config(
            "exporters:\n  debug: {}\n  loki:\n    endpoint: http://127.0.0.1:3100\n\
             service:\n  pipelines:\n    traces: {exporters: []}\n    metrics: {exporters: [loki]}\n",
        ));
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("(its exporters list is empty)"));
        assert!(w[1].contains("(none of [loki] takes metrics)"));
    }
}
