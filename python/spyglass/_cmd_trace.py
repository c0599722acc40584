"""`spyglass trace` (functions, like cProfile) and `spyglass lines` (lines, like
line_profiler): deterministic tracing of a program run inside this process, as
`python -m cProfile` does.

The program runs as `python script.py` or `python -m module` would run it (its own
`__main__` module, sys.argv, sys.path[0]); tracing starts right before its first line,
so the profile holds the program and nothing of spyglass. When it ends (normally, by
sys.exit, by an exception or by Ctrl-C) the threads it left running are waited for as
the interpreter would, tracing stops, and the profile is written; spyglass then exits
with the program's status (128 + 2 after Ctrl-C, as `spyglass run` does)."""

import argparse
import io
import os
import sys
import threading
import types

from . import _core, _output, _trace

OWN_FILE = os.path.abspath(__file__)

USAGE_TRACE = """\
spyglass trace [options] script.py [args...]   trace every call (like cProfile)
spyglass trace [options] -m module [args...]"""
USAGE_LINES = """\
spyglass lines [options] script.py [args...]   time every line (like line_profiler)
spyglass lines [options] -m module [args...]"""

VALUE_OPTS = {"--clock", "-o", "--output", "--format", "--threads", "--include", "--exclude",
              "--sort", "--function"}


class TargetError(Exception):
    """The program could not be started: message for the user, exit status."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


def _parser(mode):
    from .cli import _Parser, _add_output_options

    usage = USAGE_TRACE if mode == "trace" else USAGE_LINES
    lines = usage.splitlines()
    if mode == "trace":
        desc = ("Run a Python program in this process and trace every call of every thread, "
                "builtins included: call counts (total/primitive), own and cumulative time, "
                "callers and callees. The report goes to stderr when the program ends.")
    else:
        desc = ("Run a Python program in this process and time every line of its own code "
                "(not the standard library or site-packages, unless --include says so): "
                "hits, time and time per hit, shown as annotated source. The report goes to "
                "stderr when the program ends.")
    p = _Parser(prog=f"spyglass {mode}", usage=lines[0].split("   ")[0] + "\n       " +
                lines[1], description=desc)
    p._sg_cmd = mode
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall: elapsed time (default); cpu: CPU time of each thread")
    p.add_argument("--subprocesses", action="store_true",
                   help="also trace child processes started by multiprocessing or by "
                        "subprocess with this Python; one section per process")
    if mode == "trace":
        p.add_argument("--sort", metavar="KEY", default="cumulative",
                       help="order of the table: cumulative (default), tottime, ncalls, "
                            "pcalls, percall, cumpercall, name, filename, line")
    else:
        p.add_argument("--function", action="append", metavar="MODULE:QUALNAME",
                       help="trace only this function (repeatable), e.g. __main__:main or "
                            "mypkg.mod:Class.method; @spyglass.lines in the code does the same")
    _add_output_options(p, "default: text to stderr")
    for action in p._actions:
        if action.dest == "include":
            action.help = ("trace only code whose file path matches GLOB (repeatable)" +
                           ("; for lines this replaces the default scope" if mode == "lines"
                            else ""))
        elif action.dest == "exclude":
            action.help = "do not trace code whose file path matches GLOB (repeatable)"
        elif action.dest == "exclude_syspath":
            action.help = ("do not trace the standard library and site-packages"
                           + (" (the default for lines)" if mode == "lines" else ""))
    return p


def _split_argv(argv):
    """(our options, kind, target, program args): ours stop at the script or -m MODULE."""
    ours = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "-m":
            return ours, "module", (argv[i + 1] if i + 1 < len(argv) else None), argv[i + 2:]
        if tok.startswith("-m") and not tok.startswith("--") and len(tok) > 2:
            return ours, "module", tok[2:], argv[i + 1:]
        if tok == "--":
            if i + 1 < len(argv):
                return ours, "script", argv[i + 1], argv[i + 2:]
            return ours, None, None, []
        if tok.startswith("-") and tok != "-":
            ours.append(tok)
            if tok in VALUE_OPTS and i + 1 < len(argv):
                ours.append(argv[i + 1])
                i += 1
            i += 1
            continue
        return ours, "script", tok, argv[i + 1:]
    return ours, None, None, []


# ---- preparing the program as python would -----------------------------------------

def _prepare_script(path, args):
    """(code, module) for `python path args`; raises TargetError."""
    full = os.path.abspath(path)
    if os.path.isdir(full) or (os.path.isfile(full) and _is_zip(full)):
        return _prepare_module("__main__", args, path0=full, argv0=path)
    try:
        with io.open_code(full) as f:
            source = f.read()
    except OSError as exc:
        raise TargetError(f"cannot open script '{path}': {exc.strerror or exc}", 2) from None
    sys.path[0:1] = [os.path.dirname(full)]
    code = compile(source, full, "exec")  # a SyntaxError is the program's own
    module = types.ModuleType("__main__")
    module.__dict__.update(__file__=full, __cached__=None, __spec__=None, __package__=None,
                           __builtins__=__builtins__)
    try:
        from importlib.machinery import SourceFileLoader

        module.__loader__ = SourceFileLoader("__main__", full)
    except ImportError:
        pass
    sys.argv[:] = [path] + list(args)
    return code, module


def _is_zip(path):
    import zipfile

    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def _prepare_module(name, args, path0=None, argv0=None):
    import runpy

    sys.path[0:1] = [path0 or os.getcwd()]
    try:
        mod_name, spec, code = runpy._get_module_details(name)
    except ImportError as exc:
        raise TargetError(str(exc), 1) from None
    except Exception as exc:  # an error while importing the module's package
        raise TargetError(f"cannot import module '{name}': {exc}", 1) from None
    module = types.ModuleType("__main__")
    module.__dict__.update(__name__="__main__", __file__=spec.origin, __cached__=spec.cached,
                           __doc__=None, __loader__=spec.loader, __package__=spec.parent,
                           __spec__=spec, __builtins__=__builtins__)
    sys.argv[:] = [argv0 or spec.origin or name] + list(args)
    return code, module


# ---- running it --------------------------------------------------------------------

def _print_uncaught(exc):
    """The traceback Python would print, without this module's frame."""
    tb = exc.__traceback__
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) == OWN_FILE:
        tb = tb.tb_next
    exc.__traceback__ = tb
    try:
        sys.excepthook(type(exc), exc, tb)
    except Exception:  # a broken hook must not lose the profile
        import traceback

        traceback.print_exception(type(exc), exc, tb)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _exit_status(code):
    """What `python` exits with for SystemExit(code)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(f"{code}\n")
        sys.stderr.flush()
    except Exception:
        pass
    return 1


def _wait_for_threads():
    """Joins the program's non-daemon threads, as the interpreter does at exit."""
    me = threading.current_thread()
    while True:
        pending = [t for t in threading.enumerate()
                   if t is not me and not t.daemon and t.is_alive()
                   and not isinstance(t, threading._DummyThread)]
        if not pending:
            return
        for t in pending:
            t.join()


