"""The in-process API: a native sampler thread in the profiled process itself, the
context manager, the decorator, Profiler start/stop, the signal toggle, fork while
profiling, and the /proc/PID/mem fallback reader."""
import gc
import json
import os
import platform
import subprocess
import sys
import types

import pytest

import spyglass
from spyglass import _core
from conftest import Prof, target


def scenario(name, tmp_path, env=None, timeout=120):
    cp = subprocess.run([sys.executable, target("api_usage.py"), name, str(tmp_path)],
                        capture_output=True, text=True, timeout=timeout,
                        env=dict(os.environ, **(env or {})))
    assert cp.returncode == 0, cp.stderr
    return cp, json.loads(cp.stdout.strip().splitlines()[-1])


def by_tid(tid):
    return lambda r: r["tid"] == tid


def test_finds_the_hot_function_of_every_thread(tmp_path):
    _, truth = scenario("threads", tmp_path)
    prof = Prof(str(tmp_path / "threads.pb.gz"))
    tids = truth["tids"]
    hot = {"main": "hot_main", "a": "hot_worker_a", "b": "hot_worker_b"}
    # Only the program's threads: the sampler thread has no Python thread state.
    assert {t["tid"] for t in prof.tracks} == set(tids.values())
    for role, fn in hot.items():
        mine = by_tid(tids[role])
        total = prof.total(mine)
        assert total >= 100, (role, total)
        assert prof.function_total(fn, mine) >= 0.8 * total, (role, fn)
        for other in set(hot.values()) - {fn}:
            assert prof.function_total(other, mine) == 0, (role, other)
    assert prof.attrs["reader"] in ("process_vm_readv", "/proc/PID/mem")


def test_decorator_bare_and_with_arguments(tmp_path):
    cp, truth = scenario("decorator", tmp_path)
    assert truth["bare_name"] == "bare"  # functools.wraps
    # The bare decorator reports each call on stderr.
    assert cp.stderr.count("spyglass: profile of bare()") == 1, cp.stderr
    assert "inner_bare" in cp.stderr
    bare = Prof(str(tmp_path / "bare.pb.gz"))
    assert bare.function_total("inner_bare") >= 0.8 * bare.total() > 0
    # With arguments: one file per outermost call; the recursion is not profiled again.
    assert sorted(os.listdir(tmp_path)) == ["bare.pb.gz", "deco-1.pb.gz", "deco-2.pb.gz"]
    for n in (1, 2):
        prof = Prof(str(tmp_path / f"deco-{n}.pb.gz"))
        assert prof.meta["rate_hz"] == 2000
        assert prof.function_total("inner_args") >= 0.8 * prof.total() > 0
        assert prof.function_total("recurse") == prof.function_total("inner_args")
        assert prof.function_total("inner_bare") == 0


def test_profiler_start_stop_outputs_and_round_trip(tmp_path):
    _, truth = scenario("startstop", tmp_path)
    prof = Prof(str(tmp_path / "startstop.pb.gz"))
    total = prof.total()
    assert total > 50
    assert prof.function_total("between") >= 0.8 * total
    assert prof.function_total("before_start") == 0
    assert prof.function_total("after_stop") == 0
    # The file holds exactly what the profile in memory held.
    loaded = sorted([[f[0] for f in r["stack"]], r["flags"], r["count"]]
                    for r in prof.records)
    assert loaded == truth["stacks"]
    collapsed = (tmp_path / "startstop.collapsed").read_text()
    assert "between (" in collapsed and "before_start" not in collapsed
    assert (tmp_path / "startstop.txt").read_text().startswith("spyglass profile")
    report = (tmp_path / "report.txt").read_text()
    assert "between" in report and "thread" in report


def test_fork_while_profiling_does_not_hang(tmp_path):
    cp, truth = scenario("fork", tmp_path, timeout=120)
    assert truth["statuses"] == [0] * 6, cp.stderr
    assert truth["pool"] == [n * 2 for n in range(8)]
    prof = Prof(str(tmp_path / "fork.pb.gz"))
    assert prof.function_total("parent_work") > 0
    # What the children did happened in other processes.
    assert prof.function_total("child_work") == 0
    assert prof.function_total("pool_work") == 0
    assert len(prof.raw["processes"]) == 1


def test_signal_toggle_captures_only_each_window(tmp_path):
    cp, truth = scenario("toggle", tmp_path)
    pid = truth["pid"]
    names = [f"win-{pid}-{n}.pb.gz" for n in (1, 2, 3)]
    assert [os.path.basename(p) for p in truth["written"]] == names[:2]
    assert truth["errors"] == []
    assert sorted(os.listdir(tmp_path)) == names  # the third, open at exit, too
    fns = ["before_window", "in_window_one", "between_windows", "in_window_two",
           "open_at_exit"]
    expect = {names[0]: "in_window_one", names[1]: "in_window_two",
              names[2]: "open_at_exit"}
    for name, inside in expect.items():
        prof = Prof(str(tmp_path / name))
        assert prof.function_total(inside) >= 0.5 * prof.total() > 0, name
        for fn in fns:
            if fn != inside:
                assert prof.function_total(fn) == 0, (name, fn)
        # The toggle's helper thread is never sampled.
        assert truth["helper_tid"] not in {t["tid"] for t in prof.tracks}


