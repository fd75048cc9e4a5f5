//! The pipeline's vocabulary: which OTLP signal, over which protocol, with which body
//! compression. The receivers, the pipelines, the exporters, slotel's own metrics and the
//! load generator all speak these types; the load generator's flags parse into them too.
//! [`Compression::compress`] is how the exporters and the load generator compress a body.

/// The three OTLP signals.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

    /// The lowercase name: a label value, a flag value and the OTLP/HTTP path segment.
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }

    /// What one item of this signal is called in messages.
    pub fn item_name(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Metrics => "data points",
            Signal::Logs => "log records",
        }
    }
}

/// The OTLP transport.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Protocol {
    Grpc,
    Http,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::Http => "http",
        }
    }
}

/// Request body compression: of received requests, of the OTLP exporters' requests and of
/// the load generator's.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// `body` compressed at the fastest level (gzip level 1, zstd level 1): how the OTLP
    /// exporters and the load generator compress what they send, since the wire, not
    /// storage, is what it saves. `None` copies the body.
    pub fn compress(self, body: &[u8]) -> std::io::Result<Vec<u8>> {
        use std::io::Write as _;
        match self {
            Compression::None => Ok(body.to_vec()),
            Compression::Gzip => {
                let mut enc = flate2::write::GzEncoder::new(
                    Vec::with_capacity(body.len() / 4 + 64),
                    flate2::Compression::fast(),
                );
                enc.write_all(body)?;
                enc.finish()
            }
            Compression::Zstd => zstd::bulk::compress(body, 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    #[test]
    fn compressed_bodies_decompress_to_the_body_by_the_format_definitions() {
        let body =
            b"resource_spans: the same few bytes again and again, again and again".repeat(50);
        let none = Compression::None.compress(&body).unwrap();
        assert_eq!(none, body);

        let gzip = Compression::Gzip.compress(&body).unwrap();
        // RFC 1952: ID1 ID2 = 1f 8b, CM = 8 (deflate); XFL = 4 for the fastest level.
        assert_eq!(&gzip[..3], &[0x1f, 0x8b, 8]);
        assert_eq!(gzip[8], 4, "XFL of the fastest compression");
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gzip[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, body);
        assert!(gzip.len() < body.len() / 4);

        let zstd = Compression::Zstd.compress(&body).unwrap();
        // RFC 8878: a frame starts with the magic number 0xFD2FB528, little-endian.
        assert_eq!(&zstd[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
        assert_eq!(zstd::bulk::decompress(&zstd, body.len()).unwrap(), body);
    }
}
