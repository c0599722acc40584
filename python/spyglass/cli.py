"""The `spyglass` command (also `python -m spyglass`).

Every failure is one line on stderr, `spyglass: error: ...`, with a non-zero status;
no traceback from spyglass's own code ever reaches the user."""

import argparse
import os
import sys

from . import __version__, _browser, _core, _output, _run

DEFAULT_RATE = 1000

USAGE = """\
spyglass run [options] script.py [args...]     sample a new Python program
spyglass run [options] -m module [args...]
spyglass run [options] -- command [args...]    any command that runs Python
spyglass trace [options] script.py [args...]   trace every call (like cProfile); or -m module
spyglass lines [options] script.py [args...]   time every line (like line_profiler); or -m module
spyglass attach [options] PID                  sample a running Python process
spyglass dump [--json] PID                     print every thread's current stack, once
spyglass top [options] PID                     a live view of a running program
spyglass top [options] script.py | -m module | -- command [args...]
spyglass report [options] FILE                 render a saved profile
spyglass diff [options] BASE NEW               what got slower or faster between two profiles
spyglass check NEW --baseline BASE [options]   fail (exit 1) when a function regressed"""


def _warn(msg):
    sys.stderr.write(f"spyglass: {msg}\n")
    sys.stderr.flush()


def _fail(msg, status=2):
    sys.stderr.write(f"spyglass: error: {msg}\n")
    sys.stderr.flush()
    return status


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message):
        self.exit(2, f"spyglass: error: {message} (see 'spyglass {self._sg_cmd} --help')\n")


def _add_output_options(p, default_format_help):
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write to FILE instead of the terminal; without --format the suffix "
                        "decides: .pb.gz/.spyglass = the profile itself, .txt = text, "
                        ".collapsed/.folded = collapsed stacks, .callgrind or callgrind.out.* "
                        "= callgrind, .prof/.pstats = pstats, .speedscope.json = speedscope, "
                        ".trace.json = chrome, .svg = flame graph, .html = interactive report")
    p.add_argument("--format", metavar="FORMAT",
                   help=f"{', '.join(_output.known_formats())} ({default_format_help})")
    p.add_argument("--zipfile", metavar="FILE",
                   help="also write FILE, a zip of the callgrind profile with relative paths "
                        "and the profiled source files, to open on another machine")
    p.add_argument("--threads", choices=("all", "main"), default="all",
                   help="report all threads (default) or only the main thread")
    p.add_argument("--exclude-syspath", action="store_true",
                   help="drop frames of the standard library and site-packages (their time "
                        "goes to the calling line)")
    p.add_argument("--include", action="append", metavar="GLOB",
                   help="keep only frames whose file path matches GLOB (repeatable)")
    p.add_argument("--exclude", action="append", metavar="GLOB",
                   help="drop frames whose file path matches GLOB (repeatable)")
    p.add_argument("--per-thread", action="store_true",
                   help="collapsed: start every stack with a 'thread NAME (TID)' frame; "
                        "callgrind: one part per thread")
    p.add_argument("--icicle", action="store_true",
                   help="flamegraph, html: draw the root at the top (inverted flame graph)")
    p.add_argument("--open", action="store_true",
                   help="html, flamegraph: open the result in the web browser (written to "
                        "a temporary file unless -o is given)")


def _run_parser():
    p = _Parser(prog="spyglass run", usage=USAGE.splitlines()[0] + "\n       " +
                "\n       ".join(USAGE.splitlines()[1:3]),
                description="Run a Python program and sample every thread's stack at a fixed "
                            "rate, without pausing it. The report goes to stderr when the "
                            "program ends (the program's stdout stays clean).")
    p._sg_cmd = "run"
    p.add_argument("--rate", type=float, default=DEFAULT_RATE, metavar="HZ",
                   help=f"samples per second (default {DEFAULT_RATE})")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall: every thread at every tick, with its state (default); "
                        "cpu: only threads running on a CPU")
    _add_sampler_options(p)
    p.add_argument("--timeline", action="store_true",
                   help="also keep every sample's time, in order, for the speedscope and "
                        "chrome formats (memory then grows with run length: 16 bytes per "
                        "sample and thread)")
    _add_output_options(p, "default: text to stderr")
    return p


def _thread_count(text):
    """--max-threads: a whole number, at least 1 (argparse reports the error)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


_thread_count.__name__ = "thread count"


def _add_sampler_options(p):
    """What run, attach and top share about how processes are read."""
    p.add_argument("--blocking", action="store_true",
                   help="stop every thread of the target for the moment of each sample "
                        "(ptrace), so that no stack changes while it is read; the target "
                        "runs slower, and is never left stopped")
    p.add_argument("--subprocesses", action="store_true",
                   help="also sample every descendant process that runs Python "
                        "(multiprocessing, subprocess); reports get a section per process")
    p.add_argument("--max-threads", type=_thread_count, default=1000, metavar="N",
                   help="threads of a process reported apart (default 1000); threads "
                        "first seen after N share one entry, so a program that keeps "
                        "starting threads cannot grow the profile without bound")


def _report_parser():
    p = _Parser(prog="spyglass report", description="Render a saved profile.")
    p._sg_cmd = "report"
    p.add_argument("file", metavar="FILE", help="a profile written with -o FILE.pb.gz")
    p.add_argument("--sort", metavar="KEY", help="traced profiles: order of the call table "
                   "(as in 'spyglass trace --sort')")
    _add_output_options(p, "default: text")
    return p


def _split_run_argv(argv, extra_value_opts=()):
    """Splits `run` arguments into (our options, kind, target, target args): our options
    stop at the script, at -m MODULE or at --; everything after belongs to the program.
    extra_value_opts: a command's own options that take a value."""
    value_opts = {"--rate", "--clock", "-o", "--output", "--format", "--threads",
                  "--include", "--exclude", "--zipfile", "--max-threads", *extra_value_opts}
    ours = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            if i + 1 >= len(argv):
                return ours, None, None, []
            return ours, "command", argv[i + 1], argv[i + 2:]
        if tok == "-m":
            if i + 1 >= len(argv):
                return ours, "module", None, []
            return ours, "module", argv[i + 1], argv[i + 2:]
        if tok.startswith("-m") and len(tok) > 2 and not tok.startswith("--"):
            return ours, "module", tok[2:], argv[i + 1:]
        if tok.startswith("-") and tok != "-":
            ours.append(tok)
            if tok in value_opts and i + 1 < len(argv):
                ours.append(argv[i + 1])
                i += 1
            i += 1
            continue
        return ours, "script", tok, argv[i + 1:]
    return ours, None, None, []