def _end_children():
    """What the interpreter does at exit for multiprocessing (terminate the daemonic
    children, join the others), done now so that their profiles are there to merge."""
    util = sys.modules.get("multiprocessing.util")
    if util is not None and hasattr(util, "_exit_function"):
        try:
            util._exit_function()
        except Exception:
            pass


def _on_sigterm(signum, frame):
    # a service stopped with SIGTERM still gets its profile: the program unwinds as if
    # it called sys.exit(143), the status a shell reports for a SIGTERM
    raise SystemExit(128 + signum)


def _run(session, code, module, with_children=False):
    """Runs code as __main__ under the session. Returns (status, exception to report,
    profile)."""
    import signal

    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)  # the program may install its own
    session.start()
    saved_main = sys.modules.get("__main__")
    sys.modules["__main__"] = module
    exc_to_report = None
    status = 0
    try:
        try:
            exec(code, module.__dict__)
        except SystemExit as exc:
            status = _exit_status(exc.code)
        except KeyboardInterrupt as exc:
            status, exc_to_report = 128 + 2, exc
        except BaseException as exc:  # noqa: B902 - reported as Python would
            status, exc_to_report = 1, exc
        session.pause()  # the waiting is spyglass's, the threads' work is the program's
        try:
            _wait_for_threads()
            if with_children:
                _end_children()
        except KeyboardInterrupt as exc:
            if exc_to_report is None:
                status, exc_to_report = 128 + 2, exc
    finally:
        # (in a forked child that ended through here, the child's own saver may have
        # stopped it already)
        profile = session.stop() if session.active else None
        if saved_main is not None and sys.modules.get("__main__") is module:
            sys.modules["__main__"] = saved_main
    return status, exc_to_report, profile


