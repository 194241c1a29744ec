"""`sitroom grafana push` against a strict local stand-in for Grafana's HTTP API.

No Grafana server can be installed on this machine (no Debian package, no downloads), so
tests/grafana/grafana_api.py implements the documented endpoints the command uses and
rejects anything Grafana would reject. The CLI runs as a real subprocess.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from aiohttp import web

from tests.grafana.grafana_api import FakeGrafana
from tests.support import REPO

TOKEN = "glsa_sitroomTestToken_0123456789abcdef"


@pytest.fixture
async def grafana():
    fake = FakeGrafana(token=TOKEN)
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.url = f"http://127.0.0.1:{port}"
    yield fake
    await runner.cleanup()


async def push(url: str, token_file: Path, *extra: str) -> tuple[int, str, str]:
    """The command in this process (fast); `push_cli` runs the real `sitroom` CLI."""
    import argparse
    import contextlib
    import io

    from sitroom.grafana_push import add_parser

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["grafana", "push", "--url", url, "--token-file", str(token_file),
                              "--dashboards", str(REPO / "grafana" / "dashboards"), *extra])
    out, err = io.StringIO(), io.StringIO()

    def run() -> int:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return int(args.func(args))

    code = await asyncio.to_thread(run)
    return code, out.getvalue(), err.getvalue()


async def push_cli(url: str, token_file: Path, *extra: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sitroom.cli", "grafana", "push", "--url", url,
        "--token-file", str(token_file), *extra, cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return path


def shipped() -> dict[str, dict]:
    return {json.loads(p.read_text())["uid"]: json.loads(p.read_text())
            for p in (REPO / "grafana" / "dashboards").glob("*.json")}


async def test_push_creates_folder_and_every_dashboard_then_is_idempotent(grafana, token_file):
    code, out, err = await push_cli(grafana.url, token_file)
    assert code == 0, err
    assert grafana.folders == {"sitroom": "Situation Room"}
    boards = shipped()
    assert set(grafana.dashboards) == set(boards)
    for uid, board in boards.items():
        stored = grafana.dashboards[uid]
        assert stored["folderUid"] == "sitroom"
        assert stored["dashboard"]["panels"] == board["panels"]
    saves = [b for b in grafana.bodies if "dashboard" in b]
    assert all(b["overwrite"] is True and b["folderUid"] == "sitroom" for b in saves)
    assert f"{len(boards)} changed" in out
    assert TOKEN not in out + err

    grafana.requests.clear()
    code, out, err = await push(grafana.url, token_file)
    assert code == 0, err
    assert ("POST", "/api/dashboards/db") not in grafana.requests
    assert ("POST", "/api/folders") not in grafana.requests
    assert "0 changed" in out
    assert {v["dashboard"]["version"] for v in grafana.dashboards.values()} == {1}


async def test_push_updates_only_the_changed_dashboard(grafana, token_file, tmp_path):
    folder = tmp_path / "boards"
    folder.mkdir()
    for path in (REPO / "grafana" / "dashboards").glob("*.json"):
        (folder / path.name).write_text(path.read_text())
    assert (await push(grafana.url, token_file, "--dashboards", str(folder)))[0] == 0
    first = sorted(folder.glob("*.json"))[0]
    board = json.loads(first.read_text())
    board["title"] += " (edited)"
    first.write_text(json.dumps(board))
    code, out, err = await push(grafana.url, token_file, "--dashboards", str(folder))
    assert code == 0, err
    assert f"{board['uid']}: updated" in out
    assert "1 changed" in out
    assert grafana.dashboards[board["uid"]]["dashboard"]["version"] == 2


async def test_wrong_token_fails_clearly_without_echoing_it(grafana, tmp_path):
    bad = tmp_path / "bad-token"
    bad.write_text("glsa_wrong_secret_value\n")
    code, out, err = await push(grafana.url, bad)
    assert code == 1
    assert "Unauthorized" in err
    assert "glsa_wrong_secret_value" not in out + err
    assert grafana.dashboards == {}


async def test_malformed_dashboard_uploads_nothing(grafana, token_file, tmp_path):
    folder = tmp_path / "boards"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps({"uid": "a", "title": "A", "panels": []}))
    (folder / "b.json").write_text("{not json")
    code, _, err = await push(grafana.url, token_file, "--dashboards", str(folder))
    assert code == 2
    assert "b.json: not valid JSON" in err
    assert grafana.requests == []
    (folder / "b.json").write_text(json.dumps({"title": "no uid"}))
    code, _, err = await push(grafana.url, token_file, "--dashboards", str(folder))
    assert code == 2 and "needs a string uid" in err


async def test_bad_token_file_is_refused_before_any_request(grafana, tmp_path):
    path = tmp_path / "token"
    for content in ("\n", "two\nlines\n"):
        path.write_text(content)
        code, _, err = await push(grafana.url, path)
        assert code == 2 and "must hold exactly one non-empty line" in err
    code, _, err = await push(grafana.url, tmp_path / "absent")
    assert code == 2 and "cannot read token file" in err
    assert grafana.requests == []


async def test_bad_url_is_refused(token_file):
    code, _, err = await push("ftp://127.0.0.1/", token_file)
    assert code == 2 and "--url must start with http" in err


def test_unreachable_grafana_is_a_clear_error_not_a_traceback(tmp_path):
    """A refused connection (nothing listens on the port) ends in one line, exit 1."""
    import socket
    import subprocess
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = tmp_path / "token"
    token.write_text("glsa_unreachable_test_token\n")
    result = subprocess.run(
        [sys.executable, "-m", "sitroom.cli", "grafana", "push",
         "--url", f"http://127.0.0.1:{port}", "--token-file", str(token)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr
    assert "glsa_unreachable_test_token" not in result.stderr + result.stdout
