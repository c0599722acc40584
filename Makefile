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
# What the format round-trip tests load our files with (tests/py/test_formats.py).
TEST_PIP_PACKAGES ?= jsonschema gprof2dot snakeviz

.PHONY: all deps demo test ctest ctest-san pytest-all sanitize venv-% clean lint format help bench-writers bench-threadnames
all: ctest

help:
	@echo "make demo      set up a virtualenv, install spyglass, profile examples/demo.py"
	@echo "make test      C unit tests, then pytest on every CPython 3.9-3.13 (PYTHONS=...)"
	@echo "make sanitize  C unit tests and pytest under ASan+UBSan"

$(BUILD)/ctest/%: tests/c/%.c $(CORE_SRC) $(CORE_HDR) tests/c/sg_test.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS) $(EXTRA_CFLAGS) -o $@ $< $(CORE_SRC) -lz

ctest: $(CTEST_BIN)
	@set -e; export SG_TEST_PYTHONS="$$(echo $(PYTHONS) | tr ' ' ':')"; \
	for t in $(CTEST_BIN); do echo "== $$t"; $$t; done

ctest-san:
	$(MAKE) ctest BUILD=build/san CFLAGS="-O1" EXTRA_CFLAGS="$(SAN_FLAGS)"

# A virtualenv per interpreter with pytest and spyglass installed from this tree.
$(BUILD)/venv/%/.installed: $(CORE_SRC) $(CORE_HDR) $(wildcard src/ext/*) $(wildcard python/spyglass/*.py) setup.py pyproject.toml Makefile
	@py=$$(for p in $(PYTHONS); do case "$$p" in *python$*) echo $$p;; esac; done); \
	if [ -z "$$py" ]; then py=python$*; fi; \
	echo "== building spyglass for $$py"; \
	rm -rf $(BUILD)/venv/$*; \
	$$py -m venv $(BUILD)/venv/$* && \
	$(BUILD)/venv/$*/bin/python -m pip install -q --disable-pip-version-check --upgrade pip setuptools wheel && \
	$(BUILD)/venv/$*/bin/python -m pip install -q --disable-pip-version-check pytest $(TEST_PIP_PACKAGES) && \
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

# Writer benchmark (bench/write_bench.c): every format of the writer table on a synthetic
# 10-million-sample profile; time and peak memory per format. Not part of `make test`.
$(BUILD)/bench/write_bench: bench/write_bench.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -O2 -o $@ $< $(CORE_SRC) -lz

bench-writers: $(BUILD)/bench/write_bench
	$(BUILD)/bench/write_bench $(BENCH_ARGS)

# Thread names (names branch): what a refresh of the name cache costs on a live target
# with 20 named threads (bench/threadnames_bench.c), and the sampler's CPU at 1 kHz with
# and without names (bench/threadnames_overhead.py; BASE_PYTHON: a virtualenv's python
# with a spyglass built without thread names). Not part of `make test`.
BENCH_PY ?= $(lastword $(PYTHONS))
$(BUILD)/bench/threadnames_bench: bench/threadnames_bench.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -O2 -o $@ $< $(CORE_SRC) -lz

bench-threadnames: $(BUILD)/bench/threadnames_bench
	@$(BENCH_PY) bench/workloads/named_threads.py 30 & pid=$$!; sleep 3; \
	$(BUILD)/bench/threadnames_bench $$pid $(BENCH_ARGS); kill $$pid; wait $$pid 2>/dev/null; \
	v=$$(basename $(BENCH_PY) | sed 's/^python//'); \
	if [ -n "$(BASE_PYTHON)" ]; then $(MAKE) --no-print-directory $(BUILD)/venv/$$v/.installed && \
	$(BUILD)/venv/$$v/bin/python bench/threadnames_overhead.py --with $(BUILD)/venv/$$v/bin/python \
		--without $(BASE_PYTHON); fi

clean:
	rm -rf build dist *.egg-info python/*.egg-info
