//! Compressed bodies built to mislead the one-shot decoders: sizes stated in the body that
//! lie (gzip's `ISIZE` trailer, RFC 1952 2.3.1; zstd's Frame_Content_Size, RFC 8878
//! 3.1.1.1.4), bombs, truncation and bad checksums, over both protocols; and the legal
//! shapes they must still accept whole (several gzip members, several zstd frames).

use super::*;

const ZIP: (&str, &str) = ("content-encoding", "gzip");
const ZSTD: (&str, &str) = ("content-encoding", "zstd");

/// Overwrites the `ISIZE` field, the last four bytes of a gzip member.
fn with_isize(mut body: Vec<u8>, isize: u32) -> Vec<u8> {
    let at = body.len() - 4;
    body[at..].copy_from_slice(&isize.to_le_bytes());
    body
}

async fn post(s: &Slotel, encoding: (&str, &str), body: Vec<u8>) -> u16 {
    http_try(
        "POST",
        &format!("http://{}/v1/traces", s.http),
        &[PB, AUTH, encoding],
        body,
    )
    .await
    .map_or(0, |r| r.status)
}

async fn call(s: &Slotel, encoding: &str, message: &[u8]) -> i32 {
    grpc_try(s.grpc, GRPC_TRACES, &[AUTH], message, Some(encoding))
        .await
        .map_or(-1, |r| r.code)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bombs_with_lying_sizes_are_refused_within_the_limit() {
    let s = Arc::new(spawn("{}").await);
    let baseline = status_kib(s.child.id(), "VmRSS:");
    // 64 MiB of a valid request's bytes (empty spans) states 100 bytes in its trailer,
    // and a zstd frame of the same states 100 bytes of content: past the 16 MiB limit
    // either way, whatever they state.
    let spans = empty_spans(64 << 20);
    let gzip_bomb = Bytes::from(with_isize(gzip_best(&spans), 100));
    let zstd_bomb = {
        let mut f = zstd::bulk::compress(&spans, 3).unwrap();
        // Frame_Header_Descriptor (RFC 8878 3.1.1.1.1): no dictionary; the content size
        // field follows the Window_Descriptor (absent when single-segment).
        let fhd = f[4];
        assert_eq!(fhd & 3, 0, "no Dictionary_ID");
        let at = if fhd & 0x20 != 0 { 5 } else { 6 };
        match fhd >> 6 {
            2 => f[at..at + 4].copy_from_slice(&100u32.to_le_bytes()),
            3 => f[at..at + 8].copy_from_slice(&100u64.to_le_bytes()),
            flag => panic!("content size flag {flag} for 64 MiB"),
        }
        Bytes::from(f)
    };
    drop(spans);
    assert!(gzip_bomb.len() < 2 << 20 && zstd_bomb.len() < 2 << 20);
    let stop = Arc::new(AtomicBool::new(false));
    let probes = probe(s.admin, stop.clone());
    let mut attackers = Vec::new();
    for i in 0..8 {
        let (s, stop) = (s.clone(), stop.clone());
        let (gzip_bomb, zstd_bomb) = (gzip_bomb.clone(), zstd_bomb.clone());
        attackers.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let status = match i % 4 {
                    0 => post(&s, ZIP, gzip_bomb.to_vec()).await as i32,
                    1 => call(&s, "gzip", &gzip_bomb).await,
                    2 => post(&s, ZSTD, zstd_bomb.to_vec()).await as i32,
                    _ => call(&s, "zstd", &zstd_bomb).await,
                };
                statuses.push((i % 4, status));
            }
            statuses
        }));
    }
    tokio::time::sleep(Duration::from_secs(6)).await;
    stop.store(true, Ordering::SeqCst);
    let seen = tally(attackers).await;
    let hwm = vm_hwm_kib(&s);
    println!(
        "bomb answers (kind, status): {seen:?}; baseline RSS {} MiB, peak {} MiB",
        baseline / 1024,
        hwm / 1024
    );
    // Too large for good (413, RESOURCE_EXHAUSTED) or told to retry while the budget is
    // in use by the others (429, RESOURCE_EXHAUSTED with RetryInfo); a zstd frame whose
    // stated size is short is refused as corrupt once it outgrows it within the limit
    // (400, INVALID_ARGUMENT).
    for (kind, st) in seen.keys() {
        let allowed: &[i32] = if kind % 2 == 0 {
            &[413, 429, 400]
        } else {
            &[8, 3]
        };
        assert!(allowed.contains(st), "unexpected answer {st} in {seen:?}");
    }
    assert!(seen.len() >= 4, "every kind answered: {seen:?}");
    // Each bomb may hold at most the 16 MiB limit while it is refused, within the memory
    // budget; decoded, eight would be 512 MiB.
    assert!(hwm < 320 * 1024, "peak RSS {hwm} KiB");
    assert_eq!(good_http(&s).await, 200);
    assert_eq!(good_grpc(&s).await, 0);
    assert_probes(
        "gzip and zstd bombs",
        probes.done().await,
        Duration::from_millis(500),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stated_size_far_past_the_data_costs_no_memory() {
    let s = Arc::new(spawn("{}").await);
    // A valid request whose trailer states 4 GiB − 1: refused for the size mismatch
    // (RFC 1952 2.3.1) with no more room than DEFLATE can expand the body to.
    let lie = Bytes::from(with_isize(gzip_fast(&valid_traces()), u32::MAX));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (s, lie) = (s.clone(), lie.clone());
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for _ in 0..50 {
                statuses.push(if i % 2 == 0 {
                    post(&s, ZIP, lie.to_vec()).await as i32
                } else {
                    call(&s, "gzip", &lie).await
                });
            }
            statuses
        }));
    }
    for t in tasks {
        for st in t.await.unwrap() {
            assert!(st == 400 || st == 3, "answer {st}");
        }
    }
    let hwm = vm_hwm_kib(&s);
    println!(
        "peak RSS after 400 bodies stating 4 GiB: {} MiB",
        hwm / 1024
    );
    assert!(hwm < 128 * 1024, "peak RSS {hwm} KiB");
    assert_eq!(good_grpc(&s).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_and_corrupt_bodies_are_refused_and_leave_nothing_behind() {
    let s = spawn("{}").await;
    let good = gzip_fast(&valid_traces());
    let mut bad_crc = good.clone();
    let crc_at = bad_crc.len() - 8;
    bad_crc[crc_at] ^= 1;
    let zstd_good = zstd::bulk::compress(&valid_traces(), 3).unwrap();
    let before = accepted_spans(&s).await;
    for (what, body, zstd) in [
        ("gzip cut in half", good[..good.len() / 2].to_vec(), false),
        (
            "gzip without its trailer",
            good[..good.len() - 8].to_vec(),
            false,
        ),
        ("gzip with a wrong CRC-32", bad_crc, false),
        (
            "gzip and trailing garbage",
            [&good[..], b"garbage"].concat(),
            false,
        ),
        (
            "zstd cut short",
            zstd_good[..zstd_good.len() - 3].to_vec(),
            true,
        ),
        ("not zstd", b"definitely not zstd".to_vec(), true),
    ] {
        let (enc, name) = if zstd { (ZSTD, "zstd") } else { (ZIP, "gzip") };
        assert_eq!(post(&s, enc, body.clone()).await, 400, "{what} over HTTP");
        assert_eq!(call(&s, name, &body).await, 3, "{what} over gRPC");
    }
    assert_eq!(accepted_spans(&s).await, before, "nothing accepted");
    assert_eq!(good_http(&s).await, 200);
    assert_eq!(good_grpc(&s).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_gzip_members_and_zstd_frames_are_accepted_whole() {
    let s = spawn("{}").await;
    // Two requests encoded one after the other are one request holding both's resource
    // spans (protobuf merges repeated fields); each half compressed on its own.
    let mut rng = fastrand::Rng::with_seed(7);
    let first = generate::traces(&mut rng, 40, &ContentOpts::default()).encode_to_vec();
    let second = generate::traces(&mut rng, 25, &ContentOpts::default()).encode_to_vec();
    let gzip_members = [gzip_fast(&first), gzip_best(&second)].concat();
    let zstd_frames = [
        zstd::bulk::compress(&first, 1).unwrap(),
        zstd::bulk::compress(&second, 19).unwrap(),
    ]
    .concat();
    let mut expected = accepted_spans(&s).await;
    for (enc, name, body) in [(ZIP, "gzip", gzip_members), (ZSTD, "zstd", zstd_frames)] {
        assert_eq!(post(&s, enc, body.clone()).await, 200, "{name} over HTTP");
        expected += 65.0;
        assert_eq!(accepted_spans(&s).await, expected, "{name} over HTTP");
        assert_eq!(call(&s, name, &body).await, 0, "{name} over gRPC");
        expected += 65.0;
        assert_eq!(accepted_spans(&s).await, expected, "{name} over gRPC");
    }
}
