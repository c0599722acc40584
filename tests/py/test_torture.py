"""Torture: the sampler at 10 kHz against programs that make its life hard — thread
churn, deep recursion, generator and coroutine switching, fork, exec of a non-Python
program, SIGKILL, os._exit, and code objects freed and reallocated continuously.

In every case: spyglass neither crashes nor hangs (each run has a timeout), the
program's output and exit status are what they would be without spyglass, the profile
is written and loads, and the error rate is reported (and stays modest)."""
import os
import re
import signal
import subprocess
import sys
from collections import Counter

from conftest import Prof, spyglass, target

RATE = "10000"
TIMEOUT = 90
# When set, each run appends {test, python, samples, error rate} here (a JSON line):
# the torture matrix of a closing note, per CPython version.
REPORT = os.environ.get("SPYGLASS_TORTURE_REPORT")


def _report(ok, bad, rate):
    if REPORT:
        import json
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").split("::")[-1].split(" ")[0]
        with open(REPORT, "a") as f:
            f.write(json.dumps({"test": test, "python": sys.version.split()[0],
                                "samples": ok, "failed": bad, "error_rate": rate}) + "\n")


def _torture(tmp_path, name, *args, status=0, stdout=None, max_error=5.0):
    out = tmp_path / "p.pb.gz"
    cp = spyglass("run", "--rate", RATE, "-o", str(out), target(name), *args,
                  timeout=TIMEOUT)
    assert "Traceback" not in cp.stderr, cp.stderr
    assert cp.returncode == status, (cp.returncode, cp.stderr)
    if stdout is not None:
        assert cp.stdout == stdout, (cp.stdout, cp.stderr)
    assert out.exists(), cp.stderr
    m = re.search(r"wrote \S+ \(pprof; (\d+) samples, ([\d.]+)% errors\)", cp.stderr)
    assert m, cp.stderr
    prof = Prof(str(out))
    ok, bad = prof.errors()
    assert int(m.group(1)) == ok
    rate = float(m.group(2))
    assert abs(rate - 100.0 * bad / max(ok + bad, 1)) < 0.01
    _report(ok, bad, rate)
    assert rate <= max_error, (rate, ok, bad)
    assert prof.total() > 0
    return cp, prof


def test_thread_churn_200_threads(tmp_path):
    _, prof = _torture(tmp_path, "torture_threads.py", "200", "2.5",
                       stdout="threads ok True\n", max_error=20.0)
    # many short-lived threads were seen, each under its own TID
    tids = {r["tid"] for r in prof.records if any(f[0] == "work" for f in r["stack"])}
    assert len(tids) > 50, len(tids)


def test_thread_churn_beyond_max_threads_shares_one_track(tmp_path):
    """Memory must not grow with every thread ever seen: past --max-threads, new threads
    are counted in one shared track, and no sample is lost on the way."""
    out = tmp_path / "p.pb.gz"
    cp = spyglass("run", "--rate", RATE, "--max-threads", "20", "-o", str(out),
                  target("torture_threads.py"), "200", "2.5", timeout=TIMEOUT)
    assert cp.returncode == 0 and cp.stdout == "threads ok True\n", cp.stderr
    prof = Prof(str(out))
    assert len(prof.tracks) == 21, [t["name"] for t in prof.tracks]
    shared = [t for t in prof.tracks if t["name"] == "[threads after the first 20]"]
    assert len(shared) == 1 and shared[0]["tid"] == 0, prof.tracks
    in_shared = prof.function_total("work", lambda r: r["tid"] == 0)
    in_first = prof.function_total("work", lambda r: r["tid"] != 0)
    # the churn goes on for the whole run: most worker samples come after the first 20
    assert in_shared > in_first > 0, (in_shared, in_first)
    # the report says so where the threads are listed
    cp = spyglass("report", str(out))
    assert "[threads after the first 20]" in cp.stdout, cp.stdout


def test_recursion_900_deep(tmp_path):
    # 3.9/3.10 frame objects are copied one region each (in one batch): a 900-frame copy
    # overlapping an unwind is torn a little more often (counted, never a wrong stack)
    _, prof = _torture(tmp_path, "torture_recursion.py", "900", "2.0",
                       stdout="recursion ok True\n",
                       max_error=5.0 if sys.version_info >= (3, 11) else 10.0)
    deepest = max(sum(f[0] == "descend" for f in r["stack"]) for r in prof.records)
    assert deepest == 901, deepest
    # the walk reached the bottom of the deep stacks, not a truncated part of them
    full = prof.total(lambda r: sum(f[0] == "descend" for f in r["stack"]) == 901)
    assert full > 0.5 * prof.function_total("descend")
    assert all(r["stack"][0][0] == "<module>" for r in prof.records
               if any(f[0] == "descend" for f in r["stack"]))


