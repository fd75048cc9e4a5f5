//! The body of the receive fuzz target (`fuzz/fuzz_targets/receive.rs`), shared with the
//! stable test that replays its corpus and random mutations (`tests/receive_fuzz.rs`).
//!
//! Any bytes, read as each signal in both formats, go the receiver's way: weighed on the
//! wire, held to the default limits, decoded, checked and bound to a cluster. Nothing may
//! panic, and the wire reading must agree with prost: what the walk calls malformed does
//! not decode, and the walk counts at least the items that decoding finds. Trace bytes
//! bound to a cluster on the wire decode to what the decoding path binds, and a resource
//! that the decoding path refuses for naming a reserved cluster is found on the wire.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use prost::Message;

use super::bind_wire;
use super::otlp::{Format, OtlpRequest};
use super::spans_fuzz::item_limits;
use super::wire::{self, WireError};
use super::{decode_checked, weigh};
use crate::config::Limits;
use crate::signal::Signal;
use crate::slo::facts::wire::check_spans_naming;

/// Runs `data` through the receive path as every signal and format.
pub fn receive_one(data: &[u8]) {
    one::<ExportTraceServiceRequest>(data);
    one::<ExportMetricsServiceRequest>(data);
    one::<ExportLogsServiceRequest>(data);
    bound_one(data);
}

/// The cluster attribute and the cluster a token binds, in the binding's comparisons.
pub(crate) const ATTR: &str = "k8s.cluster.name";
pub(crate) const CLUSTER: &str = "bound";

/// The decoding path of a trace request of a token bound to [`CLUSTER`]: decoded, checked
/// and bound; `None` when prost refuses it or an item breaks a rule.
pub(crate) fn decoded_and_bound(body: &[u8]) -> Option<ExportTraceServiceRequest> {
    let (req, checked) = decode_checked::<ExportTraceServiceRequest>(
        body,
        Format::Protobuf,
        &Limits::default(),
        Some((ATTR, CLUSTER)),
        (ATTR, &[]),
    )
    .ok()?;
    (checked.rejected == 0).then_some(req)
}

/// The same request bound on the wire as the receiver binds it: rewritten, then walked
/// (every item passes, no attribute below the resources names the label); `None` when the
/// receiver would decode it instead.
pub(crate) fn bound_on_wire(body: &[u8]) -> Option<Vec<u8>> {
    let limits = Limits::default();
    let bound = bind_wire::bound_attribute(ATTR, CLUSTER);
    let out = bind_wire::bind_spans(body, ATTR, &bound, limits.max_attributes_per_item)?;
    let (found, _) = check_spans_naming(&out, &item_limits(&limits), ATTR, None).ok()?;
    (found.clean && !found.names_label).then_some(out)
}

/// Bytes bound on the wire decode to what the decoding path binds, and are bound there
/// only when the decoding path takes them whole; a resource the decoding path refuses for
/// naming a reserved cluster is found on the wire.
fn bound_one(data: &[u8]) {
    if let Some(out) = bound_on_wire(data) {
        let want = decoded_and_bound(data)
            .expect("bound on the wire, but the decoding path refuses the request");
        let got = ExportTraceServiceRequest::decode(&out[..])
            .expect("bound on the wire into bytes prost refuses");
        assert_eq!(
            got, want,
            "bound on the wire, but not as the decoding path binds"
        );
    }
    let reserved: Vec<std::sync::Arc<str>> = vec!["a".into(), "bound".into()];
    if let Ok((_, checked)) = decode_checked::<ExportTraceServiceRequest>(
        data,
        Format::Protobuf,
        &Limits::default(),
        None,
        (ATTR, &reserved),
    ) && checked.rejected > 0
        && checked.message().contains("bound to another token")
    {
        let set = reserved.iter().cloned().collect();
        assert!(
            bind_wire::names_reserved(data, ATTR, &set),
            "a resource names a reserved cluster, but not on the wire"
        );
    }
}

