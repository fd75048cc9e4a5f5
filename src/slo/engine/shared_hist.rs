//! Open-slot latency histograms shared by the SLOs that recorded the same spans.
//!
//! SLOs that select the same rows of every request (see `shared.rs`) fill the finest slot
//! of each group with the same latencies: five such SLOs would insert every span's bucket
//! five times into five equal histograms. Instead, a slot's histogram can be a
//! [`SharedHist`]: an immutable base histogram and the runs of bucket indexes added since
//! (each run a selection slot's latencies, one bucket index each, shared by reference),
//! held behind an `Arc` by every slot whose contents it is.
//!
//! Adding a run is functional: the slot's histogram before (empty, or a `SharedHist`)
//! and the run give the histogram after. A [`Memo`], kept by the selection slot for one
//! request, remembers each (before, after) it computed, so the next SLO whose slot held
//! the same `before` (the same `Arc`, or empty) takes the same `after` without touching a
//! bucket. That is exact whatever the SLOs have seen: equal `before`s have equal
//! contents, and the run is the same. A slot whose histogram is private (written span by
//! span, restored from a snapshot) records the run into itself as before; a slot the only
//! holder of its `SharedHist` turns it back into a private histogram.
//!
//! The runs added since the base form a chain, newest first, that every later histogram
//! extends by one link: adding a run costs one link whatever the number of runs before
//! it. Once the runs hold as many indexes as the base has room for buckets (at least
//! [`FOLD_AT`]), they are folded into a new base (the old one cloned), so a fold's cost
//! is paid for by the indexes that triggered it, and the runs never take more memory than
//! twice what the base holds room for. Sealing a shared histogram ([`SharedHist::sealed`])
//! encodes it once for every holder.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use super::hist::SparseHist;

/// Bucket indexes kept in runs before they are folded, at least (or as many as the
/// base's buckets).
pub const FOLD_AT: usize = 1_024;

/// A run of bucket indexes ([`super::hist::index_of`]), one latency each.
pub type Run = Arc<[u32]>;

/// One run of a chain and the runs added before it (the finest slots' HDR runs here,
/// the lifetime native histograms' runs in `shared_native.rs`).
#[derive(Debug)]
pub(super) struct Link<R> {
    pub(super) run: R,
    pub(super) before: Option<Arc<Link<R>>>,
}

impl<R> Link<R> {
    /// The chain from `first` (the newest run) back to the oldest.
    pub(super) fn chain(first: Option<&Arc<Link<R>>>) -> impl Iterator<Item = &R> + '_ {
        let mut link = first.map(|l| &**l);
        std::iter::from_fn(move || {
            let l = link?;
            link = l.before.as_deref();
            Some(&l.run)
        })
    }
}

impl<R> Drop for Link<R> {
    /// Lets go of the links before this one in a loop: a long chain held by no one else
    /// is freed without a recursion per link.
    fn drop(&mut self) {
        let mut next = self.before.take();
        while let Some(link) = next {
            next = match Arc::try_unwrap(link) {
                Ok(mut l) => l.before.take(),
                Err(_) => None,
            };
        }
    }
}

/// A histogram held by several slots: `base` plus `runs`.
#[derive(Debug, Default)]
pub struct SharedHist {
    /// An open histogram (empty, a map or dense pages), never shared itself.
    base: Arc<SparseHist>,
    /// Buckets `base` holds room for ([`SparseHist::open_size`]): what copying it costs.
    base_len: usize,
    /// The runs added since `base`, newest first.
    runs: Option<Arc<Link<Run>>>,
    /// Runs in `runs`.
    links: usize,
    /// Indexes in `runs`.
    pending: usize,
    /// The sealed encoding, made by the first holder that seals.
    sealed: OnceLock<Arc<[u8]>>,
    /// The contents as one histogram, made by the first reader: the SLOs holding this
    /// histogram and each of their windows read it, and adding the runs index by index
    /// for every read cost more than making it once.
    contents: OnceLock<SparseHist>,
}

impl SharedHist {
    /// `self` with `run` added: a new histogram, `self` unchanged.
    fn with_run(&self, run: &Run) -> Self {
        let pending = self.pending + run.len();
        if pending < FOLD_AT.max(self.base_len) {
            return Self {
                base: self.base.clone(),
                base_len: self.base_len,
                runs: Some(Arc::new(Link {
                    run: run.clone(),
                    before: self.runs.clone(),
                })),
                links: self.links + 1,
                pending,
                sealed: OnceLock::new(),
                contents: OnceLock::new(),
            };
        }
        let mut base = SparseHist::clone(&self.base);
        for r in self.runs().chain(std::iter::once(&**run)) {
            base.record_index_run(r);
        }
        Self {
            base_len: base.open_size(),
            base: Arc::new(base),
            ..Self::default()
        }
    }

