use std::io;
use std::ops::Bound;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use redb::backends::FileBackend;
use redb::{BackendError, StorageBackend};

use super::*;

fn rec(n: u8) -> Record {
    Record {
        tenant: Some(format!("t{}", n % 10)),
        items: u64::from(n),
        route: 0,
        queued_ms: 1_000 + u64::from(n),
        body: Bytes::from(vec![n; 100]),
    }
}

/// A record of `len` body bytes numbered `n` (in `items`).
fn big(n: u64, len: usize) -> Record {
    Record {
        tenant: None,
        items: n,
        route: 1,
        queued_ms: n,
        body: Bytes::from(vec![(n % 251) as u8; len]),
    }
}

async fn take(q: &Queue) -> Taken {
    match q.pop().await {
        Some(Next::Record(t)) => t,
        Some(Next::Corrupt) => panic!("corrupt"),
        None => panic!("closed"),
    }
}

fn disk(dir: &Path, name: &str) -> Queue {
    Queue::disk(1 << 30, dir, name, DiskOptions::default()).unwrap()
}

/// Pops (committing now and then, as the committer task does) until nothing is ready for
/// a while: (records read, corrupt ones skipped).
async fn drain(q: &Queue) -> (Vec<Taken>, usize) {
    let (mut got, mut corrupt, mut idle) = (Vec::new(), 0, 0);
    loop {
        tokio::select! {
            next = q.pop() => match next {
                Some(Next::Record(t)) => {
                    got.push(t);
                    idle = 0;
                }
                Some(Next::Corrupt) => corrupt += 1,
                None => return (got, corrupt),
            },
            _ = tokio::time::sleep(Duration::from_millis(100)) => {
                let _ = q.commit().await;
                idle += 1;
                if idle >= 5 && q.blocked().is_none() {
                    return (got, corrupt);
                }
                assert!(idle < 200, "the queue did not recover: {:?}", q.blocked());
            }
        }
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A file backend that fails on demand: writes past what the file already holds and
/// growth fail with ENOSPC while `full`; every read fails with EIO while `eio`. Counts the
/// bytes read.
#[derive(Debug)]
struct Faulty {
    inner: FileBackend,
    faults: Arc<Faults>,
}

#[derive(Debug, Default)]
struct Faults {
    full: AtomicBool,
    eio: AtomicBool,
    read_bytes: AtomicU64,
}

impl Faults {
    fn wrap(self: &Arc<Self>) -> Wrap {
        let faults = self.clone();
        Arc::new(move |inner| {
            Box::new(Faulty {
                inner,
                faults: faults.clone(),
            })
        })
    }
}

fn enospc() -> io::Error {
    io::Error::from_raw_os_error(28)
}

impl StorageBackend for Faulty {
    fn len(&self) -> Result<u64, io::Error> {
        self.inner.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        if self.faults.eio.load(Ordering::SeqCst) {
            return Err(io::Error::from_raw_os_error(5));
        }
        self.faults
            .read_bytes
            .fetch_add(out.len() as u64, Ordering::Relaxed);
        self.inner.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        if self.faults.full.load(Ordering::SeqCst) && len > self.inner.len()? {
            return Err(enospc());
        }
        self.inner.set_len(len)
    }
    fn sync_data(&self) -> Result<(), io::Error> {
        self.inner.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        if self.faults.full.load(Ordering::SeqCst) {
            // A full disk still takes writes over what is there, but the pages redb
            // writes a commit's new data to are refused: fail any write but the header's.
            if offset > 0 {
                return Err(enospc());
            }
        }
        self.inner.write(offset, data)
    }
    fn close(&self) -> Result<(), io::Error> {
        self.inner.close()
    }
    fn try_lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_range(s, e)
    }
    fn try_lock_shared_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_shared_range(s, e)
    }
    fn lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_range(s, e)
    }
    fn lock_shared_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_shared_range(s, e)
    }
    fn unlock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<(), BackendError> {
        self.inner.unlock_range(s, e)
    }
    fn query_lock_range(&self, s: Bound<u64>, e: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.query_lock_range(s, e)
    }
}

