//! A metrics export request cut down to some of its metrics, for the capture: on the wire,
//! from the bytes as received (every kept metric, resource and scope copied as it came,
//! the enclosing lengths written anew), or, when only the decoded request is at hand (a
//! processor changed it), by cloning the kept metrics and encoding them.
//!
//! The wire cut reads only the structure: a request's `resource_metrics` (field 1), a
//! `ResourceMetrics`' `scope_metrics` (2), a `ScopeMetrics`' `metrics` (2) and a metric's
//! `name` (1); every other field of a resource's or scope's message is kept as it came
//! (the resource, the scope, schema URLs, fields unknown here), so the cut decodes to the
//! decoded request's kept metrics with their resources and scopes whole.

use bytes::Buf;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{ResourceMetrics, ScopeMetrics};
use prost::encoding::{WireType, decode_key, decode_varint, encode_key, encode_varint};

/// One field of a message: its tag, all of its bytes (key, length and payload), and the
/// payload of a length-delimited field.
struct Field<'a> {
    tag: u32,
    whole: &'a [u8],
    payload: Option<&'a [u8]>,
}

/// The fields of a message, in order, read as they are needed (no list is built: a
/// request holds a metric message per metric); `None` for bytes that are not a message,
/// after which nothing more is read.
fn fields(buf: &[u8]) -> impl Iterator<Item = Option<Field<'_>>> {
    let mut buf = buf;
    let mut failed = false;
    std::iter::from_fn(move || {
        if buf.is_empty() || failed {
            return None;
        }
        let field = next_field(&mut buf);
        failed = field.is_none();
        Some(field)
    })
}

/// The field at the start of `buf`, `buf` moved past it.
fn next_field<'a>(buf: &mut &'a [u8]) -> Option<Field<'a>> {
    let start = *buf;
    let (tag, wire_type) = decode_key(buf).ok()?;
    let payload = match wire_type {
        WireType::LengthDelimited => {
            let len = usize::try_from(decode_varint(buf).ok()?).ok()?;
            let payload = buf.get(..len)?;
            buf.advance(len);
            Some(payload)
        }
        WireType::Varint => {
            decode_varint(buf).ok()?;
            None
        }
        WireType::SixtyFourBit | WireType::ThirtyTwoBit => {
            let n = if wire_type == WireType::SixtyFourBit {
                8
            } else {
                4
            };
            if buf.len() < n {
                return None;
            }
            buf.advance(n);
            None
        }
        WireType::StartGroup | WireType::EndGroup => return None,
    };
    Some(Field {
        tag,
        whole: &start[..start.len() - buf.len()],
        payload,
    })
}

/// A metric's name (field 1, the last one when repeated), or empty.
fn name(metric: &[u8]) -> Option<&[u8]> {
    let mut name: &[u8] = &[];
    for f in fields(metric) {
        if let Field {
            tag: 1,
            payload: Some(p),
            ..
        } = f?
        {
            name = p;
        }
    }
    Some(name)
}

/// A kept field of a message: copied as it came, or a kept child message written anew as
/// field 2 (a resource's scope, with only its kept metrics).
enum Part<'a, C> {
    Verbatim(&'a [u8]),
    Child(C),
}

/// A message's kept fields, in their order.
struct Kept<'a, C> {
    parts: Vec<Part<'a, C>>,
    children: usize,
}

impl<C> Kept<'_, C> {
    fn new() -> Self {
        Self {
            parts: Vec::new(),
            children: 0,
        }
    }
}

/// The bytes of a length-delimited field of `len` bytes, tag 1 or 2.
fn len_field(len: usize) -> usize {
    prost::encoding::key_len(2) + prost::encoding::encoded_len_varint(len as u64) + len
}

impl<C: AsField> Kept<'_, C> {
    /// The message's length.
    fn len(&self) -> usize {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Verbatim(b) => b.len(),
                Part::Child(c) => c.field_len(),
            })
            .sum()
    }

    fn write(&self, out: &mut Vec<u8>) {
        for p in &self.parts {
            match p {
                Part::Verbatim(b) => out.extend_from_slice(b),
                Part::Child(c) => c.write_field(out),
            }
        }
    }
}

/// A kept child as a field of its parent.
trait AsField {
    fn field_len(&self) -> usize;
    fn write_field(&self, out: &mut Vec<u8>);
}

/// A metric is its own field.
impl AsField for &[u8] {
    fn field_len(&self) -> usize {
        <[u8]>::len(self)
    }

    fn write_field(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
}

/// A scope is field 2 of its resource, written anew.
impl AsField for Kept<'_, &[u8]> {
    fn field_len(&self) -> usize {
        len_field(self.len())
    }

    fn write_field(&self, out: &mut Vec<u8>) {
        encode_key(2, WireType::LengthDelimited, out);
        encode_varint(self.len() as u64, out);
        self.write(out);
    }
}

