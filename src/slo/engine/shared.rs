//! Recording a request's spans once for every span SLO that selects the same rows.
//!
//! Span SLOs often select the same spans of a request (every server span, every span of a
//! service) and differ only in which of them are good. A [`Selection`] is the part of
//! recording that does not depend on goodness, found once per request for every SLO
//! whose `where` selects exactly its rows: the spans dropped as late or in the future, the
//! groups (runs of rows of one cluster, in request order), and per group its spans by slot
//! of the finest ring, each slot's latencies with their HDR buckets and the counts at or
//! below the fixed classic bounds, and the group's native buckets. Each SLO then adds a
//! group's native buckets and a slot's counts, buckets and classic buckets at once
//! ([`GroupState::record_selected`]) instead of recording span by span (a coarser ring
//! whose one slot holds all of a group's finest slots takes the group's counts in one
//! addition), the SLOs' finest slots that held the same histogram share the one the
//! slot's buckets make (`shared_hist.rs`), and their groups' lifetime native histograms
//! share the part the group's native buckets make (`shared_native.rs`).
//!
//! The result is exactly that of recording each span in order (`record.rs` explains why
//! recording one finest slot at a time is exact when the group's spans fall in at most
//! [`MAX_SLOTS`] slots the finest ring holds before and after them): counts are sums,
//! histogram buckets are counts per bucket (in any order), the native histogram's dense
//! range ends the same whichever index comes first, and its sum is whole nanoseconds. A
//! group whose spans the finest ring cannot take one slot at a time, or that keeps raw
//! counts or time slices, is recorded span by span as before.
//!
//! Only SLOs without `group_by`, adjusted counts, exclusions covering the request or a
//! write-ahead log share a selection (`spans.rs` checks); the others record span by span.

use arrow_array::{Array, BooleanArray};
use arrow_buffer::BooleanBuffer;

use super::hist::index_of;
use super::record::{Latencies, MAX_SLOTS, SpanEvent};
use super::shared_hist::{Memo, Run};
use super::shared_native::{NativeMemo, NativeRun, SharedRun};
use super::state::{FINE_OPEN_SLOTS, GroupKey, GroupState, KnownBounds, SloState};
use super::{Dropped, LATENCY_LADDER};
use crate::slo::facts::SpanFacts;

/// The spans of one group in one finest slot.
#[derive(Debug, Clone, Default)]
pub struct SelectedSlot {
    /// The slot's id in the finest ring and its time range `[start, end)`.
    pub id: u64,
    pub range: (u64, u64),
    /// The end time of the slot's first span.
    pub first_t: u64,
    /// The rows as a bitmap over the request: bit `r % 64` of word `r / 64` is row `r`.
    pub mask: Vec<u64>,
    /// The rows' latencies (nanoseconds), in request order.
    pub latencies: Vec<u64>,
    /// Each latency's HDR bucket ([`super::hist::index_of`]).
    pub hdr: Run,
    /// What adding `hdr` gave each SLO's finest slot (see `shared_hist.rs`).
    pub memo: Memo,
    /// How many latencies are at or below each bound of [`ladder`] (every SLO's classic
    /// buckets have these bounds).
    pub ladder_at: [usize; LATENCY_LADDER.len()],
}

/// The classic buckets' fixed bounds ([`LATENCY_LADDER`]) in nanoseconds, as
/// [`super::latency_bounds`] makes them.
pub fn ladder() -> &'static [u64; LATENCY_LADDER.len()] {
    static LADDER: std::sync::OnceLock<[u64; LATENCY_LADDER.len()]> = std::sync::OnceLock::new();
    LADDER.get_or_init(|| std::array::from_fn(|i| (LATENCY_LADDER[i] * 1e9).round() as u64))
}

/// Where a latency falls among the [`ladder`] bounds (how many are below it), by its power
/// of two: the bounds below the power of two and the one bound inside it (`u64::MAX` when
/// none). `None` when some power of two holds several bounds.
struct LadderByOctave {
    below: [u8; 64],
    bound: [u64; 64],
}

fn ladder_by_octave() -> Option<&'static LadderByOctave> {
    static TABLE: std::sync::OnceLock<Option<LadderByOctave>> = std::sync::OnceLock::new();
    TABLE
        .get_or_init(|| {
            let ladder = ladder();
            let mut t = LadderByOctave {
                below: [0; 64],
                bound: [u64::MAX; 64],
            };
            for m in 0..64 {
                let lo = 1u64 << m;
                let below = ladder.partition_point(|b| *b < lo);
                let inside = ladder[below..]
                    .iter()
                    .take_while(|b| m == 63 || **b < lo << 1)
                    .copied()
                    .collect::<Vec<_>>();
                match inside[..] {
                    [] => {}
                    [b] => t.bound[m] = b,
                    _ => return None,
                }
                t.below[m] = u8::try_from(below).ok()?;
            }
            Some(t)
        })
        .as_ref()
}

/// How many [`ladder`] bounds are below `nanos`: `ladder().partition_point(|b| *b <
/// nanos)`, by a look-up in `table` ([`ladder_by_octave`], found once by the caller).
#[inline]
fn ladder_position_in(table: Option<&LadderByOctave>, nanos: u64) -> usize {
    match table {
        Some(t) if nanos > 0 => {
            let m = (63 - nanos.leading_zeros()) as usize;
            usize::from(t.below[m]) + usize::from(nanos > t.bound[m])
        }
        Some(_) => 0,
        None => ladder().partition_point(|b| *b < nanos),
    }
}

