//! The one-shot decoders against bodies laid out by hand from RFC 1952 (gzip members),
//! RFC 1951 (stored DEFLATE blocks) and RFC 8878 (zstd frames), and against what zlib-based
//! readers make of encoder output.

use std::io::{Read, Write};

use super::*;

/// Decodes with a charge counter; returns the result, the output and the bytes charged.
fn run(zstd_body: bool, body: &[u8], limit: usize) -> (Result<(), Failure>, Vec<u8>, usize) {
    let mut charged = 0usize;
    let mut out = Out::new(limit, |n: usize| {
        charged += n;
        true
    });
    let result = if zstd_body {
        zstd(body, &mut out)
    } else {
        gzip(body, &mut out)
    };
    let buf = std::mem::take(&mut out.buf);
    drop(out);
    (result, buf, charged)
}

fn gz(body: &[u8], limit: usize) -> (Result<(), Failure>, Vec<u8>, usize) {
    run(false, body, limit)
}

fn zs(body: &[u8], limit: usize) -> (Result<(), Failure>, Vec<u8>, usize) {
    run(true, body, limit)
}

/// A gzip member (RFC 1952, 2.3) whose DEFLATE stream is one final stored block
/// (RFC 1951, 3.2.4): `BFINAL=1, BTYPE=00`, then LEN and its one's complement, then the
/// bytes. `flags` and `extra` are the FLG byte and what follows the fixed header.
fn stored_member(data: &[u8], flags: u8, extra: &[u8], crc: u32, isize: u32) -> Vec<u8> {
    let mut m = vec![0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 255];
    m.extend_from_slice(extra);
    let len = data.len() as u16;
    m.push(1);
    m.extend_from_slice(&len.to_le_bytes());
    m.extend_from_slice(&(!len).to_le_bytes());
    m.extend_from_slice(data);
    m.extend_from_slice(&crc.to_le_bytes());
    m.extend_from_slice(&isize.to_le_bytes());
    m
}

/// CRC-32 of "hello" (the ISO-HDLC / zlib CRC that RFC 1952 uses).
const HELLO_CRC: u32 = 0x3610_a686;

/// `data` as one gzip member at a zlib level (the receiver's tests' only gzip writer).
pub(in crate::receiver) fn gzip_fast(data: &[u8], level: u32) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// What a zlib-based reader of concatenated members makes of a body.
fn zlib_reader(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(body).read_to_end(&mut out)?;
    Ok(out)
}

/// Protobuf-like text with some repetition, as OTLP requests compress.
fn sample(n: usize) -> Vec<u8> {
    let mut data = Vec::with_capacity(n);
    let mut x = 0x9e37_79b9u32;
    while data.len() < n {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data.extend_from_slice(b"\x0a\x10service.name\x12\x08checkout");
        data.extend_from_slice(&x.to_le_bytes());
    }
    data.truncate(n);
    data
}

#[test]
fn a_hand_made_member_decodes() {
    let member = stored_member(b"hello", 0, &[], HELLO_CRC, 5);
    let (result, out, charged) = gz(&member, 1 << 20);
    assert_eq!(result, Ok(()));
    assert_eq!(out, b"hello");
    assert_eq!(charged, 5, "the trailer's size is the whole room");
}

#[test]
fn optional_header_fields_are_skipped() {
    // FEXTRA (XLEN, then a subfield: SI1, SI2, LEN, data), FNAME and FCOMMENT
    // (zero-terminated).
    let mut extra = vec![6, 0, b'A', b'p', 2, 0, b'x', b'y'];
    extra.extend_from_slice(b"spans.pb\0");
    extra.extend_from_slice(b"a comment\0");
    let flags = 0x04 | 0x08 | 0x10;
    let member = stored_member(b"hello", flags, &extra, HELLO_CRC, 5);
    assert_eq!(gz(&member, 1 << 20).1, b"hello");
    assert_eq!(zlib_reader(&member).unwrap(), b"hello");
}

