"""The in-process API: profile a block, a function, or windows of a long-running program.

Sampling (the default) runs spyglass's C sampler on a native thread of this process: it
reads the interpreter's memory like `spyglass run` does from outside, never takes the
GIL, sees every thread and does not appear in the profile. The deterministic modes
("trace", "lines") use the tracer (spyglass._trace), imported only when asked for."""

import atexit
import functools
import importlib
import inspect
import os
import signal
import sys
import threading
import time
import weakref

from . import _core, _output

MODES = ("sample", "trace", "lines")
CLOCKS = ("wall", "cpu")
DEFAULT_RATE = 1000
# Options of report()/render()/write() besides the format.
_RENDER_OPTIONS = ("threads", "exclude_syspath", "include", "exclude", "per_thread", "view",
                   "max_rows", "min_share", "context", "color")

# Started and not stopped (kept alive, so that `Profiler(output=...).start()` without a
# reference still profiles until exit): stopped, and written if they have an output, at
# exit.
_running = set()


def _error(code, message):
    return _core.Error(code, message)


def _trace_session_class(mode):
    """The tracer's TraceSession, or a clear error when this installation has none."""
    try:
        _trace = importlib.import_module(__package__ + "._trace")
    except ModuleNotFoundError as exc:
        if exc.name != __package__ + "._trace":
            raise
        raise _error("SG_E_UNSUPPORTED",
                     f"mode '{mode}' needs spyglass's tracer (spyglass._trace), which this "
                     "installation does not include; use mode='sample'") from None
    return _trace.TraceSession


def _expand_path(template, n):
    return template.format(pid=os.getpid(), n=n, time=time.strftime("%Y%m%d-%H%M%S"))


def _check_template(template):
    try:
        _expand_path(template, 1)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"bad path template {template!r}: only {{pid}}, {{n}} and {{time}} "
                         f"may be used ({exc})") from None


def _encode_or_render(profile, fmt, opts):
    """The bytes of profile in format fmt after the filters in opts."""
    if fmt in _output.PROFILE_FORMATS:
        return profile.encode(gzip=True)
    threads = opts.get("threads", "all")
    if threads not in ("all", "main"):
        raise ValueError(f"threads must be 'all' or 'main', not {threads!r}")
    include = tuple(opts.get("include") or ())
    exclude = tuple(opts.get("exclude") or ())
    shown = profile
    if threads == "main" or opts.get("exclude_syspath") or include or exclude:
        shown = profile.filter(main_thread_only=threads == "main",
                               exclude_syspath=bool(opts.get("exclude_syspath")),
                               include=include, exclude=exclude)
    return shown.render(fmt, view=opts.get("view") or "auto",
                        per_thread=bool(opts.get("per_thread")),
                        max_rows=int(opts.get("max_rows") or 0),
                        min_share=float(opts.get("min_share") or 0.0),
                        context=int(opts.get("context") or 0),
                        color=bool(opts.get("color")))


def _function_spec(f):
    """The tracer's "module:qualname" for a function given as an object."""
    if isinstance(f, str):
        return f
    f = getattr(f, "__func__", f)  # staticmethod, classmethod
    module, qualname = getattr(f, "__module__", None), getattr(f, "__qualname__", None)
    if not module or not qualname:
        raise TypeError(f"functions=: {f!r} is neither a function nor 'module:qualname'")
    return f"{module}:{qualname}"


