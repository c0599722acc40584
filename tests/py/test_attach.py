"""`spyglass attach` and `spyglass dump` on running programs: they find what is really
there, leave the target running as it was, and fail in one line on bad input."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import Prof, spyglass, target

SPYGLASS = [sys.executable, "-m", "spyglass"]


def _line_of(path, text):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if text in line:
                return n
    raise AssertionError(f"{text!r} not in {path}")


@pytest.fixture
def parked():
    """tests/targets/dumpable.py running, its threads in place."""
    proc = subprocess.Popen([sys.executable, target("dumpable.py")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    yield proc
    proc.stdin.close()
    proc.wait(timeout=30)


def test_dump_shows_each_threads_stack_exactly(parked):
    path = target("dumpable.py")
    cp = spyglass("dump", "--json", str(parked.pid))
    assert cp.returncode == 0, cp.stderr
    d = json.loads(cp.stdout)
    assert d["pid"] == parked.pid
    assert d["python"].startswith("%d.%d." % sys.version_info[:2])
    by_leaf = {}
    for t in d["threads"]:
        assert t["frames"], t
        by_leaf[t["frames"][0]["function"]] = t
    assert set(by_leaf) == {"main_wait", "spin_inner", "nap"}, by_leaf.keys()

    main = by_leaf["main_wait"]
    assert main["main"] and main["tid"] == parked.pid
    assert main["name"] == "MainThread"
    assert [(f["function"], f["line"]) for f in main["frames"]] == [
        ("main_wait", _line_of(path, "sys.stdin.read()")),
        ("main", _line_of(path, "main_wait(float(")),
        ("<module>", _line_of(path, "    main()")),
    ]
    assert all(f["file"] == path for f in main["frames"])
    assert not main["running"]

    for leaf, caller_lines in (
        ("spin_inner", [("spin_outer", _line_of(path, "return spin_inner()"))]),
        ("nap", []),
    ):
        t = by_leaf[leaf]
        assert not t["main"] and t["tid"] != parked.pid
        assert t["name"] == {"spin_inner": "spinner", "nap": "napper"}[leaf], t
        user = [f for f in t["frames"] if f["file"] == path]
        rest = t["frames"][len(user):]
        assert [(f["function"], f["line"]) for f in user[1:]] == caller_lines
        assert rest and all(f["file"].endswith("threading.py") for f in rest), rest
        assert any(f["function"].endswith("_bootstrap") for f in rest)
    first = _line_of(path, "def spin_inner")
    assert first < by_leaf["spin_inner"]["frames"][0]["line"] < first + 6
    assert by_leaf["nap"]["frames"][0]["line"] in (
        _line_of(path, "time.sleep(0.05)"), _line_of(path, "time.sleep(0.05)") - 1)
    # The spinner never blocks: running. (The napper wakes every 50 ms and may be caught
    # runnable at the one instant a dump looks, so it is not asserted either way.)
    assert by_leaf["spin_inner"]["running"]


def test_dump_text(parked):
    cp = spyglass("dump", str(parked.pid))
    assert cp.returncode == 0, cp.stderr
    assert f"Process {parked.pid}" in cp.stdout
    assert '"MainThread"' in cp.stdout and '"spinner"' in cp.stdout and '"napper"' in cp.stdout
    assert "spin_inner (" in cp.stdout and "nap (" in cp.stdout


def test_attach_finds_hot_function_and_leaves_target_running(parked, tmp_path):
    out = tmp_path / "a.pb.gz"
    cp = spyglass("attach", "--duration", "1.5", "-o", str(out), str(parked.pid))
    assert cp.returncode == 0, cp.stderr
    assert parked.poll() is None  # still running, untouched
    prof = Prof(str(out))
    total = prof.total()
    assert total > 0
    spin = prof.function_total("spin_inner")
    nap = prof.function_total("nap")
    main = prof.function_total("main_wait")
    # three threads at every tick in wall mode: about a third each
    for share in (spin / total, nap / total, main / total):
        assert 0.2 < share < 0.45, (spin, nap, main, total)
    oncpu = prof.total(lambda r: r["flags"] & 1 and r["stack"][-1][0] == "spin_inner")
    assert oncpu > 0.5 * spin
    # detached: the program still answers
    parked.stdin.close()
    assert parked.wait(timeout=30) == 0
    assert parked.stdout.read() == ""


def test_attach_until_target_exits(tmp_path):
    proc = subprocess.Popen([sys.executable, target("dumpable.py"), "1.5"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    out = tmp_path / "a.collapsed"
    cp = spyglass("attach", "-o", str(out), str(proc.pid), timeout=60)
    assert proc.wait(timeout=30) == 0
    assert cp.returncode == 0, cp.stderr
    text = out.read_text()
    assert "spin_inner" in text


def test_attach_ctrl_c_writes_profile(parked, tmp_path):
    out = tmp_path / "a.pb.gz"
    sp = subprocess.Popen(SPYGLASS + ["attach", "-o", str(out), str(parked.pid)],
                          stderr=subprocess.PIPE, text=True, cwd=os.path.dirname(__file__))
    time.sleep(1.5)
    sp.send_signal(signal.SIGINT)
    _, err = sp.communicate(timeout=30)
    assert sp.returncode == 130, err
    assert "Traceback" not in err
    assert Prof(str(out)).function_total("spin_inner") > 0
    assert parked.poll() is None


@pytest.mark.parametrize("cmd", ["attach", "dump"])
def test_bad_pids(cmd):
    cp = spyglass(cmd, "999999999")
    assert cp.returncode == 2 and "no process with id 999999999" in cp.stderr
    cp = spyglass(cmd, "abc")
    assert cp.returncode == 2 and "not a process id" in cp.stderr
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        cp = spyglass(cmd, str(sleeper.pid))
    finally:
        sleeper.kill()
        sleeper.wait()
    assert cp.returncode == 2
    assert "not running Python" in cp.stderr
    assert cp.stderr.count("\n") == 1 and "Traceback" not in cp.stderr


@pytest.mark.skipif(os.geteuid() != 0 or not os.path.exists("/usr/bin/setpriv"),
                    reason="needs root, to drop CAP_SYS_PTRACE")
def test_attach_permission_denied_explains_ptrace(parked):
    # Without CAP_SYS_PTRACE in its bounding set, spyglass holds fewer capabilities than
    # the (root) target, so the kernel's ptrace access check refuses, as it would for
    # another user's process.
    cp = subprocess.run(["setpriv", "--inh-caps=-sys_ptrace", "--bounding-set=-sys_ptrace"]
                        + SPYGLASS + ["attach", "--duration", "1", str(parked.pid)],
                        capture_output=True, text=True, timeout=60)
    assert cp.returncode == 2, cp.stderr
    assert "ptrace" in cp.stderr and "CAP_SYS_PTRACE" in cp.stderr
    assert cp.stderr.count("\n") == 1
    assert parked.poll() is None
