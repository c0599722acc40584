"""The sampler finds what is really there: known time shares, per-thread CPU splits,
idle threads, recursion, the hot line."""
import os

from conftest import GIL, GILWAIT, ONCPU, stdout_json, target


def test_function_shares_match_measured_time(run_profiled):
    cp, prof = run_profiled("shares.py", "2.0")
    assert cp.returncode == 0, cp.stderr
    truth = stdout_json(cp)
    total_true = sum(truth.values())
    totals = {name: prof.function_total(name) for name in truth}
    total_sampled = sum(totals.values())
    assert total_sampled > 1000, totals
    for name in truth:
        expected = 100.0 * truth[name] / total_true
        got = 100.0 * totals[name] / total_sampled
        assert abs(got - expected) <= 3.0, (name, got, expected, totals)


def test_sample_rate_and_error_rate_reported(run_profiled):
    cp, prof = run_profiled("shares.py", "1.0", opts=["--rate", "1000"])
    meta = prof.meta
    # an instrumented sampler (make sanitize) is several times slower a tick
    least = 0.75 if os.environ.get("SPYGLASS_SANITIZED") else 0.9
    assert meta["ticks_taken"] >= least * meta["ticks_requested"], meta
    assert 0.8 <= meta["duration_ns"] / 1e9 <= 3.0
    ok, bad = prof.errors()
    assert ok > 0 and bad / (ok + bad) < 0.05


def _share_of(run_profiled, target_name, seconds, rate, name, other, min_samples):
    """(sampled %, true %) of function `name` against `other`, from a target that prints
    the seconds each really got as JSON."""
    cp, prof = run_profiled(target_name, seconds, opts=["--rate", rate])
    assert cp.returncode == 0, cp.stderr
    truth = stdout_json(cp)
    mine, theirs = prof.function_total(name), prof.function_total(other)
    assert mine + theirs > min_samples, (mine, theirs)
    return 100.0 * mine / (mine + theirs), 100.0 * truth[name] / sum(truth.values())


def test_code_periodic_at_the_sampling_rate_does_not_alias(run_profiled):
    """Each tick falls at a random point of its period: a program that alternates two
    functions every half millisecond, in step with a 1 kHz sampler, gets its true 50/50
    split, not whichever half a fixed-period sampler would keep landing in."""
    got, expected = _share_of(run_profiled, "aliasing.py", "2.0", "1000", "first_half",
                              "second_half", 1000)
    assert abs(got - expected) <= 6.0, (got, expected)


def test_sub_millisecond_calls_get_their_true_share(run_profiled):
    """Calls of 0.07 ms alternating with calls of 0.2 ms: the short one is entered and
    left most often, where a stack is most often caught changing while it is copied.
    Whatever is done about such samples must not cost the short call its share (3.9
    once reported 22.5% for a true 24.4%)."""
    got, expected = _share_of(run_profiled, "bursts.py", "1.5", "10000", "burst_short",
                              "burst_long", 5000)
    assert abs(got - expected) <= 1.2, (got, expected)


def _thread_shares(prof, truth, pred):
    by_tid = {}
    for role in ("big", "small", "sleeper"):
        tid = truth[role]["tid"]
        by_tid[role] = prof.total(lambda r, tid=tid: r["tid"] == tid and pred(r))
    return by_tid


def test_threads_wall_mode_split_idle_and_gil(run_profiled):
    cp, prof = run_profiled("threads.py", "0.6")
    assert cp.returncode == 0, cp.stderr
    truth = stdout_json(cp)
    tids = {t["tid"] for t in prof.tracks}
    for role in ("big", "small", "sleeper", "main"):
        assert truth[role]["tid"] in tids, (role, truth, tids)
    # The sleeper is there at every tick, and idle.
    sleeper = truth["sleeper"]["tid"]
    s_all = prof.total(lambda r: r["tid"] == sleeper)
    s_busy = prof.total(lambda r: r["tid"] == sleeper and r["flags"] & ONCPU)
    # It wakes every 10 ms and is runnable (R) while it waits for a CPU and the GIL:
    # only the CPU time it really used may count as running.
    assert s_all > 100 and s_busy <= 0.03 * s_all, (s_all, s_busy)
    # On-CPU shares follow the CPU time the threads measured themselves.
    true_ratio = truth["big"]["cpu"] / truth["small"]["cpu"]
    cpu = _thread_shares(prof, truth, lambda r: r["flags"] & ONCPU)
    ratio = cpu["big"] / max(cpu["small"], 1)
    assert abs(ratio - true_ratio) <= 0.10 * true_ratio, (cpu, true_ratio)
    # GIL holding is wall time: a holder preempted by another process keeps the GIL, so
    # on a loaded machine it drifts from CPU time (seen: 3.2-3.5 for a true 3.0).
    gil = _thread_shares(prof, truth, lambda r: r["flags"] & GIL)
    ratio = gil["big"] / max(gil["small"], 1)
    assert abs(ratio - true_ratio) <= 0.25 * true_ratio, (gil, true_ratio)
    # While both spin, the one without the GIL is seen waiting for it.
    small = truth["small"]["tid"]
    waits = prof.total(lambda r: r["tid"] == small and r["flags"] & GILWAIT)
    assert waits > 0.2 * prof.total(lambda r: r["tid"] == small)


