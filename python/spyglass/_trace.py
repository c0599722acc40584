"""Deterministic tracing in this process: the Python side of Engine B.

``TraceSession(mode)`` wraps the C tracer (``_core.Tracer``): ``start()`` traces every
thread of the interpreter from then on, ``stop()`` returns the profile. The C tracer
does the work; this module only measures the tracer's own cost per event once per
process (the "bias", subtracted from every interval so that functions making many
calls are not inflated) and keeps the registry of ``@spyglass.lines`` functions."""

import os
import sys
import threading
import time

from . import _core

OWN_PREFIX = os.path.dirname(os.path.abspath(__file__)) + os.sep

_lock = threading.Lock()
_active = None        # the running TraceSession, if any
_decorated = []       # code objects marked with @spyglass.lines
_bias_cache = {}      # (mode, clock) -> dict of ticks per event
_MONITORING = hasattr(sys, "monitoring")


def lines(func):
    """Marks a function for line-level tracing (``spyglass lines`` or
    ``spyglass.profile(mode="lines")``): once any function is marked, only marked
    functions (and those named with --function) are traced line by line. Returns the
    function itself, so it costs nothing when not tracing."""
    code = getattr(func, "__code__", None)
    if code is None:
        inner = getattr(func, "__func__", None)  # staticmethod, classmethod
        code = getattr(inner, "__code__", None)
    if code is None:
        raise TypeError("spyglass.lines decorates Python functions")
    with _lock:
        _decorated.append(code)
        session = _active
    if session is not None and session.mode == "lines":
        session._tracer.add_code(code)
    return func


# ---- calibration -------------------------------------------------------------------
#
# The cost of an event is measured, not assumed: a loop of calls runs untraced and
# traced, and so does the same loop without the calls. Tracing slows the loop without
# calls too, by a factor k: 1.1-1.2 on 3.10, whose eval loop sends every instruction
# through its tracing path, 1.6-1.9 on 3.11, which runs every instruction unspecialised
# under a profile function, 1.0 elsewhere. It slows the rest of the program alike. So a
# call's bias is what its traced loop costs beyond k times the untraced loop: once
# compensated, a call costs what it would if tracing slowed it down like the code
# around it, and shares come out as they are untraced. Measured on the test's program
# (the same work through calls and inline), counting all of a call's extra cost
# (k = 1) leaves 3.10 2 points short; counting none of the slowdown of the instructions
# a call adds (the old model, which took it for the uniform slowdown of all code) left
# 3.11 4-7 points over: a traced call there runs a generic CALL and LOAD_GLOBAL and
# builds a frame object for the profile function, which untraced calls never do.
#
# The calls have the shape most calls have: a function of the module, looked up by
# name, given an argument, its value used. On 3.10 a call without arguments costs 12 ns
# more when traced than one with (under cProfile, and under a profile function that
# does nothing, alike): the old callee, which took none, made every call's bias 12 ns
# too high. On 3.11 a callee held in a local would miss the 10 ns of the generic
# LOAD_GLOBAL. Every loop adds 1 to a number, as code does: a loop of bare loads and
# stores is slowed a little more (k 1.7-2.0 on 3.11, against 1.6-1.8).

def _calib_target(x):
    return x


def _calib_out(x):  # out of scope: spyglass's own file
    return x


def _calib_none(n):
    x = 0
    for _ in range(n):
        x = x + 1
    return x


def _calib_calls(n):
    x = 0
    for _ in range(n):
        x = _calib_target(x) + 1
    return x


def _calib_calls_out(n):
    x = 0
    for _ in range(n):
        x = _calib_out(x) + 1
    return x


def _calib_builtin(n):
    x = 0
    for _ in range(n):
        x = abs(x) + 1
    return x


def _calib_lines(n):
    i = 0
    while i < n:
        i += 1
    return i


def _calib_lines_none(n):
    for _ in range(n):
        pass


# Runs are timed with this thread's CPU clock, in nanoseconds: unlike elapsed time it
# does not grow when the machine is busy and the process waits for a CPU.
_cpu_ns = getattr(time, "thread_time_ns", time.perf_counter_ns)


def _timed(fn, args):
    t0 = _cpu_ns()
    fn(*args)
    return _cpu_ns() - t0


def _leaf_totals(prof):
    """{function name: [calls or hits, own ns]} of a traced profile."""
    d = prof.to_dict()
    funcs, locs = d["functions"], d["locations"]
    totals = {}
    for r in d["records"]:
        acc = totals.setdefault(funcs[locs[r["stack"][-1]][0]][0], [0, 0])
        acc[0] += r["values"][0]
        acc[1] += r["values"][1]
    return totals


def _measure(mode, clock, cases, forced, repeats):
    """{case: (fastest untraced run in ns, fastest traced run in ns, _leaf_totals of that
    traced run)}."""
    best = {k: [None, None, {}] for k in cases}
    # The first round is not counted: it runs before any tracer has run, in a state the
    # program never sees (3.11 ran the loop without calls 8% faster then than later)
    for rnd in range(repeats + 1):
        for k, (fn, args) in cases.items():
            dt = _timed(fn, args)
            if rnd and (best[k][0] is None or dt < best[k][0]):
                best[k][0] = dt
        for k, (fn, args) in cases.items():
            t = _core.Tracer(mode, clock, own_prefix=OWN_PREFIX)
            for code in forced:
                t.add_code(code)
            t.start()
            dt = _timed(fn, args)
            prof = t.stop()
            if rnd and (best[k][1] is None or dt < best[k][1]):
                best[k][1] = dt
                best[k][2] = _leaf_totals(prof)
    return best


