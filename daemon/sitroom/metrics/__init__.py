"""Metric storage and exposition, owned by the core."""

from sitroom.metrics.exposition import render
from sitroom.metrics.store import MetricStore, MetricWriter

__all__ = ["MetricStore", "MetricWriter", "render"]
