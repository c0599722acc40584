"""Starts a profiled program in the child process of ``spyglass run``.

Run as a file (never imported): ``python _bootstrap.py READY_FD GO_FD script|module
TARGET [ARGS...]``. It tells the parent that the interpreter is up, waits for the go
signal (so the sampler is already reading when the program's first line runs), then
runs the program as ``python script.py`` or ``python -m module`` would. Its own frames
and runpy's are stripped from the profile and from tracebacks. It imports nothing from
spyglass, so any interpreter can run it."""

import io
import os
import runpy
import signal
import sys

_OWN_FILES = {os.path.abspath(__file__), runpy.__file__, "<frozen runpy>"}


def _handshake(ready_fd, go_fd):
    os.write(ready_fd, b"R")
    os.close(ready_fd)
    go = os.read(go_fd, 1)
    os.close(go_fd)
    if go != b"G":
        os._exit(1)  # the parent went away before starting us


def _report_uncaught(exc):
    """Prints the traceback as the interpreter would, minus our frames, and exits the
    way the interpreter does (status 1, or death by SIGINT for KeyboardInterrupt)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename in _OWN_FILES:
        tb = tb.tb_next
    exc.__traceback__ = tb  # newer interpreters print the exception's own traceback
    sys.excepthook(type(exc), exc, tb)
    if isinstance(exc, KeyboardInterrupt):
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    sys.exit(1)


def _run_script(path):
    """Runs a script as `python path` does: its code, compiled from its bytes (so its own
    coding cookie holds), in a fresh __main__ module whose __file__ is the absolute path
    (Python's own since 3.9; runpy.run_path keeps the path as given, so profiles named
    the file as typed, unlike plain python, trace and lines). Directories and zip files
    with a __main__.py go through runpy, which Python uses for them too. Not using
    runpy for files also spares every run its import of pkgutil (15 ms on 3.14/3.15)."""
    full = os.path.abspath(path)
    if os.path.isdir(full):
        return runpy.run_path(path, run_name="__main__")
    with io.open_code(full) as f:
        source = f.read()
    if source[:4] == b"PK\x03\x04":
        return runpy.run_path(path, run_name="__main__")
    code = compile(source, full, "exec", dont_inherit=True)
    from importlib.machinery import SourceFileLoader

    main = type(sys)("__main__")
    main.__file__ = full
    main.__cached__ = None
    main.__loader__ = SourceFileLoader("__main__", full)
    main.__spec__ = None
    sys.modules["__main__"] = main
    exec(code, main.__dict__)


def main():
    ready_fd, go_fd, kind, target = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    args = sys.argv[5:]
    _handshake(ready_fd, go_fd)
    if kind == "script":
        sys.argv = [target] + args
        sys.path[0] = os.path.dirname(os.path.abspath(target))
        runner = lambda: _run_script(target)  # noqa: E731
    else:
        sys.argv = [target] + args
        sys.path[0] = os.getcwd()
        runner = lambda: runpy._run_module_as_main(target, alter_argv=True)  # noqa: E731
    try:
        runner()
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: B902 - re-reported exactly as Python would
        _report_uncaught(exc)


main()
