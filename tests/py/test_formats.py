"""The interchange formats, checked by the tools that read them: pstats.Stats (every
number against the model), snakeviz and gprof2dot; callgrind_annotate; go tool pprof;
speedscope's JSON schema; the Chrome trace's structure. Sampled profiles come from real
runs, traced ones are built by hand as pprof bytes (the tracer is separate)."""
import json
import math
import os
import pstats
import re
import shutil
import subprocess
import sys
import zipfile
from collections import defaultdict

import pytest

import spyglass
from spyglass import _core

from conftest import spyglass as run_spyglass
from conftest import target

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "data", "speedscope-file-format-schema.json")
GO = shutil.which("go") or ("/usr/local/go/bin/go" if os.path.exists("/usr/local/go/bin/go")
                            else None)
CALLGRIND_ANNOTATE = shutil.which("callgrind_annotate")


# ---- a traced profile built by hand: a tiny protobuf encoder for pprof ----

def _varint(v):
    out = bytearray()
    v &= (1 << 64) - 1
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def _field(num, value):
    if isinstance(value, (bytes, bytearray)):
        return _varint(num << 3 | 2) + _varint(len(value)) + bytes(value)
    return _varint(num << 3) + _varint(value)


def traced_pprof(mode="trace", hostile=False):
    """pprof bytes of a traced profile: main calls f twice and len (a builtin); f calls
    g which recurses (g -> g); in another thread, loop -> g. Values (calls, ns)."""
    strings = [b""]

    def s(x):
        if isinstance(x, str):
            x = x.encode("utf-8", "surrogateescape")
        if x not in strings:
            strings.append(x)
        return strings.index(x)

    f_name = "<script>\"\\\n\x01 f" if hostile else "f"
    t_file = b"/t\"q\nx\xff.py" if hostile else "/t.py"
    funcs = [("main", t_file, 1), (f_name, t_file, 10), ("g", t_file, 20), ("len", "~", 0),
             ("loop", t_file, 30)]
    msg = bytearray()
    for name, typ in (("calls", "count"), ("time", "nanoseconds")):
        msg += _field(1, _field(1, s(name)) + _field(2, s(typ)))
    # locations: id i+1 = function i+1 at its first line
    stacks = [  # leaf first (pprof order), tid, calls, ns
        ([1], 5, 1, 1000),
        ([2, 1], 5, 2, 2000),
        ([3, 2, 1], 5, 2, 3000),
        ([3, 3, 2, 1], 5, 2, 4000),
        ([4, 1], 5, 1, 500),
        ([3, 5], 6, 3, 6000),
    ]
    for locs, tid, calls, ns in stacks:
        sample = _field(1, b"".join(_varint(x) for x in locs))
        sample += _field(2, _varint(calls) + _varint(ns))
        sample += _field(3, _field(1, s("pid")) + _field(3, 5))
        sample += _field(3, _field(1, s("thread_id")) + _field(3, tid))
        msg += _field(2, sample)
    for i, (name, file, line) in enumerate(funcs):
        msg += _field(4, _field(1, i + 1) + _field(4, _field(1, i + 1) + _field(2, line)))
        msg += _field(5, _field(1, i + 1) + _field(2, s(name)) + _field(3, s(name)) +
                      _field(4, s(file)) + _field(5, line))
    comments = [s(f"spyglass:mode={mode}"), s("spyglass:attr:command=python t.py")]
    names = [bytes(x) for x in strings]
    for x in names:
        msg += _field(6, x)
    msg += _field(13, b"".join(_varint(c) for c in comments))
    return bytes(msg)


# ---- the model, as a reference ----

