"""Overhead of spyglass's tracer against cProfile and line_profiler, side by side in
one process on the same interpreter.

    python bench/trace_overhead.py [--repeats N] [--scale F]

Each workload runs untraced, under spyglass (function or line level) and under the
tool it is compared with; every run is timed with the process's CPU clock (a busy
machine then changes the figures less), the best of N runs counts. Prints one JSON
object: the slowdown of each tool (traced time / untraced time) and the ratio of the
overheads (spyglass's extra time / the other tool's extra time).

Workloads: calls (recursion, methods, builtins: the worst case for a function tracer),
lines (a loop of short lines: the worst case for a line tracer), stdlib (json and re:
code outside the line tracer's default scope, which should cost almost nothing on
3.12+ where out-of-scope code is disabled)."""
import argparse
import cProfile
import json
import re
import sys
import time

from spyglass._trace import TraceSession


# ---- workloads -----------------------------------------------------------------------

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm1(self):
        return abs(self.x) + abs(self.y)


def calls(scale):
    fib(int(22 + scale))
    pts = [Point(i, -i) for i in range(int(20000 * scale))]
    total = 0
    seen = {}
    for p in pts:
        total += p.norm1()
        seen[p.x % 97] = seen.get(p.x % 97, 0) + 1
    return total


def lines(scale):
    total = 0
    x = 1
    for i in range(int(300000 * scale)):
        x = (x * 31 + i) % 1000003
        if x & 1:
            total += x
        else:
            total -= i
        total ^= i
    return total


WORD = re.compile(r"[a-z]+")


def stdlib(scale):
    doc = {"items": [{"id": i, "name": f"item{i}", "tags": ["a", "b", "c"]} for i in range(200)]}
    n = 0
    for _ in range(int(60 * scale)):
        text = json.dumps(doc)
        back = json.loads(text)
        n += len(WORD.findall(text)) + len(back["items"])
    return n


# ---- runners -------------------------------------------------------------------------

def cpu(fn, scale):
    t0 = time.process_time()
    fn(scale)
    return time.process_time() - t0


def untraced(fn, scale):
    return cpu(fn, scale)


def spyglass(mode, functions=None):
    def run(fn, scale):
        s = TraceSession(mode, functions=functions or ())
        s.start()
        try:
            return cpu(fn, scale)
        finally:
            s.stop()
    return run


def cprofile(fn, scale):
    p = cProfile.Profile()
    p.enable()
    try:
        return cpu(fn, scale)
    finally:
        p.disable()


def line_profiler(fn, scale):
    from line_profiler import LineProfiler

    lp = LineProfiler()
    lp.add_function(fn)
    lp.enable_by_count()
    try:
        return cpu(fn, scale)
    finally:
        lp.disable_by_count()


def best(runner, fn, scale, repeats):
    return min(runner(fn, scale) for _ in range(repeats))


def compare(name, fn, scale, repeats, ours, other, other_name):
    # interleave the runs so that a change in the machine's load hits all of them
    base, mine, theirs = [], [], []
    for _ in range(repeats):
        base.append(untraced(fn, scale))
        mine.append(ours(fn, scale))
        if other:
            theirs.append(other(fn, scale))
    b, m = min(base), min(mine)
    row = {"workload": name, "untraced_s": round(b, 4), "spyglass_x": round(m / b, 3)}
    if other:
        t = min(theirs)
        row[f"{other_name}_x"] = round(t / b, 3)
        row["overhead_ratio"] = round((m - b) / (t - b), 3) if t > b else None
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--only", choices=("calls", "lines", "stdlib"), help="one workload")
    opts = ap.parse_args()
    try:
        import line_profiler as _lp  # noqa: F401
        lp = line_profiler
    except ImportError:
        lp = None
    cases = {
        "calls": lambda: compare("calls", calls, opts.scale, opts.repeats, spyglass("trace"),
                                 cprofile, "cprofile"),
        "lines": lambda: compare("lines", lines, opts.scale, opts.repeats,
                                 spyglass("lines", functions=("__main__:lines",)), lp,
                                 "line_profiler"),
        "stdlib": lambda: compare("stdlib, lines out of scope", stdlib, opts.scale,
                                  opts.repeats, spyglass("lines"), None, None),
    }
    rows = [run() for name, run in cases.items() if opts.only in (None, name)]
    print(json.dumps({"python": sys.version.split()[0], "results": rows}, indent=1))


if __name__ == "__main__":
    main()
