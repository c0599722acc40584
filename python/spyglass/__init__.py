"""spyglass: a profiler for Python with a C core.

Command line: ``spyglass run script.py`` (see ``spyglass --help``).
"""

__version__ = "0.1.0"

from ._core import Error, Profile, load  # noqa: E402,F401
from ._trace import lines  # noqa: E402,F401
