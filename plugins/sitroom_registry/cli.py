"""`sitroom cameras list|approve|suspend|retire|import|export` for administrators.

The CLI opens the registry's database directly (an SQLite file given as `--db`, or the
SQLite file or PostgreSQL database the config in `--config-dir` names), so it works whether
or not the daemon runs; a running daemon notices the committed change
within `refresh_interval` and publishes or withdraws the camera.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from pathlib import Path
from typing import Any

from sitroom.api import ConfigError, NetGuard, sources_of_kind
from sitroom_registry.backends import Backend, SQLiteBackend
from sitroom_registry.config import BoundingBox, RegistryConfig
from sitroom_registry.csvio import validate_rows, write_export
from sitroom_registry.lifecycle import STATUSES, TransitionError
from sitroom_registry.source import backend_for, default_db_path
from sitroom_registry.store import NotFound, RegistryStore


class CliError(Exception):
    pass


def find_registry(args: argparse.Namespace) -> tuple[Backend, RegistryConfig | None]:
    """The database and (when found through a config dir) the registry's config."""
    if args.db:
        return SQLiteBackend(Path(args.db)), None
    config_dir = Path(args.config_dir)
    try:
        found = sources_of_kind(config_dir, "camera_registry")
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    registries = found.sources
    if args.registry:
        if args.registry not in registries:
            raise CliError(f"no camera_registry source named {args.registry!r} in {config_dir}")
        registries = {args.registry: registries[args.registry]}
    if len(registries) != 1:
        names = ", ".join(sorted(registries)) or "none"
        raise CliError(
            f"need exactly one camera_registry in {config_dir} (found: {names}); "
            "use --registry NAME or --db FILE"
        )
    name, config = next(iter(registries.items()))
    return backend_for(config, default_db_path(found.state_dir, name)), config


def _open(args: argparse.Namespace) -> tuple[RegistryStore, RegistryConfig | None]:
    backend, config = find_registry(args)
    path = getattr(backend, "path", None)
    if path is not None and not path.exists() and args.cameras_command != "import":
        raise CliError(f"{path}: no registry database (has the daemon run yet?)")
    try:
        return RegistryStore(backend).open(), config
    except (ConnectionError, RuntimeError) as exc:
        raise CliError(str(exc)) from None


def cmd_list(store: RegistryStore, args: argparse.Namespace, _: Any) -> int:
    rows = store.list(args.status)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'id':16}  {'status':17}  {'district':16}  {'owner_type':10}  probe")
    for row in rows:
        print(
            f"{row['id']:16}  {row['status']:17}  {row['district']:16}  "
            f"{row['owner_type']:10}  {row['probe_result'] or '-'}"
        )
    return 0


def cmd_action(store: RegistryStore, args: argparse.Namespace, _: Any) -> int:
    row = store.transition(args.id, args.cameras_command, args.actor)
    print(f"{row['id']}: {row['status']}")
    return 0


def cmd_import(store: RegistryStore, args: argparse.Namespace, config: Any) -> int:
    guard = NetGuard(
        config.allow_networks if config else (),
        config.allowed_ports
        if config
        else RegistryConfig.model_fields["allowed_ports"].get_default(call_default_factory=True),
    )
    bbox = config.bbox if config else BoundingBox()
    prefix = config.camera_prefix if config else "reg-"
    with open(args.csv, newline="", encoding="utf-8-sig") as handle:
        good, errors = asyncio.run(
            validate_rows(csv.DictReader(handle), guard, bbox, args.assume_consent)
        )
    if errors:
        for line in errors:
            print(f"error: {line}", file=sys.stderr)
        print(f"{len(errors)} problem(s); nothing imported", file=sys.stderr)
        return 1
    for fields, spec in good:
        store.create(fields, spec.username, spec.password, args.actor, camera_prefix=prefix)
    print(f"imported {len(good)} camera(s) as pending (they will be probed)")
    return 0


def cmd_export(store: RegistryStore, args: argparse.Namespace, _: Any) -> int:
    rows = store.list(args.status)
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as handle:
            write_export(rows, handle, args.include_personal)
    else:
        write_export(rows, sys.stdout, args.include_personal)
    return 0


COMMANDS = {
    "list": cmd_list,
    "approve": cmd_action,
    "suspend": cmd_action,
    "retire": cmd_action,
    "import": cmd_import,
    "export": cmd_export,
}


def run(args: argparse.Namespace) -> int:
    try:
        store, config = _open(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[args.cameras_command](store, args, config)
    except (NotFound, TransitionError, CliError, OSError) as exc:
        message = f"no registration {exc}" if isinstance(exc, NotFound) else str(exc)
        print(f"error: {message}", file=sys.stderr)
        return 1
    finally:
        store.close()


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    where = common.add_mutually_exclusive_group()
    where.add_argument("--db", help="the registry's SQLite file")
    where.add_argument(
        "--config-dir",
        default="conf.d",
        help="find the camera_registry source's database here (default conf.d)",
    )
    common.add_argument("--registry", help="which camera_registry source, if several")
    common.add_argument("--actor", default="cli", help="name written to the audit log")

    cameras = subparsers.add_parser("cameras", help="manage the citizen camera registry")
    sub = cameras.add_subparsers(dest="cameras_command", required=True)
    listing = sub.add_parser("list", parents=[common], help="list registrations")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--json", action="store_true")
    for action in ("approve", "suspend", "retire"):
        parser = sub.add_parser(action, parents=[common], help=f"{action} a registration")
        parser.add_argument("id")
    importing = sub.add_parser("import", parents=[common], help="import cameras from CSV")
    importing.add_argument("--csv", required=True, help="CSV file with a header row")
    importing.add_argument(
        "--assume-consent",
        action="store_true",
        help="rows without a consent column count as consenting (the city's own cameras)",
    )
    exporting = sub.add_parser("export", parents=[common], help="export as CSV (no credentials)")
    exporting.add_argument("--csv", help="write here instead of stdout")
    exporting.add_argument("--status", choices=STATUSES)
    exporting.add_argument(
        "--include-personal",
        action="store_true",
        help="add owner name, contacts and street address",
    )
    cameras.set_defaults(func=run)
