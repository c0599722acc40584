"""The command's contract: exit statuses, where output goes, Ctrl-C, bad input."""
import gzip
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import Prof, spyglass, target


def _no_traceback(text):
    return "Traceback" not in text


def test_exit_status_is_the_programs(tmp_path):
    out = tmp_path / "p.pb.gz"
    cp = spyglass("run", "-o", str(out), target("exits.py"), "exit", "3")
    assert cp.returncode == 3
    assert Prof(str(out)).total() > 0


def test_uncaught_exception_traceback_has_no_spyglass_frames(tmp_path):
    out = tmp_path / "p.pb.gz"
    cp = spyglass("run", "-o", str(out), target("exits.py"), "raise")
    assert cp.returncode == 1
    assert "ValueError: boom from the target" in cp.stderr
    assert "_bootstrap" not in cp.stderr and "runpy" not in cp.stderr
    assert out.exists()


def test_os_exit_status_and_profile(tmp_path):
    out = tmp_path / "p.pb.gz"
    cp = spyglass("run", "-o", str(out), target("exits.py"), "os_exit", "5")
    assert cp.returncode == 5
    assert Prof(str(out)).total() > 0


def test_killed_by_signal_is_reported_with_samples(tmp_path):
    out = tmp_path / "p.pb.gz"
    cp = spyglass("run", "-o", str(out), target("exits.py"), "kill", "SIGKILL")
    assert cp.returncode == 128 + signal.SIGKILL
    assert "killed by SIGKILL" in cp.stderr
    assert Prof(str(out)).total() > 0


def test_report_goes_to_stderr_and_stdout_stays_clean():
    cp = spyglass("run", target("hotline.py"), "0.3")
    assert cp.returncode == 0
    float(cp.stdout.strip())  # only the program's own output
    assert "work" in cp.stderr and "hotline.py" in cp.stderr


