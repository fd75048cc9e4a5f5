//! Span facts read on the protobuf wire against prost: on any bytes, both refuse or both
//! accept with the same columns, counts and per-item verdict (see
//! `slotel::receiver::spans_fuzz`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    slotel::receiver::spans_fuzz::span_facts_one(data);
});
