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

    /// Bytes held on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.pages.capacity() * std::mem::size_of::<Option<Box<Page>>>()
            + self.pages.iter().flatten().count() * std::mem::size_of::<Page>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_come_back_ascending_whatever_the_order_they_came_in() {
        let mut rng = fastrand::Rng::with_seed(4);
        let mut d = Dense::default();
        let mut want = std::collections::BTreeMap::new();
        for _ in 0..5_000 {
            let i = match rng.u8(..4) {
                0 => rng.u32(..super::super::hist::INDEXES as u32),
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
        let last = (super::super::hist::INDEXES - 1) as u32;
        assert!(d.pairs().any(|(i, _)| i == last));
        let pages = super::super::hist::INDEXES.div_ceil(PAGE);
        assert_eq!(pages, 768);
        assert!(d.heap_bytes() <= pages * (8 + std::mem::size_of::<Page>()));
    }
}
