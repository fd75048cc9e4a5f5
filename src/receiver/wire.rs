//! Counting the items of an encoded OTLP request by walking the protobuf wire format:
//! no message is built and nothing is allocated, so refusing a request under backpressure
//! (and counting what was refused) costs a small fraction of decoding it.

use crate::telemetry::Signal;

fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let (b, rest) = buf.split_first()?;
        *buf = rest;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Calls `f` with every length-delimited field whose number is in `want`; skips the rest.
/// `None` when the bytes are not a well-formed message.
fn fields(mut msg: &[u8], want: &[u64], mut f: impl FnMut(&[u8]) -> Option<()>) -> Option<()> {
    while !msg.is_empty() {
        let key = varint(&mut msg)?;
        match key & 7 {
            0 => {
                varint(&mut msg)?;
            }
            1 => msg = msg.get(8..)?,
            5 => msg = msg.get(4..)?,
            2 => {
                let len = usize::try_from(varint(&mut msg)?).ok()?;
                let (value, rest) = msg.split_at_checked(len)?;
                if want.contains(&(key >> 3)) {
                    f(value)?;
                }
                msg = rest;
            }
            _ => return None,
        }
    }
    Some(())
}

/// Counts the repeated field `leaf` under the path of nested fields `path`.
fn count_path(msg: &[u8], path: &[&[u64]], n: &mut u64) -> Option<()> {
    match path.split_first() {
        None => {
            *n += 1;
            Some(())
        }
        Some((want, rest)) => fields(msg, want, |inner| count_path(inner, rest, n)),
    }
}

/// Spans, data points or log records in an encoded export request of `signal`.
pub fn count_items(signal: Signal, request: &[u8]) -> Option<u64> {
    // Field numbers from opentelemetry-proto: resource_* (1) → scope_* (2) → items (2);
    // metrics: metrics (2) → gauge 5 | sum 7 | histogram 9 | exponential_histogram 10 |
    // summary 11 → data_points (1).
    let path: &[&[u64]] = match signal {
        Signal::Traces | Signal::Logs => &[&[1], &[2], &[2]],
        Signal::Metrics => &[&[1], &[2], &[2], &[5, 7, 9, 10, 11], &[1]],
    };
    let mut n = 0;
    count_path(request, path, &mut n)?;
    Some(n)
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::loadgen::{ContentOpts, generate};

    #[test]
    fn counts_match_the_decoded_requests() {
        let mut rng = fastrand::Rng::with_seed(9);
        let opts = ContentOpts::default();
        let traces = generate::traces(&mut rng, 300, &opts).encode_to_vec();
        assert_eq!(count_items(Signal::Traces, &traces), Some(300));
        let logs = generate::logs(&mut rng, 120, &opts).encode_to_vec();
        assert_eq!(count_items(Signal::Logs, &logs), Some(120));
        let metrics = generate::metrics(&mut rng, 77, &opts);
        let want = crate::receiver::otlp::OtlpRequest::check(
            &mut metrics.clone(),
            &crate::config::Limits::default(),
        )
        .kept as u64;
        assert_eq!(
            count_items(Signal::Metrics, &metrics.encode_to_vec()),
            Some(want)
        );
        assert_eq!(count_items(Signal::Traces, &[0x0a, 0xff]), None);
        assert_eq!(
            count_items(Signal::Traces, &traces[..traces.len() - 3]),
            None
        );
        assert_eq!(count_items(Signal::Traces, &[]), Some(0));
    }
}