class Model:
    """Reference figures computed in Python from to_dict()."""

    def __init__(self, profile):
        d = profile.to_dict()
        self.d = d
        self.meta = d["meta"]
        self.sampled = self.meta["mode"] == "sample"
        funcs, locs = d["functions"], d["locations"]
        self.col = 0 if self.sampled else 1
        self.sec = (self.meta["interval_ns"] / 1e9) if self.sampled else 1e-9
        self.records = []
        for r in d["records"]:
            stack = [locs[x][0] for x in r["stack"]]  # function ids, root first
            lines = [locs[x][1] for x in r["stack"]]
            self.records.append((r["track"], stack, lines, r["values"]))
        self.funcs = funcs

    def value(self, values):
        return values[self.col]

    def key(self, f):
        name, file, line = self.funcs[f]
        if file in ("", "~"):
            if not name.startswith(("<", "[")):
                name = f"<built-in method {name}>"
            return ("~", 0, name)
        return (file, line, name)

    def pstats(self):
        """{key: (cc, nc, tt, ct, {caller: (nc, cc, tt, ct)})} as cProfile would count."""
        fn = defaultdict(lambda: [0, 0, 0, 0])
        edges = defaultdict(lambda: [0, 0, 0, 0])
        for _track, stack, _lines, values in self.records:
            v = self.value(values)
            if self.sampled:
                # every frame of the stack was entered (a sample count)
                seen_f, seen_p = set(), set()
                for i, f in enumerate(stack):
                    k = self.key(f)
                    fn[k][1] += v
                    if f not in seen_f:
                        fn[k][0] += v
                        fn[k][3] += v
                    if i + 1 == len(stack):
                        fn[k][2] += v
                    if i:
                        e = edges[(self.key(stack[i - 1]), k)]
                        e[0] += v
                        pair = (stack[i - 1], f)
                        if pair not in seen_p:
                            e[1] += v
                            e[3] += v
                        seen_p.add(pair)
                        if i + 1 == len(stack):
                            e[2] += v
                    seen_f.add(f)
                continue
            calls = values[0]
            leaf = stack[-1]
            k = self.key(leaf)
            fn[k][1] += calls
            if leaf not in stack[:-1]:
                fn[k][0] += calls
            fn[k][2] += v
            for f in set(stack):
                fn[self.key(f)][3] += v
            if len(stack) > 1:
                ck = self.key(stack[-2])
                e = edges[(ck, k)]
                e[0] += calls
                pairs_above = set(zip(stack[:-2], stack[1:-1]))
                if (stack[-2], leaf) not in pairs_above:
                    e[1] += calls
                e[2] += v
            for pair in set(zip(stack, stack[1:])):
                edges[(self.key(pair[0]), self.key(pair[1]))][3] += v
        out = {}
        for k, (cc, nc, tt, ct) in fn.items():
            callers = {c: (e[0], e[1], e[2] * self.sec, e[3] * self.sec)
                       for (c, callee), e in edges.items() if callee == k}
            out[k] = (cc, nc, tt * self.sec, ct * self.sec, callers)
        return out

    def by_function(self, name_of):
        """{name_of(f): (self, total)} with totals counting each stack once."""
        self_, total = defaultdict(int), defaultdict(int)
        for _t, stack, _l, values in self.records:
            v = self.value(values)
            if not stack:
                continue
            self_[name_of(stack[-1])] += v
            for n in {name_of(f) for f in stack}:
                total[n] += v
        return self_, total

    def grand(self):
        return sum(self.value(r[3]) for r in self.records)


@pytest.fixture(scope="module")
def sampled(tmp_path_factory):
    """A real run of the threads target (three threads) with a timeline."""
    d = tmp_path_factory.mktemp("sampled")
    out = d / "p.pb.gz"
    cp = run_spyglass("run", "--timeline", "--rate", "400", "-o", str(out),
                      target("threads.py"), "0.3")
    assert out.exists(), cp.stderr
    return str(out)


@pytest.fixture(scope="module")
def recursive(tmp_path_factory):
    d = tmp_path_factory.mktemp("recursive")
    out = d / "r.pb.gz"
    cp = run_spyglass("run", "--rate", "400", "-o", str(out), target("recursion.py"), "0.5")
    assert out.exists(), cp.stderr
    return str(out)


def traced(tmp_path, mode="trace", hostile=False):
    path = tmp_path / f"traced-{mode}.pb"
    path.write_bytes(traced_pprof(mode, hostile))
    return str(path)


def render(path, fmt, tmp_path, *extra):
    out = tmp_path / f"out.{fmt}"
    cp = run_spyglass("report", path, "--format", fmt, "-o", str(out), *extra)
    assert cp.returncode == 0, cp.stderr
    return out


# ---- pstats ----

def check_pstats(stats_path, model):
    st = pstats.Stats(str(stats_path))
    want = model.pstats()
    got = st.stats
    assert set(got) == set(want)
    for k, (cc, nc, tt, ct, callers) in want.items():
        gcc, gnc, gtt, gct, gcallers = got[k]
        assert (gcc, gnc) == (cc, nc), k
        assert math.isclose(gtt, tt, rel_tol=1e-9, abs_tol=1e-12), k
        assert math.isclose(gct, ct, rel_tol=1e-9, abs_tol=1e-12), k
        assert set(gcallers) == set(callers), k
        for c, (enc, ecc, ett, ect) in callers.items():
            g = gcallers[c]
            assert g[:2] == (enc, ecc), (k, c)
            assert math.isclose(g[2], ett, rel_tol=1e-9, abs_tol=1e-12), (k, c)
            assert math.isclose(g[3], ect, rel_tol=1e-9, abs_tol=1e-12), (k, c)
    # cumulative time never exceeds the whole run, recursion or not
    grand = model.grand() * model.sec
    assert max(v[3] for v in got.values()) <= grand * (1 + 1e-9)
    return st


