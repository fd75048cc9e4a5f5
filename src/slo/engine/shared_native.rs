//! Lifetime native histograms shared by the SLOs that recorded the same spans.
//!
//! SLOs that select the same rows of every request (see `shared.rs`) add the same native
//! buckets to their groups' lifetime histograms: five such SLOs would add every span's
//! bucket five times into five histograms. Instead, a group's lifetime histogram
//! ([`Lifetime`]) is its own [`NativeHist`] plus a part that can be held by several
//! groups: a [`SharedNative`], an immutable base histogram and the runs of buckets added
//! since (each run a selection group's buckets, shared by reference). The whole is the
//! sum of the two parts; counts, buckets and the nanosecond sum are sums, so it is what
//! recording every latency into one histogram gives, whatever each group held before.
//!
//! Adding a run is functional, as for the finest slots' HDR histograms
//! (`shared_hist.rs`): the shared part before (none, or a `SharedNative`) and the run give
//! the shared part after, and a [`NativeMemo`], kept by the selection group for one
//! request, remembers each (before, after) it computed, so the next SLO whose group held
//! the same shared part (the same `Arc`, or none) takes the same one after without adding
//! a bucket. A group the only holder of its shared part adds the run into it in place.
//!
//! The runs form a chain, newest first: adding one costs one link whatever the number
//! before it. Once they hold as many buckets as the base has counts (at least
//! [`FOLD_AT`]), they are folded into a new base (the old one cloned), so a fold's cost
//! is paid for by the buckets that triggered it.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use super::native::{Bucket, NativeHist, below_table, index_of_nanos_in};
use super::native_by_hdr::by_hdr;
use super::shared_hist::{Link, Memo};

/// Buckets kept in runs before they are folded, at least (or as many as the base has
/// counts).
pub const FOLD_AT: usize = 1_024;

/// The native buckets of a selection group's latencies (see `shared.rs`): built by
/// [`NativeRun::add_all`] while the group's slots are finished, then frozen behind an `Arc`
/// (moved, not copied) and shared by every histogram part that adds it.
#[derive(Debug, Clone)]
pub struct NativeRun {
    /// Each latency's bucket but those of zero, in any order.
    pub indexes: Vec<i32>,
    /// The lowest and highest of them.
    pub range: (i32, i32),
    /// The latencies of zero.
    pub zero: u64,
    /// The latencies added up, nanoseconds.
    pub nanos: u128,
}

impl Default for NativeRun {
    fn default() -> Self {
        Self {
            indexes: Vec::new(),
            range: (i32::MAX, i32::MIN),
            zero: 0,
            nanos: 0,
        }
    }
}

impl NativeRun {
    /// An empty run with room for `n` buckets.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            indexes: Vec::with_capacity(n),
            ..Self::default()
        }
    }

    /// Adds latencies of `latencies` nanoseconds (each one's bucket as
    /// [`super::native::Bucket::of`] finds it; the sum is added by the caller, once for
    /// the run).
    pub fn add_all(&mut self, latencies: &[u64]) {
        let table = below_table();
        let ((mut lo, mut hi), mut zero) = (self.range, self.zero);
        let at = self.indexes.len();
        if !latencies.contains(&0) {
            // One bucket a latency (no test a latency), then their range in a pass.
            self.indexes.extend(
                latencies
                    .iter()
                    .map(|&nanos| index_of_nanos_in(table, nanos)),
            );
            for &i in &self.indexes[at..] {
                lo = lo.min(i);
                hi = hi.max(i);
            }
            self.range = (lo, hi);
            return;
        }
        // (The range and zeros in locals: kept in the run, each latency's would wait for
        // the one before it through memory.)
        self.indexes.reserve(latencies.len());
        for &nanos in latencies {
            if nanos == 0 {
                zero += 1;
                continue;
            }
            let i = index_of_nanos_in(table, nanos);
            lo = lo.min(i);
            hi = hi.max(i);
            self.indexes.push(i);
        }
        (self.range, self.zero) = ((lo, hi), zero);
    }
}

