"""The public plugin API holds: built-in plugins import only `sitroom.api` from the core."""

from __future__ import annotations

import ast
from pathlib import Path

import sitroom
import sitroom.api

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def core_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import of a `sitroom` core module in one file."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            if node.module == "sitroom":  # `from sitroom import api` is `import sitroom.api`
                modules = [f"sitroom.{alias.name}" for alias in node.names]
        else:
            continue
        found += [
            (node.lineno, m) for m in modules if m == "sitroom" or m.startswith("sitroom.")
        ]
    return found


def test_built_in_plugins_import_only_the_public_api() -> None:
    files = sorted(PLUGINS.rglob("*.py"))
    assert len(files) > 50  # the walk really found the plugins
    offenders = [
        f"{path.relative_to(PLUGINS)}:{line}: {module}"
        for path in files
        for line, module in core_imports(path)
        if module != "sitroom.api"
    ]
    assert offenders == [], "built-in plugins must import the core only through sitroom.api"


def test_the_walk_catches_every_import_form(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import sitroom.daemon\n"
        "from sitroom import hookimpl\n"
        "from sitroom.metrics.store import MetricWriter\n"
        "from sitroom import api\n"
        "from sitroom.api import MetricSpec\n"
        "import sitroom_cameras\n"
        "def f():\n    from sitroom.config import ConfigError\n"
    )
    assert core_imports(sample) == [
        (1, "sitroom.daemon"),
        (2, "sitroom.hookimpl"),
        (3, "sitroom.metrics.store"),
        (4, "sitroom.api"),
        (5, "sitroom.api"),
        (8, "sitroom.config"),
    ]


def test_every_exported_name_resolves() -> None:
    missing = [name for name in sitroom.api.__all__ if not hasattr(sitroom.api, name)]
    assert missing == []
    assert sorted(sitroom.api.__all__) == sitroom.api.__all__


def test_old_top_level_names_still_resolve_to_the_api_objects() -> None:
    assert sitroom.hookimpl is sitroom.api.hookimpl
    assert sitroom.SourceKind is sitroom.api.SourceKind
    try:
        sitroom.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("unknown names must raise AttributeError")
