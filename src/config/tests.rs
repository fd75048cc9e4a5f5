use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::yaml::interpolate;
use crate::yaml::read::{ValueError, parse_addr, parse_byte_size, parse_duration};

/// An injected environment and file system.
#[derive(Default)]
struct Fake {
    env: HashMap<String, String>,
    files: HashMap<PathBuf, String>,
}

impl Fake {
    fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_string(), value.to_string());
        self
    }

    fn file(mut self, path: &str, content: &str) -> Self {
        self.files.insert(PathBuf::from(path), content.to_string());
        self
    }
}

impl Lookup for Fake {
    fn env(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }

    fn read_file(&self, path: &Path) -> io::Result<String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "No such file or directory"))
    }
}

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

fn errors(text: &str, lookup: &Fake) -> Vec<String> {
    let errors = parse(text, "t.yaml", lookup).unwrap_err();
    errors.0.iter().map(ToString::to_string).collect()
}

/// A minimal valid config followed by `rest` (top-level keys other than `receivers`).
fn with_grpc(rest: &str) -> String {
    format!("receivers:\n  otlp:\n    protocols:\n      grpc:\n{rest}")
}

#[test]
fn embedded_default_parses_to_the_documented_defaults() {
    let config = parse(DEFAULT_CONFIG, EMBEDDED_SOURCE, &Fake::default()).unwrap();
    let expected = Config {
        source: "<embedded>".to_string(),
        receiver: OtlpReceiverConfig {
            grpc: Some(GrpcConfig {
                endpoint: addr("127.0.0.1:4317"),
                max_recv_msg_size: 16 * MIB,
                tls: None,
            }),
            http: Some(HttpConfig {
                endpoint: addr("127.0.0.1:4318"),
                max_request_body_size: 16 * MIB,
                tls: None,
                cors: None,
            }),
            auth: None,
            limits: Limits::default(),
            retry_after: Duration::from_secs(1),
        },
        redaction: None,
        exporters: Vec::new(),
        slo: SloConfig {
            files: vec!["embedded:examples".to_string()],
            ..SloConfig::default()
        },
        service: ServiceConfig {
            admin_endpoint: addr("127.0.0.1:8888"),
            admin_auth: None,
            logs: LogsConfig {
                level: "info".to_string(),
                format: LogFormat::Text,
            },
            traces: PipelineConfig::default(),
            metrics: PipelineConfig::default(),
            logs_pipeline: PipelineConfig::default(),
            shutdown_timeout: Duration::from_secs(20),
            memory_limit: DEFAULT_MEMORY_LIMIT,
        },
    };
    assert_eq!(config, expected);
    assert_eq!(load(None).unwrap(), expected);
}

#[test]
fn defaults_apply_to_absent_keys() {
    let config = parse(
        "receivers: {otlp: {protocols: {http: }}}",
        "t",
        &Fake::default(),
    );
    let config = config.unwrap();
    let embedded = parse(DEFAULT_CONFIG, "t", &Fake::default()).unwrap();
    assert_eq!(config.receiver.grpc, None);
    assert_eq!(config.receiver.http, embedded.receiver.http);
    assert_eq!(
        config.slo.files,
        Vec::<String>::new(),
        "no SLO files unless configured"
    );
    assert_eq!(
        SloConfig {
            files: embedded.slo.files.clone(),
            ..config.slo
        },
        embedded.slo
    );
    assert_eq!(config.service, embedded.service);
}

