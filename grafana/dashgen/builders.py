"""What every sitroom board shares, on top of Grafana's Foundation SDK (grafana-foundation-sdk).

The panels themselves are the SDK's typed builders (`stat.Panel()`, `timeseries.Panel()`,
...), so a misspelt option, field or enum value fails at generation time (AttributeError)
rather than making a panel Grafana silently ignores, and the type hints (generated from
Grafana's own schema) say what each option takes: no Grafana server runs in the tests.
This module keeps the room's conventions in one place: the datasource variable, the
district/source filters, board and runbook links, colours, deterministic ids and ref ids,
and where the map's tiles and the runbooks come from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, Self, cast

from grafana_foundation_sdk.builders import common as sdk_common
from grafana_foundation_sdk.builders import dashboard as sdk
from grafana_foundation_sdk.builders import prometheus
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import prometheus as prometheus_model
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

DS = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
TAG = "sitroom"
FOLDER = "Situation Room"
RUNBOOKS_VAR = "runbooks"

# Where each board lives; panels link to each other by uid.
UID_OVERVIEW = "sitroom-overview"
UID_FLOOD = "sitroom-flood-pumps"
UID_CAMERAS = "sitroom-cameras"
UID_DAEMON = "sitroom-daemon"
UID_PROJECTS = "sitroom-pembangunan"
UID_TRAFFIC = "sitroom-lalu-lintas"
UID_SOCIAL = "sitroom-sosial"

# Colours that mean the same on every board.
GREEN, YELLOW, ORANGE, RED, BLUE, GREY = (
    "green", "yellow", "orange", "red", "blue", "text")

Steps = Sequence[tuple[float | None, str]]

# -- generation-time settings (documented in grafana/README.md) -------------------------

DEFAULT_RUNBOOKS = "http://localhost:9750/docs/runbooks"
"""The runbooks page until Prometheus answers: the daemon's address under `make run` and
deploy/docker-compose.yml. The `runbooks` variable then takes what the daemon announces."""


NO_TILES = "none"
_map = {"tiles": "", "attribution": ""}


def use_map_tiles(tiles: str = "", attribution: str = "") -> None:
    """Choose the map's base layer for the boards built next (grafana/generate.py --tiles).

    '' is Grafana's default basemap (online CARTO tiles, or what the Grafana admin set in
    grafana.ini [geomap] default_baselayer_config); an XYZ URL template with {z}, {x} and
    {y} is a tile server of the city's own; 'none' is a plain background that needs nothing
    from outside Grafana. The markers are drawn on any of them.
    """
    tiles = tiles.strip()
    if tiles and tiles != NO_TILES and not (
            tiles.startswith(("http://", "https://", "/"))
            and all(part in tiles for part in ("{z}", "{x}", "{y}"))):
        raise ValueError("map tiles must be an XYZ URL template with {z}, {x} and {y} "
                         f"(e.g. https://tiles.example/{{z}}/{{x}}/{{y}}.png) or "
                         f"'{NO_TILES}', got {tiles!r}")
    _map.update(tiles=tiles, attribution=attribution)


PLAIN_BACKGROUND = "public/maps/countries.geojson"
"""Country outlines that every Grafana serves from its own static files: the background
with tiles 'none', so the markers sit on a coastline and not on nothing."""


def basemap() -> sdk_common.MapLayerOptions:
    """The map's base layer, chosen at generation time (see use_map_tiles)."""
    tiles = _map["tiles"]
    layer = sdk_common.MapLayerOptions().name("Basemap")
    if not tiles:  # Grafana's default basemap ([geomap] default_baselayer_config)
        return layer.type("default")
    if tiles == NO_TILES:
        return layer.type("geojson").config({
            "src": PLAIN_BACKGROUND, "rules": [],
            "style": {"color": {"fixed": "#c8c8c8"}, "opacity": 0.4,
                      "lineWidth": 1, "size": {"fixed": 1}}})
    return layer.type("xyz").config({
        "url": tiles, "attribution": _map["attribution"]})


# -- queries, thresholds, mappings, links ----------------------------------------------

def prom(expr: str, legend: str = "", *, instant: bool = False,
         table: bool = False) -> prometheus.Dataquery:
    """One PromQL target: instant (+table) for stat/map/table panels, range otherwise."""
    query = prometheus.Dataquery().expr(expr).legend_format(legend or "__auto").datasource(DS)
    query = query.instant() if instant else query.range()
    if table:
        query = query.format(PromQueryFormat.TABLE)
    return query


