# Nidaa: `make test` sets up a fresh Debian / Raspberry Pi OS machine and runs
# the whole suite; `make demo` runs a virtual branch.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# OS packages the suite and the appliance need: the broker and its clients,
# systemd-analyze (unit file checks) and openssl (broker certificates), the
# Arabic shaping stack for Pillow (RAQM, FriBiDi, HarfBuzz) and a font,
# libusb for USB ticket printers (pyusb loads it at run time), Pango for
# WeasyPrint (the day report's PDF) and poppler-utils (pdftotext, pdftoppm:
# the tests read the PDF's text back), etcd (the standby master's three-member
# cluster), PostgreSQL (the central store of many branches) and Chromium (the
# central dashboard is tested in a real browser, driven through its
# chromedriver).  The tests start private
# instances of each on free ports in temporary folders.
APT_PACKAGES := mosquitto mosquitto-clients systemd openssl libraqm0 libfribidi0 libharfbuzz0b fonts-noto-core libusb-1.0-0 \
	libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils \
	etcd-server etcd-client postgresql chromium chromium-driver
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-deps test lint demo bench clean

setup: system-deps $(VENV)/.installed

system-deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make: installing OS packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: setup.py pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

demo: setup
	$(BIN)/nidaa demo

bench: setup
	$(BIN)/nidaa bench --json

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