def calibrate(mode, clock="wall", n=20000, repeats=7):
    """The tracer's cost per event on this interpreter and machine, in ticks of the
    tracer's clock (see above). The fastest of several runs counts, so a busy machine
    inflates it less. Measured once per process and mode."""
    key = (mode, clock)
    if key in _bias_cache:
        return _bias_cache[key]
    env = os.environ.get("SPYGLASS_TRACE_BIAS")
    if env is not None:  # set by a parent process for its children (and for testing)
        try:
            vals = dict(item.split("=") for item in env.split(",") if item)
            bias = {k: int(vals.get(k, 0)) for k in ("py", "c", "line", "untimed")}
            bias["py_exit"] = int(vals.get("py_exit", bias["py"]))  # not given: the entry's
            _bias_cache[key] = bias
            return bias
        except ValueError:
            pass
    bias = {"py": 0.0, "py_exit": 0.0, "c": 0.0, "line": 0.0, "untimed": 0.0}
    if mode == "trace":
        forced = (_calib_none.__code__, _calib_calls.__code__, _calib_calls_out.__code__,
                  _calib_builtin.__code__, _calib_target.__code__)
        m = _measure(mode, clock, {
            "none": (_calib_none, (n,)),
            "out": (_calib_calls_out, (n,)),
            "in": (_calib_calls, (n,)),
            "c": (_calib_builtin, (n,)),
        }, forced, repeats)
        # k, the slowdown of code without calls (below 1 is noise)
        slow = max(1.0, m["none"][1] / max(m["none"][0], 1))

        def cost(case):
            return max(0.0, m[case][1] - slow * m[case][0]) / n

        def inside(total):
            """The part of a call's cost between its entry's timestamp and its exit's:
            all of the callee's own time, as its own work (a load and a return) is next
            to nothing. (A builtin's own work is not: its cost stays split evenly.)"""
            calls, ns = m["in"][2].get(_calib_target.__name__, (0, 0))
            return min(total, ns / calls) if calls else total / 2

        # A call of an out-of-scope function costs untimed events only: its CALL on
        # 3.12+ (its start and return are disabled), its call and return before.
        # A call in scope costs two timed events, plus the untimed CALL on 3.12+.
        bias["untimed"] = cost("out") / (1 if _MONITORING else 2)
        in_untimed = bias["untimed"] if _MONITORING else 0.0
        timed = max(0.0, cost("in") - in_untimed)
        bias["py_exit"] = inside(timed)
        bias["py"] = timed - bias["py_exit"]
        bias["c"] = cost("c") / 2
    else:
        forced = (_calib_lines.__code__, _calib_lines_none.__code__)
        m = _measure(mode, clock, {"lines": (_calib_lines, (n,))}, forced, repeats)
        hits = sum(calls for calls, _ in m["lines"][2].values())
        bias["line"] = max(0.0, m["lines"][1] - m["lines"][0]) / max(hits, 1)
    rate = _core.trace_tick_rate()  # ticks per ns
    bias = {k: int(v * rate) for k, v in bias.items()}
    _bias_cache[key] = bias
    return bias


# ---- sessions ----------------------------------------------------------------------

class TraceSession:
    """Deterministic tracing of every thread of this interpreter.

    mode: "trace" (functions, like cProfile) or "lines" (lines, like line_profiler).
    clock: "wall" or "cpu". functions: "module:qualname" names that limit line tracing.
    include/exclude: path globs limiting what is traced. exclude_syspath: skip the
    standard library and site-packages (default: False for "trace", True for "lines"
    unless include is given). Usable several times in one process, one at a time."""

    def __init__(self, mode, clock="wall", functions=(), include=(), exclude=(),
                 exclude_syspath=None):
        if mode not in ("trace", "lines"):
            raise ValueError(f"unknown tracing mode {mode!r} (trace or lines)")
        if clock not in ("wall", "cpu"):
            raise ValueError(f"unknown clock {clock!r} (wall or cpu)")
        if exclude_syspath is None:
            exclude_syspath = mode == "lines" and not include
        self.mode = mode
        self.clock = clock
        self.functions = tuple(functions or ())
        self._tracer = _core.Tracer(mode, clock, include=tuple(include or ()),
                                    exclude=tuple(exclude or ()),
                                    exclude_syspath=bool(exclude_syspath),
                                    functions=self.functions, own_prefix=OWN_PREFIX)
        self.bias = None

    def start(self):
        global _active
        self.bias = calibrate(self.mode, self.clock)
        self._tracer.set_bias(**self.bias)
        with _lock:
            if _active is not None:
                raise RuntimeError("a spyglass tracing session is already running")
            if self.mode == "lines":
                for code in _decorated:
                    self._tracer.add_code(code)
            self._tracer.start()
            _active = self
        return self

    def stop(self):
        """Stops tracing and returns the profile (a spyglass Profile)."""
        global _active
        with _lock:
            if _active is self:
                _active = None
        return self._tracer.stop()

    @property
    def active(self):
        return self._tracer.active

    def pause(self):
        """Ignores the calling thread's events until resume() (spyglass's own work)."""
        self._tracer.pause()

    def resume(self):
        self._tracer.resume()

    def _after_fork_in_child(self):
        self._tracer._after_fork()


def active_session():
    return _active


def _after_fork_in_child():
    global _lock
    _lock = threading.Lock()
    session = _active
    if session is not None:
        session._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