const FULL: &str = include_str!("../../tests/fixtures/config/valid/full.yaml");
#[test]
fn full_config_uses_every_key() {
    let lookup = Fake::default()
        .file("/secrets/a", "token-a\n")
        .env("TOKEN_B", "token-b");
    let config = parse(FULL, "full.yaml", &lookup).unwrap();
    let tls = |cert: &str, key: &str, ca: Option<&str>| TlsConfig {
        cert_file: cert.into(),
        key_file: key.into(),
        client_ca_file: ca.map(PathBuf::from),
    };
    let receiver = OtlpReceiverConfig {
        grpc: Some(GrpcConfig {
            endpoint: addr("0.0.0.0:0"),
            max_recv_msg_size: 512 * 1024,
            tls: Some(tls("/tls/cert.pem", "/tls/key.pem", Some("/tls/ca.pem"))),
        }),
        http: Some(HttpConfig {
            endpoint: addr("[::1]:14318"),
            max_request_body_size: 1_000_000_000,
            tls: Some(tls("c.pem", "k.pem", None)),
            cors: None,
        }),
        auth: Some(AuthConfig {
            tokens: vec![
                TokenConfig {
                    token: "token-a".to_string(),
                    tenant: "team-a".to_string(),
                    cluster: Some("seoul-prod".to_string()),
                },
                TokenConfig {
                    token: "token-b".to_string(),
                    tenant: "team-b".to_string(),
                    cluster: None,
                },
            ],
        }),
        limits: Limits {
            max_attributes_per_item: 128,
            max_connections: 10,
            ..Limits::default()
        },
        retry_after: Duration::from_millis(250),
    };
    assert_eq!(config.source, "full.yaml");
    assert_eq!(config.receiver, receiver);
    let exporter = |id: &str, kind| ExporterConfig {
        id: id.to_string(),
        kind,
    };
    let exporters = vec![
        exporter(
            "debug",
            ExporterKind::Debug {
                verbosity: Verbosity::Detailed,
            },
        ),
        exporter(
            "debug/quiet",
            ExporterKind::Debug {
                verbosity: Verbosity::Basic,
            },
        ),
        exporter(
            "file/out",
            ExporterKind::File {
                path: "out.jsonl".into(),
            },
        ),
        exporter("nop", ExporterKind::Nop),
    ];
    assert_eq!(config.exporters, exporters);
    assert_eq!(config.slo.files, ["slos/*.yaml", "other/*.yml"]);
    assert_eq!(config.slo.cluster_attribute, "cluster");
    let service = ServiceConfig {
        admin_endpoint: addr("127.0.0.1:9999"),
        admin_auth: Some(AdminAuth {
            token: "an-admin-token-of-some-length".to_string(),
            metrics: false,
        }),
        logs: LogsConfig {
            level: "slotel=debug,info".to_string(),
            format: LogFormat::Json,
        },
        traces: PipelineConfig {
            exporters: Some(vec!["file/out".to_string(), "debug".to_string()]),
            processors: None,
            queue_max_bytes: MIB,
        },
        metrics: PipelineConfig {
            exporters: Some(Vec::new()),
            ..PipelineConfig::default()
        },
        logs_pipeline: PipelineConfig::default(),
        shutdown_timeout: Duration::from_secs(90),
        memory_limit: DEFAULT_MEMORY_LIMIT,
    };
    assert_eq!(config.service, service);
}

/// The `tenant` of the single token in a config whose tenant value is `value`.
fn tenant(value: &str, lookup: &Fake) -> Result<String, Vec<String>> {
    let text = with_grpc(&format!(
        "    auth:\n      tokens:\n        - token: t\n          tenant: {value}\n"
    ));
    match parse(&text, "t.yaml", lookup) {
        Ok(config) => Ok(config.receiver.auth.unwrap().tokens[0].tenant.clone()),
        Err(errors) => Err(errors.0.iter().map(ToString::to_string).collect()),
    }
}

#[test]
fn interpolation() {
    let lookup = Fake::default()
        .env("TEAM", "payments")
        .env("EMPTY", "")
        .env("OTHER", "${env:TEAM}")
        .file("/s/tenant", "from-file\n\n")
        .file("/s/crlf", "x\r\n");
    let ok = |value: &str| tenant(value, &lookup).unwrap();
    assert_eq!(ok("${env:TEAM}"), "payments");
    assert_eq!(ok("${TEAM}"), "payments");
    assert_eq!(ok("team-${env:TEAM}-${TEAM}"), "team-payments-payments");
    assert_eq!(ok("${env:UNSET:-fallback}"), "fallback");
    assert_eq!(ok("${env:EMPTY:-fallback}"), "fallback");
    assert_eq!(ok("${UNSET:-}x"), "x");
    assert_eq!(ok("${env:TEAM:-fallback}"), "payments");
    assert_eq!(ok("${file:/s/tenant}"), "from-file\n");
    assert_eq!(ok("${file:/s/crlf}"), "x");
    assert_eq!(ok("$${env:TEAM}"), "${env:TEAM}");
    assert_eq!(ok("a$b$$c"), "a$b$$c");
    // A value is not expanded again.
    assert_eq!(ok("${OTHER}"), "${env:TEAM}");
    // Quoted scalars are expanded too.
    assert_eq!(ok("'${TEAM}'"), "payments");
}

