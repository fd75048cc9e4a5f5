//! `slo.rules_sync`: slotel keeps a Prometheus-compatible ruler (Mimir's ruler API) loaded
//! with the rule groups `slotel rules` generates for the SLOs it runs, so that a reloaded
//! SLO file updates its recordings and alerts within seconds.
//!
//! Every [`SYNC_PERIOD`] the groups of the engine's SLOs are generated (one per SLO, named
//! `slotel:<service>:<slo>`); a group that is new or changed since the ruler last accepted
//! it is `POST`ed to `{endpoint}/prometheus/config/v1/rules/{namespace}` (one group's YAML),
//! and a group slotel gave the ruler whose SLO is gone is `DELETE`d from
//! `…/{namespace}/{group}`. A refused request is logged and tried again at the next period;
//! SLOs the rules cannot follow (see `slotel rules`) are logged and nothing is sent until
//! they are fixed. Groups left by an earlier process for SLOs removed while slotel was not
//! running are not known to it and stay until deleted.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};

use super::Options;
use crate::config::RulesSyncConfig;
use crate::export::BuildError;
use crate::export::client::HttpClient;
use crate::export::retry::Outcome;
use crate::slo::engine::Engine;
use crate::slo::spec::Slo;

/// How often the SLOs' groups are compared with what the ruler was given.
pub const SYNC_PERIOD: Duration = Duration::from_secs(5);

/// The ruler and what it was given.
pub struct RulesSync {
    client: HttpClient,
    /// `{endpoint}/prometheus/config/v1/rules/{namespace}`, the namespace percent-encoded.
    base: String,
    /// Group name → the YAML the ruler accepted.
    synced: BTreeMap<String, String>,
    /// The last refusal of the SLOs logged, so that it is logged once.
    refused: Option<String>,
}

/// What one pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub posted: usize,
    pub deleted: usize,
    pub failed: usize,
}

/// A path segment with every byte outside the unreserved set (and `:`) percent-encoded.
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Why the ruler could not be synced: its settings, or one request to it.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Client(#[from] BuildError),
    #[error("rules_sync endpoint {endpoint:?}: {source}")]
    Endpoint {
        endpoint: String,
        source: http::uri::InvalidUri,
    },
    #[error("{url}: {source}")]
    Url {
        url: String,
        source: http::uri::InvalidUri,
    },
    /// No answer (connection, timeout), as the delivery classification has it.
    #[error("{0:?}")]
    Unanswered(Outcome),
    /// The ruler answered with a status other than 2xx: the first bytes of its answer.
    #[error("HTTP {status}: {start}")]
    Refused {
        status: http::StatusCode,
        start: String,
    },
}

impl RulesSync {
    pub fn new(cfg: &RulesSyncConfig) -> Result<Self, SyncError> {
        let client = HttpClient::new(&cfg.client)?;
        let base = format!(
            "{}/prometheus/config/v1/rules/{}",
            cfg.client.endpoint.trim_end_matches('/'),
            segment(&cfg.namespace)
        );
        base.parse::<http::Uri>()
            .map_err(|source| SyncError::Endpoint {
                endpoint: cfg.client.endpoint.clone(),
                source,
            })?;
        Ok(Self {
            client,
            base,
            synced: BTreeMap::new(),
            refused: None,
        })
    }

