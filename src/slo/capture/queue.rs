//! The hand-over of requests' facts from the receiving threads to the writer thread: a
//! bounded list under a mutex, which the writer empties in one go.
//!
//! The writer is woken only once the list holds [`WAKE_ROWS`] rows or [`WAKE_BYTES`] bytes
//! of metric requests (or on closing); short of that it takes what came at its next tick
//! (at most a second later). A channel woke it
//! for every request: a futex call on the receiving thread and a switch to the writer and
//! back per request, for a thread that only puts the request aside until a message's rows
//! have come. The receiving thread's cost per request is now a lock without contention
//! (the writer holds it only to swap the list for an empty one) and a push.
//!
//! Requests' facts come back the same way once written ([`Queue::take`]'s `spent`): each
//! push takes up to [`DROPS_PER_PUSH`] of them out of the list and drops them on the
//! receiving thread, which allocated their buffers. Freed on the writer thread, each of a
//! batch's buffers was a free from another thread (an atomic push onto its page's list,
//! collected later by the receiving thread's allocator): 4.5 ns a span on the writer and
//! 4 ns more on the receiving thread.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use super::Item;

/// Rows queued that wake the writer before its tick: a message's worth
/// (`writer::COALESCE_ROWS`).
pub(super) const WAKE_ROWS: usize = super::writer::COALESCE_ROWS;

/// Bytes of metric requests queued that wake the writer before its tick: what it writes
/// as a message (`writer::PENDING_METRIC_BYTES`). A metric request is one row, so by rows
/// alone thousands of them (a second's worth, hundreds of MiB at full load) waited for
/// the tick: the receiving threads' allocator then handed out fresh memory for every
/// request, and the kernel zeroed its pages.
pub(super) const WAKE_BYTES: u64 = super::writer::PENDING_METRIC_BYTES;

/// Written requests a push takes back to drop: more than one a push, so that the list
/// empties between the writer's rounds.
const DROPS_PER_PUSH: usize = 2;

/// Why a request's facts were not queued.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refused {
    /// The queue holds its bound of requests: dropped (and counted by the caller).
    Full,
    /// The capture is closing.
    Closed,
}

struct State {
    items: Vec<Item>,
    rows: usize,
    /// Bytes of the metric requests among `items`.
    bytes: u64,
    open: bool,
    /// Requests written, for pushes to drop.
    spent: Vec<Item>,
}

pub(super) struct Queue {
    state: Mutex<State>,
    ready: Condvar,
    /// Requests that may wait; more are refused.
    bound: usize,
}

impl State {
    /// Whether enough waits to wake the writer before its tick.
    fn due(&self) -> bool {
        self.rows >= WAKE_ROWS || self.bytes >= WAKE_BYTES
    }
}

impl Queue {
    pub(super) fn new(bound: usize) -> Self {
        Queue {
            state: Mutex::new(State {
                items: Vec::new(),
                rows: 0,
                bytes: 0,
                open: true,
                spent: Vec::new(),
            }),
            ready: Condvar::new(),
            bound,
        }
    }

    /// Queues a request's facts; the writer is woken when they make [`WAKE_ROWS`] rows or
    /// [`WAKE_BYTES`] bytes.
    /// Drops up to [`DROPS_PER_PUSH`] requests the writer has written, after the lock.
    pub(super) fn push(&self, item: Item) -> Result<(), Refused> {
        let rows = item.batch.num_rows();
        let bytes = item.charged;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let spent: [Option<Item>; DROPS_PER_PUSH] = std::array::from_fn(|_| state.spent.pop());
        if !state.open {
            return Err(Refused::Closed);
        }
        if state.items.len() >= self.bound {
            return Err(Refused::Full);
        }
        state.items.push(item);
        let was_due = state.due();
        state.rows += rows;
        state.bytes += bytes;
        let wake = !was_due && state.due();
        drop(state);
        if wake {
            self.ready.notify_one();
        }
        drop(spent);
        Ok(())
    }

