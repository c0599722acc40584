"""The pytest plugin (registered through the `pytest11` entry point, off unless asked).

`pytest --spyglass` profiles the call phase of every test (sampling, or the tracer with
`--spyglass-mode trace|lines`), writes one profile per test and a merged one into
`--spyglass-dir` (default `.spyglass/` in the rootdir), and lists the slowest tests with
their hottest functions at the end. Under pytest-xdist each worker writes its own test
profiles and `merged-<worker>.pb.gz`; the controller merges those into `merged.pb.gz`.

The `spyglass_profile` fixture profiles a block inside a test, with or without
--spyglass. The plugin never changes an outcome: a profiling problem is told in the summary."""

import hashlib
import json
import os
import re

import pytest

MODES = ("sample", "trace", "lines")
MERGED = "merged.pb.gz"
_UNSAFE = re.compile(r"[^A-Za-z0-9._\[\]-]+")
_MAX_NAME = 120


def pytest_addoption(parser):
    group = parser.getgroup("spyglass", "profiling with spyglass")
    group.addoption("--spyglass", action="store_true", default=False,
                    help="profile each test and write the profiles to --spyglass-dir")
    group.addoption("--spyglass-mode", choices=MODES, default="sample",
                    help="sample (default: the in-process sampler), trace (every call) or "
                         "lines (every line)")
    group.addoption("--spyglass-dir", metavar="DIR", default=None,
                    help="where profiles go (default: .spyglass in the rootdir)")
    group.addoption("--spyglass-rate", metavar="HZ", type=float, default=1000.0,
                    help="samples per second in sample mode (default 1000)")
    group.addoption("--spyglass-top", metavar="N", type=int, default=10,
                    help="how many of the slowest tests to list at the end (default 10)")


def _directory(config):
    d = config.getoption("spyglass_dir")
    if d is None:
        return os.path.join(str(config.rootpath), ".spyglass")
    return os.path.join(str(config.invocation_params.dir), d)


def _worker_id(config):
    workerinput = getattr(config, "workerinput", None)
    return workerinput.get("workerid") if workerinput else None