def test_threads_cpu_clock_drops_idle_threads(run_profiled):
    cp, prof = run_profiled("threads.py", "0.5", opts=["--clock", "cpu"])
    assert cp.returncode == 0, cp.stderr
    truth = stdout_json(cp)
    assert prof.meta["clock"] == "cpu"
    assert all(r["flags"] & ONCPU for r in prof.records)
    # Samples are weighed by the CPU time each thread really used, so the sleeper (about
    # 0.5% of the CPU) counts for little, and the spinners split as they measured.
    sleeper = truth["sleeper"]["tid"]
    assert prof.total(lambda r: r["tid"] == sleeper) <= 0.03 * prof.total()
    cpu = _thread_shares(prof, truth, lambda r: True)
    true_ratio = truth["big"]["cpu"] / truth["small"]["cpu"]
    ratio = cpu["big"] / max(cpu["small"], 1)
    assert abs(ratio - true_ratio) <= 0.10 * true_ratio, (cpu, true_ratio)
    # And the CPU time in the profile is the CPU time the threads used.
    spun = truth["big"]["cpu"] + truth["small"]["cpu"]
    sampled = (cpu["big"] + cpu["small"]) / prof.meta["rate_hz"]
    assert abs(sampled - spun) <= 0.10 * spun, (sampled, spun)


def test_recursion_total_never_exceeds_100_percent(run_profiled, tmp_path):
    cp, prof = run_profiled("recursion.py", "1.0")
    assert cp.returncode == 0
    deep = [r for r in prof.records if sum(f[0] == "descend" for f in r["stack"]) > 30]
    assert deep, "no deep stacks were sampled"
    total = prof.total()
    assert prof.function_total("descend") <= total
    # The text report's total column for the recursive function stays <= 100%.
    out = tmp_path / "report.txt"
    from conftest import spyglass

    path = str(tmp_path / "profile.pb.gz")
    r = spyglass("report", path, "--format", "text", "-o", str(out))
    assert r.returncode == 0, r.stderr
    for line in out.read_text().splitlines():
        if "descend" in line:
            percents = [float(tok.rstrip("%")) for tok in line.split() if tok.endswith("%")]
            assert all(p <= 100.0 for p in percents), line


def test_hot_line_is_the_top_line(run_profiled):
    cp, prof = run_profiled("hotline.py", "1.0")
    assert cp.returncode == 0
    src = open(target("hotline.py")).read().splitlines()
    hot = next(i + 1 for i, l in enumerate(src) if l.rstrip().endswith("# HOT"))
    lines = prof.self_by_line()
    (top_file, top_line), _ = max(lines.items(), key=lambda kv: kv[1])
    assert os.path.basename(top_file) == "hotline.py"
    assert top_line == hot, (top_line, hot, sorted(lines.items(), key=lambda kv: -kv[1])[:5])


def test_bootstrap_frames_are_not_in_stacks(run_profiled):
    _, prof = run_profiled("hotline.py", "0.5")
    for r in prof.records:
        for name, filename, _line in r["stack"]:
            assert "_bootstrap.py" not in filename and "runpy" not in filename, r["stack"]
    roots = {}
    for r in prof.records:
        key = r["stack"][0][:2]
        roots[key] = roots.get(key, 0) + r["count"]
    (name, filename), n = max(roots.items(), key=lambda kv: kv[1])
    assert name == "<module>" and filename.endswith("hotline.py") and n > 0.95 * prof.total()
