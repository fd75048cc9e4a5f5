//! The `prometheusremotewrite` exporter: OTLP metrics → Prometheus remote write 1.0
//! (protobuf, snappy block format), to Mimir's `/api/v1/push` or Prometheus's
//! `/api/v1/write`.
//!
//! Conversion, as the collector's exporter does it: gauges and sums become samples
//! (monotonic cumulative sums get a `_total` suffix when they lack one), explicit
//! histograms become `_bucket{le}`/`_sum`/`_count`, exponential histograms become native
//! histograms (scale = schema, merged down to at most the configured schema), summaries
//! become quantile samples plus `_sum`/`_count`. A point flagged "no recorded value"
//! becomes a stale marker. Delta temporality is skipped (remote write has no deltas).
//!
//! # Invariants
//!
//! - Labels are sorted by name and unique; the replica label and external labels are on
//!   every series with slotel's values, whatever attributes the data carries (a data-point
//!   attribute of the same name is dropped), and `le`, `quantile` and the metric name are
//!   the conversion's. Only slotel's own SLO series keep a label of theirs that an
//!   external label also names (as Prometheus treats external labels), so an external
//!   `cluster` cannot merge the per-cluster SLO series.
//! - Per series, timestamps only move forward: a sample at or before the last one written
//!   is dropped here (one bad sample makes Prometheus refuse the whole request), and no
//!   timestamp is later than now.
//! - A request holds at most `max_samples_per_request` samples and histograms.
//! - No label value of a received series is longer than `max_label_value_length` bytes
//!   (Mimir's default limit, 2048): a longer one is cut and ends with a hash of the whole
//!   value ([`cut_label_value`]; a metric name with `_` before the hash, [`cut_name`]).
//!   Label names longer than `max_label_name_length` (1024) are cut the same way. A
//!   received series with more than `max_label_names_per_series` labels (30), or a sample
//!   older than `max_sample_age` (1h), is dropped, since Mimir and Prometheus refuse the
//!   whole request for it; each is counted (`export::limits`). The SLO series are never
//!   changed: their labels are slotel's, their samples are current.
//! - slotel's own SLO series leave through their own lane (`lane.rs`): sharded by series,
//!   in order per shard, several shards at once, the oldest waiting snapshot dropped when
//!   the backend falls behind. Received metrics keep the queue, one request at a time.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use prometheus_client::metrics::counter::Counter;
use prost::Message;

mod convert;
mod lane;
use convert::{Converter, Origin, label};
pub use convert::{cut_label_value, cut_name, native_buckets, sanitize};
pub use lane::{Lane, LaneConfig, MAX_SHARDS, Send1};

use super::client::HttpClient;
use super::delivery::Remote;
use super::error::{BuildError, EncodeError};
use super::limits::{self, Tally};
use super::proto::prometheus as prom;
use super::queue::Record;
use super::retry::Outcome;
use crate::config::RemoteWriteConfig;
use crate::pipeline::{Batch, Origin as BatchOrigin, Payload};
use crate::signal::Signal;

/// The value Prometheus reads as "this series ended here".
pub const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// Series whose last timestamp is older than this are forgotten (bounded memory).
const FORGET_AFTER_MS: i64 = 3_600_000;

pub struct RemoteWrite {
    writer: Arc<Writer>,
    /// Where the SLO series go when set (see `lane.rs`); else through the queue.
    lane: Option<Lane>,
    cfg: RemoteWriteConfig,
    /// The replica label, on every series.
    replica: prom::Label,
    /// The external labels, on every series.
    external: Vec<prom::Label>,
    /// Last timestamp written per series (hash of its labels) and when it was written.
    last: Mutex<HashMap<u64, i64>>,
    /// `slotel_exporter_label_values_cut_total` of this exporter, once it is counted.
    cut: Option<Counter>,
    /// `slotel_exporter_limited_records_total` of this exporter.
    limited: limits::Counters,
}

