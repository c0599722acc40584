"""spyglass: a profiler for Python with a C core.

Command line: ``spyglass run script.py`` (see ``spyglass --help``). In a program:
``with spyglass.profile() as p: ...`` then ``p.report()``; ``@spyglass.profile``;
``spyglass.Profiler().start()/stop()``; ``spyglass.toggle_on_signal(signal.SIGUSR2)``.
In IPython: ``%load_ext spyglass``.
"""

__version__ = "0.1.0"

from ._core import Error, Profile, load  # noqa: E402,F401
from ._trace import lines  # noqa: E402,F401
from ._api import Profiler, SignalToggle, profile, toggle_on_signal  # noqa: E402,F401


def load_ipython_extension(ipython):
    """``%load_ext spyglass``: the %spyglass, %%spyglass and %spyglass_lines magics."""
    from ._ipython import load_ipython_extension as load

    load(ipython)