/// The bits of the (at most 64) end times `ends` at or past `bound`: bit `i` for
/// `ends[i]`. Each answer is first a byte (a loop the compiler sees whole), then eight
/// bytes at a time become eight bits: read as a little-endian word they hold their values
/// in bits 0, 8, …, 56, and multiplied by `MAGIC` (bits 7, 14, …, 56) byte `j` lands in
/// bit `56 + j` with no carry into bits 56–63.
#[inline]
fn at_or_past(ends: &[u64], bound: u64) -> u64 {
    const MAGIC: u64 = 0x0102_0408_1020_4080;
    let mut bytes = [0u8; 64];
    for (byte, t) in bytes.iter_mut().zip(ends) {
        *byte = u8::from(*t >= bound);
    }
    let mut word = 0u64;
    for (i, eight) in bytes.chunks_exact(8).enumerate() {
        let eight = u64::from_le_bytes(eight.try_into().unwrap_or_default());
        word |= (eight.wrapping_mul(MAGIC) >> 56) << (8 * i);
    }
    word
}

/// The sum of `latencies` (nanoseconds), exactly: their low and high 32 bits summed apart
/// in `u64`s (each sum of fewer than 2^32 halves fits; a longer slice is summed in parts),
/// which the compiler does several lanes at a time, where a `u128` sum takes two
/// dependent additions a latency.
fn sum_nanos(latencies: &[u64]) -> u128 {
    const PART: usize = 1 << 31;
    let mut total = 0u128;
    for part in latencies.chunks(PART) {
        let (mut lo, mut hi) = (0u64, 0u64);
        for &n in part {
            lo += n & u64::from(u32::MAX);
            hi += n >> 32;
        }
        total += u128::from(lo) + (u128::from(hi) << 32);
    }
    total
}

/// The rows of a bitmap over a request (bit `r % 64` of word `r / 64` is row `r`),
/// ascending.
fn mask_rows(mask: &[u64]) -> impl Iterator<Item = usize> + '_ {
    mask.iter().enumerate().flat_map(|(w, m)| {
        let mut bits = *m;
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let row = w * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                row
            })
        })
    })
}

impl Drop for SelectedSlot {
    /// Gives its buffers back for the next request's slots.
    fn drop(&mut self) {
        buffers::give_back(std::mem::take(&mut self.mask));
        buffers::give_back(std::mem::take(&mut self.latencies));
    }
}

/// The buffers of the slots of selections (bitmaps and latencies), kept by each thread for
/// its next requests: a request's slots take them instead of allocating and give them
/// back when dropped. At most [`buffers::KEPT`] buffers holding room for at most
/// [`buffers::WORDS`] words in all are kept by a thread (past that, a buffer given back is
/// freed).
mod buffers {
    use std::cell::RefCell;

    /// Buffers kept by a thread, at most.
    pub const KEPT: usize = 64;
    /// Words the buffers kept by a thread hold room for, at most (512 KiB).
    pub const WORDS: usize = 1 << 16;

    /// The buffers kept, and the words they hold room for.
    struct Spare {
        kept: Vec<Vec<u64>>,
        words: usize,
    }

    thread_local! {
        static SPARE: RefCell<Spare> = const {
            RefCell::new(Spare {
                kept: Vec::new(),
                words: 0,
            })
        };
    }

    fn take() -> Option<Vec<u64>> {
        SPARE
            .try_with(|s| {
                let mut s = s.try_borrow_mut().ok()?;
                let v = s.kept.pop()?;
                s.words -= v.capacity();
                Some(v)
            })
            .ok()
            .flatten()
    }

    /// `n` zero words.
    pub fn zeroed(n: usize) -> Vec<u64> {
        match take() {
            Some(mut v) => {
                v.clear();
                v.resize(n, 0);
                v
            }
            None => vec![0; n],
        }
    }

    /// An empty buffer with room for `n` words.
    pub fn with_capacity(n: usize) -> Vec<u64> {
        match take() {
            Some(mut v) => {
                v.clear();
                v.reserve(n);
                v
            }
            None => Vec::with_capacity(n),
        }
    }

    /// Keeps `v` for a later [`zeroed`] or [`with_capacity`] of this thread.
    pub fn give_back(v: Vec<u64>) {
        let room = v.capacity();
        if room == 0 || room > WORDS {
            return;
        }
        // (While the thread ends, or within a borrow, `v` is freed instead.)
        let _ = SPARE.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut()
                && s.kept.len() < KEPT
                && s.words + room <= WORDS
            {
                s.words += room;
                s.kept.push(v);
            }
        });
    }

    /// The words the buffers kept by this thread hold room for.
    #[cfg(test)]
    pub fn kept_words() -> usize {
        SPARE.with(|s| s.borrow().words)
    }
}

impl SelectedSlot {
    /// A slot of `mask`'s rows with their `latencies`, nothing recorded yet.
    fn new(id: u64, range: (u64, u64), first_t: u64, mask: Vec<u64>, latencies: Vec<u64>) -> Self {
        SelectedSlot {
            id,
            range,
            first_t,
            mask,
            latencies,
            hdr: Run::default(),
            memo: Memo::default(),
            ladder_at: [0; LATENCY_LADDER.len()],
        }
    }

