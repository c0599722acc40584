"""`spyglass diff BASE NEW` (what got slower or faster) and `spyglass check NEW --baseline
BASE` (the regression guard for CI). Thin glue: the comparison, the noise bounds and
every output format are computed in C (`_core.diff`, `_core.check`).

Exit statuses: diff 0, or 2 on bad input; check 0 (no regression), 1 (a regression:
the explanation is on stdout), 2 (bad input: one line on stderr)."""

import os
import sys

from . import _core, _output

DIFF_SUFFIXES = {".txt": "text", ".json": "json", ".html": "html", ".htm": "html",
                 ".svg": "svg"}


class _BadInput(Exception):
    pass


def _percent(text):
    """'10%', '10' or '2.5%' -> a fraction (0.10); argparse reports the ValueError."""
    s = text.strip()
    num = s[:-1] if s.endswith("%") else s
    value = float(num)
    if not (value >= 0 and value < float("inf")):
        raise ValueError(text)
    return value / 100.0


_percent.__name__ = "percentage"


def _add_filters(p):
    p.add_argument("--threads", choices=("all", "main"), default="all",
                   help="compare all threads (default) or only the main thread")
    p.add_argument("--exclude-syspath", action="store_true",
                   help="drop frames of the standard library and site-packages (their time "
                        "goes to the calling line)")
    p.add_argument("--include", action="append", metavar="GLOB",
                   help="keep only frames whose file path matches GLOB (repeatable)")
    p.add_argument("--exclude", action="append", metavar="GLOB",
                   help="drop frames whose file path matches GLOB (repeatable)")


def _diff_parser(cli):
    p = cli._Parser(prog="spyglass diff",
                    description="Compare two profiles (sampled or traced): per function (and "
                                "per line) what got slower or faster, as shares of each run "
                                "so runs of different length or rate compare, with a noise "
                                "bound from the sample counts.")
    p._sg_cmd = "diff"
    p.add_argument("base", metavar="BASE", help="the profile before (a .pb.gz file)")
    p.add_argument("new", metavar="NEW", help="the profile after")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write to FILE instead of stdout; without --format the suffix "
                        "decides (.txt, .json, .html, .svg)")
    p.add_argument("--format", metavar="FORMAT",
                   help="text (default), json, html (tables and a differential flame "
                        "graph), svg (the flame graph alone)")
    p.add_argument("--by", choices=("function", "line"), default="function",
                   help="line: also compare line by line")
    p.add_argument("--line-match", choices=("place", "offset"), default="place",
                   help="match lines by file and line (default) or by their offset in "
                        "their function, so lines inserted above a function shift nothing")
    p.add_argument("--metric", choices=("self", "total"), default="self",
                   help="order by the change of the self share (default) or the total share")
    p.add_argument("--min-change", type=_percent, default=0.0, metavar="PCT",
                   help="hide rows whose share changed by less than PCT percentage points")
    p.add_argument("--rows", type=int, default=0, metavar="N",
                   help="rows per table (text: 30, html: 500)")
    _add_filters(p)
    return p


def _check_parser(cli):
    p = cli._Parser(prog="spyglass check",
                    usage="spyglass check NEW --baseline BASE [--max-regression PCT] "
                          "[--function GLOB]... [options]",
                    description="Fail (exit status 1) when a function's share of the run "
                                "grew by more than --max-regression AND by more than the "
                                "sampling noise between BASE and NEW. For CI jobs.")
    p._sg_cmd = "check"
    p.add_argument("new", metavar="NEW", help="the profile to judge")
    p.add_argument("--baseline", required=True, metavar="BASE",
                   help="the reference profile")
    p.add_argument("--max-regression", type=_percent, default=0.10, metavar="PCT",
                   help="allowed relative growth of a function's share (default 10%%)")
    p.add_argument("--function", action="append", metavar="GLOB",
                   help="only judge functions whose qualified name matches GLOB, or "
                        "'path:qualname' when GLOB holds ':' (repeatable)")
    p.add_argument("--metric", choices=("self", "total"), default="self",
                   help="judge the self share (default) or the total share (with callees)")
    p.add_argument("--min-share", type=_percent, default=0.02, metavar="PCT",
                   help="ignore functions below PCT of the run in both profiles (default 2%%)")
    p.add_argument("--time", action="store_true",
                   help="judge absolute time instead of shares (only when both runs did the "
                        "same work on comparable machines)")
    _add_filters(p)
    return p


def _load(path, role):
    try:
        return _core.load(path)
    except _core.Error as exc:
        raise _BadInput(f"cannot read {role} profile '{path}': {exc.args[1]}") from None
    except OSError as exc:
        raise _BadInput(f"cannot read {role} profile '{path}': {exc.strerror}") from None


def _load_pair(base_path, new_path, opts):
    base = _output.apply_filters(_load(base_path, "base"), opts)
    new = _output.apply_filters(_load(new_path, "new"), opts)
    return base, new


def _diff_format(fmt, path):
    if fmt:
        return fmt
    if path:
        low = path.lower()
        for suffix, name in DIFF_SUFFIXES.items():
            if low.endswith(suffix):
                return name
    return "text"


def main(argv):
    """spyglass diff."""
    from . import cli

    opts = _diff_parser(cli).parse_args(argv)
    fmt = _diff_format(opts.format, opts.output)
    formats = _core.DIFF_FORMATS.split(",")
    if fmt not in formats:
        return cli._fail(f"unknown diff format '{fmt}' (choose from {', '.join(formats)})")
    if opts.rows < 0:
        return cli._fail("--rows must be 0 or more")
    if opts.output and opts.output != "-":
        parent = os.path.dirname(os.path.abspath(opts.output))
        if not os.path.isdir(parent):
            return cli._fail(f"cannot write '{opts.output}': directory {parent} does not exist")
    try:
        base, new = _load_pair(opts.base, opts.new, opts)
        to_tty = not opts.output and sys.stdout.isatty()
        data = _core.diff(base, new, format=fmt, by=opts.by, line_match=opts.line_match,
                          metric=opts.metric, min_change=opts.min_change, max_rows=opts.rows,
                          color=fmt == "text" and to_tty and not os.environ.get("NO_COLOR"),
                          base_label=opts.base, new_label=opts.new)
        if opts.output and opts.output != "-":
            _core.write_file(opts.output, data)
            cli._warn(f"wrote {opts.output} ({fmt} diff)")
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
    except _BadInput as exc:
        return cli._fail(str(exc))
    except _core.Error as exc:
        return cli._fail(exc.args[1])
    return 0


def main_check(argv):
    """spyglass check."""
    from . import cli

    opts = _check_parser(cli).parse_args(argv)
    try:
        base, new = _load_pair(opts.baseline, opts.new, opts)
        regressions, unmatched, text = _core.check(
            base, new, max_regression=opts.max_regression, functions=opts.function or (),
            metric=opts.metric, time=opts.time, min_share=opts.min_share,
            base_label=opts.baseline, new_label=opts.new)
    except _BadInput as exc:
        return cli._fail(str(exc))
    except _core.Error as exc:
        return cli._fail(f"cannot compare '{opts.baseline}' with '{opts.new}': {exc.args[1]}")
    if unmatched is not None:
        return cli._fail(f"--function '{unmatched}' matches no function in either profile")
    sys.stdout.flush()
    sys.stdout.buffer.write(text)
    sys.stdout.buffer.flush()
    return 1 if regressions else 0
