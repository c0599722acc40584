"""spyglass: a profiler for Python with a C core.

Command line: ``spyglass run script.py`` (see ``spyglass --help``). In a program:
``with spyglass.profile() as p: ...`` then ``p.report()``; ``@spyglass.profile``;
``spyglass.Profiler().start()/stop()``; ``spyglass.toggle_on_signal(signal.SIGUSR2)``.
In IPython: ``%load_ext spyglass``.
"""

__version__ = "0.1.0"

from ._core import Error, Profile, load  # noqa: E402,F401

# The API's modules load on first use: the command line (and every `spyglass run`, whose
# CPU is the profiler's cost) needs none of them, and `inspect` alone takes 40 ms to
# import on 3.14.
_LAZY = {"lines": "_trace", "Profiler": "_api", "SignalToggle": "_api", "profile": "_api",
         "toggle_on_signal": "_api"}
__all__ = ["Error", "Profile", "load", "load_ipython_extension", *_LAZY]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'spyglass' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


def load_ipython_extension(ipython):
    """``%load_ext spyglass``: the %spyglass, %%spyglass and %spyglass_lines magics."""
    from ._ipython import load_ipython_extension as load

    load(ipython)
