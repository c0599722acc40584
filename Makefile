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

# Every CPython the tests can get, oldest first, or PYTHONS=...: 3.9-3.13 installed with pyenv
# (newest patch of each minor), 3.14 and 3.15 from Debian's archive (`make pythons`, under
# $(DEBIAN_PY)/usr/bin; it also holds their debug (python3.Xd) and non-PIE builds).
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
PYENV_MINORS := 3.9 3.10 3.11 3.12 3.13
DEBIAN_MINORS := 3.14 3.15
DEBIAN_PY := $(CURDIR)/$(BUILD)/debian-python
PYTHONS ?= $(shell for v in $(PYENV_MINORS); do \
	p=$$(ls -d $(PYENV_ROOT)/versions/$$v.* 2>/dev/null | grep -E '/[0-9]+\.[0-9]+\.[0-9]+$$' | sort -V | tail -1); \
	[ -n "$$p" ] && [ -x "$$p/bin/python$$v" ] && echo "$$p/bin/python$$v"; done; \
	for v in $(DEBIAN_MINORS); do [ -x $(DEBIAN_PY)/usr/bin/python$$v ] && echo $(DEBIAN_PY)/usr/bin/python$$v; done)
DEMO_PYTHON ?= $(lastword $(PYTHONS))
PYTEST_ARGS ?=
# What the format round-trip tests load our files with (tests/py/test_formats.py).
TEST_PIP_PACKAGES ?= jsonschema gprof2dot snakeviz

.PHONY: all deps pythons test-all demo test ctest ctest-san pytest-all sanitize venv-% clean lint format help bench-writers bench-threadnames \
	fuzz fuzz-smoke fuzz-replay fuzz-build sampler-driver valgrind lsan-sampler torture-long bench-tick \
	bench-wake torture-matrix
all: ctest

help:
	@echo "make demo      set up a virtualenv, install spyglass, profile examples/demo.py"
	@echo "make test      C unit tests, then pytest on every CPython 3.9-3.15 (PYTHONS=...)"
	@echo "make pythons   CPython 3.14 and 3.15 from Debian's archive, under $(BUILD)/debian-python"
	@echo "make sanitize  C unit tests and pytest under ASan+UBSan; sampler under LSan and valgrind"
	@echo "make fuzz      every fuzz target for FUZZ_SECONDS (default 300) each"
	@echo "make torture-long  10 minutes at 10 kHz, reports the sampler's memory growth"
	@echo "make torture-matrix  the torture tests on every Python, error rates as one table"
	@echo "make bench     spyglass vs py-spy, austin, pyinstrument, Tachyon, cProfile... (PY=3.15; bench-quick, bench-all)"

# The core is compiled once (objects under $(BUILD)/ctest/obj) and linked into every test.
CORE_OBJ := $(patsubst src/core/%.c,$(BUILD)/ctest/obj/%.o,$(CORE_SRC))
$(BUILD)/ctest/%: tests/c/%.c $(CORE_OBJ) $(CORE_HDR) $(wildcard tests/c/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS) $(EXTRA_CFLAGS) -o $@ $< $(CORE_OBJ) -lz -lm

# The live tests also read Debian's debug and non-PIE builds of 3.14/3.15 when present.
DEBIAN_VARIANTS = $(wildcard $(foreach v,$(DEBIAN_MINORS),$(DEBIAN_PY)/usr/bin/python$(v)d $(DEBIAN_PY)/usr/bin/python$(v)-nopie))
ctest: $(CTEST_BIN) fuzz-replay
	@set -e; export SG_TEST_PYTHONS="$$(echo $(PYTHONS) $(DEBIAN_VARIANTS) | tr ' ' ':')"; \
	for t in $(CTEST_BIN); do echo "== $$t"; $$t; done

ctest-san:
	$(MAKE) ctest BUILD=build/san CFLAGS="-O1" EXTRA_CFLAGS="$(SAN_FLAGS)"

