// sitroom pages: small progressive enhancements. Everything works without this file;
// it only refreshes camera pictures and offers a map to pick coordinates.
"use strict";

// <img data-refresh="5"> reloads every 5 s (the camera wall); paused while the tab is hidden.
function refreshImages() {
  document.querySelectorAll("img[data-refresh]").forEach(function (img) {
    var seconds = Math.max(2, parseInt(img.dataset.refresh, 10) || 5);
    var base = img.src.split("#")[0].replace(/([?&])t=\d+(&|$)/, "$1").replace(/[?&]$/, "");
    setInterval(function () {
      if (document.hidden) { return; }
      var next = new Image();
      var url = base + (base.indexOf("?") < 0 ? "?" : "&") + "t=" + Date.now();
      next.onload = function () { img.src = url; img.classList.remove("stale"); };
      next.onerror = function () { img.classList.add("stale"); };
      next.src = url;
    }, seconds * 1000);
  });
}

// <div class="map" data-tiles="https://.../{z}/{x}/{y}.png" data-lat-input=ID data-lon-input=ID>
// A slippy map with no library: tiles at one zoom, drag to pan, click to place the pin.
function tileX(lon, z) { return (lon + 180) / 360 * Math.pow(2, z) * 256; }
function tileY(lat, z) {
  var r = lat * Math.PI / 180;
  return (1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * Math.pow(2, z) * 256;
}
function lonOf(x, z) { return x / (Math.pow(2, z) * 256) * 360 - 180; }
function latOf(y, z) {
  var n = Math.PI - 2 * Math.PI * y / (Math.pow(2, z) * 256);
  return 180 / Math.PI * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n)));
}

function setupMap(map) {
  var lat = document.getElementById(map.dataset.latInput);
  var lon = document.getElementById(map.dataset.lonInput);
  var z = parseInt(map.dataset.zoom, 10) || 13;
  var cx = tileX(parseFloat(lon.value) || parseFloat(map.dataset.lon), z);
  var cy = tileY(parseFloat(lat.value) || parseFloat(map.dataset.lat), z);
  var pin = document.createElement("div");
  pin.className = "pin";
  var attribution = document.createElement("div");
  attribution.className = "attribution";
  attribution.textContent = map.dataset.attribution || "";
  function draw() {
    var w = map.clientWidth, h = map.clientHeight;
    map.querySelectorAll("img.tile-img").forEach(function (t) { t.remove(); });
    var left = cx - w / 2, top = cy - h / 2, max = Math.pow(2, z);
    for (var tx = Math.floor(left / 256); tx <= Math.floor((left + w) / 256); tx++) {
      for (var ty = Math.floor(top / 256); ty <= Math.floor((top + h) / 256); ty++) {
        if (ty < 0 || ty >= max) { continue; }
        var img = document.createElement("img");
        img.className = "tile-img";
        img.alt = "";
        // an unreachable tile server leaves a plain background, not broken-image icons
        img.onerror = function () { this.style.visibility = "hidden"; };
        img.src = map.dataset.tiles.replace("{z}", z).replace("{x}", ((tx % max) + max) % max)
          .replace("{y}", ty);
        img.style.left = (tx * 256 - left) + "px";
        img.style.top = (ty * 256 - top) + "px";
        map.insertBefore(img, pin);
      }
    }
    var plat = parseFloat(lat.value), plon = parseFloat(lon.value);
    pin.hidden = isNaN(plat) || isNaN(plon);
    if (!pin.hidden) {
      pin.style.left = (tileX(plon, z) - left) + "px";
      pin.style.top = (tileY(plat, z) - top) + "px";
    }
  }
  map.appendChild(pin);
  map.appendChild(attribution);
  var drag = null, moved = false;
  map.addEventListener("pointerdown", function (e) { drag = [e.clientX, e.clientY]; moved = false; });
  map.addEventListener("pointermove", function (e) {
    if (!drag) { return; }
    var dx = e.clientX - drag[0], dy = e.clientY - drag[1];
    if (Math.abs(dx) + Math.abs(dy) > 3) { moved = true; }
    cx -= dx; cy -= dy; drag = [e.clientX, e.clientY];
    if (moved) { draw(); }
  });
  map.addEventListener("pointerup", function (e) {
    drag = null;
    if (moved) { return; }
    var box = map.getBoundingClientRect();
    var x = cx - map.clientWidth / 2 + (e.clientX - box.left);
    var y = cy - map.clientHeight / 2 + (e.clientY - box.top);
    lat.value = latOf(y, z).toFixed(6);
    lon.value = lonOf(x, z).toFixed(6);
    draw();
  });
  [lat, lon].forEach(function (input) { input.addEventListener("change", draw); });
  map.hidden = false;
  draw();
}

// <button id="use-location" data-lat-input=ID data-lon-input=ID hidden>: shown where the
// browser can locate the phone (HTTPS); fills the coordinates, the person still checks them.
function setupLocate(button) {
  if (!button || !navigator.geolocation || !window.isSecureContext) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (position) {
      var lat = document.getElementById(button.dataset.latInput);
      var lon = document.getElementById(button.dataset.lonInput);
      lat.value = position.coords.latitude.toFixed(6);
      lon.value = position.coords.longitude.toFixed(6);
      lat.dispatchEvent(new Event("change"));
    });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  refreshImages();
  setupLocate(document.getElementById("use-location"));
  document.querySelectorAll("div.map[data-tiles]").forEach(setupMap);
});
