//! Wall-clock time for event-time windows, injectable so tests control it.

use std::sync::atomic::{AtomicU64, Ordering};

/// A source of the current time in Unix nanoseconds.
pub trait Clock: Send + Sync {
    fn now_nanos(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_nanos(&self) -> u64 {
        crate::unix_time::now_nanos()
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    pub fn new(nanos: u64) -> Self {
        Self(AtomicU64::new(nanos))
    }

    pub fn set(&self, nanos: u64) {
        self.0.store(nanos, Ordering::SeqCst);
    }

    pub fn advance(&self, by: std::time::Duration) {
        self.0
            .fetch_add(crate::unix_time::nanos(by), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_nanos(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}
