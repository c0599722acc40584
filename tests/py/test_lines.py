"""spyglass lines: hits exactly as sys.settrace sees them, times that add up (a line
includes the traced functions it calls), every thread, and the scope: the program's
own code by default, or only the functions named with --function or marked with
@spyglass.lines, or what --include/--exclude say."""
import json
import os
import signal
import subprocess
import sys
from collections import Counter, defaultdict

import pytest

from conftest import spyglass, stdout_json, target


class Lines:
    """A line-level profile: hits and self/total nanoseconds per (file, line), also
    per thread name for hits."""

    def __init__(self, path):
        import spyglass as sg

        self.raw = sg.load(str(path)).to_dict()
        funcs, locs = self.raw["functions"], self.raw["locations"]
        self.hits, self.self_ns, self.total_ns = Counter(), Counter(), Counter()
        self.thread_hits = defaultdict(Counter)
        self.files = set()
        self.functions = set()
        self.chains = set()  # the functions (short names) of each record's stack
        for r in self.raw["records"]:
            places = [(funcs[locs[loc][0]][1], locs[loc][1]) for loc in r["stack"]]
            hits, ns = r["values"]
            leaf = places[-1]
            self.hits[leaf] += hits
            self.self_ns[leaf] += ns
            for p in set(places):
                self.total_ns[p] += ns
            self.thread_hits[self.raw["tracks"][r["track"]]["name"]][leaf] += hits
            self.chains.add(tuple(funcs[locs[loc][0]][0].rsplit(".", 1)[-1]
                                  for loc in r["stack"]))
            for loc in r["stack"]:
                self.files.add(funcs[locs[loc][0]][1])
                self.functions.add(funcs[locs[loc][0]][0])

    def file_hits(self, filename):
        return {line: n for (f, line), n in self.hits.items() if f == filename and n}


def lines(tmp_path, *args, opts=(), env=None):
    out = tmp_path / "lines.pb.gz"
    cp = spyglass("lines", "-o", str(out), *opts, *args, env=env)
    assert out.exists(), f"no profile written (status {cp.returncode}):\n{cp.stderr}"
    return cp, Lines(out)


def settrace_hits(tmp_path, script, *args):
    out = tmp_path / "ref.json"
    subprocess.run([sys.executable, target("settrace_lines.py"), str(out), script, *args],
                   check=True, stdout=subprocess.DEVNULL, timeout=120)
    return {int(k): v for k, v in json.loads(out.read_text()).items()}


def line_of(script, text):
    with open(script) as f:
        for i, line in enumerate(f, 1):
            if text in line:
                return i
    raise AssertionError(text)


def test_hits_equal_settrace(tmp_path):
    script = target("trace_lines.py")
    expected = settrace_hits(tmp_path, script)
    cp, prof = lines(tmp_path, script)
    assert cp.returncode == 0, cp.stderr
    got = prof.file_hits(script)
    assert got == expected, {k: (expected.get(k), got.get(k)) for k in set(got) | set(expected)
                             if expected.get(k) != got.get(k)}
    assert got[line_of(script, "while k < n: k += 1")] >= 20  # a loop on one line


def test_lines_stay_under_their_callers(tmp_path):
    """Every line hangs under the line that called its function, also after a frame
    ended without returning: an exception unwound through 7 frames (PY_UNWIND), a
    generator was thrown into and closed (PY_THROW), a coroutine was suspended. A missed
    exit would leave a frame on the stack, and the caller's next lines would hang under
    it while their hits still came out right."""
    script = target("trace_events.py")
    expected = settrace_hits(tmp_path, script)
    cp, prof = lines(tmp_path, script)
    assert cp.returncode == 0, cp.stderr
    assert prof.file_hits(script) == expected
    callers = {"main": {"<module>"}, "Pause": {"<module>"}, "produce": {"main"},
               "absorb": {"main"}, "waits": {"main"}, "__await__": {"waits"},
               "sink": {"main", "sink"}, "after": {"main"}}
    for chain in prof.chains:
        assert chain[0] == "<module>", chain
        for caller, callee in zip(chain, chain[1:]):
            assert caller in callers[callee], chain
    after = (script, line_of(script, "    after()"))
    assert prof.hits[after] == 3
    assert prof.hits[(script, line_of(script, "sink(n - 1)"))] == 18


