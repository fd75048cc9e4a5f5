"""SLO files for the suites, in the native format (config/slos/README.md), built from
their parts so that each test states only what its SLOs have of their own.

- `slo_file(service, *entries)`: one YAML document, `service` and its `slos`.
- `span_slo(name, objective, where=..., ...)`: one entry with a span SLI (`bad`,
  `latency_threshold` or both), and the keys around it (`group_by`, `percentiles`, ...).
- `server_spans(service)`: the usual `where`, the server spans of one service.
- `ERRORS`: the usual `bad`, spans whose status is an error.

Several documents are joined with `---` (`"---".join(...)`), as in any YAML file.
"""

from __future__ import annotations

ERRORS = "status.code == STATUS_CODE_ERROR"


def server_spans(service: str) -> str:
    """The server spans of `service`."""
    return f'resource.attributes["service.name"] == "{service}" and kind == SPAN_KIND_SERVER'


def span_slo(
    name: str,
    objective: float,
    *,
    where: str,
    bad: str | None = None,
    latency_threshold: str | None = None,
    window: str = "30d",
    group_by: list[str] | None = None,
    percentiles: list[int] | None = None,
    **more: object,
) -> str:
    """One entry of `slos:` over spans; `more` are further keys of the entry, written as
    `key: value` (`min_events=1`, `adjusted_counts="false"`, `description="..."`)."""
    lines = [f"  - name: {name}", f"    objective: {objective}", f"    window: {window}"]
    lines += ["    sli:", "      spans:", f"        where: {where}"]
    if bad is not None:
        lines.append(f"        bad: {bad}")
    if latency_threshold is not None:
        lines.append(f"        latency_threshold: {latency_threshold}")
    if group_by:
        lines.append("    group_by:")
        lines += [f"      - {g}" for g in group_by]
    if percentiles:
        lines.append(f"    percentiles: [{', '.join(str(p) for p in percentiles)}]")
    lines += [f"    {key}: {value}" for key, value in more.items()]
    return "\n".join(lines) + "\n"


def slo_file(service: str, *entries: str) -> str:
    """A document of `service`'s SLOs; each entry as `span_slo` writes it, or written out
    (a journey, a metric SLI) in the same indentation."""
    return f"\nservice: {service}\nslos:\n" + "".join(entries)
