"""A SIGKILLed demo must not leave its Mosquitto behind (issue 16: the orphan kept the port,
so the next demo start fell back to HTTP ingest)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.support import free_port, require_tool

pytestmark = pytest.mark.integration

PARENT = textwrap.dedent("""
    import asyncio, sys
    from pathlib import Path
    from sitroom_flood.simulator import broker

    async def main():
        port, directory = int(sys.argv[1]), Path(sys.argv[2])
        if sys.argv[4] == "prctl":  # the fallback for machines without util-linux setpriv
            broker.shutil.which = lambda name: None
        conf = broker.write_config(directory, port)
        process = await broker.start(sys.argv[3], conf, port)
        print(process.pid, flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
""")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    return state != "Z"


@pytest.mark.parametrize("how", ["setpriv", "prctl"])
def test_the_broker_dies_with_a_sigkilled_parent(tmp_path: Path, how: str) -> None:
    binary = require_tool("mosquitto")
    port = free_port()
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(port), str(tmp_path), binary,
                               how],
                              stdout=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline() if parent.stdout else ""
        assert line.strip().isdigit(), "the parent did not start its broker"
        broker_pid = int(line)
        assert alive(broker_pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while alive(broker_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(broker_pid), "mosquitto outlived its SIGKILLed parent"
    finally:
        parent.kill()
        parent.wait(10)
        if "broker_pid" in locals() and alive(broker_pid):
            os.kill(broker_pid, signal.SIGKILL)
