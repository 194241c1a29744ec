"""The metric store the core owns, and the write handle each source gets.

Why not prometheus-client's registry: plugins must not be able to register arbitrary
families, the core has to drop a source's series atomically on reload, expire stale push
series, and cap cardinality per source; and rendering 100k series through the client's
collector protocol is several times slower than rendering pre-built lines. Each series keeps
its exposition prefix (`name{labels} `) built once at creation, so a scrape only formats
numbers.

Not thread-safe by design: every write and every render happens on the event loop. Work done
in threads returns its results to the loop, which writes them.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from sitroom.declarations import MetricSpec

MetricRef = str | MetricSpec
"""How a reader (tests, the API) names a family: its spec or its name. Writers must pass
the declared spec itself, so a misspelt family fails when the plugin is imported, not on the
first write down a rare path."""


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_value(value: float) -> str:
    """Prometheus float formatting: integers without a fraction, NaN and +Inf spelled out."""
    if value != value:
        return "NaN"
    if value == math.inf:
        return "+Inf"
    if value == -math.inf:
        return "-Inf"
    if value.is_integer() and -1e15 < value < 1e15:
        return str(int(value))
    return repr(value)


class HistogramValue:
    __slots__ = ("buckets", "count", "counts", "sum")

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        index = bisect.bisect_left(self.buckets, value)
        if index < len(self.counts):
            self.counts[index] += 1
        self.sum += value
        self.count += 1


class Series:
    """One time series. `line` caches its rendered exposition line until the value changes:
    most series (info, states, levels that hold) do not change between two scrapes."""

    __slots__ = ("key", "labels", "line", "prefix", "updated", "value")

    def __init__(self, key: tuple[str, ...], labels: str, prefix: str, value: float) -> None:
        self.key = key
        self.labels = labels  # rendered `a="x",b="y"` (for histograms' extra `le`)
        self.prefix = prefix  # rendered `name{a="x",b="y"} `
        self.value: float | HistogramValue = value
        self.updated = time.monotonic()
        self.line: str | None = None


@dataclass
class Family:
    """One metric family, its series grouped by owning source for O(1) removal."""

    spec: MetricSpec
    by_owner: dict[str, dict[tuple[str, ...], Series]] = field(default_factory=dict)
    holders: set[str] = field(default_factory=set)
    """Owners whose writers use this family (a redefinition must wait until none do)."""

    def series_count(self) -> int:
        return sum(len(s) for s in self.by_owner.values())


class MetricStore:
    """All series the daemon exposes, keyed by family then owner."""

    def __init__(self) -> None:
        self.families: dict[str, Family] = {}

    def declare(self, spec: MetricSpec, owner: str | None = None) -> Family:
        """Register a family; the same name twice must mean the same thing.

        Sources that declare families from their config (`SourceKind.metrics_for`) may
        change a help text or label set on reload: a family can be redefined once no other
        owner holds it (the old source's writer is gone with `remove_owner`). The Family
        object is updated in place so every writer sees one definition.
        """
        family = self.families.get(spec.name)
        if family is None:
            family = self.families[spec.name] = Family(spec)
        elif family.spec != spec:
            if family.holders - {owner} or any(family.by_owner.values()):
                raise ValueError(
                    f"metric {spec.name!r} declared twice with different definitions"
                )
            family.spec = spec
        if owner is not None:
            family.holders.add(owner)
        return family

    def writer(
        self,
        owner: str,
        specs: Iterable[MetricSpec],
        owner_values: tuple[str, ...] = (),
        max_series: int | None = None,
        on_drop: Callable[[str], None] | None = None,
    ) -> MetricWriter:
        specs = tuple(specs)
        families = {spec.name: self.declare(spec, owner) for spec in specs}
        return MetricWriter(self, owner, families, owner_values, max_series, on_drop, specs)

    def remove_owner(self, owner: str, release: bool = True) -> int:
        """Drop an owner's series and (`release`) its claim on the families it declared."""
        removed = 0
        for family in self.families.values():
            if release:
                family.holders.discard(owner)
            series = family.by_owner.pop(owner, None)
            if series:
                removed += len(series)
        return removed

    def iter_families(self) -> Iterator[Family]:
        return iter(self.families.values())


class MetricWriter:
    """The handle a source writes through. Enforces declared names, labels and the limit.

    Writes name their family by the declared `MetricSpec` object (never a string); label
    values are keyword arguments matching the spec's labels exactly; the owner's own labels
    (`source`) are filled in by the core. The spec and value are positional-only, so `spec`
    and `value` are usable as label names. Reads (`get`, `samples`) also take a name.
    """

    def __init__(
        self,
        store: MetricStore,
        owner: str,
        families: dict[str, Family],
        owner_values: tuple[str, ...],
        max_series: int | None,
        on_drop: Callable[[str], None] | None,
        specs: Iterable[MetricSpec] = (),
    ) -> None:
        self._store = store
        self.owner = owner
        self._families = families
        # the write path's lookup: by the identity of the spec object a source passes (one
        # dict probe, no hashing of the frozen dataclass). The declared specs are held in
        # `_known`, so an id here always belongs to the spec it was taken from. A spec equal
        # to a declaration but built separately (a source rebuilding its configured specs)
        # joins on first use, up to a bound, so a source that builds one per write cannot
        # grow this without limit (it just takes the slower equality check every time).
        self._known: list[MetricSpec] = [*specs, *(f.spec for f in families.values())]
        self._by_spec: dict[int, Family] = {id(s): families[s.name] for s in self._known}
        self._join_limit = 2 * len(self._known) + 8
        self._owner_values = owner_values
        self._max_series = max_series
        self._on_drop = on_drop
        self.series_count = 0
        self.dropped = 0
        self.closed = False

    def close(self) -> None:
        """Ignore every later write (the source was stopped; its task may still be running)."""
        self.closed = True

    # -- writing -----------------------------------------------------------------------

    def set(self, spec: MetricSpec, value: float, /, **labels: object) -> None:
        """Set a gauge (or a counter read from a device's own running total)."""
        series = self._series(spec, labels)
        if series is not None:
            series.value = float(value)
            series.updated = time.monotonic()
            series.line = None

    def inc(self, spec: MetricSpec, amount: float = 1.0, /, **labels: object) -> None:
        """Add to a counter (or a gauge); counters never go down."""
        if amount < 0 and spec.type == "counter":
            raise ValueError(f"counter {spec.name} cannot decrease")
        series = self._series(spec, labels)
        if series is not None:
            series.value += amount  # type: ignore[operator]  # counters and gauges hold floats
            series.updated = time.monotonic()
            series.line = None

    def info(self, spec: MetricSpec, /, **labels: object) -> None:
        """Publish an `_info` series (value 1) carrying descriptive labels."""
        self.set(spec, 1.0, **labels)

    def observe(self, spec: MetricSpec, value: float, /, **labels: object) -> None:
        """Add one observation to a histogram."""
        series = self._series(spec, labels)
        if series is not None:
            assert isinstance(series.value, HistogramValue)
            series.value.observe(value)
            series.updated = time.monotonic()

    def remove(self, spec: MetricSpec, /, **labels: object) -> bool:
        """Drop one series (an entity that no longer exists)."""
        family = self._declared(spec)
        if self.closed:  # a stopped source must not remove its successor's series
            return False
        key = self._key(family.spec, labels)
        owned = family.by_owner.get(self.owner)
        if owned is not None and owned.pop(key, None) is not None:
            self.series_count -= 1
            return True
        return False

    def remove_matching(self, spec: MetricSpec, /, **labels: object) -> int:
        """Drop every series of `spec` whose labels include the given ones (an entity's all)."""
        family = self._declared(spec)
        if self.closed:
            return 0
        owned = family.by_owner.get(self.owner) or {}
        positions = [(family.spec.labels.index(k), str(v)) for k, v in labels.items()]
        offset = len(self._owner_values)
        doomed = [
            key for key in owned if all(key[offset + index] == value for index, value in positions)
        ]
        for key in doomed:
            del owned[key]
        self.series_count -= len(doomed)
        return len(doomed)

    def clear(self) -> None:
        """Drop all of this source's series, keeping its claim on the families."""
        if self.closed:
            return
        self._store.remove_owner(self.owner, release=False)
        self.series_count = 0

    def expire(self, max_age: float, now: float | None = None) -> int:
        """Remove series not written for `max_age` seconds (push sources gone silent)."""
        cutoff = (time.monotonic() if now is None else now) - max_age
        removed = 0
        for family in self._families.values():
            if family.spec.type != "gauge" or family.spec.keep_when_stale:
                continue
            owned = family.by_owner.get(self.owner)
            if not owned:
                continue
            stale = [key for key, series in owned.items() if series.updated < cutoff]
            for key in stale:
                del owned[key]
            removed += len(stale)
        self.series_count -= removed
        return removed

    # -- reading (tests, API) ------------------------------------------------------------

    def get(self, name: MetricRef, /, **labels: object) -> float | None:
        family = self._family(name)
        series = family.by_owner.get(self.owner, {}).get(self._key(family.spec, labels))
        if series is None:
            return None
        if isinstance(series.value, HistogramValue):
            return float(series.value.count)
        return series.value

    def samples(self, name: MetricRef) -> dict[tuple[str, ...], float]:
        """All series of one family for this owner, keyed by entity label values."""
        family = self._family(name)
        offset = len(self._owner_values)
        return {
            key[offset:]: (s.value.count if isinstance(s.value, HistogramValue) else s.value)
            for key, s in family.by_owner.get(self.owner, {}).items()
        }

    # -- internals -----------------------------------------------------------------------

    def _declared(self, spec: MetricSpec) -> Family:
        """The family a write names: the declared spec object (fast), or one equal to it."""
        family = self._by_spec.get(id(spec))
        if family is not None:
            return family
        if not isinstance(spec, MetricSpec):
            raise TypeError(
                f"metric writes take the declared MetricSpec, not {type(spec).__name__} "
                f"{spec!r}: import the spec from the plugin's metrics module"
            )
        family = self._family(spec)  # KeyError if undeclared or declared differently
        if len(self._known) < self._join_limit:
            self._known.append(spec)
            self._by_spec[id(spec)] = family
        return family

    def _family(self, name: MetricRef) -> Family:
        key = name.name if isinstance(name, MetricSpec) else name
        try:
            family = self._families[key]
        except KeyError:
            raise KeyError(f"metric {key!r} is not declared by this source's kind") from None
        if isinstance(name, MetricSpec) and family.spec is not name and family.spec != name:
            raise KeyError(f"metric {key!r}: this spec is not the one the source's kind declared")
        return family

    def _key(self, spec: MetricSpec, labels: dict[str, object]) -> tuple[str, ...]:
        if len(labels) != len(spec.labels):
            raise ValueError(
                f"metric {spec.name}: expected labels {spec.labels}, got {tuple(labels)}"
            )
        try:
            values = tuple(str(labels[label]) for label in spec.labels)
        except KeyError as exc:
            raise ValueError(
                f"metric {spec.name}: expected labels {spec.labels}, got {tuple(labels)}"
            ) from exc
        return self._owner_values + values

    def _series(self, spec: MetricSpec, labels: dict[str, object]) -> Series | None:
        family = self._by_spec.get(id(spec)) or self._declared(spec)
        if self.closed:
            return None
        spec = family.spec
        key = self._key(spec, labels)
        owned = family.by_owner.get(self.owner)
        if owned is None:
            owned = family.by_owner[self.owner] = {}
        series = owned.get(key)
        if series is not None:
            return series
        if self._max_series is not None and self.series_count >= self._max_series:
            self.dropped += 1
            if self._on_drop is not None:
                self._on_drop(spec.name)
            return None
        label_text = ",".join(
            f'{label}="{escape_label_value(value)}"'
            for label, value in zip(spec.label_names, key, strict=True)
        )
        sample = spec.name
        prefix = f"{sample}{{{label_text}}} " if label_text else f"{sample} "
        initial: float = 0.0
        series = Series(key, label_text, prefix, initial)
        if spec.type == "histogram":
            series.value = HistogramValue(spec.buckets)
        owned[key] = series
        self.series_count += 1
        return series
