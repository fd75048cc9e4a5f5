//! Export benchmarks.
//!
//! - `remote_write_encode`: the SLO series of 20 SLOs × 3 clusters (plus `all`), as the
//!   engine hands them over, converted to remote write 1.0, protobuf-encoded and
//!   snappy-compressed, against the baseline of protobuf-encoding the same OTLP request.
//! - `queue`: 4 KiB records pushed through an exporter queue and taken off by a consumer;
//!   the disk queue (redb, commits every 100 ms: the default `fsync_interval`) against the
//!   memory queue in the same run.
//! - `otlp_compress`: one 512-span export request (what `slotel loadgen` sends) compressed
//!   the way the OTLP exporters compress it (gzip at the fastest level, zstd level 1),
//!   against prost-decoding the same request: what the receiver pays for it anyway.
//!
//! Run: `cargo bench --bench export`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;
use slotel::config::RemoteWriteConfig;
use slotel::export::RemoteWrite;
use slotel::export::queue::{Next, Queue, Record};
use slotel::loadgen::{ContentOpts, generate};
use slotel::slo::engine::{Engine, EngineConfig, ManualClock};
use slotel::slo::otlp_series::SeriesSource;
use slotel::slo::spec::{SloSet, parse_file};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SERVICES: &[&str] = &["checkout", "payment", "cart", "catalog", "shipping"];

fn slos(n: usize) -> SloSet {
    let mut set = SloSet::default();
    for i in 0..n {
        let service = SERVICES[i % SERVICES.len()];
        let text = format!(
            "service: {service}\nslos:\n  - name: slo-{i}\n    objective: 99\n    window: 30d\n    sli:\n      spans:\n        where: resource.attributes[\"service.name\"] == \"{service}\" and kind == SPAN_KIND_SERVER\n        latency_threshold: 300ms\n        bad: status.code == STATUS_CODE_ERROR\n    percentiles: [50, 90, 99]\n"
        );
        match parse_file(&text, "bench.yaml") {
            Ok(s) => set.slos.extend(s),
            Err(e) => panic!("bench slo does not parse: {e:?}"),
        }
    }
    set
}

fn rw_config() -> RemoteWriteConfig {
    RemoteWriteConfig {
        replica: Some("bench".into()),
        ..RemoteWriteConfig::new("http://127.0.0.1:9/api/v1/write")
    }
}

fn remote_write(c: &mut Criterion) {
    let now = u64::try_from(jiff::Timestamp::now().as_nanosecond()).unwrap_or(0);
    let start = now - 86_400_000_000_000;
    let clock = Arc::new(ManualClock::new(start));
    let engine = Engine::new(EngineConfig::default(), clock.clone(), slos(20));
    let mut rng = fastrand::Rng::with_seed(42);
    for i in 0..200u64 {
        let t = start + i * 1_000_000_000;
        clock.set(t);
        let opts = ContentOpts {
            now_unix_nano: t,
            ..ContentOpts::default()
        };
        engine.record_spans(&generate::traces(&mut rng, 512, &opts), None);
    }
    let mut source = SeriesSource::new(engine, 6, false);
    let base = source.collect();
    let series: usize = {
        let rw = RemoteWrite::new(&rw_config()).expect("remote write");
        rw.encode_metrics(&base, None)
            .expect("encode")
            .iter()
            .map(|r| r.items as usize)
            .sum()
    };
    println!("remote_write_encode: {series} series per flush");
    let mut g = c.benchmark_group("remote_write_encode");
    g.throughput(Throughput::Elements(series as u64));
    g.bench_function("otlp_protobuf_baseline", |b| {
        b.iter(|| black_box(&base).encode_to_vec())
    });
    let rw = RemoteWrite::new(&rw_config()).expect("remote write");
    let mut tick = 0u64;
    g.bench_function("remote_write_snappy", |b| {
        b.iter_batched(
            || {
                // Each flush a millisecond later, as the series only move forward.
                tick += 1;
                let mut req = base.clone();
                let t = start + tick * 1_000_000;
                for m in req
                    .resource_metrics
                    .iter_mut()
                    .flat_map(|r| &mut r.scope_metrics)
                    .flat_map(|s| &mut s.metrics)
                {
                    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
                    match &mut m.data {
                        Some(Data::Sum(s)) => {
                            s.data_points.iter_mut().for_each(|p| p.time_unix_nano = t)
                        }
                        Some(Data::Gauge(s)) => {
                            s.data_points.iter_mut().for_each(|p| p.time_unix_nano = t)
                        }
                        Some(Data::ExponentialHistogram(s)) => {
                            s.data_points.iter_mut().for_each(|p| p.time_unix_nano = t)
                        }
                        _ => {}
                    }
                }
                req
            },
            |req| rw.encode_metrics(black_box(&req), None),
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();
}

const RECORD: usize = 4096;

fn record(i: u64) -> Record {
    Record {
        tenant: Some("team".into()),
        items: 100,
        route: 0,
        queued_ms: i,
        body: Bytes::from(vec![(i % 251) as u8; RECORD]),
    }
}

/// Pushes `n` records through `queue` with a consumer taking them off (and a committer
/// every 100 ms for disk queues); returns the time until the last one was done.
async fn through(queue: Arc<Queue>, n: u64) -> Duration {
    let started = Instant::now();
    let committer = {
        let q = queue.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                let _ = q.commit().await;
            }
        })
    };
    let consumer = {
        let q = queue.clone();
        tokio::spawn(async move {
            let mut done = 0;
            while done < n {
                match q.pop().await {
                    Some(Next::Record(t)) => {
                        q.done(&t);
                        done += 1;
                    }
                    Some(Next::Corrupt) => panic!("corrupt record"),
                    None => break,
                }
            }
        })
    };
    for i in 0..n {
        while !queue.has_room() {
            tokio::task::yield_now().await;
        }
        queue.push(record(i), None).expect("room");
    }
    consumer.await.expect("consumer");
    let elapsed = started.elapsed();
    committer.abort();
    let _ = queue.commit().await;
    elapsed
}

fn queues(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("queue_4KiB_records");
    g.throughput(Throughput::Bytes(RECORD as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("memory", |b| {
        b.iter_custom(|iters| {
            let q = Arc::new(Queue::memory(64 << 20));
            rt.block_on(through(q, iters))
        })
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let mut k = 0;
    g.bench_function("disk_fsync_100ms", |b| {
        b.iter_custom(|iters| {
            k += 1;
            let q = Arc::new(
                Queue::disk(64 << 20, dir.path(), &format!("q{k}"), Default::default())
                    .expect("queue"),
            );
            rt.block_on(through(q, iters))
        })
    });
    g.finish();
}

fn otlp_compress(c: &mut Criterion) {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use slotel::export::otlp::compress;
    use slotel::signal::Compression;
    let mut rng = fastrand::Rng::with_seed(42);
    let body = generate::traces(&mut rng, 512, &ContentOpts::default()).encode_to_vec();
    println!("otlp_compress: one request of {} bytes", body.len());
    let mut g = c.benchmark_group("otlp_compress_512_spans");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("prost_decode_baseline", |b| {
        b.iter(|| ExportTraceServiceRequest::decode(black_box(body.as_slice())))
    });
    for (name, compression) in [
        ("gzip_fast", Compression::Gzip),
        ("zstd_1", Compression::Zstd),
    ] {
        g.bench_function(name, |b| b.iter(|| compress(compression, black_box(&body))));
    }
    g.finish();
}

criterion_group!(benches, remote_write, queues, otlp_compress);
criterion_main!(benches);