impl RemoteWrite {
    pub fn new(cfg: &RemoteWriteConfig) -> Result<Self, BuildError> {
        let client = HttpClient::new(&cfg.client)?;
        let url: http::Uri =
            cfg.client
                .endpoint
                .parse()
                .map_err(|source| BuildError::Endpoint {
                    endpoint: cfg.client.endpoint.clone(),
                    source,
                })?;
        let replica = cfg
            .replica
            .clone()
            .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
            .or_else(|| {
                std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|h| h.trim().to_string())
            })
            .unwrap_or_else(|| "slotel".to_string());
        let replica = label(&sanitize(&cfg.replica_label, false), &replica);
        let external = cfg
            .external_labels
            .iter()
            .map(|(k, v)| label(&sanitize(k, false), v))
            .collect();
        Ok(Self {
            writer: Arc::new(Writer { client, url }),
            lane: None,
            cfg: cfg.clone(),
            replica,
            external,
            last: Mutex::new(HashMap::new()),
            cut: None,
            limited: limits::Counters::default(),
        })
    }

    /// Converts OTLP metrics into remote-write series (unfiltered).
    fn convert(
        &self,
        req: &opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
        origin: Origin,
        now_ms: i64,
    ) -> Vec<prom::TimeSeries> {
        let mut conv = Converter {
            replica: &self.replica,
            external: &self.external,
            origin,
            schema: self.cfg.native_histogram_schema,
            now_ms,
            series: Vec::new(),
            max_value: self.cfg.max_label_value_length,
            cut: 0,
            max_name: self.cfg.max_label_name_length,
            max_labels: self.cfg.max_label_names_per_series,
            min_ms: self.cfg.max_sample_age.map_or(i64::MIN, |age| {
                now_ms.saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX))
            }),
            tally: Tally::default(),
        };
        conv.request(req);
        if conv.cut > 0
            && let Some(counter) = &self.cut
        {
            counter.inc_by(conv.cut);
        }
        self.limited.record(&conv.tally);
        conv.series
    }

    /// Drops samples that would not move their series forward, then remembers the new
    /// last timestamps; forgets series not written for an hour.
    fn monotonic(&self, series: Vec<prom::TimeSeries>, now_ms: i64) -> Vec<prom::TimeSeries> {
        let Ok(mut last) = self.last.lock() else {
            return series;
        };
        let mut out = Vec::with_capacity(series.len());
        for s in series {
            let key = series_key(&s);
            let ts = s
                .samples
                .iter()
                .map(|x| x.timestamp)
                .chain(s.histograms.iter().map(|x| x.timestamp))
                .max()
                .unwrap_or(0);
            match last.get(&key) {
                Some(prev) if *prev >= ts => continue,
                _ => {
                    last.insert(key, ts);
                    out.push(s);
                }
            }
        }
        last.retain(|_, ts| now_ms - *ts < FORGET_AFTER_MS);
        out
    }

    /// Encodes series into snappy-compressed requests of bounded size.
    fn requests(
        &self,
        series: Vec<prom::TimeSeries>,
        tenant: Option<String>,
        now_ms: u64,
    ) -> Result<Vec<Record>, EncodeError> {
        let max = self.cfg.max_samples_per_request.max(1);
        let mut out = Vec::new();
        let mut chunk: Vec<prom::TimeSeries> = Vec::new();
        let mut samples = 0usize;
        // One buffer and one compressor for every request of the batch.
        let mut raw: Vec<u8> = Vec::new();
        let mut encoder = snap::raw::Encoder::new();
        let mut flush = |chunk: &mut Vec<prom::TimeSeries>,
                         samples: &mut usize,
                         out: &mut Vec<Record>|
         -> Result<(), EncodeError> {
            if chunk.is_empty() {
                return Ok(());
            }
            let req = prom::WriteRequest {
                timeseries: std::mem::take(chunk),
                metadata: Vec::new(),
            };
            raw.clear();
            raw.reserve(req.encoded_len());
            req.encode_raw(&mut raw);
            let body = encoder.compress_vec(&raw)?;
            // The series' label strings are dropped here, chunk by chunk.
            drop(req);
            out.push(Record {
                tenant: tenant.clone(),
                items: *samples as u64,
                route: 0,
                queued_ms: now_ms,
                body: Bytes::from(body),
            });
            *samples = 0;
            Ok(())
        };
        for s in series {
            let n = s.samples.len() + s.histograms.len();
            if samples + n > max {
                flush(&mut chunk, &mut samples, &mut out)?;
            }
            samples += n;
            chunk.push(s);
        }
        flush(&mut chunk, &mut samples, &mut out)?;
        Ok(out)
    }

    /// Sends the SLO series through their own lane (see `lane.rs`) rather than the queue:
    /// `exporter` names it in slotel's metrics, `retry` is the exporter's
    /// `retry_on_failure`.
    pub fn with_slo_lane(
        mut self,
        exporter: &str,
        retry: &crate::config::RetryConfig,
        metrics: Arc<crate::telemetry::Metrics>,
    ) -> Self {
        let cfg = LaneConfig {
            shards: self.cfg.slo_series_shards,
            backlog: self.cfg.slo_series_backlog,
            retry: retry.clone(),
        };
        self.lane = Some(Lane::new(exporter, cfg, self.writer.clone(), metrics));
        self
    }

    /// Counts the label values this exporter cuts and the series it changes or drops to
    /// keep the backend's limits in `metrics`, under the name `exporter`.
    pub fn counting(mut self, exporter: &str, metrics: &crate::telemetry::Metrics) -> Self {
        self.cut = Some(metrics.exporters.label_values_cut.get_or_create_owned(
            &crate::telemetry::QueueLabels {
                exporter: exporter.to_string(),
            },
        ));
        self.limited = limits::Counters::new(exporter, metrics);
        self
    }

    /// The SLO series' lane, when it has one.
    pub fn lane(&self) -> Option<&Lane> {
        self.lane.as_ref()
    }

    /// Encodes slotel's own SLO series split into `shards` shards by a hash of each
    /// series' labels: `out[i]` are shard `i`'s requests, so a series is always in the
    /// same shard.
    pub fn encode_slo_shards(
        &self,
        req: &opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
        shards: usize,
    ) -> Result<Vec<Vec<Record>>, EncodeError> {
        let (samples, stale) = self.encode_slo_snapshot(req, shards)?;
        Ok(stale
            .into_iter()
            .zip(samples)
            .map(|(mut stale, samples)| {
                stale.extend(samples);
                stale
            })
            .collect())
    }

    /// [`RemoteWrite::encode_slo_shards`] with each shard's stale markers in requests of
    /// their own: `(samples, stale)`, each with one entry per shard.
    #[allow(clippy::type_complexity)]
    pub fn encode_slo_snapshot(
        &self,
        req: &opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
        shards: usize,
    ) -> Result<(Vec<Vec<Record>>, Vec<Vec<Record>>), EncodeError> {
        let shards = shards.max(1);
        let now = jiff::Timestamp::now().as_millisecond();
        let series = self.convert(req, Origin::Slotel, now);
        let series = self.monotonic(series, now);
        let mut split: Vec<Vec<prom::TimeSeries>> = (0..shards).map(|_| Vec::new()).collect();
        let mut stale: Vec<Vec<prom::TimeSeries>> = (0..shards).map(|_| Vec::new()).collect();
        for s in series {
            let i = (series_key(&s) % shards as u64) as usize;
            if is_stale_marker(&s) {
                stale[i].push(s);
            } else {
                split[i].push(s);
            }
        }
        let queued = u64::try_from(now).unwrap_or(0);
        let encode = |parts: Vec<Vec<prom::TimeSeries>>| {
            parts
                .into_iter()
                .map(|series| self.requests(series, None, queued))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok((encode(split)?, encode(stale)?))
    }

    /// Encodes an OTLP metrics request received from a sender (pass-through metrics).
    pub fn encode_metrics(
        &self,
        req: &opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
        tenant: Option<String>,
    ) -> Result<Vec<Record>, EncodeError> {
        self.encode_as(req, Origin::Sender, tenant)
    }

    /// Encodes slotel's own SLO series: their labels keep their values where an external
    /// label has the same name.
    pub fn encode_slo_series(
        &self,
        req: &opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
    ) -> Result<Vec<Record>, EncodeError> {
        self.encode_as(req, Origin::Slotel, None)
    }

    fn encode_as(
        &self,
        req: &opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest,
        origin: Origin,
        tenant: Option<String>,
    ) -> Result<Vec<Record>, EncodeError> {
        let now = jiff::Timestamp::now().as_millisecond();
        let series = self.convert(req, origin, now);
        let series = self.monotonic(series, now);
        self.requests(series, tenant, u64::try_from(now).unwrap_or(0))
    }
}

