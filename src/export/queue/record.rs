//! What an exporter's queue holds: one request for the backend, already encoded.

use bytes::{Buf, BufMut, Bytes};

/// One request, encoded for the backend (compressed or not, as the exporter chooses).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The tenant of the data (sent as `X-Scope-OrgID`), if the sender had one.
    pub tenant: Option<String>,
    /// Items (spans, points, log records, samples) in the request, for the counters.
    pub items: u64,
    /// Which endpoint of the exporter the body goes to (the signal), exporter-defined.
    pub route: u8,
    /// When the record was queued, in ms since the epoch.
    pub queued_ms: u64,
    pub body: Bytes,
}

/// The format written today: version 1's fields followed by a CRC-32 of everything before
/// it, so a damaged value is noticed even where the store does not check its pages on read.
const VERSION: u8 = 2;
/// The format before the checksum; still read.
const VERSION_1: u8 = 1;
/// Bytes of a version 2 encoding besides the tenant and the body.
const OVERHEAD: usize = 27;

/// Why a stored record could not be read back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("corrupt queue record: {0}")]
pub struct Corrupt(&'static str);

impl Record {
    /// Bytes the record takes in a queue.
    pub fn size(&self) -> usize {
        self.body.len() + self.tenant.as_ref().map_or(0, String::len) + 32
    }

    /// What [`Record::size`] says of a record whose encoding is `len` bytes long, so a
    /// stored record is accounted for without decoding it.
    pub fn stored_size(len: usize) -> usize {
        len + 32 - OVERHEAD
    }

    /// The on-disk form: version, route, items, queued time, tenant, body, CRC-32.
    pub fn encode(&self) -> Vec<u8> {
        let tenant = self.tenant.as_deref().unwrap_or("").as_bytes();
        let mut out = Vec::with_capacity(self.body.len() + tenant.len() + OVERHEAD);
        out.put_u8(VERSION);
        out.put_u8(self.route);
        out.put_u8(u8::from(self.tenant.is_some()));
        out.put_u64(self.items);
        out.put_u64(self.queued_ms);
        out.put_u32(tenant.len() as u32);
        out.put_slice(tenant);
        out.put_slice(&self.body);
        let crc = crc32fast::hash(&out);
        out.put_u32(crc);
        out
    }

    pub fn decode(buf: &[u8]) -> Result<Self, Corrupt> {
        let mut buf = match buf.first() {
            Some(&VERSION) => {
                if buf.len() < OVERHEAD {
                    return Err(Corrupt("too short"));
                }
                let (data, crc) = buf.split_at(buf.len() - 4);
                let crc = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
                if crc32fast::hash(data) != crc {
                    return Err(Corrupt("checksum mismatch"));
                }
                data
            }
            Some(&VERSION_1) => buf,
            Some(_) => return Err(Corrupt("unknown version")),
            None => return Err(Corrupt("too short")),
        };
        if buf.remaining() < 23 {
            return Err(Corrupt("too short"));
        }
        buf.advance(1);
        let route = buf.get_u8();
        let has_tenant = match buf.get_u8() {
            0 => false,
            1 => true,
            _ => return Err(Corrupt("bad tenant flag")),
        };
        let items = buf.get_u64();
        let queued_ms = buf.get_u64();
        let len = buf.get_u32() as usize;
        if buf.remaining() < len {
            return Err(Corrupt("tenant past the end"));
        }
        let tenant = std::str::from_utf8(&buf[..len]).map_err(|_| Corrupt("tenant not UTF-8"))?;
        let tenant = has_tenant.then(|| tenant.to_string());
        buf.advance(len);
        Ok(Record {
            tenant,
            items,
            route,
            queued_ms,
            body: Bytes::copy_from_slice(buf),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let r = Record {
            tenant: Some("team-a".into()),
            items: 42,
            route: 2,
            queued_ms: 1_700_000_000_000,
            body: Bytes::from_static(b"\x00\x01payload"),
        };
        let enc = r.encode();
        assert_eq!(Record::decode(&enc), Ok(r.clone()));
        assert_eq!(Record::stored_size(enc.len()), r.size());
        let none = Record {
            tenant: None,
            ..r.clone()
        };
        assert_eq!(Record::decode(&none.encode()), Ok(none));
        for cut in 0..enc.len() {
            assert!(Record::decode(&enc[..cut]).is_err());
        }
        let mut bad = enc.clone();
        bad[0] = 9;
        assert!(Record::decode(&bad).is_err());
        let mut long = enc.clone();
        long[19..23].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Record::decode(&long).is_err());
        // Any flipped byte of the body or the header is noticed.
        for at in 1..enc.len() {
            let mut flipped = enc.clone();
            flipped[at] ^= 0x40;
            assert!(
                Record::decode(&flipped).is_err(),
                "flip at {at} not noticed"
            );
        }
    }

    #[test]
    fn version_1_records_are_still_read() {
        let r = Record {
            tenant: Some("team-a".into()),
            items: 3,
            route: 1,
            queued_ms: 5,
            body: Bytes::from_static(b"old"),
        };
        let mut v1 = r.encode();
        v1.truncate(v1.len() - 4);
        v1[0] = 1;
        assert_eq!(Record::decode(&v1), Ok(r));
    }
}
