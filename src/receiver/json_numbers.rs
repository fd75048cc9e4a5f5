//! Numbers in OTLP/JSON, as the proto3 JSON mapping reads them.
//!
//! A `double` is a JSON number or a string: `"NaN"`, `"Infinity"`, `"-Infinity"` or a
//! number's text (`"1.5"`). An integer (`int32`, `uint32`, `sint32`, `int64`, `fixed64`, …)
//! is a JSON number or a decimal string; exponent notation is accepted in both forms when
//! the value is whole (`1e3`, `"1.0e2"`). `null` is the field's default. Anything else is a
//! decoding error naming what was expected, never a silently dropped value.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};

/// Digits an integer's text may have once its exponent is applied (`i128` holds 38).
const MAX_DIGITS: usize = 38;

/// Whether `s` is a JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    let int_start = i;
    let n = digits(&mut i);
    if n == 0 || (n > 1 && b[int_start] == b'0') {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A `double` given as a string: the special values, or a finite number's text.
pub fn double_from_text(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ if is_json_number(s) => s.parse::<f64>().ok().filter(|v| v.is_finite()),
        _ => None,
    }
}

/// The exact value of a JSON number's text when it is whole (`"12"`, `"1.20e1"`); `None`
/// when it has a fraction, is not a number, or has more than [`MAX_DIGITS`] digits.
pub fn integer_from_text(s: &str) -> Option<i128> {
    if !is_json_number(s) {
        return None;
    }
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], &s[at + 1..]),
        None => (s, "0"),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = int.chars().chain(frac.chars()).collect();
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some(0);
    }
    // An exponent beyond the digits an i128 holds makes the value too large or fractional.
    let exponent: i64 = exponent
        .trim_start_matches('+')
        .parse()
        .ok()
        .filter(|e: &i64| e.unsigned_abs() <= 2 * MAX_DIGITS as u64)?;
    let scale = exponent - frac.len() as i64;
    let whole = if scale < 0 {
        let cut = usize::try_from(-scale).ok()?;
        if cut > digits.len() || digits[digits.len() - cut..].bytes().any(|d| d != b'0') {
            return None;
        }
        digits[..digits.len() - cut].to_string()
    } else {
        let zeros = usize::try_from(scale).ok()?;
        if digits.len() + zeros > MAX_DIGITS {
            return None;
        }
        let mut whole = digits.to_string();
        whole.extend(std::iter::repeat_n('0', zeros));
        whole
    };
    if whole.len() > MAX_DIGITS {
        return None;
    }
    let value: i128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    Some(if negative { -value } else { value })
}

/// Reads an integer of type `T` (a number or a decimal string).
struct IntVisitor<T>(PhantomData<T>);

impl<T: TryFrom<i128> + Default> IntVisitor<T> {
    fn fit<E: de::Error>(v: i128) -> Result<T, E> {
        T::try_from(v).map_err(|_| {
            E::custom(format_args!(
                "integer {v} is out of range for {}",
                std::any::type_name::<T>()
            ))
        })
    }
}

impl<'de, T: TryFrom<i128> + Default> Visitor<'de> for IntVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer (a JSON number or a decimal string)")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Self::fit(i128::from(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Self::fit(i128::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        // serde_json gives a number with a fraction or exponent as f64: whole values up
        // to 2^53 are exact.
        const EXACT: f64 = 9_007_199_254_740_992.0;
        if v.fract() == 0.0 && v.abs() <= EXACT {
            Self::fit(v as i128)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        match integer_from_text(v) {
            Some(n) => Self::fit(n),
            None => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::default())
    }
}

/// Reads a `double` (a number, or a string as [`double_from_text`] reads it); `null` is
/// `None`.
struct DoubleVisitor;

impl<'de> Visitor<'de> for DoubleVisitor {
    type Value = Option<f64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a double (a JSON number, \"NaN\", \"Infinity\", \"-Infinity\" or a number in a string)")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        double_from_text(v)
            .map(Some)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

pub fn int<'de, D: Deserializer<'de>, T: TryFrom<i128> + Default>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(IntVisitor(PhantomData))
}

pub fn double<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(d.deserialize_any(DoubleVisitor)?.unwrap_or_default())
}

pub fn opt_double<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    d.deserialize_any(DoubleVisitor)
}

/// An array read element by element with `seed`; `null` is empty.
struct ArrayOf<S>(S);

impl<'de, S: DeserializeSeed<'de> + Copy> Visitor<'de> for ArrayOf<S> {
    type Value = Vec<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of numbers")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self.0)? {
            out.push(v);
        }
        Ok(out)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
}

#[derive(Clone, Copy)]
struct IntSeed;

impl<'de> DeserializeSeed<'de> for IntSeed {
    type Value = u64;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        int(d)
    }
}

#[derive(Clone, Copy)]
struct DoubleSeed;

impl<'de> DeserializeSeed<'de> for DoubleSeed {
    type Value = f64;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<f64, D::Error> {
        // An array element cannot be absent: `null` there is refused.
        d.deserialize_any(DoubleVisitor)?
            .ok_or_else(|| de::Error::invalid_type(de::Unexpected::Unit, &DoubleVisitor))
    }
}

pub fn u64_array<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    d.deserialize_any(ArrayOf(IntSeed))
}

pub fn double_array<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    d.deserialize_any(ArrayOf(DoubleSeed))
}

/// A `bytes` id in hex (trace and span ids in OTLP/JSON); `null` is empty.
pub fn hex_id<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    struct HexVisitor;
    impl<'de> Visitor<'de> for HexVisitor {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an id in hexadecimal")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
            let nibble = |c: u8| (c as char).to_digit(16);
            let bytes = v.as_bytes();
            if !bytes.len().is_multiple_of(2) {
                return Err(E::invalid_value(de::Unexpected::Str(v), &self));
            }
            bytes
                .chunks_exact(2)
                .map(|p| Some((nibble(p[0])? * 16 + nibble(p[1])?) as u8))
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<u8>, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(HexVisitor)
}

/// Reads an optional integer: `null` is `None`.
struct OptIntVisitor<T>(PhantomData<T>);

impl<'de, T: TryFrom<i128> + Default> Visitor<'de> for OptIntVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        IntVisitor::<T>(PhantomData).expecting(f)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        IntVisitor(PhantomData).visit_u64(v).map(Some)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        IntVisitor(PhantomData).visit_i64(v).map(Some)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        IntVisitor(PhantomData).visit_f64(v).map(Some)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        IntVisitor(PhantomData).visit_str(v).map(Some)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

pub fn int_opt<'de, D: Deserializer<'de>, T: TryFrom<i128> + Default>(
    d: D,
) -> Result<Option<T>, D::Error> {
    d.deserialize_any(OptIntVisitor(PhantomData))
}