# A virtualenv per interpreter with pytest and spyglass installed from this tree.
$(BUILD)/venv/%/.installed: $(CORE_SRC) $(CORE_HDR) $(wildcard src/ext/*) $(wildcard python/spyglass/*.py) setup.py pyproject.toml Makefile
	@py=$$(for p in $(PYTHONS); do case "$$p" in *python$*) echo $$p;; esac; done); \
	if [ -z "$$py" ]; then py=python$*; fi; \
	echo "== building spyglass for $$py"; \
	rm -rf $(BUILD)/venv/$*; \
	tools/make-venv.sh $$py $(BUILD)/venv/$* && \
	$(BUILD)/venv/$*/bin/python -m pip install -q --disable-pip-version-check --upgrade pip setuptools wheel && \
	$(BUILD)/venv/$*/bin/python -m pip install -q --disable-pip-version-check pytest pytest-xdist ipython $(TEST_PIP_PACKAGES) && \
	SPYGLASS_STRICT=1 $(BUILD)/venv/$*/bin/python -m pip install -q --disable-pip-version-check --no-build-isolation . && \
	touch $@

pytest-all:
	@set -u; failed=""; \
	if [ -z "$(PYTHONS)" ]; then echo "no CPython 3.9-3.15 found (pyenv: $(PYENV_ROOT); make pythons)"; exit 1; fi; \
	for v in $(PYENV_MINORS) $(DEBIAN_MINORS); do case " $(PYTHONS) " in *python$$v\ *) ;; *) echo "== skipped: no Python $$v";; esac; done; \
	for py in $(PYTHONS); do \
		v=$$(basename $$py | sed 's/^python//'); \
		if ! $(MAKE) --no-print-directory $(BUILD)/venv/$$v/.installed; then failed="$$failed $$v(build)"; continue; fi; \
		echo "== pytest on Python $$v"; \
		(cd tests/py && SG_TEST_PYTHONS="$(PYTHONS)" \
			$(CURDIR)/$(BUILD)/venv/$$v/bin/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)) || failed="$$failed $$v"; \
	done; \
	if [ -n "$$failed" ]; then echo "FAILED on:$$failed"; exit 1; fi; \
	echo "pytest passed on: $(PYTHONS)"

# Debian packages the tests need (tools/apt-packages.txt).
deps:
	@tools/install-deps.sh

# CPython 3.14 and 3.15 from Debian's archive, unpacked under build/ without touching the
# system (tools/get-debian-pythons.sh). Without network, the tests run on the other Pythons.
pythons: deps
	@tools/get-debian-pythons.sh $(DEBIAN_PY) $(DEBIAN_MINORS) || \
	{ rc=$$?; [ $$rc -eq 3 ] && echo "== Python $(DEBIAN_MINORS) skipped: Debian's archive is not reachable"; [ $$rc -eq 3 ]; }

# PYTHONS is read again by the inner make, once `pythons` has put 3.14/3.15 in place.
test: deps pythons
	@$(MAKE) --no-print-directory test-all

test-all: ctest fuzz-smoke pytest-all test-browser

# ---- the browser formats (flamegraph, html) in headless Chromium ----
# One interpreter is enough: the writers are C and do not depend on the Python version.
# tests/browser/cdp.py drives /usr/bin/chromium (tools/apt-packages.txt) over a pipe.
BROWSER_PYTHON ?= $(lastword $(PYTHONS))
BROWSER_PYV = $(patsubst python%,%,$(notdir $(BROWSER_PYTHON)))
.PHONY: test-browser bench-visual assets
$(BUILD)/browser/gen_profiles: tests/browser/gen_profiles.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS) -o $@ $< $(CORE_SRC) -lz -lm

# The speedscope app itself (npm package `speedscope`, pinned with its dependencies in
# tests/browser/package*.json): tests/browser/test_speedscope.py loads our files in it.
SPEEDSCOPE_DIR := $(BUILD)/browser/npm
$(SPEEDSCOPE_DIR)/.installed: tests/browser/package.json tests/browser/package-lock.json
	@command -v npm >/dev/null || { echo "spyglass: error: npm not found: install Node.js with npm (the speedscope browser test needs it)" >&2; exit 1; }
	@rm -rf $(SPEEDSCOPE_DIR) && mkdir -p $(SPEEDSCOPE_DIR)
	cp tests/browser/package.json tests/browser/package-lock.json $(SPEEDSCOPE_DIR)/
	cd $(SPEEDSCOPE_DIR) && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

