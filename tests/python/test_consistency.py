"""One truth for SLO numbers: every example SLO shape reads the same on every path.

The example SLOs shipped in config/slos/ (plain, grouped by `http.route`, latency with
percentiles, metric histogram and counter SLIs, calendar month, time slices, 28d and 30d
windows) are loaded by a real slotel that

- remote-writes its series to one Prometheus, which loads the rules `slotel rules` generates
  from the same files, and
- is scraped on `/metrics` by a second Prometheus with the same rules (the Helm default).

After the same traffic from the OpenTelemetry SDK (spans of checkout, catalog and payment,
catalog's through the SDK's consistent probability sampler at 1/2 and 0.3, so that its spans
count their adjusted counts; the cart's histogram and counter), for every SLO, cluster and
group:

- the API's good/total, `/metrics`, and both Prometheus servers agree exactly;
- no two series on `/metrics` share a name and label set;
- the recorded error ratios, burn rates and budgets of the remote-written path equal the
  API's within 1e-6 (relative), and the native-histogram quantiles lie within one bucket;
- an alert fires in Prometheus exactly for the SLO whose burn rates the API says cross the
  alert's factors, and for no other.
"""

from __future__ import annotations

import math
import random
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace._sampling_experimental import (
    composable_traceid_ratio_based,
    composite_sampler,
)
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from otlp_sink import HttpSink
from prometheus_harness import Prometheus
from slotel_harness import Slotel, entry_labels, generate_rules, pair_should_fire, parse_metrics, prom_label

ROOT = Path(__file__).resolve().parents[2]
CLUSTERS = ["seoul", "busan"]
# Routes per service, with the share of server errors each gets.
ROUTES = {
    "checkout": {"/api/pay": 0.02, "/api/cart": 0.01, "/api/items": 0.0},
    "catalog": {"/api/search": 0.01, "/api/item": 0.0},
    # Refunds fail badly: payment's SLOs burn far past every alert factor.
    "payment": {"/v1/payments": 0.01, "/v1/refunds": 0.5},
}
# Catalog's spans pass the SDK's consistent probability sampler (`ot=th:…` in their
# tracestate): each kept span counts its adjusted count on every path.
SAMPLED = {
    ("catalog", "seoul"): composite_sampler(composable_traceid_ratio_based(0.5)),
    ("catalog", "busan"): composite_sampler(composable_traceid_ratio_based(0.3)),
}
BOUNDARIES = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]
# Schema 6 native histogram buckets are 2^(1/64) wide.
NATIVE_BUCKET = 2 ** (1 / 64) - 1


def selector(labels: dict[str, str], group_keys: set[str]) -> str:
    """A PromQL selector matching exactly `labels` (group labels it lacks must be absent)."""
    parts = [f'{k}="{v}"' for k, v in sorted(labels.items())]
    parts += [f'{k}=""' for k in sorted(group_keys - labels.keys())]
    return "{" + ",".join(parts) + "}"