#[test]
fn concatenated_members_decode_to_the_concatenation() {
    // RFC 1952, 2.2: a gzip file is a series of members. The last member is the smallest,
    // so the trailer's size is short for the first ones and the room must grow.
    let first = sample(300_000);
    let second = sample(1000);
    let mut body = gzip_fast(&first, 1);
    body.extend_from_slice(&stored_member(b"hello", 0, &[], HELLO_CRC, 5));
    body.extend_from_slice(&gzip_fast(&second, 6));
    let (result, out, charged) = gz(&body, 4 << 20);
    assert_eq!(result, Ok(()));
    let want = zlib_reader(&body).unwrap();
    assert_eq!(want.len(), 300_000 + 5 + 1000);
    assert_eq!(out, want);
    assert!(charged < 4 * out.len(), "charged {charged}");
}

#[test]
fn encoder_output_matches_a_zlib_reader() {
    for (n, level) in [
        (0, 1),
        (1, 6),
        (65_535, 1),
        (178_250, 1),
        (178_250, 9),
        (1 << 20, 6),
    ] {
        let data = sample(n);
        let body = gzip_fast(&data, level);
        let (result, out, charged) = gz(&body, 2 << 20);
        assert_eq!(result, Ok(()), "{n} bytes, level {level}");
        assert_eq!(out, data, "{n} bytes, level {level}");
        assert_eq!(charged, n, "one room of the stated size");
    }
}

#[test]
fn corrupt_bodies_are_refused() {
    let good = stored_member(b"hello", 0, &[], HELLO_CRC, 5);
    let corrupt = |body: &[u8]| matches!(gz(body, 1 << 20).0, Err(Failure::Corrupt(_)));
    // Wrong CRC-32, wrong ISIZE (RFC 1952, 2.3.1: both checked).
    assert!(corrupt(&stored_member(b"hello", 0, &[], HELLO_CRC ^ 1, 5)));
    assert!(corrupt(&stored_member(b"hello", 0, &[], HELLO_CRC, 6)));
    // Not gzip: ID1/ID2, and a compression method other than 8 (deflate).
    let mut bad = good.clone();
    bad[0] = 0x1e;
    assert!(corrupt(&bad));
    let mut bad = good.clone();
    bad[2] = 7;
    assert!(corrupt(&bad));
    // Reserved flag bits set.
    let mut bad = good.clone();
    bad[3] = 0x20;
    assert!(corrupt(&bad));
    // Truncated anywhere, the empty body included.
    for cut in 0..good.len() {
        assert!(corrupt(&good[..cut]), "cut at {cut}");
    }
    // Stored block whose NLEN is not LEN's complement.
    let mut bad = good.clone();
    bad[13] ^= 1;
    assert!(corrupt(&bad));
    // Trailing bytes that are not a member.
    let mut bad = good.clone();
    bad.extend_from_slice(b"garbage!");
    assert!(corrupt(&bad));
    // A truncated real stream.
    let body = gzip_fast(&sample(100_000), 1);
    assert!(corrupt(&body[..body.len() / 2]));
}

#[test]
fn a_bomb_stops_at_the_limit() {
    let limit = 1 << 20;
    let body = gzip_fast(&vec![0u8; 64 << 20], 9);
    let (result, out, charged) = gz(&body, limit);
    assert_eq!(result, Err(Failure::TooLarge));
    assert!(
        out.capacity() <= limit && charged <= limit,
        "charged {charged}"
    );
    // Exactly at the limit is accepted.
    let body = gzip_fast(&vec![0u8; limit], 9);
    let (result, out, _) = gz(&body, limit);
    assert_eq!((result, out.len()), (Ok(()), limit));
    assert_eq!(gz(&body, limit - 1).0, Err(Failure::TooLarge));
}

/// Overwrites a gzip body's ISIZE field.
fn with_isize(mut body: Vec<u8>, isize: u32) -> Vec<u8> {
    let at = body.len() - 4;
    body[at..].copy_from_slice(&isize.to_le_bytes());
    body
}