    /// The slot's rows, in request order.
    pub fn rows(&self) -> impl Iterator<Item = usize> + '_ {
        mask_rows(&self.mask)
    }

    /// Adds row `row`, `nanos` long.
    #[inline]
    fn push(&mut self, row: usize, nanos: u64) {
        self.latencies.push(nanos);
        if let Some(w) = self.mask.get_mut(row / 64) {
            *w |= 1 << (row % 64);
        }
    }

    /// How many rows the slot holds.
    pub fn spans(&self) -> usize {
        self.latencies.len()
    }

    /// Finds each latency's HDR bucket, adds its native bucket to the group's `native`
    /// (see [`SelectedGroup::native`]) and counts the latencies at or below each bound of
    /// [`ladder`] (all sums: the order of the latencies does not matter).
    fn finish(&mut self, native: &mut NativeRun) {
        // Latencies by the first ladder bound at or above them (the last: above all),
        // counted in the same pass as their HDR buckets.
        let mut by_bound = [0usize; LATENCY_LADDER.len() + 1];
        let table = ladder_by_octave();
        // Made in place (one allocation, no copy).
        self.hdr = self
            .latencies
            .iter()
            .map(|&nanos| {
                if let Some(n) = by_bound.get_mut(ladder_position_in(table, nanos)) {
                    *n += 1;
                }
                index_of(nanos)
            })
            .collect();
        native.add_all_hdr(&self.latencies, &self.hdr);
        let mut below = 0;
        for (at, n) in self.ladder_at.iter_mut().zip(by_bound) {
            below += n;
            *at = below;
        }
    }
}

/// A run of selected rows of one cluster (and one chunk of the request).
#[derive(Debug, Clone, Default)]
pub struct SelectedGroup {
    /// A row of the group: its cluster is the group's.
    pub row: usize,
    /// Which chunk of [`Selection::chunk`] rows the group lies in.
    pub chunk: usize,
    /// How many rows the group holds.
    pub spans: usize,
    /// The rows by finest slot, or empty when they fall in more than [`MAX_SLOTS`] slots.
    pub slots: Vec<SelectedSlot>,
    /// The rows in request order once they fell in more than [`MAX_SLOTS`] slots (until
    /// then the slots' bitmaps hold them: only the span-by-span path reads them).
    scattered: Option<Vec<usize>>,
    /// The rows' latencies added up (nanoseconds, for the native histogram's sum).
    pub nanos: u128,
    /// The rows' native histogram buckets (found with the slots', when not scattered).
    pub native: Option<SharedRun>,
    /// What adding `native` gave each SLO's group (see `shared_native.rs`).
    pub native_memo: NativeMemo,
}

impl SelectedGroup {
    /// The rows, in request order.
    pub fn rows(&self) -> std::borrow::Cow<'_, [usize]> {
        if let Some(rows) = &self.scattered {
            return rows.into();
        }
        // The slots' rows are apart: their bitmaps' union, a word at a time.
        let words = self.slots.iter().map(|s| s.mask.len()).max().unwrap_or(0);
        let mut rows = Vec::with_capacity(self.spans);
        for w in 0..words {
            let mut bits = self
                .slots
                .iter()
                .fold(0u64, |acc, s| acc | s.mask.get(w).copied().unwrap_or(0));
            while bits != 0 {
                rows.push(w * 64 + bits.trailing_zeros() as usize);
                bits &= bits - 1;
            }
        }
        rows.into()
    }

    /// Adds row `row` of a request of `rows` rows, ending at `t` after `nanos`, to its
    /// slot of `width` nanoseconds.
    #[inline]
    fn add(&mut self, row: usize, t: u64, nanos: u64, width: u64, rows: usize) {
        self.spans += 1;
        self.nanos += u128::from(nanos);
        // A slot the group has: found by its range, without a division, and without a
        // branch on which one (the rows of a request straddling a slot boundary come in
        // no order of time: a branch would be mispredicted half the time).
        let mut at = usize::MAX;
        for (i, s) in self.slots.iter().enumerate() {
            let inside = (s.range.0 <= t) & (t < s.range.1);
            at = std::hint::select_unpredictable(inside, i, at);
        }
        if self.scattered.is_none()
            && let Some(slot) = self.slots.get_mut(at)
        {
            slot.push(row, nanos);
            return;
        }
        self.add_to_slot(row, t, nanos, width, rows);
    }

    /// [`SelectedGroup::add`] past the slot of the row before.
    fn add_to_slot(&mut self, row: usize, t: u64, nanos: u64, width: u64, rows: usize) {
        if let Some(scattered) = &mut self.scattered {
            scattered.push(row);
            return;
        }
        let id = t / width + 1;
        let slot = match self.slots.iter().position(|s| s.id == id) {
            Some(i) => &mut self.slots[i],
            None => {
                if self.slots.len() == MAX_SLOTS {
                    // (The rows so far from the slots' bitmaps, then this one.)
                    let mut scattered = self.rows().into_owned();
                    scattered.reserve(rows - row);
                    scattered.push(row);
                    self.scattered = Some(scattered);
                    return;
                }
                let start = (id - 1).saturating_mul(width);
                // (Room for the rest of the request: one buffer each, given back at its end.)
                self.slots.push(SelectedSlot::new(
                    id,
                    (start, start.saturating_add(width)),
                    t,
                    buffers::zeroed(rows / 64 + 1),
                    buffers::with_capacity(rows - row),
                ));
                let Some(s) = self.slots.last_mut() else {
                    return;
                };
                s
            }
        };
        slot.push(row, nanos);
    }
}

