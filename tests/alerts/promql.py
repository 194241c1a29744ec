"""Metric names used by a PromQL expression, and the metric names sitroom declares.

Prometheus ships no PromQL parser we can call from Python (promtool only checks whole rule
files), so this is a small lexer: it drops string literals, label matchers, range/subquery
brackets and the label lists of `by`/`without`/`on`/`ignoring`/`group_*`, then every
remaining identifier that is not a function call, keyword or number is a metric name. Good
enough for the rules and panels we write; it errs towards reporting too many names, so a
typo can never hide.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_BRACES = re.compile(r"\{[^{}]*\}")
_BRACKETS = re.compile(r"\[[^\[\]]*\]")
_LABEL_LISTS = re.compile(
    r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = frozenset({
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "atan2", "inf", "nan", "start", "end",
})
# Grafana's template variables ($__rate_interval, $district) are not metric names.
_GRAFANA_VAR = re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*(?::[a-z]+)?\}?")


def metric_names(expr: str) -> set[str]:
    """Names of the metrics `expr` selects."""
    text = _STRING.sub('""', expr)
    text = _GRAFANA_VAR.sub("1", text)
    previous = None
    while previous != text:  # nested braces/brackets, innermost first
        previous = text
        text = _BRACES.sub(" ", text)
        text = _BRACKETS.sub(" ", text)
    text = _LABEL_LISTS.sub(" ", text)
    names: set[str] = set()
    for match in _IDENT.finditer(text):
        word = match.group(0)
        start, end = match.span()
        if start > 0 and (text[start - 1].isdigit() or text[start - 1] == "."):
            continue  # the exponent or unit of a number: 1e3, 5m
        if word.lower() in _KEYWORDS:
            continue
        if text[end:].lstrip().startswith("("):
            continue  # a function call (rate, sum, histogram_quantile, ...)
        names.add(word)
    return names


# Series Prometheus itself makes: scrape health and the alert state of the rules.
PROMETHEUS_OWN = frozenset({
    "up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling", "scrape_series_added",
})


def declared_metrics() -> set[str]:
    """Every sample name the core or a loaded plugin can expose (histograms' three series)."""
    from sitroom import selfmetrics
    from sitroom.plugins import load_plugins

    specs = list(selfmetrics.ALL)
    for kind in load_plugins().kinds.values():
        specs.extend(kind.metrics)
    names: set[str] = set()
    for spec in specs:
        if spec.type == "histogram":
            names.update(f"{spec.name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
        else:
            names.add(spec.name)
    return names


def config_declared_metrics(config_dir: Path) -> set[str]:
    """Metrics a config declares for generic kinds (http_json's `metrics:` list in conf.d).

    Read from the YAML rather than a plugin's spec list, because these names exist only in
    config; `sitroom check-config` has already validated them against the kind's model.
    """
    names: set[str] = set()
    for path in sorted(config_dir.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for source in doc.get("sources") or []:
            for metric in (source or {}).get("metrics") or []:
                if isinstance(metric, dict) and isinstance(metric.get("name"), str):
                    names.add(metric["name"])
    return names
