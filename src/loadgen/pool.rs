//! The request pool: distinct, encoded (and compressed) requests built before the
//! clock starts, and the background task that keeps their timestamps current.
//!
//! Entries are built from a [`Recipe`] and are deterministic per seed, slot and refresh
//! round. Replacing an entry is a single assignment under its lock, so a reader always gets
//! a whole request, old or new.

use std::sync::{Arc, RwLock};

use bytes::Bytes;
use tokio::time::{Duration, Instant};

use super::LoadgenError;
use super::args::{Encoding, Settings};
use super::generate::{ContentOpts, Payload};
use crate::signal::{Compression, Protocol, Signal};

/// How many distinct requests the pool holds at most.
const POOL_REQUESTS: usize = 64;
/// The pool holds at most about this many items in total.
const POOL_ITEMS: usize = 1_000_000;
/// Every pool entry is regenerated with fresh timestamps once per this period.
const REFRESH_PERIOD: Duration = Duration::from_secs(30);

/// Everything needed to build one pool entry.
#[derive(Debug, Clone)]
pub(crate) struct Recipe {
    signal: Signal,
    /// JSON bodies (OTLP/HTTP with `--encoding json`), else protobuf.
    pub(super) json: bool,
    /// Compress the body here, once, as the wire carries it (the HTTP body or the gRPC
    /// message), so the load generator's core does not compress per request.
    compression: Compression,
    pub(super) content: ContentOpts,
    seed: u64,
}

impl From<&Settings> for Recipe {
    fn from(s: &Settings) -> Self {
        let http = s.protocol == Protocol::Http;
        Self {
            signal: s.signal,
            json: http && s.encoding == Encoding::Json,
            compression: s.compression,
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
        let body = self
            .compression
            .compress(&encoded)
            .map_err(LoadgenError::Compress)?;
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
    pub(super) fn build(recipe: &Recipe, settings: &Settings) -> Result<Self, LoadgenError> {
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
    pub(super) fn full_len(&self) -> usize {
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

    pub(super) fn get(&self, slot: usize) -> Prepared {
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

/// Decompresses a whole body the way the receiver does (one call, sized from the size the
/// body states), so that the decode-only baseline gets the same gunzip the server has.
pub(super) fn decompress(data: &[u8], compression: Compression) -> std::io::Result<Vec<u8>> {
    use crate::receiver::inflate;
    let mut out = inflate::Out::new(MAX_DECOMPRESSED, |_| true);
    let done = match compression {
        Compression::None => return Ok(data.to_vec()),
        Compression::Gzip => inflate::gzip(data, &mut out),
        Compression::Zstd => inflate::zstd(data, &mut out),
    };
    let buf = out.buf;
    done.map(|()| buf)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{e:?}")))
}

/// The most a pool body decompresses to here (the generator makes far smaller ones).
const MAX_DECOMPRESSED: usize = 256 << 20;

/// Regenerates one pool entry at a time so that every entry is rebuilt once per
/// [`REFRESH_PERIOD`] with current timestamps. Runs until stopped.
pub(super) async fn refresh_periodically(pool: Arc<Pool>, recipe: Recipe) {
    let step = (REFRESH_PERIOD / pool.len().max(1) as u32).max(Duration::from_millis(50));
    let mut ticker = tokio::time::interval_at(Instant::now() + step, step);
    let recipe = Arc::new(recipe);
    for round in 1u64.. {
        for slot in 0..pool.len() {
            ticker.tick().await;
            let (pool, recipe) = (Arc::clone(&pool), Arc::clone(&recipe));
            // A failure leaves the old entry in place; it is still a valid request.
            let _ = tokio::task::spawn_blocking(move || pool.refresh(&recipe, slot, round)).await;
        }
    }
}
