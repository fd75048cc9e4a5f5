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

const VERSION: u8 = 1;

/// Why a stored record could not be read back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("corrupt queue record: {0}")]
pub struct Corrupt(&'static str);

impl Record {
    /// Bytes the record takes in a queue.
    pub fn size(&self) -> usize {
        self.body.len() + self.tenant.as_ref().map_or(0, String::len) + 32
    }

    /// The on-disk form: version, route, items, queued time, tenant, body.
    pub fn encode(&self) -> Vec<u8> {
        let tenant = self.tenant.as_deref().unwrap_or("").as_bytes();
        let mut out = Vec::with_capacity(self.size());
        out.put_u8(VERSION);
        out.put_u8(self.route);
        out.put_u8(u8::from(self.tenant.is_some()));
        out.put_u64(self.items);
        out.put_u64(self.queued_ms);
        out.put_u32(tenant.len() as u32);
        out.put_slice(tenant);
        out.put_slice(&self.body);
        out
    }

    pub fn decode(mut buf: &[u8]) -> Result<Self, Corrupt> {
        if buf.remaining() < 23 {
            return Err(Corrupt("too short"));
        }
        if buf.get_u8() != VERSION {
            return Err(Corrupt("unknown version"));
        }
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
        let none = Record { tenant: None, ..r };
        assert_eq!(Record::decode(&none.encode()), Ok(none));
        for cut in 0..23 {
            assert!(Record::decode(&enc[..cut]).is_err());
        }
        let mut bad = enc.clone();
        bad[0] = 9;
        assert!(Record::decode(&bad).is_err());
        let mut long = enc;
        long[19..23].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Record::decode(&long).is_err());
    }
}