def file_stem(nodeid):
    """A file name for a test id: readable, safe, bounded, and unique (a short hash is
    added when characters had to be replaced or the name cut)."""
    stem = _UNSAFE.sub("_", nodeid.replace("::", "__").replace("/", "_"))
    if len(stem) > _MAX_NAME or stem != nodeid.replace("::", "__").replace("/", "_"):
        digest = hashlib.sha1(nodeid.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        stem = stem[:_MAX_NAME] + "-" + digest
    return stem.lstrip(".") or "test"


_OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_ONCPU = 1


def hottest(profile, n=3):
    """[(share, qualname, file, first line)] of the functions with the most self time in
    the test's own work: the main thread (where pytest runs the test) and any thread
    while on a CPU, so that idle helper threads (xdist's I/O thread) do not crowd it out;
    spyglass's own frames (starting and stopping) are not blamed on the test."""
    d = profile.to_dict()
    col = 0
    sampled = d["meta"]["mode"] == "sample"
    if not sampled:
        units = [u for _, u in d["meta"]["value_types"]]
        col = units.index("nanoseconds") if "nanoseconds" in units else 0
    funcs, locs, tracks = d["functions"], d["locations"], d["tracks"]
    self_time, total = {}, 0
    for r in d["records"]:
        if sampled and not (tracks[r["track"]]["is_main"] or r["flags"] & _ONCPU):
            continue
        v = r["values"][col] if col < len(r["values"]) else 0
        total += v
        if r["stack"]:
            f = locs[r["stack"][-1]][0]
            if not funcs[f][1].startswith(_OWN_DIR):
                self_time[f] = self_time.get(f, 0) + v
    top = sorted(self_time.items(), key=lambda kv: -kv[1])[:n]
    return [(v / total if total else 0.0, funcs[f][0], funcs[f][1], funcs[f][2])
            for f, v in top if v > 0]


class _Merger:
    """Adds profiles into one, keeping the total duration and tick counts."""

    def __init__(self):
        self.profile = None
        self.count = 0
        self.duration = self.requested = self.taken = 0

    def add(self, profile):
        from . import _core

        meta = profile.to_dict()["meta"]
        if self.profile is None:
            self.profile = _core.decode(profile.encode(gzip=False))
        else:
            self.profile.merge(profile)
        self.count += 1
        self.duration += meta["duration_ns"]
        self.requested += meta["ticks_requested"]
        self.taken += meta["ticks_taken"]

    def save(self, path, what):
        if self.profile is None:
            return False
        self.profile.set_meta(duration_ns=self.duration, ticks_requested=self.requested,
                              ticks_taken=self.taken)
        self.profile.set_attr("command", what)
        self.profile.save(path)
        return True


class SpyglassPlugin:
    def __init__(self, config):
        self.config = config
        self.mode = config.getoption("spyglass_mode")
        self.rate = config.getoption("spyglass_rate")
        self.top = config.getoption("spyglass_top")
        self.dir = _directory(config)
        self.worker = _worker_id(config)
        self.records = {}  # nodeid -> dict(duration, path, hottest, outcome)
        self.merger = _Merger()
        self.disabled = None  # why profiling stopped, once it had to
        self.worker_results = []  # controller: what each worker sent

    # ---- profiling each test ----
    def _warn(self, msg):
        # Told in the summary, not as a warning: a test suite run with -W error would
        # turn a warning raised during the test into a changed outcome.
        self.disabled = msg

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        from . import _api

        profiler = None
        if self.disabled is None:
            try:
                profiler = _api.Profiler(mode=self.mode, rate=self.rate).start()
            except Exception as exc:  # noqa: BLE001 - never the test's problem
                self._warn(f"cannot profile: {_api._message(exc)}")
        yield  # the test runs; its outcome is pytest's business, never ours
        if profiler is None:
            return
        try:
            profile = profiler.stop()
            if profile is None:
                return  # the test forked and this is the child
            profile.set_attr("command", f"pytest {item.nodeid}")
            path = os.path.join(self.dir, file_stem(item.nodeid) + ".pb.gz")
            profile.save(path)
            self.merger.add(profile)
            self.records[item.nodeid] = {"path": path, "hottest": hottest(profile),
                                         "duration": None}
        except Exception as exc:  # noqa: BLE001 - never the test's problem
            self._warn(f"profiling {item.nodeid} failed: {_api._message(exc)}")

    def pytest_runtest_logreport(self, report):
        rec = self.records.get(report.nodeid)
        if rec is not None and report.when == "call":
            rec["duration"] = report.duration
            rec["outcome"] = report.outcome

    def pytest_sessionstart(self, session):
        os.makedirs(self.dir, exist_ok=True)

    def pytest_sessionfinish(self, session):
        merged_name = MERGED if self.worker is None else f"merged-{self.worker}.pb.gz"
        merged = os.path.join(self.dir, merged_name)
        try:
            wrote = self.merger.save(merged, f"pytest ({self.merger.count} tests)")
        except Exception as exc:  # noqa: BLE001 - never fail the session
            self.disabled = self.disabled or f"cannot write {merged}: {exc}"
            wrote = False
        if self.worker is not None and hasattr(self.config, "workeroutput"):
            self.config.workeroutput["spyglass"] = json.dumps(
                {"records": self.records, "merged": merged if wrote else None,
                 "problem": self.disabled})
        self.merged = merged if wrote else None

    # ---- xdist controller ----
    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        data = getattr(node, "workeroutput", {}).get("spyglass")
        if data:
            self.worker_results.append(json.loads(data))

    def _controller_merge(self):
        from . import _core

        merger = _Merger()
        for res in self.worker_results:
            self.records.update(res["records"])
            if res.get("problem") and not self.disabled:
                self.disabled = res["problem"]
            if res["merged"]:
                try:
                    merger.add(_core.load(res["merged"]))
                except _core.Error as exc:
                    self.disabled = self.disabled or exc.args[1]
        path = os.path.join(self.dir, MERGED)
        return path if merger.save(path, f"pytest ({len(self.records)} tests, "
                                         f"{len(self.worker_results)} workers)") else None

    def pytest_terminal_summary(self, terminalreporter):
        if self.worker is not None:
            return
        merged = getattr(self, "merged", None)
        if self.worker_results:
            merged = self._controller_merge()
        tr = terminalreporter
        tr.write_sep("=", "spyglass")
        shown = os.path.relpath(self.dir, str(self.config.invocation_params.dir))
        if self.disabled:
            tr.write_line(f"spyglass: profiling stopped: {self.disabled}; the tests ran on "
                          "unprofiled", red=True)
        if not self.records:
            tr.write_line(f"no test was profiled (profiles go to {shown}/)")
            return
        tr.write_line(f"{len(self.records)} tests profiled ({self.mode}); profiles in "
                      f"{shown}/" + (f", merged: {os.path.join(shown, MERGED)}"
                                     if merged else ""))
        slow = sorted(self.records.items(), key=lambda kv: -(kv[1]["duration"] or 0))
        tr.write_line("slowest tests (call phase) and their hottest functions (self):")
        for nodeid, rec in slow[:self.top]:
            tr.write_line(f"{rec['duration'] or 0:8.3f}s  {nodeid}")
            for share, name, filename, line in rec["hottest"]:
                tr.write_line(f"           {100 * share:5.1f}%  {_printable(name)}  "
                              f"({_printable(filename)}:{line})")


def _printable(s):
    """Names come from the profiled code: no terminal control characters."""
    return "".join(c if c.isprintable() else "\\x%02x" % ord(c) for c in s)


def pytest_configure(config):
    if not config.getoption("spyglass"):
        return
    mode = config.getoption("spyglass_mode")
    if mode != "sample":
        from . import _api, _core

        try:
            _api._trace_session_class(mode)
        except _core.Error as exc:
            raise pytest.UsageError(f"spyglass: error: {exc.args[1]}") from None
    if config.getoption("spyglass_rate") <= 0 or config.getoption("spyglass_rate") > 1e6:
        raise pytest.UsageError("spyglass: error: --spyglass-rate must be between 1 and "
                                "1000000")
    config.pluginmanager.register(SpyglassPlugin(config), "spyglass-session")


class _BlockProfiles:
    """What the spyglass_profile fixture returns: call it to get a Profiler for a block;
    each block's profile is saved as <test>-<name>[-N].pb.gz in the spyglass directory."""

    def __init__(self, request):
        self._dir = _directory(request.config)
        self._stem = file_stem(request.node.nodeid)
        self._n = {}
        self.profilers = []

    def __call__(self, name="block", **options):
        from . import _api

        self._n[name] = self._n.get(name, 0) + 1
        suffix = "" if self._n[name] == 1 else f"-{self._n[name]}"
        os.makedirs(self._dir, exist_ok=True)
        path = os.path.join(self._dir, f"{self._stem}-{file_stem(name)}{suffix}.pb.gz")
        p = _api.Profiler(output=path.replace("{", "{{").replace("}", "}}"), **options)
        p.path = path
        self.profilers.append(p)
        return p


@pytest.fixture
def spyglass_profile(request):
    """Profiles a block inside a test:

        def test_x(spyglass_profile):
            with spyglass_profile() as p:     # or spyglass_profile("name", mode="lines")
                work()
            assert p.profile ...              # the block's profile; also saved in p.path
    """
    blocks = _BlockProfiles(request)
    yield blocks
    for p in blocks.profilers:
        if p.running:
            p.stop()