@pytest.mark.parametrize("which", ["sampled", "recursive"])
def test_pstats_sampled_every_number(which, request, tmp_path):
    path = request.getfixturevalue(which)
    out = render(path, "pstats", tmp_path)
    check_pstats(out, Model(spyglass.load(path)))


@pytest.mark.parametrize("mode", ["trace", "lines"])
def test_pstats_traced_every_number(mode, tmp_path):
    path = traced(tmp_path, mode)
    out = render(path, "pstats", tmp_path)
    st = check_pstats(out, Model(spyglass.load(path)))
    if mode == "trace":
        g = st.stats[("/t.py", 20, "g")]
        assert g[:2] == (5, 7)  # primitive 2 (from f) + 3 (from loop); 7 calls in all
        assert math.isclose(g[3], 13e-6)  # 3000 + 4000 + 6000 ns, the recursion once
        assert ("~", 0, "<built-in method len>") in st.stats


def test_pstats_readers(sampled, tmp_path):
    out = render(sampled, "pstats", tmp_path)
    # snakeviz's own view of the stats
    from snakeviz.stats import json_stats, table_rows

    st = pstats.Stats(str(out))
    assert len(table_rows(st)) == len(st.stats)
    assert len(json_stats(st)) > 0
    dot = tmp_path / "out.dot"
    cp = subprocess.run([sys.executable, "-m", "gprof2dot", "-f", "pstats", str(out),
                         "-o", str(dot)], capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, cp.stderr
    assert dot.read_text().startswith("digraph")


# ---- callgrind ----

def annotate(path, inclusive):
    cp = subprocess.run([CALLGRIND_ANNOTATE, f"--inclusive={'yes' if inclusive else 'no'}",
                         "--auto=no", "--threshold=100", str(path)],
                        capture_output=True, text=True, timeout=120, cwd="/")
    assert cp.returncode == 0, cp.stderr
    assert "malformed" not in cp.stderr, cp.stderr
    total, funcs = None, {}
    for line in cp.stdout.splitlines():
        m = re.match(r"^\s*([\d,]+) \([\s\d.]+%\)\s+(.*)$", line)
        if not m:
            continue
        v = int(m.group(1).replace(",", ""))
        if m.group(2) == "PROGRAM TOTALS":
            total = v
        else:
            funcs[m.group(2)] = v
    return total, funcs


@pytest.mark.skipif(not CALLGRIND_ANNOTATE, reason="callgrind_annotate (valgrind) missing")
@pytest.mark.parametrize("which", ["sampled", "recursive", "traced", "hostile"])
def test_callgrind_annotate_agrees(which, request, tmp_path):
    if which in ("traced", "hostile"):
        path = traced(tmp_path, hostile=which == "hostile")
    else:
        path = request.getfixturevalue(which)
    out = render(path, "callgrind", tmp_path)
    model = Model(spyglass.load(path))

    firsts = defaultdict(set)
    for name, file, line in model.funcs:
        firsts[(file, name)].add(line)

    def name_of(f):
        # the writer tells apart same-named functions of a file by their first line
        name, file, line = model.funcs[f]
        return f"{file}:{name}" + (f":{line}" if len(firsts[(file, name)]) > 1 else "")

    self_, total = model.by_function(name_of)
    got_total, got_self = annotate(out, inclusive=False)
    assert got_total == model.grand()
    if which == "hostile":
        # names are escaped, not broken: one entry per function, the figures intact
        assert sorted(got_self.values()) == sorted(v for v in self_.values() if v)
        assert any(k.startswith('/t"q\\x0ax\\xff.py:<script>"') for k in got_self), got_self
        return
    assert got_self == {k: v for k, v in self_.items() if v}
    _, got_incl = annotate(out, inclusive=True)
    # "[root]" calls the outermost frames, so every function's inclusive cost is whole
    assert got_incl.pop("[spyglass]:[root]") == model.grand()
    assert got_incl == {k: v for k, v in total.items() if v}


def test_callgrind_per_thread_parts(sampled, tmp_path):
    out = render(sampled, "callgrind", tmp_path, "--per-thread")
    text = out.read_text()
    tracks = spyglass.load(sampled).to_dict()["tracks"]
    parts = re.findall(r"^part: (\d+)\nthread: (\d+)$", text, re.M)
    assert [int(p) for p, _ in parts] == list(range(1, len(tracks) + 1))
    assert sorted(int(t) for _, t in parts) == sorted(t["tid"] for t in tracks)
    summaries = [int(x) for x in re.findall(r"^summary: (\d+)$", text, re.M)]
    assert sum(summaries) == Model(spyglass.load(sampled)).grand()


def test_zipfile_bundles_sources(recursive, tmp_path):
    z = tmp_path / "bundle.zip"
    cp = run_spyglass("report", recursive, "--format", "callgrind", "-o",
                      str(tmp_path / "cg.out"), "--zipfile", str(z))
    assert cp.returncode == 0, cp.stderr
    src = os.path.realpath(target("recursion.py"))
    with zipfile.ZipFile(z) as zf:
        names = zf.namelist()
        assert "callgrind.out.spyglass" in names
        rel = src.lstrip("/")
        assert rel in names
        with open(src, "rb") as f:
            assert zf.read(rel) == f.read()
        cg = zf.read("callgrind.out.spyglass").decode()
    assert f") {rel}\n" in cg
    assert re.search(r"^fl=\(\d+\) /", cg, re.M) is None  # no absolute path left


# ---- go tool pprof ----

def pprof_top(path, sample_index):
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="", HOME=os.environ.get("HOME", "/tmp"))
    cp = subprocess.run([GO, "tool", "pprof", "-top", "-nodecount=100000",
                         f"-sample_index={sample_index}", "-unit=ns", str(path)],
                        capture_output=True, text=True, timeout=300, env=env)
    assert cp.returncode == 0, cp.stderr
    rows = {}
    total = None
    for line in cp.stdout.splitlines():
        m = re.search(r"of ([\d.]+)(\w*) total", line)
        if m:
            total = m.group(1)
        m = re.match(r"^\s*([\d.]+)(\w*)\s+[\d.]+%\s+[\d.]+%\s+([\d.]+)(\w*)\s+[\d.]+%\s+(.*)$",
                     line)
        if m:
            rows[m.group(5)] = (float(m.group(1)), float(m.group(3)))
    return total, rows