    /// No more requests: the writer takes what is queued and ends.
    pub(super) fn close(&self) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).open = false;
        self.ready.notify_one();
    }

    /// Waits at most `wait` for [`WAKE_ROWS`] rows or [`WAKE_BYTES`] bytes (or the closing), then moves what is
    /// queued into `into` (empty; its capacity is kept for the next requests). Hands the
    /// requests written since (`spent`) to the pushes to drop, unless those of the last
    /// round are still there (little traffic): then `spent` keeps them, for the writer to
    /// drop. Whether the queue is still open.
    pub(super) fn take(&self, into: &mut Vec<Item>, wait: Duration, spent: &mut Vec<Item>) -> bool {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (mut state, _) = self
            .ready
            .wait_timeout_while(state, wait, |s| s.open && !s.due())
            .unwrap_or_else(|p| p.into_inner());
        std::mem::swap(&mut state.items, into);
        state.rows = 0;
        state.bytes = 0;
        if state.spent.is_empty() && state.open {
            std::mem::swap(&mut state.spent, spent);
        }
        state.open
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Int32Array, RecordBatch};
    use std::sync::Arc;

    fn item(rows: usize) -> Item {
        let column = Arc::new(Int32Array::from(vec![0; rows]));
        Item {
            batch: RecordBatch::try_from_iter([("c", column as _)]).unwrap(),
            kind: super::super::Kind::Spans,
            charged: 0,
            received: rows as u64,
            tenant: None,
        }
    }

    #[test]
    fn requests_come_out_in_order_and_the_bound_refuses_more() {
        let queue = Queue::new(3);
        for rows in [1, 2, 3] {
            assert_eq!(queue.push(item(rows)), Ok(()));
        }
        assert_eq!(queue.push(item(4)), Err(Refused::Full));
        let mut out = Vec::new();
        // Fewer rows than wake the writer: taken once the wait is over.
        assert!(queue.take(&mut out, Duration::from_millis(1), &mut Vec::new()));
        let received: Vec<u64> = out.iter().map(|i| i.received).collect();
        assert_eq!(received, [1, 2, 3]);
        out.clear();
        assert_eq!(queue.push(item(5)), Ok(()));
        queue.close();
        assert_eq!(queue.push(item(6)), Err(Refused::Closed));
        assert!(!queue.take(&mut out, Duration::from_secs(60), &mut Vec::new()));
        assert_eq!(out.len(), 1);
    }

    /// A writer that waits an hour for its tick: what it took, once woken.
    fn writer(queue: &Arc<Queue>) -> std::thread::JoinHandle<Vec<Item>> {
        let queue = queue.clone();
        std::thread::spawn(move || {
            let mut out = Vec::new();
            queue.take(&mut out, Duration::from_secs(3600), &mut Vec::new());
            out
        })
    }

    #[test]
    fn a_message_of_rows_wakes_the_writer_before_its_tick() {
        let queue = Arc::new(Queue::new(1024));
        let writer = writer(&queue);
        for _ in 0..WAKE_ROWS / 512 {
            assert_eq!(queue.push(item(512)), Ok(()));
        }
        // An hour's wait would fail the test's time limit: the rows woke it.
        let taken = writer.join().unwrap();
        assert_eq!(
            taken.iter().map(|i| i.batch.num_rows()).sum::<usize>(),
            WAKE_ROWS
        );
    }

    #[test]
    fn a_message_of_metric_bytes_wakes_the_writer_before_its_tick() {
        let queue = Arc::new(Queue::new(1024));
        let writer = writer(&queue);
        // Metric requests are a row each: two of half the bytes wake the writer.
        for _ in 0..2 {
            let mut request = item(1);
            request.kind = super::super::Kind::Metrics;
            request.charged = WAKE_BYTES / 2;
            assert_eq!(queue.push(request), Ok(()));
        }
        // An hour's wait would fail the test's time limit: the bytes woke it.
        assert_eq!(writer.join().unwrap().len(), 2);
    }

    #[test]
    fn written_requests_are_dropped_by_the_pushes_after_the_writers_next_round() {
        let queue = Queue::new(16);
        let column = Arc::new(Int32Array::from(vec![0; 8]));
        let written = |n: usize| -> Vec<Item> {
            (0..n)
                .map(|_| Item {
                    batch: RecordBatch::try_from_iter([("c", column.clone() as _)]).unwrap(),
                    kind: super::super::Kind::Spans,
                    charged: 0,
                    received: 0,
                    tenant: None,
                })
                .collect()
        };
        let mut out = Vec::new();
        let mut spent = written(3);
        assert_eq!(Arc::strong_count(&column), 4);
        assert!(queue.take(&mut out, Duration::from_millis(1), &mut spent));
        // Handed over: the writer holds none of them.
        assert!(spent.is_empty());
        assert_eq!(Arc::strong_count(&column), 4);
        // Each push drops up to two of them.
        assert_eq!(queue.push(item(1)), Ok(()));
        assert_eq!(Arc::strong_count(&column), 2);
        // The last round's are not all dropped yet: the writer keeps (and drops) the next.
        let mut more = written(2);
        assert!(queue.take(&mut out, Duration::from_millis(1), &mut more));
        assert_eq!(more.len(), 2);
        more.clear();
        assert_eq!(queue.push(item(1)), Ok(()));
        assert_eq!(Arc::strong_count(&column), 1);
        // Pushes refused still drop the written ones; on closing, the writer keeps them.
        let mut last = written(1);
        assert!(queue.take(&mut out, Duration::from_millis(1), &mut last));
        queue.close();
        assert_eq!(queue.push(item(1)), Err(Refused::Closed));
        assert_eq!(Arc::strong_count(&column), 1);
        let mut closing = written(1);
        assert!(!queue.take(&mut out, Duration::from_millis(1), &mut closing));
        assert_eq!(closing.len(), 1);
    }
}
