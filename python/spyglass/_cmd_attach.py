"""`spyglass attach PID` and `spyglass dump PID`: sample, or look once at, a Python
process that is already running. Both only read the target's memory: it is never
stopped, signalled or written to, so detaching leaves it exactly as it was."""

import json
import os
import signal
import sys

from . import _core, _output, _run
from .cli import (DEFAULT_RATE, _add_output_options, _add_sampler_options, _check_format,
                  _fail, _Parser, _warn)

F_ONCPU, F_GIL, F_GILWAIT, F_PARTIAL = 1, 2, 4, 8
DUMP_ATTEMPTS = 5


def _pid_arg(text):
    try:
        pid = int(text)
    except ValueError:
        pid = 0
    if pid <= 0:
        raise ValueError
    return pid


def _check_pid(pid):
    """None when pid names a live process, else the one-line problem."""
    if pid == os.getpid():
        return "that is spyglass's own process id"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return f"no process with id {pid}"
    except PermissionError:
        pass  # it exists; whether we may read it is the reader's question
    return None


def _attach_parser():
    p = _Parser(prog="spyglass attach",
                description="Sample a running Python process until Ctrl-C, --duration or "
                            "its exit, then write the profile and the report. The process "
                            "is never paused or modified.")
    p._sg_cmd = "attach"
    p.add_argument("pid", metavar="PID", help="the process id of a running Python program")
    p.add_argument("--duration", type=float, default=0, metavar="SECONDS",
                   help="stop after SECONDS (default: until Ctrl-C or the process exits)")
    p.add_argument("--rate", type=float, default=DEFAULT_RATE, metavar="HZ",
                   help=f"samples per second (default {DEFAULT_RATE})")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall: every thread at every tick (default); cpu: only threads on a CPU")
    _add_sampler_options(p)
    _add_output_options(p, "default: text to stderr")
    return p


def _open_sampler(pid, tell=True, **kw):
    """A prepared Sampler, or raises _core.Error with a message for the user. tell: say
    it when the target is read through its own _Py_DebugOffsets."""
    sampler = _core.Sampler(pid, **kw)
    sampler.prepare()
    if tell:
        _run.tell_layout(sampler, _warn)
    return sampler


def cmd_attach(argv):
    opts = _attach_parser().parse_args(argv)
    try:
        pid = _pid_arg(opts.pid)
    except ValueError:
        return _fail(f"'{opts.pid}' is not a process id")
    if not (0 < opts.rate <= 1_000_000):
        return _fail("--rate must be between 1 and 1000000 samples per second")
    if opts.duration < 0:
        return _fail("--duration must not be negative")
    _check_format(opts.format)
    problem = _check_pid(pid)
    if problem:
        return _fail(problem)
    try:
        sampler = _open_sampler(pid, rate=opts.rate, clock=opts.clock, duration=opts.duration,
                                subprocesses=opts.subprocesses, max_threads=opts.max_threads,
                                blocking=opts.blocking)
    except _core.Error as exc:
        return _fail(f"cannot attach to process {pid}: {exc.args[1]}")

    runner = _run._SamplerThread(sampler)
    runner.start()
    if sys.stderr.isatty():
        _warn(f"sampling process {pid} (Python {sampler.python_version}) at "
              f"{opts.rate:g} Hz; Ctrl-C to stop")
    # Ctrl-C and SIGTERM only ask the sampler to stop: a KeyboardInterrupt inside
    # Thread.join() can leave the thread marked as finished while it still runs (3.9).
    interrupted = []

    def stop(signum, _frame):
        interrupted.append(signum)
        sampler.stop()

    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while runner.is_alive():
            runner.join(0.2)
    finally:
        sampler.stop()
        runner.join()
        for sig, handler in old.items():
            signal.signal(sig, handler)
    if runner.error is not None:
        return _fail(f"sampling process {pid} failed: {runner.error.args[1]}")
    profile = sampler.profile()
    profile.set_attr("command", _cmdline(pid) or f"pid {pid}")
    profile.set_attr("attached", "yes")
    if sampler.python_version:
        profile.set_attr("python", sampler.python_version)
    if interrupted:
        _warn("interrupted; the samples taken so far are reported")
    fmt = _output.choose_format(opts.format, opts.output)
    try:
        _output.emit(profile, fmt, opts.output, opts, default_stream=sys.stderr)
    except _core.Error as exc:
        return _fail(exc.args[1], 1)
    if opts.output and opts.output != "-":
        ok, bad = profile.sample_counts()
        rate = 100.0 * bad / (ok + bad) if ok + bad else 0.0
        _warn(f"wrote {opts.output} ({fmt}; {ok} samples, {rate:.2f}% errors)")
    return 128 + interrupted[0] if interrupted else 0


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except OSError:
        return ""
    return " ".join(a.decode("utf-8", "replace") for a in raw.rstrip(b"\0").split(b"\0"))