def steps(*pairs: tuple[float | None, str]) -> sdk.ThresholdsConfig:
    """Absolute thresholds; (None, colour) is the base step."""
    return sdk.ThresholdsConfig().mode(model.ThresholdsMode.ABSOLUTE).steps(
        [model.Threshold(value=value, color=color) for value, color in pairs])


def value_text(mapping: dict[int, tuple[str, str]]) -> model.ValueMap:
    """A value mapping: number -> (text, colour), e.g. the flood levels."""
    return model.ValueMap(options={
        str(value): model.ValueMappingResult(text=text, color=color or None, index=i)
        for i, (value, (text, color)) in enumerate(sorted(mapping.items()))})


FLOOD_LEVELS = value_text({0: ("Normal", GREEN), 1: ("Waspada", YELLOW),
                           2: ("Siaga", ORANGE), 3: ("Awas", RED)})
ON_OFF = value_text({0: ("off", GREY), 1: ("on", GREEN)})
LEVEL_STEPS = ((None, GREEN), (1, YELLOW), (2, ORANGE), (3, RED))


def board_link(title: str, uid: str, tooltip: str = "") -> sdk.DashboardLink:
    """A panel link to another sitroom board, keeping time range and variables."""
    return (sdk.DashboardLink(title).type(model.DashboardLinkType.LINK)
            .url(f"/d/{uid}?${{__url_time_range}}&${{__all_variables}}").tooltip(tooltip))


def runbook_anchor(alert: str) -> str:
    """The runbook section of an alert, as the alert rules' runbook_url anchors it."""
    return f"${{{RUNBOOKS_VAR}}}#{alert.lower()}"


def runbook_link(alert: str) -> sdk.DashboardLink:
    """A panel link to the runbook section of an alert (served by the daemon)."""
    return (sdk.DashboardLink(f"Runbook: {alert}").type(model.DashboardLinkType.LINK)
            .url(runbook_anchor(alert)).target_blank(True))


def organize(*, exclude: Iterable[str] = (), rename: dict[str, str] | None = None,
             order: dict[str, int] | None = None) -> model.DataTransformerConfig:
    """The `organize` transformation: hide label columns, rename and order the rest."""
    options: dict[str, Any] = {"excludeByName": dict.fromkeys(exclude, True)}
    if rename:
        options["renameByName"] = rename
    if order:
        options["indexByName"] = order
    return model.DataTransformerConfig(id_val="organize", options=options)


def transform(name: str, **options: Any) -> model.DataTransformerConfig:
    """Any other transformation (merge, groupingToMatrix, convertFieldType): the SDK types
    a transformation's id but leaves its options to the transformer, as Grafana does."""
    return model.DataTransformerConfig(id_val=name, options=options)


def thresholds_override(field: str, pairs: Steps) -> sdk.DashboardFieldConfigSourceOverrides:
    """Colour one field by its own thresholds (e.g. one map layer's value column)."""
    return (sdk.DashboardFieldConfigSourceOverrides()
            .matcher(model.MatcherConfig(id_val="byName", options=field))
            .properties([model.DynamicConfigValue(id_val="thresholds",
                                                  value=steps(*pairs).build()),
                         model.DynamicConfigValue(id_val="color", value=model.FieldColor(
                             mode=model.FieldColorModeId.THRESHOLDS))]))


def in_district(expr: str, info: str, keys: str) -> str:
    """Filter a per-entity expression by the $district variable through its _info metric."""
    return f'{expr} * on({keys}) group_left() {info}{{district=~"$district"}}'


SOURCE_MATCH = 'source=~"$source"'  # the label matcher for the `$source` variable below


# -- template variables -----------------------------------------------------------------

def datasource_var() -> sdk.DatasourceVariable:
    return (sdk.DatasourceVariable("datasource").label("Prometheus").type("prometheus")
            .regex(""))


def query_var(name: str, label: str, query: str) -> sdk.QueryVariable:
    """A multi-value label variable with All = `.*`, refreshed on time-range change."""
    return (sdk.QueryVariable(name).label(label).datasource(DS)
            .query({"query": query, "refId": f"var-{name}"})
            .include_all(True).multi(True).all_value(".*")
            .current(model.VariableOption(selected=True, text=["All"], value=["$__all"]))
            .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(model.VariableSort.ALPHABETICAL_ASC))


def district_var() -> sdk.QueryVariable:
    return query_var("district", "Kecamatan (district)",
                     'label_values({__name__=~"sitroom_.+_info"}, district)')


