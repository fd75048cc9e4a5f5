use bytes::Bytes;

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

async fn take(q: &Queue) -> Taken {
    match q.pop().await {
        Some(Next::Record(t)) => t,
        Some(Next::Corrupt) => panic!("corrupt"),
        None => panic!("closed"),
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
    let q = Queue::disk(1 << 20, dir.path(), "otlp/tempo").unwrap();
    let (ack, mut rx) = crate::pipeline::Ack::new();
    q.push(rec(1), Some(ack)).unwrap();
    q.push(rec(2), None).unwrap();
    // Not committed: not visible, not acknowledged.
    let early = tokio::time::timeout(std::time::Duration::from_millis(50), q.pop()).await;
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
    let q = Queue::disk(1 << 20, dir.path(), "otlp/tempo").unwrap();
    assert_eq!(q.usage().0, 1);
    let again = take(&q).await;
    assert_eq!(again.record, rec(2));
    assert!(again.restored);
    q.done(&again);
    q.commit().await.unwrap();
    drop(q);
    let q = Queue::disk(1 << 20, dir.path(), "otlp/tempo").unwrap();
    assert_eq!(q.usage().0, 0);
}

#[tokio::test]
async fn a_corrupt_record_is_skipped_and_an_unreadable_file_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (store, _) = disk::Store::open(dir.path(), "q").unwrap();
        store
            .commit(&[(0, vec![9, 9, 9]), (1, rec(4).encode())], &[])
            .unwrap();
    }
    let q = Queue::disk(1 << 20, dir.path(), "q").unwrap();
    assert!(matches!(q.pop().await, Some(Next::Corrupt)));
    let t = take(&q).await;
    assert_eq!(t.record, rec(4));
    q.done(&t);
    q.commit().await.unwrap();
    drop(q);

    std::fs::write(dir.path().join("bad.redb"), b"not a database at all").unwrap();
    let q = Queue::disk(1 << 20, dir.path(), "bad").unwrap();
    assert_eq!(q.usage().0, 0);
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("bad.redb.corrupt-")
        });
    assert!(aside, "the unreadable file is kept aside for inspection");
    q.push(rec(1), None).unwrap();
    q.commit().await.unwrap();
    assert_eq!(take(&q).await.record, rec(1));
}
