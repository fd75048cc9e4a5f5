//! Lets readers of an SLO's state (`/metrics`, the API, snapshots) through between a
//! writer's chunks: see [`Turnstile`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Lets readers through between a writer's chunks. std's `Mutex` is not fair: a writer
/// that lets go of a lock and takes it again at once wins over a waiting reader, which
/// would then wait for the whole request after all. Readers announce themselves; between
/// chunks, a writer holding no lock yields until they are through (a bounded number of
/// times, so a stream of readers cannot stall it).
#[derive(Debug, Default)]
pub(super) struct Turnstile {
    waiting: AtomicUsize,
}

/// Yields a writer gives readers between two chunks at most, and for how long.
const MAX_YIELDS: usize = 2_000;
const MAX_PAUSE: Duration = Duration::from_millis(5);

impl Turnstile {
    /// Runs a reader, announced.
    pub(super) fn read<T>(&self, f: impl FnOnce() -> T) -> T {
        struct Announced<'a>(&'a AtomicUsize);
        impl Drop for Announced<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let _announced = Announced(&self.waiting);
        f()
    }

    /// Called by a writer holding no lock, between chunks: waits for announced readers,
    /// [`MAX_YIELDS`] yields or [`MAX_PAUSE`] at most.
    pub(super) fn let_readers_through(&self) {
        if self.waiting.load(Ordering::SeqCst) == 0 {
            return;
        }
        let until = tokio::time::Instant::now() + MAX_PAUSE;
        for _ in 0..MAX_YIELDS {
            std::thread::yield_now();
            if self.waiting.load(Ordering::SeqCst) == 0 || tokio::time::Instant::now() >= until {
                return;
            }
        }
    }
}