    /// The runs added since the base, newest first.
    fn runs(&self) -> impl Iterator<Item = &[u32]> + '_ {
        Link::chain(self.runs.as_ref()).map(|r| &**r)
    }

    /// The contents as a histogram of its own (`self` unchanged).
    pub fn to_private(&self) -> SparseHist {
        if let Some(h) = self.contents.get() {
            return h.clone();
        }
        let mut h = SparseHist::clone(&self.base);
        for r in self.runs() {
            h.record_index_run(r);
        }
        h
    }

    /// The contents as a histogram of its own, without copying what no one else holds.
    pub fn into_private(this: Arc<Self>) -> SparseHist {
        match Arc::try_unwrap(this) {
            Ok(mut s) => {
                let base = std::mem::take(&mut s.base);
                let mut h = Arc::try_unwrap(base).unwrap_or_else(|b| SparseHist::clone(&b));
                for r in s.runs() {
                    h.record_index_run(r);
                }
                h
            }
            Err(shared) => shared.to_private(),
        }
    }

    /// The contents as one histogram (never a shared one), made once for every reader.
    pub fn contents(&self) -> &SparseHist {
        self.contents.get_or_init(|| self.to_private())
    }

    /// The sealed encoding of the contents: made once (by `encode`, from the contents as a
    /// private histogram) for every holder.
    pub fn sealed(&self, encode: impl FnOnce(SparseHist) -> Arc<[u8]>) -> Arc<[u8]> {
        self.sealed
            .get_or_init(|| encode(self.to_private()))
            .clone()
    }

    /// Bytes held on the heap, shared with the other holders (the runs' links count
    /// whole for each histogram of the chain).
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.base.heap_bytes()
            + self.links * (std::mem::size_of::<Link<Run>>() + 2 * std::mem::size_of::<usize>())
            + self.pending * std::mem::size_of::<u32>()
            + self.sealed.get().map_or(0, |s| s.len())
            + self.contents.get().map_or(0, SparseHist::heap_bytes)
    }
}

/// What adding one run gave each shared histogram it was added to, for one request: the
/// histogram before (`None`: empty, or no shared part) and the one that gave.
/// The first (before, after) is kept in place: the SLOs sharing a selection mostly held
/// the same histogram before, and the memo then allocates nothing.
#[derive(Debug)]
pub struct Memo<T = SharedHist>(RefCell<Remembered<T>>);

/// The histogram a run was added to (`None`: empty, or none) and the one that gave.
type Added<T> = (Option<Arc<T>>, Arc<T>);

/// The first (before, after) a memo remembers, and the others.
type Remembered<T> = (Option<Added<T>>, Vec<Added<T>>);

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Self(RefCell::new((None, Vec::new())))
    }
}

impl<T> Clone for Memo<T> {
    /// A memo belongs to one request's selection slot or group: a copy starts empty.
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<T> Memo<T> {
    /// What adding the run to `before` gives: remembered when an earlier holder of the
    /// same `before` (the same `Arc`, or none) added it, else `add(before)` remembered.
    pub(super) fn after(
        &self,
        before: Option<Arc<T>>,
        add: impl FnOnce(Option<&Arc<T>>) -> T,
    ) -> Arc<T> {
        let mut memo = self.0.borrow_mut();
        let (first, rest) = &mut *memo;
        let found = first
            .iter()
            .chain(rest.iter())
            .find(|(b, _)| match (b, &before) {
                (None, None) => true,
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                _ => false,
            });
        if let Some((_, after)) = found {
            return after.clone();
        }
        let after = Arc::new(add(before.as_ref()));
        match first {
            None => *first = Some((before, after.clone())),
            Some(_) => rest.push((before, after.clone())),
        }
        after
    }
}

impl SparseHist {
    /// Adds `run` (a selection slot's pairs, see the module docs): shared with the other
    /// holders of the same histogram through `memo`, or recorded into a private one.
    pub fn record_run(&mut self, run: &Run, memo: &Memo) {
        let before = match self {
            SparseHist::Empty => None,
            SparseHist::Shared(s) if Arc::strong_count(s) > 1 => Some(s.clone()),
            SparseHist::Shared(_) => {
                // Held by this slot alone: its own again.
                if let SparseHist::Shared(s) = std::mem::take(self) {
                    *self = SharedHist::into_private(s);
                }
                return self.record_index_run(run);
            }
            _ => return self.record_index_run(run),
        };
        let after = memo.after(before, |b| match b {
            None => SharedHist::default().with_run(run),
            Some(b) => b.with_run(run),
        });
        *self = SparseHist::Shared(after);
    }
}

#[cfg(test)]
mod tests {
    use super::super::hist::index_of;
    use super::*;
    use std::collections::BTreeMap;

