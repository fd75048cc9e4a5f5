//! The decode-only baseline (`--decode-baseline`): the least work any receiver must do per
//! item, measured on the same pool the generator would send.

use std::fmt;

use tokio::time::{Duration, Instant};

use super::args::Settings;
use super::pool::{Pool, Recipe, decompress};
use super::report::per_second;
use super::{LoadgenError, Payload, Report};
use crate::signal::Signal;

/// Decompresses and decodes the pool in a loop on this thread until the duration or item
/// budget is spent. Blocks the calling thread on purpose: the process is pinned to one core
/// by the benchmark and this loop is the whole measurement.
pub(super) fn decode_baseline(
    settings: &Settings,
    recipe: &Recipe,
    pool: &Pool,
) -> Result<Report, LoadgenError> {
    // The pool holds what the server receives: compressed bodies or messages.
    let bodies: Vec<(Vec<u8>, u64)> = (0..pool.full_len())
        .map(|slot| {
            let entry = pool.get(slot);
            (entry.body.to_vec(), entry.items)
        })
        .collect();
    let decode = |wire: &[u8]| decode_once(settings, recipe.json, wire);
    for (wire, items) in &bodies {
        if decode(wire)? != *items {
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
            items += decode(wire)?;
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

/// Decompresses and decodes one wire body the way a receiver must; returns the items found.
fn decode_once(settings: &Settings, json: bool, wire: &[u8]) -> Result<u64, LoadgenError> {
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
    let body =
        decompress(wire, settings.compression).map_err(|e| LoadgenError::Decode(e.into()))?;
    let payload = match settings.signal {
        Signal::Traces => Payload::Traces(decode(json, &body)?),
        Signal::Metrics => Payload::Metrics(decode(json, &body)?),
        Signal::Logs => Payload::Logs(decode(json, &body)?),
    };
    Ok(std::hint::black_box(payload).items() as u64)
}