/// What recording a request's selected rows needs besides each SLO's verdict of good.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The rows selected.
    matched: BooleanArray,
    /// The finest ring's slot width.
    width: u64,
    pub dropped: Dropped,
    pub groups: Vec<SelectedGroup>,
}

impl Selection {
    /// The selection of `matched` rows of `facts` in a finest ring of `width`-wide slots;
    /// `times(row)` is the range of event times accepted for the row (the same for every
    /// row when `uniform`); rows are grouped apart every `chunk` rows.
    pub fn new(
        facts: &SpanFacts,
        matched: &BooleanArray,
        width: u64,
        chunk: usize,
        times: impl Fn(usize) -> (u64, u64),
        uniform: bool,
    ) -> Self {
        let runs = uniform
            .then(|| Self::by_runs(facts, matched, width, chunk, &times))
            .flatten();
        runs.unwrap_or_else(|| Self::row_by_row(facts, matched, width, chunk, times))
    }

    /// [`Selection::new`] when every selected row is accepted at the times `times` gives
    /// every row, and all fall in at most [`MAX_SLOTS`] finest slots (most requests: their
    /// spans ended within seconds of each other): the same selection, without a row's
    /// checks of its times and without looking for its slot among its group's. `None`
    /// (nothing done) otherwise.
    ///
    /// Rows of one group are then the selected rows from its first to its last (a group is
    /// a run of selected rows, and every row is kept): its rows are `matched` between them,
    /// word by word. In one slot, its latencies are the durations of those rows, copied at
    /// once where every row between them is selected; in several, a row's slot is the
    /// number of slot bounds at or below its end time.
    pub(super) fn by_runs(
        facts: &SpanFacts,
        matched: &BooleanArray,
        width: u64,
        chunk: usize,
        times: &impl Fn(usize) -> (u64, u64),
    ) -> Option<Self> {
        let end = facts.end_time_unix_nano();
        let duration = facts.duration_nanos();
        let rows = end.len();
        if matched.len() > rows || duration.len() != rows {
            return None;
        }
        let bits = matched.values();
        let (mut lo, mut hi) = (u64::MAX, 0u64);
        let mut first = None;
        let every = bits.count_set_bits() == bits.len();
        if every {
            // Every row: their end times in one pass, without finding each.
            for &t in &end[..bits.len()] {
                lo = lo.min(t);
                hi = hi.max(t);
            }
            first = (!bits.is_empty()).then_some(0);
        } else {
            for row in bits.set_indices() {
                first.get_or_insert(row);
                lo = lo.min(end[row]);
                hi = hi.max(end[row]);
            }
        }
        let (oldest, newest) = times(first?);
        let width = width.max(1);
        let (first_id, last_id) = (lo / width + 1, hi / width + 1);
        // (Nor when the last slot would end past `u64::MAX`: its range saturates, which
        // the row-by-row pass finds its own way.)
        if lo < oldest
            || hi > newest
            || last_id - first_id >= MAX_SLOTS as u64
            || hi > u64::MAX - width
        {
            return None;
        }
        // The slots' ranges, and the bounds between them (past every time where there
        // are fewer slots).
        let slots = (last_id - first_id + 1) as usize;
        let range = |k: usize| {
            let start = (first_id + k as u64 - 1).saturating_mul(width);
            (start, start.saturating_add(width))
        };
        let mut bounds = [u64::MAX; MAX_SLOTS - 1];
        for (k, b) in bounds.iter_mut().enumerate().take(slots - 1) {
            *b = range(k + 1).0;
        }
        // The groups' first and last rows, as the row-by-row pass finds them.
        let mut spans: Vec<(usize, usize, usize)> = Vec::new();
        let mut current = usize::MAX;
        let chunk = chunk.max(1);
        let (mut part, mut part_end) = (0, chunk);
        // Rows `row` to `last` (of one resource, in one chunk) into their group: the last
        // one, or a new one.
        let mut place = |row: usize, last: usize| {
            let resource = facts.resource_of(row);
            let new_part = row >= part_end;
            if new_part {
                part = row / chunk;
                part_end = (part + 1).saturating_mul(chunk);
            }
            match spans.last_mut() {
                Some(g) if resource == current && !new_part => g.1 = last,
                Some(g) if g.2 == part && facts.cluster(g.0) == facts.cluster(row) => g.1 = last,
                _ => spans.push((row, last, part)),
            }
            current = resource;
        };
        if every {
            // Every row selected: a row of the resource of the row before it, in the same
            // chunk, joins that row's group, so each run of rows of one resource in one
            // chunk is placed at once, by its first row (one test a run, not a row).
            let mut row = 0;
            while row < bits.len() {
                let chunk_end = (row / chunk + 1).saturating_mul(chunk).min(bits.len());
                let end = facts.resource_run_end(row, chunk_end).max(row + 1);
                place(row, end - 1);
                row = end;
            }
        } else {
            for row in bits.set_indices() {
                place(row, row);
            }
        }
        let words: Vec<u64> = bits.bit_chunks().iter_padded().collect();
        let groups = spans
            .into_iter()
            .map(|(from, to, part)| {
                // The group's rows.
                let mut mask = buffers::zeroed(rows / 64 + 1);
                for (w, m) in mask
                    .iter_mut()
                    .enumerate()
                    .take(to / 64 + 1)
                    .skip(from / 64)
                {
                    let mut keep = words.get(w).copied().unwrap_or(0);
                    if w == from / 64 {
                        keep &= u64::MAX << (from % 64);
                    }
                    if w == to / 64 {
                        keep &= u64::MAX >> (63 - to % 64);
                    }
                    *m = keep;
                }
                let count: usize = mask.iter().map(|m| m.count_ones() as usize).sum();
                let mut g = SelectedGroup {
                    row: from,
                    chunk: part,
                    spans: count,
                    ..SelectedGroup::default()
                };
                if slots == 1 {
                    let mut latencies = buffers::with_capacity(count);
                    if count == to - from + 1 {
                        latencies.extend_from_slice(&duration[from..=to]);
                    } else {
                        latencies.extend(mask_rows(&mask).map(|r| duration[r]));
                    }
                    g.nanos = sum_nanos(&latencies);
                    g.slots.push(SelectedSlot::new(
                        first_id,
                        range(0),
                        end[from],
                        mask,
                        latencies,
                    ));
                    return g;
                }
                // Each slot's rows, a word of the group's at a time: a row's slot is the
                // number of bounds at or below its end time, so slot `k` holds the rows at
                // or past bound `k - 1` and not past bound `k` (one comparison a row and
                // bound).
                let kinds = slots;
                let compared = kinds - 1;
                let mut masks: [Vec<u64>; MAX_SLOTS] = Default::default();
                for m in masks.iter_mut().take(kinds) {
                    *m = buffers::zeroed(rows / 64 + 1);
                }
                let mut counts = [0usize; MAX_SLOTS];
                for w in from / 64..=to / 64 {
                    let m = mask[w];
                    if m == 0 {
                        continue;
                    }
                    let ends = &end[w * 64..(w * 64 + 64).min(rows)];
                    let mut above = m;
                    for k in 0..kinds {
                        let past = if k < compared {
                            at_or_past(ends, bounds[k])
                        } else {
                            0
                        };
                        let bits = above & !past;
                        masks[k][w] = bits;
                        counts[k] += bits.count_ones() as usize;
                        above &= past;
                    }
                }
                let mut made: [Option<(usize, SelectedSlot)>; MAX_SLOTS] = Default::default();
                for (k, (made, slot_mask)) in made.iter_mut().zip(&mut masks).enumerate() {
                    let slot_mask = std::mem::take(slot_mask);
                    let Some(first) = mask_rows(&slot_mask).next() else {
                        buffers::give_back(slot_mask);
                        continue;
                    };
                    let mut latencies = buffers::with_capacity(counts[k]);
                    latencies.extend(mask_rows(&slot_mask).map(|r| duration[r]));
                    g.nanos += sum_nanos(&latencies);
                    *made = Some((
                        first,
                        SelectedSlot::new(
                            first_id + k as u64,
                            range(k),
                            end[first],
                            slot_mask,
                            latencies,
                        ),
                    ));
                }
                let mut made: Vec<(usize, SelectedSlot)> = made.into_iter().flatten().collect();
                made.sort_unstable_by_key(|(first, _)| *first);
                g.slots = made.into_iter().map(|(_, slot)| slot).collect();
                g
            })
            .collect();
        Some(Self::finished(matched, width, Dropped::default(), groups))
    }

