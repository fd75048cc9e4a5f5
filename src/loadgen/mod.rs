//! `slotel loadgen`: an OTLP load generator, and the decode-only baseline that the end-to-end
//! benchmark compares the server against.
//!
//! The generator pre-builds a pool of distinct, encoded (and for HTTP compressed) requests
//! before the clock starts, so the numbers measure the server rather than the generator. N
//! workers, each with its own connection, take requests from the pool round-robin, share an
//! optional items-per-second limiter and classify every answer the way an OTLP exporter
//! would: acknowledged (minus partial-success rejections), refused with retry, refused
//! permanently, or failed in transport. Nothing is retried. A background task regenerates
//! pool entries so timestamps stay within about half a minute of the wall clock.
//!
//! With `--decode-baseline` nothing is sent: the same pool (same seed and options) is
//! decompressed and decoded with prost (or serde for OTLP/JSON) on the current thread for
//! `--duration`, which is the least work any receiver must do per item.
//!
//! # Layout
//!
//! - `args.rs`: [`LoadgenArgs`] (the clap arguments) and their validation into settings.
//! - `generate.rs`: deterministic, realistic traces, metrics and logs ([`generate`]), public
//!   so benchmarks and tests reuse the exact payloads.
//! - `send.rs`: workers, the rate limiter, the gRPC and HTTP clients, response
//!   classification and request-latency histogram.
//! - `mod.rs` (here): [`run`], the request pool, the decode baseline and the [`Report`].
//! - `tests.rs`: unit tests, including runs against in-process stub servers.

mod args;
pub mod generate;
mod send;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read as _, Write as _};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use tokio::time::{Duration, Instant};

use args::Settings;
pub use args::{Compression, Encoding, LoadgenArgs, Protocol, ReportFormat, Signal};
pub use generate::{ContentOpts, Payload};

/// How many distinct requests the pool holds at most.
const POOL_REQUESTS: usize = 64;
/// The pool holds at most about this many items in total.
const POOL_ITEMS: usize = 1_000_000;
/// Every pool entry is regenerated with fresh timestamps once per this period.
const REFRESH_PERIOD: Duration = Duration::from_secs(30);

