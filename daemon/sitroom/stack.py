"""The whole room on one machine: demo daemon -> Prometheus -> Alertmanager -> a receiver.

`make stack` (`python -m sitroom.stack`) runs the demo city with the real Prometheus and
Alertmanager from the Debian packages, on loopback, in temporary directories, with the
shipped rules (alerts/*.rules.yml), the shipped Prometheus config (deploy/prometheus.yml,
targets rewritten) and the shipped Alertmanager routing (alerts/alertmanager.example.yml,
receivers pointed at a small webhook receiver here that prints every notification). A
newcomer watches alerts fire and resolve without installing anything else; Ctrl-C stops
every process.

The end-to-end test and bench/time_to_alert.py drive the same `Stack`, so what is tested is
what a newcomer runs.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS = "/usr/bin/prometheus"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ports(count: int, avoid: set[int] | None = None) -> list[int]:
    """`count` distinct free ports, none in `avoid`: the sockets are held until all are
    bound, since ports asked for one at a time may come back twice (a simulator's MQTT
    broker and a pump station once got the same one)."""
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(sock)
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
            if port not in (avoid or set()):
                ports.append(port)
    finally:
        for sock in held:
            sock.close()
    return ports


# -- the demo config, with free ports ----------------------------------------------------

def _is_port_key(key: str) -> bool:
    return key == "port" or key.endswith("_port")


def _collect_ports(node: Any, found: set[int]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if _is_port_key(str(key)) and isinstance(value, int) and value > 0:
                found.add(value)
            else:
                _collect_ports(value, found)
    elif isinstance(node, list):
        for item in node:
            _collect_ports(item, found)


def _rewrite(node: Any, ports: dict[int, int], src: Path) -> Any:
    """Ports through `ports`; relative paths outside the state dir made absolute to `src`."""
    if isinstance(node, dict):
        return {k: (ports.get(v, v) if _is_port_key(str(k)) and isinstance(v, int)
                    else _rewrite(v, ports, src)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite(v, ports, src) for v in node]
    if isinstance(node, str):
        for old, new in ports.items():
            node = node.replace(f"127.0.0.1:{old}", f"127.0.0.1:{new}")
        if node.startswith("../") and not node.startswith("../.state"):
            candidate = (src / node).resolve()
            if candidate.exists():
                return str(candidate)
    return node


def demo_config_copy(src: Path, dst: Path, *, fast: bool = False,
                     overrides: dict[str, dict[str, Any]] | None = None) -> dict[int, int]:
    """Copy a config dir to `dst`, moving every simulator port to a free one.

    Simulator sections are expanded with their defaults first (through the simulator's own
    config model), so ports that only exist as defaults (the pump stations) move too. With
    `fast`, polls run every 2 s and simulators tick every second, so a test sees change
    within seconds; `overrides` maps a source kind to fields set on each of its sources.
    The daemon's push target is removed (the demo's is a fixed port another stack on this
    machine may hold); `Stack` points it at its own Alertmanager. Returns {old port: new port}.
    """
    from sitroom.plugins import load_plugins

    plugins = load_plugins()
    shutil.copytree(src, dst)
    docs = {p: yaml.safe_load(p.read_text(encoding="utf-8")) or {}
            for p in sorted(dst.glob("*.yaml"))}
    for doc in docs.values():
        for name, raw in (doc.get("simulators") or {}).items():
            spec = plugins.simulators.get(name)
            if spec is None:
                continue
            full = spec.config_model.model_validate(raw, context={"base_dir": src.resolve()})
            expanded = full.model_dump(mode="json")
            for key, value in raw.items():  # keep the user's relative paths relative
                if isinstance(value, str):
                    expanded[key] = value
            if fast and "interval" in expanded:
                expanded["interval"] = 1.0
            doc["simulators"][name] = expanded
    used: set[int] = set()
    for doc in docs.values():
        _collect_ports(doc.get("simulators") or {}, used)
    ports = dict(zip(sorted(used), free_ports(len(used)), strict=True))
    for path, doc in docs.items():
        new = _rewrite(doc, ports, src.resolve())
        for source in new.get("sources") or []:
            if not isinstance(source, dict):
                continue
            if fast and "interval" in source:
                source["interval"] = "2s"
                source["timeout"] = "2s"
            source.update((overrides or {}).get(str(source.get("kind")), {}))
        path.write_text(yaml.safe_dump(new, sort_keys=False), encoding="utf-8")
    point_alerting_at(dst, None)
    return ports


def point_alerting_at(config_dir: Path, alertmanager_url: str | None) -> None:
    """Set (or, with None, remove) the daemon's push target in a copied config dir."""
    for path in sorted(config_dir.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        daemon = doc.get("daemon")
        if not isinstance(daemon, dict):
            continue
        alerting = dict(daemon.get("alerting") or {})
        if alertmanager_url is None:
            alerting.pop("alertmanagers", None)
        else:
            alerting["alertmanagers"] = [alertmanager_url]
        daemon["alerting"] = alerting
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        return


def configured_alertmanager_port(config_dir: Path) -> int | None:
    """The port of the first Alertmanager a config dir's daemon section pushes to."""
    for path in sorted(config_dir.glob("*.yaml")):
        daemon = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("daemon")
        if isinstance(daemon, dict):
            urls = (daemon.get("alerting") or {}).get("alertmanagers") or []
            return urlsplit(urls[0]).port if urls else None
    return None


# -- Prometheus and Alertmanager configs from the shipped ones ---------------------------

def prometheus_config(target: str, alertmanager: str, *, rule_files: list[Path] | None = None,
                      interval: str | None = None,
                      shipped: Path = REPO / "deploy" / "prometheus.yml") -> dict[str, Any]:
    """deploy/prometheus.yml with loopback targets, local rule files and optional intervals."""
    config: dict[str, Any] = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    if interval:
        config["global"]["scrape_interval"] = interval
        config["global"]["evaluation_interval"] = interval
        config["global"]["scrape_timeout"] = interval
    config["rule_files"] = [str(p) for p in (rule_files or
                                             sorted((REPO / "alerts").glob("*.rules.yml")))]
    config["alerting"]["alertmanagers"][0]["static_configs"] = [{"targets": [alertmanager]}]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    jobs["sitroom"]["static_configs"][0]["targets"] = [target]
    config["scrape_configs"] = [jobs["sitroom"]]
    return config


def alertmanager_config(receiver_base: str, *,
                        shipped: Path = REPO / "alerts" / "alertmanager.example.yml"
                        ) -> dict[str, Any]:
    """The example routing, every webhook sent to `receiver_base` (path kept: /hooks/<team>)."""
    config: dict[str, Any] = copy.deepcopy(yaml.safe_load(shipped.read_text(encoding="utf-8")))
    base = urlsplit(receiver_base)
    for receiver in config.get("receivers", []):
        for hook in receiver.get("webhook_configs", []):
            url = urlsplit(hook["url"])
            hook["url"] = urlunsplit((base.scheme, base.netloc, url.path, url.query, ""))
    return config


# -- a webhook receiver ------------------------------------------------------------------

@dataclass
class Notification:
    received: float  # time.time()
    path: str
    payload: dict[str, Any]


@dataclass
class Receiver:
    """Alertmanager webhook receiver on 127.0.0.1: records (and optionally prints) posts."""

    on_notify: Callable[[Notification], None] | None = None
    notifications: list[Notification] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    payload = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    self.send_response(400)
                    self.end_headers()
                    return
                note = Notification(time.time(), self.path, payload)
                with outer._cond:
                    outer.notifications.append(note)
                    outer._cond.notify_all()
                if outer.on_notify:
                    outer.on_notify(note)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for(self, predicate: Callable[[Notification], bool],
                 timeout: float) -> Notification:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for note in self.notifications:
                    if predicate(note):
                        return note
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no matching notification; got "
                                       f"{[(n.path, alertnames(n)) for n in self.notifications]}")
                self._cond.wait(left)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def alertnames(note: Notification) -> list[str]:
    return [a.get("labels", {}).get("alertname", "") for a in note.payload.get("alerts", [])]


