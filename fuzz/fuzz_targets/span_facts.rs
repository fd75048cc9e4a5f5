//! Span facts read on the protobuf wire against prost: on any bytes, both refuse or both
//! accept with the same columns, counts and per-item verdict (see
//! `slotel::slo::facts::fuzz`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    slotel::slo::facts::fuzz::span_facts_one(data);
});
