//! The protobuf wire format as prost decodes it: varints, keys, wire types, unknown
//! fields and groups, the recursion limit; and the OTLP messages the walk only checks or
//! looks attributes up in (`KeyValue`, `AnyValue`, scopes, events, links, entity refs).

use opentelemetry_proto::tonic::common::v1::KeyValue;
use prost::Message;

use super::{Malformed, Read};
use crate::slo::facts::build::KeyIndex;
use crate::slo::ottl::Val;

/// prost's recursion limit: messages (and groups) nest at most this deep.
pub(crate) const RECURSION_LIMIT: u32 = 100;

pub(crate) const VARINT: u8 = 0;
pub(crate) const I64: u8 = 1;
pub(crate) const LEN: u8 = 2;
pub(crate) const START_GROUP: u8 = 3;
pub(crate) const END_GROUP: u8 = 4;
pub(crate) const I32: u8 = 5;

/// A varint: the one- and two-byte forms (keys, lengths of strings and of most messages,
/// small numbers) read where the caller is, the longer ones by [`varint_long`].
#[inline(always)]
pub(crate) fn varint(buf: &mut &[u8]) -> Read<u64> {
    match **buf {
        [b, ref rest @ ..] if b < 0x80 => {
            *buf = rest;
            Ok(u64::from(b))
        }
        [low, high, ref rest @ ..] if high < 0x80 => {
            // `low` has its continuation bit (the first arm did not match).
            *buf = rest;
            Ok(u64::from(low & 0x7f) | u64::from(high) << 7)
        }
        _ => varint_long(buf),
    }
}

/// A varint of any length (what [`varint`] does not read in place), as prost reads it.
#[inline(never)]
pub(crate) fn varint_long(buf: &mut &[u8]) -> Read<u64> {
    let mut value = 0u64;
    for i in 0..10 {
        let (&b, rest) = buf.split_first().ok_or(Malformed("truncated varint"))?;
        *buf = rest;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            // The tenth byte holds the 64th bit only.
            return if i == 9 && b >= 2 {
                Err(Malformed("varint above 64 bits"))
            } else {
                Ok(value)
            };
        }
    }
    Err(Malformed("varint longer than 10 bytes"))
}

/// A field's number and wire type.
#[inline(always)]
pub(crate) fn key(buf: &mut &[u8]) -> Read<(u32, u8)> {
    let key = varint(buf)?;
    let key = u32::try_from(key).map_err(|_| Malformed("field key above 32 bits"))?;
    let wt = (key & 7) as u8;
    if wt > I32 {
        return Err(Malformed("unknown wire type"));
    }
    if key >> 3 == 0 {
        return Err(Malformed("field number 0"));
    }
    Ok((key >> 3, wt))
}

#[inline(always)]
pub(crate) fn len_delimited<'a>(buf: &mut &'a [u8], wt: u8) -> Read<&'a [u8]> {
    if wt != LEN {
        return Err(Malformed("wrong wire type"));
    }
    let len = varint(buf)?;
    let len = usize::try_from(len).map_err(|_| Malformed("length past the end"))?;
    let (value, rest) = buf
        .split_at_checked(len)
        .ok_or(Malformed("length past the end"))?;
    *buf = rest;
    Ok(value)
}

#[inline(always)]
pub(super) fn string<'a>(buf: &mut &'a [u8], wt: u8) -> Read<&'a str> {
    utf8(len_delimited(buf, wt)?)
}

