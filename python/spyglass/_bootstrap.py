"""Starts a profiled program in the child process of ``spyglass run``.

Run as a file (never imported): ``python _bootstrap.py READY_FD GO_FD script|module
TARGET [ARGS...]``. It tells the parent that the interpreter is up, waits for the go
signal (so the sampler is already reading when the program's first line runs), then
runs the program as ``python script.py`` or ``python -m module`` would. Its own frames
and runpy's are stripped from the profile and from tracebacks. It imports nothing from
spyglass, so any interpreter can run it."""

import os
import pkgutil  # noqa: F401 - runpy imports it on first use from 3.15 on: not the program's time
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


def main():
    ready_fd, go_fd, kind, target = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    args = sys.argv[5:]
    _handshake(ready_fd, go_fd)
    if kind == "script":
        sys.argv = [target] + args
        sys.path[0] = os.path.dirname(os.path.abspath(target))
        runner = lambda: runpy.run_path(target, run_name="__main__")  # noqa: E731
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
