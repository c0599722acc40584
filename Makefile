# spyglass: `make demo` and `make test` are the two entry points (see README.md).
SHELL := /bin/bash
CC ?= gcc
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -g
CFLAGS ?= -O2
BUILD ?= build
CORE_SRC := $(shell find src/core -name '*.c' | sort)
CORE_HDR := $(shell find src/core -name '*.h' | sort)
CTEST_SRC := $(sort $(wildcard tests/c/test_*.c))
CTEST_BIN := $(patsubst tests/c/%.c,$(BUILD)/ctest/%,$(CTEST_SRC))
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# Every CPython 3.9-3.13 installed with pyenv (newest patch of each minor), or PYTHONS=...
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
PYTHONS ?= $(shell for v in 3.9 3.10 3.11 3.12 3.13; do \
	p=$$(ls -d $(PYENV_ROOT)/versions/$$v.* 2>/dev/null | grep -E '/[0-9]+\.[0-9]+\.[0-9]+$$' | sort -V | tail -1); \
	[ -n "$$p" ] && [ -x "$$p/bin/python$$v" ] && echo "$$p/bin/python$$v"; done)
DEMO_PYTHON ?= $(lastword $(PYTHONS))
PYTEST_ARGS ?=

.PHONY: all deps demo test ctest ctest-san pytest-all sanitize venv-% clean lint format help
all: ctest

help:
	@echo "make demo      set up a virtualenv, install spyglass, profile examples/demo.py"
	@echo "make test      C unit tests, then pytest on every CPython 3.9-3.13 (PYTHONS=...)"
	@echo "make sanitize  C unit tests and pytest under ASan+UBSan"

$(BUILD)/ctest/%: tests/c/%.c $(CORE_SRC) $(CORE_HDR) tests/c/sg_test.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS) $(EXTRA_CFLAGS) -o $@ $< $(CORE_SRC) -lz -lm

ctest: $(CTEST_BIN)
	@set -e; export SG_TEST_PYTHONS="$$(echo $(PYTHONS) | tr ' ' ':')"; \
	for t in $(CTEST_BIN); do echo "== $$t"; $$t; done

ctest-san:
	$(MAKE) ctest BUILD=build/san CFLAGS="-O1" EXTRA_CFLAGS="$(SAN_FLAGS)"

# A virtualenv per interpreter with pytest and spyglass installed from this tree.
$(BUILD)/venv/%/.installed: $(CORE_SRC) $(CORE_HDR) $(wildcard src/ext/*) $(wildcard python/spyglass/*.py) setup.py pyproject.toml
	@py=$$(for p in $(PYTHONS); do case "$$p" in *python$*) echo $$p;; esac; done); \
	if [ -z "$$py" ]; then py=python$*; fi; \
	echo "== building spyglass for $$py"; \
	rm -rf $(BUILD)/venv/$*; \
	$$py -m venv $(BUILD)/venv/$* && \
	$(BUILD)/venv/$*/bin/python -m pip install -q --disable-pip-version-check --upgrade pip setuptools wheel && \
	$(BUILD)/venv/$*/bin/python -m pip install -q --disable-pip-version-check pytest && \
	SPYGLASS_STRICT=1 $(BUILD)/venv/$*/bin/python -m pip install -q --disable-pip-version-check --no-build-isolation . && \
	touch $@

pytest-all:
	@set -u; failed=""; \
	if [ -z "$(PYTHONS)" ]; then echo "no CPython 3.9-3.13 found under $(PYENV_ROOT)"; exit 1; fi; \
	for py in $(PYTHONS); do \
		v=$$(basename $$py | sed 's/^python//'); \
		if ! $(MAKE) --no-print-directory $(BUILD)/venv/$$v/.installed; then failed="$$failed $$v(build)"; continue; fi; \
		echo "== pytest on Python $$v"; \
		(cd tests/py && ../../$(BUILD)/venv/$$v/bin/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)) || failed="$$failed $$v"; \
	done; \
	if [ -n "$$failed" ]; then echo "FAILED on:$$failed"; exit 1; fi; \
	echo "pytest passed on: $(PYTHONS)"

# Debian packages the tests need (tools/apt-packages.txt).
deps:
	@tools/install-deps.sh

test: deps ctest pytest-all

demo: $(BUILD)/venv/$(notdir $(subst python,,$(DEMO_PYTHON)))/.installed
	@v=$(notdir $(subst python,,$(DEMO_PYTHON))); \
	echo "== spyglass run examples/demo.py (Python $$v)"; \
	$(BUILD)/venv/$$v/bin/spyglass run examples/demo.py

# ASan+UBSan: the C tests, then the pytest suite against an instrumented extension
# (the interpreter is not instrumented, so the runtime is preloaded; CPython's own
# allocations at exit are not ours to report, hence detect_leaks=0 for that part).
SAN_PY ?= $(lastword $(PYTHONS))
sanitize: ctest-san
	@v=$$(basename $(SAN_PY) | sed 's/^python//'); venv=$(BUILD)/venv-san/$$v; \
	rm -rf $$venv && $(SAN_PY) -m venv $$venv && \
	$$venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip setuptools wheel pytest && \
	SPYGLASS_STRICT=1 SPYGLASS_SANITIZE=1 $$venv/bin/python -m pip install -q --disable-pip-version-check --no-build-isolation . && \
	cd tests/py && LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	SPYGLASS_SANITIZED=1 ../../$$venv/bin/python -m pytest -q -p no:cacheprovider -x $(PYTEST_ARGS)

clean:
	rm -rf build dist *.egg-info python/*.egg-info

# diff renderers: the script and style sheets of the HTML/SVG diff live in
# src/core/write/assets/ and are embedded as C strings in src/core/write/diff_assets.c.
.PHONY: diff-assets
diff-assets:
	python3 tools/embed_assets.py
