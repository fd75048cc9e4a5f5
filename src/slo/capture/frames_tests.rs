//! A capture file read message by message: what reading holds is one message, however
//! long the file, and a message stating more than the file holds, more than a capture
//! message holds, or more than zstd can regenerate ends the file there, located, before
//! anything of that size is allocated.

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::{BinaryArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema};

use super::frames::{Frames, MAX_MESSAGE};
use super::*;

const MIB: usize = 1 << 20;

/// A zstd stream of `batches` messages of `columns` binary columns, each one value of
/// `bytes` zeros: a few hundred bytes a message on disk that state `columns × bytes`
/// decompressed.
fn zeros(batches: usize, columns: usize, bytes: usize) -> Vec<u8> {
    let fields: Vec<Field> = (0..columns)
        .map(|i| Field::new(format!("c{i}"), DataType::Binary, false))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let value = vec![0u8; bytes];
    let arrays = (0..columns)
        .map(|_| Arc::new(BinaryArray::from(vec![&value[..]])) as arrow_array::ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    let options = arrow_ipc::writer::IpcWriteOptions::default()
        .try_with_compression(Some(arrow_ipc::CompressionType::ZSTD))
        .unwrap();
    let mut out = Vec::new();
    let mut w =
        arrow_ipc::writer::StreamWriter::try_new_with_options(&mut out, &schema, options).unwrap();
    for _ in 0..batches {
        w.write(&batch).unwrap();
    }
    w.finish().unwrap();
    drop(w);
    out
}

/// Where each message of a stream lies: its start, its metadata and its body.
struct Message {
    start: usize,
    meta: std::ops::Range<usize>,
    body: std::ops::Range<usize>,
}

fn messages(bytes: &[u8]) -> Vec<Message> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        if len == 0 {
            break;
        }
        let meta = at + 8..at + 8 + len;
        let body_len = arrow_ipc::root_as_message(&bytes[meta.clone()])
            .unwrap()
            .bodyLength() as usize;
        let body = meta.end..meta.end + body_len;
        out.push(Message {
            start: at,
            meta,
            body: body.clone(),
        });
        at = body.end;
    }
    out
}

/// `bytes` with the body length message `m`'s metadata states set to `new`.
fn with_body_length(bytes: &[u8], m: &Message, new: i64) -> Vec<u8> {
    let meta = &bytes[m.meta.clone()];
    let old = (m.body.len() as i64).to_le_bytes();
    for at in (0..meta.len() - 7).filter(|at| meta[*at..*at + 8] == old) {
        let mut patched = bytes.to_vec();
        patched[m.meta.start + at..m.meta.start + at + 8].copy_from_slice(&new.to_le_bytes());
        if arrow_ipc::root_as_message(&patched[m.meta.clone()]).map(|x| x.bodyLength()) == Ok(new) {
            return patched;
        }
    }
    panic!("no body length in the metadata");
}

/// What reading `len` bytes of `bytes` gives: where the messages handed out end, how
/// many there were, the damage, and the most the reading held for one message.
fn read(bytes: &[u8], len: u64, max_message: u64) -> (usize, usize, Option<String>, usize) {
    let mut frames = Frames::within(Cursor::new(bytes), len, max_message);
    let mut n = 0;
    while frames.next_frame().is_some() {
        n += 1;
    }
    let damage = frames.damage().map(str::to_string);
    (frames.offset() as usize, n, damage, frames.held())
}

#[test]
fn a_sound_stream_is_handed_on_message_by_message_holding_one_at_a_time() {
    let bytes = zeros(400, 2, 1000);
    let all = messages(&bytes);
    assert_eq!(all.len(), 401);
    let largest = all.iter().map(|m| m.body.end - m.start).max().unwrap();
    let (end, n, damage, most) = read(&bytes, bytes.len() as u64, MAX_MESSAGE);
    assert_eq!(damage, None);
    // Everything up to the end-of-stream marker.
    assert_eq!((end, n), (bytes.len() - 8, 401));
    assert!(
        most <= largest,
        "held {most} bytes, the largest message is {largest}"
    );
    assert!(
        most * 100 < bytes.len(),
        "held {most} of {} bytes",
        bytes.len()
    );
}

#[test]
fn a_message_may_not_state_more_than_the_limit_over_all_its_buffers() {
    let bytes = zeros(1, 8, MIB);
    assert!(bytes.len() < MIB / 8, "{} bytes", bytes.len());
    let schema_end = messages(&bytes)[1].start;
    // Each buffer states 1 MiB, within a 2 MiB limit; the message states 8 MiB.
    let (end, n, damage, most) = read(&bytes, bytes.len() as u64, 2 * MIB as u64);
    let damage = damage.expect("refused");
    assert!(
        damage.starts_with(&format!("message 1 at byte {schema_end}: "))
            && damage.contains("state an impossible size"),
        "{damage}"
    );
    // The schema (message 0) is sound, and nothing near the stated size was held.
    assert_eq!((end, n), (schema_end, 1));
    assert!(most < bytes.len(), "{most}");
    // Within the limit: the whole stream.
    let (end, n, damage, _) = read(&bytes, bytes.len() as u64, 9 * MIB as u64);
    assert_eq!((end, n, damage), (bytes.len() - 8, 2, None));
}

