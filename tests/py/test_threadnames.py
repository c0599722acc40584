"""Python thread names, read from the target's memory (CPython before 3.14 gives its
threads no OS names): every thread's track carries its threading name, including
non-ASCII ones and a name changed while the thread runs."""
import json
import subprocess
import sys

from conftest import spyglass, stdout_json, target


def test_run_reports_each_threads_python_name(run_profiled, tmp_path):
    cp, prof = run_profiled("named_threads.py", "2.0")
    assert cp.returncode == 0, cp.stderr
    truth = stdout_json(cp)  # {name: native id}
    assert set(truth) >= {"worker-α", "emoji 🧵", "after-rename"}, truth
    by_tid = {t["tid"]: t for t in prof.tracks}
    for name, tid in truth.items():
        assert tid in by_tid, (name, tid, by_tid)
        assert by_tid[tid]["name"] == name, (name, by_tid[tid])
        assert not by_tid[tid]["is_main"]
    default = [n for n in truth if n.startswith("Thread-")]
    assert default, truth  # threading's own default name, read like any other
    mains = [t for t in prof.tracks if t["is_main"]]
    assert [t["name"] for t in mains] == ["MainThread"]
    assert not any(t["name"] == "before-rename" for t in prof.tracks)


def test_collapsed_per_thread_uses_python_names(tmp_path):
    out = tmp_path / "p.collapsed"
    cp = spyglass("run", "--per-thread", "-o", str(out), target("named_threads.py"), "0.5")
    assert cp.returncode == 0, cp.stderr
    roots = {line.split(";", 1)[0].rsplit(" (", 1)[0] for line in out.read_text().splitlines()}
    assert {"thread MainThread", "thread worker-α", "thread emoji 🧵"} <= roots, roots


def test_dump_names_threads_whatever_their_attributes_look_like():
    """A thread whose __dict__ was asked for (a dict object instead of values kept with
    the class's shared keys) and one with many attributes, one deleted (a combined
    table): the name is found either way, and non-ASCII names come out whole."""
    proc = subprocess.Popen([sys.executable, "-c", DUMP_TARGET], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        cp = spyglass("dump", "--json", str(proc.pid))
        assert cp.returncode == 0, cp.stderr
        names = sorted(t["name"] for t in json.loads(cp.stdout)["threads"])
        assert names == ["MainThread", "plain", "Ünïcödé 名前", "🧵 thread"], names
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


DUMP_TARGET = r"""
import sys, threading
ready = threading.Barrier(4)
done = threading.Event()
def park():
    ready.wait()
    done.wait()
threads = [threading.Thread(target=park, name=n, daemon=True)
           for n in ("Ünïcödé 名前", "🧵 thread", "plain")]
vars(threads[0])
for i in range(40):
    setattr(threads[1], "extra%d" % i, i)
del threads[1].extra0
for t in threads:
    t.start()
ready.wait()
print("ready", flush=True)
sys.stdin.read()
done.set()
"""