    fn run(rng: &mut fastrand::Rng, n: usize) -> Run {
        (0..n)
            .map(|_| {
                index_of(match rng.u8(..10) {
                    0 => rng.u64(..10_000_000_000_000),
                    _ => rng.u64(1_000_000..900_000_000),
                })
            })
            .collect()
    }

    fn contents(h: &SparseHist) -> BTreeMap<u64, u64> {
        let mut m = BTreeMap::new();
        for (k, c) in h.buckets() {
            *m.entry(k).or_insert(0) += c;
        }
        m
    }

    #[test]
    fn slots_that_saw_the_same_runs_share_one_histogram_equal_to_recording_each() {
        let mut rng = fastrand::Rng::with_seed(3);
        // Five slots; slot 4 misses some runs (another selection), slot 3 is written
        // span by span once, and all must hold what recording each run into a private
        // histogram holds.
        let mut shared: Vec<SparseHist> = vec![SparseHist::Empty; 5];
        let mut private: Vec<SparseHist> = vec![SparseHist::Empty; 5];
        let mut folds = 0;
        for i in 0..300 {
            let n = rng.usize(1..400);
            let r = run(&mut rng, n);
            let memo = Memo::default();
            for (s, (h, p)) in shared.iter_mut().zip(&mut private).enumerate() {
                if s == 4 && i % 7 == 0 {
                    continue;
                }
                h.record_run(&r, &memo);
                p.record_index_run(&r);
                if s == 3 && i == 150 {
                    h.record(5_000_000, 2);
                    p.record(5_000_000, 2);
                }
            }
            if let SparseHist::Shared(s) = &shared[0] {
                folds += usize::from(s.runs.is_none());
                // Runs are folded once they hold as many indexes as the base has room for.
                assert!(s.pending < FOLD_AT.max(s.base_len));
                assert_eq!(s.links, s.runs().count());
                assert_eq!(s.pending, s.runs().map(<[u32]>::len).sum::<usize>());
            }
            if i % 50 == 0 {
                for (h, p) in shared.iter().zip(&private) {
                    assert_eq!(contents(h), contents(p), "run {i}");
                }
            }
        }
        assert!(folds > 3, "{folds} folds");
        for (h, p) in shared.iter().zip(&private) {
            assert_eq!(contents(h), contents(p));
        }
        // Slots 0, 1 and 2 saw the same runs: one histogram.
        let (SparseHist::Shared(a), SparseHist::Shared(b)) = (&shared[0], &shared[2]) else {
            panic!("not shared: {:?}", std::mem::discriminant(&shared[0]));
        };
        assert!(Arc::ptr_eq(a, b));
        // Slot 3 left the sharing once written on its own; slot 4 never joined it.
        assert!(!matches!(shared[3], SparseHist::Shared(_)));
        // Sealed once for every holder, with the same contents.
        let mut sealed = shared.clone();
        for h in &mut sealed {
            h.seal();
        }
        for (h, p) in sealed.iter().zip(&private) {
            assert_eq!(contents(h), contents(p));
        }
        // Written again after sealing: reopened with every bucket.
        sealed[0].record(5_000_000, 1);
        let mut want = contents(&private[0]);
        *want
            .entry(super::super::hist::bucket_of(5_000_000))
            .or_insert(0) += 1;
        assert_eq!(contents(&sealed[0]), want);
    }

    #[test]
    fn a_slot_alone_with_its_shared_histogram_takes_it_back() {
        let mut rng = fastrand::Rng::with_seed(8);
        let mut h = SparseHist::Empty;
        let mut p = SparseHist::Empty;
        for _ in 0..20 {
            let r = run(&mut rng, 50);
            h.record_run(&r, &Memo::default());
            p.record_index_run(&r);
            // The memo is gone: the slot holds the histogram alone.
            assert!(!matches!(h, SparseHist::Empty));
        }
        assert!(!matches!(h, SparseHist::Shared(_)));
        assert_eq!(contents(&h), contents(&p));
    }
}
