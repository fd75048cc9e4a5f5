//! The receive path on arbitrary bytes, as every signal in both formats: weighed on the
//! wire, held to the limits, decoded, checked and bound to a cluster. Never panics, and
//! the wire reading agrees with prost (see `slotel::receiver::fuzz`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    slotel::receiver::fuzz::receive_one(data);
});
