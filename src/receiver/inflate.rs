//! Whole-message decompression in one call: gzip through libdeflate, zstd through libzstd's
//! one-shot decoder. Both write straight into the output buffer, which is sized up front,
//! with no window copy, no zeroing and no growth by reallocation on the common path.
//!
//! The size up front comes from the client (gzip's `ISIZE` trailer, the size modulo 2³²
//! of the last member; zstd's frame content size, optional), so it is only a first guess:
//! it is capped at the decompressed-size limit (and, for gzip, at what DEFLATE can expand
//! the input to), and every byte of room is charged to the memory budget before it is
//! reserved. When the output does not fit, the room doubles, again within the limit, and
//! the member or frame is decoded again from its start; past the limit the body is refused.
//! A lying size therefore costs the client a refusal or a few retries, never the server
//! memory beyond the limit.
//!
//! A gzip body is a series of members (RFC 1952, section 2.2); it decodes to the
//! concatenation of the members' data, as zlib-based readers do. A zstd body may likewise
//! hold several frames, skippable frames among them (RFC 8878, section 3), which libzstd's
//! one-shot call walks itself.

use std::cell::RefCell;
use std::ptr::NonNull;

use libdeflate_sys::{
    libdeflate_alloc_decompressor, libdeflate_decompressor, libdeflate_free_decompressor,
    libdeflate_gzip_decompress_ex, libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE,
    libdeflate_result_LIBDEFLATE_SUCCESS,
};
use zstd::zstd_safe;

/// The most DEFLATE expands its input: a length-258 match costs at least two bits, so
/// 1,032 output bytes a byte in (RFC 1951; zlib's documentation states the same bound).
const MAX_DEFLATE_RATIO: usize = 1032;

/// The first room when the body states no usable size, and the smallest step up.
pub(super) const FIRST_ROOM: usize = 64 * 1024;

/// Why a body could not be decompressed.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// Not valid data of its encoding: bad header, corrupt stream, wrong checksum or
    /// size, truncated.
    Corrupt(&'static str),
    /// The output would be larger than the limit.
    TooLarge,
    /// The room could not be charged (the memory budget is in use).
    Refused,
}

/// The output buffer: its capacity is charged through `charge` before it is reserved and
/// never exceeds the limit.
pub struct Out<F> {
    pub buf: Vec<u8>,
    limit: usize,
    charge: F,
}

impl<F: FnMut(usize) -> bool> Out<F> {
    /// `charge(n)` is asked for every `n` bytes of room before they are reserved and
    /// returns whether it took them.
    pub fn new(limit: usize, charge: F) -> Self {
        Self {
            buf: Vec::new(),
            limit,
            charge,
        }
    }

    /// Makes the spare room at least `room` bytes (at most what the limit leaves).
    fn room(&mut self, room: usize) -> Result<(), Failure> {
        let room = room.min(self.limit - self.buf.len());
        let want = self.buf.len() + room;
        if want > self.buf.capacity() {
            let more = want - self.buf.capacity();
            if !(self.charge)(more) {
                return Err(Failure::Refused);
            }
            if self.buf.is_empty() {
                // Nothing to keep (a retry from the start): no copy of the old room.
                self.buf = Vec::with_capacity(want);
            } else {
                self.buf.reserve_exact(want - self.buf.len());
            }
        }
        Ok(())
    }

    /// The spare room, capped at what the limit leaves.
    fn spare(&mut self) -> (*mut u8, usize) {
        let left = self.limit - self.buf.len();
        let spare = self.buf.spare_capacity_mut();
        let n = spare.len().min(left);
        (spare.as_mut_ptr().cast(), n)
    }

    /// The next room after `room` did not fit, or `TooLarge` when `room` was already all
    /// the limit leaves.
    fn grow(&self, room: usize) -> Result<usize, Failure> {
        let left = self.limit - self.buf.len();
        if room >= left {
            return Err(Failure::TooLarge);
        }
        Ok(room.saturating_mul(2).max(FIRST_ROOM).min(left))
    }
}

/// A libdeflate decompressor, one a thread: it is a few KiB of tables, reused call to call.
struct Inflater(NonNull<libdeflate_decompressor>);

impl Inflater {
    fn new() -> Option<Self> {
        // SAFETY: allocating a decompressor has no precondition; null means out of memory.
        NonNull::new(unsafe { libdeflate_alloc_decompressor() }).map(Self)
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `libdeflate_alloc_decompressor` and is freed once.
        unsafe { libdeflate_free_decompressor(self.0.as_ptr()) }
    }
}

thread_local! {
    static INFLATER: RefCell<Option<Inflater>> = const { RefCell::new(None) };
}

/// One gzip member's outcome.
enum Member {
    /// Decoded: input bytes consumed (header and trailer included), output bytes written.
    Done {
        read: usize,
        wrote: usize,
    },
    /// The output did not fit in the room given.
    NoRoom,
    Corrupt,
}