fn faulty(faults: &Arc<Faults>) -> DiskOptions {
    DiskOptions {
        wrap: Some(faults.wrap()),
        ..DiskOptions::default()
    }
}

#[tokio::test]
async fn memory_queue_is_fifo_and_bounded() {
    let size = rec(1).size();
    let q = Queue::memory(size * 3);
    for n in 1..=3 {
        assert!(q.has_room());
        q.push(rec(n), None).unwrap();
    }
    assert!(
        !q.has_room(),
        "full at max_bytes: the pipeline refuses new data"
    );
    // The hard limit is twice max_bytes.
    for n in 4..=6 {
        q.push(rec(n), None).unwrap();
    }
    assert_eq!(q.push(rec(7), None), Err(Full));
    let t = take(&q).await;
    assert_eq!(t.record, rec(1));
    assert_eq!(q.usage().0, 6, "in flight still counts");
    q.done(&t);
    assert_eq!(q.usage(), (5, 5 * size, Some(1_002)));
    q.close();
    let mut seen = Vec::new();
    while let Some(Next::Record(t)) = q.pop().await {
        seen.push(t.record.items);
        q.done(&t);
    }
    assert_eq!(seen, vec![2, 3, 4, 5, 6]);
    assert_eq!(q.usage(), (0, 0, None));
}

#[tokio::test]
async fn disk_records_appear_only_once_durable_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let q = disk(dir.path(), "otlp/tempo");
    let (ack, mut rx) = crate::pipeline::Ack::new();
    q.push(rec(1), Some(ack)).unwrap();
    q.push(rec(2), None).unwrap();
    // Not committed: not visible, not acknowledged.
    let early = tokio::time::timeout(Duration::from_millis(50), q.pop()).await;
    assert!(early.is_err(), "uncommitted records are not delivered");
    assert!(rx.try_recv().is_err());
    q.commit().await.unwrap();
    assert_eq!(rx.await, Ok(true));
    let first = take(&q).await;
    assert_eq!(first.record, rec(1));
    assert!(!first.restored);
    q.done(&first);
    q.commit().await.unwrap();
    let second = take(&q).await;
    assert_eq!(second.record, rec(2));
    // Taken but never done (a crash mid-delivery): it comes back after reopening.
    drop(q);
    let q = disk(dir.path(), "otlp/tempo");
    assert_eq!(q.usage().0, 1);
    assert_eq!(q.usage().1, rec(2).size(), "bytes are restored exactly");
    let again = take(&q).await;
    assert_eq!(again.record, rec(2));
    assert!(again.restored);
    q.done(&again);
    // New records after a restart take new ids and follow the restored ones.
    q.push(rec(3), None).unwrap();
    q.commit().await.unwrap();
    assert_eq!(take(&q).await.record, rec(3));
    drop(q);
    let q = disk(dir.path(), "otlp/tempo");
    assert_eq!(q.usage().0, 1, "rec(3) was never done");
    let t = take(&q).await;
    assert_eq!(t.record, rec(3));
    q.done(&t);
    q.commit().await.unwrap();
    drop(q);
    let q = disk(dir.path(), "otlp/tempo");
    assert_eq!(q.usage(), (0, 0, None));
}

#[tokio::test]
async fn a_corrupt_record_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    {
        let opened = disk::Store::open(dir.path(), "q", DiskOptions::default()).unwrap();
        let mut flipped = rec(5).encode();
        flipped[30] ^= 1;
        opened
            .store
            .commit(
                &[(0, vec![9, 9, 9]), (1, rec(4).encode()), (2, flipped)],
                &[],
            )
            .unwrap();
    }
    let q = disk(dir.path(), "q");
    assert_eq!(q.usage().0, 3);
    assert!(matches!(q.pop().await, Some(Next::Corrupt)));
    let t = take(&q).await;
    assert_eq!(t.record, rec(4));
    q.done(&t);
    assert!(
        matches!(q.pop().await, Some(Next::Corrupt)),
        "a flipped bit in the body fails the record's checksum"
    );
    q.commit().await.unwrap();
    assert_eq!(q.usage().0, 0);
    drop(q);
    assert_eq!(
        disk(dir.path(), "q").usage().0,
        0,
        "corrupt records deleted"
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_set_aside_and_a_new_one_started() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.redb"), b"not a database at all").unwrap();
    let q = disk(dir.path(), "bad");
    assert_eq!(q.usage().0, 0);
    let files = names(dir.path());
    assert!(
        files.iter().any(|f| f.starts_with("bad.redb.damaged-")),
        "the unreadable file is kept aside for inspection: {files:?}"
    );
    q.push(rec(1), None).unwrap();
    q.commit().await.unwrap();
    assert_eq!(take(&q).await.record, rec(1));
}

