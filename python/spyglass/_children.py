"""--subprocesses for `spyglass trace` and `spyglass lines`: child processes are traced
too and land in the parent's profile, one section per process.

How a child gets traced:
  * forked (multiprocessing's fork start method, os.fork): the tracer is already
    running in the copy of the parent; an at-fork hook makes it start afresh;
  * a new interpreter (multiprocessing spawn and forkserver, subprocess running
    sys.executable): the parent puts a private directory holding a sitecustomize.py on
    PYTHONPATH and the tracing settings in SPYGLASS_TRACE_CHILD; the interpreter runs
    that file at start-up, which starts tracing (and then runs the program's own
    sitecustomize, if there is one).
Every traced child writes its profile into the parent's private temporary directory
(made with mkdtemp, mode 0700) when it ends: at normal exit, at os._exit (how forked
multiprocessing children end) and on SIGTERM (how a Pool stops its workers). The
parent merges what it finds there when the program is over.

SIGTERM needs care: a Python-level handler runs in the main thread between
instructions, and a worker blocked in a multiprocessing lock can miss it (the signal
lands between the lock's non-blocking try and its blocking wait, the process then
sleeps forever and the Pool waits for it). So a small thread of the child's also
waits on the signal wake-up file descriptor: it saves the profile and ends the
process by SIGTERM's default action, whatever the main thread is doing."""

import atexit
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

from . import _core, _trace

ENV_CONFIG = "SPYGLASS_TRACE_CHILD"
ENV_BIAS = "SPYGLASS_TRACE_BIAS"

SITECUSTOMIZE = '''\
# Written by spyglass (--subprocesses): traces this Python process for the parent's
# profile, then runs the sitecustomize this file hides, if any.
def _spyglass_child():
    import os
    import sys
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    try:
        from importlib.machinery import PathFinder
        from importlib.util import module_from_spec
        spec = PathFinder.find_spec("sitecustomize", sys.path)
        if spec is not None and spec.loader is not None:  # the program's own
            module = module_from_spec(spec)
            sys.modules["sitecustomize"] = module
            spec.loader.exec_module(module)
    except Exception as exc:
        sys.stderr.write("Error in sitecustomize: %r\\n" % (exc,))
    try:
        try:
            from spyglass import _children
        except ImportError:
            sys.path.append(os.environ.get("SPYGLASS_TRACE_PATH", ""))
            from spyglass import _children
        _children.child_main()
    except Exception as exc:  # never break the child
        sys.stderr.write("spyglass: cannot trace process %d: %s\\n" % (os.getpid(), exc))


_spyglass_child()
'''

_fork_dir = None  # set in a parent that traces its children
_saver = None     # this process's saver, if it is a traced child
_real_exit = None


class _Saver:
    """Writes this child process's profile once, however it ends."""

    def __init__(self, session, directory):
        self.session = session
        self.directory = directory
        self.pid = os.getpid()
        self.state = "tracing"  # then "saving", then "saved"
        self.once = threading.Lock()  # taken once, never released, never waited for

    def save(self, profile=None):
        """Saves once; True when this call did. Never blocks: it may run in a signal
        handler that interrupted a save, or in the watcher thread while another saves."""
        if os.getpid() != self.pid or not self.once.acquire(blocking=False):
            return False
        self.state = "saving"
        try:
            if profile is None:
                profile = self.session.stop()
            profile.set_attr("command", " ".join(sys.argv))
            name = f"{os.getpid()}-{time.monotonic_ns()}.pb.gz"
            profile.save(os.path.join(self.directory, name))
        except BaseException:  # noqa: B902 - the process is ending: nothing may stop it
            pass  # (the directory may be gone if the parent ended first)
        self.state = "saved"
        return True


def _exit_with_save(code):
    try:
        if _saver is not None:
            _saver.save()
    finally:
        _real_exit(code)


def _on_sigterm(signum, frame):
    if _saver is not None and not _saver.save():
        # Saving already (the process was ending, or the watcher thread has it): the
        # save under way finishes, then the process ends the way it was going to.
        return
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _watch_signals(fd):
    """The SIGTERM watcher (see the module's docstring)."""
    session = _trace.active_session()
    if session is not None:
        session.pause()  # its waiting is not the program's
    while True:
        try:
            data = os.read(fd, 64)
        except InterruptedError:
            continue
        except OSError:
            return
        if not data:
            return
        if signal.SIGTERM in data and signal.getsignal(signal.SIGTERM) is _on_sigterm:
            # Another thread saving means the process is already on its way out (its
            # os._exit, or the main thread's own handler, which then ends it).
            if _saver is None or _saver.save():
                _core.trace_die(signal.SIGTERM)