def main(argv, mode):
    from .cli import _fail, _warn

    ours, kind, target, args = _split_argv(list(argv))
    opts = _parser(mode).parse_args(ours)
    if target is None:
        return _fail(f"nothing to run: give a script or -m module (see 'spyglass {mode} --help')")
    if opts.format and opts.format not in _output.known_formats():
        return _fail(f"unknown format '{opts.format}' (choose from "
                     f"{', '.join(_output.known_formats())})")
    if mode == "trace":
        keys = [k.strip() for k in _core.TRACE_SORT_KEYS.split(",")]
        if opts.sort.lower() not in keys:
            return _fail(f"unknown sort key '{opts.sort}' (choose from {', '.join(keys)})")
    functions = tuple(getattr(opts, "function", None) or ())
    for spec in functions:
        mod, _, qual = spec.rpartition(":")
        if not qual or (":" in spec and not mod):
            return _fail(f"--function wants MODULE:QUALNAME, e.g. __main__:main (got '{spec}')")
    output = opts.output
    if output and output != "-":
        output = os.path.abspath(output)  # the program may change directory
        if not os.path.isdir(os.path.dirname(output)):
            return _fail(f"cannot write '{opts.output}': directory "
                         f"{os.path.dirname(output)} does not exist")
    if kind == "script" and not os.path.exists(target):
        return _fail(f"cannot open script '{target}': no such file")

    try:
        session = _trace.TraceSession(mode, opts.clock, functions=functions,
                                      include=opts.include or (), exclude=opts.exclude or (),
                                      exclude_syspath=True if opts.exclude_syspath else None)
        if kind == "script":
            code, module = _prepare_script(target, args)
        else:
            code, module = _prepare_module(target, args)
    except TargetError as exc:
        return _fail(str(exc), exc.status)
    except SyntaxError as exc:
        _print_uncaught(exc)
        return 1
    except (ValueError, RuntimeError) as exc:
        return _fail(str(exc))

    children = None
    if opts.subprocesses:
        from . import _children

        try:
            children = _children.Children(mode, opts.clock, session, functions=functions,
                                          include=opts.include or (),
                                          exclude=opts.exclude or (),
                                          exclude_syspath=True if opts.exclude_syspath else None)
        except OSError as exc:
            return _fail(f"cannot prepare the tracing of child processes: {exc}")
    pid = os.getpid()
    try:
        status, exc, profile = _run(session, code, module, children is not None)
    except RuntimeError as exc:  # the tracer could not start (another tracer is active)
        return _fail(str(exc))
    if exc is not None:
        _print_uncaught(exc)
    if os.getpid() != pid:
        # A child forked by the program ran to its end here. The report is the
        # parent's to write; with --subprocesses the child's profile joins it.
        if children is not None and profile is not None:
            children.save_child(profile)
        return status
    if profile is None:
        return _fail("the tracer was stopped by the program", status or 1)
    command = " ".join([target] + list(args)) if kind == "script" else \
        " ".join(["-m", target] + list(args))
    profile.set_attr("command", command)
    profile.set_attr("python", sys.version.split()[0])
    profile.set_attr("exit_status", str(status))
    if children is not None:
        children.merge_into(profile, _warn)
    fmt = _output.choose_format(opts.format, output)
    try:
        sys.stdout.flush()  # the program's own output first
    except Exception:
        pass
    # the scope options already chose what was traced; do not filter twice
    shown = argparse.Namespace(**vars(opts))
    shown.include = shown.exclude = None
    shown.exclude_syspath = False
    try:
        _output.emit(profile, fmt, output, shown, default_stream=sys.__stderr__)
    except _core.Error as err:
        _fail(err.args[1])
        return status or 1
    except OSError as err:
        _fail(f"cannot write the report: {err.strerror or err}")
        return status or 1
    if output and output != "-":
        d = profile.to_dict()
        n = sum(r["values"][0] for r in d["records"])
        what = "calls" if mode == "trace" else "line hits"
        nt, np_ = len(d["tracks"]), len(d["processes"])
        where = f"{nt} thread{'s' * (nt != 1)}" + (f", {np_} processes" if np_ > 1 else "")
        _warn(f"wrote {opts.output} ({fmt}; {n} {what} in {where})")
    return status


def main_trace(argv):
    return main(argv, "trace")


def main_lines(argv):
    return main(argv, "lines")
