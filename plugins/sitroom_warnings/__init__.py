"""Official warnings: CAP alerts (BMKG nowcasts, PetaBencana flood states) and BMKG
earthquakes, as bounded metrics by kecamatan.

A plugin of its own rather than part of `social`: social measures what people say (topics,
sentiment, trends over free text), while these are authoritative machine-readable warnings
with their own lifetimes (`expires`), severities and rules. They share only the city's
district list and the hostile-XML guard, which live in the core. See README.md.
"""

from __future__ import annotations

import defusedxml  # noqa: F401  the `warnings` extra: the core's XML guard parses with it

from sitroom.api import SimulatorSpec, SourceKind, hookimpl


@hookimpl
def sitroom_source_kinds() -> list[SourceKind]:
    from sitroom_warnings.cap_source import CapFeed
    from sitroom_warnings.config import CapFeedConfig, EarthquakeFeedConfig
    from sitroom_warnings.metrics import CAP_METRICS, QUAKE_METRICS
    from sitroom_warnings.quake_source import EarthquakeFeed

    return [
        SourceKind(
            name="cap_feed",
            config_model=CapFeedConfig,
            factory=CapFeed,
            metrics=CAP_METRICS,
            description="CAP 1.2 alerts from an RSS/Atom index or one document (BMKG "
            "nowcasts, PetaBencana flood states), by kecamatan.",
        ),
        SourceKind(
            name="earthquake_feed",
            config_model=EarthquakeFeedConfig,
            factory=EarthquakeFeed,
            metrics=QUAKE_METRICS,
            description="BMKG earthquake reports (JSON/XML): the latest event seen from "
            "Semarang.",
        ),
    ]


@hookimpl
def sitroom_simulators() -> list[SimulatorSpec]:
    from sitroom_warnings.simulator import WarningsSimulatorConfig, run_warnings_simulator

    return [
        SimulatorSpec(
            name="warnings",
            config_model=WarningsSimulatorConfig,
            run=run_warnings_simulator,
            description="BMKG nowcast CAP files, a PetaBencana CAP feed and BMKG "
            "earthquake reports on loopback.",
        )
    ]