fn items(signal: Signal, data: &[u8]) -> Option<u64> {
    use prost::Message;
    let n = |v: usize| v as u64;
    match signal {
        Signal::Traces => ExportTraceServiceRequest::decode(data).ok().map(|r| {
            r.resource_spans
                .iter()
                .flat_map(|rs| &rs.scope_spans)
                .map(|ss| n(ss.spans.len()))
                .sum()
        }),
        Signal::Logs => ExportLogsServiceRequest::decode(data).ok().map(|r| {
            r.resource_logs
                .iter()
                .flat_map(|rl| &rl.scope_logs)
                .map(|sl| n(sl.log_records.len()))
                .sum()
        }),
        Signal::Metrics => ExportMetricsServiceRequest::decode(data).ok().map(|r| {
            use opentelemetry_proto::tonic::metrics::v1::metric::Data;
            r.resource_metrics
                .iter()
                .flat_map(|rm| &rm.scope_metrics)
                .flat_map(|sm| &sm.metrics)
                .map(|m| match &m.data {
                    Some(Data::Gauge(g)) => n(g.data_points.len()),
                    Some(Data::Sum(s)) => n(s.data_points.len()),
                    Some(Data::Histogram(h)) => n(h.data_points.len()),
                    Some(Data::ExponentialHistogram(h)) => n(h.data_points.len()),
                    Some(Data::Summary(s)) => n(s.data_points.len()),
                    None => 0,
                })
                .sum()
        }),
    }
}

fn one<R: OtlpRequest>(data: &[u8]) {
    let decoded_items = items(R::SIGNAL, data);
    match wire::cost(R::SIGNAL, data) {
        Err(WireError::Malformed) => assert!(
            decoded_items.is_none(),
            "the wire reading refused a body prost decodes"
        ),
        Err(WireError::TooDeep) => {}
        Ok(cost) => {
            if let Some(n) = decoded_items {
                assert!(cost.items >= n, "wire items {} < decoded {n}", cost.items);
            }
        }
    }
    let limits = Limits::default();
    for format in [Format::Protobuf, Format::Json] {
        if let Ok(weight) = weigh::<R>(data, format, &limits)
            && let Ok((_, checked)) = decode_checked::<R>(
                data,
                format,
                &limits,
                Some(("k8s.cluster.name", "a")),
                ("k8s.cluster.name", &[]),
            )
            && let Some(items) = weight.items
        {
            // What was weighed before decoding covers what was decoded.
            let decoded = (checked.kept + checked.rejected) as u64;
            assert!(items >= decoded, "weighed {items} items, decoded {decoded}");
        }
    }
}

/// The inflate fuzz target's body (`fuzz/fuzz_targets/inflate.rs`): the first byte picks
/// gzip or zstd, the rest is the body. Whatever the body states about its size, the output
/// and the memory charged for it stay within the limit, and a body that both the one-shot
/// decoder and the streaming reference reader (zlib's `MultiGzDecoder`, libzstd's
/// streaming decoder, each read to at most one byte past the limit) accept decodes to the
/// same bytes.
pub fn inflate_one(data: &[u8]) {
    use std::io::Read;

    use super::inflate::{self, Out};

    const LIMIT: usize = 1 << 20;
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let is_zstd = pick & 1 == 1;
    let mut charged = 0usize;
    let mut out = Out::new(LIMIT, |n: usize| {
        charged += n;
        true
    });
    let result = if is_zstd {
        inflate::zstd(body, &mut out)
    } else {
        inflate::gzip(body, &mut out)
    };
    let got = std::mem::take(&mut out.buf);
    drop(out);
    assert!(got.len() <= LIMIT, "output {} past the limit", got.len());
    assert!(charged <= LIMIT, "charged {charged} past the limit");
    if result.is_err() {
        return;
    }
    let mut want = Vec::new();
    let bound = LIMIT as u64 + 1;
    let reference = if is_zstd {
        zstd::stream::read::Decoder::new(body).and_then(|d| d.take(bound).read_to_end(&mut want))
    } else {
        flate2::read::MultiGzDecoder::new(body)
            .take(bound)
            .read_to_end(&mut want)
    };
    if reference.is_ok() {
        assert_eq!(
            got, want,
            "the one-shot decoder and the reference reader differ"
        );
    }
}