    /// [`Selection::new`] a row at a time: each row's accepted times, drops and slot.
    pub(super) fn row_by_row(
        facts: &SpanFacts,
        matched: &BooleanArray,
        width: u64,
        chunk: usize,
        times: impl Fn(usize) -> (u64, u64),
    ) -> Self {
        let end = facts.end_time_unix_nano();
        let duration = facts.duration_nanos();
        let width = width.max(1);
        let mut dropped = Dropped::default();
        let mut groups: Vec<SelectedGroup> = Vec::new();
        // The resource of the last row of the group being filled.
        let mut current: Option<usize> = None;
        // The chunk of the rows up to `part_end` (found by a division at its start only).
        let chunk = chunk.max(1);
        let (mut part, mut part_end) = (0, chunk);
        // The selected rows, ascending, read a word of the bitmap at a time.
        for row in matched.values().set_indices() {
            let (Some(&t), Some(&nanos)) = (end.get(row), duration.get(row)) else {
                break;
            };
            let (oldest, newest) = times(row);
            if !dropped.admits(t, oldest, newest) {
                continue;
            }
            let resource = facts.resource_of(row);
            if row >= part_end {
                part = row / chunk;
                part_end = (part + 1).saturating_mul(chunk);
            }
            let same = match (current, groups.last()) {
                (Some(res), Some(g)) if g.chunk == part => {
                    res == resource || facts.cluster(g.row) == facts.cluster(row)
                }
                _ => false,
            };
            current = Some(resource);
            if !same {
                groups.push(SelectedGroup {
                    row,
                    chunk: part,
                    ..SelectedGroup::default()
                });
            }
            if let Some(g) = groups.last_mut() {
                g.add(row, t, nanos, width, end.len());
            }
        }
        Self::finished(matched, width, dropped, groups)
    }