def spans(rng: random.Random, providers: dict, n: int) -> None:
    now = time.time_ns()
    for i in range(n):
        cluster = CLUSTERS[i % 2]
        service = ("checkout", "catalog", "payment")[i % 3]
        routes = ROUTES[service]
        route = list(routes)[(i // 3) % len(routes)]
        tracer = providers[(service, cluster)].get_tracer("slotel.pytest.consistency")
        duration = max(1_000_000, int(120e6 * math.exp(rng.gauss(0.0, 0.8))))
        end = now - rng.randrange(0, 10_000_000_000)
        span = tracer.start_span(f"POST {route}", kind=SpanKind.SERVER, start_time=end - duration)
        span.set_attribute("http.route", route)
        error = rng.random() < routes[route]
        span.set_attribute("http.response.status_code", 500 if error else 200)
        if error:
            span.set_status(Status(StatusCode.ERROR, "failed"))
        span.end(end_time=end)


def cart_metrics(rng: random.Random, meters: dict, n: int) -> None:
    for i in range(n):
        cluster = CLUSTERS[i % 2]
        duration, requests = meters[cluster][1:]
        route = f"/cart/{i % 3}"
        duration.record(rng.lognormvariate(math.log(0.12), 0.9), {"http.route": route})
        status = 503 if rng.random() < 0.02 else 200
        requests.add(1, {"http.route": route, "http.response.status_code": status})


def metric_exporter(server: Slotel):
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    return OTLPMetricExporter(endpoint=server.http_endpoint("metrics"), timeout=10)


def span_exporter(server: Slotel):
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=10)


def test_every_slo_shape_reads_the_same_on_every_path(tmp_path, cleanup):
    slo_dir = tmp_path / "slos"
    shutil.copytree(ROOT / "config" / "slos", slo_dir, ignore=shutil.ignore_patterns("*.md"))
    slo_glob = str(slo_dir / "*.yaml")
    rule_file = generate_rules(slo_glob, tmp_path / "rules")

    rw_dir = tmp_path / "rw"
    rw_dir.mkdir()
    prom_rw = Prometheus.start(rw_dir, rule_files=[rule_file])
    cleanup(prom_rw)
    # A Mimir-like OTLP metrics endpoint, fed by an `otlphttp` exporter.
    sink = HttpSink()
    cleanup(sink)
    server = Slotel.start(
        tmp_path,
        slo_files=[slo_glob],
        exporters=[
            "prometheusremotewrite/prom:",
            f"  endpoint: {prom_rw.write_url}",
            "  replica: r1",
            "  retry_on_failure: {initial_interval: 200ms, max_interval: 2s}",
            "otlphttp/mimir:",
            f"  endpoint: http://127.0.0.1:{sink.port}/otlp",
        ],
    )
    cleanup(server)
    scrape_dir = tmp_path / "scrape"
    scrape_dir.mkdir()
    prom_scrape = Prometheus.start(
        scrape_dir, rule_files=[rule_file], scrape_targets=[f"127.0.0.1:{server.admin_port}"]
    )
    cleanup(prom_scrape)

    providers = {}
    for service in ROUTES:
        for cluster in CLUSTERS:
            p = TracerProvider(
                resource=Resource.create({"service.name": service, "k8s.cluster.name": cluster}),
                shutdown_on_exit=False,
                **({"sampler": SAMPLED[(service, cluster)]} if (service, cluster) in SAMPLED else {}),
            )
            p.add_span_processor(BatchSpanProcessor(span_exporter(server), schedule_delay_millis=200))
            providers[(service, cluster)] = p
    meters = {}
    for cluster in CLUSTERS:
        mp = MeterProvider(
            metric_readers=[PeriodicExportingMetricReader(metric_exporter(server), export_interval_millis=3_600_000)],
            resource=Resource.create({"service.name": "cart", "k8s.cluster.name": cluster}),
            shutdown_on_exit=False,
        )
        meter = mp.get_meter("slotel.pytest.consistency")
        meters[cluster] = (
            mp,
            meter.create_histogram("http.server.request.duration", unit="s", explicit_bucket_boundaries_advisory=BOUNDARIES),
            meter.create_counter("http.server.requests", unit="1"),
        )

    rng = random.Random(14)
    for _ in range(3):
        spans(rng, providers, 1200)
        cart_metrics(rng, meters, 600)
        for p in providers.values():
            assert p.force_flush()
        for mp, _, _ in meters.values():
            assert mp.force_flush()
        time.sleep(2)
    for p in providers.values():
        p.shutdown()
    for mp, _, _ in meters.values():
        mp.shutdown()

    # Every SLO has traffic; wait until the API stops moving and both servers hold it.
    def api_rows() -> list[dict]:
        return [e for e in server.slos() if e.get("total")]

    previous = None
    for _ in range(60):
        rows = api_rows()
        key = sorted((e["name"], e["service"], e["cluster"], str(e.get("group")), e["total"]) for e in rows)
        if key == previous:
            break
        previous = key
        time.sleep(1)
    rows = api_rows()
    names = {(e["service"], e["name"]) for e in rows}
    assert len(names) == 8, names
    group_keys: dict[tuple[str, str], set[str]] = {}
    for e in rows:
        group_keys.setdefault((e["service"], e["name"]), set()).update(entry_labels(e).keys() - {"slo", "service", "cluster"})

    # /metrics: no two series share a name and a label set.
    samples = parse_metrics(server.metrics_text())
    seen = set()
    for name, labels, _ in samples:
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen, f"duplicate series on /metrics: {key}"
        seen.add(key)

    def metrics_events(labels: dict[str, str], outcome: str) -> float | None:
        want = dict(labels, outcome=outcome)
        found = [v for n, l, v in samples if n == "slotel_slo_events_total" and l == want]
        assert len(found) <= 1, (want, found)
        return found[0] if found else None

    # The sampled service counts more events than it received spans; the others as many.
    for e in rows:
        if "raw_total" not in e:
            continue
        if e["service"] == "catalog":
            assert e["total"] > e["raw_total"] > 0, e
        else:
            assert (e["total"], e["good"]) == (e["raw_total"], e["raw_good"]), e

    for e in rows:
        labels = entry_labels(e)
        keys = group_keys[(e["service"], e["name"])]
        good, total = e["good"], e["total"]
        assert metrics_events(labels, "good") == good, (labels, e)
        assert metrics_events(labels, "bad") == total - good, (labels, e)
        for prom, extra in ((prom_rw, {}), (prom_scrape, {})):
            sel = selector(dict(labels, **extra), keys)
            sel_good = sel[:-1] + ',outcome="good"}'
            sel_bad = sel[:-1] + ',outcome="bad"}'
            got_good = prom.wait_value(f"sum(slotel_slo_events_total{sel_good})", good, timeout=30)
            got_bad = prom.wait_value(f"sum(slotel_slo_events_total{sel_bad})", total - good, timeout=30)
            assert (got_good, got_bad) == (good, total - good), (prom.url, sel, e)

    # The OTLP path: the latest SLO counters the otlphttp exporter delivered equal the API.
    def otlp_events() -> dict[tuple, float]:
        latest: dict[tuple, tuple[int, float]] = {}
        for r in sink.snapshot():
            if r.signal != "metrics":
                continue
            for rm in r.message.resource_metrics:
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        if m.name != "slotel_slo_events_total":
                            continue
                        for p in m.sum.data_points:
                            labels = tuple(sorted((a.key, a.value.string_value) for a in p.attributes))
                            if p.time_unix_nano >= latest.get(labels, (0, 0.0))[0]:
                                latest[labels] = (p.time_unix_nano, p.as_double)
        return {k: v for k, (_, v) in latest.items()}

    def otlp_matches() -> bool:
        got = otlp_events()
        return all(
            got.get(tuple(sorted(dict(entry_labels(e), outcome="good").items()))) == e["good"]
            and got.get(tuple(sorted(dict(entry_labels(e), outcome="bad").items()))) == e["total"] - e["good"]
            for e in rows
        )

    deadline = time.monotonic() + 30
    while not otlp_matches() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert otlp_matches(), "the otlphttp exporter carries the same SLO counts as the API"

    # The recorded rules of the remote-written path, after a few evaluations.
    time.sleep(12)

    def row_key(e: dict) -> tuple:
        return (e["service"], e["name"], e["cluster"], str(e.get("group")))

    rows = {row_key(e): e for e in api_rows()}
    counted = {"budgets": 0, "burns": 0, "quantiles": 0}

    def disagreements(e: dict) -> list:
        """Where the recorded budget and burn rates differ from API entry `e`."""
        service, name, cluster, group = row_key(e)
        # Every roll-up and every group: the rules keep the group labels, so a roll-up is
        # selected with them absent and a group with them set.
        sel = selector(entry_labels(e), group_keys[(service, name)])
        out = []
        remaining = prom_rw.scalar(f"max(slo:period_error_budget_remaining:ratio{sel})")
        want = e.get("error_budget_remaining")
        if want is not None:
            if remaining is None or remaining != pytest.approx(want, rel=1e-6, abs=1e-9):
                out.append(("budget", remaining, want))
            counted["budgets"] += 1
        # Burn rates over the short windows, where the SDK's traffic lies whole.
        for window in ("5m", "30m", "1h"):
            api_burn = (e.get("burn_rate") or {}).get(window)
            ratio = prom_rw.scalar(f"max(slo:sli_error:ratio_rate{window}{sel})")
            if api_burn is None or ratio is None:
                if (api_burn is None) != (ratio is None) and e.get("timeslices") is not None:
                    out.append((window, ratio, api_burn))
                continue
            if ratio / (1 - e["objective"]) != pytest.approx(api_burn, rel=1e-6, abs=1e-9):
                out.append((window, ratio, api_burn))
            counted["burns"] += 1
        return out

    def settled(key: tuple, check, timeout: float = 45.0):
        """`check(entry)` on fresh API entries until it finds nothing: timeslice SLOs' slice
        counts move at every slice's end, metric SLIs' counts with every point that arrives,
        and Prometheus holds the counts of the last export (every `slo.export_interval`), so
        the two agree between an export and the next change."""
        deadline = time.monotonic() + timeout
        while True:
            e = {row_key(r): r for r in server.slos()}[key]
            found = check(e)
            if not found or time.monotonic() > deadline:
                return e, found
            time.sleep(1)

    timeslice_rows = 0
    for key, e in rows.items():
        service, name, cluster, group = key
        if e.get("timeslices") is not None:
            # The engine's slices are the rules' slices: the rules read its judgements.
            timeslice_rows += 1
        # Read again until both agree: a metric SLI's points may still be arriving (the
        # SDK's reader exports on its own interval) and Prometheus holds the last export.
        e, found = settled(key, disagreements)
        assert not found, (service, name, cluster, group, found, e)
        sel = selector(entry_labels(e), group_keys[(service, name)])
        # Latency percentiles: the native histogram remote write carries (schema 6) against
        # the API's HDR percentiles, within one bucket and HDR's own 0.1%.
        for pct, value in (e.get("latency") or {}).items():
            if value is None or pct == "p999":
                continue
            q = float(pct[1:]) / 100
            got = prom_rw.scalar(f"histogram_quantile({q}, sum(slotel_slo_latency_seconds{sel}))")
            assert got is not None and abs(got - value) <= (NATIVE_BUCKET + 0.001) * value, (
                service, name, cluster, group, pct, got, value)
            counted["quantiles"] += 1
    assert timeslice_rows >= 3, timeslice_rows
    assert counted["budgets"] >= 8 and counted["burns"] >= 20 and counted["quantiles"] >= 4, counted

    # Alerts: for every generated alert, the API's burn rates over its two windows say
    # whether it is active; Prometheus must agree (pending or firing).
    rules = yaml.safe_load(rule_file.read_text())

    def active_alerts() -> set:
        return {
            tuple(sorted((k, v) for k, v in a["metric"].items() if k not in ("__name__", "alertstate")))
            for a in prom_rw.query('ALERTS{alertstate=~"pending|firing"}')
        }

    compared = 0
    active = active_alerts()
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            labels = rule["labels"]
            factor = float(re.findall(r"> ([0-9.e+-]+)\)", rule["expr"])[0])
            long_w, short_w = labels["long_window"], labels["short_window"]
            for key, e in rows.items():
                service, name, cluster, grp = key
                if (service, name) != (labels["service"], labels["slo"]) or grp not in ("None", "{}"):
                    continue
                alert_key = tuple(sorted(dict(labels, alertname=rule["alert"], cluster=cluster).items()))

                def mismatch(entry: dict) -> list:
                    burn = entry.get("burn_rate") or {}
                    want = pair_should_fire(burn, long_w, short_w, factor)
                    if want is None:
                        return []
                    got = alert_key in active_alerts()
                    return [] if got == want else [(want, got, burn)]

                found = settled(key, mismatch)[1] if e.get("timeslices") is not None else mismatch(e)
                assert not found, (rule["alert"], labels, cluster, factor, found, sorted(active))
                compared += 1
    assert compared > 0
    assert any(dict(a).get("service") == "payment" for a in active), "refunds burn: payment pages"