# -- processes ---------------------------------------------------------------------------

class Process:
    """A child in its own session (so its children die with it), output to a log file."""

    def __init__(self, name: str, args: list[str], log: Path, cwd: Path | None = None) -> None:
        self.name = name
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(args, cwd=cwd, stdout=self._out, stderr=subprocess.STDOUT,
                                     start_new_session=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._out.close()


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


@dataclass
class Stack:
    """Daemon, Prometheus and Alertmanager on free loopback ports under one temp dir."""

    config_dir: Path
    interval: str | None = None       # scrape/eval; None = deploy/prometheus.yml's
    free_ports: bool = True           # move the demo simulators to free ports
    fast: bool = False                # 2 s polls, 1 s simulator ticks
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind -> fields
    push: bool = True                 # the daemon pushes events to the stack's Alertmanager
    on_notify: Callable[[Notification], None] | None = None
    workdir: Path | None = None
    processes: list[Process] = field(default_factory=list)

    def __enter__(self) -> Stack:
        self._tmp = tempfile.TemporaryDirectory(prefix="sitroom-stack-")
        self.workdir = Path(self._tmp.name)
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        assert self.workdir is not None
        work = self.workdir
        if self.free_ports:
            config_dir = work / "conf.d"
            self.ports = demo_config_copy(self.config_dir, config_dir, fast=self.fast,
                                          overrides=self.overrides)
        else:
            config_dir, self.ports = self.config_dir.resolve(), {}
        self.effective_config_dir = config_dir
        self.receiver = Receiver(on_notify=self.on_notify)
        daemon_port, prom_port, am_port = free_ports(3, avoid=set(self.ports.values()))
        if self.free_ports:
            point_alerting_at(config_dir, f"http://127.0.0.1:{am_port}" if self.push else None)
        else:  # the config's own Alertmanager address is where the stack's must listen
            am_port = configured_alertmanager_port(config_dir) or am_port
        self.daemon_url = f"http://127.0.0.1:{daemon_port}"
        self.prometheus_url = f"http://127.0.0.1:{prom_port}"
        self.alertmanager_url = f"http://127.0.0.1:{am_port}"

        am_dir = work / "alertmanager"
        am_dir.mkdir()
        (am_dir / "alertmanager.yml").write_text(
            yaml.safe_dump(alertmanager_config(self.receiver.url)))
        self.processes.append(Process("alertmanager", [
            ALERTMANAGER, f"--config.file={am_dir / 'alertmanager.yml'}",
            f"--storage.path={am_dir / 'data'}", f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",
        ], work / "alertmanager.log"))

        self.processes.append(Process("sitroom", [
            sys.executable, "-m", "sitroom.cli", "run", "--config-dir", str(config_dir),
            "--listen", f"127.0.0.1:{daemon_port}",
        ], work / "sitroom.log", cwd=REPO))

        prom_dir = work / "prometheus"
        prom_dir.mkdir()
        (prom_dir / "prometheus.yml").write_text(yaml.safe_dump(prometheus_config(
            f"127.0.0.1:{daemon_port}", f"127.0.0.1:{am_port}", interval=self.interval)))
        self.processes.append(Process("prometheus", [
            PROMETHEUS, f"--config.file={prom_dir / 'prometheus.yml'}",
            f"--storage.tsdb.path={prom_dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{prom_port}", "--web.enable-lifecycle",
        ], work / "prometheus.log"))

        for name, url in (("alertmanager", f"{self.alertmanager_url}/-/ready"),
                          ("sitroom", f"{self.daemon_url}/-/ready"),
                          ("prometheus", f"{self.prometheus_url}/-/ready")):
            self._wait(name, url)

    def _wait(self, name: str, url: str, timeout: float = 60.0) -> None:
        process = next(p for p in self.processes if p.name == name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.proc.poll() is not None:
                raise RuntimeError(f"{name} exited {process.proc.returncode}:\n"
                                   f"{process.output()[-4000:]}")
            if http_ok(url):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{name} not ready after {timeout}s:\n{process.output()[-4000:]}")

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query against the stack's Prometheus."""
        from urllib.parse import urlencode

        url = f"{self.prometheus_url}/api/v1/query?{urlencode({'query': promql})}"
        with urllib.request.urlopen(url, timeout=10) as response:
            payload = json.loads(response.read())
        if payload.get("status") != "success":
            raise RuntimeError(f"query {promql!r} failed: {payload}")
        return list(payload["data"]["result"])

    def __exit__(self, *exc: object) -> None:
        for process in reversed(self.processes):
            process.stop()
        if hasattr(self, "receiver"):
            self.receiver.close()
        self._tmp.cleanup()


# -- `make stack` ------------------------------------------------------------------------

_PRINT_LOCK = threading.Lock()


def _print_notification(note: Notification) -> None:
    team = note.path.rsplit("/", 1)[-1]
    with _PRINT_LOCK:
        for alert in note.payload.get("alerts", []):
            labels = alert.get("labels", {})
            summary = alert.get("annotations", {}).get("summary", "")
            print(f"{time.strftime('%H:%M:%S')} [{team}] {alert.get('status', '?').upper():8} "
                  f"{labels.get('alertname')} ({labels.get('severity')}): {summary}",
                  flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sitroom.stack", description=__doc__)
    parser.add_argument("--config-dir", type=Path, default=REPO / "conf.d")
    parser.add_argument("--interval", default=None,
                        help="scrape and evaluation interval (default: deploy/prometheus.yml)")
    parser.add_argument("--fixed-ports", action="store_true",
                        help="keep the demo's simulator ports (default: move them to free ones)")
    args = parser.parse_args(argv)
    for binary in (PROMETHEUS, ALERTMANAGER):
        if not os.access(binary, os.X_OK):
            print(f"{binary} is missing: run `make deps` (Debian packages prometheus and "
                  "prometheus-alertmanager)", file=sys.stderr)
            return 2
    print("starting the demo city, Prometheus and Alertmanager on 127.0.0.1 ...", flush=True)
    with Stack(args.config_dir, interval=args.interval, free_ports=not args.fixed_ports,
               on_notify=_print_notification) as stack:
        print(f"""
  sitroom       {stack.daemon_url}/metrics   {stack.daemon_url}/api/v1/sources
  Prometheus    {stack.prometheus_url}/alerts
  Alertmanager  {stack.alertmanager_url}
  logs          {stack.workdir}/*.log

Notifications Alertmanager sends appear below ([team] STATUS alert). Make something happen:
{_examples(stack)}
Ctrl-C stops everything.
""", flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            while not stop.wait(1.0):
                for process in stack.processes:
                    if process.proc.poll() is not None:
                        print(f"{process.name} exited; see {process.log}", file=sys.stderr)
                        return 1
    print("stopped.")
    return 0


def _examples(stack: Stack) -> str:
    """curl lines for the demo simulators' control APIs (flood to Siaga, a pump fault)."""
    docs = [yaml.safe_load(p.read_text()) or {}
            for p in sorted(stack.effective_config_dir.glob("*.yaml"))]
    sims = {k: v for d in docs for k, v in (d.get("simulators") or {}).items()}
    actions = {"flood": "/set?sensor=bkb-simongan&level=4.3   (river to Siaga)",
               "pumps": "/fault?station=kali-semarang&pump=P1&code=7   (pump fault)"}
    lines = []
    for name, action in actions.items():
        port = (sims.get(name) or {}).get("control_port")
        if port:
            path, _, note = action.partition("   ")
            lines.append(f"  curl -X POST 'http://127.0.0.1:{port}{path}'   {note}")
    return "\n".join(lines) or "  (no flood or pumps simulator in this config)"


if __name__ == "__main__":
    sys.exit(main())