#[test]
fn a_message_claiming_a_gigabyte_is_damage_and_nothing_of_its_size_is_held() {
    let bytes = zeros(3, 1, 100);
    let all = messages(&bytes);
    let m = &all[2];
    // More than a capture message holds.
    let hostile = with_body_length(&bytes, m, 1 << 30);
    let (end, _, damage, most) = read(&hostile, hostile.len() as u64, MAX_MESSAGE);
    let damage = damage.expect("refused");
    assert!(
        damage.starts_with(&format!("message 2 at byte {}: ", m.start))
            && damage.contains("more than a capture message holds"),
        "{damage}"
    );
    assert_eq!(end, m.start);
    assert!(most < 4096, "held {most} bytes");
    // Within the bound, but more than the file holds: the file is not read past its end.
    let hostile = with_body_length(&bytes, m, 100 << 20);
    let (end, _, damage, most) = read(&hostile, hostile.len() as u64, MAX_MESSAGE);
    assert_eq!(
        damage.as_deref(),
        Some(format!("message 2 at byte {}: truncated body", m.start).as_str())
    );
    assert_eq!(end, m.start);
    assert!(most < 4096, "held {most} bytes");
    // A negative length.
    let hostile = with_body_length(&bytes, m, -1);
    let (_, _, damage, _) = read(&hostile, hostile.len() as u64, MAX_MESSAGE);
    assert!(damage.unwrap().ends_with("negative body length"));
}

#[test]
fn metadata_claiming_more_than_a_message_holds_is_damage() {
    let bytes = zeros(2, 1, 100);
    let m = &messages(&bytes)[1];
    for (len, why) in [
        (u32::MAX - 1, "negative metadata length"),
        (1 << 30, "more than a capture message holds"),
        (
            (bytes.len() - m.meta.start + 1) as u32,
            "truncated metadata",
        ),
    ] {
        let mut hostile = bytes.clone();
        hostile[m.start + 4..m.start + 8].copy_from_slice(&len.to_le_bytes());
        let (end, _, damage, most) = read(&hostile, hostile.len() as u64, MAX_MESSAGE);
        let damage = damage.expect("refused");
        assert!(
            damage.starts_with(&format!("message 1 at byte {}: ", m.start)) && damage.contains(why),
            "{damage}"
        );
        assert_eq!(end, m.start);
        assert!(most < 4096, "held {most} bytes");
    }
}

#[test]
fn a_zstd_buffer_stating_more_than_its_bytes_can_regenerate_is_damage() {
    let bytes = zeros(2, 1, 1000);
    let all = messages(&bytes);
    let m = &all[2];
    let batch = arrow_ipc::root_as_message(&bytes[m.meta.clone()])
        .unwrap()
        .header_as_record_batch()
        .unwrap();
    // The values' buffer (validity, offsets, values): its 8-byte stated size, then zstd.
    let buffer = batch.buffers().unwrap().get(2);
    let at = m.body.start + buffer.offset() as usize;
    let frame = buffer.length() as usize - 8;
    assert_eq!(
        i64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()),
        1000
    );
    for (stated, why) in [
        (1i64 << 40, "more than zstd can hold in it"),
        (
            (frame as i64) * (32 << 10) + 1,
            "more than zstd can hold in it",
        ),
        (i64::MAX, "more than zstd can hold in it"),
    ] {
        let mut hostile = bytes.clone();
        hostile[at..at + 8].copy_from_slice(&stated.to_le_bytes());
        let (end, _, damage, most) = read(&hostile, hostile.len() as u64, MAX_MESSAGE);
        let damage = damage.expect("refused");
        assert!(
            damage.starts_with(&format!("message 2 at byte {}: ", m.start)) && damage.contains(why),
            "{stated}: {damage}"
        );
        assert_eq!(end, m.start);
        assert!(most < 4096, "held {most} bytes");
    }
    // As much as zstd can regenerate from it passes the check (Arrow then finds the
    // frame short of it).
    let mut lying = bytes.clone();
    lying[at..at + 8].copy_from_slice(&((frame as i64) * (32 << 10)).to_le_bytes());
    let (_, _, damage, _) = read(&lying, lying.len() as u64, MAX_MESSAGE);
    assert_eq!(damage, None);
}

