"""Fixtures: the daemon with users, the registry and a camera simulator; a real Chromium.

Chromium is Debian's (`chromium`, `chromium-driver`), driven through Selenium: nothing is
downloaded. Each browser gets a fresh profile and is kept off the network (no background
requests, no updates, no QUIC); it only ever opens the daemon on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pages.config import write_config
from tests.support import DaemonProcess, free_port, sample_value, wait_until

# `make screenshots` points this at docs/screenshots; a plain test run leaves the tree alone
SCREENSHOTS = Path(os.environ.get("SITROOM_SCREENSHOTS_DIR")
                   or Path(tempfile.gettempdir()) / "sitroom-screenshots")
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TILES = "https://127.0.0.1:9/{z}/{x}/{y}.png"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[DaemonProcess]:
    port = free_port()
    # tiles from a loopback port nobody serves: the map must work (pick a point) even when
    # its tiles fail, and the browser never leaves 127.0.0.1
    config = write_config(tmp_path / "conf", port, tile_url=TILES)
    with DaemonProcess(config) as running:
        running.camera_port = port  # type: ignore[attr-defined]
        running.wait_ready()
        wait_until(
            lambda: sample_value(running.metrics(), "sitroom_source_up",
                                 kind="camera_registry") == 1,
            what="registry up",
        )
        yield running


@pytest.fixture
def browser_factory() -> Iterator[object]:
    """`new()` opens a Chromium with its own fresh profile; all are closed at the end."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    for tool in (CHROMIUM, CHROMEDRIVER):
        if not Path(tool).exists():
            pytest.fail(f"{tool} is missing: `make deps` installs chromium and chromium-driver")
    opened = []
    profiles = []

    def new(width: int = 1280, height: int = 900) -> webdriver.Chrome:
        profile = tempfile.mkdtemp(prefix="sitroom-chromium-")
        profiles.append(profile)
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--window-size={width},{height}")
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(30)
        opened.append(driver)
        return driver

    yield new
    for driver in opened:
        driver.quit()
    for profile in profiles:
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver: object, name: str) -> None:
    """The whole page as NAME.png in SCREENSHOTS (docs/screenshots with `make screenshots`:
    the README links them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = driver.get_window_size()["width"]  # type: ignore[attr-defined]
    driver.set_window_size(width, 600)  # type: ignore[attr-defined]  # measure from short
    height = driver.execute_script("return document.documentElement.scrollHeight")  # type: ignore[attr-defined]
    driver.set_window_size(width, min(int(height) + 100, 4000))  # type: ignore[attr-defined]
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))  # type: ignore[attr-defined]