impl NativeRun {
    /// [`NativeRun::add_all`] for latencies whose HDR buckets ([`super::hist::index_of`])
    /// are `hdr` (one each, in the same order): each native bucket found from its HDR
    /// bucket ([`super::native_by_hdr`]), the same as `add_all` finds it. Latencies without
    /// an HDR bucket (when `hdr` is shorter) are added by `add_all`.
    pub fn add_all_hdr(&mut self, latencies: &[u64], hdr: &[u32]) {
        let (with, without) = latencies.split_at(hdr.len().min(latencies.len()));
        let below = below_table();
        let table = by_hdr();
        let (mut lo, mut hi) = self.range;
        if !with.contains(&0) {
            // As in `add_all`: one bucket a latency, then their range in a pass.
            let at = self.indexes.len();
            self.indexes.extend(
                with.iter()
                    .zip(hdr)
                    .map(|(&nanos, &h)| table.index(below, h, nanos)),
            );
            for &i in &self.indexes[at..] {
                lo = lo.min(i);
                hi = hi.max(i);
            }
            self.range = (lo, hi);
        } else {
            self.add_hdr_with_zeros(with, hdr);
        }
        if !without.is_empty() {
            self.add_all(without);
        }
    }

    /// [`NativeRun::add_all_hdr`] for latencies some of which are zero.
    fn add_hdr_with_zeros(&mut self, with: &[u64], hdr: &[u32]) {
        let below = below_table();
        let table = by_hdr();
        let ((mut lo, mut hi), mut zero) = (self.range, self.zero);
        self.indexes.reserve(with.len());
        // (The range and zeros in locals, as in `add_all`.)
        for (&nanos, &h) in with.iter().zip(hdr) {
            if nanos == 0 {
                zero += 1;
                continue;
            }
            let i = table.index(below, h, nanos);
            lo = lo.min(i);
            hi = hi.max(i);
            self.indexes.push(i);
        }
        (self.range, self.zero) = ((lo, hi), zero);
    }
}

/// A frozen [`NativeRun`], shared by the chains that hold it.
pub type SharedRun = Arc<NativeRun>;

impl NativeHist {
    /// Records a run's latencies, one each.
    fn record_run(&mut self, run: &NativeRun) {
        self.record_indexes(&run.indexes, run.range, run.zero);
        self.add_nanos(run.nanos);
    }
}

/// A lifetime histogram part held by several groups: `base` plus `runs`.
#[derive(Debug, Default)]
pub struct SharedNative {
    base: Arc<NativeHist>,
    /// The runs added since `base`, newest first.
    runs: Option<Arc<Link<SharedRun>>>,
    /// Runs in `runs`.
    links: usize,
    /// Buckets (and latencies of zero) in `runs`.
    pending: usize,
    /// `base` with `runs` added, made by the first reader: every SLO holding this part
    /// reads it (the status, the series, snapshots), and adding the runs for each read
    /// cost more than making it once. Only while there are runs (else `base` is it).
    contents: OnceLock<NativeHist>,
}

impl SharedNative {
    /// `self` with `run` added: a new part, `self` unchanged.
    fn with_run(&self, run: &SharedRun) -> Self {
        let pending = self.pending + run.indexes.len() + 1;
        if pending < FOLD_AT.max(self.base.width()) {
            return Self {
                base: self.base.clone(),
                runs: Some(Arc::new(Link {
                    run: run.clone(),
                    before: self.runs.clone(),
                })),
                links: self.links + 1,
                pending,
                contents: OnceLock::new(),
            };
        }
        let mut base = NativeHist::clone(&self.base);
        for r in self.runs() {
            base.record_run(r);
        }
        base.record_run(run);
        Self {
            base: Arc::new(base),
            ..Self::default()
        }
    }

    /// Adds `run` in place (the part held by one group alone).
    fn add_run(&mut self, run: &NativeRun) {
        let runs = self.runs.take();
        self.links = 0;
        self.pending = 0;
        self.contents = OnceLock::new();
        let base = Arc::make_mut(&mut self.base);
        for r in Link::chain(runs.as_ref()) {
            base.record_run(r);
        }
        base.record_run(run);
    }

    /// The runs added since the base, newest first.
    fn runs(&self) -> impl Iterator<Item = &NativeRun> + '_ {
        Link::chain(self.runs.as_ref()).map(|r| &**r)
    }

    /// The contents as a histogram of its own, made from the base and the runs.
    pub fn to_hist(&self) -> NativeHist {
        let mut h = NativeHist::clone(&self.base);
        for r in self.runs() {
            h.record_run(r);
        }
        h
    }

    /// The contents as one histogram: the base when there are no runs, else made once
    /// for every reader.
    pub fn contents(&self) -> &NativeHist {
        if self.runs.is_none() {
            return &self.base;
        }
        self.contents.get_or_init(|| self.to_hist())
    }

    /// Bytes held on the heap, shared with the other holders.
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.base.heap_bytes()
            + self.links
                * (std::mem::size_of::<Link<SharedRun>>()
                    + std::mem::size_of::<NativeRun>()
                    + 4 * std::mem::size_of::<usize>())
            + self.pending * std::mem::size_of::<i32>()
            + self.contents.get().map_or(0, NativeHist::heap_bytes)
    }
}

