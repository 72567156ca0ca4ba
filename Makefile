# Two commands do everything on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
DEBIAN_PACKAGES := espeak-ng libespeak-ng1 htsengine sox libsndfile1 fonts-dejavu-core
# The browser libraries the studio serves itself (scripts/vendor-web); remade when the lock file changes.
VENDOR_STAMP := src/voicestudio/web/static/vendor/versions.json
# The browser tests drive Debian's chromium (playwright never downloads one); the font draws kana in
# their screenshots.
TEST_DEBIAN_PACKAGES := chromium fonts-ipafont-gothic
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-test system-packages test-system-packages run test lint typecheck bench clean

system-packages:
	@./scripts/ensure-debian-packages $(DEBIAN_PACKAGES)
	@command -v npm >/dev/null || ./scripts/ensure-debian-packages npm  # a Node.js of its own is fine too

test-system-packages: system-packages
	@./scripts/ensure-debian-packages $(TEST_DEBIAN_PACKAGES)

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -q torch==2.13.0  # the local CPU build, before anything can ask for a CUDA one
	$(PIP) install -q -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(STAMP)
	$(PIP) install -q -e '.[test,dev]'
	touch $@

$(VENDOR_STAMP): web/package-lock.json scripts/vendor-web | $(STAMP)
	./scripts/vendor-web

install: system-packages $(STAMP) $(VENDOR_STAMP)

install-test: test-system-packages $(TEST_STAMP) $(VENDOR_STAMP)

run: install
	$(VENV)/bin/voicestudio doctor
	$(VENV)/bin/voicestudio serve --host $(HOST) --port $(PORT)

lint: install-test
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

typecheck: install-test
	$(VENV)/bin/mypy src

test: lint typecheck
	$(VENV)/bin/pytest -q

bench: install-test
	@for b in $(filter-out bench/machine.py bench/cluster.py bench/neural_gpu.py,$(wildcard bench/*.py)); do \
		echo "== $$b"; $(PY) $$b || exit 1; \
	done  # machine.py and cluster.py are shared code; neural_gpu.py runs in two halves on a GPU host (see its docstring)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