def test_running_at_interpreter_exit(tmp_path):
    for _ in range(3):
        scenario("at_exit", tmp_path)
        prof = Prof(str(tmp_path / "exit.pb.gz"))
        assert prof.function_total("hot_main") >= 0.5 * prof.total() > 0


def test_proc_mem_reader_forced(tmp_path):
    _, truth = scenario("reader", tmp_path, env={"SPYGLASS_READER": "procmem"})
    assert truth["reader"] == "/proc/PID/mem"
    prof = Prof(str(tmp_path / "reader.pb.gz"))
    assert prof.function_total("hot_main") >= 0.8 * prof.total() > 50


def _seccomp_scenario(name, tmp_path):
    if platform.machine() != "x86_64":
        pytest.skip("the seccomp filter of the test uses x86-64 system call numbers")
    cp = subprocess.run([sys.executable, target("api_usage.py"), name, str(tmp_path)],
                        capture_output=True, text=True, timeout=120)
    if "PR_SET_SECCOMP" in cp.stderr or "PR_SET_NO_NEW_PRIVS" in cp.stderr:
        pytest.skip("seccomp filters cannot be installed here")
    assert cp.returncode == 0, cp.stderr
    return json.loads(cp.stdout.strip().splitlines()[-1])


def test_falls_back_to_proc_mem_when_seccomp_forbids_process_vm_readv(tmp_path):
    truth = _seccomp_scenario("seccomp", tmp_path)
    assert truth["reader"] == "/proc/PID/mem"
    prof = Prof(str(tmp_path / "reader.pb.gz"))
    assert prof.function_total("hot_main") >= 0.8 * prof.total() > 50


def test_refuses_with_an_explanation_when_both_ways_are_closed(tmp_path):
    truth = _seccomp_scenario("seccomp_all", tmp_path)
    assert truth["code"] == "SG_E_BLOCKED"
    msg = truth["message"]
    assert "process_vm_readv" in msg and "/proc/self/mem" in msg and "seccomp" in msg


# ---- in this process ----

def test_sampler_thread_lifecycle():
    s = _core.Sampler(os.getpid(), rate=500)
    s.prepare()
    with pytest.raises(RuntimeError):
        s.join()  # not started
    s.start()
    assert s.running
    with pytest.raises(RuntimeError):
        s.start()
    with pytest.raises(RuntimeError):
        s.profile()  # still running
    assert s.join(timeout=0.01) is False
    s.stop()
    assert s.join() is True and not s.running
    assert s.profile() is not None
    # Deallocated while its thread runs: the thread stops and frees itself.
    for _ in range(20):
        t = _core.Sampler(os.getpid(), rate=10000)
        t.start()
        del t
    gc.collect()


def test_sampler_rejects_a_bad_reader():
    with pytest.raises(ValueError):
        _core.Sampler(os.getpid(), reader="telepathy")


def test_bad_arguments_are_clear():
    for kwargs in (dict(mode="magic"), dict(clock="sundial"), dict(rate=0),
                   dict(threads="some"), dict(format="nope"),
                   dict(functions=[print])):
        with pytest.raises(ValueError):
            spyglass.Profiler(**kwargs)
    p = spyglass.Profiler()
    with pytest.raises(RuntimeError):
        p.stop()
    with pytest.raises(RuntimeError):
        p.profile
    with spyglass.profile(rate=2000) as p:
        sum(range(1000))
    with pytest.raises(TypeError):
        p.report(colour=True)


def test_trace_modes_drive_the_trace_session(monkeypatch, tmp_path):
    """The API's side of the tracer's interface, with a stand-in TraceSession."""
    with spyglass.profile(rate=2000) as sampled:
        sum(range(10000))
    calls = []

    class FakeSession:
        def __init__(self, mode, clock="wall", functions=(), include=(), exclude=(),
                     exclude_syspath=None):
            calls.append(("new", mode, clock, tuple(functions), tuple(include),
                          tuple(exclude), exclude_syspath))

        def start(self):
            calls.append(("start",))

        def stop(self):
            calls.append(("stop",))
            return sampled.profile

    fake = types.ModuleType("spyglass._trace")
    fake.TraceSession = FakeSession
    monkeypatch.setitem(sys.modules, "spyglass._trace", fake)
    with spyglass.profile(mode="lines", clock="cpu", functions=[len], include=["*/app/*"],
                          exclude_syspath=True) as p:
        pass
    # function objects reach the tracer as "module:qualname"
    assert calls == [("new", "lines", "cpu", ("builtins:len",), ("*/app/*",), (), True),
                     ("start",), ("stop",)]
    assert p.profile is sampled.profile
    p.save(tmp_path / "traced.pb.gz")
    assert (tmp_path / "traced.pb.gz").stat().st_size > 0


def test_trace_mode_with_the_real_tracer():
    def traced_function(n):
        return sum(range(n))

    with spyglass.profile(mode="trace") as p:
        for _ in range(50):
            traced_function(100)
    d = p.profile.to_dict()
    assert d["meta"]["mode"] == "trace"
    assert any(f[0].endswith("traced_function") for f in d["functions"])