/// `bytes` as a `str` when they are UTF-8, as `std::str::from_utf8` tells; ASCII (keys,
/// names and most values) is told by a test of every byte's high bit, where the caller
/// is, and only other bytes are validated by `from_utf8`.
#[inline(always)]
pub(super) fn utf8(bytes: &[u8]) -> Read<&str> {
    if ascii(bytes) {
        // SAFETY: ASCII is UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).map_err(|_| Malformed("invalid UTF-8 in a string"))
}

/// Whether every byte of `bytes` is ASCII: the high bits of eight bytes at a time
/// (the last eight overlapping the ones before), without a branch a byte.
#[inline(always)]
fn ascii(bytes: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let word = |b: &[u8]| b.first_chunk::<8>().map_or(0, |w| u64::from_ne_bytes(*w));
    let half = |b: &[u8]| b.first_chunk::<4>().map_or(0, |w| u32::from_ne_bytes(*w));
    let n = bytes.len();
    if n >= 8 {
        let (words, _) = bytes.as_chunks::<8>();
        let all = words
            .iter()
            .fold(word(&bytes[n - 8..]), |acc, w| acc | u64::from_ne_bytes(*w));
        all & HIGH == 0
    } else if n >= 4 {
        (half(bytes) | half(&bytes[n - 4..])) & 0x8080_8080 == 0
    } else {
        bytes.iter().fold(0, |acc, b| acc | b) < 0x80
    }
}

#[inline]
pub(super) fn scalar(buf: &mut &[u8], wt: u8) -> Read<u64> {
    if wt != VARINT {
        return Err(Malformed("wrong wire type"));
    }
    varint(buf)
}

#[inline]
pub(super) fn fixed<const N: usize>(buf: &mut &[u8], wt: u8) -> Read<[u8; N]> {
    if wt != if N == 8 { I64 } else { I32 } {
        return Err(Malformed("wrong wire type"));
    }
    let (value, rest) = buf
        .split_first_chunk::<N>()
        .ok_or(Malformed("truncated fixed-width field"))?;
    *buf = rest;
    Ok(*value)
}

/// A nested message and the recursion budget of its fields.
#[inline]
pub(super) fn message<'a>(buf: &mut &'a [u8], wt: u8, ctx: u32) -> Read<(&'a [u8], u32)> {
    let value = len_delimited(buf, wt)?;
    if ctx == 0 {
        return Err(Malformed("messages nested deeper than 100"));
    }
    Ok((value, ctx - 1))
}

/// Skips an unknown field (prost's `skip_field`).
pub(crate) fn skip(buf: &mut &[u8], wt: u8, tag: u32, ctx: u32) -> Read<()> {
    if ctx == 0 {
        return Err(Malformed("messages nested deeper than 100"));
    }
    match wt {
        VARINT => {
            varint(buf)?;
        }
        I64 => {
            fixed::<8>(buf, I64)?;
        }
        I32 => {
            fixed::<4>(buf, I32)?;
        }
        LEN => {
            len_delimited(buf, LEN)?;
        }
        START_GROUP => loop {
            let (inner, inner_wt) = key(buf)?;
            if inner_wt == END_GROUP {
                if inner != tag {
                    return Err(Malformed("unmatched end of group"));
                }
                break;
            }
            skip(buf, inner_wt, inner, ctx - 1)?;
        },
        _ => return Err(Malformed("end of group without a start")),
    }
    Ok(())
}

