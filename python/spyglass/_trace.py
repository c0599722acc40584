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
# traced, and so does the same loop without the calls. The difference of differences
# is what each call costs when traced: the callbacks, and the interpreter's own work
# for them (on 3.11 a traced call also runs unspecialised). Not counted: the slowdown
# that tracing gives every instruction on 3.10 and 3.11 (the loop without calls shows
# it per instruction), which inflates all code alike and so leaves shares as they are.

def _calib_target():
    pass


def _calib_out():
    pass


def _calib_none(n, f):
    for _ in range(n):
        f


def _calib_calls(n, f):
    for _ in range(n):
        f()


def _calib_builtin(n, f):
    for _ in range(n):
        f(0)


def _loop_instructions(code):
    """Instructions one iteration of the function's for loop executes."""
    import dis

    ins = list(dis.get_instructions(code))
    start = next(i.offset for i in ins if i.opname == "FOR_ITER")
    back = [i.offset for i in ins if i.offset > start and "JUMP" in i.opname
            and isinstance(i.argval, int) and i.argval <= start]
    end = back[-1] if back else ins[-1].offset
    return sum(1 for i in ins if start <= i.offset <= end)


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


def _measure(mode, clock, cases, forced, repeats):
    """{case: (fastest untraced run, fastest traced run, events counted)} in ns."""
    best = {k: [None, None, 0] for k in cases}
    for _ in range(repeats):
        for k, (fn, args) in cases.items():
            dt = _timed(fn, args)
            if best[k][0] is None or dt < best[k][0]:
                best[k][0] = dt
        for k, (fn, args) in cases.items():
            t = _core.Tracer(mode, clock, own_prefix=OWN_PREFIX)
            for code in forced:
                t.add_code(code)
            t.start()
            dt = _timed(fn, args)
            prof = t.stop()
            if best[k][1] is None or dt < best[k][1]:
                best[k][1] = dt
                best[k][2] = sum(r["values"][0] for r in prof.to_dict()["records"])
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
            _bias_cache[key] = {k: int(vals.get(k, 0)) for k in ("py", "c", "line", "untimed")}
            return _bias_cache[key]
        except ValueError:
            pass
    bias = {"py": 0.0, "c": 0.0, "line": 0.0, "untimed": 0.0}
    if mode == "trace":
        forced = (_calib_none.__code__, _calib_calls.__code__, _calib_builtin.__code__,
                  _calib_target.__code__)
        m = _measure(mode, clock, {
            "none": (_calib_none, (n, _calib_target)),
            "out": (_calib_calls, (n, _calib_out)),
            "in": (_calib_calls, (n, _calib_target)),
            "c": (_calib_builtin, (n, abs)),
        }, forced, repeats)

        # per instruction slowdown (3.10, 3.11), and the instructions a call adds
        try:
            i_none = _loop_instructions(_calib_none.__code__)
            i_calls = _loop_instructions(_calib_calls.__code__)
            i_builtin = _loop_instructions(_calib_builtin.__code__)
            import dis

            i_callee = len(list(dis.get_instructions(_calib_target.__code__)))
        except (StopIteration, ValueError, ImportError):
            i_none = i_calls = i_builtin = 1
            i_callee = 0
        per_instr = max(0.0, m["none"][1] - m["none"][0]) / n / max(i_none, 1)
        extra = {"out": i_calls - i_none, "in": i_calls + i_callee - i_none,
                 "c": i_builtin - i_none}

        def cost(k):
            d = (m[k][1] - m["none"][1]) - (m[k][0] - m["none"][0])
            return max(0.0, d / n - max(0, extra[k]) * per_instr)

        # A call of an out-of-scope function costs untimed events only: its CALL on
        # 3.12+ (its start and return are disabled), its call and return before.
        # A call in scope costs two timed events, plus the untimed CALL on 3.12+.
        bias["untimed"] = cost("out") / (1 if _MONITORING else 2)
        in_untimed = bias["untimed"] if _MONITORING else 0.0
        bias["py"] = max(0.0, cost("in") - in_untimed) / 2
        bias["c"] = cost("c") / 2
    else:
        forced = (_calib_lines.__code__, _calib_lines_none.__code__)
        m = _measure(mode, clock, {"lines": (_calib_lines, (n,))}, forced, repeats)
        bias["line"] = max(0.0, m["lines"][1] - m["lines"][0]) / max(m["lines"][2], 1)
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
