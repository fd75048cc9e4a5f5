//! Decompression implementations on the receive path's payload: the first 16 requests
//! that `slotel loadgen` sends (512 spans each, seed 1: the requests of `benches/e2e.sh` and
//! `benches/compare-rotel.sh`), captured as OTLP/HTTP protobuf bodies by `run.sh`, and
//! compressed here with gzip (levels 1 and 6) and zstd (levels 1 and 3). Every
//! implementation decompresses every request whole into memory, as the receiver does, under
//! the same decompressed-size limit, and its output is checked equal to the original before
//! anything is timed.
//!
//! Time is the thread's CPU time (`/proc/thread-self/schedstat`), not wall time, so other
//! work on the machine moves it less. Rounds are interleaved (every implementation once per
//! round, the order rotating) and the medians are printed. The allocator is `slotel`'s
//! (mimalloc). A full `prost` decode of the same requests is measured, in the same CPU terms,
//! by `benches/compare-rotel.sh` (decode-only baseline).
//!
//! ```sh
//! benches/decompress/run.sh [ROUNDS] [MS_PER_RUN]
//! ```

use std::io::Read;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SPANS: usize = 512;
const REQUESTS: u64 = 16;
/// The decompressed-size limit every implementation is held to (the receiver's default
/// `max_request_bytes` is of this order); a bomb must stop at it.
const LIMIT: usize = 64 << 20;

/// This thread's CPU time so far, in nanoseconds.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|t| t.parse().ok()))
        .unwrap_or(0)
}

/// The receiver's way (`receiver/body.rs`): a reader into a buffer that doubles from
/// 64 KiB, zero-filled, stopping past the limit.
fn read_doubling(mut reader: impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    let mut filled = 0;
    loop {
        if filled >= out.len() {
            assert!(out.len() <= LIMIT, "over the limit");
            let room = (out.len() * 2).max(64 * 1024).min(LIMIT + 1);
            out.resize(room, 0);
        }
        match reader.read(&mut out[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) => panic!("decompress: {e}"),
        }
    }
    out.truncate(filled);
    out
}

/// The decompressed size a gzip member claims (ISIZE, the last 4 bytes), capped at the
/// limit: a hint for one-shot decoders, never trusted past the limit.
fn gzip_hint(data: &[u8]) -> usize {
    let n = data.len();
    if n < 18 {
        return 0;
    }
    let isize = u32::from_le_bytes([data[n - 4], data[n - 3], data[n - 2], data[n - 1]]);
    (isize as usize).min(LIMIT)
}

