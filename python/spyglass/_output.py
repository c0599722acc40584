"""Where reports and profiles go: format choice by option or file suffix, filters, and
atomic writes (through the C core)."""

import errno
import os
import sys

from . import _core

PROFILE_SUFFIXES = (".pb.gz", ".spyglass", ".pprof")
SUFFIX_FORMATS = {
    ".txt": "text",
    ".collapsed": "collapsed",
    ".folded": "collapsed",
    ".tree": "tree",
    ".callgrind": "callgrind",
    ".pstats": "pstats",
    ".prof": "pstats",
    ".speedscope.json": "speedscope",
    ".trace.json": "chrome",
    ".svg": "flamegraph",
    ".html": "html",
    ".htm": "html",
}
PREFIX_FORMATS = {"callgrind.out": "callgrind"}
PROFILE_FORMATS = ("pprof", "profile")


def known_formats():
    names = [f for f in _core.FORMATS.split(",") if f]
    return names + [f for f in ("pprof",) if f not in names]


def choose_format(fmt, path):
    """The format to write: --format wins; else the output file's suffix; else text."""
    if fmt:
        return fmt
    if path:
        low = path.lower()
        if low.endswith(PROFILE_SUFFIXES):
            return "pprof"
        for suffix, name in SUFFIX_FORMATS.items():
            if low.endswith(suffix):
                return name
        for prefix, name in PREFIX_FORMATS.items():
            if os.path.basename(low).startswith(prefix):
                return name
    return "text"


def apply_filters(profile, opts):
    if (
        opts.threads == "all"
        and not opts.exclude_syspath
        and not opts.include
        and not opts.exclude
    ):
        return profile
    return profile.filter(
        main_thread_only=opts.threads == "main",
        exclude_syspath=opts.exclude_syspath,
        include=opts.include or (),
        exclude=opts.exclude or (),
    )


def render(profile, fmt, opts):
    """The bytes of profile in format fmt (filters applied)."""
    if fmt in PROFILE_FORMATS:
        return profile.encode(gzip=True)
    shown = apply_filters(profile, opts)
    return shown.render(
        fmt,
        per_thread=getattr(opts, "per_thread", False),
        color=False,
        icicle=getattr(opts, "icicle", False),
        sort=getattr(opts, "sort", None),
    )


def emit(profile, fmt, path, opts, default_stream=None):
    """Writes profile as fmt to path (atomically), or to default_stream if path is None."""
    data = render(profile, fmt, opts)
    if getattr(opts, "zipfile", None):
        from . import _zip  # zipfile costs 30 ms to import: only for --zipfile

        _zip.write(apply_filters(profile, opts), opts.zipfile,
                   per_thread=getattr(opts, "per_thread", False))
    if path and path != "-":
        _core.write_file(path, data)
        return
    stream = default_stream or sys.stdout
    try:
        stream.flush()
        stream.buffer.write(data)
        stream.buffer.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        # A full disk behind a redirection: one line, and the bytes still buffered must
        # not fail again (with a traceback) when the interpreter flushes at exit.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
        except OSError:
            pass
        where = "standard output" if stream is sys.stdout else "standard error"
        raise _core.Error("SG_E_IO", f"writing to {where}: {exc.strerror}"
                          + (" (the disk is full)" if exc.errno == errno.ENOSPC else "")
                          ) from None
