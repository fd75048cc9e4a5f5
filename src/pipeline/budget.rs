//! The process-wide memory budget: every request in flight and every batch in a pipeline
//! queue holds a charge for the memory its decoded form takes, taken before decoding.
//!
//! The receiver bounds a request's decoded size on the wire (`receiver::wire`), takes a
//! [`Charge`] of that size, and hands the charge to the pipeline with the batch; it is
//! returned when the last stage is done with the batch. A trace request queued as received
//! carries the span facts the receiver's walk built for the SLO engine instead of a
//! decoded form; their columns' size is known once built and is merged into the request's
//! charge ([`Charge::merge`]) before the batch is queued. A request that does not fit now is
//! refused with retry-later; one larger than a request may ever be is refused for good.

use std::sync::Arc;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::time::Instant;

/// The budget, shared by every receiver and pipeline.
#[derive(Clone, Debug)]
pub struct MemoryBudget {
    permits: Arc<Semaphore>,
    capacity: usize,
    /// When a charge was last refused for want of room (ms since `epoch`, 0 = never).
    last_refusal_ms: Arc<AtomicU64>,
    epoch: Instant,
}

/// Memory held against the budget; returned on drop.
#[derive(Debug)]
pub struct Charge {
    _permit: OwnedSemaphorePermit,
    bytes: usize,
}

impl Charge {
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Holds `other` as part of this charge.
    pub fn merge(&mut self, other: Charge) {
        self._permit.merge(other._permit);
        self.bytes += other.bytes;
    }
}

/// Why a charge was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    /// The budget is in use by other requests: retry later.
    #[error("memory budget in use ({used} of {capacity} bytes), {wanted} more wanted")]
    Busy {
        wanted: usize,
        used: usize,
        capacity: usize,
    },
    /// More than the whole budget: never fits.
    #[error("decoding would take {wanted} bytes, more than the memory budget of {capacity}")]
    TooLarge { wanted: usize, capacity: usize },
}

impl MemoryBudget {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            permits: Arc::new(Semaphore::new(capacity)),
            capacity,
            last_refusal_ms: Arc::new(AtomicU64::new(0)),
            epoch: Instant::now(),
        }
    }

    /// Takes `bytes` from the budget without waiting.
    pub fn try_charge(&self, bytes: usize) -> Result<Charge, BudgetError> {
        if bytes > self.capacity {
            return Err(BudgetError::TooLarge {
                wanted: bytes,
                capacity: self.capacity,
            });
        }
        // The semaphore takes at most u32::MAX permits at once: a larger charge is taken in
        // parts and merged.
        let mut taken: Option<OwnedSemaphorePermit> = None;
        let mut left = bytes;
        while left > 0 || taken.is_none() {
            let part = left.min(u32::MAX as usize);
            match self.permits.clone().try_acquire_many_owned(part as u32) {
                Ok(p) => match &mut taken {
                    Some(t) => t.merge(p),
                    None => taken = Some(p),
                },
                Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => {
                    let now = self.epoch.elapsed().as_millis() as u64;
                    self.last_refusal_ms.store(now.max(1), Ordering::Relaxed);
                    return Err(BudgetError::Busy {
                        wanted: bytes,
                        used: self.used(),
                        capacity: self.capacity,
                    });
                }
            }
            left -= part;
        }
        Ok(Charge {
            _permit: taken.expect("at least one part is taken"),
            bytes,
        })
    }

    /// Bytes charged now.
    pub fn used(&self) -> usize {
        self.capacity
            .saturating_sub(self.permits.available_permits())
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether a charge was refused for want of room within the last `window`.
    pub fn refused_within(&self, window: Duration) -> bool {
        let last = self.last_refusal_ms.load(Ordering::Relaxed);
        last != 0
            && (self.epoch.elapsed().as_millis() as u64).saturating_sub(last)
                < window.as_millis() as u64
    }

    /// Fraction in use, 0.0 to 1.0.
    pub fn fill_ratio(&self) -> f64 {
        self.used() as f64 / self.capacity as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_come_back_on_drop_and_oversize_is_permanent() {
        let b = MemoryBudget::new(1000);
        let a = b.try_charge(600).unwrap();
        assert_eq!(b.used(), 600);
        assert!(matches!(b.try_charge(500), Err(BudgetError::Busy { .. })));
        assert!(matches!(
            b.try_charge(1001),
            Err(BudgetError::TooLarge { .. })
        ));
        assert!(b.refused_within(Duration::from_secs(5)));
        drop(a);
        assert_eq!(b.used(), 0);
        let c = b.try_charge(1000).unwrap();
        assert_eq!(c.bytes(), 1000);
        let zero = MemoryBudget::new(10).try_charge(0).unwrap();
        assert_eq!(zero.bytes(), 0);
    }

    #[test]
    fn charges_past_u32_are_taken_in_parts() {
        let big = 6usize << 30;
        let b = MemoryBudget::new(big + 10);
        let c = b.try_charge(big).unwrap();
        assert_eq!(b.used(), big);
        drop(c);
        assert_eq!(b.used(), 0);
    }
}