    /// One pass: gives the ruler the groups of `slos` that it does not hold yet, and
    /// deletes those of SLOs that are gone.
    pub async fn pass(&mut self, slos: &[Slo]) -> Pass {
        let mut pass = Pass::default();
        let groups = match super::rule_groups(slos, &Options::default()) {
            Ok(g) => {
                self.refused = None;
                g
            }
            Err(e) => {
                let text = e.to_string();
                if self.refused.as_ref() != Some(&text) {
                    tracing::error!(error = %text, "rules_sync: the rules cannot follow these SLOs; the ruler keeps its groups");
                    self.refused = Some(text);
                }
                return pass;
            }
        };
        let yaml = (
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/yaml"),
        );
        for (name, text) in &groups {
            if self.synced.get(name) == Some(text) {
                continue;
            }
            let sent = self
                .request(
                    http::Method::POST,
                    &self.base,
                    std::slice::from_ref(&yaml),
                    text,
                )
                .await;
            match sent {
                Ok(()) => {
                    self.synced.insert(name.clone(), text.clone());
                    pass.posted += 1;
                }
                Err(e) => {
                    tracing::warn!(group = %name, error = %e, "rules_sync: the ruler refused a rule group; retrying");
                    pass.failed += 1;
                }
            }
        }
        let gone: Vec<String> = self
            .synced
            .keys()
            .filter(|k| !groups.iter().any(|(n, _)| n == *k))
            .cloned()
            .collect();
        for name in gone {
            let url = format!("{}/{}", self.base, segment(&name));
            match self.request(http::Method::DELETE, &url, &[], "").await {
                Ok(()) => {
                    self.synced.remove(&name);
                    pass.deleted += 1;
                }
                Err(e) => {
                    tracing::warn!(group = %name, error = %e, "rules_sync: the ruler kept a removed SLO's group; retrying");
                    pass.failed += 1;
                }
            }
        }
        if pass.posted + pass.deleted > 0 {
            tracing::info!(
                posted = pass.posted,
                deleted = pass.deleted,
                "rules_sync: ruler updated"
            );
        }
        pass
    }

    /// A request to the ruler; success is a 2xx answer (a `DELETE` of a group the ruler
    /// does not hold, 404, too).
    async fn request(
        &self,
        method: http::Method,
        url: &str,
        headers: &[(HeaderName, HeaderValue)],
        body: &str,
    ) -> Result<(), SyncError> {
        let uri: http::Uri = url.parse().map_err(|source| SyncError::Url {
            url: url.to_string(),
            source,
        })?;
        let delete = method == http::Method::DELETE;
        let resp = self
            .client
            .send(method, &uri, None, headers, Bytes::from(body.to_string()))
            .await
            .map_err(SyncError::Unanswered)?;
        if resp.status.is_success() || (delete && resp.status == http::StatusCode::NOT_FOUND) {
            Ok(())
        } else {
            let start = String::from_utf8_lossy(&resp.raw[..resp.raw.len().min(256)]).into_owned();
            Err(SyncError::Refused {
                status: resp.status,
                start,
            })
        }
    }
}

