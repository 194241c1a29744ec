"""A throwaway Mosquitto on a loopback port: for the demo simulator, tests and the bench.

One place writes the broker config so every user of a private broker gets the same safe
defaults: loopback listener only, anonymous access (it is loopback), and persistence either
off or inside the caller's temporary directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import pwd
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path

DEFAULT_BINARY = "/usr/sbin/mosquitto"
PR_SET_PDEATHSIG = 1


def find_mosquitto(configured: str | None = None) -> str | None:
    """The broker binary, or None when this machine has none (then use HTTP ingest)."""
    for candidate in (configured, shutil.which("mosquitto"), DEFAULT_BINARY):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def write_config(directory: Path, port: int, persistence: bool = False) -> Path:
    """Write `mosquitto.conf` into `directory` (which also holds the persistence db)."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        f"listener {port} 127.0.0.1",
        "allow_anonymous true",
        "log_dest stdout",
        "log_type error",
        "log_type warning",
        "log_type notice",
        f"persistence {'true' if persistence else 'false'}",
        "max_queued_messages 100000",
        # started as root, mosquitto would switch to user `mosquitto`, which cannot write
        # the caller's temporary directory: stay the user who started it
        f"user {pwd.getpwuid(os.getuid()).pw_name}",
    ]
    if persistence:
        lines += [f"persistence_location {directory}/", "autosave_interval 1"]
    path = directory / "mosquitto.conf"
    path.write_text("\n".join(lines) + "\n")
    return path


async def wait_listening(port: int, within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if loop.time() > deadline:
                raise TimeoutError(f"mosquitto did not listen on 127.0.0.1:{port}") from None
            await asyncio.sleep(0.05)
        else:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            return


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM me when my parent dies, however it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def tied_to_parent(argv: list[str]) -> tuple[list[str], Callable[[], None] | None]:
    """`argv` made to die with this process (Linux PR_SET_PDEATHSIG), so a SIGKILLed
    daemon leaves no broker holding the port that its next start needs.

    util-linux `setpriv --pdeathsig` sets it in the exec'd process without running Python
    between fork and exec (unsafe in a threaded daemon); without setpriv, a ctypes prctl in
    `preexec_fn` does the same.
    """
    if not sys.platform.startswith("linux"):
        return argv, None
    setpriv = shutil.which("setpriv")
    if setpriv:
        return [setpriv, "--pdeathsig", "TERM", "--", *argv], None
    return argv, _die_with_parent


async def start(binary: str, config: Path, port: int) -> asyncio.subprocess.Process:
    """Start the broker and return once it accepts connections."""
    argv, preexec = tied_to_parent([binary, "-c", str(config)])
    process = await asyncio.create_subprocess_exec(
        *argv, preexec_fn=preexec,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await wait_listening(port)
    except TimeoutError:
        await stop(process)
        raise
    if process.returncode is not None:
        raise RuntimeError(f"mosquitto exited with {process.returncode} (port {port} taken?)")
    return process


async def stop(process: asyncio.subprocess.Process, grace: float = 5.0) -> None:
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