class Profiler:
    """Profiles this process between start() and stop().

    mode: "sample" (default: the C sampler on a native thread, every thread of the
    process), "trace" (every call, like cProfile) or "lines" (every line). rate: samples
    per second (sample mode). clock: "wall" (every thread at every tick, running or not)
    or "cpu" (only threads on a CPU). include/exclude (globs on file paths),
    exclude_syspath and threads ("all" or "main"): in sample mode what reports show by
    default (the profile keeps every sample); in trace modes what is traced
    (exclude_syspath=None: the tracer's default). functions:
    trace modes only, the functions to trace. output: a path (with {pid}, {n}, {time})
    where stop() writes the profile or report (the suffix or `format` decides).

    Used as a context manager (`with Profiler() as p:`) or as a decorator
    (`@Profiler(...)`: every outermost call is profiled and reported on stderr, or
    written to output)."""

    def __init__(self, mode="sample", rate=DEFAULT_RATE, clock="wall", *, functions=(),
                 include=(), exclude=(), exclude_syspath=None, threads="all", output=None,
                 format=None, reader=None, _ignore_tids=()):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r} (choose from {', '.join(MODES)})")
        if clock not in CLOCKS:
            raise ValueError(f"unknown clock {clock!r} (wall or cpu)")
        if not (0 < float(rate) <= 1_000_000):
            raise ValueError("rate must be between 1 and 1000000 samples per second")
        if threads not in ("all", "main"):
            raise ValueError(f"threads must be 'all' or 'main', not {threads!r}")
        if format is not None and format not in _output.known_formats() + ["profile"]:
            raise ValueError(f"unknown format {format!r} (choose from "
                             f"{', '.join(_output.known_formats())})")
        if functions and mode == "sample":
            raise ValueError("functions= selects what the tracer traces: use it with "
                             "mode='trace' or mode='lines'")
        if isinstance(include, str) or isinstance(exclude, str):
            raise TypeError("include and exclude take a list of glob patterns")
        if output is not None:
            _check_template(os.fspath(output))
        self.mode = mode
        self.rate = float(rate)
        self.clock = clock
        self.functions = tuple(functions)
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self.exclude_syspath = exclude_syspath
        self.threads = threads
        self.output = os.fspath(output) if output is not None else None
        self.format = format
        self.reader = reader
        self._ignore_tids = tuple(_ignore_tids)
        self._lock = threading.Lock()
        self._session = None  # the Sampler or the TraceSession while running
        self._pid = None
        self._profile = None
        self._forked = False
        self._outputs = 0
        self._active_calls = 0  # decorator: nesting and concurrent calls

    # ---- settings shared by the decorator's per-call profilers ----
    def _settings(self):
        return dict(mode=self.mode, rate=self.rate, clock=self.clock, functions=self.functions,
                    include=self.include, exclude=self.exclude,
                    exclude_syspath=self.exclude_syspath, threads=self.threads,
                    output=self.output, format=self.format, reader=self.reader,
                    _ignore_tids=self._ignore_tids)

    @property
    def running(self):
        return self._session is not None and self._pid == os.getpid()

    def start(self):
        """Starts profiling (a Profiler can be started again after stop(); the new run
        replaces the previous profile). Returns self."""
        with self._lock:
            if self.running:
                raise RuntimeError("this Profiler is already running")
            self._profile = None
            self._forked = False
            if self.mode == "sample":
                session = _core.Sampler(os.getpid(), rate=self.rate, clock=self.clock,
                                        reader=self.reader, ignore_tids=self._ignore_tids)
                session.prepare()  # an unreadable runtime fails here, not in the thread
                session.start()
            else:
                cls = _trace_session_class(self.mode)
                session = cls(self.mode, clock=self.clock,
                              functions=tuple(_function_spec(f) for f in self.functions),
                              include=self.include, exclude=self.exclude,
                              exclude_syspath=self.exclude_syspath)
                session.start()
            self._session = session
            self._pid = os.getpid()
            self._started_wall = time.time()
            _running.add(self)
        return self

    def stop(self):
        """Stops profiling and returns the profile (a spyglass.Profile). In a process
        forked while profiling, the child has no samples of its own: stop() returns None
        there. Writes the profile to `output` when one was given."""
        with self._lock:
            session, self._session = self._session, None
            _running.discard(self)
            if session is None:
                if self._profile is None and not self._forked:
                    raise RuntimeError("this Profiler was not started")
                return self._profile
            if self._pid != os.getpid():
                self._forked = True
                return None
            if self.mode == "sample":
                session.stop()
                session.join()
                profile = session.profile()
                profile.set_attr("python", "%d.%d.%d" % sys.version_info[:3])
            else:
                profile = session.stop()
            profile.set_attr("command", " ".join(sys.argv) if sys.argv and sys.argv[0]
                             else sys.executable)
            self._profile = profile
        if self.output is not None:
            self._outputs += 1
            self.write(self.format, _expand_path(self.output, self._outputs))
        return profile

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # ---- results ----
    @property
    def profile(self):
        """The spyglass.Profile of the last run (after stop())."""
        if self.running:
            raise RuntimeError("the profiler is still running: stop() it first")
        if self._profile is None:
            if self._forked:
                raise _error("SG_E_ARG", "profiling does not follow fork(): this process "
                             f"(PID {os.getpid()}) has no samples of its own")
            raise RuntimeError("nothing was profiled yet: start() and stop() first")
        return self._profile

    def _options(self, overrides):
        unknown = set(overrides) - set(_RENDER_OPTIONS)
        if unknown:
            raise TypeError(f"unknown report option(s): {', '.join(sorted(unknown))} "
                            f"(known: {', '.join(_RENDER_OPTIONS)})")
        opts = {"threads": self.threads}
        if self.mode == "sample":  # in trace modes these chose what was traced
            opts.update(include=self.include, exclude=self.exclude,
                        exclude_syspath=self.exclude_syspath)
        opts.update(overrides)
        return opts

    def render(self, format="text", **options):
        """The report as bytes (the profile file itself for format 'pprof')."""
        return _encode_or_render(self.profile, format, self._options(options))

    def report(self, format="text", file=None, **options):
        """Prints the report (default: text on stdout). options: threads ('all' or
        'main'), exclude_syspath, include, exclude (lists of globs), per_thread, view
        ('wall', 'cpu', 'gil'), max_rows, min_share, context, color."""
        data = self.render(format, **options)
        out = sys.stdout if file is None else file
        if format in _output.PROFILE_FORMATS:
            getattr(out, "buffer", out).write(data)
        else:
            out.write(data.decode("utf-8", "replace"))
        out.flush()

    def save(self, path):
        """Writes the profile file (pprof, gzip-compressed) to path, atomically."""
        self.profile.save(os.fspath(path))

    def write(self, format, path, **options):
        """Writes the report in format (None: chosen by the path's suffix) to path,
        atomically."""
        path = os.fspath(path)
        fmt = _output.choose_format(format, path)
        _core.write_file(path, self.render(fmt, **options))

    # ---- decorator ----
    def __call__(self, func):
        return _decorate(func, self)


