"""The IPython magics, run in a real IPython shell in a subprocess."""
import json
import subprocess
import sys

import pytest

from conftest import Prof, target

pytest.importorskip("IPython")


def run_magics(tmp_path, *extra):
    cp = subprocess.run([sys.executable, target("ipython_magics.py"), str(tmp_path), *extra],
                        capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, cp.stderr + cp.stdout
    return cp, json.loads(cp.stdout.strip().splitlines()[-1])


def test_sampling_magics_show_the_report(tmp_path):
    cp, res = run_magics(tmp_path)
    line = res["line"]
    assert line["ok"] and line["rate"] == 2000
    assert line["share"] >= 0.8
    assert line["text"].startswith("spyglass profile (sampling)")
    html = line["html"]
    assert html.startswith("<iframe") or html.startswith("<pre>spyglass profile")
    cell = res["cell"]
    assert cell["share"] >= 0.8 and cell["z"] == 7 and cell["y_set"] and cell["written"]
    written = Prof(str(tmp_path / "cell.pb.gz"))
    assert written.function_total("hot_in_cell") > 0
    # The profiled code's exception: its traceback is shown and the report still made.
    assert res["error"] == "ZeroDivisionError"
    assert "ZeroDivisionError" in cp.stdout + cp.stderr
    errors = res["usage_errors"]
    assert all(e and e.startswith("spyglass:") for e in errors), errors
    assert "nonsense" in errors[0] and "sundial" in errors[1]


def test_lines_magic(tmp_path):
    try:
        import spyglass._trace  # noqa: F401
        has_tracer = True
    except ModuleNotFoundError:
        has_tracer = False
    if not has_tracer:
        _, res = run_magics(tmp_path)
        assert "tracer" in res["lines"]["usage_error"]
        # The magic's side of the tracer's interface, with a stand-in TraceSession.
        _, res = run_magics(tmp_path, "fake-tracer")
        assert res["fake_seen"] == [{"mode": "lines", "functions": ["hot_in_cell"],
                                     "exclude_syspath": False}]
    else:
        _, res = run_magics(tmp_path)
    assert "hot_in_cell" in res["lines"]["functions"]
