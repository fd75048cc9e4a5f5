"""A real Prometheus (Debian's package) as the remote-write backend of the tests.

Started on a free loopback port with a temporary data directory, the remote-write receiver
and native histograms on; queried back with PromQL over its HTTP API. A missing
`prometheus` binary fails the test (scripts/test.sh installs it).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from slotel_harness import free_port


def prometheus_bin() -> str:
    path = shutil.which("prometheus")
    assert path, "prometheus is not installed (scripts/test.sh installs Debian's package)"
    return path


@dataclass
class Prometheus:
    data_dir: Path
    port: int
    log_path: Path
    rule_files: list[Path] = field(default_factory=list)
    scrape_targets: list[str] = field(default_factory=list)
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None
    http: requests.Session = field(default_factory=requests.Session)

    @classmethod
    def start(
        cls,
        tmp_path: Path,
        rule_files: list[Path] | None = None,
        scrape_targets: list[str] | None = None,
        extra_args: list[str] | None = None,
    ) -> "Prometheus":
        """`scrape_targets`: host:port of `/metrics` endpoints scraped every second;
        `extra_args`: more command-line flags."""
        data = tmp_path / "prometheus-data"
        data.mkdir(exist_ok=True)
        p = cls(
            data, free_port(), tmp_path / "prometheus.log", rule_files or [], scrape_targets or [],
            extra_args or [],
        )
        p.http.trust_env = False
        # A port free when picked can be taken before Prometheus binds it: it then exits
        # saying so and is started again on another port, at most five times.
        for attempt in range(5):
            try:
                p.run()
                return p
            except RuntimeError:
                taken = "address already in use" in p.log_path.read_text(errors="replace").lower()
                if not taken or attempt == 4:
                    raise
                p.port = free_port()
                p.log_path.unlink()
        raise AssertionError("unreachable")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def write_url(self) -> str:
        return f"{self.url}/api/v1/write"

    def run(self) -> None:
        """Starts (or starts again, on the same data directory and port)."""
        config = self.data_dir.parent / "prometheus.yml"
        lines = ["global:", "  evaluation_interval: 5s"]
        if self.scrape_targets:
            lines += [
                "scrape_configs:",
                "  - job_name: slotel",
                "    scrape_interval: 1s",
                "    static_configs:",
                f"      - targets: [{', '.join(self.scrape_targets)}]",
            ]
        else:
            lines.append("scrape_configs: []")
        if self.rule_files:
            lines.append("rule_files:")
            lines += [f"  - {f}" for f in self.rule_files]
        config.write_text("\n".join(lines) + "\n")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [
                prometheus_bin(),
                f"--config.file={config}",
                f"--storage.tsdb.path={self.data_dir}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-remote-write-receiver",
                "--enable-feature=native-histograms",
                "--storage.tsdb.retention.time=1d",
                *self.extra_args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited:\n{self.log_path.read_text(errors='replace')}")
            try:
                if self.http.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"prometheus not ready:\n{self.log_path.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def query(self, promql: str, at: float | None = None) -> list[dict]:
        """The result vector of an instant query, at Unix time `at` (default now; asserts
        success)."""
        params = {"query": promql}
        if at is not None:
            params["time"] = f"{at:.3f}"
        r = self.http.get(f"{self.url}/api/v1/query", params=params, timeout=10)
        body = r.json()
        assert r.status_code == 200 and body.get("status") == "success", (promql, r.text)
        return body["data"]["result"]

    def scalar(self, promql: str) -> float | None:
        """The one value of an instant query, None when the result is empty."""
        result = self.query(promql)
        if not result:
            return None
        assert len(result) == 1, (promql, result)
        return float(result[0]["value"][1])

    def wait_value(self, promql: str, expected: float, timeout: float = 60.0) -> float | None:
        deadline = time.monotonic() + timeout
        value = self.scalar(promql)
        while value != expected and time.monotonic() < deadline:
            time.sleep(0.5)
            value = self.scalar(promql)
        return value
