//! Dense bucket counts for a busy open slot of a latency histogram.
//!
//! A slot that has seen many distinct HDR buckets (see [`super::hist`]) counts them in
//! pages of [`PAGE`] consecutive buckets, indexed by [`super::hist::index_of`]: recording
//! a latency is an index computation and an addition instead of a hash-map update. Pages
//! are allocated as buckets in them are first seen, over the range of pages seen so far
//! (at most 768 page slots: 1 µs to 1 h at 3 significant digits is
//! [`super::hist::INDEXES`] buckets), so a slot whose latencies cluster (as a service's
//! do) holds only the pages around them.

/// Buckets per page.
pub const PAGE: usize = 32;
type Page = [u64; PAGE];

/// Counts by bucket index, in pages over the range of pages seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dense {
    /// Page number of `pages[0]`.
    first: usize,
    pages: Vec<Option<Box<Page>>>,
}

impl Dense {
    /// Adds `count` to bucket `index`; an index past the range is counted in the last
    /// bucket (indexes come from [`super::hist::index_of`], which clamps).
    #[inline]
    pub fn add(&mut self, index: u32, count: u64) {
        let index = (index as usize).min(super::hist::INDEXES - 1);
        let page = index / PAGE;
        if page < self.first || page >= self.first + self.pages.len() {
            self.cover(page);
        }
        if let Some(p) = self.pages.get_mut(page - self.first) {
            let p = p.get_or_insert_with(|| Box::new([0; PAGE]));
            let c = &mut p[index % PAGE];
            *c = c.saturating_add(count);
        }
    }

    /// Adds each (bucket index, count) of `pairs`.
    pub fn add_all(&mut self, pairs: &[(u32, u64)]) {
        for (index, count) in pairs {
            self.add(*index, *count);
        }
    }

    /// Adds one to the bucket of each index of `indexes`: in place where its page is
    /// allocated (most indexes of a busy slot, whose latencies cluster), else as
    /// [`Dense::add`] counts it.
    pub fn add_ones(&mut self, indexes: &[u32]) {
        for &index in indexes {
            let i = (index as usize).min(super::hist::INDEXES - 1);
            // (A page before `first` wraps past the table: not found.)
            match self.pages.get_mut((i / PAGE).wrapping_sub(self.first)) {
                Some(Some(p)) => {
                    let c = &mut p[i % PAGE];
                    *c = c.saturating_add(1);
                }
                _ => self.add(index, 1),
            }
        }
    }

    /// Widens the page table to hold `page` (< [`PAGES`]).
    #[cold]
    fn cover(&mut self, page: usize) {
        if self.pages.is_empty() {
            self.first = page;
            self.pages.push(None);
        } else if page < self.first {
            let grow = self.first - page;
            self.pages.splice(0..0, std::iter::repeat_n(None, grow));
            self.first = page;
        } else {
            self.pages.resize(page - self.first + 1, None);
        }
    }

    /// (bucket index, count) of every bucket counted, ascending.
    pub fn pairs(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.pages.iter().enumerate().flat_map(move |(i, p)| {
            let base = (self.first + i) * PAGE;
            p.iter().flat_map(move |p| {
                p.iter()
                    .enumerate()
                    .filter(|(_, c)| **c > 0)
                    .map(move |(j, c)| ((base + j) as u32, *c))
            })
        })
    }

    /// Every page allocated, with its first bucket's index, ascending.
    pub fn pages(&self) -> impl Iterator<Item = (usize, &Page)> + '_ {
        self.pages
            .iter()
            .enumerate()
            .filter_map(move |(i, p)| p.as_deref().map(|p| ((self.first + i) * PAGE, p)))
    }

    /// Buckets of the pages allocated.
    pub fn room(&self) -> usize {
        self.pages.iter().flatten().count() * PAGE
    }

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.pages.capacity() * std::mem::size_of::<Option<Box<Page>>>()
            + self.pages.iter().flatten().count() * std::mem::size_of::<Page>()
    }
}

#[cfg(test)]
mod tests {
    use super::super::hist::{
        HIGHEST_NANOS, INDEXES, LOWEST_NANOS, SparseHist, bucket_of, index_of, key_of_index,
    };
    use super::*;