/// The request `body` (protobuf) with only the metrics whose names `kept` takes, each with
/// its resource and scope; `None` when it has none of them or is not a request.
pub(super) fn cut_wire(body: &[u8], kept: impl Fn(&[u8]) -> bool) -> Option<Vec<u8>> {
    let mut resources: Vec<Kept<'_, Kept<'_, &[u8]>>> = Vec::new();
    for rm in fields(body) {
        let rm = rm?;
        let (1, Some(rm)) = (rm.tag, rm.payload) else {
            continue;
        };
        let mut resource = Kept::new();
        for f in fields(rm) {
            let f = f?;
            let (2, Some(sm)) = (f.tag, f.payload) else {
                resource.parts.push(Part::Verbatim(f.whole));
                continue;
            };
            let mut scope = Kept::new();
            for g in fields(sm) {
                let g = g?;
                match (g.tag, g.payload) {
                    (2, Some(metric)) => {
                        if kept(name(metric)?) {
                            scope.parts.push(Part::Child(g.whole));
                            scope.children += 1;
                        }
                    }
                    _ => scope.parts.push(Part::Verbatim(g.whole)),
                }
            }
            if scope.children > 0 {
                resource.parts.push(Part::Child(scope));
                resource.children += 1;
            }
        }
        if resource.children > 0 {
            resources.push(resource);
        }
    }
    if resources.is_empty() {
        return None;
    }
    let len: usize = resources.iter().map(|r| len_field(r.len())).sum();
    let mut out = Vec::with_capacity(len);
    for r in &resources {
        encode_key(1, WireType::LengthDelimited, &mut out);
        encode_varint(r.len() as u64, &mut out);
        r.write(&mut out);
    }
    Some(out)
}

/// [`cut_wire`] from the decoded request: the kept metrics cloned and encoded.
pub(super) fn cut_decoded(
    req: &ExportMetricsServiceRequest,
    kept: impl Fn(&[u8]) -> bool,
) -> Option<Vec<u8>> {
    let resource_metrics: Vec<ResourceMetrics> = req
        .resource_metrics
        .iter()
        .filter_map(|rm| {
            let scope_metrics: Vec<ScopeMetrics> = rm
                .scope_metrics
                .iter()
                .filter_map(|sm| {
                    let metrics: Vec<_> = sm
                        .metrics
                        .iter()
                        .filter(|m| kept(m.name.as_bytes()))
                        .cloned()
                        .collect();
                    (!metrics.is_empty()).then(|| ScopeMetrics {
                        scope: sm.scope.clone(),
                        metrics,
                        schema_url: sm.schema_url.clone(),
                    })
                })
                .collect();
            (!scope_metrics.is_empty()).then(|| ResourceMetrics {
                resource: rm.resource.clone(),
                scope_metrics,
                schema_url: rm.schema_url.clone(),
            })
        })
        .collect();
    (!resource_metrics.is_empty())
        .then(|| prost::Message::encode_to_vec(&ExportMetricsServiceRequest { resource_metrics }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::kv;
    use crate::test_otlp::{counter, histogram, metrics_of};
    use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
    use opentelemetry_proto::tonic::metrics::v1::{HistogramDataPoint, NumberDataPoint};
    use prost::Message;

    /// Requests of several resources and scopes, metrics of several names in any order,
    /// with schema URLs and scopes set.
    fn requests() -> Vec<ExportMetricsServiceRequest> {
        let mut rng = fastrand::Rng::with_seed(7);
        let names = ["a", "b", "http.server.request.duration", "c.d"];
        (0..200)
            .map(|_| {
                let resources = (0..rng.usize(0..4)).map(|r| {
                    let metrics = (0..rng.usize(0..6))
                        .map(|i| {
                            let name = names[rng.usize(..names.len())];
                            match i % 2 {
                                0 => histogram(
                                    name,
                                    2,
                                    vec![HistogramDataPoint {
                                        count: rng.u64(..100),
                                        bucket_counts: vec![rng.u64(..10); 3],
                                        explicit_bounds: vec![0.1, 0.2],
                                        ..Default::default()
                                    }],
                                ),
                                _ => counter(name, 1, vec![NumberDataPoint::default()]),
                            }
                        })
                        .collect();
                    (vec![kv("service.name", format!("s{r}"))], metrics)
                });
                let mut req = metrics_of(resources.collect::<Vec<_>>());
                for (i, rm) in req.resource_metrics.iter_mut().enumerate() {
                    rm.schema_url = format!("https://schemas/{i}");
                    let half = rm.scope_metrics[0].metrics.len() / 2;
                    let moved = rm.scope_metrics[0].metrics.split_off(half);
                    rm.scope_metrics.push(ScopeMetrics {
                        scope: Some(InstrumentationScope {
                            name: "lib".into(),
                            version: "1".into(),
                            ..Default::default()
                        }),
                        metrics: moved,
                        schema_url: "https://scope".into(),
                    });
                }
                req
            })
            .collect()
    }

    #[test]
    fn the_wire_cut_decodes_to_the_decoded_cut() {
        type Keep = dyn Fn(&[u8]) -> bool;
        let keeps: [&Keep; 4] = [
            &|n| n == b"a",
            &|n| n == b"http.server.request.duration" || n == b"c.d",
            &|_| true,
            &|_| false,
        ];
        for req in requests() {
            let body = req.encode_to_vec();
            for keep in keeps {
                let wire = cut_wire(&body, keep);
                let decoded = cut_decoded(&req, keep);
                let as_request = |b: Option<Vec<u8>>| {
                    b.map(|b| ExportMetricsServiceRequest::decode(&b[..]).unwrap())
                };
                assert_eq!(as_request(wire), as_request(decoded));
            }
            // Keeping everything keeps the bytes as they came.
            // (When no resource or scope goes without metrics.)
            if !req.resource_metrics.is_empty()
                && req
                    .resource_metrics
                    .iter()
                    .all(|rm| rm.scope_metrics.iter().all(|sm| !sm.metrics.is_empty()))
            {
                assert_eq!(cut_wire(&body, |_| true).as_deref(), Some(&body[..]));
            }
        }
    }

    #[test]
    fn bytes_that_are_not_a_request_cut_to_nothing() {
        for bad in [
            &b"\x0a\x05ab"[..],
            b"\x0b",
            b"\x0a\x02\x12\x05",
            b"\xff\xff\xff",
        ] {
            assert_eq!(cut_wire(bad, |_| true), None);
        }
    }
}