def _decorate(func, template):
    """Wraps func so that each outermost call is profiled with template's settings.
    Calls made while one is already being profiled (recursion, other threads: sampling
    sees every thread anyway) just run."""
    if not callable(func):
        raise TypeError("spyglass.profile decorates a function")
    settings = template._settings()
    output = settings.pop("output")
    state = {"active": 0, "calls": 0}
    lock = threading.Lock()
    name = getattr(func, "__qualname__", repr(func))

    def enter():
        with lock:
            state["active"] += 1
            if state["active"] > 1:
                return None
        try:
            return Profiler(**settings).start()
        except BaseException:
            with lock:
                state["active"] -= 1
            raise

    def leave(p):
        try:
            if p is not None:
                p.stop()
                wrapper.profiler = p
                if p._profile is None:
                    pass  # a forked child: nothing of its own to report
                elif output is None:
                    sys.stderr.write(f"spyglass: profile of {name}()\n")
                    p.report("text", file=sys.stderr)
                else:
                    with lock:
                        state["calls"] += 1
                        n = state["calls"]
                    p.write(p.format, _expand_path(output, n))
        finally:
            with lock:
                state["active"] -= 1

    if inspect.iscoroutinefunction(func):
        @functools.wraps(func)
        async def wrapper(*args, **kwargs):
            p = enter()
            try:
                return await func(*args, **kwargs)
            finally:
                leave(p)
    else:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            p = enter()
            try:
                return func(*args, **kwargs)
            finally:
                leave(p)
    wrapper.profiler = None  # the Profiler of the last completed call
    return wrapper


def profile(func=None, /, *args, **kwargs):
    """`with spyglass.profile(mode="sample", rate=1000, clock="wall", ...) as p:` profiles
    a block; `@spyglass.profile` or `@spyglass.profile(...)` profiles every call of a
    function (the report goes to stderr, or to output=PATH). See Profiler for the
    options."""
    if func is not None and callable(func) and not args and not kwargs:
        return _decorate(func, Profiler())
    if func is not None:
        args = (func,) + args
    return Profiler(*args, **kwargs)


# ---- toggling on a signal ----

