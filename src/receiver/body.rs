//! Reading a request body under guard: it must arrive whole within the body timeout, and
//! every byte read is charged to the memory budget as it arrives, so that slow or parallel
//! uploads (many HTTP/2 streams, many connections) cannot hold more memory than the budget
//! before a single request has been looked at.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;

use super::{ReceiveError, inflate};
use crate::pipeline::budget::{Charge, MemoryBudget};
use crate::signal::Compression;

/// Bytes read bodies are charged per byte received: the frames as they arrive and the
/// contiguous copy they are gathered into.
const BODY_CHARGE_FACTOR: usize = 2;

/// Decompresses a whole `body` in one call ([`inflate`](super::inflate)), refusing output
/// past `limit` decompressed bytes. The output buffer is sized from the size the body
/// states, capped at the limit, and grows by doubling when that was short; every byte of
/// room is charged to `budget` before it is reserved, so a compression bomb or a lying
/// size holds no memory it was not charged for, and never more than the limit. Over the
/// budget the client is told to retry.
pub fn decompress(
    body: &[u8],
    encoding: Compression,
    limit: usize,
    budget: &MemoryBudget,
    retry_after: Duration,
) -> Result<(Vec<u8>, Charge), ReceiveError> {
    if encoding == Compression::None {
        if body.len() > limit {
            return Err(too_large(limit));
        }
        let charge = budget
            .try_charge(body.len())
            .map_err(|_| overloaded(retry_after))?;
        return Ok((body.to_vec(), charge));
    }
    let mut charge = budget.try_charge(0).map_err(|_| overloaded(retry_after))?;
    let mut out = inflate::Out::new(limit, |n| match budget.try_charge(n) {
        Ok(c) => {
            charge.merge(c);
            true
        }
        Err(_) => false,
    });
    let done = match encoding {
        Compression::Gzip => inflate::gzip(body, &mut out),
        Compression::Zstd | Compression::None => inflate::zstd(body, &mut out),
    };
    let buf = out.buf;
    match done {
        Ok(()) => Ok((buf, charge)),
        Err(inflate::Failure::TooLarge) => Err(too_large(limit)),
        Err(inflate::Failure::Refused) => Err(overloaded(retry_after)),
        Err(inflate::Failure::Corrupt(why)) => Err(ReceiveError::InvalidArgument(format!(
            "cannot decompress request body: {why}"
        ))),
    }
}

fn too_large(limit: usize) -> ReceiveError {
    ReceiveError::TooLarge(format!(
        "decompressed request body is larger than the limit of {limit} bytes"
    ))
}

fn overloaded(retry_after: Duration) -> ReceiveError {
    ReceiveError::Overloaded {
        message: "memory budget in use while decompressing the request body".to_string(),
        retry_after,
    }
}

/// What happened to a guarded body, and the charge for what was read of it.
#[derive(Default)]
pub struct Guard {
    expired: AtomicBool,
    over_budget: AtomicBool,
    charge: Mutex<Option<Charge>>,
}

impl Guard {
    /// Why reading failed, when the guard stopped it.
    pub fn error(&self, timeout: Duration, retry_after: Duration) -> Option<ReceiveError> {
        if self.expired.load(Ordering::Relaxed) {
            Some(ReceiveError::Timeout(timeout))
        } else if self.over_budget.load(Ordering::Relaxed) {
            Some(ReceiveError::Overloaded {
                message: "memory budget in use while reading the request body".to_string(),
                retry_after,
            })
        } else {
            None
        }
    }

    fn add(&self, charge: Charge) {
        let mut held = match self.charge.lock() {
            Ok(g) => g,
            Err(e) => e.into_inner(),
        };
        match held.as_mut() {
            Some(c) => c.merge(charge),
            None => *held = Some(charge),
        }
    }
}

/// A request body read under a deadline and charged to the budget.
pub struct GuardedBody {
    inner: axum::body::Body,
    deadline: Pin<Box<tokio::time::Sleep>>,
    budget: MemoryBudget,
    guard: Arc<Guard>,
}

impl GuardedBody {
    pub fn new(
        inner: axum::body::Body,
        timeout: Duration,
        budget: MemoryBudget,
    ) -> (Self, Arc<Guard>) {
        let guard = Arc::new(Guard::default());
        let body = Self {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            budget,
            guard: guard.clone(),
        };
        (body, guard)
    }
}