#[tokio::test]
async fn a_second_open_of_a_live_queue_is_a_lock_error_and_sets_nothing_aside() {
    let dir = tempfile::tempdir().unwrap();
    let q = disk(dir.path(), "otlp/a");
    q.push(rec(1), None).unwrap();
    q.commit().await.unwrap();
    let before = names(dir.path());
    let second = Queue::disk(1 << 20, dir.path(), "otlp/a", DiskOptions::default());
    match second {
        Err(e @ OpenError::Locked { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("otlp_a.redb"), "names the file: {msg}");
            assert!(msg.contains("another process"), "{msg}");
        }
        Err(e) => panic!("expected a lock error, got {e}"),
        Ok(_) => panic!("a second open must fail"),
    }
    assert_eq!(names(dir.path()), before, "nothing set aside");
    // The live queue still works, and keeps its data.
    assert_eq!(take(&q).await.record, rec(1));
    drop(q);
    assert_eq!(disk(dir.path(), "otlp/a").usage().0, 1);
}

#[tokio::test]
async fn an_io_error_at_open_is_an_error_and_sets_nothing_aside() {
    let dir = tempfile::tempdir().unwrap();
    let q = disk(dir.path(), "q");
    q.push(rec(1), None).unwrap();
    q.commit().await.unwrap();
    drop(q);
    let before = names(dir.path());
    let faults = Arc::new(Faults::default());
    faults.eio.store(true, Ordering::SeqCst);
    match Queue::disk(1 << 20, dir.path(), "q", faulty(&faults)) {
        Err(e @ OpenError::Io { .. }) => assert!(e.to_string().contains("q.redb"), "{e}"),
        Err(e) => panic!("expected an i/o error, got {e}"),
        Ok(_) => panic!("the open must fail"),
    }
    assert_eq!(names(dir.path()), before, "nothing set aside");
    assert_eq!(
        disk(dir.path(), "q").usage().0,
        1,
        "the record is still there"
    );
}

/// Commits until the queue is up again (real time: reopening runs on blocking threads).
async fn commit_until_up(q: &Queue) {
    for _ in 0..200 {
        if q.commit().await.is_ok() && q.has_room() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the queue did not recover: {:?}", q.blocked());
}

#[tokio::test]
async fn a_full_disk_refuses_with_a_reason_and_recovers_by_itself_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Arc::new(Faults::default());
    let q = Queue::disk(1 << 30, dir.path(), "q", faulty(&faults)).unwrap();
    for n in 0..50 {
        q.push(big(n, 2000), None).unwrap();
    }
    q.commit().await.unwrap();
    let mut taken = Vec::new();
    for _ in 0..50 {
        taken.push(take(&q).await);
    }

    faults.full.store(true, Ordering::SeqCst);
    // Delivered during the outage: the deletes wait for the disk.
    for t in &taken[..40] {
        q.done(t);
    }
    let (ack, rx) = crate::pipeline::Ack::new();
    q.push(big(100, 50_000), Some(ack)).unwrap();
    assert!(q.commit().await.is_err());
    assert_eq!(rx.await, Ok(false), "the sender is told to retry");
    assert!(!q.has_room(), "a queue that cannot write takes nothing");
    let why = q.blocked().expect("the queue says why it refuses");
    assert!(why.contains("i/o"), "{why}");
    assert_eq!(q.push(big(101, 10), None), Err(Full));
    // Still full: reopening does not make it accept.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..3 {
        let _ = q.commit().await;
    }
    assert!(!q.has_room());

    faults.full.store(false, Ordering::SeqCst);
    commit_until_up(&q).await;
    assert!(q.blocked().is_none());
    q.push(big(102, 100), None).unwrap();
    q.commit().await.unwrap();
    drop(q);
    // After a restart only what was not delivered comes back.
    let q = disk(dir.path(), "q");
    let (got, corrupt) = drain(&q).await;
    let mut items: Vec<u64> = got.iter().map(|t| t.record.items).collect();
    items.sort_unstable();
    let mut want: Vec<u64> = (40..50).collect();
    want.push(102);
    assert_eq!(items, want, "deletes from the outage were written after it");
    assert_eq!(corrupt, 0);
}

