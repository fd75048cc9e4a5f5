//! The cluster binding of a trace request on the protobuf wire, without decoding it.
//!
//! Binding a token's cluster changes the resources only (as long as no attribute below them
//! names the cluster's label, which the receiver's walk tells: then the request is decoded
//! as before). [`bind_spans`] copies every field of the request as received except each
//! `ResourceSpans.resource`, which it writes anew: the attributes of every copy of the
//! resource (prost merges them) whose key is not the cluster attribute's label
//! ([`same_label`]), then the bound attribute, then the resource's other fields, all as
//! received. Decoding the result gives the message that decoding, binding
//! ([`super::check`]'s `bind_cluster`) and nothing else would; encoding that message gives
//! the same bytes for a request prost itself encoded.
//!
//! [`names_reserved`] reads the resources of a request of a token bound to no cluster: the
//! request needs the decoding path (which refuses resources naming a reserved cluster) only
//! when a resource attribute under a key of the cluster attribute's label holds a string
//! that is a reserved cluster, or when the resources are malformed.
//!
//! Only the framing of the levels rewritten is read here (request, `ResourceSpans`,
//! `Resource`, the keys of its attributes), strictly as prost reads it; the attributes
//! removed are checked with prost (the bytes forwarded no longer hold them), and every
//! byte kept is checked by the receiver's walk of the result.

use std::collections::HashSet;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use crate::attr::same_label;
// The wire as the span walk reads it (prost's rules); its `Malformed` sends a request to
// the decoding path, which says why.
use crate::slo::facts::wire::proto::{LEN, RECURSION_LIMIT, key, len_delimited, skip};
use crate::slo::facts::wire::{Malformed, Read};

/// One field of a message: its number, its bytes as received (key included) and, for a
/// length-delimited field, its value (else empty).
struct Field<'a> {
    tag: u32,
    wt: u8,
    bytes: &'a [u8],
    value: &'a [u8],
}

fn field<'a>(buf: &mut &'a [u8]) -> Read<Field<'a>> {
    let start = *buf;
    let (tag, wt) = key(buf)?;
    let mut value: &[u8] = &[];
    if wt == LEN {
        value = len_delimited(buf, LEN)?;
    } else {
        skip(buf, wt, tag, RECURSION_LIMIT)?;
    }
    let used = start.len() - buf.len();
    Ok(Field {
        tag,
        wt,
        bytes: &start[..used],
        value,
    })
}

/// A message field of number 1 (`resource_spans`, `resource`, `attributes`): prost refuses
/// another wire type.
fn message_one<'a>(f: &Field<'a>) -> Read<&'a [u8]> {
    if f.wt == LEN {
        Ok(f.value)
    } else {
        Err(Malformed("wrong wire type"))
    }
}

/// The key of an encoded `KeyValue` as prost decodes it (the last copy), `None` when it
/// has none; `Malformed` when it is not UTF-8.
fn kv_key(mut kv: &[u8]) -> Read<Option<&str>> {
    let mut k = None;
    while !kv.is_empty() {
        let f = field(&mut kv)?;
        if f.tag == 1 {
            k = Some(message_one(&f)?);
        }
    }
    k.map(|k| std::str::from_utf8(k).map_err(|_| Malformed("invalid UTF-8 in a string")))
        .transpose()
}

/// Whether an encoded `KeyValue`, at the depth of a resource attribute, decodes. The shape
/// senders use (a key, then a value holding one string, each once) is read here; any other
/// is decoded with prost, in a request that holds it alone.
fn decodes(kv: &[u8]) -> bool {
    string_attribute(kv).unwrap_or_else(|| prost_decodes(kv))
}

/// For a `KeyValue` of exactly a key field then a value field holding exactly one string
/// field: whether both are UTF-8. `None` for any other shape.
fn string_attribute(mut kv: &[u8]) -> Option<bool> {
    let string = |buf: &mut &[u8]| -> Option<bool> {
        let (&tag, rest) = buf.split_first()?;
        *buf = rest;
        (tag == 0x0a).then_some(())?;
        let bytes = len_delimited(buf, LEN).ok()?;
        Some(std::str::from_utf8(bytes).is_ok())
    };
    let key = string(&mut kv)?;
    let (&0x12, rest) = kv.split_first()? else {
        return None;
    };
    kv = rest;
    let mut value = len_delimited(&mut kv, LEN).ok()?;
    let utf8 = string(&mut value)?;
    (kv.is_empty() && value.is_empty()).then_some(key && utf8)
}

/// Whether an encoded `KeyValue` decodes with prost at the depth of a resource attribute.
fn prost_decodes(kv: &[u8]) -> bool {
    let mut bytes = Vec::with_capacity(kv.len() + 16);
    let resource = 1 + prost::encoding::encoded_len_varint(kv.len() as u64) + kv.len();
    let resource_spans = 1 + prost::encoding::encoded_len_varint(resource as u64) + resource;
    for len in [resource_spans, resource, kv.len()] {
        bytes.push(0x0a);
        prost::encoding::encode_varint(len as u64, &mut bytes);
    }
    bytes.extend_from_slice(kv);
    ExportTraceServiceRequest::decode(&bytes[..]).is_ok()
}

/// The encoded `KeyValue` that binds `cluster` under `attr`.
pub(super) fn bound_attribute(attr: &str, cluster: &str) -> Vec<u8> {
    crate::attr::kv(attr, cluster).encode_to_vec()
}