@pytest.mark.skipif(GO is None, reason="go is not installed")
@pytest.mark.parametrize("which", ["recursive", "traced"])
def test_go_tool_pprof_agrees(which, request, tmp_path):
    if which == "traced":
        src = traced(tmp_path)
        index = "time"
    else:
        src = request.getfixturevalue(which)
        index = "samples"
    out = render(src, "pprof", tmp_path)
    model = Model(spyglass.load(src))
    col = 0 if index == "samples" else 1
    model.col = col
    self_, total = model.by_function(lambda f: model.funcs[f][0])
    grand, rows = pprof_top(out, index)
    assert float(grand) == model.grand()
    # pprof shortens names with <...> in them (C++ templates), "<module>" included
    def plain(d):
        return {k: float(v) for k, v in d.items() if v and "<" not in k}
    assert plain({k: v[0] for k, v in rows.items()}) == plain(self_)
    assert plain({k: v[1] for k, v in rows.items()}) == plain(total)
    assert len(plain(total)) >= 2


# ---- speedscope ----

def test_speedscope_schema_and_totals(sampled, recursive, tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    with open(SCHEMA) as f:
        schema = json.load(f)
    for path in (sampled, recursive, traced(tmp_path), traced(tmp_path, hostile=True)):
        out = render(path, "speedscope", tmp_path)
        doc = json.loads(out.read_text())
        jsonschema.validate(doc, schema)
        model = Model(spyglass.load(path))
        mult = model.meta["interval_ns"] if model.sampled else 1
        per_track = defaultdict(int)
        for track, _s, _l, values in model.records:
            per_track[track] += model.value(values) * mult
        assert sorted(p["endValue"] for p in doc["profiles"]) == \
            sorted(v for v in per_track.values() if v)
        nframes = len(doc["shared"]["frames"])
        for p in doc["profiles"]:
            assert sum(p["weights"]) == p["endValue"]
            assert len(p["samples"]) == len(p["weights"])
            assert all(0 <= i < nframes for s in p["samples"] for i in s)


def test_speedscope_timeline_keeps_order(sampled, tmp_path):
    prof = spyglass.load(sampled)
    d = prof.to_dict()
    # the timeline holds one event per sample, and never changes the totals
    assert len(d["timeline"]) == sum(r["values"][0] for r in d["records"])
    out = render(sampled, "speedscope", tmp_path)
    doc = json.loads(out.read_text())
    locs = d["locations"]
    # rebuild each thread's sample sequence from the timeline, runs merged
    by_track = defaultdict(list)
    for rec, t in sorted(d["timeline"], key=lambda e: e[1]):
        r = d["records"][rec]
        by_track[r["track"]].append(tuple(locs[x][0] for x in r["stack"]))  # functions
    interval = d["meta"]["interval_ns"]
    expected = []
    for track, stacks in by_track.items():
        runs = []
        for s in stacks:
            if runs and runs[-1][0] == s:
                runs[-1][1] += interval
            else:
                runs.append([s, interval])
        expected.append(runs)
    got = [[[list(s), w] for s, w in zip(p["samples"], p["weights"])]
           for p in doc["profiles"]]
    want = [[[list(s), w] for s, w in runs] for runs in expected]
    assert sorted(got) == sorted(want)
    assert any(len(r) > 1 for r in got)
    # frames are functions: indexes match the model's
    assert [[f["name"], f["file"], f["line"]] for f in doc["shared"]["frames"]] == \
        [list(f) for f in d["functions"]]


# ---- chrome ----

def check_nesting(events):
    """X events of one thread nest like a call stack (a flame chart)."""
    events = sorted(events, key=lambda e: (e["ts"], -e["dur"]))
    stack = []
    for e in events:
        while stack and e["ts"] >= stack[-1]["ts"] + stack[-1]["dur"] - 1e-6:
            stack.pop()
        if stack:
            top = stack[-1]
            assert e["ts"] + e["dur"] <= top["ts"] + top["dur"] + 1e-3, (e, top)
        stack.append(e)


@pytest.mark.parametrize("which", ["sampled", "recursive", "traced", "hostile"])
def test_chrome_structure(which, request, tmp_path):
    if which in ("traced", "hostile"):
        path = traced(tmp_path, hostile=which == "hostile")
    else:
        path = request.getfixturevalue(which)
    out = render(path, "chrome", tmp_path)
    doc = json.loads(out.read_text())
    events = doc["traceEvents"]
    model = Model(spyglass.load(path))
    tracks = model.d["tracks"]
    names = {(e["pid"], e["tid"]) for e in events
             if e["ph"] == "M" and e["name"] == "thread_name"}
    assert len(names) == len(tracks)
    assert any(e["ph"] == "M" and e["name"] == "process_name" for e in events)
    xs = defaultdict(list)
    for e in events:
        if e["ph"] == "X":
            assert e["dur"] >= 0 and e["ts"] >= 0
            assert isinstance(e["name"], str) and "file" in e["args"]
            xs[(e["pid"], e["tid"])].append(e)
    assert set(xs) <= names
    for evs in xs.values():
        check_nesting(evs)
    layout = doc["otherData"]["layout"]
    assert layout == ("timeline" if which == "sampled" else "aggregated")
    if layout == "aggregated":
        # the root frames of a thread last as long as its total
        scale = model.sec * 1e6
        per_track = defaultdict(int)
        for track, stack, _l, values in model.records:
            per_track[track] += model.value(values)
        roots = defaultdict(float)
        for tid_key, evs in xs.items():
            # frames not inside another frame
            evs = sorted(evs, key=lambda e: (e["ts"], -e["dur"]))
            end = -1.0
            for e in evs:
                if e["ts"] >= end - 1e-6:
                    roots[tid_key] += e["dur"]
                    end = e["ts"] + e["dur"]
        assert sorted(round(v, 3) for v in roots.values()) == \
            sorted(round(v * scale, 3) for v in per_track.values() if v)


# ---- the command line ----

def test_formats_listed_and_suffixes(recursive, tmp_path):
    cp = run_spyglass("report", "--help")
    for fmt in ("callgrind", "pstats", "speedscope", "chrome", "pprof"):
        assert fmt in cp.stdout
    cp = run_spyglass("run", "--help")
    assert "--timeline" in cp.stdout and "run length" in cp.stdout
    assert "--zipfile" in cp.stdout
    out = tmp_path / "x.prof"
    assert run_spyglass("report", recursive, "-o", str(out)).returncode == 0
    pstats.Stats(str(out))
    out = tmp_path / "x.speedscope.json"
    assert run_spyglass("report", recursive, "-o", str(out)).returncode == 0
    assert json.loads(out.read_text())["$schema"].startswith("https://www.speedscope.app")
    # Profile.render reaches every format from Python
    prof = _core.load(recursive)
    for fmt in ("callgrind", "pstats", "speedscope", "chrome", "pprof"):
        assert prof.render(fmt)