    /// The selection of `groups`, their slots finished.
    fn finished(
        matched: &BooleanArray,
        width: u64,
        dropped: Dropped,
        mut groups: Vec<SelectedGroup>,
    ) -> Self {
        for g in &mut groups {
            if g.scattered.is_some() {
                g.slots.clear();
                continue;
            }
            let mut native =
                NativeRun::with_capacity(g.slots.iter().map(|s| s.latencies.len()).sum());
            for slot in &mut g.slots {
                slot.finish(&mut native);
            }
            native.nanos = g.nanos;
            // Frozen without a copy.
            g.native = Some(SharedRun::new(native));
        }
        Self {
            matched: matched.clone(),
            width,
            dropped,
            groups,
        }
    }

    /// Whether this is the selection of `matched` in a finest ring of `width`-wide slots.
    pub fn is_of(&self, matched: &BooleanArray, width: u64) -> bool {
        // Without the `ArrayData` that comparing the arrays makes.
        self.width == width.max(1)
            && self.matched.nulls() == matched.nulls()
            && same_bits(self.matched.values(), matched.values())
    }
}

/// `a == b`, bit for bit: the bytes compared at once where both start at a byte (a
/// condition's rows always do), else word by word.
fn same_bits(a: &BooleanBuffer, b: &BooleanBuffer) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if !a.offset().is_multiple_of(8) || !b.offset().is_multiple_of(8) {
        return a == b;
    }
    let (whole, rest) = (a.len() / 8, a.len() % 8);
    fn bytes(x: &BooleanBuffer) -> &[u8] {
        x.values().get(x.offset() / 8..).unwrap_or_default()
    }
    let (x, y) = (bytes(a), bytes(b));
    // The last byte's bits past the end are not compared.
    let tail = |x: &[u8]| x.get(whole).map_or(0, |t| t & ((1u8 << rest) - 1));
    match (x.get(..whole), y.get(..whole)) {
        (Some(p), Some(q)) => p == q && (rest == 0 || tail(x) == tail(y)),
        _ => a == b,
    }
}

/// The spans of a request: end times and durations by row.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    pub end: &'a [u64],
    pub duration: &'a [u64],
}

/// How many of `latencies` are within `threshold` (all without one).
fn fast(latencies: &[u64], threshold: Option<u64>) -> usize {
    match threshold {
        Some(th) => latencies.iter().filter(|d| **d <= th).count(),
        None => latencies.len(),
    }
}

/// How one SLO judges a request's rows: bad when its `bad` condition holds or slower than
/// its latency threshold, good otherwise.
#[derive(Debug, Clone)]
pub struct Judge<'a> {
    bad: Option<&'a BooleanArray>,
    threshold: Option<u64>,
    duration: &'a [u64],
}

impl<'a> Judge<'a> {
    pub fn new(bad: Option<&'a BooleanArray>, threshold: Option<u64>, duration: &'a [u64]) -> Self {
        Self {
            bad,
            threshold,
            duration,
        }
    }

    /// Whether row `row` is good.
    #[inline]
    pub fn good(&self, row: usize) -> bool {
        !self.bad.is_some_and(|b| b.value(row))
            && self
                .threshold
                .is_none_or(|th| self.duration.get(row).is_some_and(|d| *d <= th))
    }

    /// The good rows of `slot`: those within the threshold (`fast` of them, see
    /// [`fast`]) less the bad ones among them (from the bitmaps).
    pub fn count_good(&self, slot: &SelectedSlot, fast: usize) -> u64 {
        let Some(bad_rows) = self.bad else {
            return fast as u64;
        };
        let mut bad = 0;
        // `bad` as 64-row words (padded), read beside the slot's (no copy of them).
        let words = bad_rows.values().bit_chunks();
        for (w, (m, b)) in slot.mask.iter().zip(words.iter_padded()).enumerate() {
            let mut bits = m & b;
            match self.threshold {
                None => bad += bits.count_ones() as usize,
                Some(th) => {
                    while bits != 0 {
                        let row = w * 64 + bits.trailing_zeros() as usize;
                        bits &= bits - 1;
                        bad += usize::from(self.duration.get(row).is_some_and(|d| *d <= th));
                    }
                }
            }
        }
        fast.saturating_sub(bad) as u64
    }
}