/// An attribute value found for a column.
#[derive(Clone, Copy)]
pub(super) enum Found<'a> {
    Simple(Val<'a>),
    /// The encoded `KeyValue`, to decode.
    Decode(&'a [u8]),
}

impl<'a> Found<'a> {
    /// A slot's value when it is not one to decode: `nil` when no attribute had the key
    /// (and for one to decode, which [`with_values`] reads instead).
    #[inline(always)]
    pub(super) fn simple(slot: &Option<Found<'a>>) -> Val<'a> {
        match slot {
            Some(Found::Simple(v)) => *v,
            None | Some(Found::Decode(_)) => Val::Nil,
        }
    }
}

/// An `AnyValue`, its `oneof` left in `state` as far as read: a value only OTLP's types
/// render (bytes, an array, a map or a string-table index) as [`Found::Decode`] of no
/// bytes, which the caller that keeps it points at its `KeyValue`.
fn any_value<'a>(mut buf: &'a [u8], ctx: u32, state: &mut Found<'a>) -> Read<()> {
    while !buf.is_empty() {
        let (tag, wt) = key(&mut buf)?;
        *state = match tag {
            1 => Found::Simple(Val::Str(string(&mut buf, wt)?)),
            2 => Found::Simple(Val::Bool(scalar(&mut buf, wt)? != 0)),
            3 => Found::Simple(Val::Int(scalar(&mut buf, wt)? as i64)),
            4 => Found::Simple(Val::Float(f64::from_le_bytes(fixed(&mut buf, wt)?))),
            5 | 6 => {
                let (m, c) = message(&mut buf, wt, ctx)?;
                list(m, c, tag == 6)?;
                Found::Decode(&[])
            }
            7 => {
                len_delimited(&mut buf, wt)?;
                Found::Decode(&[])
            }
            8 => {
                scalar(&mut buf, wt)?;
                Found::Decode(&[])
            }
            _ => {
                skip(&mut buf, wt, tag, ctx)?;
                continue;
            }
        };
    }
    Ok(())
}

/// `ArrayValue` (`AnyValue`s) or `KeyValueList` (`KeyValue`s): field 1, repeated.
fn list(mut buf: &[u8], ctx: u32, pairs: bool) -> Read<()> {
    while !buf.is_empty() {
        let (tag, wt) = key(&mut buf)?;
        if tag != 1 {
            skip(&mut buf, wt, tag, ctx)?;
            continue;
        }
        let (m, c) = message(&mut buf, wt, ctx)?;
        if pairs {
            key_value(m, c, &mut Found::Simple(Val::Nil))?;
        } else {
            any_value(m, c, &mut Found::Simple(Val::Nil))?;
        }
    }
    Ok(())
}

/// A `KeyValue`'s key; its value is left in `value` as it is read (a caller that looks
/// at it reads it there, not a copy of it handed back through the result).
#[inline]
fn key_value<'a>(mut buf: &'a [u8], ctx: u32, value: &mut Found<'a>) -> Read<&'a str> {
    let mut k = "";
    // (A value never set reads as `nil`.)
    *value = Found::Simple(Val::Nil);
    while !buf.is_empty() {
        let (tag, wt) = key(&mut buf)?;
        match tag {
            1 => k = string(&mut buf, wt)?,
            2 => {
                let (m, c) = message(&mut buf, wt, ctx)?;
                any_value(m, c, value)?;
            }
            3 => {
                scalar(&mut buf, wt)?;
            }
            _ => skip(&mut buf, wt, tag, ctx)?,
        }
    }
    Ok(k)
}

/// A `KeyValue`'s key as bytes (the last one, as prost keeps it), without reading its
/// value; empty when it has none.
fn key_bytes(mut buf: &[u8], ctx: u32) -> Read<&[u8]> {
    let mut k: &[u8] = &[];
    while !buf.is_empty() {
        let (tag, wt) = key(&mut buf)?;
        if tag == 1 {
            k = len_delimited(&mut buf, wt)?;
        } else {
            skip(&mut buf, wt, tag, ctx)?;
        }
    }
    Ok(k)
}

/// One `KeyValue` of an attribute list, looked up in `index` when `LOOKUP` (the walk that
/// builds facts; the check alone and the nested messages' attributes look nothing up, and
/// their copy of this function has no lookup in it). With `SKIM` (the bytes are known to
/// decode, see [`super::Walk`]), only a key of `index` whose slot is still empty has its
/// value read; the others are stepped over unchecked. A value only OTLP's types render is
/// left to decode ([`Found::Decode`]). Whether the key becomes the same label as `label`
/// ([`crate::attr::same_label`]; never with `SKIM`).
#[inline(always)]
pub(super) fn attribute<'a, const LOOKUP: bool, const SKIM: bool>(
    buf: &mut &'a [u8],
    wt: u8,
    ctx: u32,
    index: Option<&KeyIndex>,
    slots: &mut [Option<Found<'a>>],
    label: Option<&str>,
) -> Read<bool> {
    let index = if LOOKUP { index } else { None };
    let (m, c) = message(buf, wt, ctx)?;
    if SKIM {
        let Some(index) = index else {
            return Ok(false);
        };
        match index.find_bytes(key_bytes(m, c)?) {
            Some(i) if slots[i].is_none() => {}
            _ => return Ok(false),
        }
    }
    let mut value = Found::Simple(Val::Nil);
    let k = key_value(m, c, &mut value)?;
    let named = label
        .is_some_and(|l| crate::attr::may_be_same_label(k, l) && crate::attr::same_label(k, l));
    if let Some(i) = index.and_then(|index| index.find(k))
        && let Some(slot @ None) = slots.get_mut(i)
    {
        // A value to decode is this `KeyValue`.
        *slot = Some(match value {
            Found::Decode(_) => Found::Decode(m),
            simple => simple,
        });
    }
    Ok(named)
}

/// How a field of the small messages read only to be checked decodes.
#[derive(Clone, Copy)]
pub(super) enum Ty {
    Str,
    Bytes,
    Varint,
    Fixed64,
    Fixed32,
    /// A `KeyValue`, counted.
    Attr,
}

pub(super) const SCOPE: &[(u32, Ty)] =
    &[(1, Ty::Str), (2, Ty::Str), (3, Ty::Attr), (4, Ty::Varint)];
pub(super) const EVENT: &[(u32, Ty)] = &[
    (1, Ty::Fixed64),
    (2, Ty::Str),
    (3, Ty::Attr),
    (4, Ty::Varint),
];
pub(super) const LINK: &[(u32, Ty)] = &[
    (1, Ty::Bytes),
    (2, Ty::Bytes),
    (3, Ty::Str),
    (4, Ty::Attr),
    (5, Ty::Varint),
    (6, Ty::Fixed32),
];
pub(super) const ENTITY_REF: &[(u32, Ty)] =
    &[(1, Ty::Str), (2, Ty::Str), (3, Ty::Str), (4, Ty::Str)];

/// A scope, event, link or entity reference (`fields`), checked; its attributes counted,
/// and [`super::WireSpans::names_label`] set in `found` when one of their keys becomes the
/// same label as `label`.
pub(super) fn counted(
    mut buf: &[u8],
    ctx: u32,
    fields: &[(u32, Ty)],
    label: Option<&str>,
    found: &mut super::WireSpans,
) -> Read<usize> {
    let mut n = 0;
    while !buf.is_empty() {
        let (tag, wt) = key(&mut buf)?;
        match fields
            .iter()
            .find(|(num, _)| *num == tag)
            .map(|(_, ty)| *ty)
        {
            Some(Ty::Str) => drop(string(&mut buf, wt)?),
            Some(Ty::Bytes) => drop(len_delimited(&mut buf, wt)?),
            Some(Ty::Varint) => drop(scalar(&mut buf, wt)?),
            Some(Ty::Fixed64) => drop(fixed::<8>(&mut buf, wt)?),
            Some(Ty::Fixed32) => drop(fixed::<4>(&mut buf, wt)?),
            Some(Ty::Attr) => {
                if attribute::<false, false>(&mut buf, wt, ctx, None, &mut [], label)? {
                    found.names_label = true;
                }
                n += 1;
            }
            None => skip(&mut buf, wt, tag, ctx)?,
        }
    }
    Ok(n)
}

/// Runs `f` on the values found (values that only prost's types render are decoded
/// first); `scratch` holds them, kept from one call to the next so that no call allocates.
pub(super) fn with_values<'a>(
    slots: &[Option<Found<'a>>],
    scratch: &mut Vec<Val<'a>>,
    f: impl FnOnce(&[Val<'_>]),
) {
    let simple = |found: &Option<Found<'a>>| -> Option<Val<'a>> {
        match found {
            None => Some(Val::Nil),
            Some(Found::Simple(v)) => Some(*v),
            Some(Found::Decode(_)) => None,
        }
    };
    // Written in place (the same length every call of a request): no `extend`; one pass,
    // which also tells whether a value is to decode.
    if scratch.len() != slots.len() {
        scratch.resize(slots.len(), Val::Nil);
    }
    let mut decode = false;
    for (value, slot) in scratch.iter_mut().zip(slots) {
        *value = simple(slot).unwrap_or_else(|| {
            decode = true;
            Val::Nil
        });
    }
    if !decode {
        return f(scratch);
    }
    let decoded: Vec<Option<KeyValue>> = slots
        .iter()
        .map(|s| match s {
            Some(Found::Decode(m)) => KeyValue::decode(*m).ok(),
            _ => None,
        })
        .collect();
    let values: Vec<Val<'_>> = slots
        .iter()
        .zip(&decoded)
        .map(|(s, d)| match d {
            Some(kv) => Val::of(kv.value.as_ref()),
            None => simple(s).unwrap_or(Val::Nil),
        })
        .collect();
    f(&values)
}
