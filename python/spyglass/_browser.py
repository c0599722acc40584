"""--open: where a report meant for the browser goes, and showing it there."""

import os

OPENABLE = ("html", "flamegraph")
_SUFFIX = {"html": ".html", "flamegraph": ".svg"}


def output_path(fmt, opts):
    """The file to write: -o FILE, or with --open and no file a new temporary file
    (kept, so the browser can still read it after we exit)."""
    path = opts.output
    if getattr(opts, "open", False) and (not path or path == "-"):
        import tempfile  # only with --open: every run pays its import otherwise

        fd, path = tempfile.mkstemp(prefix="spyglass-", suffix=_SUFFIX.get(fmt, ""))
        os.close(fd)
    return path


def show(path, warn):
    """Opens path in the user's web browser; says so when no browser can be started."""
    import pathlib
    import webbrowser

    url = pathlib.Path(os.path.abspath(path)).as_uri()
    try:
        opened = webbrowser.open(url)
    except Exception:  # a broken BROWSER setting must not lose the report
        opened = False
    if not opened:
        warn(f"could not start a web browser; open {url} yourself")