/// The trace request `body` with `bound` (an encoded `KeyValue` of `attr`,
/// [`bound_attribute`]) set once on every resource, every attribute of a resource whose key
/// becomes `attr`'s label removed, and every other byte as received; `None` when the
/// request must be decoded instead: the levels read are not framed as prost reads them, an
/// attribute removed would not decode, or a resource has more than `max_attributes`
/// attributes (the decoding path refuses the request). The caller's walk of the result
/// checks the rest and whether an attribute below the resources names the label.
pub(super) fn bind_spans(
    body: &[u8],
    attr: &str,
    bound: &[u8],
    max_attributes: usize,
) -> Option<Vec<u8>> {
    bind(body, attr, bound, max_attributes).ok()
}

fn bind(mut body: &[u8], attr: &str, bound: &[u8], max_attributes: usize) -> Read<Vec<u8>> {
    let bound_len = 1 + prost::encoding::encoded_len_varint(bound.len() as u64) + bound.len();
    let mut out = Vec::with_capacity(body.len() + 2 * bound_len + 16);
    // The kept attributes, the resource's other fields and the `ResourceSpans`' other
    // fields of one entry, as received.
    let mut kept: Vec<&[u8]> = Vec::new();
    let mut other: Vec<&[u8]> = Vec::new();
    let mut rest: Vec<&[u8]> = Vec::new();
    while !body.is_empty() {
        let f = field(&mut body)?;
        if f.tag != 1 {
            out.extend_from_slice(f.bytes);
            continue;
        }
        let mut rs = message_one(&f)?;
        kept.clear();
        other.clear();
        rest.clear();
        let mut attributes = 0usize;
        while !rs.is_empty() {
            let g = field(&mut rs)?;
            if g.tag != 1 {
                rest.push(g.bytes);
                continue;
            }
            let mut resource = message_one(&g)?;
            while !resource.is_empty() {
                let h = field(&mut resource)?;
                if h.tag != 1 {
                    other.push(h.bytes);
                    continue;
                }
                let kv = message_one(&h)?;
                attributes += 1;
                if same_label(kv_key(kv)?.unwrap_or(""), attr) {
                    if !decodes(kv) {
                        return Err(Malformed("an attribute prost refuses"));
                    }
                } else {
                    kept.push(h.bytes);
                }
            }
        }
        if attributes > max_attributes {
            return Err(Malformed("a resource past the attribute limit"));
        }
        let sum = |fields: &[&[u8]]| fields.iter().map(|b| b.len()).sum::<usize>();
        let resource_len = sum(&kept) + bound_len + sum(&other);
        let entry_len = 1
            + prost::encoding::encoded_len_varint(resource_len as u64)
            + resource_len
            + sum(&rest);
        out.push(0x0a);
        prost::encoding::encode_varint(entry_len as u64, &mut out);
        out.push(0x0a);
        prost::encoding::encode_varint(resource_len as u64, &mut out);
        kept.iter().for_each(|b| out.extend_from_slice(b));
        out.push(0x0a);
        prost::encoding::encode_varint(bound.len() as u64, &mut out);
        out.extend_from_slice(bound);
        other.iter().for_each(|b| out.extend_from_slice(b));
        rest.iter().for_each(|b| out.extend_from_slice(b));
    }
    Ok(out)
}

/// Whether a resource of the trace request `body` may name one of `reserved` under a key
/// of `attr`'s label: some copy of such a key with some string value in `reserved`, or
/// resources not framed as prost reads them (the decoding path then says why). `false`
/// means the decoding path would refuse no resource for naming a reserved cluster.
pub(super) fn names_reserved(body: &[u8], attr: &str, reserved: &HashSet<Arc<str>>) -> bool {
    !reserved.is_empty() && resources_name(body, attr, reserved).unwrap_or(true)
}

fn resources_name(mut body: &[u8], attr: &str, reserved: &HashSet<Arc<str>>) -> Read<bool> {
    while !body.is_empty() {
        let f = field(&mut body)?;
        if f.tag != 1 {
            continue;
        }
        let mut rs = message_one(&f)?;
        while !rs.is_empty() {
            let g = field(&mut rs)?;
            if g.tag != 1 {
                continue;
            }
            let mut resource = message_one(&g)?;
            while !resource.is_empty() {
                let h = field(&mut resource)?;
                if h.tag == 1 && attribute_names(message_one(&h)?, attr, reserved)? {
                    return Ok(true);
                }
            }
        }
    }
    Ok(false)
}

/// Whether an encoded `KeyValue` has a key of `attr`'s label and a string value in
/// `reserved` (any copy of either).
fn attribute_names(mut kv: &[u8], attr: &str, reserved: &HashSet<Arc<str>>) -> Read<bool> {
    let (mut named, mut held) = (false, false);
    while !kv.is_empty() {
        let f = field(&mut kv)?;
        match f.tag {
            1 => {
                let k = std::str::from_utf8(message_one(&f)?)
                    .map_err(|_| Malformed("invalid UTF-8 in a string"))?;
                named |= same_label(k, attr);
            }
            2 if f.wt == LEN => {
                let mut value = f.value;
                while !value.is_empty() {
                    let v = field(&mut value)?;
                    if v.tag == 1 {
                        let s = std::str::from_utf8(message_one(&v)?)
                            .map_err(|_| Malformed("invalid UTF-8 in a string"))?;
                        held |= reserved.contains(s);
                    }
                }
            }
            2 => return Err(Malformed("an attribute value that is not a message")),
            _ => {}
        }
    }
    Ok(named && held)
}