#[test]
fn interpolation_errors_name_the_variable_or_path() {
    let lookup = Fake::default().file("/s/secret", "hunter2");
    let err = |value: &str| tenant(value, &lookup).unwrap_err();
    let at = "t.yaml:8:19: receivers.otlp.auth.tokens[0].tenant";
    assert_eq!(
        err("${env:MISSING}"),
        [format!("{at}: environment variable \"MISSING\" is not set")]
    );
    assert_eq!(
        err("x${MISSING}"),
        [format!("{at}: environment variable \"MISSING\" is not set")]
    );
    assert_eq!(
        err("${file:/nope}"),
        [format!(
            "{at}: cannot read file \"/nope\": no such file or directory"
        )]
    );
    assert_eq!(
        err("${env:TEAM"),
        [format!(
            "{at}: unterminated `${{` (write `$${{` for a literal `${{`)"
        )]
    );
    assert_eq!(
        err("${vault:x}"),
        [format!(
            "{at}: unknown source \"vault\" in `${{…}}`, expected `env:` or `file:`"
        )]
    );
    assert_eq!(
        err("${env:1X}"),
        [format!("{at}: invalid environment variable name \"1X\"")]
    );
    assert_eq!(
        err("${file:}"),
        [format!("{at}: empty path in `${{file:}}`")]
    );
}

#[test]
fn keys_are_never_expanded() {
    let lookup = Fake::default().env("KEY", "files");
    let text = with_grpc("slo:\n  ${env:KEY}: []\n");
    assert_eq!(
        errors(&text, &lookup),
        [
            "t.yaml:6:3: slo.${env:KEY}: unknown key \"${env:KEY}\", expected one of `files`, `allow_empty`, `cluster_attribute`, `allowed_lateness`, `max_future`, `state_dir`, `snapshot_interval`, `export_interval`, `wal_max_bytes`, `history_interval`, `rules_sync`, `capture`, `status_source`, `max_groups_total`"
        ]
    );
}

#[test]
fn values_cannot_inject_yaml() {
    let lookup = Fake::default().env("EVIL", "x\n  evil: 1\nslo: {files: [/etc]}");
    let text = with_grpc("slo:\n  cluster_attribute: ${env:EVIL}\n");
    let config = parse(&text, "t.yaml", &lookup).unwrap();
    assert_eq!(
        config.slo.cluster_attribute,
        "x\n  evil: 1\nslo: {files: [/etc]}"
    );
    assert!(config.slo.files.is_empty());
}

#[test]
fn errors_never_print_tokens() {
    let lookup = Fake::default().env("T", "s3cret-token");
    let text = with_grpc(
        "    auth:\n      tokens:\n        - {token: s3cret-token, tenant: a}\n        - {token: \"${T}\", tenant: b}\n",
    );
    let errors = errors(&text, &lookup);
    assert_eq!(
        errors,
        [
            "t.yaml:8:19: receivers.otlp.auth.tokens[1].token: duplicate token, the same as `tokens[0]`"
        ]
    );
    assert!(!errors[0].contains("s3cret"));
    let debug = format!("{:?}", parse(&with_grpc(""), "t", &lookup));
    assert!(!debug.contains("s3cret"));
}

#[test]
fn value_parsers() {
    assert_eq!(parse_byte_size("16MiB"), Ok(16 * MIB));
    assert_eq!(parse_byte_size("512 KiB"), Ok(512 * 1024));
    assert_eq!(parse_byte_size("1GB"), Ok(1_000_000_000));
    assert_eq!(parse_byte_size("2kb"), Ok(2000));
    assert_eq!(parse_byte_size("100"), Ok(100));
    assert_eq!(parse_byte_size("7B"), Ok(7));
    assert!(parse_byte_size("1.5MiB").is_err());
    assert!(parse_byte_size("MiB").is_err());
    assert!(parse_byte_size("-1").is_err());
    assert!(parse_byte_size("16 parsecs").is_err());
    assert_eq!(parse_byte_size("0MiB"), Err(ValueError::Zero));
    assert_eq!(
        parse_byte_size("99999999999TiB").unwrap_err().to_string(),
        "byte size \"99999999999TiB\" is too large"
    );
    assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
    assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    assert!(parse_duration("5").is_err());
    assert!(parse_duration("0s").is_err());
    assert_eq!(parse_duration("100y"), Ok(crate::yaml::read::MAX_DURATION));
    for long in ["100y 1s", "600y", "300000000000y"] {
        assert_eq!(
            parse_duration(long),
            Err(ValueError::DurationTooLong {
                text: long.to_string()
            }),
            "{long}"
        );
    }
    assert_eq!(parse_addr("localhost:4317"), Ok(addr("127.0.0.1:4317")));
    assert_eq!(parse_addr("[::1]:4317"), Ok(addr("[::1]:4317")));
    assert_eq!(parse_addr("0.0.0.0:0"), Ok(addr("0.0.0.0:0")));
    for bad in [
        "127.0.0.1",
        "example.com:4317",
        ":4317",
        "127.0.0.1:65536",
        "localhost",
    ] {
        assert!(parse_addr(bad).is_err(), "{bad}");
    }
}

