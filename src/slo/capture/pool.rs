//! Buffers for metric requests, used again once written.
//!
//! A metric request is copied into a buffer of its own (a hundred kilobytes and more for
//! a few hundred points) that lives until the writer has written it, on another thread. A
//! fresh buffer each time is fresh memory each time: measured, the page faults and the
//! zeroing of new pages cost the receiving threads more than copying and compressing the
//! request. So a buffer goes back to the pool when its Arrow column is dropped, and the
//! next request is written into it; the pool keeps at most [`MAX_KEPT`] buffers and
//! [`MAX_KEPT_BYTES`] of them, the others are freed.

use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

use arrow_buffer::Buffer;

/// Buffers kept for use again, at most.
pub(super) const MAX_KEPT: usize = 32;
/// Bytes of buffers kept for use again, at most.
pub(super) const MAX_KEPT_BYTES: usize = 16 << 20;

#[derive(Debug, Default)]
pub(super) struct Pool {
    kept: Mutex<Vec<Vec<u8>>>,
}

impl Pool {
    /// An empty buffer, one used before when there is one.
    pub(super) fn take(&self) -> Vec<u8> {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.pop().unwrap_or_default()
    }

    /// Keeps `buffer` for use again, if the pool has room.
    pub(super) fn put(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let bytes: usize = kept.iter().map(Vec::capacity).sum();
        if kept.len() < MAX_KEPT && bytes + buffer.capacity() <= MAX_KEPT_BYTES {
            kept.push(buffer);
        }
    }

    #[cfg(test)]
    pub(super) fn kept(&self) -> usize {
        self.kept.lock().unwrap().len()
    }
}

/// A buffer lent to Arrow: back to its pool when the last column holding it is dropped.
struct Lent {
    buffer: Vec<u8>,
    pool: Arc<Pool>,
}

impl Drop for Lent {
    fn drop(&mut self) {
        self.pool.put(std::mem::take(&mut self.buffer));
    }
}

/// `buffer` (not empty) as an Arrow buffer, given back to `pool` once dropped.
pub(super) fn lend(buffer: Vec<u8>, pool: &Arc<Pool>) -> Buffer {
    let len = buffer.len();
    let Some(ptr) = NonNull::new(buffer.as_ptr().cast_mut()).filter(|_| len > 0) else {
        return Buffer::from_vec(buffer);
    };
    let owner = Arc::new(Lent {
        buffer,
        pool: pool.clone(),
    });
    // SAFETY: `ptr` points at the `len` initialized bytes of `owner`'s buffer, which owns
    // them and neither moves nor changes them until it is dropped (moving a `Vec` does not
    // move its heap allocation), and `owner` lives as long as the Arrow buffer.
    unsafe { Buffer::from_custom_allocation(ptr, len, owner) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lent_buffer_comes_back_once_dropped_and_the_pool_is_bounded() {
        let pool = Arc::new(Pool::default());
        let mut b = pool.take();
        b.extend_from_slice(b"request");
        let addr = b.as_ptr();
        let lent = lend(b, &pool);
        assert_eq!(lent.as_slice(), b"request");
        let copy = lent.clone();
        drop(lent);
        assert_eq!(pool.kept(), 0);
        drop(copy);
        assert_eq!(pool.kept(), 1);
        let again = pool.take();
        assert!(again.is_empty() && again.as_ptr() == addr);
        // Bounded by count and by bytes.
        for _ in 0..MAX_KEPT + 5 {
            pool.put(Vec::with_capacity(16));
        }
        assert_eq!(pool.kept(), MAX_KEPT);
        let pool = Pool::default();
        pool.put(Vec::with_capacity(MAX_KEPT_BYTES + 1));
        assert_eq!(pool.kept(), 0);
    }
}
