"""`sitroom grafana push`: upload the generated dashboards to a Grafana over its HTTP API.

For sites that cannot mount provisioning files (Grafana Cloud, a shared Grafana run by
another team). It is idempotent: the folder is created only when missing, and a dashboard is
posted only when its content differs from what Grafana holds, so running it from a deploy
job every time does not bump versions or spam the dashboard history.

Alert rules are not pushed: sitroom's rules are Prometheus rules (alerts/*.rules.yml),
evaluated by Prometheus and routed by Alertmanager; loading them into Grafana-managed
alerting would evaluate every alert twice.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sitroom.extras import install_hint
from sitroom.secrets import redact_url

DEFAULT_DASHBOARDS = Path("grafana/dashboards")
# Grafana fills these in on save; comparing without them says whether content changed.
_SERVER_FIELDS = ("id", "version", "iteration")


class PushError(Exception):
    """A problem the user must fix (bad input, auth, an API error): printed, exit 1 or 2."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    grafana = sub.add_parser("grafana", help="Grafana integration (push dashboards)")
    gsub = grafana.add_subparsers(dest="grafana_command", required=True)
    push = gsub.add_parser("push", help="upload grafana/dashboards/*.json to a Grafana")
    push.add_argument("--url", required=True, help="Grafana base URL, e.g. https://grafana:3000")
    push.add_argument("--token-file", required=True, type=Path,
                      help="file holding a service-account token (Editor on the folder)")
    push.add_argument("--dashboards", type=Path, default=DEFAULT_DASHBOARDS,
                      help="folder of dashboard JSON files (default: grafana/dashboards)")
    push.add_argument("--folder-uid", default="sitroom")
    push.add_argument("--folder-title", default="Situation Room")
    push.add_argument("--timeout", type=float, default=15.0, help="seconds per request")
    push.set_defaults(func=cmd_grafana_push)


def read_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise PushError(f"cannot read token file {path}: {exc.strerror}", 2) from None
    if not token or "\n" in token:
        raise PushError(f"token file {path} must hold exactly one non-empty line", 2)
    return token


def load_dashboards(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Every dashboard JSON in `folder`, all validated before anything is uploaded."""
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise PushError(f"no dashboard JSON files in {folder}", 2)
    boards = []
    for path in paths:
        try:
            board = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PushError(f"{path}: not valid JSON ({exc})", 2) from None
        if not isinstance(board, dict) or not isinstance(board.get("uid"), str) \
                or not isinstance(board.get("title"), str) or not board["uid"]:
            raise PushError(f"{path}: a dashboard needs a string uid and title", 2)
        boards.append((path, board))
    uids = [b["uid"] for _, b in boards]
    if len(set(uids)) != len(uids):
        raise PushError(f"duplicate dashboard uids in {folder}", 2)
    return boards


def _content(board: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in board.items() if k not in _SERVER_FIELDS}


def push(url: str, token: str, boards: list[tuple[Path, dict[str, Any]]], folder_uid: str,
         folder_title: str, timeout: float = 15.0) -> list[tuple[str, str]]:
    """Ensure the folder, then create/update each dashboard; return (uid, outcome) pairs."""
    try:
        from grafana_client import GrafanaApi
        from grafana_client.client import GrafanaClientError, GrafanaException
        from niquests.exceptions import RequestException
    except ImportError as exc:  # an optional part: the core installs without it
        raise PushError(f"{exc}; install it with: {install_hint('grafana')}", 2) from None

    api = GrafanaApi.from_url(url, credential=token, timeout=timeout)
    try:
        try:
            api.folder.get_folder(folder_uid)
        except GrafanaClientError as exc:
            if exc.status_code != 404:
                raise
            api.folder.create_folder(folder_title, uid=folder_uid)
        outcomes = []
        for _, board in boards:
            try:
                current = api.dashboard.get_dashboard(board["uid"])
            except GrafanaClientError as exc:
                if exc.status_code != 404:
                    raise
                current = None
            if current is not None and _content(current.get("dashboard", {})) == \
                    _content(board) and current.get("meta", {}).get("folderUid") == folder_uid:
                outcomes.append((board["uid"], "unchanged"))
                continue
            api.dashboard.update_dashboard({
                "dashboard": {**board, "id": None},
                "folderUid": folder_uid,
                "overwrite": True,
                "message": "sitroom grafana push",
            })
            outcomes.append((board["uid"], "created" if current is None else "updated"))
        return outcomes
    except GrafanaException as exc:
        # exc.message holds the status and Grafana's message, never our request headers.
        raise PushError(f"Grafana at {redact_url(url)}: {exc.message}") from None
    except (RequestException, ValueError) as exc:
        # refused connections, TLS and DNS errors, a proxy's HTML page instead of JSON
        raise PushError(f"Grafana at {redact_url(url)}: {type(exc).__name__}") from None


def cmd_grafana_push(args: argparse.Namespace) -> int:
    try:
        if not args.url.startswith(("http://", "https://")):
            raise PushError(f"--url must start with http:// or https://, got {args.url!r}", 2)
        token = read_token(args.token_file)
        boards = load_dashboards(args.dashboards)
        outcomes = push(args.url, token, boards, args.folder_uid, args.folder_title,
                        args.timeout)
    except PushError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    for uid, outcome in outcomes:
        print(f"{uid}: {outcome}")
    changed = sum(1 for _, o in outcomes if o != "unchanged")
    print(f"{len(outcomes)} dashboards in folder {args.folder_uid!r} at {redact_url(args.url)}, "
          f"{changed} changed")
    return 0