def _start_watcher():
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        previous = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    except (ValueError, OSError):  # not the main thread
        previous = None
    if previous != -1:  # the program uses the wake-up fd (asyncio does): leave it
        if previous is not None:
            signal.set_wakeup_fd(previous)
        os.close(r)
        os.close(w)
        return
    threading.Thread(target=_watch_signals, args=(r,), name="spyglass-signals",
                     daemon=True).start()


def _install_saver(session, directory):
    global _saver, _real_exit
    _saver = _Saver(session, directory)
    if _real_exit is None:
        _real_exit = os._exit
        os._exit = _exit_with_save
        atexit.register(lambda: _saver is not None and _saver.save())
    try:
        # the default, or spyglass's own (a forked child inherits the command's)
        handler = signal.getsignal(signal.SIGTERM)
        if handler == signal.SIG_DFL or getattr(handler, "__module__", "").startswith("spyglass"):
            signal.signal(signal.SIGTERM, _on_sigterm)
            _start_watcher()
    except (ValueError, OSError):  # not the main thread
        pass


def current_saver():
    return _saver


# SIGTERM is blocked in the forking thread from just before fork until the child has
# its own handler: a Pool that terminates a worker it has only just forked sends
# SIGTERM while the child still runs the at-fork hooks, where CPython ignores the
# exception the inherited handler raises, and the worker would wait forever.
_TERM = {signal.SIGTERM}


def _tracing_children():
    return _fork_dir is not None or _saver is not None


def _before_fork():
    if _tracing_children():
        signal.pthread_sigmask(signal.SIG_BLOCK, _TERM)


def _after_fork_in_parent():
    if _tracing_children():
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _TERM)


def _after_fork_in_child():
    """Registered at import, after the tracer's own hook (which restarted the record)."""
    if not _tracing_children():
        return
    try:
        directory = _fork_dir or _saver.directory
        session = _trace.active_session()
        if session is not None:
            _install_saver(session, directory)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _TERM)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)


def child_main():
    """In a new interpreter started under a traced parent: trace it."""
    cfg = json.loads(os.environ[ENV_CONFIG])
    if cfg.get("parent") == os.getpid():
        return
    session = _trace.TraceSession(cfg["mode"], cfg["clock"], functions=cfg["functions"],
                                  include=cfg["include"], exclude=cfg["exclude"],
                                  exclude_syspath=cfg["exclude_syspath"])
    session.start()
    _install_saver(session, cfg["dir"])


class Children:
    """In the traced parent: prepares the environment children inherit, and merges their
    profiles at the end."""

    def __init__(self, mode, clock, session, functions=(), include=(), exclude=(),
                 exclude_syspath=None):
        global _fork_dir
        self.dir = tempfile.mkdtemp(prefix="spyglass-")
        site = os.path.join(self.dir, "site")
        os.mkdir(site, 0o700)
        with open(os.path.join(site, "sitecustomize.py"), "w") as f:
            f.write(SITECUSTOMIZE)
        self.profiles = os.path.join(self.dir, "profiles")
        os.mkdir(self.profiles, 0o700)
        _fork_dir = self.profiles
        bias = _trace.calibrate(mode, clock)
        os.environ[ENV_BIAS] = ",".join(f"{k}={v}" for k, v in bias.items())
        os.environ[ENV_CONFIG] = json.dumps({
            "mode": mode, "clock": clock, "dir": self.profiles, "parent": os.getpid(),
            "functions": list(functions), "include": list(include), "exclude": list(exclude),
            "exclude_syspath": exclude_syspath,
        })
        package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        os.environ["SPYGLASS_TRACE_PATH"] = package_parent
        path = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = site + (os.pathsep + path if path else "")

    def save_child(self, profile):
        """A forked child that ran the program to its end (back in spyglass's code)."""
        saver = current_saver()
        if saver is not None:
            saver.save(profile)

    def merge_into(self, profile, warn):
        """Adds every child's profile to profile, then removes the directory."""
        global _fork_dir
        _fork_dir = None
        merged = bad = 0
        try:
            names = sorted(os.listdir(self.profiles))
        except OSError:
            names = []
        for name in names:
            if not name.endswith(".pb.gz"):
                continue
            try:
                profile.merge(_core.load(os.path.join(self.profiles, name)))
                merged += 1
            except _core.Error:
                bad += 1
        shutil.rmtree(self.dir, ignore_errors=True)
        if bad:
            warn(f"{bad} child process profile(s) could not be read")
        return merged