class SignalToggle:
    """Returned by toggle_on_signal(): the first signal starts profiling, the next stops
    it and writes one profile per window. The signal handler only writes a byte to a
    pipe; a helper thread (never sampled) does the work."""

    def __init__(self, signum, path, format, quiet, settings):
        self.signum = signum
        self.path = os.fspath(path)
        self.format = format
        self.quiet = quiet
        self.written = []  # the files written, in order
        self.errors = []   # one line per failed window
        self._settings = settings
        self._pid = os.getpid()
        self._cond = threading.Condition()
        self._profiler = None
        self._windows = 0
        self._closed = False
        self._r, self._w = os.pipe()
        os.set_blocking(self._w, False)
        tid_ready = threading.Event()
        self._tid = None
        self._thread = threading.Thread(target=self._work, args=(tid_ready,),
                                        name="spyglass-toggle", daemon=True)
        self._thread.start()
        tid_ready.wait()
        try:
            self._previous = signal.signal(signum, self._handler)
        except BaseException:
            self._quit()
            raise
        _toggles.add(self)

    @property
    def active(self):
        """True while a window is open (sampling or tracing)."""
        with self._cond:
            return self._profiler is not None

    def _handler(self, signum, frame):
        if os.getpid() != self._pid:
            return  # a forked child inherited the handler, not the helper thread
        try:
            os.write(self._w, b"t")
        except OSError:
            pass

    def _notice(self, msg):
        if not self.quiet:
            sys.stderr.write(f"spyglass: {msg}\n")
            sys.stderr.flush()

    def _work(self, tid_ready):
        self._tid = threading.get_native_id()
        # The signal goes to a thread that runs Python code (the main thread runs the
        # handler), never to this one blocked in read().
        signal.pthread_sigmask(signal.SIG_BLOCK, {self.signum})
        tid_ready.set()
        while True:
            try:
                data = os.read(self._r, 64)
            except InterruptedError:
                continue
            except OSError:
                return
            if not data:
                return
            for b in data:
                if b == ord("q"):
                    return
                self._toggle()

    def _toggle(self):
        with self._cond:
            profiler = self._profiler
        if profiler is None:
            try:
                profiler = Profiler(**self._settings, _ignore_tids=(self._tid,)).start()
            except (_core.Error, OSError, RuntimeError) as exc:
                self._fail(f"cannot start profiling: {_message(exc)}")
                return
            with self._cond:
                self._profiler = profiler
                self._cond.notify_all()
            self._notice(f"profiling started (signal {self.signum})")
        else:
            self._finish(profiler)

    def _finish(self, profiler):
        try:
            profiler.stop()
            with self._cond:
                self._windows += 1
                n = self._windows
            path = _expand_path(self.path, n)
            profiler.write(self.format, path)
            ok, bad = profiler.profile.sample_counts()
        except (_core.Error, OSError, RuntimeError, ValueError) as exc:
            with self._cond:
                self._profiler = None
            self._fail(f"profiling window could not be written: {_message(exc)}")
            return
        with self._cond:
            self._profiler = None
            self.written.append(path)
            self._cond.notify_all()
        self._notice(f"wrote {path}" + (f" ({ok} samples)" if self._settings["mode"] ==
                                        "sample" else ""))

    def _fail(self, msg):
        with self._cond:
            self.errors.append(msg)
            self._cond.notify_all()
        sys.stderr.write(f"spyglass: error: {msg}\n")
        sys.stderr.flush()

    def wait(self, active=None, windows=None, timeout=None):
        """Waits until a window is open (active=True) or closed (active=False), or until
        `windows` profiles were written. Returns True if the condition was met."""
        def met():
            if active is not None and (self._profiler is not None) != active:
                return False
            if windows is not None and len(self.written) + len(self.errors) < windows:
                return False
            return True

        with self._cond:
            return self._cond.wait_for(met, timeout)

    def _quit(self):
        try:
            os.write(self._w, b"q")
        except OSError:
            pass
        self._thread.join(timeout=10)
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass

    def close(self):
        """Restores the previous signal handler; a window still open is stopped and
        written."""
        if self._closed or os.getpid() != self._pid:
            return
        self._closed = True
        _toggles.discard(self)
        try:
            if signal.getsignal(self.signum) == self._handler:
                signal.signal(self.signum, self._previous)
        except ValueError:
            pass  # not in the main thread: the handler stays, inert once closed
        self._quit()
        with self._cond:
            profiler = self._profiler
        if profiler is not None:
            self._finish(profiler)


_toggles = weakref.WeakSet()


def _message(exc):
    if isinstance(exc, _core.Error) and len(exc.args) >= 2:
        return exc.args[1]
    return str(exc)


def toggle_on_signal(signum=signal.SIGUSR2, path="spyglass-{pid}-{n}.pb.gz", mode="sample",
                     rate=DEFAULT_RATE, clock="wall", *, format=None, quiet=False,
                     **options):
    """Profiles a long-running program in windows: the first `signum` starts profiling,
    the next stops it and writes the window's profile to path ({pid}, {n} = window
    number from 1, {time} = when it was written), and so on. Call it from the main
    thread. Returns a SignalToggle (close() restores the previous handler; a window open
    at exit is written). Other options as for Profiler (functions, include, exclude,
    exclude_syspath, threads, reader)."""
    path = os.fspath(path)
    _check_template(path)
    parent = os.path.dirname(os.path.abspath(_expand_path(path, 1)))
    if not os.path.isdir(parent):
        raise ValueError(f"cannot write profiles to {path!r}: directory {parent} does not "
                         "exist")
    fmt = _output.choose_format(format, path)
    Profiler(mode, rate, clock, format=fmt, **options)  # validates the settings now
    for t in list(_toggles):
        if t.signum == signum:
            t.close()
    settings = dict(mode=mode, rate=rate, clock=clock, **options)
    return SignalToggle(signum, path, fmt, quiet, settings)


@atexit.register
def _at_exit():
    """Windows still open are written; profilers still running are stopped (and written
    when they have an output) so that no native thread samples a finalizing interpreter."""
    for t in list(_toggles):
        try:
            t.close()
        except Exception as exc:  # noqa: BLE001 - exit must go on
            sys.stderr.write(f"spyglass: error: {_message(exc)}\n")
    for p in list(_running):
        try:
            p.stop()
        except Exception as exc:  # noqa: BLE001
            sys.stderr.write(f"spyglass: error: {_message(exc)}\n")


def _after_fork_in_child():
    # The helper threads and sampler threads do not exist in the child: forget them.
    _toggles.clear()
    _running.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