test-browser: $(BUILD)/browser/gen_profiles $(SPEEDSCOPE_DIR)/.installed
	@$(MAKE) --no-print-directory $(BUILD)/venv/$(BROWSER_PYV)/.installed
	@rm -rf $(BUILD)/browser/models && mkdir -p $(BUILD)/browser/models
	@$(BUILD)/browser/gen_profiles models $(BUILD)/browser/models
	@echo "== browser tests (Chromium, Python $(BROWSER_PYV))"
	cd tests/browser && SG_MODELS=$(abspath $(BUILD)/browser/models) SG_SHOTS=$(abspath $(BUILD)/browser) \
		SG_SPEEDSCOPE=$(abspath $(SPEEDSCOPE_DIR))/node_modules/speedscope/dist/release \
		$(CURDIR)/$(BUILD)/venv/$(BROWSER_PYV)/bin/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# Size and time to first render of a 100,000-stack profile (not part of `make test`).
bench-visual: $(BUILD)/browser/gen_profiles
	@$(MAKE) --no-print-directory $(BUILD)/venv/$(BROWSER_PYV)/.installed
	$(BUILD)/venv/$(BROWSER_PYV)/bin/python bench/visual_bench.py --gen $(BUILD)/browser/gen_profiles --out $(BUILD)/browser/bench $(VISUAL_ARGS)

# Re-embed src/core/write/assets/* after editing them.
assets:
	python3 tools/gen_assets.py

demo: $(BUILD)/venv/$(notdir $(subst python,,$(DEMO_PYTHON)))/.installed
	@v=$(notdir $(subst python,,$(DEMO_PYTHON))); \
	echo "== spyglass run examples/demo.py (Python $$v)"; \
	$(BUILD)/venv/$$v/bin/spyglass run examples/demo.py

# ASan+UBSan: the C tests, then the pytest suite against an instrumented extension
# (the interpreter is not instrumented, so the runtime is preloaded, and PYTHONMALLOC=malloc
# puts every Python object where ASan and LeakSanitizer see it). Every process writes its
# leak report to $(BUILD)/san/lsan; CPython leaves memory allocated at exit by design, so
# tools/lsan_ours.py fails only on leaks allocated through spyglass's extension. Leaks of
# the core alone are also checked by ctest-san (with the fuzz corpus replayed under ASan)
# and by lsan-sampler and valgrind on the sampler end to end.
SAN_PY ?= $(lastword $(PYTHONS))
sanitize: ctest-san lsan-sampler valgrind
	@v=$$(basename $(SAN_PY) | sed 's/^python//'); venv=$(BUILD)/venv-san/$$v; \
	lsan=$(CURDIR)/$(BUILD)/san/lsan; rm -rf $$lsan && mkdir -p $$lsan && \
	rm -rf $$venv && tools/make-venv.sh $(SAN_PY) $$venv && \
	$$venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip setuptools wheel pytest pytest-xdist ipython $(TEST_PIP_PACKAGES) && \
	SPYGLASS_STRICT=1 SPYGLASS_SANITIZE=1 $$venv/bin/python -m pip install -q --disable-pip-version-check --no-build-isolation . && \
	(cd tests/py && LD_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=0:log_path=$$lsan/lsan LSAN_OPTIONS=exitcode=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 PYTHONMALLOC=malloc \
	SPYGLASS_SANITIZED=1 $(CURDIR)/$$venv/bin/python -m pytest -q -p no:cacheprovider -x $(PYTEST_ARGS)); \
	rc=$$?; $(SAN_PY) tools/lsan_ours.py $$lsan || rc=1; exit $$rc

