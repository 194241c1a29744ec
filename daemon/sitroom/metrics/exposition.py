"""Prometheus text format 0.0.4 and OpenMetrics 1.0 from the store, in one pass.

Both formats are rendered from the same pre-built series prefixes; only the metadata lines
and the histogram/info spelling differ. See the OpenMetrics spec for `# UNIT` and `# EOF`.
"""

from __future__ import annotations

from sitroom.metrics.store import Family, HistogramValue, MetricStore, format_value

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _render_histogram(out: list[str], family: Family) -> None:
    name = family.spec.name
    for owned in family.by_owner.values():
        for series in owned.values():
            hist = series.value
            assert isinstance(hist, HistogramValue)
            sep = "," if series.labels else ""
            cumulative = 0
            for bound, count in zip(hist.buckets, hist.counts, strict=True):
                cumulative += count
                out.append(
                    f'{name}_bucket{{{series.labels}{sep}le="{format_value(bound)}"}} '
                    f"{cumulative}\n"
                )
            out.append(f'{name}_bucket{{{series.labels}{sep}le="+Inf"}} {hist.count}\n')
            labels = f"{{{series.labels}}}" if series.labels else ""
            out.append(f"{name}_sum{labels} {format_value(hist.sum)}\n")
            out.append(f"{name}_count{labels} {hist.count}\n")


def render(store: MetricStore, openmetrics: bool = False) -> str:
    out: list[str] = []
    append = out.append
    fmt = format_value
    for family in store.iter_families():
        if not any(family.by_owner.values()):
            continue
        spec = family.spec
        if openmetrics:
            meta_name = spec.family_name
            append(f"# HELP {meta_name} {_escape_help(spec.help)}\n")
            append(f"# TYPE {meta_name} {spec.type}\n")
            if spec.unit and spec.type != "info":
                append(f"# UNIT {meta_name} {spec.unit}\n")
        else:
            mtype = "gauge" if spec.type == "info" else spec.type
            append(f"# HELP {spec.name} {_escape_help(spec.help)}\n")
            append(f"# TYPE {spec.name} {mtype}\n")
        if spec.type == "histogram":
            _render_histogram(out, family)
            continue
        for owned in family.by_owner.values():
            for series in owned.values():
                line = series.line
                if line is None:  # not a histogram: value is a float (no check on the hot path)
                    line = series.line = series.prefix + fmt(series.value) + "\n"  # type: ignore[arg-type]
                append(line)
    if openmetrics:
        append("# EOF\n")
    return "".join(out)
