"""City development projects: planned vs actual progress, "kontrak kritis", budget absorption.

Reads the project list an agency keeps (CSV or JSON file, or an HTTP JSON/CSV API), puts
each project on its planned cumulative curve (kurva S) at the current moment, and exposes
progress, deviation, deadline and budget absorption per project for the Pembangunan board
and the DPU alerts.
"""

from __future__ import annotations

from sitroom.api import SourceKind, hookimpl
from sitroom_projects.config import ProjectsConfig
from sitroom_projects.metrics import ALL
from sitroom_projects.source import ProjectsSource


@hookimpl
def sitroom_source_kinds() -> list[SourceKind]:
    return [
        SourceKind(
            name="projects",
            config_model=ProjectsConfig,
            factory=ProjectsSource,
            metrics=ALL,
            description="City construction projects from CSV/JSON files or HTTP APIs.",
        )
    ]
