"""A citizen and operators in a real Chromium against a real daemon and camera simulator.

The citizen registers the loopback camera simulator through the form (first with bad
input, seeing the errors beside the fields), and sees the status page; an operator logs
in, approves it from the queue (seeing the probe's frame, resolution and codec) and sees it
on the wall with a live colour frame; a viewer sees the queue without buttons and is
refused when posting an approval anyway; a form without its CSRF token is refused.
Every page visited is saved as a screenshot (to docs/screenshots/ with `make screenshots`).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.pages.config import ADMIN_TOKEN, PASSWORDS
from tests.pages.conftest import screenshot
from tests.support import DaemonProcess, http_get, wait_until

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TIMES = "\N{MULTIPLICATION SIGN}"  # how the pages write a resolution


def fill(driver: Any, values: dict[str, str]) -> None:
    for name, value in values.items():
        element = driver.find_element(By.ID, f"f-{name}")
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)


def error_of(driver: Any, name: str) -> str:
    return str(driver.find_element(By.ID, f"e-{name}").text)


def image_loaded(driver: Any, css: str) -> bool:
    return bool(driver.execute_script(
        "const i = document.querySelector(arguments[0]);"
        "return !!i && i.complete && i.naturalWidth > 0;", css))


def login(driver: Any, base: str, user: str, next_path: str = "/console") -> None:
    driver.get(f"{base}{next_path}")
    assert "/login" in driver.current_url  # sent to the login page first
    fill_login = {"username": user, "password": PASSWORDS[user]}
    for name, value in fill_login.items():
        driver.find_element(By.ID, name).send_keys(value)
    driver.find_element(By.CSS_SELECTOR, "form.narrow button[type=submit]").click()
    wait_until(lambda: driver.current_url.endswith(next_path), what=f"{user} logged in")


def post_in_page(driver: Any, path: str, body: str) -> int:
    """POST a form body from inside the page (same origin, the session cookie goes along)."""
    return int(driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {method: 'POST', body: arguments[1], redirect: 'manual',"
        " headers: {'Content-Type': 'application/x-www-form-urlencoded'}})"
        ".then(r => done(r.status), () => done(-1));", path, body))


def registration(daemon: DaemonProcess, name: str) -> dict[str, Any]:
    status, body = http_get(f"{daemon.url}/api/v1/cameras/{name}", headers=ADMIN)
    assert status == 200, body
    return dict(json.loads(body))


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_register_approve_watch(daemon: DaemonProcess, browser_factory: Any) -> None:
    base = daemon.url
    port = daemon.camera_port  # type: ignore[attr-defined]

    # -- a citizen, on a phone-sized window, in Bahasa Indonesia ----------------------------
    citizen = browser_factory(412, 915)
    citizen.get(f"{base}/")
    assert citizen.find_element(By.TAG_NAME, "html").get_attribute("lang") == "id"
    screenshot(citizen, "01-home-phone")
    # the map (tile server configured) puts the clicked point into the coordinate inputs
    the_map = citizen.find_element(By.CSS_SELECTOR, "div.map")
    assert the_map.is_displayed()
    the_map.click()  # its centre: the middle of the city's box
    lat = float(citizen.find_element(By.ID, "f-latitude").get_attribute("value"))
    lon = float(citizen.find_element(By.ID, "f-longitude").get_attribute("value"))
    assert -7.15 < lat < -6.90 and 110.25 < lon < 110.52, (lat, lon)
    assert citizen.find_elements(By.CSS_SELECTOR, "div.map .pin")

    fill(citizen, {"owner_name": "T", "latitude": "-7.5", "longitude": "banyak",
                   "stream_url": "ftp://127.0.0.1/x"})
    citizen.find_element(By.CSS_SELECTOR, "form.register button[type=submit]").click()
    assert "Minimal 2 karakter" in error_of(citizen, "owner_name")
    assert "Harus di dalam wilayah kota" in error_of(citizen, "latitude")
    assert "angka" in error_of(citizen, "longitude")
    assert "rtsp://" in error_of(citizen, "stream_url")
    assert "persetujuan" in error_of(citizen, "consent").lower()
    assert error_of(citizen, "district") and error_of(citizen, "address")
    # what was typed stays, and the input says it is invalid
    owner = citizen.find_element(By.ID, "f-owner_name")
    assert owner.get_attribute("value") == "T"
    assert owner.get_attribute("aria-invalid") == "true"
    screenshot(citizen, "02-form-errors-phone")

    # the same errors in English after the language switch
    citizen.find_element(By.CSS_SELECTOR, ".lang a[lang=en]").click()
    fill(citizen, {"owner_name": "T"})
    citizen.find_element(By.CSS_SELECTOR, "form.register button[type=submit]").click()
    assert "at least 2 characters" in error_of(citizen, "owner_name")
    citizen.find_element(By.CSS_SELECTOR, ".lang a[lang=id]").click()

    fill(citizen, {
        "owner_name": "Toko Sinar Jaya", "owner_type": "business",
        "contact_phone": "+62 812 3456 7890", "address": "Jl. Pemuda No. 10",
        "district": "Semarang Tengah", "location_name": "Depan Toko Sinar Jaya",
        "latitude": "-6.981", "longitude": "110.414",
        "stream_url": f"http://127.0.0.1:{port}/snapshot.jpg",
    })
    citizen.find_element(By.ID, "f-consent").click()
    citizen.find_element(By.CSS_SELECTOR, "form.register button[type=submit]").click()
    assert re.search(r"/status/[0-9a-f]{16}\?new=1$", citizen.current_url), citizen.current_url
    assert "pendaftaran diterima" in citizen.page_source

    def probed() -> bool:
        citizen.refresh()
        return "Menunggu persetujuan petugas" in citizen.find_element(By.ID, "status").text

    wait_until(probed, timeout=30, step=0.5, what="probe finished")
    screenshot(citizen, "03-status-phone")
    citizen.get(f"{base}/privasi")
    screenshot(citizen, "04-privacy-phone")

    # -- an operator approves it from the queue ---------------------------------------------
    operator = browser_factory()
    login(operator, base, "operator")
    item = operator.find_element(By.CSS_SELECTOR, ".queue-item")
    camera = item.find_element(By.CSS_SELECTOR, "code").text
    assert camera.startswith("reg-")
    assert f"768{TIMES}576" in item.text and "jpeg" in item.text  # the probe's resolution and codec
    wait_until(lambda: image_loaded(operator, ".queue-item img"), what="probe frame shown")
    screenshot(operator, "05-queue")
    operator.find_element(By.ID, f"reason-{camera}").send_keys("Menghadap jalan umum")
    operator.find_element(By.CSS_SELECTOR, "button[data-action=approve]").click()
    assert operator.current_url.endswith("/console?done=approve")
    row = registration(daemon, camera)
    assert row["status"] == "active"
    status, audit = http_get(f"{base}/api/v1/cameras/{camera}/audit", headers=ADMIN)
    last = json.loads(audit)["audit"][-1]
    assert (last["action"], last["actor"], last["detail"]) == (
        "approve", "operator", {"reason": "Menghadap jalan umum"})

    # ... and sees it on the wall with a live colour frame
    def on_wall() -> bool:
        operator.get(f"{base}/console/wall?district=Semarang+Tengah&status=live")
        css = f'article[data-camera="{camera}"] img'
        return bool(operator.find_elements(By.CSS_SELECTOR, css)) and image_loaded(operator, css)

    wait_until(on_wall, timeout=45, step=1, what="camera live on the wall")
    colour = operator.execute_script(
        "const i = document.querySelector(arguments[0]); const c = document.createElement"
        "('canvas'); c.width = i.naturalWidth; c.height = i.naturalHeight;"
        "const g = c.getContext('2d'); g.drawImage(i, 0, 0);"
        "const d = g.getImageData(0, 0, c.width, c.height).data; let s = 0;"
        "for (let k = 0; k < d.length; k += 4) { s += Math.abs(d[k] - d[k + 1]) +"
        " Math.abs(d[k + 1] - d[k + 2]); } return [c.width, s / (d.length / 4)];",
        f'article[data-camera="{camera}"] img')
    assert colour[0] == 768 and colour[1] > 2  # full width, and not grey (R=G=B)
    operator.get(f"{base}/console/cameras/{camera}")
    wait_until(lambda: image_loaded(operator, ".camera img"), what="camera page frame")
    assert f"768{TIMES}576" in operator.page_source
    screenshot(operator, "07-camera")

    def event_with_picture() -> bool:
        operator.get(f"{base}/console/events")
        return image_loaded(operator, "table img")

    wait_until(event_with_picture, timeout=30, step=1, what="an event with its picture")
    assert "suspicious_activity" in operator.page_source and "simpang-lima" in operator.page_source
    screenshot(operator, "08-events")
    operator.get(f"{base}/console/wall")  # both cameras, zones drawn on the configured one
    wait_until(lambda: image_loaded(operator, 'article[data-camera="simpang-lima"] img'),
               what="second camera on the wall")
    screenshot(operator, "06-wall")

    # -- a viewer may look but not approve ----------------------------------------------------
    viewer = browser_factory()
    viewer.get(f"{base}/login")
    screenshot(viewer, "09-login")
    login(viewer, base, "viewer")
    assert not viewer.find_elements(By.CSS_SELECTOR, "button[data-action]")
    token = viewer.find_element(By.CSS_SELECTOR, "form.logout input[name=csrf_token]")
    body = f"csrf_token={token.get_attribute('value')}&reason=x"
    assert post_in_page(viewer, f"/console/cameras/{camera}/suspend", body) == 403
    viewer.get(f"{base}/api/v1/cameras/{camera}/snapshot.jpg")  # images: cookie, no header
    assert viewer.execute_script("return document.images[0].naturalWidth") == 768
    assert registration(daemon, camera)["status"] == "active"

    # -- a form without its CSRF token is refused, even for an operator -------------------------
    operator.get(f"{base}/console")
    operator.execute_script(
        "document.querySelectorAll('input[name=csrf_token]').forEach(i => i.remove());")
    operator.find_element(By.CSS_SELECTOR, "button[data-action=suspend]").click()
    # the click navigates: read the page that answers, not the one being left (stale)
    wait_until(lambda: "CSRF" in operator.find_element(By.TAG_NAME, "body").text, timeout=15,
               what="the page refusing a form without its CSRF token")
    assert registration(daemon, camera)["status"] == "active"
    assert post_in_page(citizen, "/", "owner_name=x") == 403  # the public form too