def _dump_parser():
    p = _Parser(prog="spyglass dump",
                description="Print every thread's current Python stack, once (innermost "
                            "frame first). The process is not paused: each thread's stack "
                            "is read as it runs.")
    p._sg_cmd = "dump"
    p.add_argument("pid", metavar="PID", help="the process id of a running Python program")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def _snapshot(pid):
    """One consistent reading of every thread: retried when a stack was torn."""
    last = None
    for attempt in range(DUMP_ATTEMPTS):
        sampler = _open_sampler(pid, tell=attempt == 0, rate=1000)
        sampler.tick()
        profile = sampler.profile()
        ok, bad = profile.sample_counts()
        last = (profile, sampler.python_version, bad)
        if bad == 0:
            break
    return last


def _threads_of(profile):
    d = profile.to_dict()
    funcs, locs, tracks = d["functions"], d["locations"], d["tracks"]
    no_gil = d["attrs"].get("gil") == "none"  # free-threaded, running without a GIL
    out = []
    for r in d["records"]:
        tr = tracks[r["track"]]
        frames = []
        for loc in reversed(r["stack"]):
            f, line = locs[loc]
            name, filename, _first = funcs[f]
            frames.append({"function": name, "file": filename, "line": line})
        flags = r["flags"]
        out.append({
            "tid": tr["tid"], "name": tr["name"], "main": tr["is_main"],
            "running": bool(flags & F_ONCPU),
            "gil": None if no_gil else bool(flags & F_GIL),
            "gil_wait": None if no_gil else bool(flags & F_GILWAIT),
            "partial": bool(flags & F_PARTIAL),
            "frames": frames,
        })
    out.sort(key=lambda t: (not t["main"], t["tid"]))
    return out


def _state(t):
    words = ["running" if t["running"] else "idle"]
    if t["gil"] is None:
        words.append("GIL n/a (free-threaded)")
    elif t["gil"]:
        words.append("holds the GIL")
    elif t["gil_wait"]:
        words.append("waiting for the GIL")
    return ", ".join(words)


def _clean(text):
    """Names from the target are data: no control characters reach the terminal."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in str(text))


def cmd_dump(argv):
    opts = _dump_parser().parse_args(argv)
    try:
        pid = _pid_arg(opts.pid)
    except ValueError:
        return _fail(f"'{opts.pid}' is not a process id")
    problem = _check_pid(pid)
    if problem:
        return _fail(problem)
    try:
        profile, version, bad = _snapshot(pid)
    except _core.Error as exc:
        return _fail(f"cannot read process {pid}: {exc.args[1]}")
    threads = _threads_of(profile)
    if opts.json:
        json.dump({"pid": pid, "python": version, "command": _cmdline(pid),
                   "threads": threads, "torn_stacks": bad}, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    w = sys.stdout.write
    w(f"Process {pid}: {_clean(_cmdline(pid))}\nPython {version}\n")
    for t in threads:
        w(f"\nThread {t['tid']} ({_state(t)}): \"{_clean(t['name'])}\"\n")
        for fr in t["frames"]:
            w(f"    {_clean(fr['function'])} ({_clean(fr['file'])}:{fr['line']})\n")
        if t["partial"]:
            w("    ... (the rest of the stack could not be read)\n")
    if bad:
        w(f"\n{bad} thread stack(s) changed while being read and are not shown\n")
    return 0
