"""Which optional dependencies ("extras") a plugin needs, and the pip command that adds them.

The core installs without OpenCV, Modbus, MQTT or feed parsers: each plugin family's heavy
dependencies are an extra of the distribution (`sitroom[cameras]`, `[pumps]`, ...). The rule
that ties a plugin to its extra is a naming convention, read from the installed metadata: a
plugin's extra is the extra of its distribution named like its entry point (entry point
`cameras` -> `sitroom[cameras]`). A third-party plugin gets the same reporting by naming its
own extra after its entry point; nothing here lists plugin names. (Entry points' own
`module [extra]` syntax would say it directly, but pyproject validation refuses it.)

When an extra is missing the loader says which one and prints the command that fixes it,
instead of a bare `No module named 'cv2'`. The check runs before the plugin is imported, so
a plugin that imports its dependencies lazily (the cameras' OpenCV, the registry's prober)
fails whole at load time, not half-registered at its first frame or probe: every
distribution the extra requires must be installed, and its top-level modules findable
(`find_spec`, which does not run them: a few milliseconds, not OpenCV's import time). An
`ImportError` of a module outside the plugin's own package is explained the same way.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import re
import sys
from dataclasses import dataclass

_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")


class MissingExtraError(ImportError):
    """A plugin's extra is not installed (raised by the loader, never by a plugin)."""


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def _modules_by_distribution() -> dict[str, tuple[str, ...]]:
    """Installed distribution -> its top-level modules (standard-library names left out:
    some wheels ship a stray `test` package that would otherwise look missing)."""
    result: dict[str, list[str]] = {}
    for module, dists in importlib.metadata.packages_distributions().items():
        if not module.isidentifier() or module in sys.stdlib_module_names:
            continue
        for dist in dists:
            result.setdefault(_normalise(dist), []).append(module)
    return {dist: tuple(modules) for dist, modules in result.items()}


@dataclass(frozen=True)
class PluginExtras:
    """The extra of `distribution` that one plugin needs."""

    distribution: str
    extra: str
    package: str  # the plugin's top-level import name: its own modules are not "missing"

    @property
    def pip_command(self) -> str:
        return f"pip install '{self.distribution}[{self.extra}]'"

    def requirements(self) -> list[str]:
        """Distribution names the extra requires, following `dist[other]` self-references."""
        try:
            requires = importlib.metadata.requires(self.distribution) or []
        except importlib.metadata.PackageNotFoundError:
            return []
        by_extra: dict[str, list[tuple[str, list[str]]]] = {}
        for line in requires:
            requirement, _, marker = line.partition(";")
            found, parsed = _EXTRA_MARKER.search(marker), _REQUIREMENT.match(requirement)
            if found and parsed:
                nested = [e.strip() for e in (parsed.group(2) or "").split(",") if e.strip()]
                by_extra.setdefault(found.group(1), []).append((parsed.group(1), nested))
        names: list[str] = []
        pending, seen = [self.extra], set()
        while pending:
            extra = pending.pop()
            if extra in seen:
                continue
            seen.add(extra)
            for name, nested in by_extra.get(extra, []):
                if _normalise(name) == _normalise(self.distribution):
                    pending.extend(nested)  # `sitroom[cameras]` inside [registry]
                elif name not in names:
                    names.append(name)
        return names

    def missing(self) -> list[str]:
        """Required distributions that are not installed."""
        absent = []
        for name in self.requirements():
            try:
                importlib.metadata.distribution(name)
            except importlib.metadata.PackageNotFoundError:
                absent.append(name)
        return absent

    def unimportable(self) -> list[str]:
        """Top-level modules of the required (installed) distributions that cannot be found."""
        modules = _modules_by_distribution()
        absent = []
        for name in self.requirements():
            for module in modules.get(_normalise(name), ()):
                try:
                    found = importlib.util.find_spec(module) is not None
                except (ImportError, ValueError):
                    found = False
                if not found:
                    absent.append(module)
        return absent

    def check(self) -> None:
        """Raise MissingExtraError naming what is absent, if anything."""
        where = f"the {self.extra!r} extra of {self.distribution}"
        absent = self.missing()
        if absent:
            raise MissingExtraError(f"{', '.join(absent)} not installed ({where})")
        modules = self.unimportable()
        if modules:
            names = ", ".join(repr(m) for m in modules)
            raise MissingExtraError(f"No module named {names} ({where})", name=modules[0])

    def explains(self, exc: BaseException) -> bool:
        """Whether `exc` is a dependency that the plugin's extra would provide."""
        if isinstance(exc, MissingExtraError):
            return True
        if not isinstance(exc, ImportError) or not exc.name:
            return False  # e.g. a shared library missing under an installed wheel
        return exc.name.split(".")[0] != self.package


def of_entry_point(ep: importlib.metadata.EntryPoint) -> PluginExtras | None:
    """The extra of the entry point's distribution named like the entry point, or None."""
    if ep.dist is None:
        return None
    provided = ep.dist.metadata.get_all("Provides-Extra") or []
    if _normalise(ep.name) not in {_normalise(extra) for extra in provided}:
        return None
    return PluginExtras(ep.dist.name, ep.name, ep.module.split(".")[0])


def install_hint(extra: str, distribution: str = "sitroom") -> str:
    """The pip command that installs one extra (for core commands with optional parts)."""
    return PluginExtras(distribution, extra, "").pip_command