# Writer benchmark (bench/write_bench.c): every format of the writer table on a synthetic
# 10-million-sample profile; time and peak memory per format. Not part of `make test`.
$(BUILD)/bench/write_bench: bench/write_bench.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -O2 -o $@ $< $(CORE_SRC) -lz -lm

bench-writers: $(BUILD)/bench/write_bench
	$(BUILD)/bench/write_bench $(BENCH_ARGS)

# ---- hardening: fuzzing, leak checks, valgrind, the long torture run ----------------
# Fuzz targets (tests/fuzz/fuzz_*.c), each with a seed corpus in tests/fuzz/corpus/<name>.
# The line-table target is built once per format. `make fuzz` runs each FUZZ_SECONDS
# (new inputs go to build/fuzz/corpus, crashes to build/fuzz/crash-*); `make test` runs
# each FUZZ_SMOKE_SECONDS on its corpus; `make ctest` replays the committed corpus
# (every input that ever crashed included) with the plain compiler.
FUZZ_TARGETS := profile lnotab linetable310 locations elf debug_offsets walk
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 300
FUZZ_SMOKE_SECONDS ?= 12
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRC_HDR := $(wildcard tests/fuzz/*.h)
fuzz_src = $(if $(filter lnotab linetable310 locations,$(1)),tests/fuzz/fuzz_linetable.c,tests/fuzz/fuzz_$(1).c)
fuzz_def = $(if $(filter lnotab,$(1)),-DSG_FUZZ_LT_FORMAT=1,$(if $(filter linetable310,$(1)),-DSG_FUZZ_LT_FORMAT=2,$(if $(filter locations,$(1)),-DSG_FUZZ_LT_FORMAT=3,)))

# The core is compiled once per flavour (libFuzzer-instrumented, plain) and linked
# into every target.
FUZZ_OBJ := $(patsubst src/core/%.c,$(BUILD)/fuzz/obj/%.o,$(CORE_SRC))
REPLAY_OBJ := $(CORE_OBJ)
$(BUILD)/fuzz/obj/%.o: src/core/%.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(subst -fsanitize=fuzzer,-fsanitize=fuzzer-no-link,$(FUZZ_FLAGS)) -c -o $@ $<
$(BUILD)/ctest/obj/%.o: src/core/%.c $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS) $(EXTRA_CFLAGS) -c -o $@ $<

define fuzz_rules
$(BUILD)/fuzz/$(1): $(call fuzz_src,$(1)) $(FUZZ_SRC_HDR) $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(call fuzz_def,$(1)) -o $$@ $(call fuzz_src,$(1)) $(FUZZ_OBJ) -lz -lm
$(BUILD)/ctest/replay_$(1): $(call fuzz_src,$(1)) tests/fuzz/replay.c $(FUZZ_SRC_HDR) $(REPLAY_OBJ)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS) $(EXTRA_CFLAGS) $(call fuzz_def,$(1)) -o $$@ $(call fuzz_src,$(1)) tests/fuzz/replay.c $(REPLAY_OBJ) -lz -lm
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rules,$(t))))

fuzz-replay: $(patsubst %,$(BUILD)/ctest/replay_%,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do $(BUILD)/ctest/replay_$$t tests/fuzz/corpus/$$t; done

fuzz-build: $(patsubst %,$(BUILD)/fuzz/%,$(FUZZ_TARGETS))

# -rss_limit_mb: the decoders' own limits (1 GiB of decompressed profile) must not trip
# the fuzzer's default 2 GiB watchdog under ASan.
FUZZ_RUN = set -e; for t in $(FUZZ_TARGETS); do \
	mkdir -p $(BUILD)/fuzz/corpus/$$t; \
	echo "== fuzz $$t ($(1) s)"; \
	$(BUILD)/fuzz/$$t -max_total_time=$(1) -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 \
		-artifact_prefix=$(BUILD)/fuzz/$$t- $(BUILD)/fuzz/corpus/$$t tests/fuzz/corpus/$$t \
		2>$(BUILD)/fuzz/$$t.log || { tail -60 $(BUILD)/fuzz/$$t.log; \
		echo "fuzz target $$t failed: the input is in $(BUILD)/fuzz/$$t-*; add it to tests/fuzz/corpus/$$t once fixed"; exit 1; }; \
	grep -E '^stat::number_of_executed_units|^stat::new_units_added' $(BUILD)/fuzz/$$t.log | tr '\n' ' '; echo; \
	done

fuzz: fuzz-build
	@$(call FUZZ_RUN,$(FUZZ_SECONDS))

fuzz-smoke: fuzz-build
	@$(call FUZZ_RUN,$(FUZZ_SMOKE_SECONDS))

# The sampler end to end as a C program (tests/san/sampler_driver.c) sampling a real
# Python child of every version: under ASan+UBSan with LeakSanitizer (leaks of our code,
# without CPython's allocations in the way), and under valgrind memcheck.
DRIVER_TARGETS := "threads.py 0.5" "torture_generators.py 20 0.5"
$(BUILD)/san/sampler_driver: tests/san/sampler_driver.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -O1 $(SAN_FLAGS) -o $@ $< $(CORE_SRC) -lz -lm
$(BUILD)/valgrind/sampler_driver: tests/san/sampler_driver.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -O1 -o $@ $< $(CORE_SRC) -lz -lm

lsan-sampler: $(BUILD)/san/sampler_driver
	@set -e; for py in $(PYTHONS); do for t in $(DRIVER_TARGETS); do \
		echo "== LeakSanitizer: sampler on $$(basename $$py) $$t"; \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(BUILD)/san/sampler_driver 2000 $$py tests/targets/$$t >/dev/null; done; done

valgrind: $(BUILD)/valgrind/sampler_driver
	@set -e; for py in $(PYTHONS); do for t in $(DRIVER_TARGETS); do \
		echo "== valgrind memcheck: sampler on $$(basename $$py) $$t"; \
		valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
			--show-leak-kinds=definite,indirect $(BUILD)/valgrind/sampler_driver 1000 $$py \
			tests/targets/$$t >/dev/null; done; done

# The torture tests on every PYTHONS, their error rates as one table (tools/torture_matrix.py).
# Not part of `make test` (which runs the same tests without the table).
torture-matrix:
	@set -u; report=$(CURDIR)/$(BUILD)/torture-matrix.jsonl; rm -f $$report; summaries=""; \
	for py in $(PYTHONS); do v=$$(basename $$py | sed 's/^python//'); \
		$(MAKE) --no-print-directory $(BUILD)/venv/$$v/.installed || exit 1; \
		line=$$(cd tests/py && SPYGLASS_TORTURE_REPORT=$$report $(CURDIR)/$(BUILD)/venv/$$v/bin/python \
			-m pytest -q -p no:cacheprovider test_torture.py | tail -1); \
		summaries="$$summaries|$$v: $$line"; \
	done; IFS='|'; $(lastword $(PYTHONS)) tools/torture_matrix.py $$report $${summaries#|}

# Ten minutes at 10 kHz against a churning workload; reports the sampler's RSS growth.
# Not part of `make test`.
TORTURE_SECONDS ?= 600
torture-long: $(BUILD)/venv/$(notdir $(subst python,,$(DEMO_PYTHON)))/.installed
	$(BUILD)/venv/$(notdir $(subst python,,$(DEMO_PYTHON)))/bin/python tools/torture_long.py \
		$(BUILD)/venv/$(notdir $(subst python,,$(DEMO_PYTHON)))/bin/python $(TORTURE_SECONDS)

# Thread names (names branch): what a refresh of the name cache costs on a live target
# with 20 named threads (bench/threadnames_bench.c), and the sampler's CPU at 1 kHz with
# and without names (bench/threadnames_overhead.py; BASE_PYTHON: a virtualenv's python
# with a spyglass built without thread names). Not part of `make test`.
BENCH_PY ?= $(lastword $(PYTHONS))
$(BUILD)/bench/threadnames_bench: bench/threadnames_bench.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -O2 -o $@ $< $(CORE_SRC) -lz -lm

bench-threadnames: $(BUILD)/bench/threadnames_bench
	@$(BENCH_PY) bench/workloads/named_threads.py 30 & pid=$$!; sleep 3; \
	$(BUILD)/bench/threadnames_bench $$pid $(BENCH_ARGS); kill $$pid; wait $$pid 2>/dev/null; \
	v=$$(basename $(BENCH_PY) | sed 's/^python//'); \
	if [ -n "$(BASE_PYTHON)" ]; then $(MAKE) --no-print-directory $(BUILD)/venv/$$v/.installed && \
	$(BUILD)/venv/$$v/bin/python bench/threadnames_overhead.py --with $(BUILD)/venv/$$v/bin/python \
		--without $(BASE_PYTHON); fi

# The sampler's CPU per tick, without the sleep between ticks (bench/tick_bench.c): 8
# threads x 50 frames (bench/workloads/deep_threads.py) at 1 and 10 kHz, and one thread
# of 20 frames (deep_stack.py) at 100 kHz, on every PYTHONS. Not part of `make test`.
$(BUILD)/bench/tick_bench: bench/tick_bench.c $(CORE_SRC) $(CORE_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -O2 -o $@ $< $(CORE_SRC) -lz -lm

bench-tick: $(BUILD)/bench/tick_bench
	@for py in $(PYTHONS); do \
		$$py bench/workloads/deep_threads.py 40 >/dev/null & pid=$$!; sleep 2; \
		for hz in 1000 10000; do $(BUILD)/bench/tick_bench $$pid 3000 $$hz; done; \
		kill $$pid; wait $$pid 2>/dev/null; \
		$$py bench/workloads/deep_stack.py 40 >/dev/null & pid=$$!; sleep 2; \
		$(BUILD)/bench/tick_bench $$pid 20000 100000; kill $$pid; wait $$pid 2>/dev/null; \
	done

# What waiting between ticks costs on this machine with no sampling (bench/wake_bench.c):
# the floor under the sampler's CPU per tick. Not part of `make test`.
$(BUILD)/bench/wake_bench: bench/wake_bench.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -O2 -o $@ $<

bench-wake: $(BUILD)/bench/wake_bench
	$(BUILD)/bench/wake_bench $(BENCH_ARGS)

clean:
	rm -rf build dist *.egg-info python/*.egg-info

# ---- make bench: spyglass against the profilers users would pick instead ----------------
# Not part of `make test`. Its own virtualenv per interpreter (build/bench-venv/<ver>).
# PY=3.15 (or a path) picks the interpreter (3.14/3.15: Debian's, from make pythons),
# default the newest pyenv one; bench-all runs every PYTHONS (3.9-3.15); BENCH_ARGS adds
# options of bench/bench.py (--rounds N, --workloads a,b, --modes x,y, --no-md ...).
BENCH_DRIVER ?= $(or $(lastword $(PYTHONS)),python3)
BENCH_ARGS ?=
.PHONY: bench bench-quick bench-all
bench:
	BENCH_COMMAND="make bench$(if $(PY), PY=$(PY))$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')" \
	$(BENCH_DRIVER) bench/bench.py $(if $(PY),--python $(PY)) $(BENCH_ARGS)

bench-quick:
	BENCH_COMMAND="make bench-quick$(if $(PY), PY=$(PY))" \
	$(BENCH_DRIVER) bench/bench.py --quick $(if $(PY),--python $(PY)) $(BENCH_ARGS)

bench-all:
	@set -u; failed=""; for py in $(PYTHONS); do \
		v=$$(basename $$py | sed 's/^python//'); \
		echo "== bench on Python $$v"; \
		BENCH_COMMAND="make bench-all" $(BENCH_DRIVER) bench/bench.py --python $$py $(BENCH_ARGS) \
			|| failed="$$failed $$v"; \
	done; if [ -n "$$failed" ]; then echo "bench failed on:$$failed"; exit 1; fi

# diff renderers: the script and style sheets of the HTML/SVG diff live in
# src/core/write/assets/ and are embedded as C strings in src/core/write/diff_assets.c.
.PHONY: diff-assets
diff-assets:
	python3 tools/embed_assets.py