def _check_format(fmt, opts=None):
    if fmt and fmt not in _output.known_formats():
        raise _run.RunError(f"unknown format '{fmt}' (choose from "
                            f"{', '.join(_output.known_formats())})")
    if opts is not None and opts.open:
        chosen = _output.choose_format(fmt, opts.output)
        if chosen not in _browser.OPENABLE:
            raise _run.RunError(f"--open shows {' or '.join(_browser.OPENABLE)} output, not "
                                f"{chosen} (add --format html)")


def cmd_run(argv):
    ours, kind, target, args = _split_run_argv(argv)
    opts = _run_parser().parse_args(ours)
    if target is None:
        return _fail("nothing to run: give a script, -m module or -- command "
                     "(see 'spyglass run --help')")
    if not (0 < opts.rate <= 1_000_000):
        return _fail("--rate must be between 1 and 1000000 samples per second")
    _check_format(opts.format, opts)
    if kind == "script" and not os.path.exists(target):
        return _fail(f"cannot open script '{target}': no such file")
    if kind == "script" and os.path.isdir(target) and not os.path.exists(
            os.path.join(target, "__main__.py")):
        return _fail(f"cannot run '{target}': a directory without __main__.py")
    for out in (opts.output, opts.zipfile):
        if out and out != "-":
            parent = os.path.dirname(os.path.abspath(out))
            if not os.path.isdir(parent):
                return _fail(f"cannot write '{out}': directory {parent} does not exist")

    profile, status = _run.run(kind, target, args, opts.rate, opts.clock, _warn,
                               subprocesses=opts.subprocesses, timeline=opts.timeline,
                               max_threads=opts.max_threads, blocking=opts.blocking)
    if profile is None:
        return status
    command = " ".join([target] + list(args)) if kind != "module" else \
        " ".join(["-m", target] + list(args))
    profile.set_attr("command", command)
    fmt = _output.choose_format(opts.format, opts.output)
    path = _browser.output_path(fmt, opts)
    try:
        _output.emit(profile, fmt, path, opts, default_stream=sys.stderr)
    except _core.Error as exc:
        _fail(exc.args[1])
        return status or 1
    if path and path != "-":
        ok, bad = profile.sample_counts()
        rate = 100.0 * bad / (ok + bad) if ok + bad else 0.0
        _warn(f"wrote {path} ({fmt}; {ok} samples, {rate:.2f}% errors)")
    if opts.open:
        _browser.show(path, _warn)
    return status


def cmd_report(argv):
    opts = _report_parser().parse_args(argv)
    _check_format(opts.format, opts)
    try:
        profile = _core.load(opts.file)
    except _core.Error as exc:
        return _fail(f"cannot read profile '{opts.file}': {exc.args[1]}")
    fmt = _output.choose_format(opts.format, opts.output)
    path = _browser.output_path(fmt, opts)
    try:
        _output.emit(profile, fmt, path, opts)
    except _core.Error as exc:
        return _fail(exc.args[1])
    if opts.open:
        _warn(f"wrote {path} ({fmt})")
        _browser.show(path, _warn)
    return 0


def _lazy(module, func):
    """A command implemented in its own module, imported only when used."""
    def call(argv):
        import importlib
        return getattr(importlib.import_module(f"spyglass.{module}"), func)(argv)
    return call


COMMANDS = {
    "run": cmd_run,
    "report": cmd_report,
    "attach": _lazy("_cmd_attach", "cmd_attach"),
    "dump": _lazy("_cmd_attach", "cmd_dump"),
    "top": _lazy("_cmd_top", "main"),
    "diff": _lazy("_cmd_diff", "main"),
    "check": _lazy("_cmd_diff", "main_check"),
    "trace": _lazy("_cmd_trace", "main_trace"),
    "lines": _lazy("_cmd_trace", "main_lines"),
}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(f"usage:\n{USAGE}\n\nspyglass COMMAND --help for each command's options.")
        return 0 if argv else 2
    if argv[0] in ("-V", "--version"):
        print(f"spyglass {__version__}")
        return 0
    cmd = COMMANDS.get(argv[0])
    if cmd is None:
        return _fail(f"unknown command '{argv[0]}' (commands: {', '.join(COMMANDS)})")
    try:
        return cmd(argv[1:])
    except _run.RunError as exc:
        return _fail(str(exc), exc.status)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        return 1