#[test]
fn aliases_are_expanded() {
    let text = "x: &tls {cert_file: c, key_file: k}\nreceivers: {otlp: {protocols: {grpc: {tls: *tls}, http: {tls: *tls}}}}\n";
    // `x` is unknown, the aliases themselves decode.
    assert_eq!(
        errors(text, &Fake::default()),
        [
            "t.yaml:1:1: x: unknown key \"x\", expected one of `receivers`, `processors`, `exporters`, `slo`, `service`"
        ]
    );
}

#[test]
fn billion_laughs_is_an_error() {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let errors = errors(&text, &Fake::default());
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("document expands to more than 100000 nodes"),
        "{errors:?}"
    );
}

#[test]
fn a_long_string_aliased_many_times_is_an_error() {
    // A 3 MiB string and 20,000 aliases of it (a 3.6 MB file) took 5.6 GB and more.
    let long = "x".repeat(1 << 20);
    let aliases = vec!["*s"; 20].join(", ");
    let text = format!("x: &s \"{long}\"\ny: [{aliases}]\n");
    let found = errors(&text, &Fake::default());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("t.yaml:2:")
            && found[0].contains("document expands to more than 16 MiB of text"),
        "{found:?}"
    );
    // Fifteen copies fit (the string, the anchor's copy and 13 aliases).
    let aliases = vec!["*s"; 13].join(", ");
    let text = format!("x: &s \"{long}\"\ny: [{aliases}]\n");
    let found = errors(&text, &Fake::default());
    assert!(
        found.iter().all(|e| !e.contains("expands to more")),
        "{found:?}"
    );
}

#[test]
fn interpolation_is_bounded_over_the_whole_file() {
    let fake = Fake::default().file("/k", &"k".repeat(1 << 20));
    // One value naming a 1 MiB file 17 times, and 17 values naming it once.
    let one = format!(
        "receivers: {{otlp: {{auth: {{tokens: [{{token: \"{}\", tenant: t}}]}}}}}}\n",
        "${file:/k}".repeat(17)
    );
    let many = format!(
        "receivers: {{otlp: {{auth: {{tokens: [{}]}}}}}}\n",
        vec!["{token: \"${file:/k}\", tenant: t}"; 17].join(", ")
    );
    for text in [one, many] {
        let found = errors(&text, &fake);
        // Said once, at the first value past the bound, not again for every value after it.
        let said = found
            .iter()
            .filter(|e| e.contains("values of this file expand to more than 16 MiB"))
            .count();
        assert_eq!(said, 1, "{found:?}");
    }
    // Fifteen fit.
    let fits = format!(
        "receivers: {{otlp: {{auth: {{tokens: [{{token: \"{}\", tenant: t}}]}}}}}}\n",
        "${file:/k}".repeat(15)
    );
    let found = errors(&fits, &fake);
    assert!(
        found.iter().all(|e| !e.contains("expand to more")),
        "{found:?}"
    );
}

#[test]
fn deep_nesting_is_an_error() {
    // The parser itself refuses very deep flow nesting.
    let flow = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let found = errors(&flow, &Fake::default());
    assert_eq!(
        found,
        ["t.yaml:1:256: invalid yaml: recursion limit exceeded"]
    );
    // Block nesting stops at 64 levels.
    let block: String = (0..70).map(|i| format!("{}a:\n", "  ".repeat(i))).collect();
    let found = parse(&block, "t.yaml", &Fake::default()).unwrap_err();
    let [error] = &found.0[..] else {
        panic!("{found}");
    };
    assert_eq!((error.line, error.column), (65, 129));
    assert_eq!(error.path, vec!["a"; 64].join("."));
    assert_eq!(error.message, "nesting is deeper than 64 levels");
    let recursive = errors("a: &a [*a]", &Fake::default());
    assert_eq!(
        recursive,
        ["t.yaml:1:8: a[0]: alias refers to a node that contains it"]
    );
}

