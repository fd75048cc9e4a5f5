//! Messages compiled from `proto/` by `build.rs`: Prometheus remote write 1.0 and the Loki
//! push API.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

/// Prometheus remote write 1.0 (`prometheus.WriteRequest`).
pub mod prometheus {
    include!(concat!(env!("OUT_DIR"), "/prometheus.rs"));
}

/// The Loki push API (`logproto.PushRequest`).
pub mod loki {
    include!(concat!(env!("OUT_DIR"), "/logproto.rs"));
}
