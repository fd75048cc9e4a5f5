//! The pipeline's vocabulary: which OTLP signal, over which protocol, with which body
//! compression. The receivers, the pipelines, the exporters, slotel's own metrics and the
//! load generator all speak these types; the load generator's flags parse into them too.

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