type Imp = (&'static str, fn(&[u8]) -> Vec<u8>);

fn gzip_impls() -> Vec<Imp> {
    vec![
        (
            "flate2/zlib-rs, MultiGzDecoder into a doubling buffer (current)",
            |d| read_doubling(flate2::read::MultiGzDecoder::new(d)),
        ),
        (
            "flate2/zlib-rs, GzDecoder into a buffer of the ISIZE hint",
            |d| {
                let mut out = Vec::with_capacity(gzip_hint(d) + 1);
                flate2::read::GzDecoder::new(d)
                    .take(LIMIT as u64 + 1)
                    .read_to_end(&mut out)
                    .expect("gzip");
                out
            },
        ),
        (
            "libdeflate (libdeflater), one shot into the ISIZE hint",
            |d| {
                let mut out = vec![0u8; gzip_hint(d)];
                let mut dec = libdeflater::Decompressor::new();
                let n = dec.gzip_decompress(d, &mut out).expect("libdeflate");
                out.truncate(n);
                out
            },
        ),
        ("zune-inflate, one shot with the limit", |d| {
            let opts = zune_inflate::DeflateOptions::default().set_limit(LIMIT);
            zune_inflate::DeflateDecoder::new_with_options(d, opts)
                .decode_gzip()
                .expect("zune")
        }),
    ]
}

fn zstd_impls() -> Vec<Imp> {
    vec![
        (
            "zstd (libzstd), stream Decoder into a doubling buffer (current)",
            |d| read_doubling(zstd::stream::read::Decoder::new(d).expect("zstd")),
        ),
        ("zstd (libzstd), bulk into the frame content size", |d| {
            let size = zstd::zstd_safe::get_frame_content_size(d)
                .ok()
                .flatten()
                .unwrap_or(0) as usize;
            zstd::bulk::decompress(d, size.min(LIMIT)).expect("zstd bulk")
        }),
        (
            "ruzstd (Rust), StreamingDecoder into a doubling buffer",
            |d| {
                let mut src = d;
                read_doubling(ruzstd::decoding::StreamingDecoder::new(&mut src).expect("ruzstd"))
            },
        ),
    ]
}

fn gzip(data: &[u8], level: u32) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

/// Runs `f` over every request until `ms` of CPU time have passed; CPU ns per request.
fn time(inputs: &[Vec<u8>], ms: u64, f: &dyn Fn(&[u8]) -> usize) -> f64 {
    let start = cpu_ns();
    let mut n = 0u64;
    let mut sink = 0usize;
    while cpu_ns() - start < ms * 1_000_000 {
        for i in inputs {
            sink = sink.wrapping_add(f(std::hint::black_box(i)));
            n += 1;
        }
    }
    std::hint::black_box(sink);
    (cpu_ns() - start) as f64 / n as f64
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(dir) = args.get(1) else {
        eprintln!("usage: slotel-decompress-bench DIR [ROUNDS] [MS_PER_RUN]");
        std::process::exit(2);
    };
    let rounds: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(5);
    let ms: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1000);

    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("payload directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let plain: Vec<Vec<u8>> = files
        .iter()
        .take(REQUESTS as usize)
        .map(|f| std::fs::read(f).expect("payload file"))
        .collect();
    assert_eq!(
        plain.len(),
        REQUESTS as usize,
        "need {REQUESTS} requests in {dir}"
    );
    let bytes: usize = plain.iter().map(Vec::len).sum();
    println!(
        "{REQUESTS} requests of {SPANS} spans, {:.0} bytes per request ({:.0} per span)",
        bytes as f64 / REQUESTS as f64,
        bytes as f64 / (REQUESTS as usize * SPANS) as f64
    );

    // (setup name, compressed inputs, implementations)
    let mut setups: Vec<(String, Vec<Vec<u8>>, Vec<Imp>)> = Vec::new();
    for level in [1, 6] {
        let c: Vec<Vec<u8>> = plain.iter().map(|p| gzip(p, level)).collect();
        setups.push((format!("gzip level {level}"), c, gzip_impls()));
    }
    for level in [1, 3] {
        let c: Vec<Vec<u8>> = plain
            .iter()
            .map(|p| zstd::bulk::compress(p, level).expect("zstd"))
            .collect();
        setups.push((format!("zstd level {level}"), c, zstd_impls()));
    }
    for (name, inputs, imps) in &setups {
        let size: usize = inputs.iter().map(Vec::len).sum();
        println!(
            "{name}: {:.0} bytes per request (ratio {:.2})",
            size as f64 / REQUESTS as f64,
            bytes as f64 / size as f64
        );
        for (imp, f) in imps {
            for (c, p) in inputs.iter().zip(&plain) {
                assert!(f(c) == *p, "{imp} on {name}: output differs");
            }
        }
    }

    // results[setup][imp] = per-round ns per request; baseline separately.
    let mut results: Vec<Vec<Vec<f64>>> = setups
        .iter()
        .map(|(_, _, imps)| vec![Vec::new(); imps.len()])
        .collect();
    for round in 0..rounds {
        for (s, (_, inputs, imps)) in setups.iter().enumerate() {
            let k = imps.len();
            for j in 0..k {
                let i = (j + round) % k;
                let f = imps[i].1;
                results[s][i].push(time(inputs, ms, &|d| f(d).len()));
            }
        }
        eprintln!("round {}/{rounds} done", round + 1);
    }
    println!("\n| input | implementation | µs per request | ns per span | MB/s out |");
    println!("|---|---|---|---|---|");
    for (s, (name, _, imps)) in setups.iter().enumerate() {
        for (i, (imp, _)) in imps.iter().enumerate() {
            let t = median(&mut results[s][i]);
            println!(
                "| {name} | {imp} | {:.1} | {:.0} | {:.0} |",
                t / 1e3,
                t / SPANS as f64,
                bytes as f64 / REQUESTS as f64 / t * 1e3
            );
        }
    }
}