#[test]
fn error_display() {
    let mut error = ConfigError {
        file: "c.yaml".to_string(),
        path: "slo.files".to_string(),
        line: 3,
        column: 5,
        message: "expected a list, found a string".to_string(),
    };
    assert_eq!(
        error.to_string(),
        "c.yaml:3:5: slo.files: expected a list, found a string"
    );
    error.path.clear();
    assert_eq!(
        error.to_string(),
        "c.yaml:3:5: expected a list, found a string"
    );
    let errors = ConfigErrors(vec![error.clone(), error]);
    assert_eq!(errors.to_string().lines().count(), 2);
}

#[test]
fn load_reads_files_and_reports_missing_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("slotel.yaml");
    std::fs::write(&path, DEFAULT_CONFIG).unwrap();
    let config = load(Some(&path)).unwrap();
    assert_eq!(config.source, path.display().to_string());

    let missing = dir.path().join("missing.yaml");
    let errors = load(Some(&missing)).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    assert_eq!(
        errors.to_string(),
        format!(
            "{}: cannot read config file: no such file or directory (os error 2)",
            missing.display()
        )
    );
}

#[test]
fn system_lookup_reads_bounded_files() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("token");
    std::fs::write(&small, "s3cret\n").unwrap();
    let spec = format!("${{file:{}}}", small.display());
    assert_eq!(interpolate::expand(&spec, &SystemLookup).unwrap(), "s3cret");
    let big = dir.path().join("big");
    std::fs::write(&big, vec![b'x'; 1024 * 1024 + 1]).unwrap();
    let err = SystemLookup.read_file(&big).unwrap_err();
    assert_eq!(err.to_string(), "file is larger than 1 MiB");
}

/// Every file in `tests/fixtures/config/` starts with `# expect: L:C: path: message` lines
/// listing exactly the errors it must produce, in order.
#[test]
fn fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config");
    let lookup = Fake::default().env("SLOTEL_TEST_TOKEN", "s3cret");
    crate::fixture_tests::check_fixtures(&dir, 15, |text, name| match parse(text, name, &lookup) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .0
            .iter()
            .map(|e| e.to_string().replacen(&format!("{name}:"), "", 1))
            .collect(),
    });
}

#[test]
fn pipelines_list_their_processors() {
    let lookup = Fake::default();
    let text = with_grpc(
        "processors:\n  redaction: {}\nservice:\n  pipelines:\n    metrics: {processors: [redaction]}\n    traces: {processors: []}\n",
    );
    let config = parse(&text, "t.yaml", &lookup).unwrap_or_else(|e| panic!("{e}"));
    let s = &config.service;
    assert_eq!(s.metrics.processors, Some(vec!["redaction".to_string()]));
    assert_eq!(s.traces.processors, Some(Vec::new()));
    assert_eq!(s.logs_pipeline.processors, None);

    let typo = with_grpc(
        "processors:\n  redaction: {}\nservice:\n  pipelines:\n    metrics: {processors: [redactoin, redaction, redaction]}\n",
    );
    assert_eq!(
        errors(&typo, &lookup),
        [
            "t.yaml:9:28: service.pipelines.metrics.processors[0]: processor \"redactoin\" is not configured under `processors`, did you mean `redaction`?",
            "t.yaml:9:50: service.pipelines.metrics.processors[2]: processor \"redaction\" is listed twice",
        ]
    );
    let absent = with_grpc("service:\n  pipelines:\n    metrics: {processors: [redaction]}\n");
    assert_eq!(
        errors(&absent, &lookup),
        [
            "t.yaml:7:28: service.pipelines.metrics.processors[0]: processor \"redaction\" is not configured under `processors`"
        ]
    );
}

