"""One install, any target: the spyglass under test (installed in this interpreter) reads
programs run by every other CPython the machine has (3.9-3.15: `make test` passes them in
SG_TEST_PYTHONS), Debian's debug and non-PIE builds of 3.14/3.15, and a CPython newer than
its tables, read through the target's own _Py_DebugOffsets. A version it cannot read is
refused in one line with a non-zero status."""
import glob
import json
import os
import re
import subprocess
import sys
import time

import pytest
from conftest import Prof, spyglass, target

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEBIAN_BIN = os.path.join(REPO, "build", "debian-python", "usr", "bin")


def _minor(exe):
    m = re.search(r"python3\.(\d+)", os.path.basename(exe))
    return int(m.group(1)) if m else None


def _pythons():
    """Every interpreter to try as a target, by minor: SG_TEST_PYTHONS (the Makefile's
    list), else pyenv's 3.9-3.13 and Debian's 3.14/3.15 found where `make` puts them."""
    listed = [p for p in os.environ.get("SG_TEST_PYTHONS", "").replace(":", " ").split() if p]
    if not listed:
        root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
        for minor in range(9, 14):
            found = sorted(glob.glob(f"{root}/versions/3.{minor}.*/bin/python3.{minor}"))
            listed += found[-1:]
        listed += [os.path.join(DEBIAN_BIN, f"python3.{m}") for m in (14, 15)]
    return {_minor(p): p for p in listed if os.access(p, os.X_OK) and _minor(p)}


PYTHONS = _pythons()


class Parked:
    """tests/targets/dumpable.py run by interpreter exe, its threads in place."""

    def __init__(self, exe):
        self.proc = subprocess.Popen([exe, target("dumpable.py")], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        self.pid = self.proc.pid

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture
def parked_by():
    started = []

    def start(exe):
        p = Parked(exe)
        started.append(p)
        return p

    yield start
    for p in started:
        if p.proc.poll() is None:
            p.proc.kill()
            p.proc.wait()


def _version_of(exe):
    return subprocess.run([exe, "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.parametrize("minor", sorted(PYTHONS))
def test_dump_and_attach_any_version(minor, parked_by, tmp_path):
    """This install reads a target of every other version: every thread's stack, exactly,
    and a short attach that finds the busy thread's function."""
    exe = PYTHONS[minor]
    parked = parked_by(exe)
    cp = spyglass("dump", "--json", str(parked.pid))
    assert cp.returncode == 0, cp.stderr
    d = json.loads(cp.stdout)
    assert d["python"] == _version_of(exe)
    leaves = {t["frames"][0]["function"]: t for t in d["threads"] if t["frames"]}
    assert set(leaves) == {"main_wait", "spin_inner", "nap"}, d
    assert [f["function"] for f in leaves["spin_inner"]["frames"]][:2] == \
        ["spin_inner", "spin_outer"]
    assert leaves["main_wait"]["name"] == "MainThread" and leaves["main_wait"]["main"]
    assert leaves["nap"]["name"] == "napper"

    out = tmp_path / "a.pb.gz"
    cp = spyglass("attach", "--duration", "0.6", "-o", str(out), str(parked.pid))
    assert cp.returncode == 0, cp.stderr
    prof = Prof(str(out))
    spinner = [t["tid"] for t in prof.tracks if t["name"] == "spinner"]
    assert len(spinner) == 1
    on_spinner = prof.total(lambda r: r["tid"] == spinner[0])
    assert on_spinner > 0
    assert prof.function_total("spin_inner", lambda r: r["tid"] == spinner[0]) > 0.9 * on_spinner
    ok, bad = prof.errors()
    assert bad <= 0.05 * (ok + bad), (ok, bad)
    parked.close()


def _newest():
    newest = max((m for m in PYTHONS if m >= 14), default=None)
    if newest is None:
        pytest.skip("no CPython 3.14+ to pretend about (make pythons)")
    return newest, PYTHONS[newest]


def test_release_day_reads_a_newer_python_through_its_own_offsets(tmp_path):
    """A spyglass whose tables stop one minor short (as if released before that CPython)
    reads it through the target's _Py_DebugOffsets, says so once, and gets the profile
    right."""
    minor, exe = _newest()
    env = dict(os.environ, SPYGLASS_TEST_NEWEST_TABLE=f"3.{minor - 1}")
    out = tmp_path / "p.pb.gz"
    cp = spyglass("run", "-o", str(out), "--", exe, target("hotline.py"), "1", env=env)
    assert cp.returncode == 0, cp.stderr
    notes = [line for line in cp.stderr.splitlines() if "own _Py_DebugOffsets" in line]
    assert len(notes) == 1, cp.stderr
    assert f"is newer than this spyglass (tables up to 3.{minor - 1})" in notes[0]
    prof = Prof(str(out))
    assert "own _Py_DebugOffsets" in prof.attrs.get("python_layout", "")
    total = prof.total()
    assert prof.function_total("work") > 0.9 * total
    ok, bad = prof.errors()
    assert bad <= 0.03 * (ok + bad), (ok, bad)


def test_release_day_refuses_what_it_cannot_read(tmp_path):
    """The same, but also without the newest layout of _Py_DebugOffsets: the target's
    block, read as the older layout, does not describe its memory. One line says what
    failed; run exits non-zero though the program succeeded, attach and dump with 2."""
    minor, exe = _newest()
    old = f"3.{minor - 1}"
    env = dict(os.environ, SPYGLASS_TEST_NEWEST_TABLE=old, SPYGLASS_TEST_NEWEST_LAYOUT=old)
    cp = spyglass("run", "--", exe, "-c", "import time; time.sleep(0.5)", env=env)
    assert cp.returncode == 3, cp.stderr
    lines = cp.stderr.strip().splitlines()
    assert len(lines) == 1, cp.stderr
    assert f"is newer than this spyglass" in lines[0]
    assert "do not describe it: " in lines[0] and "Traceback" not in cp.stderr

    proc = subprocess.Popen([exe, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.5)
        for argv in (("dump", str(proc.pid)), ("attach", "--duration", "0.3", str(proc.pid))):
            cp = spyglass(*argv, env=env)
            assert cp.returncode == 2, (argv, cp.stderr)
            assert len(cp.stderr.strip().splitlines()) == 1, cp.stderr
            assert "do not describe it" in cp.stderr
    finally:
        proc.kill()
        proc.wait()


VARIANTS = sorted(glob.glob(os.path.join(DEBIAN_BIN, "python3.1[4-9]d")) +
                  glob.glob(os.path.join(DEBIAN_BIN, "python3.1[4-9]-nopie")))


@pytest.mark.parametrize("exe", VARIANTS, ids=os.path.basename)
def test_debian_debug_and_nopie_builds(exe, tmp_path):
    """Builds of a minor other than the one our table came from: the debug build (another
    runtime size, Py_DEBUG) and the non-PIE one. Each is checked against its own
    _Py_DebugOffsets and profiled right."""
    out = tmp_path / "p.pb.gz"
    cp = spyglass("run", "-o", str(out), "--", exe, target("hotline.py"), "1")
    assert cp.returncode == 0, cp.stderr
    prof = Prof(str(out))
    assert prof.attrs.get("python") == _version_of(exe)
    # of the program's own time (a debug build takes a while to import what it needs)
    own = prof.total(lambda r: any(f[0] == "<module>" and f[1].endswith("hotline.py")
                                   for f in r["stack"]))
    assert own > 500
    assert prof.function_total("work") > 0.95 * own
    ok, bad = prof.errors()
    assert bad <= 0.03 * (ok + bad), (ok, bad)
