"""Sampling-aware SLIs with the real Python OpenTelemetry SDK's consistent probability sampler.

The SDK's composite sampler over `composable_traceid_ratio_based(p)` keeps a span when the
last 56 bits of its trace id (its randomness) reach the rejection threshold of `p`, and
writes that threshold into the span's `tracestate` (`ot=th:…`). slotel must count each kept
span with its adjusted count, 2^56 / (2^56 - threshold):

1. Deterministic: p = 1/4 (`th:c`, adjusted count 4) with an id generator that gives
   every block of four identical spans (same status, same duration) exactly one trace id
   the sampler keeps. The adjusted counts then equal the unsampled truth exactly: good and
   total of the availability and latency SLOs, the latency percentiles, and the
   `/metrics` counters; the raw counts are the spans kept.
2. Probabilistic: p = 0.3 (not a power of two) with random trace ids over 20 000 spans:
   the adjusted total and bad count lie within five standard deviations of the truth, and
   equal the kept spans times the adjusted count less the fraction carried (under 1).
3. `adjusted_counts: false` counts the kept spans once; a sampler writing an unreadable
   threshold counts its spans once and `slotel_slo_invalid_tracestates_total` says why.

The status page (headless Chromium) shows both counts where they differ: the list's
Events cell and the detail page's cards, each holding the API's value.
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.sdk.trace._sampling_experimental import (
    composable_traceid_ratio_based,
    composite_sampler,
)
from opentelemetry.trace import SpanKind, Status, StatusCode, TraceState

from cdp import Browser
from slotel_harness import Slotel
from slo_files import ERRORS, server_spans, slo_file, span_slo

SLOS = slo_file(
    "checkout",
    span_slo("availability", 99, where=server_spans("checkout"), bad=ERRORS),
    span_slo("latency", 99, where=server_spans("checkout"), latency_threshold="250ms", percentiles=[50, 90, 99]),
    span_slo("availability-unadjusted", 99, where=server_spans("checkout"), bad=ERRORS, adjusted_counts="false"),
)

MAX = 1 << 56


def adjusted_count(trace_state: str) -> float:
    """The adjusted count of an `ot=th:…` tracestate, after the specification."""
    ot = dict(m.split("=", 1) for m in trace_state.split(","))["ot"]
    th = dict(kv.split(":", 1) for kv in ot.split(";"))["th"]
    threshold = int(th.ljust(14, "0"), 16)
    return MAX / (MAX - threshold)


class KeepOneInFour(IdGenerator):
    """Trace ids whose randomness (last 56 bits) is above 0xc0… for every fourth trace
    only: the 1-in-4 threshold keeps exactly those."""

    def __init__(self):
        self.n = 0
        self.rng = random.Random(7)

    def generate_span_id(self) -> int:
        return self.rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        keep = self.n % 4 == 0
        self.n += 1
        low = 0xC0_0000_0000_0000 + self.rng.getrandbits(54) if keep else self.rng.getrandbits(54)
        return (self.rng.getrandbits(72) << 56) | low


class Recorder(SpanExporter):
    """Keeps the tracestate of every exported span; the inner exporter sends."""

    def __init__(self, inner):
        self.inner = inner
        self.trace_states: list[str] = []

    def export(self, spans):
        for s in spans:
            self.trace_states.append(s.context.trace_state.to_header())
        return self.inner.export(spans)

    def shutdown(self):
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


class UnreadableThreshold(Sampler):
    """Keeps every span with a threshold that is not hex."""

    def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, links=None, trace_state=None):
        return SamplingResult(Decision.RECORD_AND_SAMPLE, None, TraceState([("ot", "th:zz")]))

    def get_description(self) -> str:
        return "UnreadableThreshold"


def _exporter(server: Slotel):
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=server.grpc_endpoint, insecure=True, timeout=10)


def _send(server: Slotel, sampler, spans, id_generator=None) -> Recorder:
    """Sends server spans `(duration ns, error)` ending within the last minute."""
    recorder = Recorder(_exporter(server))
    kwargs = {"id_generator": id_generator} if id_generator else {}
    provider = TracerProvider(
        resource=Resource.create({"service.name": "checkout", "k8s.cluster.name": "seoul"}),
        sampler=sampler,
        **kwargs,
    )
    # A queue for every span: a full queue would drop kept spans before the exporter, and
    # the estimate would miss them.
    provider.add_span_processor(
        BatchSpanProcessor(recorder, max_queue_size=len(spans) + 512, max_export_batch_size=512)
    )
    tracer = provider.get_tracer("sampling-test")
    end = time.time_ns() - 2_000_000_000
    for duration, error in spans:
        span = tracer.start_span("POST /pay", kind=SpanKind.SERVER, start_time=end - duration)
        if error:
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=end)
    assert provider.force_flush(30_000)
    provider.shutdown()
    return recorder


def _entry(server: Slotel, name: str) -> dict:
    for e in server.slos():
        if e["name"] == name and e["cluster"] == "all":
            return e
    raise AssertionError(f"no {name}/all")


def _wait_total(server: Slotel, name: str, raw_total: int, timeout: float = 15.0) -> dict:
    deadline = time.time() + timeout
    while True:
        e = _entry(server, name)
        if e.get("raw_total") == raw_total or time.time() > deadline:
            return e
        time.sleep(0.2)


def nearest_rank(sorted_values: list[int], percent: int) -> int:
    rank = max(1, -(-percent * len(sorted_values) // 100))
    return sorted_values[rank - 1]


@pytest.fixture
def server(tmp_path: Path):
    d = tmp_path / "slos"
    d.mkdir()
    (d / "slos.yaml").write_text(SLOS)
    s = Slotel.start(tmp_path, slo_files=[str(d / "*.yaml")])
    yield s
    s.kill()


def test_power_of_two_threshold_gives_the_unsampled_truth_exactly(server: Slotel):
    rng = random.Random(11)
    # 1000 blocks of four identical spans: durations from 1 ms to 1 s, 3% errors.
    blocks = [(rng.randrange(1, 1000) * 1_000_000, rng.random() < 0.03) for _ in range(1000)]
    truth = [span for span in blocks for _ in range(4)]
    sampler = composite_sampler(composable_traceid_ratio_based(0.25))
    recorder = _send(server, sampler, truth, KeepOneInFour())

    assert len(recorder.trace_states) == 1000
    assert set(recorder.trace_states) == {"ot=th:c"}, set(recorder.trace_states)
    assert adjusted_count("ot=th:c") == 4.0

    good = sum(1 for _, error in truth if not error)
    avail = _wait_total(server, "availability", 1000)
    assert (avail["total"], avail["good"]) == (4000, good), avail
    assert (avail["raw_total"], avail["raw_good"]) == (1000, good // 4)
    assert avail["error_ratio"] == pytest.approx((4000 - good) / 4000, rel=1e-12)

    fast = sum(1 for d, _ in truth if d <= 250_000_000)
    lat = _entry(server, "latency")
    assert (lat["total"], lat["good"]) == (4000, fast), lat
    durations = sorted(d for d, _ in truth)
    for p in (50, 90, 99):
        exact = nearest_rank(durations, p) / 1e9
        got = lat["latency"][f"p{p}"]
        assert abs(got - exact) <= exact * 0.001, f"p{p}: {got} vs {exact}"

    raw = _entry(server, "availability-unadjusted")
    assert (raw["total"], raw["good"]) == (1000, good // 4), raw

    # The status page shows the adjusted events and the spans received, where they differ.
    browser = Browser.start(server.log_path.parent)
    try:
        tab = browser.page()
        tab.goto(f"{server.admin_url}/")
        tab.wait_for("document.querySelectorAll('#slos tbody tr').length > 0")
        cells = tab.eval(
            """Object.fromEntries([...document.querySelectorAll('#slos tbody tr[data-cluster="all"]')]
              .map(tr => [tr.dataset.slo, [...tr.querySelectorAll('[data-field="total"], [data-field="raw_total"]')]
                .map(c => [c.dataset.field, c.dataset.value, c.firstChild.textContent])]))"""
        )
        assert cells["availability"] == [["total", "4000", "4,000"], ["raw_total", "1000", "1,000 spans received"]], cells
        # Without sampling (or with adjusted counts off) the counts agree: one number.
        assert cells["availability-unadjusted"] == [["total", "1000", "1,000"]], cells
        tab.goto(f"{server.admin_url}/slo/checkout/availability")
        tab.wait_for("document.querySelector('.card[data-field=\"raw_total\"]') !== null")
        cards = tab.eval(
            "Object.fromEntries([...document.querySelectorAll('.card')].map(c => [c.dataset.field, [c.dataset.value, c.textContent]]))"
        )
        assert cards["total"] == ["4000", f"Events, adjusted (good / all){good:,} / 4,000"], cards
        assert cards["raw_total"] == ["1000", f"Spans received (good / all){good // 4:,} / 1,000"], cards
        assert not tab.problems(), tab.problems()
    finally:
        browser.close()

    # `/metrics` counts what the API counts.
    assert server.counter(
        "slotel_slo_events_total", slo="availability", cluster="all", outcome="good"
    ) == good
    assert server.counter(
        "slotel_slo_events_total", slo="availability", cluster="all", outcome="bad"
    ) == 4000 - good


def test_probabilistic_threshold_estimates_the_truth_within_its_bounds(server: Slotel):
    rng = random.Random(5)
    n, p, error_share = 20_000, 0.3, 0.1
    truth = [(1_000_000, rng.random() < error_share) for _ in range(n)]
    recorder = _send(server, composite_sampler(composable_traceid_ratio_based(p)), truth)

    kept = len(recorder.trace_states)
    assert kept > 0 and len(set(recorder.trace_states)) == 1
    w = adjusted_count(recorder.trace_states[0])
    assert w == pytest.approx(1 / p, rel=1e-12)

    e = _wait_total(server, "availability", kept)
    assert e["raw_total"] == kept, e
    raw_bad = e["raw_total"] - e["raw_good"]
    # Exact given the spans kept: each outcome counts its spans' adjusted counts, less
    # the fraction carried to the next span (below 1).
    assert 0 <= e["good"] - math.floor(e["raw_good"] * w) <= 1
    bad = e["total"] - e["good"]
    assert 0 <= bad - math.floor(raw_bad * w) <= 1

    # Against the unsampled truth: a Horvitz-Thompson estimate of a count c has variance
    # c (1 - p) / p.
    true_bad = sum(1 for _, error in truth if error)
    sd_total = math.sqrt(n * (1 - p) / p)
    sd_bad = math.sqrt(true_bad * (1 - p) / p)
    assert abs(e["total"] - n) <= 5 * sd_total, (e["total"], n, sd_total)
    assert abs(bad - true_bad) <= 5 * sd_bad, (bad, true_bad, sd_bad)


def test_unreadable_thresholds_count_once_and_are_counted(server: Slotel):
    _send(server, UnreadableThreshold(), [(1_000_000, False)] * 10 + [(1_000_000, True)] * 2)
    e = _wait_total(server, "availability", 12)
    assert (e["total"], e["good"], e["raw_total"]) == (12, 10, 12), e
    assert server.counter("slotel_slo_invalid_tracestates_total", reason="threshold") == 12