#[test]
fn rules_sync_reaches_a_ruler_as_the_exporters_reach_their_backends() {
    let text = with_grpc(
        "slo:\n  rules_sync:\n    endpoint: http://mimir:8080\n    tenant: team-a\n    namespace: slos\n",
    );
    let config = parse(&text, "t.yaml", &Fake::default()).unwrap();
    let sync = config.slo.rules_sync.unwrap();
    assert_eq!(sync.client.endpoint, "http://mimir:8080");
    assert_eq!(sync.client.tenant.as_deref(), Some("team-a"));
    assert_eq!(sync.namespace, "slos");
    let text = with_grpc("slo:\n  rules_sync:\n    endpoint: http://mimir:8080\n");
    let config = parse(&text, "t.yaml", &Fake::default()).unwrap();
    assert_eq!(config.slo.rules_sync.unwrap().namespace, "slotel");
    let errors = errors(
        &with_grpc("slo:\n  rules_sync:\n    tenant: a\n"),
        &Fake::default(),
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("slo.rules_sync"), "{errors:?}");
    assert!(errors[0].contains("endpoint"), "{errors:?}");
}

#[test]
fn slo_capture_is_off_by_default_and_decodes_with_its_defaults() {
    let config = parse(DEFAULT_CONFIG, EMBEDDED_SOURCE, &Fake::default()).unwrap();
    assert_eq!(config.slo.capture, None);
    let text = with_grpc(
        "slo:\n  capture:\n    directory: /var/lib/slotel/capture\n    max_bytes: 10MiB\n    columns:\n      - attributes[\"user.tier\"]\n      - resource.attributes[\"k8s.namespace.name\"]\n    metrics: [http.server.request.duration]\n",
    );
    let config = parse(&text, "t.yaml", &Fake::default()).unwrap();
    assert_eq!(
        config.slo.capture,
        Some(CaptureConfig {
            directory: PathBuf::from("/var/lib/slotel/capture"),
            rotate_every: CaptureConfig::DEFAULT_ROTATE_EVERY,
            max_bytes: 10 * MIB as u64,
            retention: CaptureConfig::DEFAULT_RETENTION,
            columns: vec![
                crate::slo::spec::AttrRef::Item("user.tier".into()),
                crate::slo::spec::AttrRef::Resource("k8s.namespace.name".into()),
            ],
            metrics: vec!["http.server.request.duration".into()],
        })
    );
}

#[test]
fn slo_capture_errors_are_located() {
    let text = with_grpc("slo:\n  capture:\n    rotate_every: 0s\n    columns: [user.tier]\n");
    let errs = errors(&text, &Fake::default());
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(
        errs[0].contains("slo.capture: missing required field `directory`"),
        "{errs:?}"
    );
    assert!(
        errs[1].starts_with("t.yaml:7:19: slo.capture.rotate_every: must be greater than 0"),
        "{errs:?}"
    );
    assert!(
        errs[2].starts_with("t.yaml:8:15: slo.capture.columns[0]: "),
        "{errs:?}"
    );
    assert!(
        errs[2].ends_with("expected attributes[\"key\"] or resource.attributes[\"key\"]"),
        "{errs:?}"
    );
}

#[test]
fn status_source_reaches_prometheus_as_the_exporters_reach_their_backends() {
    let text = with_grpc(
        "slo:\n  status_source:\n    prometheus:\n      endpoint: http://mimir:8080/prometheus\n      tenant: team-a\n      headers: {x-a: b}\n",
    );
    let config = parse(&text, "t.yaml", &Fake::default()).unwrap();
    let source = config.slo.status_source.unwrap();
    assert_eq!(source.client.endpoint, "http://mimir:8080/prometheus");
    assert_eq!(source.client.tenant.as_deref(), Some("team-a"));
    assert!(
        parse(&with_grpc("slo: {}\n"), "t.yaml", &Fake::default())
            .unwrap()
            .slo
            .status_source
            .is_none()
    );
    for (text, want) in [
        ("slo:\n  status_source: {}\n", "prometheus"),
        (
            "slo:\n  status_source:\n    prometheus: {tenant: a}\n",
            "endpoint",
        ),
        (
            "slo:\n  status_source:\n    mimir: {endpoint: http://m}\n",
            "unknown key",
        ),
    ] {
        let errors = errors(&with_grpc(text), &Fake::default());
        assert!(!errors.is_empty(), "{text}");
        assert!(
            errors.iter().all(|e| e.contains("slo.status_source")),
            "{errors:?}"
        );
        assert!(
            errors.iter().any(|e| e.contains(want)),
            "{text}: {errors:?}"
        );
    }
}

