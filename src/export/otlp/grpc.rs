//! `otlp/<name>`: OTLP over gRPC with tonic.
//!
//! The queued body is already the protobuf export request, so it goes out through a
//! pass-through codec (no decode and re-encode in `send`); tonic frames and compresses it
//! (`grpc-encoding: gzip` by default). TLS comes from the same rustls config as the HTTP
//! exporters (`tls_config`), through hyper-rustls as the channel's connector, so `https://`
//! endpoints, a CA bundle, mTLS and `insecure_skip_verify` work without tonic's own TLS.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::{Buf, BufMut, Bytes};
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderName, HeaderValue};
use hyper_util::client::legacy::connect::HttpConnector;
use tonic::codec::{Codec, CompressionEncoding, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::MetadataMap;
use tonic::transport::{Channel, Endpoint};

use super::{PartialReport, Route, encode_batch, partial_success};
use crate::config::{ClientConfig, Compression, OtlpExporterConfig};
use crate::export::client::tls_config;
use crate::export::delivery::Remote;
use crate::export::queue::Record;
use crate::export::retry::{Outcome, classify_grpc};
use crate::pipeline::Batch;
use crate::telemetry::{Metrics, Signal};

pub struct OtlpGrpc {
    channel: Channel,
    compression: Option<CompressionEncoding>,
    /// Configured headers and credentials, sent as metadata with every call.
    headers: HeaderMap,
    tenant_header: HeaderName,
    default_tenant: Option<HeaderValue>,
    timeout: std::time::Duration,
    partial: PartialReport,
}

/// The headers every call carries: the configured ones, then basic or bearer auth.
pub(super) fn static_headers(cfg: &ClientConfig) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for (k, v) in &cfg.headers {
        let name = HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes())
            .map_err(|_| format!("invalid header name {k:?}"))?;
        let value =
            HeaderValue::from_str(v).map_err(|_| format!("invalid value of header {k:?}"))?;
        headers.insert(name, value);
    }
    let auth = match (&cfg.basic_auth, &cfg.bearer_token) {
        (Some((user, pass)), _) => {
            use base64::Engine as _;
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            Some(format!("Basic {token}"))
        }
        (None, Some(token)) => Some(format!("Bearer {token}")),
        (None, None) => None,
    };
    if let Some(auth) = auth {
        let mut value = HeaderValue::from_str(&auth)
            .map_err(|_| "invalid characters in the credentials".to_string())?;
        value.set_sensitive(true);
        headers.insert(http::header::AUTHORIZATION, value);
    }
    Ok(headers)
}

impl OtlpGrpc {
    /// Builds the exporter; the channel connects on first use (and reconnects as needed).
    pub fn new(id: &str, cfg: &OtlpExporterConfig, metrics: Arc<Metrics>) -> Result<Self, String> {
        let client = &cfg.client;
        // ALPN `h2` is set by the connector builder (it refuses a config that has ALPN).
        let tls = tls_config(client)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(client.timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http2()
            .wrap_connector(http);
        let endpoint = Endpoint::from_shared(client.endpoint.clone())
            .map_err(|e| format!("invalid endpoint {:?}: {e}", client.endpoint))?
            .timeout(client.timeout)
            .http2_keep_alive_interval(std::time::Duration::from_secs(30))
            .keep_alive_while_idle(false);
        let channel = endpoint.connect_with_connector_lazy(connector);
        let tenant_header =
            HeaderName::from_bytes(client.tenant_header.to_ascii_lowercase().as_bytes())
                .map_err(|_| format!("invalid tenant_header {:?}", client.tenant_header))?;
        let default_tenant = match &client.tenant {
            Some(t) => Some(HeaderValue::from_str(t).map_err(|_| format!("invalid tenant {t:?}"))?),
            None => None,
        };
        Ok(Self {
            channel,
            compression: match cfg.compression {
                Compression::Gzip => Some(CompressionEncoding::Gzip),
                Compression::Zstd => Some(CompressionEncoding::Zstd),
                Compression::None => None,
            },
            headers: static_headers(client)?,
            tenant_header,
            default_tenant,
            timeout: client.timeout,
            partial: PartialReport::new(id, metrics),
        })
    }

    fn metadata(&self, tenant: Option<&str>) -> MetadataMap {
        let mut headers = self.headers.clone();
        let tenant = tenant
            .and_then(|t| HeaderValue::from_str(t).ok())
            .or_else(|| self.default_tenant.clone());
        if let Some(t) = tenant {
            headers.insert(self.tenant_header.clone(), t);
        }
        MetadataMap::from_headers(headers)
    }
}

#[async_trait]
impl Remote for OtlpGrpc {
    fn accepts(&self, signal: Signal) -> bool {
        super::accepts(signal)
    }

    fn encode(&self, batch: &Batch) -> Result<Vec<Record>, String> {
        Ok(vec![encode_batch(batch)])
    }

    async fn send(&self, record: &Record) -> Outcome {
        let Some(route) = Route::of(record.route) else {
            return Outcome::Permanent {
                reason: "request",
                detail: format!("queued record has an unknown route {}", record.route),
            };
        };
        let mut grpc = tonic::client::Grpc::new(self.channel.clone());
        if let Some(c) = self.compression {
            grpc = grpc.send_compressed(c).accept_compressed(c);
        }
        grpc = grpc.accept_compressed(CompressionEncoding::Gzip);
        let call = async {
            grpc.ready().await.map_err(|e| {
                Outcome::retry("connection", format!("gRPC channel not ready: {e}"))
            })?;
            let request = tonic::Request::from_parts(
                self.metadata(record.tenant.as_deref()),
                tonic::Extensions::default(),
                record.body.clone(),
            );
            let path = PathAndQuery::from_static(route.grpc_path());
            grpc.unary::<Bytes, Bytes, _>(request, path, RawCodec)
                .await
                .map_err(|status| classify_grpc(&status))
        };
        // The channel's own timeout covers the call; this one also covers connecting.
        let response = match tokio::time::timeout(self.timeout + self.timeout / 2, call).await {
            Ok(Ok(r)) => r,
            Ok(Err(outcome)) => return outcome,
            Err(_) => {
                return Outcome::retry("timeout", format!("no response within {:?}", self.timeout));
            }
        };
        if let Some(p) = partial_success(route, response.get_ref()) {
            self.partial.report(route, &p);
        }
        Outcome::Delivered
    }
}

/// Sends and receives message bytes as they are.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Self::Error> {
        let n = src.remaining();
        Ok(Some(src.copy_to_bytes(n)))
    }
}