#[tokio::test]
async fn opening_reads_counts_not_records() {
    let dir = tempfile::tempdir().unwrap();
    let q = disk(dir.path(), "q");
    for n in 0..2_000 {
        q.push(big(n, 4096), None).unwrap();
    }
    q.commit().await.unwrap();
    drop(q);
    let faults = Arc::new(Faults::default());
    let q = Queue::disk(1 << 30, dir.path(), "q", faulty(&faults)).unwrap();
    let read = faults.read_bytes.load(Ordering::Relaxed);
    let (records, bytes, _) = q.usage();
    assert_eq!(records, 2_000);
    assert_eq!(bytes, 2_000 * big(0, 4096).size());
    assert!(
        read < 1 << 20,
        "opening a queue of 8 MiB read {read} bytes of it"
    );
    // Restored records come back in order, read as consumers ask.
    for n in 0..5 {
        let t = take(&q).await;
        assert_eq!(t.record.items, n);
        assert!(t.restored);
    }
}

#[tokio::test]
async fn the_file_shrinks_once_drained() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DiskOptions {
        compact_every: Duration::ZERO,
        ..DiskOptions::default()
    };
    let q = Queue::disk(1 << 30, dir.path(), "q", opts).unwrap();
    for n in 0..2_000 {
        q.push(big(n, 8192), None).unwrap();
    }
    q.commit().await.unwrap();
    let path = q.path().unwrap().to_path_buf();
    let full = std::fs::metadata(&path).unwrap().len();
    assert!(full > 16 << 20, "{full}");
    for _ in 0..2_000 {
        let t = take(&q).await;
        q.done(&t);
    }
    q.commit().await.unwrap();
    let drained = std::fs::metadata(&path).unwrap().len();
    assert!(
        drained < full / 4,
        "file of {full} bytes still {drained} once drained"
    );
    // Still a working queue.
    q.push(big(9, 10), None).unwrap();
    q.commit().await.unwrap();
    assert_eq!(take(&q).await.record.items, 9);
}

/// Writes `n` records of ~1 KiB into a fresh queue file and returns the file's path.
async fn filled(dir: &Path, n: u64) -> std::path::PathBuf {
    let q = disk(dir, "q");
    // Several commits, with deletes, so the file has history.
    for chunk in 0..4 {
        for i in 0..n / 4 {
            q.push(big(chunk * (n / 4) + i, 1000), None).unwrap();
        }
        q.commit().await.unwrap();
    }
    let path = q.path().unwrap().to_path_buf();
    drop(q);
    path
}

