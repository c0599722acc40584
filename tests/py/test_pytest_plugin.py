"""The pytest plugin: `pytest --spyglass` on a small project (data/pytest_project), with
and without pytest-xdist, writes per-test profiles whose hot functions are right, a
merged profile and a summary, and leaves every outcome as it was."""
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from conftest import HERE, Prof

PROJECT = os.path.join(HERE, "data", "pytest_project")
SUITE = "check_suite.py::"
OUTCOMES = {
    "test_slow": "passed", "test_medium": "passed", "test_fast[1]": "passed",
    "test_fast[2]": "passed", "test_fast[3]": "passed", "test_fails": "failed",
    "test_skipped": "skipped", "test_xfail": "xfailed", "test_xpass": "passed",
    "test_error": "error", "test_block": "passed",
}
# Tests whose call phase ran (a setup error stops test_error before it).
CALLED = sorted(set(OUTCOMES) - {"test_error"})


def run_pytest(project, *args, timeout=300, env=None):
    cp = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--junitxml=junit.xml",
         *args],
        cwd=project, capture_output=True, text=True, timeout=timeout,
        env=dict(os.environ, **(env or {})))
    return cp, outcomes(os.path.join(project, "junit.xml"))


def outcomes(junit):
    got = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        kinds = {child.tag: child for child in case}
        if "error" in kinds:
            out = "error"
        elif "failure" in kinds:
            out = "failed"
        elif "skipped" in kinds:
            out = "xfailed" if kinds["skipped"].get("type") == "pytest.xfail" else "skipped"
        else:
            out = "passed"
        got[case.get("name")] = out
    return got


@pytest.fixture
def project(tmp_path):
    dst = tmp_path / "project"
    shutil.copytree(PROJECT, dst, ignore=shutil.ignore_patterns("__pycache__", ".spyglass"))
    return dst


def profile_of(project, test):
    return Prof(str(project / ".spyglass" / f"check_suite.py__{test}.pb.gz"))


def main_thread(prof):
    main = {t["tid"] for t in prof.tracks if t["is_main"]}
    return lambda r: r["tid"] in main


def check_hot_functions(project):
    for test, fn in (("test_slow", "slow_function"), ("test_medium", "medium_function")):
        prof = profile_of(project, test)
        mine = main_thread(prof)
        assert prof.function_total(fn, mine) >= 0.6 * prof.total(mine) > 0, (test, fn)
        other = "medium_function" if fn == "slow_function" else "slow_function"
        assert prof.function_total(other) == 0
    merged = Prof(str(project / ".spyglass" / "merged.pb.gz"))
    slow, medium = merged.function_total("slow_function"), merged.function_total(
        "medium_function")
    assert medium > 0 and 1.3 <= slow / medium <= 6, (slow, medium)  # truly 0.4 s / 0.15 s
    assert merged.function_total("block_function") > 0
    block = Prof(str(project / ".spyglass" / "check_suite.py__test_block-block.pb.gz"))
    assert block.function_total("block_function") >= 0.6 * block.total(main_thread(block))


def check_summary(stdout):
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "spyglass" in line and "===" in line)
    body = lines[start + 1:]
    slowest = next(i for i, line in enumerate(body) if line.startswith("slowest tests"))
    assert body[slowest + 1].split()[-1] == SUITE + "test_slow", body
    assert "slow_function" in body[slowest + 2], body


def test_off_unless_asked(project):
    cp, got = run_pytest(project)
    assert got == OUTCOMES, cp.stdout
    assert not re.search(r"^=+ spyglass =+$", cp.stdout, re.M)  # no summary section
    # Only the block the spyglass_profile fixture profiled was written.
    assert os.listdir(project / ".spyglass") == ["check_suite.py__test_block-block.pb.gz"]


def test_profiles_each_test_without_changing_outcomes(project):
    cp, got = run_pytest(project, "--spyglass")
    assert cp.returncode == 1, cp.stdout + cp.stderr  # test_fails fails, as without us
    assert got == OUTCOMES, cp.stdout
    files = sorted(os.listdir(project / ".spyglass"))
    assert files == sorted([f"check_suite.py__{t}.pb.gz" for t in CALLED] +
                           ["check_suite.py__test_block-block.pb.gz", "merged.pb.gz"])
    check_hot_functions(project)
    check_summary(cp.stdout)
    merged = Prof(str(project / ".spyglass" / "merged.pb.gz"))
    assert merged.attrs["command"].startswith("pytest (10 tests")


def test_with_xdist_workers(project):
    pytest.importorskip("xdist")
    cp, got = run_pytest(project, "--spyglass", "-n", "2")
    assert cp.returncode == 1, cp.stdout + cp.stderr
    assert got == OUTCOMES, cp.stdout
    files = set(os.listdir(project / ".spyglass"))
    assert {f"check_suite.py__{t}.pb.gz" for t in CALLED} <= files
    workers = sorted(f for f in files if f.startswith("merged-"))
    assert workers == ["merged-gw0.pb.gz", "merged-gw1.pb.gz"], files
    check_hot_functions(project)
    check_summary(cp.stdout)
    # The controller's merged profile holds both workers (one process each).
    merged = Prof(str(project / ".spyglass" / "merged.pb.gz"))
    pids = {p["pid"] for p in merged.raw["processes"]}
    per_worker = [{p["pid"] for p in Prof(str(project / ".spyglass" / w)).raw["processes"]}
                  for w in workers]
    assert len(pids) == 2 and pids == per_worker[0] | per_worker[1]


def test_a_profiling_failure_changes_no_outcome(project):
    # An impossible reader makes every start fail, inside the hook around each test.
    cp, got = run_pytest(project, "--spyglass", "-W", "error",
                         env={"SPYGLASS_READER": "telepathy"})
    assert got == dict(OUTCOMES, test_block="failed"), cp.stdout  # the fixture's own use
    assert "spyglass: profiling stopped: cannot profile: unknown reader telepathy" in cp.stdout
    assert "no test was profiled" in cp.stdout


def test_custom_directory_and_trace_mode_request(project):
    cp, got = run_pytest(project, "--spyglass", "--spyglass-dir", "profiles",
                         "-k", "slow or medium")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert sorted(os.listdir(project / "profiles")) == [
        "check_suite.py__test_medium.pb.gz", "check_suite.py__test_slow.pb.gz",
        "merged.pb.gz"]
    try:
        import spyglass._trace  # noqa: F401
    except ModuleNotFoundError:
        cp = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                             "--spyglass", "--spyglass-mode", "trace"], cwd=project,
                            capture_output=True, text=True, timeout=120)
        assert cp.returncode == 4  # a usage error, before any test runs
        assert "spyglass: error:" in cp.stderr and "tracer" in cp.stderr
        return
    cp, got = run_pytest(project, "--spyglass", "--spyglass-mode", "trace", "-k", "medium")
    assert cp.returncode == 0, cp.stdout + cp.stderr
    prof = profile_of(project, "test_medium")
    assert prof.meta["mode"] == "trace"
    assert any(f[0] == "medium_function" for f in prof.raw["functions"])
