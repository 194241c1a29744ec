"""Starting real services for tests: free loopback ports, managed processes, the daemon.

Every helper binds 127.0.0.1 only. `require_tool` skips a test on a developer machine that
lacks a Debian package, but fails it under CI=true, where `make test` must have installed it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
TEST_DATA = REPO / "tests" / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(name: str) -> str:
    """Path of an executable; skip (locally) or fail (CI) when it is missing."""
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}")
                                  else None)
    if path is None:
        message = f"{name} is not installed (make deps installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, host: str = "127.0.0.1", timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def wait_until(predicate: Any, timeout: float = 15.0, step: float = 0.1, what: str = "") -> Any:
    """Poll `predicate()` until it returns something truthy; return that value."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
        except Exception as exc:  # the service may not be up yet
            last_exc = exc
            result = None
        if result:
            return result
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}"
                         + (f" (last error: {last_exc})" if last_exc else ""))


class ManagedProcess:
    """A subprocess in its own session, killed (with its children) on exit; output kept."""

    def __init__(self, args: list[str], cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.args = args
        self._final_output: str | None = None
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed by __exit__
            prefix="sitroom-proc-", suffix=".log",
            delete=False)
        self.proc = subprocess.Popen(
            args, cwd=cwd, env={**os.environ, **(env or {})}, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )

    def output(self) -> str:
        """Everything the process printed; still readable after the `with` block ends."""
        if self._final_output is not None:
            return self._final_output
        return Path(self.log.name).read_text(errors="replace")

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(timeout=5)
        return self.proc.returncode

    def __enter__(self) -> ManagedProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._final_output = self.output()
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)


def http_get(url: str, headers: dict[str, str] | None = None, timeout: float = 5.0
             ) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def http_post(url: str, body: bytes | dict[str, Any] = b"",
              headers: dict[str, str] | None = None, timeout: float = 10.0
              ) -> tuple[int, str]:
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, data=data, headers=hdrs, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


class DaemonProcess(ManagedProcess):
    """`sitroom run` as a real subprocess on a free loopback port."""

    def __init__(self, config_dir: Path, extra_args: list[str] | None = None,
                 env: dict[str, str] | None = None, python: str = sys.executable) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(
            [python, "-m", "sitroom.cli", "run", "--config-dir", str(config_dir),
             "--listen", f"127.0.0.1:{self.port}", *(extra_args or [])],
            cwd=REPO, env={"PYTHONUNBUFFERED": "1", **(env or {})},
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}:\n{self.output()}")
            return http_get(f"{self.url}/-/ready", timeout=1)[0] == 200

        wait_until(ready, timeout=timeout, what="daemon ready")

    def metrics(self) -> str:
        status, body = http_get(f"{self.url}/metrics")
        assert status == 200, body
        return body

    def sources(self, token: str | None = None) -> dict[str, Any]:
        """Sources by name: the public view, or the full one (config, errors) with a token."""
        headers = {"Authorization": f"Bearer {token}"} if token else None
        status, body = http_get(f"{self.url}/api/v1/sources", headers)
        assert status == 200, body
        return {s["name"]: s for s in json.loads(body)["sources"]}


def sample_value(metrics_text: str, name: str, **labels: str) -> float | None:
    """The value of the first sample of `name` whose labels include `labels`."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


@contextlib.contextmanager
def prometheus(scrape_targets: list[str], rule_files: list[Path] | None = None,
               alertmanager: str | None = None, scrape_interval: str = "1s",
               evaluation_interval: str = "1s") -> Iterator[str]:
    """A real Prometheus server (Debian package) scraping `targets`; yields its base URL."""
    binary = require_tool("prometheus")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="sitroom-prom-") as tmp:
        config: dict[str, Any] = {
            "global": {"scrape_interval": scrape_interval,
                       "evaluation_interval": evaluation_interval},
            "scrape_configs": [{"job_name": "sitroom",
                                "static_configs": [{"targets": scrape_targets}]}],
        }
        if rule_files:
            config["rule_files"] = [str(p) for p in rule_files]
        if alertmanager:
            config["alerting"] = {"alertmanagers": [{"static_configs": [
                {"targets": [alertmanager]}]}]}
        config_path = Path(tmp) / "prometheus.yml"
        config_path.write_text(json.dumps(config))
        args = [binary, f"--config.file={config_path}", f"--storage.tsdb.path={tmp}/data",
                f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle"]
        with ManagedProcess(args) as proc:
            try:
                wait_for_port(port)
                wait_until(lambda: http_get(f"http://127.0.0.1:{port}/-/ready")[0] == 200,
                           what="prometheus ready")
            except Exception:
                print(proc.output())
                raise
            yield f"http://127.0.0.1:{port}"


def prometheus_query(base_url: str, query: str) -> list[dict[str, Any]]:
    from urllib.parse import urlencode

    status, body = http_get(f"{base_url}/api/v1/query?{urlencode({'query': query})}")
    assert status == 200, body
    payload = json.loads(body)
    assert payload["status"] == "success", payload
    return list(payload["data"]["result"])


@contextlib.contextmanager
def alertmanager(webhook_url: str, group_wait: str = "0s") -> Iterator[str]:
    """A real Alertmanager (Debian package) sending every alert to `webhook_url`.

    Yields its base URL; give it to `prometheus(..., alertmanager=host:port)`. Clustering is
    off (`--cluster.listen-address=`) so parallel tests do not gossip with each other.
    """
    binary = require_tool("prometheus-alertmanager")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="sitroom-am-") as tmp:
        config = {
            "route": {"receiver": "test", "group_by": ["alertname"], "group_wait": group_wait,
                      "group_interval": "1s", "repeat_interval": "1h"},
            "receivers": [{"name": "test", "webhook_configs": [
                {"url": webhook_url, "send_resolved": True}]}],
        }
        config_path = Path(tmp) / "alertmanager.yml"
        config_path.write_text(json.dumps(config))
        args = [binary, f"--config.file={config_path}", f"--storage.path={tmp}/data",
                f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="]
        with ManagedProcess(args) as proc:
            try:
                wait_until(lambda: http_get(f"http://127.0.0.1:{port}/-/ready")[0] == 200,
                           what="alertmanager ready")
            except Exception:
                print(proc.output())
                raise
            yield f"http://127.0.0.1:{port}"
