//! The receive fuzz target's body on stable: every committed input of
//! `fuzz/corpus/receive/` (seeds and regressions), and random mutations of valid requests
//! of every signal, each within a time bound.

use std::time::Duration;

use tokio::time::Instant;

use proptest::prelude::*;
use prost::Message;
use slotel::loadgen::{ContentOpts, generate};
use slotel::receiver::fuzz::receive_one;

/// Generous for a debug build on a loaded machine; an input that loops never ends.
const PER_INPUT: Duration = Duration::from_secs(10);

fn timed(data: &[u8]) {
    let started = Instant::now();
    receive_one(data);
    assert!(
        started.elapsed() < PER_INPUT,
        "an input took {:?}",
        started.elapsed()
    );
}

#[test]
fn the_committed_corpus_goes_through() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/receive");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        timed(&std::fs::read(&path).unwrap());
        n += 1;
    }
    assert!(n >= 5, "the seed corpus is missing ({n} files)");
}

fn seeds() -> Vec<Vec<u8>> {
    let mut rng = fastrand::Rng::with_seed(8);
    let opts = ContentOpts::default();
    vec![
        generate::traces(&mut rng, 3, &opts).encode_to_vec(),
        generate::logs(&mut rng, 3, &opts).encode_to_vec(),
        generate::metrics(&mut rng, 6, &opts).encode_to_vec(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn mutated_requests_go_through(
        which in 0usize..3,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        cut in any::<usize>(),
        insert in proptest::collection::vec(any::<u8>(), 0..16),
        at in any::<usize>(),
    ) {
        let mut data = seeds()[which].clone();
        for (i, b) in flips {
            let len = data.len();
            data[i % len] ^= b;
        }
        let at = at % (data.len() + 1);
        data.splice(at..at, insert);
        data.truncate(cut % (data.len() + 1).max(1) + data.len() / 2);
        timed(&data);
    }
}
