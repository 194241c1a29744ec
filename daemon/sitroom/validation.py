"""Validating a config directory against the loaded plugins' kind and simulator models.

`sitroom.config` reads the YAML and the daemon section; this module turns each source entry
into its kind's model (`load_config`), and tells a plugin's CLI which of its sources a
config directory holds (`sources_of_kind`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sitroom.config import (
    ConfigIssue,
    DaemonConfig,
    RawConfig,
    RawSource,
    format_validation_error,
    read_config_dir,
)
from sitroom.declarations import SourceKind
from sitroom.plugins import PluginSet, load_plugins


@dataclass(frozen=True)
class ValidatedSource:
    kind: SourceKind
    config: Any  # the kind's config model instance
    where: str
    parent: str | None = None  # set for sources published by another source (registry)

    @property
    def name(self) -> str:
        return str(self.config.name)


@dataclass
class LoadedConfig:
    directory: Path
    daemon: DaemonConfig
    sources: dict[str, ValidatedSource]
    simulators: dict[str, BaseModel]
    fatal: list[ConfigIssue]  # the daemon section or a file is broken: nothing can run
    source_issues: list[ConfigIssue]  # single sources are broken: the rest can run

    @property
    def issues(self) -> list[ConfigIssue]:
        return self.fatal + self.source_issues


def validate_source(
    data: dict[str, Any], where: str, plugins: PluginSet, base_dir: Path | None
) -> tuple[ValidatedSource | None, list[ConfigIssue]]:
    kind_name = data.get("kind")
    if not isinstance(kind_name, str):
        return None, [ConfigIssue(where, "field 'kind': required, a string")]
    kind = plugins.kinds.get(kind_name)
    if kind is None:
        failed = [f.plugin for f in plugins.failures]
        hint = f" (plugins that failed to load: {', '.join(failed)})" if failed else ""
        known = ", ".join(sorted(plugins.kinds)) or "none"
        return None, [ConfigIssue(where, f"unknown kind {kind_name!r}; known: {known}{hint}")]
    try:
        model = kind.config_model.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        return None, [ConfigIssue(where, line) for line in format_validation_error(exc)]
    except ValueError as exc:  # raised by a plugin's own validator outside pydantic's wrapping
        return None, [ConfigIssue(where, str(exc))]
    return ValidatedSource(kind, model, where), []


def validate_sources(
    raw: RawConfig, plugins: PluginSet
) -> tuple[dict[str, ValidatedSource], list[ConfigIssue]]:
    sources: dict[str, ValidatedSource] = {}
    issues: list[ConfigIssue] = []
    entry: RawSource
    for entry in raw.sources:
        validated, problems = validate_source(entry.data, entry.where, plugins, raw.directory)
        issues.extend(problems)
        if validated is None:
            continue
        if validated.name in sources:
            continue  # duplicate already reported by read_config_dir
        if validated.config.enabled:
            sources[validated.name] = validated
    return sources, issues


def validate_simulators(
    raw: RawConfig, plugins: PluginSet
) -> tuple[dict[str, BaseModel], list[ConfigIssue]]:
    result: dict[str, BaseModel] = {}
    issues: list[ConfigIssue] = []
    for name, data in raw.simulators.items():
        where = f"{raw.directory}: simulators.{name}"
        spec = plugins.simulators.get(name)
        if spec is None:
            known = ", ".join(sorted(plugins.simulators)) or "none"
            issues.append(ConfigIssue(where, f"unknown simulator; known: {known}"))
            continue
        try:
            result[name] = spec.config_model.model_validate(
                data, context={"base_dir": raw.directory}
            )
        except ValidationError as exc:
            issues.extend(ConfigIssue(where, line) for line in format_validation_error(exc))
    return result, issues


def load_config(directory: Path, plugins: PluginSet) -> LoadedConfig:
    raw = read_config_dir(directory)
    sources, source_issues = validate_sources(raw, plugins)
    simulators, sim_issues = validate_simulators(raw, plugins)
    return LoadedConfig(
        directory=raw.directory,
        daemon=raw.daemon,
        sources=sources,
        simulators=simulators,
        fatal=raw.issues + sim_issues,
        source_issues=source_issues,
    )


@dataclass(frozen=True)
class KindSources:
    """The valid sources of one kind in a config directory, with the daemon's state dir."""

    config_dir: Path
    state_dir: Path
    sources: dict[str, Any]  # name -> the kind's validated config model


def sources_of_kind(config_dir: Path, kind: str, plugins: PluginSet | None = None) -> KindSources:
    """What a plugin's CLI needs to act on its sources while the daemon may be down.

    Loads the installed plugins (unless given) and validates the directory the way the daemon
    does; invalid entries are skipped, as at the daemon's first start. Raises `ConfigError`
    when the directory cannot be read at all.
    """
    loaded = load_config(Path(config_dir), plugins or load_plugins())
    return KindSources(
        config_dir=loaded.directory,
        state_dir=loaded.daemon.state_path(loaded.directory),
        sources={n: v.config for n, v in loaded.sources.items() if v.kind.name == kind},
    )