/// Keeps the ruler in sync with `engine`'s SLOs until its task is stopped.
pub async fn run(engine: Arc<Engine>, mut sync: RulesSync) {
    let mut tick = tokio::time::interval(SYNC_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let slos: Vec<Slo> = engine.slos().iter().map(|s| s.spec.clone()).collect();
        sync.pass(&slos).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;

    use super::*;
    use crate::config::ClientConfig;
    use crate::slo::spec::parse_file;

    /// (method, path, tenant, body) of every request.
    type Seen = Arc<Mutex<Vec<(String, String, String, String)>>>;

    /// A ruler that records every request and answers 202, or 500 while `fail` is set.
    async fn ruler(fail: Arc<Mutex<bool>>) -> (u16, Seen) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Seen = Arc::default();
        let out = seen.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                let mut line = String::new();
                reader.read_line(&mut line).await.unwrap();
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or_default().to_string();
                let path = parts.next().unwrap_or_default().to_string();
                let (mut length, mut tenant) = (0usize, String::new());
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).await.unwrap();
                    let h = h.trim_end();
                    if h.is_empty() {
                        break;
                    }
                    let (k, v) = h.split_once(':').unwrap();
                    match k.to_ascii_lowercase().as_str() {
                        "content-length" => length = v.trim().parse().unwrap(),
                        "x-scope-orgid" => tenant = v.trim().to_string(),
                        _ => {}
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).await.unwrap();
                let status = if *fail.lock().unwrap() {
                    "500 Internal Server Error"
                } else {
                    "202 Accepted"
                };
                out.lock()
                    .unwrap()
                    .push((method, path, tenant, String::from_utf8(body).unwrap()));
                let _ = write
                    .write_all(
                        format!(
                            "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        )
                        .as_bytes(),
                    )
                    .await;
            }
        });
        (port, seen)
    }

    fn slos(names: &[(&str, f64)]) -> Vec<Slo> {
        let mut text = String::from("service: shop\nslos:\n");
        for (name, objective) in names {
            text.push_str(&format!(
                "  - name: {name}\n    objective: {objective}\n    window: 30d\n    \
                 sli: {{spans: {{where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}}}\n"
            ));
        }
        parse_file(&text, "t.yaml").unwrap()
    }

    #[tokio::test]
    async fn groups_are_posted_when_new_or_changed_and_deleted_when_gone() {
        let fail = Arc::new(Mutex::new(false));
        let (port, seen) = ruler(fail.clone()).await;
        let mut client = ClientConfig::new(&format!("http://127.0.0.1:{port}/"));
        client.tenant = Some("team-a".into());
        let mut sync = RulesSync::new(&RulesSyncConfig {
            client,
            namespace: "slo rules".into(),
        })
        .unwrap();
        let base = "/prometheus/config/v1/rules/slo%20rules";

        // Both groups, each its own YAML, with the tenant.
        let pass = sync.pass(&slos(&[("a", 99.0), ("b", 99.9)])).await;
        assert_eq!((pass.posted, pass.deleted, pass.failed), (2, 0, 0));
        {
            let seen = seen.lock().unwrap();
            assert_eq!(seen.len(), 2);
            for ((method, path, tenant, body), name) in seen.iter().zip(["a", "b"]) {
                assert_eq!(
                    (method.as_str(), path.as_str(), tenant.as_str()),
                    ("POST", base, "team-a")
                );
                assert!(
                    body.starts_with(&format!("name: slotel:shop:{name}\n")),
                    "{body}"
                );
                assert!(body.contains("- alert: SLOErrorBudgetBurn"), "{body}");
            }
        }
        // Nothing changed: nothing sent.
        assert_eq!(
            sync.pass(&slos(&[("a", 99.0), ("b", 99.9)])).await,
            Pass::default()
        );
        assert_eq!(seen.lock().unwrap().len(), 2);

        // `a` changes, `b` is gone: one POST, one DELETE.
        let pass = sync.pass(&slos(&[("a", 99.5)])).await;
        assert_eq!((pass.posted, pass.deleted, pass.failed), (1, 1, 0));
        {
            let seen = seen.lock().unwrap();
            assert_eq!(seen[2].0, "POST");
            assert!(seen[2].3.contains("vector(0.995)"), "{}", seen[2].3);
            assert_eq!(
                (seen[3].0.as_str(), seen[3].1.as_str()),
                ("DELETE", format!("{base}/slotel:shop:b").as_str())
            );
        }

        // A refusal is tried again at the next pass.
        *fail.lock().unwrap() = true;
        let pass = sync.pass(&slos(&[("a", 99.0)])).await;
        assert_eq!((pass.posted, pass.failed), (0, 1));
        *fail.lock().unwrap() = false;
        let pass = sync.pass(&slos(&[("a", 99.0)])).await;
        assert_eq!((pass.posted, pass.failed), (1, 0));
    }

    #[tokio::test]
    async fn slos_the_rules_cannot_follow_send_nothing() {
        let (port, seen) = ruler(Arc::default()).await;
        let mut sync = RulesSync::new(&RulesSyncConfig {
            client: ClientConfig::new(&format!("http://127.0.0.1:{port}")),
            namespace: "slotel".into(),
        })
        .unwrap();
        let berlin = parse_file(
            "service: shop\nslos:\n  - name: m\n    objective: 99\n    \
             window: {calendar: month, time_zone: Europe/Berlin}\n    \
             sli: {spans: {where: kind == SPAN_KIND_SERVER, bad: status.code == STATUS_CODE_ERROR}}\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(sync.pass(&berlin).await, Pass::default());
        assert!(seen.lock().unwrap().is_empty());
    }
}
