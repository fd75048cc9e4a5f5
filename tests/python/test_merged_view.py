"""The merged view when slotel is scaled out (`slo.status_source`).

Two slotel replicas remote-write into one real Prometheus that loads the rules
`slotel rules` generates; real SDK traffic is split across them (one cluster's spans
alternate between the replicas, the other cluster's go to one). A third slotel, with
`slo.status_source` set to that Prometheus and no traffic of its own, must answer
`GET /api/v1/slos` and the detail view with, per entry (cluster `all`, each cluster's
roll-up, each group), event counts equal to the sum of both replicas' own counts and to
what was sent, exactly, and error ratio and budget equal to the values derived from
those sums (1e-6). The detail page's charts over time come from Prometheus range queries
over the recordings: per cluster, the latest budget left, SLI and SLO-window burn rate
equal those sums' (1e-6), the 1h burn rate within Prometheus' rate extrapolation. A
replica without `status_source` says it shows its own share; a status source that cannot
be reached answers 502 with the reason, and the page shows it. The status page, in
headless Chromium, says which source it shows, and the merged detail page draws its
charts (its screenshot is `docs/status-page-merged.png` with SLOTEL_SCREENSHOT_DIR=docs).
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from cdp import Browser, assert_not_blank, save
from prometheus_harness import Prometheus
from slotel_harness import Slotel, free_port, generate_rules
from slo_files import ERRORS, server_spans, slo_file, span_slo

SLOS = slo_file(
    "shop",
    span_slo(
        "availability", 99, where=server_spans("shop"), bad=ERRORS,
        group_by=['attributes["http.route"]'], percentiles=[50, 99],
    ),
)

OBJECTIVE = 0.99
ROUTES = ["/pay", "/cart"]


def provider(cluster: str, server: Slotel) -> TracerProvider:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    p = TracerProvider(
        resource=Resource.create({"service.name": "shop", "k8s.cluster.name": cluster}),
        shutdown_on_exit=False,
    )
    p.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=10),
            max_queue_size=8192,
            max_export_batch_size=512,
            schedule_delay_millis=200,
        )
    )
    return p


def key(e: dict) -> tuple:
    group = tuple(sorted((e.get("group") or {}).items()))
    return (e["cluster"], group)


def start_replica(tmp_path: Path, name: str, slos: list[str], prom: Prometheus) -> Slotel:
    d = tmp_path / name
    d.mkdir()
    return Slotel.start(
        d,
        slo_files=slos,
        exporters=[
            "prometheusremotewrite/prom:",
            f"  endpoint: {prom.write_url}",
            f"  replica: {name}",
            "  retry_on_failure: {initial_interval: 200ms, max_interval: 2s}",
        ],
    )


def get(server: Slotel, path: str):
    return server.http.get(f"{server.admin_url}{path}", timeout=30)


def test_status_source_answers_with_the_sum_of_every_replica(tmp_path, cleanup):
    d = tmp_path / "slos"
    d.mkdir()
    (d / "slos.yaml").write_text(SLOS)
    slos = [str(d / "*.yaml")]
    rule_file = generate_rules(slos[0], tmp_path / "rules")
    prom = Prometheus.start(tmp_path, rule_files=[rule_file])
    cleanup(prom)
    r1 = start_replica(tmp_path, "r1", slos, prom)
    cleanup(r1)
    r2 = start_replica(tmp_path, "r2", slos, prom)
    cleanup(r2)
    v = tmp_path / "viewer"
    v.mkdir()
    viewer = Slotel.start(
        v,
        slo_files=slos,
        slo_settings=[
            # A loaded test machine may keep Prometheus busy for longer than the default 10s.
            f"status_source: {{prometheus: {{endpoint: {prom.url}, timeout: 30s}}}}",
            "history_interval: 5s",  # recent chart points 5 s apart, as the rules evaluate
        ],
    )
    cleanup(viewer)
    u = tmp_path / "unreachable"
    u.mkdir()
    unreachable = Slotel.start(
        u,
        slo_files=slos,
        slo_settings=[f"status_source: {{prometheus: {{endpoint: http://127.0.0.1:{free_port()}, timeout: 2s}}}}"],
    )
    cleanup(unreachable)

    # Real SDK traffic: seoul alternates between the replicas span by span, berlin goes to r2.
    rng = random.Random(16)
    sent: dict[tuple, list[int]] = {}
    providers = {("seoul", 0): provider("seoul", r1), ("seoul", 1): provider("seoul", r2),
                 ("berlin", 0): provider("berlin", r2)}
    # Three rounds 12 s apart (the rules evaluate every 5 s) with other error rates, so the
    # charts over time have something to show.
    for round_, (seoul_errors, berlin_errors) in enumerate([(0.01, 0.002), (0.04, 0.004), (0.015, 0.01)]):
        if round_:
            time.sleep(12)
        now = time.time_ns()
        for cluster, n, errors in [("seoul", 400, seoul_errors), ("berlin", 170, berlin_errors)]:
            for i in range(n):
                p = providers[(cluster, i % 2 if cluster == "seoul" else 0)]
                route = ROUTES[rng.randrange(len(ROUTES))]
                end = now - rng.randrange(0, 3_000_000_000)
                duration = max(1_000, int(40e6 * (1 + round_) * math.exp(rng.gauss(0.0, 0.8))))
                span = p.get_tracer("slotel.pytest.merged").start_span(
                    f"GET {route}", kind=SpanKind.SERVER, start_time=end - duration,
                    attributes={"http.route": route},
                )
                error = rng.random() < errors
                if error:
                    span.set_status(Status(StatusCode.ERROR, "failed"))
                span.end(end_time=end)
                for k in [("all", ()), (cluster, ()), (cluster, (("http.route", route),))]:
                    good_bad = sent.setdefault(k, [0, 0])
                    good_bad[1 if error else 0] += 1
        for p in providers.values():
            p.force_flush()
    for p in providers.values():
        p.shutdown()

    # Each replica counted its share; the shares add up to what was sent.
    def shares() -> dict[tuple, list[int]]:
        total: dict[tuple, list[int]] = {}
        for server in (r1, r2):
            for e in server.slos():
                t = total.setdefault(key(e), [0, 0])
                t[0] += e["good"]
                t[1] += e["total"] - e["good"]
        return total

    deadline = time.monotonic() + 30
    while shares() != sent and time.monotonic() < deadline:
        time.sleep(0.5)
    summed = shares()
    assert summed == sent
    assert all(0 < e["total"] < sent[("all", ())][0] + sent[("all", ())][1] for e in r1.slos()
               if e["cluster"] == "all"), "each replica holds a share, not all of it"

    # A replica without status_source says it shows its own share.
    local = get(r1, "/api/v1/slos").json()
    assert local["source"] == "local" and "share" in local["note"], local

    # The viewer catches up once the replicas' series are written and the rules evaluate.
    want_total = sum(sent[("all", ())])
    deadline = time.monotonic() + 120
    body = None
    while time.monotonic() < deadline:
        r = get(viewer, "/api/v1/slos")
        assert r.status_code == 200, r.text
        body = r.json()
        alls = [e for e in body["slos"] if e["cluster"] == "all"]
        if alls and alls[0]["total"] == want_total and {key(e) for e in body["slos"]} == set(sent):
            # One more evaluation, so that no step is still on its way.
            time.sleep(6)
            body = get(viewer, "/api/v1/slos").json()
            break
        time.sleep(1)
    assert body is not None and body["source"] == "prometheus", body
    assert "note" not in body
    entries = {key(e): e for e in body["slos"]}
    assert set(entries) == set(sent), (sorted(entries), sorted(sent))
    assert [key(e) for e in body["slos"]][0] == ("all", ())

    def check(e: dict) -> None:
        good, bad = sent[key(e)]
        total = good + bad
        assert (e["total"], e["good"]) == (total, good), (key(e), e["total"], e["good"], total, good)
        ratio = bad / total
        assert e["error_ratio"] == pytest.approx(ratio, abs=1e-6), (key(e), e)
        budget = 1 - ratio / (1 - OBJECTIVE)
        assert e["error_budget_remaining"] == pytest.approx(budget, abs=1e-6), (key(e), e)
        assert e["window"] == "30d" and e["objective"] == OBJECTIVE
        # Every traffic was sent within the last few minutes: every window holds it all.
        assert e["burn_rate"]["30d"] == pytest.approx(ratio / (1 - OBJECTIVE), abs=1e-6), e
        assert e["burn_rate"]["3d"] == pytest.approx(ratio / (1 - OBJECTIVE), abs=1e-6), e
        want = "breaching" if budget <= 0 else "warning" if ratio / (1 - OBJECTIVE) > 1 else "ok"
        assert e["status"] == want, e
        if budget <= 0:
            assert e["time_to_exhaustion_seconds"] == 0

    for e in body["slos"]:
        check(e)
    # Latency percentiles from the summed native histograms.
    all_entry = entries[("all", ())]
    assert all_entry["latency"]["p50"] is not None and 0 < all_entry["latency"]["p50"] < all_entry["latency"]["p99"]

    # Filters apply to the merged entries as to local ones.
    only = get(viewer, "/api/v1/slos?cluster=berlin&http.route=/pay").json()["slos"]
    assert [key(e) for e in only] == [("berlin", (("http.route", "/pay"),))]

    # The detail view: the same numbers and every window.
    detail = get(viewer, "/api/v1/slos/shop/availability").json()
    assert detail["source"] == "prometheus"
    assert {key(e) for e in detail["slos"]} == set(sent)
    for e in detail["slos"]:
        check(e)
        windows = {w["window"]: w for w in e["windows"]}
        assert list(windows) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]
        assert windows["30d"]["total"] == sum(sent[key(e)])
    assert get(viewer, "/api/v1/slos/shop/nope").status_code == 404

    # The charts over time: range queries over the recordings, every replica's traffic.
    def latest(values: list) -> float | None:
        return next((v for v in reversed(values) if v is not None), None)

    clusters = {"all", "seoul", "berlin"}

    def settled(h: dict) -> bool:
        by = {s["cluster"]: s for s in h["series"]}
        if set(by) != clusters:
            return False
        for c in clusters:
            good, bad = sent[(c, ())]
            b = latest(by[c]["error_budget_remaining"])
            if b is None or abs(b - (1 - bad / (good + bad) / (1 - OBJECTIVE))) > 1e-6:
                return False
        return True

    deadline = time.monotonic() + 60
    while True:
        r = get(viewer, "/api/v1/slos/shop/availability/history")
        assert r.status_code == 200, r.text
        hist = r.json()
        if settled(hist) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert hist["source"] == "prometheus", hist
    assert (hist["window"], hist["objective"]) == ("30d", OBJECTIVE)
    assert (hist["step_seconds"], hist["window_step_seconds"]) == (5, 86_400)
    assert hist["latency_window"] == "5m" and hist["series_dropped"] == 0
    assert {a["factor"] for a in hist["alerts"]} == {14.4, 6.0, 3.0, 1.0}
    by = {s["cluster"]: s for s in hist["series"]}
    assert [s["cluster"] for s in hist["series"]][0] == "all"
    assert set(by) == clusters, sorted(by)
    for c in sorted(clusters):
        s = by[c]
        good, bad = sent[(c, ())]
        ratio = bad / (good + bad)
        t = s["t"]
        assert 2 <= len(t) <= 288 + 31 and t == sorted(set(t)), (c, t)
        assert abs(t[-1] - time.time()) < 30, (c, t[-1])
        for column in [s["sli"], s["error_budget_remaining"], *s["burn_rate"].values(), *s["latency"].values()]:
            assert len(column) == len(t)
        assert latest(s["error_budget_remaining"]) == pytest.approx(1 - ratio / (1 - OBJECTIVE), abs=1e-6), c
        assert latest(s["sli"]) == pytest.approx(1 - ratio, abs=1e-6), c
        assert latest(s["burn_rate"]["30d"]) == pytest.approx(ratio / (1 - OBJECTIVE), abs=1e-6), c
        # rate() over 1h extrapolates each replica's counters a little.
        assert latest(s["burn_rate"]["1h"]) == pytest.approx(ratio / (1 - OBJECTIVE), rel=0.15), c
        assert list(s["burn_rate"]) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]
        p50, p99 = latest(s["latency"]["p50"]), latest(s["latency"]["p99"])
        assert p50 is not None and p99 is not None and 0 < p50 < p99, (c, p50, p99)
    # A replica's own history has its share only.
    own = get(r1, "/api/v1/slos/shop/availability/history").json()
    assert own.get("source") != "prometheus"

    # The page says where its numbers come from, and shows the merged ones.
    browser = Browser.start(tmp_path)
    try:
        for server, want in [(viewer, "every replica's, read from Prometheus"), (r1, "its share of the traffic")]:
            tab = browser.page()
            tab.goto(f"{server.admin_url}/")
            tab.wait_for("document.querySelectorAll('#slos tbody tr').length > 0")
            source = tab.wait_for(
                f"document.getElementById('source').textContent.includes({want!r}) && "
                "document.getElementById('source').textContent"
            )
            assert want in source, source
            if server is viewer:
                cells = tab.eval(
                    "[...document.querySelectorAll('#slos tbody tr')].length"
                )
                assert cells == len(sent), cells
            assert not tab.problems(), tab.problems()

        # The merged detail page draws every chart from Prometheus.
        tab = browser.page(1280, 900)
        tab.goto(f"{viewer.admin_url}/slo/shop/availability")
        tab.wait_for("document.querySelectorAll('figure svg path.s').length >= 3")
        source = tab.eval("document.getElementById('source').textContent")
        assert "read from Prometheus" in source and "So are the charts over time" in source, source
        assert "same on every replica" in tab.eval("document.querySelector('main').textContent")
        assert tab.eval("document.getElementById('charts-error')") is None
        charts = tab.eval(
            """[...document.querySelectorAll('figure')].map(f => ({
              caption: f.querySelector('figcaption').textContent,
              desc: f.querySelector('svg desc').textContent,
              paths: f.querySelectorAll('path.s').length,
              thresholds: f.querySelectorAll('line.thr').length,
            }))"""
        )
        assert [c["caption"] for c in charts][:3] == [
            "SLI against the objective", "Error budget remaining", "Burn rates and alert thresholds",
        ], charts
        assert charts[3]["caption"].startswith("Latency percentiles") and charts[3]["paths"] == 2, charts
        assert all(c["paths"] >= 1 for c in charts), charts
        assert charts[2]["thresholds"] == 4, charts[2]
        budget = latest(by["all"]["error_budget_remaining"])
        assert f"budget left {round(budget * 100, 1):g}%" in charts[1]["desc"], (charts[1]["desc"], budget)
        # Another cluster's charts on request.
        tab.eval(
            "(() => { const s = document.getElementById('f-chart-cluster'); s.value = 'berlin';"
            " s.dispatchEvent(new Event('change')); })()"
        )
        berlin = latest(by["berlin"]["error_budget_remaining"])
        desc = tab.eval("document.querySelectorAll('figure svg desc')[1].textContent")
        assert f"budget left {round(berlin * 100, 1):g}%" in desc, (desc, berlin)
        tab.eval(
            "(() => { const s = document.getElementById('f-chart-cluster'); s.value = 'all';"
            " s.dispatchEvent(new Event('change')); })()"
        )
        png = tab.screenshot()
        assert_not_blank(png, "merged detail page")
        save(tmp_path, "status-page-merged.png", png)
        outside = [u for u in tab.requests() if not (u.startswith(viewer.admin_url + "/") or u.startswith("data:"))]
        assert not outside, outside
        assert not tab.problems(), tab.problems()

        # Prometheus out of reach: the page says why it has no numbers.
        tab = browser.page()
        tab.goto(f"{unreachable.admin_url}/slo/shop/availability")
        shown = tab.wait_for(
            "document.querySelector('main').textContent.includes('502') && document.querySelector('main').textContent"
        )
        assert "Could not load" in shown and "status_source" in shown, shown
    finally:
        browser.close()

    # Prometheus out of reach: a 502 with the reason, and slotel keeps running.
    r = get(unreachable, "/api/v1/slos")
    assert r.status_code == 502, r.text
    assert "status_source" in r.json()["error"] and "prometheus" in r.json()["error"], r.text
    r = get(unreachable, "/api/v1/slos/shop/availability/history")
    assert r.status_code == 502, r.text
    assert "status_source" in r.json()["error"] and "query_range" in r.json()["error"], r.text
    assert get(unreachable, "/healthz").status_code == 200
