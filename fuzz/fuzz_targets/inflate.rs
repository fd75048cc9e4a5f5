//! Whole-message gzip and zstd decompression against the streaming reference readers: on
//! any bytes, memory stays within the limit and accepted bodies agree (see
//! `slotel::receiver::fuzz::inflate_one`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    slotel::receiver::fuzz::inflate_one(data);
});
