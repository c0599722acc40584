"""The bench harness's readers of other profilers' outputs (bench/parsers.py), on canned
outputs captured from each tool (py-spy 0.4, austin 3.7, pyinstrument 5, scalene 2.4,
line_profiler 5, pprofile 2.2, yappi/cProfile pstats, Tachyon of CPython 3.15.2) and on
spyglass's to_dict shape.
A format change then fails here instead of leaving an empty benchmark column. `make
bench` itself is not part of the tests."""
import base64
import cProfile
import importlib.util
import json
import os
import pickle
import pstats
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                     "bench")


def _load(name):
    """bench/NAME.py under a private module name (bench/ is not a package on sys.path)."""
    spec = importlib.util.spec_from_file_location("sg_bench_" + name,
                                                  os.path.join(BENCH, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


parsers = _load("parsers")
report = _load("report")

GT = ["sixty", "thirty", "ten"]

PYSPY_RAW = """\
<module> (gt_shares.py:43);main (gt_shares.py:38);ten (gt_shares.py:26) 114
<module> (gt_shares.py:43);main (gt_shares.py:38);ten (gt_shares.py:25) 28
<module> (gt_shares.py:43);main (gt_shares.py:34);sixty (gt_shares.py:11) 402
<module> (gt_shares.py:43);main (gt_shares.py:36);thirty (gt_shares.py:19) 300
<module> (gt_shares.py:43);main (gt_shares.py:33);Truth.part (_truth.py:26) 2
 3
"""
PYSPY_STDERR = """\
py-spy> Sampling process 1000 times a second. Press Control-C to exit.

py-spy> Stopped sampling because process exited
py-spy> Wrote raw flamegraph data to 'pyspy.txt'. Samples: 1537 Errors: 4
"""

AUSTIN = """\
# austin: 3.7.0
# interval: 1000
# mode: wall

P23447;T0:23447;/w/gt_shares.py:<module>:43;/w/gt_shares.py:main:36;/w/gt_shares.py:thirty:19 12211
P23447;T0:23447;/w/gt_shares.py:<module>:43;/w/gt_shares.py:main:34;/w/gt_shares.py:sixty:12 24000
P23447;T0:23447;<frozen importlib._bootstrap>:_find_and_load:1360;/w/gt_shares.py:ten:26 4000
P23447;T1:23450;/w/x.py:Worker.run:3 100

# duration: 1112270
"""
AUSTIN_STDERR = (
    "\x1b[1mStatistics\x1b[0m\n"
    "\u231b Sampling duration : \x1b[1m1.11 s\x1b[0m\n"
    "\U0001f422 Long sampling rate : \x1b[1m2/328\x1b[0m (\x1b[1m0.61 %\x1b[0m) samples took "
    "longer than the sampling interval to collect\n"
    "\U0001f480 Error rate : \x1b[1m5/328\x1b[0m (\x1b[1m1.52 %\x1b[0m) invalid samples\n"
)

# python3.15 -m profiling.sampling run -a -r 1000 --mode cpu --collapsed -o F gt_gil.py 0.3
# (CPython 3.15.2): three threads; the main thread mostly off CPU, so seldom seen
TACHYON_COLLAPSED = """\
tid:25647;threading.py:Thread._bootstrap:1181;threading.py:Thread._bootstrap_inner:1219;\
threading.py:Thread.run:1161;gt_gil.py:big_worker:23;gt_gil.py:spin:16 28
tid:25648;threading.py:Thread._bootstrap:1181;threading.py:Thread._bootstrap_inner:1219;\
threading.py:Thread.run:1161;gt_gil.py:small_worker:30;gt_gil.py:spin:16 10
tid:25647;threading.py:Thread._bootstrap:1181;threading.py:Thread._bootstrap_inner:1219;\
threading.py:Thread.run:1161;gt_gil.py:big_worker:23;gt_gil.py:spin:15 4
tid:25646;<frozen runpy>:_run_module_as_main:201;<frozen runpy>:_run_code:87 1
tid:25646;<frozen runpy>:_run_module_as_main:201;<frozen runpy>:_run_code:87;gt_gil.py:<module>:49 1
tid:25646;<frozen runpy>:_run_module_as_main:201;<frozen runpy>:_run_code:87;gt_gil.py:<module>:49;\
gt_gil.py:main:41;threading.py:Thread.start:1148;threading.py:Event.wait:665;\
threading.py:Condition.wait:363 1
tid:25646;<frozen runpy>:_run_module_as_main:201;<frozen runpy>:_run_code:87;gt_gil.py:<module>:49;\
gt_gil.py:main:44;threading.py:Thread.join:1270 1
tid:25648;threading.py:Thread._bootstrap:1181;threading.py:Thread._bootstrap_inner:1208;\
threading.py:Event.set:634;threading.py:Condition.notify_all:440;threading.py:Condition.notify:416 1
tid:25648;threading.py:Thread._bootstrap:1181;threading.py:Thread._bootstrap_inner:1219;\
threading.py:Thread.run:1161;gt_gil.py:small_worker:28;threading.py:Event.wait:665;\
threading.py:Condition.wait:363 1
tid:25648;threading.py:Thread._bootstrap:1181;threading.py:Thread._bootstrap_inner:1219;\
threading.py:Thread.run:1161;gt_gil.py:small_worker:30;gt_gil.py:spin:15 1
"""
# its stdout (the same run)
TACHYON_STDOUT_1K = """\
Captured 54 samples in 0.05 seconds
Sample rate: 1000.00 samples/sec
Error rate: 20.37
Collapsed stack output written to /w/tachyon.txt
"""
# run -a -r 10000 --collapsed on gt_shares.py 1: behind, it warns of the samples missed
TACHYON_STDOUT_10K = """\
Captured 2681 samples in 0.27 seconds
Sample rate: 9854.04 samples/sec
Error rate: 5.52
Warning: missed 39 samples from the expected total of 2720 (1.43%)
Collapsed stack output written to /w/tachyon.txt
"""

PYINSTRUMENT = {
    "start_time": 1795249301.68, "duration": 1.090231, "sample_count": 104,
    "target_description": "Program: gt_shares.py 0.5", "cpu_time": 0.15,
    "root_frame": {
        "function": "<module>", "file_path_short": "gt_shares.py", "file_path": "/w/gt_shares.py",
        "line_no": 1, "time": 1.0, "await_time": 0.0, "is_application_code": True,
        "children": [{
            "function": "main", "file_path": "/w/gt_shares.py", "line_no": 30, "time": 0.98,
            "children": [
                {"function": "sixty", "file_path": "/w/gt_shares.py", "line_no": 9,
                 "time": 0.6, "children": []},
                {"function": "thirty", "file_path": "/w/gt_shares.py", "line_no": 16,
                 "time": 0.3, "children": [
                     {"function": "ten", "file_path": "/w/gt_shares.py", "line_no": 23,
                      "time": 0.05, "children": []}]},
            ]}],
    },
}

SCALENE = {
    "elapsed_time_sec": 1.86,
    "files": {},
    "stacks": [
        [["/w/gt_shares.py <module>:43;", "/w/gt_shares.py main:34;", "/w/gt_shares.py sixty:12;"],
         {"c_time": 0.099, "count": 24, "cpu_samples": 0.6, "python_time": 0.388}],
        [["/w/gt_shares.py <module>:43;", "/w/gt_shares.py main:36;", "/w/gt_shares.py thirty:19;"],
         {"c_time": 0.13, "count": 8, "cpu_samples": 0.3, "python_time": 0.15}],
        [["/w/gt_shares.py <module>:43;", "/w/gt_shares.py main:38;", "/w/gt_shares.py ten:26;"],
         {"c_time": 0.01, "count": 7, "cpu_samples": 0.1, "python_time": 0.18}],
    ],
}

# kernprof -l -p gt_shares.py on line_profiler 5.1 (a pickled LineStats)
LPROF = base64.b64decode(
    "gAWVvgEAAAAAAACMG2xpbmVfcHJvZmlsZXIubGluZV9wcm9maWxlcpSMCUxpbmVTdGF0c5STlCmBlH2UKIwH"
    "dGltaW5nc5R9lCiMKy93b3JrL3d0L2JlbmNoL2JlbmNoL3dvcmtsb2Fkcy9ndF9zaGFyZXMucHmUSwmMBXNp"
    "eHR5lIeUXZQoSwpLS0qFf0MAh5RLC0pbVSIASvKLanuHlEsMShBVIgBKm+P/fIeUSw1LS0omkgQAh5RlaAdL"
    "EIwGdGhpcnR5lIeUXZQoSxFLS0q+UwIAh5RLEkrTKhEASmxtskGHlEsTSogqEQBKlHA4PoeUSxRLS0qeSAQA"
    "h5RlaAdLF4wDdGVulIeUXZQoSxhLS0oJ6wEAh5RLGUojuQUASq1V4CCHlEsaSti4BQBKVCRaFIeUSxtLS0o6"
    "zwIAh5RlaAdLHowEbWFpbpSHlF2UKEsfSwFNMimHlEsgS0xNU86HlEshS5ZKOuQcAIeUSyJLS4oF1vGuKgGH"
    "lEsjS5ZK3Vc+AIeUSyRLS4oF8sGWmwCHlEslS5ZK7TQaAIeUSyZLS0po6bE/h5RLJ0sBSvuyAQCHlGV1jAR1"
    "bml0lEc+ES4L6CbWlXViLg=="
)

CALLGRIND = """\
# callgrind format
version: 1
creator: pprofile
event: usphit :microseconds/hit
events: hits microseconds usphit
cmd: gt_shares.py 0.1
fl=/w/gt_shares.py
fn=sixty:9
9 15 38 2
11 450015 2153736 4
12 450000 1969760 4
fn=thirty:16
18 225015 965345 4
19 225000 1098184 4
fn=ten:23
25 75015 353261 4
26 75000 368969 4
fn=main:30
30 1 6 6
cfl=/w/gt_shares.py
cfn=sixty:9
calls=15 9
34 15 4123534 274902
"""


def spyglass_dict(mode="sample"):
    """The shape of spyglass.Profile.to_dict() (see src/ext/ext_profile.c)."""
    return {
        "meta": {"mode": mode, "clock": "wall", "rate_hz": 1000.0, "duration_ns": 10**9,
                 "interval_ns": 10**6, "ticks_requested": 1000, "ticks_taken": 990,
                 "value_types": [("samples", "count"), ("wall", "nanoseconds")]},
        "attrs": {"sampler_cpu_seconds": "0.030000"},
        "functions": [("<module>", "/w/g.py", 1), ("big_worker", "/w/g.py", 10),
                      ("small_worker", "/w/g.py", 20), ("spin", "/w/g.py", 30)],
        "locations": [(0, 5), (1, 12), (2, 22), (3, 33)],
        "processes": [{"pid": 1, "cmdline": "x", "python": "3.13.0", "samples_ok": 990,
                       "samples_failed": 10}],
        "tracks": [{"process": 0, "tid": 1, "name": "MainThread", "is_main": True},
                   {"process": 0, "tid": 2, "name": "Thread", "is_main": False}],
        "records": [
            {"track": 1, "flags": parsers.ONCPU | parsers.GIL, "stack": [1, 3], "values": [300, 7]},
            {"track": 1, "flags": parsers.GILWAIT, "stack": [1, 3], "values": [100, 5]},
            {"track": 0, "flags": parsers.ONCPU | parsers.GIL, "stack": [2, 3], "values": [100, 9]},
            {"track": 0, "flags": parsers.GILWAIT, "stack": [2, 3], "values": [200, 1]},
        ],
    }


def approx_shares(values):
    return {k: round(v, 3) for k, v in parsers.shares(values).items()}


def test_pyspy_raw_and_sample_count():
    p = parsers.parse_collapsed(PYSPY_RAW)
    assert parsers.totals(p, GT) == {"sixty": 402, "thirty": 300, "ten": 142}
    assert parsers.parse_pyspy_stderr(PYSPY_STDERR) == {"samples": 1537, "errors": 4}
    with pytest.raises(ValueError):
        parsers.parse_pyspy_stderr("py-spy> Wrote raw flamegraph data")
    with pytest.raises(ValueError):
        parsers.parse_collapsed("main (x.py:1);f (x.py:2) many\n")


def test_austin_collapsed_and_statistics():
    p = parsers.parse_austin(AUSTIN)
    assert p.meta["mode"] == "wall" and p.meta["duration"] == "1112270"
    assert parsers.totals(p, GT) == {"sixty": 24000, "thirty": 12211, "ten": 4000}
    assert parsers.totals(p, ["run"]) == {"run": 100}  # Worker.run, thread frame dropped
    assert ("_find_and_load", "ten") in [s[0] for s in p.stacks]
    stats = parsers.parse_austin_stderr(AUSTIN_STDERR)
    assert stats == {"errors": 5, "samples": 328, "long": 2}


def test_tachyon_collapsed():
    p = parsers.parse_tachyon(TACHYON_COLLAPSED)
    assert parsers.totals(p, ["big_worker", "small_worker"]) == {"big_worker": 32,
                                                                  "small_worker": 12}
    assert parsers.totals(p, ["spin", "main", "wait"]) == {"spin": 43, "main": 2, "wait": 2}
    assert sum(w for _f, w, _fl in p.stacks) == 49  # 54 ticks, 11 of them failed
    first = p.stacks[0][0]
    assert first[0] == "Thread._bootstrap" and first[-1] == "spin"  # root first, no tid
    assert ("_run_module_as_main", "_run_code") in [s[0] for s in p.stacks]  # <frozen runpy>
    # frames without a file are their name alone; a file name may hold a colon
    p = parsers.parse_tachyon("tid:7;x.py:main:3;<GC> 2\ntid:7;a:b.py:f:4 1\n")
    assert [s[0] for s in p.stacks] == [("main", "<GC>"), ("f",)]
    with pytest.raises(ValueError):
        parsers.parse_tachyon("tid:1;x.py:f:1 many\n")


def test_tachyon_closing_lines():
    s = parsers.parse_tachyon_stdout(TACHYON_STDOUT_1K)
    assert s["samples"] == 54 and s["errors"] == 11
    assert s["error_rate"] == pytest.approx(0.2037)
    assert s["seconds"] == pytest.approx(0.054)  # samples / rate: finer than "0.05"
    s = parsers.parse_tachyon_stdout(TACHYON_STDOUT_10K)
    assert s["samples"] == 2681 and s["errors"] == 148
    assert s["rate"] == pytest.approx(9854.04)
    assert s["seconds"] == pytest.approx(2681 / 9854.04)
    assert (s["missed"], s["expected"]) == (39, 2720)
    # Tachyon prints in the user's locale (de_DE groups with dots, decimals with a comma)
    s = parsers.parse_tachyon_stdout("Captured 12.681 samples in 1,27 seconds\n"
                                     "Sample rate: 9.954,04 samples/sec\nError rate: 1,52\n")
    assert s["samples"] == 12681 and s["rate"] == pytest.approx(9954.04)
    assert s["error_rate"] == pytest.approx(0.0152) and s["errors"] == 193
    s = parsers.parse_tachyon_stdout("Captured 1 sample in 0.00 seconds\n"
                                     "Sample rate: 0.00 samples/sec\nError rate: 0.00\n")
    assert s["samples"] == 1 and s["seconds"] == 0 and s["errors"] == 0
    with pytest.raises(ValueError):
        parsers.parse_tachyon_stdout("Collapsed stack output written to x\n")


def _load_tools(monkeypatch):
    """bench/tools.py, whose `import parsers` must find the copy loaded above."""
    monkeypatch.setitem(sys.modules, "parsers", parsers)
    return _load("tools")


def test_tachyon_modes_command_and_reader(tmp_path, monkeypatch):
    tools = _load_tools(monkeypatch)
    ctx = tools.Ctx("/v/bin", "/w/gt_gil.py", ["3.0"], str(tmp_path), {})
    out = str(tmp_path / "tachyon.txt")
    assert tools.BY_ID["tachyon-10k"].build(ctx) == [
        "/v/bin/python", "-m", "profiling.sampling", "run", "-a", "-r", "10000",
        "--collapsed", "-o", out, "/w/gt_gil.py", "3.0"]
    assert tools.BY_ID["tachyon-cpu"].build(ctx)[4:9] == ["-a", "-r", "1000", "--mode", "cpu"]
    kids = tools.Ctx("/v/bin", "/w/children.py", ["1.0"], str(tmp_path), {}, children=True)
    assert "--subprocesses" in tools.BY_ID["tachyon-1k"].build(kids)
    assert all(m.where == "outside" for m in tools.MODES if m.tool == "tachyon")
    (tmp_path / "tachyon.txt").write_text(TACHYON_COLLAPSED)
    parsed, metrics = tools.BY_ID["tachyon-10k"].read(ctx, TACHYON_STDOUT_10K, "", {})
    assert parsers.totals(parsed, ["big_worker"]) == {"big_worker": 32}
    assert metrics["samples_taken"] == 2681 and metrics["errors"] == 148
    assert metrics["samples_requested"] == pytest.approx(10000 * 2681 / 9854.04)
    assert metrics["sampling_seconds"] == pytest.approx(2681 / 9854.04)


def test_pyinstrument_json_self_times():
    p = parsers.parse_pyinstrument(json.dumps(PYINSTRUMENT))
    t = parsers.totals(p, GT + ["main"])
    assert t["sixty"] == pytest.approx(0.6)
    assert t["thirty"] == pytest.approx(0.3)  # inclusive: its own 0.25 plus ten's 0.05
    assert t["ten"] == pytest.approx(0.05)
    assert t["main"] == pytest.approx(0.98)
    assert p.meta == {"samples": 104, "duration": 1.090231}


def test_scalene_stacks():
    p = parsers.parse_scalene(json.dumps(SCALENE))
    assert approx_shares(parsers.totals(p, GT)) == {"sixty": 0.6, "thirty": 0.3, "ten": 0.1}
    with pytest.raises(ValueError):
        parsers.parse_scalene(json.dumps({"files": {}}))


def test_lprof_without_line_profiler_installed():
    p = parsers.parse_lprof(LPROF)
    t = parsers.totals(p, GT + ["main"])
    assert all(t[n] > 0 for n in GT)
    assert t["sixty"] > t["thirty"] > t["ten"]
    assert t["main"] > t["sixty"] + t["thirty"] + t["ten"]  # a line's time includes its calls
    assert p.meta["lines"] > 10
    with pytest.raises(pickle.UnpicklingError):
        parsers.parse_lprof(pickle.dumps(os.system))  # never imports what a pickle names


def test_pprofile_callgrind_inclusive():
    p = parsers.parse_callgrind(CALLGRIND)
    t = parsers.totals(p, GT + ["main"])
    assert t["sixty"] == pytest.approx((38 + 2153736 + 1969760) / 1e6)
    assert t["ten"] == pytest.approx((353261 + 368969) / 1e6)
    assert t["main"] == pytest.approx((6 + 4123534) / 1e6)  # own line plus the call's cost
    with pytest.raises(ValueError):
        parsers.parse_callgrind("fn=x\n1 2 3\n")


def test_pstats_from_cprofile(tmp_path):
    def leaf(n):
        return sum(range(n))

    def sixty():
        return leaf(60000)

    def ten():
        return leaf(10000)

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(20):
        sixty()
        ten()
    prof.disable()
    path = tmp_path / "out.prof"
    prof.dump_stats(str(path))
    p = parsers.parse_pstats_dict(pstats.Stats(str(path)).stats)
    t = parsers.totals(p, ["sixty", "ten", "leaf"])
    assert t["sixty"] > t["ten"] > 0
    assert t["leaf"] == pytest.approx(t["sixty"] + t["ten"], rel=0.5)


def test_pstats_shape_yappi_writes():
    # yappi -f pstat writes the same marshalled mapping; cumulative time is index 3
    stats = {("/w/g.py", 9, "sixty"): (75, 75, 0.0887, 0.0887, {}),
             ("/w/g.py", 16, "thirty"): (75, 75, 0.0441, 0.0441, {}),
             ("/w/g.py", 23, "ten"): (75, 75, 0.0145, 0.0145, {})}
    p = parsers.parse_pstats_dict(stats)
    assert parsers.totals(p, GT) == {"sixty": 0.0887, "thirty": 0.0441, "ten": 0.0145}


def test_spyglass_views():
    p = parsers.parse_spyglass(spyglass_dict())
    names = ["big_worker", "small_worker"]
    assert parsers.totals(p, names) == {"big_worker": 400, "small_worker": 300}
    assert parsers.totals(p, names, "cpu") == {"big_worker": 300, "small_worker": 100}
    assert parsers.totals(p, names, "gil") == {"big_worker": 300, "small_worker": 100}
    assert p.meta["ticks_taken"] == 990 and p.meta["error_rate"] == pytest.approx(0.01)
    assert p.meta["sampler_cpu_seconds"] == pytest.approx(0.03)
    traced = parsers.parse_spyglass(spyglass_dict(mode="trace"))  # weighs by self time
    assert parsers.totals(traced, names) == {"big_worker": 12, "small_worker": 10}


def test_recursion_counted_once():
    p = parsers.parse_collapsed("fib (f.py:1);fib (f.py:2);fib (f.py:2) 10\nmain (f.py:9) 5\n")
    assert parsers.totals(p, ["fib", "main"]) == {"fib": 10, "main": 5}


def test_report_split_and_error():
    truth = {"big_worker": 3.0, "small_worker": 1.0}
    assert report._error_pp({"big_worker": 75, "small_worker": 25}, truth) == pytest.approx(0)
    assert report._error_pp({"big_worker": 2, "small_worker": 1}, truth) == \
        pytest.approx(8.333, 1e-3)
    ok = report._split({"big_worker": 2.9, "small_worker": 1.0}, truth)
    bad = report._split({"big_worker": 2.0, "small_worker": 1.0}, truth)
    assert ok["right"] and not bad["right"]
    assert ok["order"] == ["small_worker", "big_worker"]


def _run(mode, rnd, work, **kw):
    r = {"ok": True, "workload": "gt_gil", "mode": mode, "round": rnd, "work": work,
         "wall": work + 0.1, "tree_cpu": work, "target_cpu": work, "truth_kind": "cpu",
         "truth_parts": {"big_worker": 0.75, "small_worker": 0.25}, "target_maxrss_kb": 10240,
         "hwm_kb": 20480, "same_process": mode == "base"}
    r.update(kw)
    return r


def test_report_summary_targets_and_markdown():
    """The figures the tables show, from raw runs: ratios against the same round's
    unprofiled run, CPU-view accuracy, thread splits, failures and missing tools."""
    runs = []
    for rnd in range(2):
        runs.append(_run("base", rnd, 1.0))
        runs.append(_run("spyglass-1k", rnd, 1.01 + rnd / 100, tree_cpu=1.1, target_cpu=1.0,
                         samples_taken=990, samples_requested=1000, sampling_seconds=1.0,
                         profiler_cpu_share=0.05, sampler_cpu_share=0.04, error_rate=0.001,
                         measured={"big_worker": 500, "small_worker": 500},
                         measured_cpu={"big_worker": 740, "small_worker": 250},
                         measured_gil={"big_worker": 600, "small_worker": 300}))
        runs.append(_run("pyinstrument", rnd, 1.2, target_maxrss_kb=12288,
                         measured={"big_worker": 0, "small_worker": 0}))
    runs.append(_run("yappi", 0, 1.0, ok=False, error="exit status 1: boom"))
    results = {
        "runs": runs, "plan": {"gt_gil": {"scale": 1.0, "modes": ["spyglass-1k", "pyinstrument",
                                                                   "yappi", "spyglass-trace"]}},
        "unavailable": {"spyglass-trace": "not in this build"},
        "where": {"spyglass-1k": "outside", "pyinstrument": "inside", "yappi": "inside"},
        "labels": {"spyglass-1k": "spyglass run", "pyinstrument": "pyinstrument",
                   "yappi": "yappi", "spyglass-trace": "spyglass trace"},
        "descriptions": {"gt_gil": "GIL"}, "python": "3.13.0", "date": "2026-01-01",
        "quick": False, "rounds": 2, "seconds": 60, "command": "make bench", "install": {},
        "versions": {"python": "3.13.0", "spyglass": "0.1"},
        "machine": {"cpu": "x", "cores": 2, "memory": "1 GiB", "kernel": "6",
                    "loadavg_start": (1, 1, 1), "loadavg_end": (1, 1, 1)},
    }
    s = report.summarize(results)
    sg = s["gt_gil"]["spyglass-1k"]
    assert sg["slowdown"] == pytest.approx(1.015)
    assert sg["samples_share"] == pytest.approx(0.99)
    assert sg["cpu_per_sample_us"] == pytest.approx(40.4, rel=1e-3)
    assert sg["measured_view"] == "cpu" and sg["error_pp"] == pytest.approx(0.25, abs=0.01)
    assert sg["split"]["right"] and not sg["split_gil"]["right"]
    assert sg["memory_mb"] == pytest.approx(20)
    pyi = s["gt_gil"]["pyinstrument"]
    assert pyi["parts_seen"] is False and pyi["memory_mb"] == pytest.approx(2)
    assert s["gt_gil"]["yappi"]["failed"] == 1
    targets = {t["target"]: t["met"] for t in s["_targets"]}
    assert targets["GIL contention 3:1 within +-10% (CPU view)"] is True
    assert targets["GIL contention 3:1 within +-10% (GIL view)"] is False
    assert targets["1 kHz: >= 99% of requested samples"] is True
    results["summary"] = s
    md = report.markdown(results)
    assert "| spyglass run | 1.02× (1.01–1.02) | 1.00× | 99.0% (990/s) |" in md
    assert "CPU 1:2.96 ✓ (true 1:3); GIL 1:2 ✗ (true 1:3)" in md
    assert "none of the parts seen" in md
    assert "not measured: not in this build" in md
    assert "failed: exit status 1: boom" in md


def test_report_tachyon_cpu_in_target_and_versus():
    """Tachyon's coordinator runs in the target process before the program: that CPU
    (the target's CPU at the program's start against the unprofiled run's) is the
    profiler's. Then spyglass against Tachyon, metric by metric."""
    def run(mode, rnd, **kw):
        r = {"ok": True, "workload": "gt_shares", "mode": mode, "round": rnd, "work": 1.0,
             "wall": 2.0, "tree_cpu": 1.0, "target_cpu": 1.0, "target_cpu_start": 0.02,
             "truth_kind": "wall", "truth_parts": {"sixty": 0.6, "ten": 0.4},
             "target_maxrss_kb": 10240, "hwm_kb": 20480, "same_process": mode == "base",
             "measured": {"sixty": 60, "ten": 40}}
        r.update(kw)
        return r

    runs = []
    for rnd in range(2):
        runs.append(run("base", rnd))
        runs.append(run("spyglass-1k", rnd, work=1.01, tree_cpu=1.2, target_cpu=1.0,
                        target_cpu_start=0.021, profiler_cpu_share=0.1, samples_taken=1000,
                        samples_requested=1000, sampling_seconds=1.0, error_rate=0.0))
        runs.append(run("tachyon-1k", rnd, work=1.03, tree_cpu=1.4, target_cpu=1.2,
                        target_cpu_start=0.22, profiler_cpu_share=0.1, samples_taken=1000,
                        samples_requested=1000, sampling_seconds=1.0, error_rate=0.02,
                        measured={"sixty": 55, "ten": 45}))
    results = {"runs": runs, "plan": {"gt_shares": {"scale": 1, "modes": ["spyglass-1k",
                                                                           "tachyon-1k"]}},
               "where": {"spyglass-1k": "outside", "tachyon-1k": "outside"},
               "prelude": ["tachyon-1k"]}
    s = report.summarize(results)
    ty, sg = s["gt_shares"]["tachyon-1k"], s["gt_shares"]["spyglass-1k"]
    assert ty["profiler_cpu_in_target"] == pytest.approx(0.2)
    assert ty["profiler_cpu"] == pytest.approx(0.1 + 0.2 / 2.0)  # 0.2 s over a 2 s run
    assert ty["cpu_per_sample_us"] == pytest.approx(400)  # (0.2 + 0.2 s) / 1000
    assert ty["cpu_ratio"] == pytest.approx(1.0)  # 1.2 s, 0.2 s of them Tachyon's
    assert sg["profiler_cpu"] == pytest.approx(0.1)  # no prelude: start-up noise ignored
    assert sg["profiler_cpu_in_target"] == 0
    versus = {t["target"]: t for t in s["_targets"] if t["target"].startswith("vs Tachyon")}
    assert versus["vs Tachyon at 1 kHz: slowdown"]["met"] is True
    assert versus["vs Tachyon at 1 kHz: profiler's whole CPU"]["met"] is True
    assert versus["vs Tachyon at 1 kHz: error vs truth, pooled"]["met"] is True
    assert versus["vs Tachyon at 1 kHz: samples taken / requested"]["met"] is True
    assert "vs Tachyon at 10 kHz: slowdown" not in versus  # neither ran at 10 kHz
    for r in runs:  # now Tachyon is faster and reads every stack
        if r["mode"] == "tachyon-1k":
            r.update(work=0.9, error_rate=0.0)
        elif r["mode"] == "spyglass-1k":
            r["error_rate"] = 0.001
    versus = {t["target"]: t for t in report.summarize(results)["_targets"]}
    row = versus["vs Tachyon at 1 kHz: slowdown"]
    assert row["met"] is False and "behind on gt_shares (1.01× vs 0.90×)" in row["measured"]
    assert versus["vs Tachyon at 1 kHz: error rate"]["met"] is False
    assert versus["vs Tachyon at 1 kHz: profiler's whole CPU"]["met"] is True