#[test]
fn a_small_stated_size_with_a_huge_output_is_refused_within_the_limit() {
    let limit = 1 << 20;
    let body = with_isize(gzip_fast(&vec![0u8; 64 << 20], 9), 100);
    let (result, out, charged) = gz(&body, limit);
    assert_eq!(result, Err(Failure::TooLarge));
    assert!(
        out.capacity() <= limit && charged <= limit,
        "charged {charged}"
    );
    // Within the limit, the lie is found by the size check once the data is decoded.
    let body = with_isize(gzip_fast(&sample(200_000), 1), 100);
    assert!(matches!(gz(&body, limit).0, Err(Failure::Corrupt(_))));
}

#[test]
fn a_large_stated_size_is_capped_by_what_deflate_can_expand_to() {
    let member = stored_member(b"hello", 0, &[], HELLO_CRC, u32::MAX);
    let (result, _, charged) = gz(&member, 64 << 20);
    assert!(matches!(result, Err(Failure::Corrupt(_))));
    assert!(
        charged <= member.len() * MAX_DEFLATE_RATIO,
        "charged {charged}"
    );
    // And by the limit.
    let (_, _, charged) = gz(&member, 1000);
    assert!(charged <= 1000, "charged {charged}");
}

#[test]
fn a_refused_charge_stops_decoding() {
    let body = gzip_fast(&sample(100_000), 1);
    let mut out = Out::new(1 << 20, |_: usize| false);
    assert_eq!(gzip(&body, &mut out), Err(Failure::Refused));
    assert_eq!(out.buf.capacity(), 0);
}

/// A zstd frame (RFC 8878, 3.1.1) laid out by hand: magic, a Frame_Header_Descriptor with
/// Single_Segment_Flag set and a one-byte Frame_Content_Size, then one last Raw block.
fn raw_frame(data: &[u8], content_size: u8) -> Vec<u8> {
    let mut f = vec![0x28, 0xb5, 0x2f, 0xfd, 0x20, content_size];
    let header = 1 | ((data.len() as u32) << 3); // Last_Block, Raw_Block, Block_Size
    f.extend_from_slice(&header.to_le_bytes()[..3]);
    f.extend_from_slice(data);
    f
}

/// A skippable frame (RFC 8878, 3.1.2): magic 0x184D2A5?, a 4-byte size, user data.
fn skippable(data: &[u8]) -> Vec<u8> {
    let mut f = vec![0x53, 0x2a, 0x4d, 0x18];
    f.extend_from_slice(&(data.len() as u32).to_le_bytes());
    f.extend_from_slice(data);
    f
}

#[test]
fn hand_made_zstd_frames_decode() {
    assert_eq!(zs(&raw_frame(b"hello", 5), 1 << 20).1, b"hello");
    // Frames concatenate, and skippable frames are skipped.
    let mut body = skippable(b"metadata");
    body.extend_from_slice(&raw_frame(b"hello", 5));
    body.extend_from_slice(&skippable(b""));
    body.extend_from_slice(&raw_frame(b" world", 6));
    let (result, out, _) = zs(&body, 1 << 20);
    assert_eq!(result, Ok(()));
    assert_eq!(out, b"hello world");
}

#[test]
fn zstd_frames_with_and_without_a_content_size() {
    let data = sample(178_250);
    let with = zstd::bulk::compress(&data, 1).unwrap();
    assert_eq!(
        zstd_safe::get_frame_content_size(&with).ok(),
        Some(Some(data.len() as u64))
    );
    let (result, out, charged) = zs(&with, 1 << 20);
    assert_eq!((result, &out), (Ok(()), &data));
    assert_eq!(charged, data.len(), "one room of the stated size");
    let mut enc = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
    enc.include_contentsize(false).unwrap();
    enc.write_all(&data).unwrap();
    let without = enc.finish().unwrap();
    assert_eq!(zstd_safe::get_frame_content_size(&without).ok(), Some(None));
    let (result, out, charged) = zs(&without, 1 << 20);
    assert_eq!((result, &out), (Ok(()), &data));
    assert!(charged <= 4 * data.len(), "charged {charged}");
}