/// Why the load generator could not run. Refused requests are not errors; they are counted
/// in the [`Report`].
#[derive(Debug, thiserror::Error)]
pub enum LoadgenError {
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("cannot connect to {endpoint}")]
    Connect {
        endpoint: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot encode a generated request as json")]
    EncodeJson(#[source] serde_json::Error),
    #[error("cannot compress a generated request")]
    Compress(#[source] std::io::Error),
    #[error("cannot decode a generated request")]
    Decode(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("a load generator task failed")]
    Task(#[source] tokio::task::JoinError),
}

/// Sends load (or measures the decode baseline) as `args` say and reports the outcome.
pub async fn run(args: LoadgenArgs) -> Result<Report, LoadgenError> {
    let settings = args.validate()?;
    let recipe = Recipe::from(&settings);
    let pool = Arc::new(Pool::build(&recipe, &settings)?);
    if settings.decode_baseline {
        return decode_baseline(&settings, &recipe, &pool);
    }
    send::send(settings, recipe, pool).await
}

/// Everything needed to build one pool entry.
#[derive(Debug, Clone)]
pub(crate) struct Recipe {
    signal: Signal,
    /// JSON bodies (OTLP/HTTP with `--encoding json`), else protobuf.
    json: bool,
    /// Compress the body here (HTTP); gRPC bodies are compressed by tonic per message.
    compression: Compression,
    content: ContentOpts,
    seed: u64,
}

impl From<&Settings> for Recipe {
    fn from(s: &Settings) -> Self {
        let http = s.protocol == Protocol::Http;
        Self {
            signal: s.signal,
            json: http && s.encoding == Encoding::Json,
            compression: if http {
                s.compression
            } else {
                Compression::None
            },
            content: s.content.clone(),
            seed: s.seed,
        }
    }
}

/// One ready-to-send request body.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub body: Bytes,
    pub items: u64,
}

impl Recipe {
    /// Builds entry `slot` of refresh `round` with `items` items; deterministic per seed.
    pub(crate) fn prepare(
        &self,
        slot: u64,
        round: u64,
        items: usize,
    ) -> Result<Prepared, LoadgenError> {
        let mut rng = fastrand::Rng::with_seed(mix(self.seed ^ mix((round << 32) | slot)));
        let mut content = self.content.clone();
        if round > 0 {
            content.now_unix_nano = ContentOpts::default().now_unix_nano;
        }
        let payload = Payload::generate(self.signal, &mut rng, items, &content);
        let encoded = if self.json {
            payload.encode_json().map_err(LoadgenError::EncodeJson)?
        } else {
            payload.encode_protobuf()
        };
        let body = compress(&encoded, self.compression).map_err(LoadgenError::Compress)?;
        Ok(Prepared {
            body: Bytes::from(body),
            items: items as u64,
        })
    }
}

/// SplitMix64 finalizer: spreads seeds so neighbouring slots get unrelated streams.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The pre-built requests workers send, plus the smaller last request of an `--items` run.
pub(crate) struct Pool {
    slots: Vec<RwLock<Prepared>>,
    /// With `--items N`: the number of full requests and the items of the last partial one.
    limit: Option<(u64, u64)>,
}

impl Pool {
    fn build(recipe: &Recipe, settings: &Settings) -> Result<Self, LoadgenError> {
        let per = settings.items_per_request;
        let mut len = POOL_REQUESTS.min((POOL_ITEMS / per).max(4));
        let limit = settings.items.map(|n| (n / per as u64, n % per as u64));
        if let Some((full, _)) = limit {
            len = len.min(usize::try_from(full).unwrap_or(usize::MAX).max(1));
        }
        let mut slots = Vec::with_capacity(len + 1);
        for slot in 0..len {
            slots.push(RwLock::new(recipe.prepare(slot as u64, 0, per)?));
        }
        if let Some((_, tail @ 1..)) = limit {
            slots.push(RwLock::new(recipe.prepare(len as u64, 0, tail as usize)?));
        }
        Ok(Self { slots, limit })
    }

    /// Number of full-size entries.
    fn full_len(&self) -> usize {
        match self.limit {
            Some((_, 1..)) => self.slots.len() - 1,
            _ => self.slots.len(),
        }
    }

    /// The request to send as the `n`-th request of the run, or `None` once `--items` is spent.
    pub(crate) fn request(&self, n: u64) -> Option<Prepared> {
        let slot = match self.limit {
            Some((full, _)) if n < full => (n % self.full_len() as u64) as usize,
            Some((full, tail)) if n == full && tail > 0 => self.slots.len() - 1,
            Some(_) => return None,
            None => (n % self.slots.len() as u64) as usize,
        };
        Some(self.get(slot))
    }

    fn get(&self, slot: usize) -> Prepared {
        // A poisoned lock still holds a whole entry: replacement is a single assignment.
        let guard = self.slots[slot].read().unwrap_or_else(|e| e.into_inner());
        guard.clone()
    }

    /// Regenerates entry `slot` for refresh `round`.
    pub(crate) fn refresh(
        &self,
        recipe: &Recipe,
        slot: usize,
        round: u64,
    ) -> Result<(), LoadgenError> {
        let items = self.get(slot).items as usize;
        let fresh = recipe.prepare(slot as u64, round, items)?;
        *self.slots[slot].write().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(())
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

fn compress(data: &[u8], compression: Compression) -> std::io::Result<Vec<u8>> {
    match compression {
        Compression::None => Ok(data.to_vec()),
        Compression::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(data)?;
            encoder.finish()
        }
        Compression::Zstd => zstd::bulk::compress(data, 1),
    }
}

fn decompress(data: &[u8], compression: Compression) -> std::io::Result<Vec<u8>> {
    match compression {
        Compression::None => Ok(data.to_vec()),
        Compression::Gzip => {
            let mut out = Vec::with_capacity(data.len() * 4);
            flate2::read::GzDecoder::new(data).read_to_end(&mut out)?;
            Ok(out)
        }
        Compression::Zstd => zstd::stream::decode_all(data),
    }
}

/// Decodes one wire body the way a receiver must; returns the items found.
fn decode_once(signal: Signal, json: bool, body: &[u8]) -> Result<usize, LoadgenError> {
    fn decode<M: prost::Message + Default + serde::de::DeserializeOwned>(
        json: bool,
        body: &[u8],
    ) -> Result<M, LoadgenError> {
        let error = |e: &dyn fmt::Display| LoadgenError::Decode(e.to_string().into());
        match json {
            true => serde_json::from_slice(body).map_err(|e| error(&e)),
            false => M::decode(body).map_err(|e| error(&e)),
        }
    }
    let payload = match signal {
        Signal::Traces => Payload::Traces(decode(json, body)?),
        Signal::Metrics => Payload::Metrics(decode(json, body)?),
        Signal::Logs => Payload::Logs(decode(json, body)?),
    };
    Ok(std::hint::black_box(payload).items())
}

/// Decompresses and decodes the pool in a loop on this thread until the duration or item
/// budget is spent. Blocks the calling thread on purpose: the process is pinned to one core
/// by the benchmark and this loop is the whole measurement.
fn decode_baseline(
    settings: &Settings,
    recipe: &Recipe,
    pool: &Pool,
) -> Result<Report, LoadgenError> {
    // What the server receives: gRPC bodies are compressed by tonic on the way out.
    let mut bodies = Vec::with_capacity(pool.len());
    for slot in 0..pool.full_len() {
        let entry = pool.get(slot);
        let wire = match settings.protocol {
            Protocol::Grpc => {
                compress(&entry.body, settings.compression).map_err(LoadgenError::Compress)?
            }
            Protocol::Http => entry.body.to_vec(),
        };
        bodies.push((wire, entry.items));
    }
    for (wire, items) in &bodies {
        let raw =
            decompress(wire, settings.compression).map_err(|e| LoadgenError::Decode(e.into()))?;
        if decode_once(settings.signal, recipe.json, &raw)? as u64 != *items {
            return Err(LoadgenError::Decode(
                "item count changed in a round trip".into(),
            ));
        }
    }
    let deadline = settings.duration.unwrap_or(Duration::MAX);
    let budget = settings.items.unwrap_or(u64::MAX);
    let (mut items, mut bytes) = (0u64, 0u64);
    let start = Instant::now();
    'outer: while start.elapsed() < deadline {
        for (wire, _) in &bodies {
            let raw = decompress(wire, settings.compression)
                .map_err(|e| LoadgenError::Decode(e.into()))?;
            items += decode_once(settings.signal, recipe.json, &raw)? as u64;
            bytes += wire.len() as u64;
            if items >= budget {
                break 'outer;
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut report = Report::new("decode-baseline", settings);
    report.decoded_items = items;
    report.decoded_bytes = bytes;
    report.elapsed_seconds = elapsed;
    report.decoded_items_per_second = per_second(items, elapsed);
    Ok(report)
}

fn per_second(n: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        n as f64 / seconds
    } else {
        0.0
    }
}

/// Refused items and requests by class.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Refused {
    /// Refused with a retryable answer (gRPC UNAVAILABLE and the other OTLP-retryable codes,
    /// RESOURCE_EXHAUSTED with RetryInfo; HTTP 429, 502, 503, 504).
    pub retryable_items: u64,
    pub retryable_requests: u64,
    /// Refused for good (any other gRPC code or HTTP status).
    pub permanent_items: u64,
    pub permanent_requests: u64,
    /// No answer: connection failures, resets, timeouts.
    pub transport_items: u64,
    pub transport_requests: u64,
}

/// Request round-trip latency in milliseconds (histogram with ~6% resolution).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LatencySummary {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

/// What a run did. Items are spans, data points or log records.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Report {
    /// `send` or `decode-baseline`.
    pub mode: &'static str,
    pub signal: String,
    pub protocol: String,
    pub encoding: String,
    pub compression: String,
    pub endpoint: String,
    pub items_per_request: usize,
    pub concurrency: usize,
    pub requests: u64,
    pub sent_items: u64,
    /// Request body bytes as sent (after compression for HTTP, before it for gRPC).
    pub sent_bytes: u64,
    /// Items in answered-OK requests minus those the server reported rejected.
    pub acknowledged_items: u64,
    /// Items in `partial_success.rejected_*` of OK answers.
    pub rejected_items: u64,
    pub refused: Refused,
    /// Refused requests by answer, e.g. `grpc UNAVAILABLE`, `http 503`, `transport`.
    pub errors: BTreeMap<String, u64>,
    /// The message of the last refused request, if any.
    pub last_error: Option<String>,
    pub latency_ms: LatencySummary,
    pub elapsed_seconds: f64,
    pub sent_items_per_second: f64,
    pub acknowledged_items_per_second: f64,
    /// Decode baseline only.
    pub decoded_items: u64,
    pub decoded_bytes: u64,
    pub decoded_items_per_second: f64,
}

impl Report {
    fn new(mode: &'static str, s: &Settings) -> Self {
        fn name(value: &impl clap::ValueEnum) -> String {
            let value = value.to_possible_value();
            value.map(|v| v.get_name().to_string()).unwrap_or_default()
        }
        Self {
            mode,
            signal: name(&s.signal),
            protocol: name(&s.protocol),
            encoding: name(&s.encoding),
            compression: name(&s.compression),
            endpoint: s.uri.to_string(),
            items_per_request: s.items_per_request,
            concurrency: s.concurrency,
            ..Self::default()
        }
    }

    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!(r#"{{"error":"{e}"}}"#))
    }

    /// The report in the format `--report` asked for.
    pub fn render(&self, format: ReportFormat) -> String {
        match format {
            ReportFormat::Text => self.to_string(),
            ReportFormat::Json => self.to_json(),
        }
    }

    /// Total refused items of every class.
    pub fn refused_items(&self) -> u64 {
        self.refused.retryable_items + self.refused.permanent_items + self.refused.transport_items
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        if self.mode == "decode-baseline" {
            return write!(
                f,
                "decode baseline ({} {} {}, one thread): {} items ({:.1} MiB) in {:.2}s = {:.0} items/s",
                self.signal,
                self.encoding,
                self.compression,
                self.decoded_items,
                mib(self.decoded_bytes),
                self.elapsed_seconds,
                self.decoded_items_per_second
            );
        }
        writeln!(
            f,
            "loadgen {} over {}/{} ({}) to {}, {} in flight",
            self.signal,
            self.protocol,
            self.encoding,
            self.compression,
            self.endpoint,
            self.concurrency
        )?;
        writeln!(
            f,
            "  sent {} items in {} requests ({:.1} MiB) in {:.2}s: {:.0} items/s sent, {:.0} items/s acknowledged",
            self.sent_items,
            self.requests,
            mib(self.sent_bytes),
            self.elapsed_seconds,
            self.sent_items_per_second,
            self.acknowledged_items_per_second
        )?;
        writeln!(
            f,
            "  acknowledged {}, rejected {}, refused {} (retryable {}, permanent {}, transport {})",
            self.acknowledged_items,
            self.rejected_items,
            self.refused_items(),
            self.refused.retryable_items,
            self.refused.permanent_items,
            self.refused.transport_items
        )?;
        let l = &self.latency_ms;
        write!(
            f,
            "  request latency ms: p50 {:.2}, p90 {:.2}, p99 {:.2}, max {:.2}",
            l.p50, l.p90, l.p99, l.max
        )?;
        for (answer, requests) in &self.errors {
            write!(f, "\n  {answer}: {requests} requests")?;
        }
        if let Some(last) = &self.last_error {
            write!(f, "\n  last error: {last}")?;
        }
        Ok(())
    }
}
