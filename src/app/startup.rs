//! slotel's start-up log: one line per listener and one per exporter, each with plain
//! `key=value` fields (structured fields in JSON logs), and a warning per pipeline that
//! has no exporter.

use std::net::SocketAddr;

use crate::config::{Config, ExporterKind};
use crate::signal::Signal;

/// Logs one bound listener.
pub(super) fn listening(listener: &str, address: SocketAddr, tls: bool) {
    tracing::info!(
        listener = %listener,
        %address,
        tls = %if tls { "on" } else { "off" },
        "listening"
    );
}

/// Logs every configured exporter: its id, type, where it sends and the signals it takes.
pub(super) fn exporters(config: &Config) {
    for e in &config.exporters {
        let signals: Vec<&str> = [Signal::Traces, Signal::Metrics, Signal::Logs]
            .into_iter()
            .filter(|s| crate::config::exporter_accepts(&e.kind, *s))
            .map(Signal::as_str)
            .collect();
        tracing::info!(
            exporter = %e.id,
            destination = %destination(&e.kind),
            signals = %signals.join(","),
            "exporter started"
        );
    }
}

/// Logs a warning per pipeline without exporters (`slotel check` prints the same).
pub(super) fn pipeline_warnings(config: &Config) {
    for w in crate::config::pipeline_warnings(config) {
        tracing::warn!("{w}");
    }
}

/// Where an exporter writes, for the log: an endpoint without user info, a path, or what
/// the exporter does locally.
fn destination(kind: &ExporterKind) -> String {
    let endpoint = match kind {
        ExporterKind::Debug { .. } => return "stderr".to_string(),
        ExporterKind::Nop => return "none".to_string(),
        ExporterKind::File { path } => return path.display().to_string(),
        ExporterKind::RemoteWrite(c, _) => &c.client.endpoint,
        ExporterKind::OtlpGrpc(c, _) | ExporterKind::OtlpHttp(c, _) => &c.client.endpoint,
        ExporterKind::Loki(c, _) => &c.client.endpoint,
    };
    without_userinfo(endpoint)
}

/// `scheme://user:pass@host/…` → `scheme://host/…`: credentials never reach the log.
fn without_userinfo(endpoint: &str) -> String {
    let (scheme, rest) = match endpoint.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, endpoint),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let rest = match rest[..authority_end].rfind('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    match scheme {
        Some(s) => format!("{s}://{rest}"),
        None => rest.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn credentials_are_cut_from_endpoints() {
        let cut = super::without_userinfo;
        assert_eq!(
            cut("https://u:p@mimir:443/api/v1/push"),
            "https://mimir:443/api/v1/push"
        );
        assert_eq!(
            cut("http://collector:4318/a@b"),
            "http://collector:4318/a@b"
        );
        assert_eq!(cut("collector:4317"), "collector:4317");
        assert_eq!(cut("u@collector:4317"), "collector:4317");
    }
}