impl http_body::Body for GuardedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.guard.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new("request body timed out"))));
        }
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            other => return other,
        };
        if let Some(data) = frame.data_ref() {
            match self
                .budget
                .try_charge(data.len().saturating_mul(BODY_CHARGE_FACTOR))
            {
                Ok(c) => self.guard.add(c),
                Err(_) => {
                    self.guard.over_budget.store(true, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(axum::Error::new(
                        "memory budget in use while reading the request body",
                    ))));
                }
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::inflate::tests::gzip_fast;
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn bytes_read_are_charged_until_the_guard_goes() {
        let budget = MemoryBudget::new(1 << 20);
        let (body, guard) = GuardedBody::new(
            axum::body::Body::from(vec![7u8; 1000]),
            Duration::from_secs(5),
            budget.clone(),
        );
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(bytes.len(), 1000);
        assert_eq!(budget.used(), 1000 * BODY_CHARGE_FACTOR);
        drop(guard);
        assert_eq!(budget.used(), 0);
    }

    #[tokio::test]
    async fn a_body_larger_than_the_budget_is_refused_as_retryable() {
        let budget = MemoryBudget::new(100);
        let (body, guard) = GuardedBody::new(
            axum::body::Body::from(vec![7u8; 1000]),
            Duration::from_secs(5),
            budget.clone(),
        );
        assert!(body.collect().await.is_err());
        assert!(matches!(
            guard.error(Duration::from_secs(5), Duration::from_secs(1)),
            Some(ReceiveError::Overloaded { .. })
        ));
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_limit_and_is_charged_for_what_it_took() {
        let bomb = gzip_fast(&vec![0u8; 64 << 20], 9);
        assert!(bomb.len() < 1 << 20);
        let budget = MemoryBudget::new(256 << 20);
        let err = decompress(
            &bomb,
            Compression::Gzip,
            4 << 20,
            &budget,
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(matches!(err, ReceiveError::TooLarge(_)), "{err:?}");
        assert_eq!(budget.used(), 0, "the charge goes with the error");
        // Within a small budget the same bomb is refused as retryable before it grows.
        let small = MemoryBudget::new(1 << 20);
        let err = decompress(
            &bomb,
            Compression::Gzip,
            4 << 20,
            &small,
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(matches!(err, ReceiveError::Overloaded { .. }), "{err:?}");
    }

    #[test]
    fn decompressed_bodies_are_charged_for_their_room() {
        let data = b"hello otlp".repeat(100_000);
        let budget = MemoryBudget::new(64 << 20);
        for (enc, compressed) in [
            (Compression::Gzip, gzip_fast(&data, 9)),
            (Compression::Zstd, zstd::encode_all(&data[..], 3).unwrap()),
            (Compression::None, data.clone()),
        ] {
            let (out, charge) =
                decompress(&compressed, enc, 1 << 20, &budget, Duration::from_secs(1)).unwrap();
            assert_eq!(out, data);
            // The stated size is exact here: one room of the output's size.
            assert!(charge.bytes() >= out.len() && charge.bytes() <= out.capacity());
        }
        let err = decompress(
            b"not zstd",
            Compression::Zstd,
            1 << 20,
            &budget,
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(matches!(err, ReceiveError::InvalidArgument(_)));
        let err = decompress(
            &data,
            Compression::None,
            1000,
            &budget,
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(matches!(err, ReceiveError::TooLarge(_)));
        assert_eq!(budget.used(), 0);
    }

    /// A body whose frames come from a channel.
    struct Channel(tokio::sync::mpsc::Receiver<Bytes>);

    impl http_body::Body for Channel {
        type Data = Bytes;
        type Error = axum::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
            self.0
                .poll_recv(cx)
                .map(|b| b.map(|b| Ok(http_body::Frame::data(b))))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickling_body_times_out() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(1);
        let budget = MemoryBudget::new(1 << 20);
        let (body, guard) = GuardedBody::new(
            axum::body::Body::new(Channel(rx)),
            Duration::from_secs(30),
            budget,
        );
        let sender = tokio::spawn(async move {
            while tx.send(Bytes::from_static(b"x")).await.is_ok() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        assert!(body.collect().await.is_err());
        assert!(matches!(
            guard.error(Duration::from_secs(30), Duration::from_secs(1)),
            Some(ReceiveError::Timeout(_))
        ));
        sender.abort();
    }
}