    #[test]
    fn counts_come_back_ascending_whatever_the_order_they_came_in() {
        let mut rng = fastrand::Rng::with_seed(4);
        let mut d = Dense::default();
        let mut want = std::collections::BTreeMap::new();
        for _ in 0..5_000 {
            let i = match rng.u8(..4) {
                0 => rng.u32(..INDEXES as u32),
                _ => rng.u32(9_000..9_400),
            };
            let c = rng.u64(1..4);
            d.add(i, c);
            *want.entry(i).or_insert(0) += c;
        }
        assert_eq!(
            d.pairs().collect::<Vec<_>>(),
            want.into_iter().collect::<Vec<_>>()
        );
        // Past the range: the last bucket, never a panic.
        d.add(u32::MAX, 1);
        let last = (INDEXES - 1) as u32;
        assert!(d.pairs().any(|(i, _)| i == last));
        let pages = INDEXES.div_ceil(PAGE);
        assert_eq!(pages, 768);
        assert!(d.heap_bytes() <= pages * (8 + std::mem::size_of::<Page>()));
    }

    #[test]
    fn ones_added_at_once_equal_ones_added_one_by_one() {
        let mut rng = fastrand::Rng::with_seed(21);
        for round in 0..200 {
            let mut at_once = Dense::default();
            let mut each = Dense::default();
            // Some pages first (none in the first rounds), then runs around and away from
            // them: pages allocated, in range but not allocated, before and after the
            // range, and indexes past the last bucket.
            for _ in 0..rng.usize(..4) {
                let i = rng.u32(..INDEXES as u32);
                at_once.add(i, 2);
                each.add(i, 2);
            }
            for _ in 0..rng.usize(1..6) {
                let centre = rng.u32(..INDEXES as u32);
                let run: Vec<u32> = (0..rng.usize(..300))
                    .map(|_| match rng.u8(..20) {
                        0 => u32::MAX - rng.u32(..3),
                        1 => rng.u32(..INDEXES as u32 + 100),
                        _ => centre.saturating_add(rng.u32(..200)).saturating_sub(100),
                    })
                    .collect();
                at_once.add_ones(&run);
                for i in &run {
                    each.add(*i, 1);
                }
                assert_eq!(at_once, each, "round {round}");
            }
        }
    }

    #[test]
    fn dense_indexes_are_the_hdrhistogram_buckets() {
        // Every bucket of the first powers of two, then random values over the range and
        // each power of two's neighbours.
        let mut rng = fastrand::Rng::with_seed(9);
        let values = (0..3_000_000)
            .chain((0..200_000).map(|_| rng.u64(..2 * HIGHEST_NANOS)))
            .chain((10..43).flat_map(|m| {
                let p = 1u64 << m;
                [p - 1, p, p + 1]
            }))
            .chain([u64::MAX, HIGHEST_NANOS, HIGHEST_NANOS + 1]);
        let mut last = (0u64, 0u32);
        for v in values {
            let i = index_of(v);
            assert_eq!(key_of_index(i), bucket_of(v), "v={v}");
            assert!((i as usize) < INDEXES);
            // Consecutive values: the same bucket or the next, from the first index on.
            if last.0.checked_add(1) == Some(v) && v > LOWEST_NANOS {
                assert!(i == last.1 || i == last.1 + 1, "v={v}");
            }
            last = (v, i);
        }
        assert_eq!(index_of(LOWEST_NANOS), 1);
        // The last power of two's buckets end the range.
        assert!((INDEXES - 1_024..INDEXES).contains(&(index_of(HIGHEST_NANOS) as usize)));
    }

    #[test]
    fn busy_slots_count_densely_and_answer_as_a_map_would() {
        let mut rng = fastrand::Rng::with_seed(12);
        let mut h = SparseHist::default();
        let mut want: std::collections::BTreeMap<u64, u64> = Default::default();
        for i in 0..20_000 {
            let v = if i % 50 == 0 {
                rng.u64(..2 * HIGHEST_NANOS)
            } else {
                rng.u64(1_000_000..900_000_000)
            };
            h.record(v, 1);
            *want.entry(bucket_of(v)).or_insert(0) += 1;
            if i == 100 {
                assert!(matches!(h, SparseHist::Open(_)));
            }
            if i == 5_000 {
                // Sealed and written again: reopened dense.
                h.seal();
            }
        }
        assert!(matches!(h, SparseHist::Dense(_)));
        let got: std::collections::BTreeMap<u64, u64> = h.buckets().into_iter().collect();
        assert_eq!(got, want);
        let mut sealed = h.clone();
        sealed.seal();
        let back: std::collections::BTreeMap<u64, u64> = sealed.buckets().into_iter().collect();
        assert_eq!(back, want);
        let mut into = SparseHist::default();
        h.add_into(&mut into);
        h.add_into(&mut into);
        let twice: std::collections::BTreeMap<u64, u64> = into.buckets().into_iter().collect();
        assert_eq!(twice, want.iter().map(|(k, c)| (*k, 2 * c)).collect());
    }
}