#[test]
fn a_cut_or_growing_file_ends_at_its_last_whole_message() {
    let bytes = zeros(5, 1, 1000);
    let all = messages(&bytes);
    let m = &all[4];
    for (cut, why) in [
        (m.start + 2, "truncated"),
        (m.start + 6, "truncated"),
        (m.meta.start + 3, "truncated metadata"),
        (m.body.start + 3, "truncated body"),
    ] {
        // Cut on disk, or longer on disk than when opened (a writer appending).
        for (file, len) in [(&bytes[..cut], cut), (&bytes[..], cut)] {
            let (end, n, damage, _) = read(file, len as u64, MAX_MESSAGE);
            assert_eq!(
                damage.as_deref(),
                Some(format!("message 4 at byte {}: {why}", m.start).as_str())
            );
            assert_eq!((end, n), (m.start, 4));
        }
    }
    // Cut between messages: the end, not damage.
    let (end, n, damage, _) = read(&bytes, m.start as u64, MAX_MESSAGE);
    assert_eq!((end, n, damage), (m.start, 4, None));
}

/// Spans whose requests the capture writes as several messages.
fn captured(dir: &std::path::Path, requests: usize, spans: usize) -> std::path::PathBuf {
    use opentelemetry_proto::tonic::trace::v1::Span;
    let capture = Capture::start(
        &super::tests::cfg(dir, 1 << 30, Duration::from_secs(3600)),
        super::tests::settings(),
    )
    .unwrap();
    let engine = super::tests::engine(&capture);
    const T0: u64 = 1_800_000_000_000_000_000;
    for r in 0..requests {
        let spans = (0..spans)
            .map(|i| Span {
                name: format!("span {}", (i + r) % 100),
                kind: 2,
                start_time_unix_nano: T0 - 1_000_000,
                end_time_unix_nano: T0,
                ..Default::default()
            })
            .collect();
        let req = crate::test_otlp::traces_request(Vec::new(), spans);
        engine.record_spans_from(&req, None, None, None);
    }
    capture.close();
    let files = list_files(dir).unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].path.clone()
}

#[test]
fn the_reader_reads_up_to_a_hostile_message_and_says_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let path = captured(dir.path(), 3, 9000);
    let good = std::fs::read(&path).unwrap();
    let all = messages(&good);
    let batches: Vec<&Message> = all
        .iter()
        .filter(|m| {
            arrow_ipc::root_as_message(&good[m.meta.clone()])
                .unwrap()
                .header_as_record_batch()
                .is_some()
        })
        .collect();
    assert_eq!(batches.len(), 3);
    let spans = |path: &std::path::Path| {
        let mut reader = Reader::open(path).unwrap();
        let n: usize = reader.by_ref().map(|b| b.facts.len()).sum();
        (n, reader.warning().map(str::to_string))
    };
    assert_eq!(spans(&path), (27_000, None));

    // The last message claims a gigabyte: the first two come out, then the warning.
    let last = batches[2];
    std::fs::write(&path, with_body_length(&good, last, 1 << 30)).unwrap();
    let (n, warning) = spans(&path);
    assert_eq!(n, 18_000);
    let warning = warning.expect("a warning");
    let message = all.iter().position(|m| m.start == last.start).unwrap();
    assert!(
        warning.starts_with(&format!(
            "{}: batch 2: message {message} at byte {}: it states",
            path.display(),
            last.start
        )) && warning.ends_with("; the rest of the file is skipped"),
        "{warning}"
    );

    // Cut in the middle of its body: the same two.
    std::fs::write(&path, &good[..last.body.start + last.body.len() / 2]).unwrap();
    let (n, warning) = spans(&path);
    assert_eq!(n, 18_000);
    assert!(warning.unwrap().contains(&format!(
        "message {message} at byte {}: truncated body",
        last.start
    )));

    // Damaged from the schema on: the file cannot be opened, and the error says where.
    let mut hostile = good.clone();
    hostile[4..8].copy_from_slice(&(1u32 << 30).to_le_bytes());
    std::fs::write(&path, hostile).unwrap();
    let e = Reader::open(&path).err().expect("refused").to_string();
    assert!(
        e.contains("message 0 at byte 0: its metadata states 1073741824 bytes")
            && e.contains("more than a capture message holds"),
        "{e}"
    );
    std::fs::write(&path, b"").unwrap();
    let e = Reader::open(&path).err().expect("refused").to_string();
    assert!(e.ends_with(": empty"), "{e}");
}

#[test]
fn the_projection_still_skips_the_columns_not_needed() {
    let dir = tempfile::tempdir().unwrap();
    let path = captured(dir.path(), 2, 9000);
    let all = Reader::open(&path)
        .unwrap()
        .next_message()
        .unwrap()
        .facts
        .batch
        .num_columns();
    let mut needed = crate::slo::facts::FactsSchema::default();
    needed.add_group_by(&AttrRef::Item("http.route".into()));
    let mut reader = Reader::open_for(&path, Some(&needed)).unwrap();
    let mut n = 0;
    while let Some(message) = reader.next_message() {
        assert_eq!(message.columns, needed);
        assert!(message.facts.batch.num_columns() < all);
        n += message.facts.len();
    }
    assert_eq!((n, reader.warning()), (18_000, None));
}
