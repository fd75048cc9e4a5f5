//! Endpoint defaults and argument validation.

use crate::loadgen::args::endpoint_uri;
use crate::loadgen::{Encoding, LoadgenArgs};
use crate::signal::{Protocol, Signal};

#[test]
fn endpoints_and_arguments_are_validated() {
    let uri = |e: Option<&str>, p| endpoint_uri(e, p, Signal::Logs).map(|u| u.to_string());
    assert_eq!(uri(None, Protocol::Grpc).unwrap(), "http://127.0.0.1:4317/");
    assert_eq!(
        uri(None, Protocol::Http).unwrap(),
        "http://127.0.0.1:4318/v1/logs"
    );
    assert_eq!(
        uri(Some("http://otel:9999/"), Protocol::Http).unwrap(),
        "http://otel:9999/v1/logs"
    );
    assert_eq!(
        uri(Some("otel/base"), Protocol::Http).unwrap(),
        "http://otel:4318/base/v1/logs"
    );
    assert_eq!(
        uri(Some("[::1]:4317"), Protocol::Grpc).unwrap(),
        "http://[::1]:4317/"
    );
    assert!(uri(Some("https://otel:4317"), Protocol::Grpc).is_err());
    assert!(uri(Some("otel:4317/x"), Protocol::Grpc).is_err());
    assert!(uri(Some("http://"), Protocol::Grpc).is_err());

    let bad = |f: fn(&mut LoadgenArgs)| {
        let mut args = LoadgenArgs::default();
        f(&mut args);
        args.validate().err().map(|e| e.to_string())
    };
    assert!(bad(|_| {}).is_none());
    assert!(
        bad(|a| a.encoding = Encoding::Json)
            .unwrap()
            .contains("--encoding json")
    );
    assert!(bad(|a| a.items_per_request = 0).is_some());
    // Numbers past what the generator can hold used to abort on allocation (10^12 items
    // a request after 4.5 GiB, 10^9 workers, 10^12 clusters or services) or panic (a
    // rate of 1e-300 items a second: a pause of 1e300 s).
    for (set, flag) in [
        (
            (|a| a.items_per_request = 1_000_000_000_000) as fn(&mut LoadgenArgs),
            "--items-per-request",
        ),
        (|a| a.concurrency = 1_000_000_000, "--concurrency"),
        (|a| a.clusters = 1_000_000_000_000, "--clusters"),
        (|a| a.services = 1_000_000_000_000, "--services"),
        (|a| a.rate = 1e-300, "--rate"),
        (
            |a| a.duration = Some("300000000000y".parse().unwrap()),
            "--duration",
        ),
    ] {
        let message = bad(set).unwrap_or_default();
        assert!(message.contains(flag), "{flag}: {message:?}");
    }
    assert!(bad(|a| a.items_per_request = 1_000_000).is_none());
    assert!(bad(|a| a.rate = 0.001).is_none());
    assert!(bad(|a| a.rate = 1e300).is_none());
    assert!(bad(|a| a.error_ratio = 1.5).is_some());
    assert!(
        bad(|a| a.headers = vec!["novalue".into()])
            .unwrap()
            .contains("key=value")
    );
    assert!(bad(|a| a.headers = vec!["x-tenant=a\nb".into()]).is_some());
    let mut args = LoadgenArgs {
        token: Some("s3cret".into()),
        ..LoadgenArgs::default()
    };
    args.headers = vec!["X-Scope-OrgID=team-a".into()];
    let s = args.validate().unwrap();
    assert_eq!(s.headers["authorization"], "Bearer s3cret");
    assert_eq!(s.headers["x-scope-orgid"], "team-a");
    assert_eq!(s.duration, Some(std::time::Duration::from_secs(10)));
    assert!(!format!("{args:?}").contains("s3cret"));
    args.items = Some(10);
    assert_eq!(args.validate().unwrap().duration, None);
}
