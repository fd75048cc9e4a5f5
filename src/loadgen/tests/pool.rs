//! The request pool (item limits, refresh) and the decode baseline.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;
use tokio::time::Duration;

use crate::loadgen::pool::{Pool, Recipe};
use crate::loadgen::{Encoding, LoadgenArgs, run};
use crate::signal::{Compression, Protocol};

#[test]
fn items_limit_sends_exact_counts() {
    let args = LoadgenArgs {
        items: Some(1300),
        items_per_request: 512,
        ..LoadgenArgs::default()
    };
    let settings = args.validate().unwrap();
    let pool = Pool::build(&Recipe::from(&settings), &settings).unwrap();
    let sizes: Vec<Option<u64>> = (0..4).map(|n| pool.request(n).map(|p| p.items)).collect();
    assert_eq!(sizes, [Some(512), Some(512), Some(276), None]);
}

#[test]
fn refresh_rebuilds_entries_with_current_timestamps() {
    let args = LoadgenArgs {
        items_per_request: 20,
        ..LoadgenArgs::default()
    };
    let settings = args.validate().unwrap();
    let mut recipe = Recipe::from(&settings);
    recipe.content.now_unix_nano = 1_000_000_000_000_000_000; // 2001
    let pool = Pool::build(&recipe, &settings).unwrap();
    let newest_end = |pool: &Pool| {
        let body = pool.request(0).unwrap().body;
        let req = ExportTraceServiceRequest::decode(body).unwrap();
        let spans = req.resource_spans.into_iter().flat_map(|r| r.scope_spans);
        spans
            .flat_map(|s| s.spans)
            .map(|s| s.end_time_unix_nano)
            .max()
            .unwrap()
    };
    assert!(newest_end(&pool) <= 1_000_000_000_000_000_000);
    pool.refresh(&recipe, 0, 1).unwrap();
    assert!(newest_end(&pool) > 1_700_000_000_000_000_000);
    assert_eq!(pool.request(0).unwrap().items, 20);
}

#[test]
fn decode_baseline_decodes_the_pool() {
    for (protocol, encoding, compression) in [
        (Protocol::Grpc, Encoding::Protobuf, Compression::None),
        (Protocol::Grpc, Encoding::Protobuf, Compression::Zstd),
        (Protocol::Http, Encoding::Json, Compression::Gzip),
    ] {
        let args = LoadgenArgs {
            decode_baseline: true,
            items: Some(10_000),
            duration: Some(Duration::from_secs(5).into()),
            items_per_request: 100,
            protocol,
            encoding,
            compression,
            ..LoadgenArgs::default()
        };
        let report = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(args))
            .unwrap();
        assert_eq!(report.mode, "decode-baseline");
        assert!(
            report.decoded_items >= 10_000 && report.decoded_items_per_second > 0.0,
            "{report}"
        );
        assert_eq!(report.sent_items, 0);
    }
}
