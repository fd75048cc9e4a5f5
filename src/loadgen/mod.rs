//! `slotel loadgen`: an OTLP load generator, and the decode-only baseline that the end-to-end
//! benchmark compares the server against.
//!
//! The generator pre-builds a pool of distinct, encoded (and compressed) requests
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
//! In data-flow order:
//!
//! - `args.rs`: [`LoadgenArgs`] (the clap arguments) and their validation into settings.
//! - `generate/`: deterministic, realistic traces, metrics and logs ([`generate`]), public
//!   so benchmarks and tests reuse the exact payloads.
//! - `pool.rs`: the request pool (encoding, compression) and its periodic refresh.
//! - `send.rs`: workers and the rate limiter.
//! - `client.rs`: the gRPC and HTTP clients and response classification.
//! - `baseline.rs`: the decode-only baseline.
//! - `sink.rs`: `--sink`, a cheap OTLP/gRPC traces backend for the exporter benchmark.
//! - `report.rs`: the [`Report`], outcome counting, the request-latency histogram, and the
//!   text and JSON renderings.
//! - `mod.rs` (here): [`run`] and [`LoadgenError`].
//! - `tests/`: unit tests, including runs against in-process stub servers.

mod args;
mod baseline;
mod client;
pub mod generate;
mod pool;
mod report;
mod send;
pub mod sink;
#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use args::{Encoding, LoadgenArgs, ReportFormat};
pub use generate::{ContentOpts, Payload};
use pool::{Pool, Recipe};
pub use report::{LatencySummary, Refused, Report};

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
        return baseline::decode_baseline(&settings, &recipe, &pool);
    }
    send::send(settings, recipe, pool).await
}
