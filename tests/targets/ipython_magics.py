"""Drives spyglass's IPython magics in a real IPython shell (InteractiveShell, what a
Jupyter kernel runs) and prints what they produced as JSON on the last line.
Usage: ipython_magics.py OUT_DIR [fake-tracer]."""
import json
import os
import sys
import types

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

out_dir = sys.argv[1]
result = {}

if len(sys.argv) > 2 and sys.argv[2] == "fake-tracer":
    # A stand-in TraceSession: the magic's side of the tracer's interface.
    import spyglass

    seen = []

    class FakeSession:
        def __init__(self, mode, clock="wall", functions=(), include=(), exclude=(),
                     exclude_syspath=None):
            seen.append({"mode": mode, "functions": [f.__name__ for f in functions],
                         "exclude_syspath": exclude_syspath})
            self.p = spyglass.Profiler(rate=2000)

        def start(self):
            self.p.start()

        def stop(self):
            return self.p.stop()

    fake = types.ModuleType("spyglass._trace")
    fake.TraceSession = FakeSession
    sys.modules["spyglass._trace"] = fake
    result["fake_seen"] = seen

shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "spyglass")
shell.run_cell("""
import time
def hot_in_cell(seconds):
    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x += 1
    return x
""")


def functions(report):
    d = report.profile.to_dict()
    return sorted({f[0] for f in d["functions"]})


def share(report, name):
    """The share of the main thread's samples (where the cell runs) inside name."""
    d = report.profile.to_dict()
    fn = {i for i, f in enumerate(d["functions"]) if f[0] == name}
    main = [r for r in d["records"] if d["tracks"][r["track"]]["is_main"]]
    total = sum(r["values"][0] for r in main)
    hit = sum(r["values"][0] for r in main
              if any(d["locations"][loc][0] in fn for loc in r["stack"]))
    return hit / total if total else 0.0


# %spyglass typed in a cell, its value kept.
res = shell.run_cell("r = %spyglass -r 2000 hot_in_cell(0.3)")
r = shell.user_ns["r"]
result["line"] = {"ok": res.success, "share": share(r, "hot_in_cell"),
                  "rate": r.profile.to_dict()["meta"]["rate_hz"],
                  "text": repr(r)[:200], "html": r._repr_html_()[:200]}

# %%spyglass on a cell: the cell's assignments land in the user namespace; -o writes.
path = os.path.join(out_dir, "cell.pb.gz")
r = shell.run_cell_magic("spyglass", f"-o {path}", "y = hot_in_cell(0.2)\nz = 7\n")
result["cell"] = {"share": share(r, "hot_in_cell"), "z": shell.user_ns.get("z"),
                  "y_set": shell.user_ns.get("y", 0) > 0, "written": os.path.exists(path)}

# An exception in the profiled code: traceback shown, report still returned.
r = shell.run_cell_magic("spyglass", "", "hot_in_cell(0.05)\n1/0\n")
result["error"] = type(r.error).__name__

# Bad options are one-line usage errors.
for line in ("--format nonsense hot_in_cell(0.01)", "-c sundial hot_in_cell(0.01)", ""):
    try:
        shell.run_line_magic("spyglass", line)
        result.setdefault("usage_errors", []).append(None)
    except UsageError as exc:
        result.setdefault("usage_errors", []).append(str(exc))

# Line level.
try:
    r = shell.run_line_magic("spyglass_lines", "-f hot_in_cell hot_in_cell(0.1)")
    result["lines"] = {"functions": functions(r), "text": repr(r)[:100]}
except UsageError as exc:
    result["lines"] = {"usage_error": str(exc)}

print(json.dumps(result))
