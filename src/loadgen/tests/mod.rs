//! Unit tests of the load generator, one file per stage, plus in-process stub servers.
//!
//! # Layout
//!
//! - `generate.rs`: content generation (determinism, counts, realism, encodings).
//! - `args.rs`: endpoint and argument validation.
//! - `pool.rs`: the request pool, its refresh, and the decode baseline.
//! - `send.rs`: the rate limiter, latency histogram, answer classification, and whole runs
//!   against the stubs.
//! - `stub.rs`: OTLP stub servers (OTLP/HTTP over HTTP/1.1, OTLP/gRPC over h2c) that count
//!   what they receive.

mod args;
mod generate;
mod pool;
mod send;
mod stub;