impl GroupState {
    /// Records group `g` of a selection, its rows judged by `judge`, one finest slot at a
    /// time (see the module docs); false, having recorded nothing, when this group cannot
    /// take them so.
    pub fn record_selected(
        &mut self,
        g: &SelectedGroup,
        judge: &Judge<'_>,
        end: &[u64],
        (bounds, on_ladder): (&[u64], &KnownBounds),
    ) -> bool {
        let Some(native) = g.native.as_ref() else {
            return false;
        };
        if self.slices.is_some() || self.sampled.is_some() || g.slots.is_empty() {
            return false;
        }
        let Some(fine) = self.rings.first() else {
            return false;
        };
        let lo = g.slots.iter().map(|s| s.id).min().unwrap_or(0);
        let hi = g.slots.iter().map(|s| s.id).max().unwrap_or(0);
        let (newest, _) = fine.newest();
        // Every slot held before (`newest`) and after (`hi`): fewer than a ring apart.
        if lo + super::window::RING as u64 <= hi.max(newest)
            || g.slots
                .iter()
                .any(|s| fine.slot_bounds(s.id) != Some(s.range))
        {
            return false;
        }
        // Once for the SLOs whose groups hold the same shared part.
        self.native.record_run(native, &g.native_memo);
        let mut counts = [(0i64, 0u64); MAX_SLOTS];
        for (slot, c) in g.slots.iter().zip(&mut counts) {
            *c = self.record_slot(slot, judge, (bounds, on_ladder));
        }
        let counts = &counts[..g.slots.len().min(MAX_SLOTS)];
        // The coarser rings: the whole group at once when its finest slots lie in one
        // slot of the ring (sums: the same as slot by slot), else slot by slot.
        let (good, total) = counts.iter().fold((0i64, 0u64), |(g, t), (good, total)| {
            (g.saturating_add(*good), t.saturating_add(*total))
        });
        let first_t = g.slots.first().map_or(0, |s| s.first_t);
        let start = g.slots.iter().map(|s| s.range.0).min().unwrap_or(0);
        let end_all = g.slots.iter().map(|s| s.range.1).max().unwrap_or(0);
        for ring in self.rings.iter_mut().skip(1) {
            if g.slots.len() > 1 && ring.add_within(first_t, (start, end_all), good, total) {
                continue;
            }
            for (slot, (good, total)) in g.slots.iter().zip(counts) {
                if !ring.add_within(slot.first_t, slot.range, *good, *total) {
                    // A coarser slot boundary inside the finest slot: counted span by
                    // span.
                    for r in slot.rows() {
                        ring.add(end[r], i64::from(judge.good(r)), 1);
                    }
                }
            }
        }
        true
    }

    /// One slot of a selected group, in the finest ring, the lifetime counters and the
    /// classic buckets: its good count (signed) and total, for the coarser rings.
    fn record_slot(
        &mut self,
        slot: &SelectedSlot,
        judge: &Judge<'_>,
        (bounds, on_ladder): (&[u64], &KnownBounds),
    ) -> (i64, u64) {
        let Some((fine, coarse)) = self.rings.split_first_mut() else {
            return (0, 0);
        };
        if let Some((start, hist)) = fine.evict_older(slot.id) {
            for ring in coarse.iter_mut() {
                ring.merge_latency(start, &hist);
            }
        }
        let (newest, _) = fine.newest();
        if slot.id > newest {
            fine.seal_before(slot.id.saturating_sub(FINE_OPEN_SLOTS));
        }
        let total = slot.spans() as u64;
        let fast = fast(&slot.latencies, judge.threshold);
        let good_count = judge.count_good(slot, fast);
        let good_signed = i64::try_from(good_count).unwrap_or(i64::MAX);
        // The finest slot is the selection slot (checked by the caller): counted at once.
        fine.add_within(slot.first_t, slot.range, good_signed, total);
        self.lifetime.good = self.lifetime.good.saturating_add(good_count);
        self.lifetime.total = self.lifetime.total.saturating_add(total);
        let threshold = judge.threshold.map(|th| (th, fast));
        self.classic.record_known(
            bounds,
            &slot.latencies,
            on_ladder,
            &slot.ladder_at,
            threshold,
        );
        fine.record_run(slot.first_t, &slot.hdr, &slot.memo);
        (good_signed, total)
    }
}

impl SloState {
    /// The finest ring's slot width when this SLO can record selections: fixed slots, no
    /// time slices.
    pub fn selection_width(&self) -> Option<u64> {
        let fine = self.windows.first()?;
        (self.slice_cfg.is_none() && fine.calendar.is_none()).then_some(fine.slot_nanos.max(1))
    }

    /// Records group `g` of a selection under `key`, its rows judged by `judge`: the
    /// same as [`SloState::record_spans`] with its spans. True when recorded a finest
    /// slot at a time, false when span by span.
    pub fn record_selected(
        &mut self,
        key: &GroupKey,
        g: &SelectedGroup,
        judge: &Judge<'_>,
        rows: Rows<'_>,
        latencies: &mut Latencies,
    ) -> bool {
        if g.spans == 0 {
            return true;
        }
        // (The bounds beside the group, borrowed apart from it: no copy of them.)
        let Self {
            groups,
            latency_bounds,
            ladder_bounds,
            ..
        } = self;
        if let Some(group) = groups.get_mut(key) {
            if group.record_selected(g, judge, rows.end, (latency_bounds, ladder_bounds)) {
                return true;
            }
            return Self::record_rows(group, g, judge, rows, latencies, latency_bounds);
        }
        let (bounds, on_ladder) = (self.latency_bounds.clone(), self.ladder_bounds.clone());
        let group = self.group_mut_n(key, g.spans as u64);
        if group.record_selected(g, judge, rows.end, (&bounds, &on_ladder)) {
            return true;
        }
        Self::record_rows(group, g, judge, rows, latencies, &bounds)
    }

