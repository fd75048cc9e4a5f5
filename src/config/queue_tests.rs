//! Exporter queues and `slo.max_groups_total` sized from `service.memory_limit`, and
//! configs whose queues and memory budget do not fit in it refused at load.

use super::*;

struct NoLookup;

impl Lookup for NoLookup {
    fn env(&self, _: &str) -> Option<String> {
        None
    }
    fn read_file(&self, path: &std::path::Path) -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            path.display().to_string(),
        ))
    }
}

/// The shipped shape: remote write, OTLP traces and Loki over OTLP/HTTP, each queue given
/// `queue` (empty: defaults), then `rest` (more top-level keys).
fn shipped(queue: &str, rest: &str) -> String {
    format!(
        "receivers:\n  otlp:\n    protocols:\n      grpc:\nexporters:\n  \
         prometheusremotewrite/mimir:\n    endpoint: http://mimir:8080/api/v1/push\n{queue}  \
         otlp/tempo:\n    endpoint: http://tempo:4317\n{queue}  \
         otlphttp/loki:\n    endpoint: http://loki:3100/otlp\n{queue}{rest}"
    )
}

fn queues(cfg: &Config) -> Vec<(String, QueueStorage, usize)> {
    let mut cfg = cfg.clone();
    cfg.exporters
        .iter_mut()
        .filter_map(|e| {
            let id = e.id.clone();
            e.kind
                .delivery_mut()
                .map(|d| (id, d.queue.storage, d.queue.max_bytes))
        })
        .collect()
}

fn memory_total(cfg: &Config) -> usize {
    queues(cfg).iter().map(|(_, _, b)| b).sum::<usize>() + cfg.receiver.limits.memory_budget
}

#[test]
fn default_queues_share_what_the_memory_limit_leaves() {
    let cfg = parse(&shipped("", ""), "t.yaml", &NoLookup).unwrap();
    assert_eq!(cfg.service.memory_limit, 1024 * MIB);
    assert_eq!(cfg.receiver.limits.memory_budget, 192 * MIB);
    // Three quarters of 1 GiB (768 MiB) less the 192 MiB budget, in three.
    for (id, storage, bytes) in queues(&cfg) {
        assert_eq!((storage, bytes), (QueueStorage::Memory, 192 * MIB), "{id}");
    }
    assert!(memory_total(&cfg) <= 768 * MIB);
}

#[test]
fn one_queue_keeps_the_largest_default() {
    let text = "receivers:\n  otlp:\n    protocols:\n      grpc:\nexporters:\n  otlp/tempo:\n    endpoint: http://tempo:4317\n";
    let cfg = parse(text, "t.yaml", &NoLookup).unwrap();
    assert_eq!(queues(&cfg)[0].2, 256 * MIB);
}

#[test]
fn given_sizes_are_kept_and_the_rest_share_what_is_left() {
    let tempo = "    sending_queue: {max_bytes: 300MiB}\n";
    let text = shipped("", "").replacen(
        "    endpoint: http://tempo:4317\n",
        &format!("    endpoint: http://tempo:4317\n{tempo}"),
        1,
    );
    let cfg = parse(&text, "t.yaml", &NoLookup).unwrap();
    let q = queues(&cfg);
    let tempo = q.iter().find(|(id, ..)| id == "otlp/tempo").unwrap();
    assert_eq!(tempo.2, 300 * MIB);
    // (768 - 192 - 300) / 2 = 138 MiB each for the two others.
    for (id, _, bytes) in q.iter().filter(|(id, ..)| id != "otlp/tempo") {
        assert_eq!(*bytes, 138 * MIB, "{id}");
    }
}

#[test]
fn queues_and_budget_over_the_memory_limit_are_refused_at_load() {
    let big = "    sending_queue: {max_bytes: 256MiB}\n";
    let errs = parse(&shipped(big, ""), "t.yaml", &NoLookup).unwrap_err();
    let text = errs.to_string();
    assert!(text.contains("service.memory_limit"), "{text}");
    assert!(text.contains("need 960 MiB"), "{text}");
    assert!(text.contains("otlp/tempo 256 MiB"), "{text}");
    // Stating a larger limit (a larger pod) accepts the same queues.
    let cfg = parse(
        &shipped(big, "service:\n  memory_limit: 2GiB\n"),
        "t.yaml",
        &NoLookup,
    )
    .unwrap();
    assert_eq!(cfg.service.memory_limit, 2048 * MIB);
    assert!(queues(&cfg).iter().all(|(_, _, b)| *b == 256 * MIB));
    // A limit the budget alone does not fit in is refused too, defaults or not.
    let errs = parse(
        &shipped("", "service:\n  memory_limit: 256MiB\n"),
        "t.yaml",
        &NoLookup,
    )
    .unwrap_err();
    assert!(errs.to_string().contains("service.memory_limit"), "{errs}");
}

#[test]
fn a_disk_queue_costs_its_cache_not_its_size() {
    let disk =
        "    sending_queue: {storage: disk, directory: /var/lib/slotel/queue, max_bytes: 4GiB}\n";
    let cfg = parse(&shipped(disk, ""), "t.yaml", &NoLookup).unwrap();
    assert!(
        queues(&cfg)
            .iter()
            .all(|(_, s, b)| *s == QueueStorage::Disk && *b == 4096 * MIB)
    );
}

#[test]
fn max_groups_total_is_sized_from_the_memory_limit_unless_set() {
    let parse = |text: &str| parse(&shipped("", text), "t.yaml", &NoLookup);
    let groups = |text: &str| parse(text).unwrap().slo.max_groups_total;
    assert_eq!(groups(""), 1024);
    assert_eq!(groups("service: {memory_limit: 4GiB}"), 4096);
    assert_eq!(
        groups("slo: {max_groups_total: 50000}\nservice: {memory_limit: 4GiB}"),
        50000
    );
    assert!(parse("slo: {max_groups_total: 0}").is_err());
}