#[tokio::test]
async fn damaged_pages_are_salvaged_never_a_panic() {
    let n = 400u64;
    let mut total_salvaged = 0;
    let seeds = match std::env::var("SEED") {
        Ok(v) => v.parse().unwrap()..v.parse::<u64>().unwrap() + 1,
        Err(_) => 0..40u64,
    };
    let seeds_n = seeds.end - seeds.start;
    let mut delivered = 0usize;
    for seed in seeds {
        let dir = tempfile::tempdir().unwrap();
        let path = filled(dir.path(), n).await;
        let mut bytes = std::fs::read(&path).unwrap();
        let mut rng = fastrand::Rng::with_seed(seed);
        for _ in 0..rng.usize(1..20) {
            let at = rng.usize(0..bytes.len());
            let len = rng.usize(1..64).min(bytes.len() - at);
            for b in &mut bytes[at..at + len] {
                *b = rng.u8(..);
            }
        }
        std::fs::write(&path, &bytes).unwrap();
        let opened = std::panic::catch_unwind(|| {
            Queue::disk(1 << 30, dir.path(), "q", DiskOptions::default())
        });
        let q = match opened {
            Ok(Ok(q)) => q,
            Ok(Err(e)) => panic!("seed {seed}: open failed: {e}"),
            Err(_) => panic!("seed {seed}: open panicked"),
        };
        let opened_with = q.usage().0;
        let (_, lost_at_open) = q.take_salvage_counts();
        let (got, corrupt) = drain(&q).await;
        let (salvaged, lost) = q.take_salvage_counts();
        let lost = lost + lost_at_open;
        let mut seen = std::collections::HashSet::new();
        for t in &got {
            assert!(
                t.record.items < n,
                "seed {seed}: a record that was never queued"
            );
            assert_eq!(
                t.record,
                big(t.record.items, 1000),
                "seed {seed}: altered record"
            );
            assert!(seen.insert(t.record.items), "seed {seed}: duplicate");
        }
        // Every record is delivered, skipped as corrupt or counted as lost: none vanishes
        // silently (unless the file was beyond reading at all, its counts included).
        let accounted = got.len() as u64 + corrupt as u64 + lost;
        if opened_with > 0 {
            assert!(
                accounted >= n,
                "seed {seed}: {accounted} of {n} accounted for"
            );
        }
        total_salvaged += salvaged;
        delivered += got.len();
        // A salvaged queue is a working queue.
        q.push(big(7, 10), None).unwrap();
        q.commit().await.unwrap();
        let t = take(&q).await;
        assert_eq!(t.record, big(7, 10), "seed {seed}");
    }
    assert!(total_salvaged > 0, "some seeds damaged the tree");
    assert!(
        delivered as u64 > seeds_n * n * 8 / 10,
        "most records survive a few damaged bytes: {delivered}"
    );
}

/// Figures for the README: start-up time against queue length, file size as it drains.
/// `cargo nextest run --lib -E 'test(disk_queue_figures)' --run-ignored only --no-capture`
#[tokio::test]
#[ignore = "measurement, prints figures"]
async fn disk_queue_figures() {
    for n in [1_000u64, 100_000] {
        let dir = tempfile::tempdir().unwrap();
        let opts = DiskOptions {
            compact_every: Duration::ZERO,
            ..DiskOptions::default()
        };
        let q = Queue::disk(1 << 40, dir.path(), "q", opts.clone()).unwrap();
        for chunk in 0..n / 1000 {
            for i in 0..1000 {
                q.push(big(chunk * 1000 + i, 1024), None).unwrap();
            }
            q.commit().await.unwrap();
        }
        let path = q.path().unwrap().to_path_buf();
        drop(q);
        let full = std::fs::metadata(&path).unwrap().len();
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let q = Queue::disk(1 << 40, dir.path(), "q", opts.clone()).unwrap();
            best = best.min(t.elapsed());
            assert_eq!(q.usage().0 as u64, n);
        }
        // What opening cost before: every record read to build the index.
        let t = Instant::now();
        {
            let db = disk::open_db(&path, &opts, false).ok().unwrap();
            let txn = redb::ReadableDatabase::begin_read(&db).unwrap();
            let table = txn.open_table(disk::RECORDS).unwrap();
            let mut total = 0usize;
            for item in redb::ReadableTable::iter(&table).unwrap() {
                total += item.unwrap().1.value().len();
            }
            assert!(total > 0);
        }
        let scan = t.elapsed();
        let q = Queue::disk(1 << 40, dir.path(), "q", opts.clone()).unwrap();
        for _ in 0..n {
            let t = take(&q).await;
            q.done(&t);
        }
        q.commit().await.unwrap();
        let drained = std::fs::metadata(&path).unwrap().len();
        eprintln!(
            "{n} records of 1 KiB: file {full} bytes; open {best:?} (reading every record: {scan:?}); drained file {drained} bytes"
        );
    }
}