    /// Records group `g` of a selection span by span (when its group cannot take it a
    /// finest slot at a time): false.
    fn record_rows(
        group: &mut GroupState,
        g: &SelectedGroup,
        judge: &Judge<'_>,
        rows: Rows<'_>,
        latencies: &mut Latencies,
        bounds: &[u64],
    ) -> bool {
        let spans: Vec<SpanEvent> = g
            .rows()
            .iter()
            .map(|&r| SpanEvent {
                t: rows.end[r],
                good: judge.good(r),
                latency: latencies.get(r, rows.duration[r]),
            })
            .collect();
        group.record_spans(&spans, bounds);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_given_back_are_bounded() {
        // (Its own thread: the test's buffers only.)
        std::thread::spawn(|| {
            for n in [10, 1_000, buffers::WORDS / 2, buffers::WORDS + 1, 7] {
                let held: Vec<Vec<u64>> = (0..100).map(|_| buffers::zeroed(n)).collect();
                assert!(
                    held.iter()
                        .all(|v| v.len() == n && v.iter().all(|w| *w == 0))
                );
                drop(held);
                assert!(buffers::kept_words() <= buffers::WORDS);
                let v = buffers::with_capacity(n);
                assert!(v.is_empty() && v.capacity() >= n);
                buffers::give_back(v);
            }
            // A buffer taken back is empty, or zeroed as asked.
            let mut v = buffers::with_capacity(5);
            v.extend([1, 2, 3]);
            buffers::give_back(v);
            assert_eq!(buffers::zeroed(4), vec![0; 4]);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn bits_compared_by_bytes_equal_bits_compared_one_by_one() {
        let mut rng = fastrand::Rng::with_seed(77);
        for _ in 0..5_000 {
            let len = rng.usize(..200);
            let bits: Vec<bool> = (0..len + 20).map(|_| rng.u8(..8) != 0).collect();
            let whole = BooleanBuffer::from(bits.as_slice());
            let (at, n) = (rng.usize(..=20), rng.usize(..=len));
            let a = whole.slice(at, n);
            // Another buffer, at a byte or not, equal or one bit different.
            let mut other = bits.clone();
            let flip = rng.usize(..other.len());
            if rng.bool() {
                other[flip] = !other[flip];
            }
            let shift = [0, 8, 16, rng.usize(..24)][rng.usize(..4)];
            let mut moved = vec![false; shift];
            moved.extend(&other[at..]);
            let b = BooleanBuffer::from(moved.as_slice()).slice(shift, n);
            let plain = a.iter().eq(b.iter());
            assert_eq!(same_bits(&a, &b), plain, "{at} {n} {shift}");
            assert!(same_bits(&a, &a.clone()));
        }
    }

    #[test]
    fn latencies_sum_as_a_u128_sum_does() {
        let mut rng = fastrand::Rng::with_seed(23);
        for len in [0, 1, 2, 7, 63, 64, 65, 512, 4_097] {
            for kind in 0..4 {
                let latencies: Vec<u64> = (0..len)
                    .map(|_| match kind {
                        0 => rng.u64(..10_000_000_000),
                        1 => u64::MAX - rng.u64(..3),
                        2 => rng.u64(..),
                        _ => [0, u32::MAX as u64, 1 << 32, u64::MAX][rng.usize(..4)],
                    })
                    .collect();
                let want: u128 = latencies.iter().map(|&n| u128::from(n)).sum();
                assert_eq!(sum_nanos(&latencies), want, "{len} of kind {kind}");
            }
        }
    }

    #[test]
    fn bits_at_or_past_a_bound_are_those_of_each_comparison() {
        let mut rng = fastrand::Rng::with_seed(9);
        for _ in 0..20_000 {
            let ends: Vec<u64> = (0..rng.usize(..=64))
                .map(|_| match rng.u8(..4) {
                    0 => u64::MAX - rng.u64(..3),
                    1 => rng.u64(..3),
                    _ => rng.u64(1_000..1_100),
                })
                .collect();
            let bound = match rng.u8(..4) {
                0 => u64::MAX,
                1 => 0,
                _ => rng.u64(1_000..1_100),
            };
            let plain = ends
                .iter()
                .enumerate()
                .fold(0u64, |w, (i, t)| w | (u64::from(*t >= bound) << i));
            assert_eq!(at_or_past(&ends, bound), plain, "{ends:?} {bound}");
        }
    }

    #[test]
    fn ladder_positions_by_power_of_two_are_those_of_a_search() {
        // The ladder's bounds are more than a power of two apart: the look-up is used.
        assert!(ladder_by_octave().is_some());
        let search = |n: u64| ladder().partition_point(|b| *b < n);
        let mut values: Vec<u64> = (0..100_000).chain([u64::MAX, u64::MAX - 1]).collect();
        for b in ladder() {
            values.extend(b.saturating_sub(2)..=b.saturating_add(2));
        }
        for m in 0..64 {
            let p = 1u64 << m;
            values.extend([p - 1, p, p + 1]);
        }
        let mut rng = fastrand::Rng::with_seed(5);
        values.extend((0..200_000).map(|_| rng.u64(..) >> rng.u32(0..64)));
        for n in values {
            assert_eq!(ladder_position_in(ladder_by_octave(), n), search(n), "{n}");
        }
    }
}