/// Whether a series holds stale markers only.
fn is_stale_marker(s: &prom::TimeSeries) -> bool {
    s.histograms.is_empty()
        && !s.samples.is_empty()
        && s.samples.iter().all(|x| x.value.to_bits() == STALE_NAN)
}

/// A series' identity: a hash of its (sorted) labels.
fn series_key(s: &prom::TimeSeries) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for l in &s.labels {
        l.name.hash(&mut h);
        l.value.hash(&mut h);
    }
    h.finish()
}

/// Sends one encoded request to the backend.
struct Writer {
    client: HttpClient,
    url: http::Uri,
}

#[async_trait]
impl Send1 for Writer {
    async fn send(&self, record: &Record) -> Outcome {
        let headers = [
            (
                http::header::CONTENT_ENCODING,
                HeaderValue::from_static("snappy"),
            ),
            (
                HeaderName::from_static("x-prometheus-remote-write-version"),
                HeaderValue::from_static("0.1.0"),
            ),
        ];
        self.client.send_protobuf(&self.url, record, &headers).await
    }
}

#[async_trait]
impl Remote for RemoteWrite {
    fn accepts(&self, signal: Signal) -> bool {
        signal == Signal::Metrics
    }

    fn encode(&self, batch: &Batch) -> Result<Vec<Record>, EncodeError> {
        match (batch.payload(), batch.ctx.origin) {
            (Payload::Metrics(req), BatchOrigin::Received) => {
                let tenant = batch.ctx.tenant.as_deref().map(str::to_string);
                self.encode_metrics(req, tenant)
            }
            (Payload::Metrics(req), BatchOrigin::Slo) if self.cfg.send_slo_series => {
                match &self.lane {
                    Some(lane) if tokio::runtime::Handle::try_current().is_ok() => {
                        let (samples, stale) = self.encode_slo_snapshot(req, lane.shards())?;
                        lane.push_snapshot(samples, stale);
                        Ok(Vec::new())
                    }
                    _ => self.encode_slo_series(req),
                }
            }
            _ => Ok(Vec::new()),
        }
    }

