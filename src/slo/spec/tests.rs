use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::slo::ottl::ConditionTarget;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/slos")
}

/// The errors of one file as `L:C: path: message` lines.
fn error_lines(text: &str, name: &str) -> Vec<String> {
    match parse_file(text, name) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .iter()
            .map(|e| e.to_string().replacen(&format!("{name}:"), "", 1))
            .map(|line| line.trim_start().to_string())
            .collect(),
    }
}

/// Every file in `tests/fixtures/slos/` ends with `# expect: L:C: path: message` lines
/// listing exactly the errors it must produce, in order.
#[test]
fn fixtures() {
    crate::fixture_tests::check_fixtures(&fixtures_dir(), 12, error_lines);
}

#[test]
fn every_example_is_embedded_and_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/slos");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = EXAMPLES.iter().map(|(n, _)| n.to_string()).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded, "config/slos/*.yaml and EXAMPLES differ");
    for (name, text) in EXAMPLES {
        let on_disk = std::fs::read_to_string(dir.join(name)).unwrap();
        assert_eq!(&on_disk, text);
        parse_file(text, name).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
    let set = load(&["embedded:examples".to_string()], false).unwrap();
    let names: Vec<String> = set
        .slos
        .iter()
        .map(|s| format!("{}/{}", s.service, s.name))
        .collect();
    assert_eq!(
        names,
        [
            "checkout/availability",
            "checkout/pay-latency",
            "payment/availability",
            "payment/payments-latency",
            "cart/request-latency",
            "cart/request-availability",
            "catalog/availability",
            "catalog/search-latency",
        ]
    );
    // The same files through a glob on disk.
    let glob = format!("{}/*.yaml", dir.display());
    assert_eq!(load(&[glob], false).unwrap().slos.len(), names.len());
}

/// The examples match what `slotel loadgen` sends: every span SLO selects some of its
/// server spans, and the availability SLOs see some bad ones.
#[test]
fn examples_select_loadgen_traffic() {
    use crate::loadgen::{ContentOpts, generate};
    let set = load(&["embedded:examples".to_string()], false).unwrap();
    let mut rng = fastrand::Rng::with_seed(3);
    let req = generate::traces(&mut rng, 20_000, &ContentOpts::default());
    for slo in &set.slos {
        let Sli::Spans(sli) = &slo.sli else {
            continue;
        };
        let (mut total, mut bad) = (0, 0);
        for rs in &req.resource_spans {
            for span in rs.scope_spans.iter().flat_map(|s| &s.spans) {
                if sli.filter.eval_span(span, rs.resource.as_ref()) {
                    total += 1;
                    let is_bad = sli
                        .bad
                        .as_ref()
                        .is_some_and(|b| b.eval_span(span, rs.resource.as_ref()));
                    bad += usize::from(is_bad);
                }
            }
        }
        assert!(
            total > 50,
            "{}/{} selects {total} spans",
            slo.service,
            slo.name
        );
        if slo.name == "availability" {
            assert!(
                bad > 0 && bad < total / 10,
                "{}: {bad} bad of {total}",
                slo.service
            );
        }
    }
}

#[test]
fn native_format_maps_to_the_domain_types() {
    let (name, text) = EXAMPLES[0];
    let slos = parse_file(text, name).unwrap();
    let availability = &slos[0];
    assert_eq!(availability.service, "checkout");
    assert_eq!(availability.objective, 0.99);
    assert_eq!(
        availability.window,
        SloWindow::Rolling(Duration::from_secs(30 * 86_400))
    );
    assert_eq!(availability.budgeting, Budgeting::Occurrences);
    assert_eq!(availability.group_by, [AttrRef::Item("http.route".into())]);
    assert_eq!(availability.max_groups, 50);
    assert_eq!(availability.min_events, 0);
    assert_eq!(availability.percentiles, DEFAULT_PERCENTILES);
    assert_eq!(
        availability.source,
        SourceRef {
            file: name.into(),
            line: 5,
            column: 11
        }
    );
    assert_eq!(
        availability.runbook_url.as_deref(),
        Some("https://runbooks.example.com/checkout/availability")
    );
    let Sli::Spans(sli) = &availability.sli else {
        panic!("span sli")
    };
    assert!(sli.bad.is_some() && sli.latency_threshold.is_none());
    let latency = &slos[1];
    let Sli::Spans(sli) = &latency.sli else {
        panic!("span sli")
    };
    assert_eq!(sli.latency_threshold, Some(Duration::from_millis(300)));
    assert_eq!(latency.min_events, 100);
    assert_eq!(latency.max_groups, DEFAULT_MAX_GROUPS);
    assert!(sli.filter.text().contains("\"/api/pay\""));

    let payment = parse_file(EXAMPLES[1].1, "payment.yaml").unwrap();
    assert_eq!(
        payment[0].window,
        SloWindow::Calendar {
            unit: CalendarUnit::Month,
            time_zone: "Asia/Seoul".into()
        }
    );
    assert_eq!(
        payment[0].budgeting,
        Budgeting::Timeslices {
            slice: Duration::from_secs(60),
            slice_target: 0.95
        }
    );
    assert_eq!(payment[1].percentiles, [50.0, 99.0]);

    let cart = parse_file(EXAMPLES[2].1, "cart-metrics.yaml").unwrap();
    let Sli::Metric(MetricSli::Threshold { metric, threshold }) = &cart[0].sli else {
        panic!("threshold sli")
    };
    assert_eq!(metric.name, "http.server.request.duration");
    assert_eq!(*threshold, 0.25);
    assert_eq!(
        metric.filter.as_ref().unwrap().target(),
        ConditionTarget::Metric
    );
    let Sli::Metric(MetricSli::Ratio { good, bad, total }) = &cart[1].sli else {
        panic!("ratio sli")
    };
    assert!(good.is_none());
    assert_eq!(bad.as_ref().unwrap().name, "http.server.requests");
    assert_eq!(total.name, "http.server.requests");
}

#[test]
fn openslo_maps_to_the_domain_types() {
    let slos = parse_file(EXAMPLES[3].1, "catalog.openslo.yaml").unwrap();
    assert_eq!(slos.len(), 2);
    let availability = &slos[0];
    assert_eq!(
        (availability.service.as_str(), availability.name.as_str()),
        ("catalog", "availability")
    );
    assert_eq!(availability.objective, 0.99);
    assert_eq!(
        availability.window,
        SloWindow::Rolling(Duration::from_secs(28 * 86_400))
    );
    assert_eq!(
        availability.description.as_deref(),
        Some("Catalog requests answered without a server error.")
    );
    let Sli::Spans(sli) = &availability.sli else {
        panic!("span sli")
    };
    // good → bad = not good
    assert_eq!(
        sli.bad.as_ref().unwrap().text(),
        "not (status.code != STATUS_CODE_ERROR)"
    );
    let latency = &slos[1];
    assert_eq!(latency.objective, 0.985);
    assert_eq!(latency.source.line, 39);
    assert_eq!(
        latency.window,
        SloWindow::Calendar {
            unit: CalendarUnit::Month,
            time_zone: "UTC".into()
        }
    );
    assert_eq!(
        latency.budgeting,
        Budgeting::Timeslices {
            slice: Duration::from_secs(60),
            slice_target: 0.95
        }
    );
    let Sli::Spans(sli) = &latency.sli else {
        panic!("span sli")
    };
    assert_eq!(sli.latency_threshold, Some(Duration::from_millis(250)));
    assert!(sli.bad.is_none());
    // slotel's annotations.
    assert_eq!(latency.percentiles, [50.0, 90.0, 99.0]);

    // Metric sources, a bad ratio, and other kinds in the same file.
    let text = r#"
apiVersion: openslo/v1
kind: Service
metadata: {name: cart}
spec: {description: the cart}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: errors, displayName: Cart errors, labels: {team: [a]}}
spec:
  service: cart
  indicator:
    metadata: {name: cart-errors}
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Slotel
            spec: {metric: http.server.requests, query: 'attributes["http.response.status_code"] >= 500'}
        total:
          metricSource: {type: slotel, spec: {metric: http.server.requests}}
  timeWindow: [{duration: 1w, isRolling: false, calendar: {timeZone: Asia/Seoul}}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.995}]
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: latency}
spec:
  service: cart
  indicator:
    spec:
      thresholdMetric:
        metricSource: {type: slotel, spec: {metric: http.server.request.duration}}
  timeWindow: [{duration: 4w, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{op: lte, value: 300ms, targetPercent: 99}]
"#;
    let slos = parse_file(text, "cart.yaml").unwrap();
    assert_eq!(slos.len(), 2);
    assert_eq!(
        slos[0].window,
        SloWindow::Calendar {
            unit: CalendarUnit::Week,
            time_zone: "Asia/Seoul".into()
        }
    );
    let Sli::Metric(MetricSli::Ratio {
        good: None,
        bad: Some(bad),
        total,
    }) = &slos[0].sli
    else {
        panic!("ratio sli")
    };
    assert!(bad.filter.is_some() && total.filter.is_none());
    let Sli::Metric(MetricSli::Threshold { threshold, .. }) = &slos[1].sli else {
        panic!("threshold sli")
    };
    assert!((threshold - 0.3).abs() < 1e-12);
    assert_eq!(
        slos[1].window,
        SloWindow::Rolling(Duration::from_secs(28 * 86_400))
    );
}

#[test]
fn duplicates_across_files_and_load_errors() {
    let dir = fixtures_dir().join("duplicate");
    let errors = load(&[format!("{}/*.yaml", dir.display())], false).unwrap_err();
    let lines: Vec<String> = errors.errors().iter().map(|e| e.to_string()).collect();
    let a = dir.join("a.yaml").display().to_string();
    let b = dir.join("b.openslo.yaml").display().to_string();
    assert_eq!(
        lines,
        [format!(
            "{b}:4:9: duplicate slo `checkout/availability`, first defined at {a}:3"
        )]
    );
    // The same file matched twice is read once.
    let a_glob = a.clone();
    assert_eq!(
        load(&[a_glob.clone(), a_glob], false).unwrap().slos.len(),
        1
    );

    let errors = load(
        &[
            "embedded:nope".to_string(),
            "/no/such/file.yaml".to_string(),
            "/no/such/dir/*.yaml".to_string(),
            "a[".to_string(),
        ],
        false,
    )
    .unwrap_err();
    let lines: Vec<String> = errors.errors().iter().map(|e| e.to_string()).collect();
    assert_eq!(
        lines,
        [
            "embedded:nope: unknown embedded slo set \"nope\", expected `examples`",
            "/no/such/file.yaml: no such file",
            "/no/such/dir/*.yaml: glob matches no slo file: fix the path, or set \
             `slo.allow_empty: true` (`--allow-empty`) to run without its slos",
            "a[: invalid glob: invalid range pattern",
        ]
    );
    // No entries at all: no slos, and that is not an error.
    assert_eq!(load(&[], false).unwrap().slos.len(), 0);
}

#[test]
fn globs_and_directories_without_slo_files_are_errors_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("notes.txt"), "not an slo file").unwrap();
    let glob = format!("{}/*.yaml", dir.path().display());
    let empty_dir = empty.display().to_string();
    let errors = load(&[glob.clone(), empty_dir.clone()], false).unwrap_err();
    let lines: Vec<String> = errors.errors().iter().map(|e| e.to_string()).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!("{glob}: glob matches no slo file")),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with(&format!(
            "{empty_dir}: directory holds no slo file (*.yaml, *.yml)"
        )),
        "{lines:?}"
    );
    assert_eq!(
        load(&[glob.clone(), empty_dir.clone()], true)
            .unwrap()
            .slos
            .len(),
        0
    );
    // A missing plain path stays an error even when empty inputs are allowed.
    let missing = dir.path().join("missing.yaml").display().to_string();
    assert!(load(&[missing], true).is_err());

    // A directory stands for its YAML files.
    let text = EXAMPLES
        .iter()
        .find(|(n, _)| *n == "checkout.yaml")
        .unwrap()
        .1;
    std::fs::write(empty.join("checkout.yml"), text).unwrap();
    let set = load(&[format!("{empty_dir}/")], false).unwrap();
    assert_eq!(set.slos.len(), 2);
    assert!(fingerprint(std::slice::from_ref(&empty_dir)) != fingerprint(&[glob]));
}

#[test]
fn files_without_slos_and_documents() {
    assert_eq!(
        error_lines("# only a comment\n", "empty.yaml"),
        ["the file defines no slo"]
    );
    assert_eq!(error_lines("", "empty.yaml"), ["the file defines no slo"]);
    // A file of other OpenSLO kinds defines no SLO and is fine.
    let services = "apiVersion: openslo/v1\nkind: Service\nmetadata: {name: a}\nspec: {}\n";
    assert_eq!(parse_file(services, "s.yaml").unwrap().len(), 0);
    // Documents keep their line numbers; a leading `---` and empty documents are fine.
    let docs = documents_of("---\na: 1\n---\n---\nb: 2\n");
    assert_eq!(docs, ["---\na: 1\n", "\n\n---\n", "\n\n\n---\nb: 2\n"]);
    let two = "service: a\nslos:\n  - {name: x, objective: 99, window: 1d, sli: {spans: {where: 'true', bad: 'false'}}}\n---\nservice: b\nslos:\n  - {name: x, objective: 99, window: 1d, sli: {spans: {where: 'true', bad: 'false'}}}\n";
    let slos = parse_file(two, "two.yaml").unwrap();
    assert_eq!(slos[1].service, "b");
    assert_eq!(slos[1].source.line, 7);
    let broken = two.replace("service: b", "service: b\nbad key");
    let errors = error_lines(&broken, "two.yaml");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with("7:1: invalid yaml"), "{errors:?}");
}

/// Condition errors point into the file, whatever the scalar style.
#[test]
fn condition_errors_are_placed_in_the_file() {
    let file = |where_: &str| {
        format!(
            "service: a\nslos:\n  - name: x\n    objective: 99\n    window: 1d\n    sli:\n      spans:\n        bad: 'false'\n        where: {where_}\n"
        )
    };
    let cases = [
        ("kind == SPAN_KIND_SERVER and nme == 1", "9:45"),
        ("\"kind == 2 and \\\"a\\\" == nme\"", "9:40"),
        ("|\n          kind == 2\n          and nme == 1", "11:15"),
        (">\n          kind == 2 and\n\n          nme == 1", "12:11"),
        ("kind == 2\n          and\n          nme == 1", "11:11"),
    ];
    for (where_, at) in cases {
        let errors = error_lines(&file(where_), "f.yaml");
        assert_eq!(errors.len(), 1, "{where_}: {errors:?}");
        assert!(
            errors[0].starts_with(&format!(
                "{at}: slos[0].sli.spans.where: unknown path `nme`"
            )),
            "{where_}: {errors:?}"
        );
    }
}

/// SLO files are not interpolated: `${…}` is kept as written.
#[test]
fn no_interpolation() {
    let text = "service: a\nslos:\n  - name: x\n    description: costs ${env:HOME}\n    objective: 99\n    window: 1d\n    sli: {spans: {where: 'name == \"${x}\"', bad: 'false'}}\n";
    let slos = parse_file(text, "a.yaml").unwrap();
    assert_eq!(slos[0].description.as_deref(), Some("costs ${env:HOME}"));
    let Sli::Spans(sli) = &slos[0].sli else {
        panic!("span sli")
    };
    assert_eq!(sli.filter.text(), "name == \"${x}\"");
}

#[test]
fn adjusted_counts_default_true_and_can_be_turned_off_in_both_formats() {
    let adjusted = |slo: &Slo| match &slo.sli {
        Sli::Spans(s) => s.adjusted_counts,
        _ => panic!("a span sli"),
    };
    let native = |extra: &str| {
        format!(
            "service: shop\nslos:\n  - name: a\n    objective: 99\n    window: 30d\n{extra}    sli:\n      spans:\n        where: kind == SPAN_KIND_SERVER\n        bad: status.code == STATUS_CODE_ERROR\n"
        )
    };
    let slos = parse_file(&native(""), "a.yaml").unwrap();
    assert!(adjusted(&slos[0]));
    let slos = parse_file(&native("    adjusted_counts: false\n"), "a.yaml").unwrap();
    assert!(!adjusted(&slos[0]));
    let openslo = |annotation: &str| {
        format!(
            "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: a\n  annotations:\n{annotation}spec:\n  service: shop\n  timeWindow: [{{duration: 28d, isRolling: true}}]\n  budgetingMethod: Occurrences\n  objectives: [{{target: 0.99}}]\n  indicator:\n    metadata: {{name: a}}\n    spec:\n      ratioMetric:\n        good: {{metricSource: {{type: slotel, spec: {{query: status.code != STATUS_CODE_ERROR}}}}}}\n        total: {{metricSource: {{type: slotel, spec: {{query: kind == SPAN_KIND_SERVER}}}}}}\n"
        )
    };
    let slos = parse_file(&openslo("    team: shop\n"), "a.yaml").unwrap();
    assert!(adjusted(&slos[0]));
    let text = openslo("    slotel.dev/adjusted-counts: \"false\"\n");
    let slos = parse_file(&text, "a.yaml").unwrap();
    assert!(!adjusted(&slos[0]));
    let text = openslo("    slotel.dev/adjusted-counts: \"no\"\n");
    let errors = error_lines(&text, "a.yaml");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("expected \"true\" or \"false\""),
        "{errors:?}"
    );
}

#[test]
fn schema_for_the_examples() {
    let set = load(&["embedded:examples".to_string()], false).unwrap();
    let schema = crate::slo::facts::FactsSchema::of(&set);
    let attrs: Vec<&AttrRef> = schema.attributes().collect();
    assert_eq!(
        attrs,
        [
            &AttrRef::Item("http.response.status_code".into()),
            &AttrRef::Item("http.route".into()),
            &AttrRef::Resource("service.name".into()),
        ]
    );
}

/// The `IsMatch` regexes of one load share one room: the regex that crosses it is refused
/// at its place, and so is every regex after it, in the same file or the next, before it
/// compiles; the room left is what the accepted ones did not take.
#[test]
fn the_regexes_of_one_load_share_one_room() {
    let pattern = r"\\w{4}";
    let cost =
        crate::user_regex::SearchRegex::new(crate::user_regex::compile_regex(r"\w{4}").unwrap())
            .memory_usage();
    let file = |service: &str| {
        let slo = |name: &str| {
            format!(
                "  - name: {name}\n    objective: 99\n    window: 30d\n    sli:\n      spans:\n        \
                 where: IsMatch(attributes[\"u\"], \"{pattern}\")\n        \
                 bad: status.code == STATUS_CODE_ERROR\n"
            )
        };
        format!("service: {service}\nslos:\n{}{}", slo("one"), slo("two"))
    };
    let room = Cell::new(3 * cost + cost / 2);
    let mut adjustments = Vec::new();
    let (first, errors) = parse_located(&file("a"), "a.yaml", &mut adjustments, &room);
    assert_eq!((first.len(), errors.len()), (2, 0), "{errors:?}");
    assert_eq!(room.get(), cost + cost / 2);
    let (second, errors) = parse_located(&file("b"), "b.yaml", &mut adjustments, &room);
    assert_eq!(second.len(), 1);
    let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    let message = "the `IsMatch` regexes take more than 128 MiB together: use fewer or \
                   simpler regexes (`==` for whole values)";
    assert_eq!(
        lines,
        [format!("b.yaml:15:41: slos[1].sli.spans.where: {message}")]
    );
    assert_eq!(room.get(), 0);
    // Spent: refused before compiling, whatever the regex.
    let (third, errors) = parse_located(&file("c"), "c.yaml", &mut adjustments, &room);
    assert_eq!((third.len(), errors.len()), (0, 2));
}