fn gzip_member(inflater: &Inflater, input: &[u8], out: *mut u8, room: usize) -> Member {
    let (mut read, mut wrote) = (0usize, 0usize);
    // SAFETY: `input` is a live slice; `out` points to `room` writable bytes (spare
    // capacity of the output vector, which libdeflate only writes, never reads before
    // writing); the decompressor is this thread's and used by one call at a time.
    let result = unsafe {
        libdeflate_gzip_decompress_ex(
            inflater.0.as_ptr(),
            input.as_ptr().cast(),
            input.len(),
            out.cast(),
            room,
            &mut read,
            &mut wrote,
        )
    };
    match result {
        r if r == libdeflate_result_LIBDEFLATE_SUCCESS && wrote <= room && read <= input.len() => {
            Member::Done { read, wrote }
        }
        r if r == libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => Member::NoRoom,
        _ => Member::Corrupt,
    }
}

/// The `ISIZE` field of the member that ends `body`: its uncompressed size modulo 2³²
/// (RFC 1952, section 2.3.1).
fn trailer_size(body: &[u8]) -> usize {
    match body.len().checked_sub(4).and_then(|at| body.get(at..)) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]) as usize,
        _ => 0,
    }
}

/// Decompresses a gzip body of one or more members into `out`.
pub fn gzip<F: FnMut(usize) -> bool>(body: &[u8], out: &mut Out<F>) -> Result<(), Failure> {
    if body.is_empty() {
        return Err(Failure::Corrupt("empty gzip body"));
    }
    INFLATER.with(|cell| {
        let mut cell = cell.borrow_mut();
        let inflater = match cell.as_mut() {
            Some(i) => i,
            None => cell.insert(Inflater::new().ok_or(Failure::Refused)?),
        };
        let stated = trailer_size(body);
        let mut at = 0;
        while at < body.len() {
            let input = &body[at..];
            // The last member's size is the trailer's; others start from it and grow.
            let mut room = stated.min(input.len().saturating_mul(MAX_DEFLATE_RATIO));
            loop {
                out.room(room)?;
                let (ptr, spare) = out.spare();
                match gzip_member(inflater, input, ptr, spare) {
                    Member::Done { read, wrote } => {
                        // SAFETY: libdeflate wrote `wrote` bytes, at most `spare`, into the
                        // spare capacity starting at the current length.
                        unsafe { out.buf.set_len(out.buf.len() + wrote) };
                        at += read.max(1);
                        break;
                    }
                    Member::NoRoom => room = out.grow(spare)?,
                    Member::Corrupt => {
                        return Err(Failure::Corrupt(
                            "not a valid gzip member (bad header, corrupt data, checksum or \
                             size mismatch, or truncated)",
                        ));
                    }
                }
            }
        }
        Ok(())
    })
}

thread_local! {
    static ZSTD: RefCell<Option<zstd_safe::DCtx<'static>>> = const { RefCell::new(None) };
}

/// The output vector's spare room from its current length, for libzstd to fill.
struct Spare<'a> {
    buf: &'a mut Vec<u8>,
    room: usize,
}

// SAFETY: the pointer and capacity describe the vector's spare capacity (capped at `room`),
// and `filled_until(n)` is called by zstd-safe with the bytes written there, at most that.
unsafe impl zstd_safe::WriteBuf for Spare<'_> {
    fn as_slice(&self) -> &[u8] {
        &[]
    }
    fn capacity(&self) -> usize {
        self.room
    }
    fn as_mut_ptr(&mut self) -> *mut u8 {
        self.buf.spare_capacity_mut().as_mut_ptr().cast()
    }
    unsafe fn filled_until(&mut self, n: usize) {
        let len = self.buf.len() + n.min(self.room);
        // SAFETY: libzstd initialised the first `n` bytes of the spare capacity.
        unsafe { self.buf.set_len(len) }
    }
}

/// Decompresses a zstd body of one or more frames into `out`.
pub fn zstd<F: FnMut(usize) -> bool>(body: &[u8], out: &mut Out<F>) -> Result<(), Failure> {
    ZSTD.with(|cell| {
        let mut cell = cell.borrow_mut();
        let dctx = match cell.as_mut() {
            Some(d) => d,
            None => cell.insert(zstd_safe::DCtx::try_create().ok_or(Failure::Refused)?),
        };
        let mut room = match zstd_safe::get_frame_content_size(body) {
            Ok(Some(n)) => usize::try_from(n).unwrap_or(usize::MAX),
            Ok(None) => body.len().saturating_mul(4),
            Err(_) => return Err(Failure::Corrupt("not a zstd frame")),
        };
        loop {
            out.room(room)?;
            let (_, spare) = out.spare();
            let mut dst = Spare {
                buf: &mut out.buf,
                room: spare,
            };
            match dctx.decompress(&mut dst, body) {
                Ok(_) => return Ok(()),
                Err(code) if is_no_room(code) => room = out.grow(spare)?,
                Err(_) => {
                    return Err(Failure::Corrupt(
                        "not a valid zstd body (corrupt or truncated frame, or checksum mismatch)",
                    ));
                }
            }
        }
    })
}

fn is_no_room(code: usize) -> bool {
    // SAFETY: a pure function of the error code.
    let kind = unsafe { zstd_safe::zstd_sys::ZSTD_getErrorCode(code) };
    kind == zstd_safe::zstd_sys::ZSTD_ErrorCode::ZSTD_error_dstSize_tooSmall
}

#[cfg(test)]
#[path = "inflate_tests.rs"]
pub(super) mod tests;
