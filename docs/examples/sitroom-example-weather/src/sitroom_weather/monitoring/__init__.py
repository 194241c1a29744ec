"""The monitoring the plugin ships: Prometheus rules with their promtool tests, a Grafana
dashboard and the runbook the rules link to. They are package data, so they install and
upgrade with the plugin and always match the metrics it declares;
`sitroom weather export-monitoring DIR` writes them where Prometheus and Grafana read them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

# --8<-- [start:export]
# file in this package -> where it goes under the export directory
LAYOUT = {
    "weather.rules.yml": "rules/weather.rules.yml",
    "weather_test.yml": "rules/weather_test.yml",
    "weather.json": "dashboards/weather.json",
    "runbook.md": "runbooks/weather.md",
}


def export(directory: str | Path) -> int:
    """Copy the shipped files under `directory`; returns the CLI's exit code."""
    root = Path(directory)
    package = resources.files(__name__)
    for name, relative in LAYOUT.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(package.joinpath(name).read_text(encoding="utf-8"), encoding="utf-8")
        print(target)
    return 0
# --8<-- [end:export]