def test_line_times_add_up(tmp_path):
    script = target("trace_naps.py")
    cp, prof = lines(tmp_path, script)
    assert cp.returncode == 0, cp.stderr
    sleep_line = (script, line_of(script, "time.sleep(0.2)"))
    call_line = (script, line_of(script, "nap(0.1)"))
    nap_body = (script, line_of(script, "time.sleep(seconds)"))
    assert 0.19e9 <= prof.self_ns[sleep_line] <= 0.5e9
    # a line's total includes the traced function it calls; its self time does not
    assert 0.09e9 <= prof.self_ns[nap_body] <= 0.4e9
    assert prof.total_ns[call_line] >= prof.self_ns[nap_body]
    assert prof.self_ns[call_line] < 0.02e9
    # the standard library is outside the default scope: json's lines are not traced,
    # their time is the calling line's
    assert not any("json" in f for f in prof.files), prof.files
    assert prof.hits[(script, line_of(script, "json.dumps"))] == 1


def test_include_widens_the_scope(tmp_path):
    cp, prof = lines(tmp_path, target("trace_naps.py"), opts=("--include", "*json*",
                                                              "--include", "*trace_naps.py"))
    assert cp.returncode == 0, cp.stderr
    assert any(f.endswith("json/encoder.py") for f in prof.files), prof.files


def test_threads_have_their_own_hits(tmp_path):
    script = target("trace_threads.py")
    cp, prof = lines(tmp_path, script)
    assert cp.returncode == 0, cp.stderr
    line = (script, line_of(script, "total += tick()"))
    for name, n in (("w1000", 1000), ("w2000", 2000), ("w3000", 3000)):
        assert prof.thread_hits[name][line] == n
    assert prof.hits[line] == 6000


def test_decorator_limits_the_scope(tmp_path):
    script = target("trace_decorated.py")
    cp, prof = lines(tmp_path, script)
    assert cp.returncode == 0, cp.stderr
    assert {"hot", "Worker.run", "run"} & prof.functions
    assert not {"helper", "plain", "<module>"} & prof.functions, prof.functions
    assert prof.hits[(script, line_of(script, "s += helper(i)"))] == 13


def test_function_option_limits_the_scope(tmp_path):
    script = target("trace_lines.py")
    cp, prof = lines(tmp_path, script, opts=("--function", "__main__:depth",
                                             "--function", "trace_lines:Box.__init__"))
    assert cp.returncode == 0, cp.stderr
    names = {n.rsplit(".", 1)[-1] for n in prof.functions}
    assert names == {"depth", "__init__"}, prof.functions
    assert prof.hits[(script, line_of(script, "return 1 + depth(n - 1)"))] == 6


def test_report_is_line_profilers_layout(tmp_path):
    cp = spyglass("lines", target("trace_decorated.py"))
    assert cp.returncode == 0, cp.stderr
    err = cp.stderr
    assert "Timer unit: 1e-06 s" in err and "Function: hot at line" in err
    assert "Line #      Hits         Time  Per Hit   % Time  Line Contents" in err
    assert "s += helper(i)" in err


def test_interrupted_program_still_writes_lines(tmp_path):
    cp, prof = lines(tmp_path, target("trace_exits.py"), "interrupt")
    assert cp.returncode == 128 + signal.SIGINT
    script = target("trace_exits.py")
    assert prof.hits[(script, line_of(script, "raise KeyboardInterrupt"))] == 1


def test_children_lines_join_the_profile(tmp_path):
    script = target("trace_pool.py")
    cp, prof = lines(tmp_path, script, "fork", opts=("--subprocesses",))
    assert cp.returncode == 0, cp.stderr
    line = (script, line_of(script, "total += tick()"))
    assert prof.hits[line] == sum(range(1, 13))
    assert len(prof.raw["processes"]) >= 3