def source_var(kinds_regex: str) -> sdk.QueryVariable:
    return query_var("source", "Source",
                     f'label_values(sitroom_source_up{{kind=~"{kinds_regex}"}}, source)')


def runbooks_var() -> sdk.QueryVariable:
    """Hidden: the runbooks page the daemon serves, from its sitroom_docs_info series.

    The daemon announces daemon.public_url + /docs/runbooks, the same page the alert rules'
    runbook_url names, so one setting moves both; ?var-runbooks=... still overrides it.
    """
    query = "label_values(sitroom_docs_info, runbooks)"
    return (sdk.QueryVariable(RUNBOOKS_VAR).label("Runbooks URL").datasource(DS)
            .query({"query": query, "refId": f"var-{RUNBOOKS_VAR}"})
            .hide(model.VariableHide.HIDE_VARIABLE)
            .current(model.VariableOption(selected=True, text=DEFAULT_RUNBOOKS,
                                          value=DEFAULT_RUNBOOKS))
            .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD)
            .sort(model.VariableSort.ALPHABETICAL_ASC))


# -- the board ---------------------------------------------------------------------------

class PanelBuilder(Protocol):
    """What every SDK panel builder has (each panel type defines these on its own class)."""

    def id(self, id_val: int) -> Self: ...

    def datasource(self, datasource: model.DataSourceRef) -> Self: ...

    def build(self) -> model.Panel: ...


Item = PanelBuilder | sdk.Row


def dashboard(uid: str, title: str, description: str, items: Iterable[Item], *,
              variables: Sequence[Builder[model.VariableModel]], refresh: str = "30s",
              time_from: str = "now-6h", tags: Sequence[str] = ()) -> dict[str, Any]:
    """Lay the items out left to right (rows start a new line) and return Grafana's JSON.

    Conventions applied here so that board modules cannot forget them: ids numbered in
    order, every panel and query on the `$datasource` variable, ref ids A, B, ... per panel,
    a panel with thresholds coloured by them, and a stat or bar gauge that shows the last
    value (the SDK leaves `reduceOptions.calcs` empty).
    """
    board = (sdk.Dashboard(title).uid(uid).description(description).tags([TAG, *tags])
             .timezone("browser").editable().tooltip(model.DashboardCursorSync.CROSSHAIR)
             .time(time_from, "now").refresh(refresh).fiscal_year_start_month(0)
             .live_now(False)
             .annotation(sdk.AnnotationQuery().name("Annotations & Alerts").built_in(1)
                         .datasource(model.DataSourceRef(type_val="grafana",
                                                         uid="-- Grafana --"))
                         .enable(True).hide(True).icon_color("rgba(0, 211, 255, 1)")
                         .type("dashboard"))
             .link(sdk.DashboardLink("sitroom boards").type(model.DashboardLinkType.DASHBOARDS)
                   .tags([TAG]).as_dropdown(True).include_vars(True).keep_time(True)
                   .icon("external link").target_blank(False))
             .link(sdk.DashboardLink("Runbooks").type(model.DashboardLinkType.LINK)
                   .url(f"${{{RUNBOOKS_VAR}}}").icon("doc").target_blank(True))
             .variables([datasource_var(), *variables, runbooks_var()]))
    for number, item in enumerate(items, start=1):
        if isinstance(item, sdk.Row):
            board.with_row(item.id(number))
        else:
            board.with_panel(cast(Builder[model.Panel], item.id(number).datasource(DS)))
    built = board.build()
    for panel in built.panels or []:
        if isinstance(panel, model.Panel):
            _conventions(panel)
    return json.loads(json.dumps(built, cls=JSONEncoder))


def _conventions(panel: model.Panel) -> None:
    for ref, target in zip("ABCDEFGHIJ", panel.targets or [], strict=False):
        assert isinstance(target, prometheus_model.Dataquery), panel.title
        target.ref_id = ref
    defaults = panel.field_config.defaults if panel.field_config else None
    if defaults is not None and defaults.thresholds is not None and defaults.color is None:
        defaults.color = model.FieldColor(mode=model.FieldColorModeId.THRESHOLDS)
    reduce = getattr(panel.options, "reduce_options", None)
    if reduce is not None and not reduce.calcs:
        reduce.calcs = ["lastNotNull"]


def panel_exprs(board: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expr) for every query target of a generated board."""
    return [(p["title"], t["expr"]) for p in board["panels"] for t in p.get("targets", [])]