def test_nested_generators_and_coroutines(tmp_path):
    # The target does nothing but resume and suspend chains of 60 generators and 60
    # coroutines, faster than any copy of its memory is taken: most deep stacks change
    # while they are read. Such a read is counted as failed, never reported as a stack
    # it did not have, so the error rate is high by construction (most of all on
    # 3.9/3.10, whose heap frame objects take longer to copy) and higher when the
    # sampler is descheduled mid-walk.
    # Whole chains are seen mostly mid-resume, the moment most often torn: how deep the
    # deepest whole one is varies from run to run (seen: 2 to 61 of 60 + the driver), and
    # a 2 s run on 3.12/3.13 sees only one of the two kinds whole about one time in
    # three (at commit 1fdfd07 too: 3 of 8 runs). Up to three runs: both kinds are seen
    # whole, and chains of several frames are walked through.
    gen_depth = coro_depth = 0
    for _attempt in range(3):
        _, prof = _torture(tmp_path, "torture_generators.py", "60", "2.0",
                           stdout="generators ok coroutines ok\n",
                           max_error=50.0 if sys.version_info >= (3, 11) else 80.0)
        gen_depth = max([gen_depth] + [sum(f[0] == "nested_gen" for f in r["stack"])
                                       for r in prof.records])
        coro_depth = max([coro_depth] + [sum(f[0] == "nested_coro" for f in r["stack"])
                                         for r in prof.records])
        # a generator's frames always appear under their caller: a stack read while a
        # generator was suspending (3.11+: a generator frame as the root; 3.9/3.10: a
        # frame that is no longer running in the chain) is counted as a failed read, not
        # cut short
        cut = 0
        for r in prof.records:
            names = [f[0] for f in r["stack"]]
            for fn, callers in (("nested_gen", {"main"}), ("nested_coro", None)):
                if fn in names:
                    first = names.index(fn)
                    if first == 0 or (callers is not None and names[first - 1] not in callers):
                        cut += r["count"]
        assert cut <= 0.01 * prof.total(), (cut, prof.total())
        if gen_depth > 0 and coro_depth > 0 and max(gen_depth, coro_depth) > 2:
            break
    assert gen_depth > 0 and coro_depth > 0, (gen_depth, coro_depth)
    assert max(gen_depth, coro_depth) > 2, (gen_depth, coro_depth)


def test_fork_without_exec(tmp_path):
    _torture(tmp_path, "torture_fork.py", "20", status=3, stdout="fork ok True\n")


def test_exec_of_a_non_python_program(tmp_path):
    _, prof = _torture(tmp_path, "torture_exec.py", "0.5", status=4,
                       stdout="python part done\nfrom-sh\n")
    assert prof.function_total("busy") > 0.5 * prof.total()


def test_os_exit_with_threads_running(tmp_path):
    _, prof = _torture(tmp_path, "torture_osexit.py", "8", "1.0", status=9,
                       stdout="exiting\n")
    assert len({r["tid"] for r in prof.records}) >= 9


def test_sigkill_mid_run(tmp_path):
    out = tmp_path / "p.pb.gz"
    proc = subprocess.Popen(
        [sys.executable, "-m", "spyglass", "run", "--rate", RATE, "-o", str(out),
         target("torture_forever.py")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        pid = int(proc.stdout.readline())
        import time
        time.sleep(1.0)
        os.kill(pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGKILL, err
    assert "killed by SIGKILL" in err and "Traceback" not in err
    m = re.search(r"\(pprof; (\d+) samples, ([\d.]+)% errors\)", err)
    if m:
        _report(int(m.group(1)), None, float(m.group(2)))
    assert m and int(m.group(1)) > 1000 and float(m.group(2)) <= 5.0, err
    assert Prof(str(out)).function_total("spin") > 0


GEN = re.compile(r"g(\d{6})$")


def test_code_objects_freed_and_reused_keep_their_names(tmp_path):
    cp, prof = _torture(tmp_path, "torture_codegen.py", "3.0", "3000",
                        stdout="codegen ok True\n")
    rounds = int(re.search(r"rounds (\d+)", cp.stderr).group(1))
    per_function = Counter()
    for r in prof.records:
        for name, filename, line in r["stack"]:
            m = GEN.match(name)
            if m:
                # the name, the file and the lines all belong to one generated function
                assert filename == f"gen{m.group(1)}.py", (name, filename, line)
                assert 3 <= line <= 7, (name, filename, line)
                per_function[name] += r["count"]
            elif filename.startswith("gen"):
                # (line 0: the module's first instruction, which has no line; line 1:
                # co_firstlineno, where CPython puts a frame that has not run its first
                # instruction yet, as PyFrame_GetLineNumber does)
                assert name == "<module>" and line in (0, 1, 3), (name, filename, line)
    # functions of the generated files: first line as generated
    for name, filename, first in prof.raw["functions"]:
        if GEN.match(name):
            assert first == 3, (name, filename, first)
    assert len(per_function) >= min(20, rounds), (len(per_function), rounds)
    # every function ran for the same work: none may have absorbed the time of others,
    # as a stale cache entry for a reused address would (all later rounds there). A
    # preempted target gives one function a scheduler slice of samples at most.
    total = sum(per_function.values())
    top, top_count = per_function.most_common(1)[0]
    assert top_count <= max(0.15 * total, 20 * total / len(per_function)), \
        (top, top_count, total, len(per_function))