/// `max_label_value_length` defaults to Loki's and Mimir's 2048 bytes; 0 is no limit.
#[test]
fn max_label_value_length_defaults_to_the_backends_limit() {
    let text = with_grpc(
        "exporters:\n  prometheusremotewrite/a:\n    endpoint: http://m/api/v1/push\n  \
         prometheusremotewrite/b:\n    endpoint: http://m/api/v1/push\n    max_label_value_length: 0\n  \
         loki/a:\n    endpoint: http://l\n  loki/b:\n    endpoint: http://l\n    max_label_value_length: 4096\n",
    );
    let config = parse(&text, "t.yaml", &Fake::default()).unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<usize> = config
        .exporters
        .iter()
        .filter_map(|e| match &e.kind {
            ExporterKind::RemoteWrite(rw, _) => Some(rw.max_label_value_length),
            ExporterKind::Loki(l, _) => Some(l.max_label_value_length),
            _ => None,
        })
        .collect();
    assert_eq!(got, [2048, 0, 2048, 4096]);
}

/// The backends' per-record limits default to Loki's and Mimir's; 0 turns one off.
#[test]
fn per_record_limits_default_to_the_backends_and_0_is_no_limit() {
    let text = with_grpc(
        "exporters:\n  prometheusremotewrite/a:\n    endpoint: http://m/api/v1/push\n  \
         prometheusremotewrite/b:\n    endpoint: http://m/api/v1/push\n    max_label_name_length: 0\n    \
         max_label_names_per_series: 0\n    max_sample_age: 0\n  \
         loki/a:\n    endpoint: http://l\n  loki/b:\n    endpoint: http://l\n    max_line_size: 1MiB\n    \
         max_structured_metadata_size: 0\n    max_structured_metadata_entries_count: 0\n    \
         reject_old_samples_max_age: 0s\n    creation_grace_period: 1h\n",
    );
    let config = parse(&text, "t.yaml", &Fake::default()).unwrap_or_else(|e| panic!("{e}"));
    let h = |n: u64| Some(Duration::from_secs(n * 3600));
    let mut rw = Vec::new();
    let mut loki = Vec::new();
    for e in &config.exporters {
        match &e.kind {
            ExporterKind::RemoteWrite(c, _) => rw.push((
                c.max_label_name_length,
                c.max_label_names_per_series,
                c.max_sample_age,
            )),
            ExporterKind::Loki(c, _) => loki.push((
                c.max_line_size,
                c.max_structured_metadata_size,
                c.max_structured_metadata_entries_count,
                c.reject_old_samples_max_age,
                c.creation_grace_period,
            )),
            _ => {}
        }
    }
    assert_eq!(rw, [(1024, 30, h(1)), (0, 0, None)]);
    assert_eq!(
        loki,
        [
            (256_000, 64_000, 128, h(168), Some(Duration::from_secs(600))),
            (1 << 20, 0, 0, None, h(1))
        ]
    );
    // `max_line_size` is 0 or a whole number of bytes from 256.
    let bad = with_grpc(
        "exporters:\n  loki/a:\n    endpoint: http://l\n    max_line_size: 100\n    \
         creation_grace_period: soon\n",
    );
    let errs = errors(&bad, &Fake::default());
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs[0].contains("max_line_size") && errs[0].contains("from 256"),
        "{errs:?}"
    );
    assert!(errs[1].contains("creation_grace_period"), "{errs:?}");
}

/// The SLO series are never changed to fit the backend, so the external labels that would
/// take an SLO series (7 labels of its own, up to 8 group labels) past
/// `max_label_names_per_series` are refused at load, unless the exporter skips them.
#[test]
fn external_labels_leave_room_for_the_slo_series_labels() {
    let labels = |n: usize| {
        (0..n)
            .map(|i| format!("      l{i}: v\n"))
            .collect::<String>()
    };
    let rw = |extra: &str, n: usize| {
        with_grpc(&format!(
            "exporters:\n  prometheusremotewrite/a:\n    endpoint: http://m/api/v1/push\n{extra}    \
             external_labels:\n{}",
            labels(n)
        ))
    };
    assert!(parse(&rw("", 15), "t.yaml", &Fake::default()).is_ok());
    let errs = errors(&rw("", 16), &Fake::default());
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("16 external labels") && errs[0].contains("at most 15"),
        "{errs:?}"
    );
    let errs = errors(
        &rw("    max_label_names_per_series: 20\n", 6),
        &Fake::default(),
    );
    assert!(errs[0].contains("at most 5"), "{errs:?}");
    for extra in [
        "    send_slo_series: false\n",
        "    max_label_names_per_series: 0\n",
        "    max_label_names_per_series: 40\n",
    ] {
        let text = rw(extra, 16);
        assert!(parse(&text, "t.yaml", &Fake::default()).is_ok(), "{extra}");
    }
}