    async fn send(&self, record: &Record) -> Outcome {
        self.writer.send(record).await
    }

    fn split(&self, record: &Record) -> Option<[Record; 2]> {
        split_request(record)
    }

    async fn flush(&self, deadline: tokio::time::Instant) {
        if let Some(lane) = &self.lane {
            lane.flush(deadline).await;
        }
    }
}

/// The largest request body [`split_request`] decompresses: well above what the encoder
/// writes (`max_samples_per_request` samples), far below what would hurt.
const MAX_SPLIT_BYTES: usize = 256 << 20;

/// A remote-write request as two requests holding its series, the first half and the
/// rest; a request of one series as two holding its samples and histograms. `None` for
/// fewer than two samples and histograms, or a body that does not decode.
fn split_request(record: &Record) -> Option<[Record; 2]> {
    let len = snap::raw::decompress_len(&record.body).ok()?;
    if len > MAX_SPLIT_BYTES {
        return None;
    }
    let raw = snap::raw::Decoder::new()
        .decompress_vec(&record.body)
        .ok()?;
    let mut req = prom::WriteRequest::decode(raw.as_slice()).ok()?;
    let items: usize = req
        .timeseries
        .iter()
        .map(|s| s.samples.len() + s.histograms.len())
        .sum();
    if items < 2 {
        return None;
    }
    let second = if req.timeseries.len() >= 2 {
        let half = req.timeseries.len() / 2;
        req.timeseries.split_off(half)
    } else {
        let one = req.timeseries.first_mut()?;
        let mut rest = prom::TimeSeries {
            labels: one.labels.clone(),
            ..Default::default()
        };
        // Samples first, then histograms: the second part takes the later half of each.
        rest.samples = one.samples.split_off(one.samples.len() / 2);
        rest.histograms = one.histograms.split_off(one.histograms.len() / 2);
        if one.samples.is_empty() && one.histograms.is_empty() {
            // One sample and one histogram, or two of one kind split to none: move one.
            if let Some(s) = rest.samples.pop() {
                one.samples.push(s);
            } else {
                one.histograms.push(rest.histograms.pop()?);
            }
        }
        vec![rest]
    };
    let part = |timeseries: Vec<prom::TimeSeries>, metadata| -> Option<Record> {
        let items = timeseries
            .iter()
            .map(|s| (s.samples.len() + s.histograms.len()) as u64)
            .sum();
        let body = prom::WriteRequest {
            timeseries,
            metadata,
        }
        .encode_to_vec();
        let body = snap::raw::Encoder::new().compress_vec(&body).ok()?;
        Some(Record {
            tenant: record.tenant.clone(),
            items,
            route: record.route,
            queued_ms: record.queued_ms,
            body: Bytes::from(body),
        })
    };
    let metadata = std::mem::take(&mut req.metadata);
    Some([part(req.timeseries, metadata)?, part(second, Vec::new())?])
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod lane_tests;
