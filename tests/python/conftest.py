"""Fixtures shared by the suites in this directory (pytest loads this file itself)."""

from __future__ import annotations

import pytest

from slotel_harness import Slotel


@pytest.fixture
def cleanup():
    """Collects what a test starts (slotel processes, Prometheus, sinks) and ends each of
    them after the test, the last started first: slotel is killed, the rest stopped."""
    started = []
    yield started.append
    for x in reversed(started):
        if isinstance(x, Slotel):
            x.kill()
        else:
            x.stop()