#[test]
fn bad_zstd_bodies_are_refused() {
    let corrupt = |body: &[u8]| matches!(zs(body, 1 << 20).0, Err(Failure::Corrupt(_)));
    assert!(corrupt(b""));
    assert!(corrupt(b"not zstd at all"));
    // A content size that is not what the blocks hold, either way.
    assert!(corrupt(&raw_frame(b"hello", 3)));
    assert!(corrupt(&raw_frame(b"hello", 9)));
    let good = zstd::bulk::compress(&sample(50_000), 1).unwrap();
    for cut in [1, 4, 6, good.len() / 2, good.len() - 1] {
        assert!(corrupt(&good[..cut]), "cut at {cut}");
    }
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    let (result, out, _) = zs(&flipped, 1 << 20);
    assert!(result.is_err() || out != sample(50_000));
}

#[test]
fn zstd_bombs_stop_at_the_limit() {
    let limit = 1 << 20;
    let zeros = vec![0u8; 64 << 20];
    let with = zstd::bulk::compress(&zeros, 19).unwrap();
    let (result, out, charged) = zs(&with, limit);
    assert_eq!(result, Err(Failure::TooLarge));
    assert!(
        out.capacity() <= limit && charged <= limit,
        "charged {charged}"
    );
    let mut enc = zstd::stream::Encoder::new(Vec::new(), 19).unwrap();
    enc.include_contentsize(false).unwrap();
    enc.write_all(&zeros).unwrap();
    let without = enc.finish().unwrap();
    let (result, out, charged) = zs(&without, limit);
    assert_eq!(result, Err(Failure::TooLarge));
    assert!(
        out.capacity() <= limit && charged <= limit,
        "charged {charged}"
    );
}

#[test]
fn mutated_bodies_never_exceed_the_limit_and_agree_with_zlib_when_both_accept() {
    let limit = 256 * 1024;
    let mut rng = fastrand::Rng::with_seed(20);
    let data = sample(100_000);
    let mut seeds = vec![
        gzip_fast(&data, 1),
        gzip_fast(&data[..5000], 9),
        [gzip_fast(&data[..300], 6), gzip_fast(&data[300..900], 1)].concat(),
        stored_member(b"hello", 0, &[], HELLO_CRC, 5),
    ];
    let zstd_seed = zstd::bulk::compress(&data, 1).unwrap();
    seeds.push(zstd_seed.clone());
    for i in 0..2000 {
        let mut body = seeds[i % seeds.len()].clone();
        for _ in 0..rng.usize(1..4) {
            match rng.u8(0..4) {
                0 if !body.is_empty() => {
                    let at = rng.usize(..body.len());
                    body[at] ^= 1 << rng.u8(0..8);
                }
                1 if !body.is_empty() => body.truncate(rng.usize(..body.len())),
                2 => {
                    let at = rng.usize(..=body.len());
                    body.insert(at, rng.u8(..));
                }
                _ if body.len() >= 4 => {
                    // A lying size field.
                    let at = body.len() - 4;
                    body[at..].copy_from_slice(&rng.u32(..).to_le_bytes());
                }
                _ => {}
            }
        }
        let is_zstd = i % seeds.len() == seeds.len() - 1;
        let (result, out, charged) = run(is_zstd, &body, limit);
        assert!(
            out.len() <= limit && charged <= limit,
            "input {i}: {charged}"
        );
        if is_zstd {
            if let (Ok(()), Ok(want)) = (&result, zstd::stream::decode_all(&body[..])) {
                assert_eq!(out, want, "input {i}");
            }
        } else if let (Ok(()), Ok(want)) = (&result, zlib_reader(&body)) {
            assert_eq!(out, want, "input {i}");
        }
    }
}