/// What adding one run gave each shared part it was added to, for one request: `None`
/// stands for no shared part.
pub type NativeMemo = Memo<SharedNative>;

/// A group's lifetime native histogram: its own part and a part it may share with other
/// SLOs' groups (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct Lifetime {
    own: NativeHist,
    shared: Option<Arc<SharedNative>>,
}

impl Lifetime {
    /// The whole histogram: the own part, or both parts added up.
    pub fn get(&self) -> Cow<'_, NativeHist> {
        match &self.shared {
            None => Cow::Borrowed(&self.own),
            // (Adding the shared part to a part that never held anything gives the
            // shared part.)
            Some(s) if self.own == NativeHist::default() => Cow::Borrowed(s.contents()),
            Some(s) => {
                let mut h = self.own.clone();
                h.merge(s.contents());
                Cow::Owned(h)
            }
        }
    }

    /// Replaces the whole histogram (restored from a snapshot).
    pub fn set(&mut self, hist: NativeHist) {
        self.own = hist;
        self.shared = None;
    }

    /// Records `n` latencies of `nanos`.
    pub fn record(&mut self, nanos: u64, n: u64) {
        self.own.record(nanos, n);
    }

    /// Records `n` latencies whose bucket was found before ([`Bucket::of`]).
    pub fn record_at(&mut self, bucket: Bucket, n: u64) {
        self.own.record_at(bucket, n);
    }

    /// Adds `run` (a selection group's buckets): shared with the other holders of the
    /// same part through `memo`, or in place when this group holds its part alone.
    pub fn record_run(&mut self, run: &SharedRun, memo: &NativeMemo) {
        let before = match &mut self.shared {
            None => None,
            Some(s) => match Arc::get_mut(s) {
                Some(alone) => return alone.add_run(run),
                None => Some(s.clone()),
            },
        };
        self.shared = Some(memo.after(before, |b| match b {
            None => SharedNative::default().with_run(run),
            Some(b) => b.with_run(run),
        }));
    }

    /// Bytes held on the heap (a shared part in equal parts for its holders).
    pub fn heap_bytes(&self) -> usize {
        self.own.heap_bytes()
            + self
                .shared
                .as_ref()
                .map_or(0, |s| s.heap_bytes() / Arc::strong_count(s))
    }

    /// Whether part of the histogram is held with other groups.
    #[cfg(test)]
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::super::hist::index_of;
    use super::*;

    fn run(rng: &mut fastrand::Rng, n: usize) -> (SharedRun, Vec<u64>) {
        let latencies: Vec<u64> = (0..n)
            .map(|_| match rng.u8(..20) {
                0 => 0,
                1 => rng.u64(1..10_000_000_000_000),
                _ => rng.u64(1_000_000..900_000_000),
            })
            .collect();
        let mut r = NativeRun::with_capacity(n);
        // In parts, as a group's slots add theirs.
        let (a, b) = latencies.split_at(n / 3);
        r.add_all(a);
        r.add_all(b);
        r.nanos = latencies.iter().map(|&n| u128::from(n)).sum();
        (Arc::new(r), latencies)
    }

    #[test]
    fn runs_hold_each_latencys_bucket_with_or_without_zeros() {
        let mut rng = fastrand::Rng::with_seed(40);
        for i in 0..400 {
            let n = rng.usize(..300);
            // Every third run without a latency of zero (the one-pass way), the others
            // with some (latency by latency); added in parts.
            let latencies: Vec<u64> = (0..n)
                .map(|_| match rng.u8(..20) {
                    0 if i % 3 != 0 => 0,
                    1 => rng.u64(1..) >> rng.u32(0..64),
                    _ => rng.u64(1_000..2_000_000_000),
                })
                .collect();
            let mut run = NativeRun::with_capacity(n);
            let cut = rng.usize(..=n);
            run.add_all(&latencies[..cut]);
            run.add_all(&latencies[cut..]);
            // And by their HDR buckets, some latencies at the end without one.
            let hdr: Vec<u32> = latencies.iter().map(|&n| index_of(n)).collect();
            let mut by_hdr = NativeRun::with_capacity(n);
            let known = rng.usize(cut..=n);
            by_hdr.add_all_hdr(&latencies[..cut], &hdr[..cut]);
            by_hdr.add_all_hdr(&latencies[cut..], &hdr[cut..known]);
            assert_eq!(
                (&by_hdr.indexes, by_hdr.range, by_hdr.zero),
                (&run.indexes, run.range, run.zero),
                "run {i} by HDR buckets"
            );
            let mut want = NativeRun::default();
            for &nanos in &latencies {
                match Bucket::of(nanos).index {
                    None => want.zero += 1,
                    Some(i) => {
                        want.indexes.push(i);
                        want.range = (want.range.0.min(i), want.range.1.max(i));
                    }
                }
            }
            assert_eq!(
                (&run.indexes, run.range, run.zero),
                (&want.indexes, want.range, want.zero),
                "run {i}"
            );
        }
    }

    #[test]
    fn groups_that_saw_the_same_runs_share_one_part_equal_to_recording_each() {
        let mut rng = fastrand::Rng::with_seed(6);
        // Five groups; group 4 misses some runs (another selection), group 3 records a
        // latency on its own now and then, group 2 is restored from a snapshot once: each
        // must hold what recording every latency into one histogram holds.
        let mut shared: Vec<Lifetime> = vec![Lifetime::default(); 5];
        let mut private: Vec<NativeHist> = vec![NativeHist::default(); 5];
        let mut folds = 0;
        for i in 0..400 {
            let n = rng.usize(0..300);
            let (r, latencies) = run(&mut rng, n);
            let memo = NativeMemo::default();
            for (g, (h, p)) in shared.iter_mut().zip(&mut private).enumerate() {
                if g == 4 && i % 7 == 0 {
                    continue;
                }
                h.record_run(&r, &memo);
                for &n in &latencies {
                    p.record(n, 1);
                }
                if g == 3 && i % 11 == 0 {
                    h.record(5_000_000, 2);
                    p.record(5_000_000, 2);
                }
                if g == 2 && i == 200 {
                    h.set(p.clone());
                }
            }
            if let Some(s) = &shared[0].shared {
                folds += usize::from(s.runs.is_none());
                assert!(s.pending < FOLD_AT.max(s.base.width()));
                assert_eq!(s.links, s.runs().count());
            }
            if i % 50 == 0 || i % 7 == 3 {
                // Read twice: the second read borrows the contents the first made.
                for _ in 0..2 {
                    for (h, p) in shared.iter().zip(&private) {
                        assert_eq!(*h.get(), *p, "run {i}");
                    }
                }
                // A group with nothing of its own reads the shared part's contents
                // without a copy; one with latencies of its own adds them up.
                let borrowed = |h: &Lifetime| matches!(h.get(), Cow::Borrowed(_));
                assert!(borrowed(&shared[0]));
                assert!(!borrowed(&shared[3]));
            }
        }
        assert!(folds > 3, "{folds} folds");
        for (h, p) in shared.iter().zip(&private) {
            assert_eq!(*h.get(), *p);
            assert!(h.heap_bytes() > 0);
        }
        // Groups 0, 1 and 3 saw the same runs: one part (group 3's own latencies are in
        // its own part); group 2 started a part of its own once restored, group 4 never
        // joined theirs.
        let parts: Vec<_> = shared.iter().map(|h| h.shared.clone().unwrap()).collect();
        assert!(Arc::ptr_eq(&parts[0], &parts[1]));
        assert!(Arc::ptr_eq(&parts[0], &parts[3]));
        assert!(!Arc::ptr_eq(&parts[0], &parts[2]));
        assert!(!Arc::ptr_eq(&parts[0], &parts[4]));
    }

    #[test]
    fn a_group_alone_with_its_part_adds_runs_in_place() {
        let mut rng = fastrand::Rng::with_seed(9);
        let mut h = Lifetime::default();
        let mut p = NativeHist::default();
        for i in 0..30 {
            let (r, latencies) = run(&mut rng, 60);
            h.record_run(&r, &NativeMemo::default());
            for &n in &latencies {
                p.record(n, 1);
            }
            // The memo is gone: the group holds its part alone, and it has no runs
            // after the first.
            let s = h.shared.as_ref().unwrap();
            assert_eq!(Arc::strong_count(s), 1);
            assert_eq!(s.links, usize::from(i == 0));
            assert_eq!(*h.get(), p);
        }
        // Long chains are let go of without a recursion per link.
        let mut s = SharedNative::default();
        let r = Arc::new(NativeRun {
            indexes: vec![1],
            range: (1, 1),
            zero: 0,
            nanos: 1,
        });
        for _ in 0..200_000 {
            s = SharedNative {
                base: s.base.clone(),
                runs: Some(Arc::new(Link {
                    run: r.clone(),
                    before: s.runs.take(),
                })),
                links: s.links + 1,
                pending: s.pending + 2,
                contents: OnceLock::new(),
            };
        }
        assert_eq!(s.to_hist().count, 200_000);
        assert_eq!(s.contents().count, 200_000);
        drop(s);
    }
}