def test_ctrl_c_stops_the_program_and_writes_the_profile(tmp_path):
    out = tmp_path / "p.pb.gz"
    proc = subprocess.Popen(
        [sys.executable, "-m", "spyglass", "run", "-o", str(out), target("exits.py"), "forever"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGINT, err
    assert _no_traceback(err.replace("KeyboardInterrupt", "")) or "exits.py" in err
    assert Prof(str(out)).total() > 100


def test_sigint_to_spyglass_alone_still_stops_the_program(tmp_path):
    out = tmp_path / "p.pb.gz"
    proc = subprocess.Popen(
        [sys.executable, "-m", "spyglass", "run", "-o", str(out), target("exits.py"), "forever"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert out.exists() and Prof(str(out)).total() > 0


def test_module_mode(tmp_path):
    out = tmp_path / "p.pb.gz"
    env = dict(os.environ, PYTHONPATH=os.path.dirname(target("hotline.py")))
    cp = spyglass("run", "-o", str(out), "-m", "hotline", "0.3", env=env)
    assert cp.returncode == 0, cp.stderr
    prof = Prof(str(out))
    assert prof.function_total("work") > 0.8 * prof.total()


def test_command_mode_profiles_another_interpreter(tmp_path):
    out = tmp_path / "p.pb.gz"
    cp = spyglass("run", "-o", str(out), "--", sys.executable, target("hotline.py"), "0.5")
    assert cp.returncode == 0, cp.stderr
    prof = Prof(str(out))
    assert prof.function_total("work") > 0.5 * prof.total()
    assert prof.attrs.get("python", "").startswith("%d.%d" % sys.version_info[:2])


def test_command_that_is_not_python_still_runs(tmp_path):
    out = tmp_path / "p.pb.gz"
    cp = spyglass("run", "-o", str(out), "--", "sh", "-c", "sleep 0.2; exit 4")
    assert cp.returncode == 4
    assert cp.stderr.count("spyglass:") == 1 and "Python" in cp.stderr
    assert _no_traceback(cp.stderr)


@pytest.mark.parametrize("args,needle", [
    (["run", "no_such_script.py"], "no such file"),
    (["run"], "nothing to run"),
    (["run", "--rate", "0", "x.py"], "--rate"),
    (["run", "--format", "nope", "x.py"], "unknown format"),
    (["frobnicate"], "unknown command"),
    (["report", "/nonexistent/profile.pb.gz"], "cannot read profile"),
])
def test_bad_input_is_one_line(args, needle):
    cp = spyglass(*args)
    assert cp.returncode != 0
    lines = cp.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], cp.stderr
    assert lines[0].startswith("spyglass: error:")


@pytest.mark.parametrize("content", [
    b"", b"not a profile at all", gzip.compress(b"\xff" * 100), b"\x1f\x8b\x08\x00garbage",
])
def test_corrupt_profile_is_one_line(tmp_path, content):
    bad = tmp_path / "bad.pb.gz"
    bad.write_bytes(content)
    cp = spyglass("report", str(bad))
    assert cp.returncode != 0
    assert len(cp.stderr.strip().splitlines()) == 1 and _no_traceback(cp.stderr), cp.stderr


def test_truncated_profile_is_one_line(tmp_path):
    good = tmp_path / "good.pb.gz"
    assert spyglass("run", "-o", str(good), target("hotline.py"), "0.3").returncode == 0
    data = good.read_bytes()
    for cut in (len(data) // 3, len(data) // 2, len(data) - 5):
        bad = tmp_path / "cut.pb.gz"
        bad.write_bytes(data[:cut])
        cp = spyglass("report", str(bad))
        assert cp.returncode != 0, cut
        assert len(cp.stderr.strip().splitlines()) == 1 and _no_traceback(cp.stderr)


def test_report_rerenders_a_saved_profile(tmp_path):
    prof = tmp_path / "p.pb.gz"
    direct = tmp_path / "direct.collapsed"
    assert spyglass("run", "-o", str(prof), target("hotline.py"), "0.3").returncode == 0
    cp = spyglass("report", str(prof), "--format", "collapsed")
    assert cp.returncode == 0
    spyglass("report", str(prof), "-o", str(direct))
    lines = cp.stdout.strip().splitlines()
    assert lines and all(line.rsplit(" ", 1)[1].isdigit() for line in lines)
    assert sum(int(l.rsplit(" ", 1)[1]) for l in lines) == Prof(str(prof)).total()
    assert any("work (" in l and "hotline.py:" in l for l in lines)


def test_formats_render(tmp_path):
    prof = tmp_path / "p.pb.gz"
    assert spyglass("run", "-o", str(prof), target("hotline.py"), "0.3").returncode == 0
    for fmt in ("text", "tree", "annotate", "collapsed"):
        cp = spyglass("report", str(prof), "--format", fmt)
        assert cp.returncode == 0 and "hotline" in cp.stdout, (fmt, cp.stderr)


def test_exclude_syspath_moves_time_to_the_caller(tmp_path):
    prof = tmp_path / "p.pb.gz"
    assert spyglass("run", "-o", str(prof), target("uses_stdlib.py"), "0.8").returncode == 0
    full = spyglass("report", str(prof), "--format", "collapsed").stdout
    assert "json" in full and "/lib/python3" in full
    cp = spyglass("report", str(prof), "--format", "collapsed", "--exclude-syspath")
    assert "/lib/python3" not in cp.stdout
    src = open(target("uses_stdlib.py")).read().splitlines()
    caller = next(i + 1 for i, l in enumerate(src) if l.rstrip().endswith("# CALLER"))
    leaf_counts = {}
    for line in cp.stdout.strip().splitlines():
        stack, n = line.rsplit(" ", 1)
        leaf_counts[stack.split(";")[-1]] = leaf_counts.get(stack.split(";")[-1], 0) + int(n)
    top = max(leaf_counts, key=leaf_counts.get)
    assert top.endswith(f"uses_stdlib.py:{caller})"), top


def test_threads_main_keeps_only_the_main_thread(tmp_path):
    prof = tmp_path / "p.pb.gz"
    assert spyglass("run", "-o", str(prof), target("threads.py"), "0.2").returncode == 0
    cp = spyglass("report", str(prof), "--format", "collapsed", "--per-thread", "--threads", "main")
    roots = {l.split(";")[0] for l in cp.stdout.strip().splitlines()}
    assert roots and all(r.startswith("thread MainThread") for r in roots), roots


def test_unsupported_python_version_is_explained(tmp_path):
    old = "/root/.pyenv/versions/3.8.18/bin/python3.8"
    if not os.path.exists(old):
        pytest.skip("no CPython 3.8 to try")
    cp = spyglass("run", "--", old, "-c", "import time; time.sleep(0.3)")
    # the program ran to its end, unprofiled; spyglass says so and fails
    assert cp.returncode == 3, cp.stderr
    assert "Python 3.8" in cp.stderr and "is not supported by this spyglass" in cp.stderr
    assert "supported: 3.9, " in cp.stderr and "3.15" in cp.stderr
    assert len(cp.stderr.strip().splitlines()) == 1 and _no_traceback(cp.stderr)
    # attach and dump refuse it in one line too
    child = subprocess.Popen([old, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.3)
        for argv in (("dump", str(child.pid)), ("attach", "--duration", "0.3", str(child.pid))):
            cp = spyglass(*argv)
            assert cp.returncode == 2, (argv, cp.stderr)
            assert "Python 3.8" in cp.stderr and "is not supported" in cp.stderr
            assert len(cp.stderr.strip().splitlines()) == 1 and _no_traceback(cp.stderr)
    finally:
        child.kill()
        child.wait()