/// humantime reads up to `u64::MAX` seconds: `snapshot_interval: 300000000000y` made the
/// snapshot loop panic on its first tick, lateness and future that long made the start
/// panic once a timeslice SLO loaded, and `600y` of lateness wrapped to 15 years.
#[test]
fn durations_longer_than_100_years_are_errors_with_their_place() {
    let text = with_grpc(
        "slo:\n  allowed_lateness: 600y\n  max_future: 300000000000y\n  snapshot_interval: 100y\n",
    );
    assert_eq!(
        errors(&text, &Fake::default()),
        [
            "t.yaml:6:21: slo.allowed_lateness: duration \"600y\" is longer than 100y",
            "t.yaml:7:15: slo.max_future: duration \"300000000000y\" is longer than 100y",
        ]
    );
    let text = with_grpc("slo:\n  snapshot_interval: 999ms\n");
    assert_eq!(
        errors(&text, &Fake::default()),
        ["t.yaml:6:22: slo.snapshot_interval: must be at least 1s"]
    );
}

/// Periods that pace a loop: `export_interval: 1ns` (and history, capture rotation,
/// queue fsync, retry backoff) ran their loop back to back; each has a floor, stated
/// with its place.
#[test]
fn periods_that_pace_loops_have_a_floor() {
    let text = "receivers:\n  otlp:\n    protocols:\n      grpc:\n\
        slo:\n  export_interval: 1ns\n  history_interval: 99ms\n  \
        capture: {directory: /tmp/c, rotate_every: 10ms}\n\
        exporters:\n  otlphttp/x:\n    endpoint: http://127.0.0.1:9\n    \
        sending_queue: {storage: disk, directory: /tmp/q, fsync_interval: 1us}\n    \
        retry_on_failure: {initial_interval: 1ns, max_interval: 999us}\n";
    assert_eq!(
        errors(text, &Fake::default()),
        [
            "t.yaml:6:20: slo.export_interval: must be at least 100ms",
            "t.yaml:7:21: slo.history_interval: must be at least 100ms",
            "t.yaml:8:46: slo.capture.rotate_every: must be at least 1s",
            "t.yaml:12:71: exporters.otlphttp/x.sending_queue.fsync_interval: must be at least 1ms",
            "t.yaml:13:42: exporters.otlphttp/x.retry_on_failure.initial_interval: must be at least 1ms",
            "t.yaml:13:61: exporters.otlphttp/x.retry_on_failure.max_interval: must be at least 1ms",
        ]
    );
    let fine = "receivers:\n  otlp:\n    protocols:\n      grpc:\n\
        slo:\n  export_interval: 100ms\n  history_interval: 100ms\n\
        exporters:\n  otlphttp/x:\n    endpoint: http://127.0.0.1:9\n    \
        retry_on_failure: {initial_interval: 1ms, max_interval: 1ms}\n";
    assert!(parse(fine, "t.yaml", &Fake::default()).is_ok());
}

/// Counts that become permits or tasks: `max_connections: 18446744073709551615` panicked
/// the listener's task (a semaphore holds at most 2^61 permits) and `num_consumers:
/// 100000000` aborted the start on allocation.
#[test]
fn connection_and_consumer_counts_have_a_ceiling() {
    let text = "receivers:\n  otlp:\n    protocols:\n      grpc:\n    limits:\n      \
        max_connections: 18446744073709551615\n      max_connections_per_peer: 1000001\n\
        exporters:\n  otlphttp/x:\n    endpoint: http://127.0.0.1:9\n    \
        sending_queue: {num_consumers: 100000000}\n";
    assert_eq!(
        errors(text, &Fake::default()),
        [
            "t.yaml:6:24: receivers.otlp.limits.max_connections: must be at most 1000000",
            "t.yaml:7:33: receivers.otlp.limits.max_connections_per_peer: must be at most 1000000",
            "t.yaml:11:36: exporters.otlphttp/x.sending_queue.num_consumers: must be at most 1000",
        ]
    );
    let fine = with_grpc("    limits: {max_connections: 1000000}\n");
    assert!(parse(&fine, "t.yaml", &Fake::default()).is_ok());
}
