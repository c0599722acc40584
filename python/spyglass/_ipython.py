"""IPython and Jupyter: `%load_ext spyglass`, then

    %spyglass [options] statement      sample one statement
    %%spyglass [options]               sample the cell
    %spyglass_lines [-f FUNC] statement    line level (the tracer), also as %%spyglass_lines

Each shows its report inline (HTML in a notebook, text in a terminal) and returns a
Report whose .profile is the spyglass.Profile. Options: -r HZ (rate), -c wall|cpu
(clock), -a (all threads; by default only the thread that runs the cell), --format F
(what to show: text, tree, annotate...), -o FILE (also write the profile or report,
chosen by the suffix), and for %spyglass_lines -f FUNC (trace only these functions;
repeatable; without it, everything outside the standard library and site-packages)."""

import html

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class

from . import _api, _core

_SAMPLE_OPTS = ("r:c:o:a", "rate=", "clock=", "output=", "format=", "all-threads")
_LINES_OPTS = ("f:c:o:a", "function=", "clock=", "output=", "format=", "all-threads")


def _has_html():
    return "html" in _core.FORMATS.split(",")


class Report:
    """A profile shown inline: `_repr_html_` for notebooks, text for terminals."""

    def __init__(self, profiler, format=None, error=None):
        self.profiler = profiler
        self.profile = profiler.profile
        self.format = format
        self.error = error  # the exception the profiled code raised, if any

    def text(self):
        fmt = self.format if self.format not in (None, "html") else "text"
        return self.profiler.render(fmt).decode("utf-8", "replace")

    def __repr__(self):
        return self.text()

    def _repr_pretty_(self, p, cycle):
        p.text(self.text())

    def _repr_html_(self):
        if self.format in (None, "html") and _has_html():
            doc = self.profiler.render("html").decode("utf-8", "replace")
            # In its own document: the report's styles and scripts stay out of the page.
            return ('<iframe style="width:100%;height:640px;border:1px solid #ddd" '
                    f'srcdoc="{html.escape(doc, quote=True)}"></iframe>')
        return f"<pre>{html.escape(self.text())}</pre>"


def _one(opts, key, default=None):
    """The last value of an option given with list_all=True."""
    values = opts.get(key)
    return values[-1] if values else default


@magics_class
class SpyglassMagics(Magics):
    def _code(self, stmt, cell):
        code = stmt if cell is None else cell
        if not code.strip():
            raise UsageError("spyglass: nothing to profile: give a statement (or use %%spyglass on a "
                             "cell)")
        return self.shell.transform_cell(code)

    def _run(self, profiler, code, fmt, output):
        ns = self.shell.user_ns
        filename = self.shell.compile.cache(code)
        compiled = compile(code, filename, "exec")
        error = None
        try:
            profiler.start()
        except (_core.Error, OSError, RuntimeError) as exc:
            raise UsageError(f"spyglass: {_api._message(exc)}") from None
        try:
            exec(compiled, ns, ns)
        except BaseException as exc:  # noqa: BLE001 - shown below, like IPython does
            error = exc
        finally:
            profiler.stop()
        if error is not None:
            self.shell.showtraceback((type(error), error, error.__traceback__))
        if output:
            try:
                profiler.write(None, output)
            except (_core.Error, OSError) as exc:
                raise UsageError(f"spyglass: cannot write {output}: "
                                 f"{_api._message(exc)}") from None
        return Report(profiler, fmt, error)

    @staticmethod
    def _common(opts):
        fmt = _one(opts, "format")
        if fmt is not None and fmt not in _core.FORMATS.split(","):
            raise UsageError(f"spyglass: unknown format {fmt!r} (choose from {_core.FORMATS})")
        clock = _one(opts, "c") or _one(opts, "clock") or "wall"
        threads = "all" if ("a" in opts or "all-threads" in opts) else "main"
        output = _one(opts, "o") or _one(opts, "output")
        return fmt, clock, threads, output

    @line_cell_magic
    def spyglass(self, line, cell=None):
        """Samples a statement (%spyglass) or a cell (%%spyglass) and shows the report.

        %spyglass [-r HZ] [-c wall|cpu] [-a] [--format F] [-o FILE] statement
        """
        opts, stmt = self.parse_options(line, *_SAMPLE_OPTS, list_all=True, posix=False)
        fmt, clock, threads, output = self._common(opts)
        rate = _one(opts, "r") or _one(opts, "rate") or _api.DEFAULT_RATE
        try:
            profiler = _api.Profiler("sample", float(rate), clock, threads=threads)
        except ValueError as exc:
            raise UsageError(f"spyglass: {exc}") from None
        return self._run(profiler, self._code(stmt, cell), fmt, output)

    @line_cell_magic
    def spyglass_lines(self, line, cell=None):
        """Traces a statement or a cell line by line and shows the report.

        %spyglass_lines [-f FUNC]... [-c wall|cpu] [-a] [--format F] [-o FILE] statement
        """
        opts, stmt = self.parse_options(line, *_LINES_OPTS, list_all=True, posix=False)
        fmt, clock, threads, output = self._common(opts)
        names = list(opts.get("f", [])) + list(opts.get("function", []))
        functions = []
        for name in names:
            try:
                functions.append(eval(name, self.shell.user_ns))
            except Exception as exc:  # noqa: BLE001 - the user's expression
                raise UsageError(f"spyglass: cannot evaluate -f {name}: {exc}") from None
        try:
            _api._trace_session_class("lines")
        except _core.Error as exc:
            raise UsageError(f"spyglass: {exc.args[1]}") from None
        profiler = _api.Profiler("lines", clock=clock, threads=threads,
                                 functions=functions, exclude_syspath=not functions)
        return self._run(profiler, self._code(stmt, cell), fmt, output)


def load_ipython_extension(ipython):
    ipython.register_magics(SpyglassMagics)
