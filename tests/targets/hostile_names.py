"""Functions whose names and file name are markup and script, as a profiled program may
choose: the flame graph and the HTML report must show them as text and never run them.
Each spins for the given seconds (default 0.3) so that it is sampled."""
import sys
import time

NAMES = [
    "<script>alert('name')</script>",
    "<img src=x onerror=alert('img')>",
    "]]><script>alert('cdata')</script>",
    "line\u2028separator",
]
FILE = "/tmp/q\"u'o<t>e&</script>.py"
SRC = """
def spin(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n
"""


def make(name):
    scope = {"time": time}
    exec(compile(SRC, FILE, "exec"), scope)
    fn = scope["spin"]
    code = fn.__code__.replace(co_name=name)
    if sys.version_info >= (3, 11):
        code = code.replace(co_qualname=name)
    fn.__code__ = code
    return fn


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 0.3
    for name in NAMES:
        make(name)(seconds)
