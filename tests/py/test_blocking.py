"""--blocking: every thread of the target is stopped (ptrace) for the moment of each
sample. The target must never be left stopped or traced, whatever ends the profile, its
signals must reach it, and its exit status must be its own."""
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import Prof, spyglass, target


def _state(pid):
    """(state letter, TracerPid) of a process, from /proc."""
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    return fields["State"].split()[0], int(fields["TracerPid"])


def _running_free(pid, timeout=5):
    """The process is neither stopped nor traced (allowing a moment to be let go)."""
    deadline = time.monotonic() + timeout
    while True:
        state, tracer = _state(pid)
        if state not in ("t", "T") and tracer == 0:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def test_run_blocking_finds_the_hot_line(tmp_path):
    out = tmp_path / "p.pb.gz"
    cp = spyglass("run", "--blocking", "-o", str(out), target("hotline.py"), "1.5")
    assert cp.returncode == 0, cp.stderr
    prof = Prof(str(out))
    ok, bad = prof.errors()
    assert ok > 300 and bad == 0, (ok, bad)  # a stopped thread's stack cannot be torn
    assert prof.function_total("work") > 0.9 * prof.total()


def test_signals_reach_the_program_and_its_status_is_its_own(tmp_path):
    out = tmp_path / "p.pb.gz"
    cp = spyglass("run", "--blocking", "-o", str(out), target("signals_count.py"), "1.5")
    assert cp.returncode == 0, cp.stderr
    assert cp.stdout.split()[1] == "ok", cp.stdout
    cp = spyglass("run", "--blocking", "-o", str(out), target("exits.py"), "exit", "3")
    assert cp.returncode == 3, cp.stderr
    cp = spyglass("run", "--blocking", "-o", str(out), target("exits.py"), "kill", "SIGTERM")
    assert cp.returncode == 128 + signal.SIGTERM, cp.stderr


@pytest.fixture
def parked():
    proc = subprocess.Popen([sys.executable, target("dumpable.py")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_attach_blocking_lets_the_program_go(parked, tmp_path):
    out = tmp_path / "a.pb.gz"
    cp = spyglass("attach", "--blocking", "--duration", "1", "-o", str(out), str(parked.pid))
    assert cp.returncode == 0, cp.stderr
    assert _running_free(parked.pid)
    prof = Prof(str(out))
    assert prof.function_total("spin_inner") > 0
    parked.stdin.close()  # it still answers: ends when told to
    assert parked.wait(timeout=30) == 0


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_spyglass_ended_mid_sample_never_leaves_the_program_stopped(parked, tmp_path, how):
    out = tmp_path / "a.pb.gz"
    sg = subprocess.Popen([sys.executable, "-m", "spyglass", "attach", "--blocking", "--rate",
                           "5000", "-o", str(out), str(parked.pid)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while _state(parked.pid)[1] == 0:  # wait until it is traced
        assert time.monotonic() < deadline and sg.poll() is None, sg.communicate()
        time.sleep(0.01)
    time.sleep(0.3)
    sg.send_signal(how)
    sg.communicate(timeout=30)
    assert _running_free(parked.pid)
    if how == signal.SIGINT:
        assert Prof(str(out)).total() > 0
    parked.stdin.close()
    assert parked.wait(timeout=30) == 0


def test_blocking_is_refused_in_one_line_without_permission(tmp_path):
    """A process another tracer holds cannot be stopped by us: one line, status 2."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        helper = subprocess.Popen([sys.executable, "-c",
                                   "import ctypes, sys, time\n"
                                   "libc = ctypes.CDLL(None, use_errno=True)\n"
                                   "PTRACE_SEIZE = 0x4206\n"
                                   f"assert libc.ptrace(PTRACE_SEIZE, {proc.pid}, 0, 0) == 0\n"
                                   "print('held', flush=True)\n"
                                   "time.sleep(30)\n"],
                                  stdout=subprocess.PIPE, text=True)
        assert helper.stdout.readline().strip() == "held"
        cp = spyglass("attach", "--blocking", "--duration", "0.3", str(proc.pid))
        helper.kill()
        helper.wait()
        assert cp.returncode == 2, cp.stderr
        lines = cp.stderr.strip().splitlines()
        assert len(lines) == 1 and "ptrace" in lines[0], cp.stderr
    finally:
        proc.kill()
        proc.wait()
