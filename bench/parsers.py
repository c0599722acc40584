"""Readers of every profiler's output, reduced to one shape the harness compares.

Each reader returns a `Parsed`: weighted stacks of function names (root first) with
flags (spyglass's thread states), or, for tools that only report per-function totals
(cProfile/yappi pstats, line_profiler, pprofile's callgrind), a table of each function's
inclusive time. `totals()` then gives each named function's inclusive weight, every
stack counted once per function so recursion is never double-counted.

Pure Python, standard library only: tests/py/test_bench_harness.py runs these on canned
outputs of each tool, so a change of format breaks a test instead of silently emptying a
benchmark column."""
import io
import json
import pickle
import re

ONCPU, GIL, GILWAIT, PARTIAL = 1, 2, 4, 8
ANSI = re.compile(r"\x1b\[[0-9;]*m")
FRAME = re.compile(r"^(.*) \((.*):(\d+)\)$")


class Parsed:
    """stacks: list of (tuple of function names, root first; weight; flags).
    functions: {name: inclusive weight} for tools without stacks (else None).
    meta: whatever else the tool reported (samples, errors, duration...)."""

    def __init__(self, stacks=None, functions=None, meta=None):
        self.stacks = stacks if stacks is not None else []
        self.functions = functions
        self.meta = meta or {}


def short_name(name):
    """The bare function name: 'Class.method' -> 'method', 'mod.func' -> 'func'."""
    return name.rsplit(".", 1)[-1]


def totals(parsed, names, view=None):
    """{name: inclusive weight} for each of `names` (bare function names). view: None =
    every stack; "cpu" = stacks flagged on-CPU; "gil" = stacks flagged holding the GIL."""
    want = set(names)
    out = {n: 0.0 for n in names}
    if parsed.functions is not None:
        for name, value in parsed.functions.items():
            n = short_name(name)
            if n in want:
                out[n] += value
        return out
    need = {"cpu": ONCPU, "gil": GIL}.get(view, 0)
    for frames, weight, flags in parsed.stacks:
        if need and not flags & need:
            continue
        for n in {short_name(f) for f in frames} & want:
            out[n] += weight
    return out


def shares(values):
    """{name: fraction of the sum} (all zero when the sum is zero)."""
    s = sum(values.values())
    return {k: (v / s if s else 0.0) for k, v in values.items()}


def _frame_name(frame):
    m = FRAME.match(frame)
    return m.group(1) if m else frame


def parse_collapsed(text):
    """Collapsed stacks, `frame;frame;... COUNT` per line, each frame `name (file:line)`
    (py-spy --format raw, spyglass --format collapsed). Thread/process root frames that
    py-spy or spyglass add on request are kept as names; they match no function."""
    stacks = []
    for line in text.splitlines():
        line = line.rstrip()
        if not line.strip() or line.startswith("#"):
            continue
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            raise ValueError(f"not a collapsed-stack line: {line[:80]!r}")
        frames = tuple(_frame_name(f) for f in stack.split(";")) if stack.strip() else ()
        stacks.append((frames, int(count), 0))
    return Parsed(stacks)


def parse_pyspy_stderr(text):
    """py-spy record's closing line: `... Samples: N Errors: M`."""
    m = re.search(r"Samples: (\d+) Errors: (\d+)", text)
    if not m:
        raise ValueError("py-spy did not report its sample count")
    return {"samples": int(m.group(1)), "errors": int(m.group(2))}


def parse_austin(text):
    """Austin 3's collapsed output: `# key: value` metadata, then
    `P<pid>;T<iid>:<tid>;file:function:line;... VALUE` (VALUE = microseconds in wall and
    CPU modes; with -f three metrics, of which the first is time)."""
    meta = {}
    stacks = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            meta[key.strip()] = value.strip()
            continue
        stack, _, value = line.rpartition(" ")
        if not stack:
            raise ValueError(f"not an austin sample line: {line[:80]!r}")
        value = value.split(",")[0]
        frames = []
        for part in stack.split(";"):
            if part[:1] in ("P", "T") and part[1:2].isdigit():
                continue  # process and thread frames
            bits = part.rsplit(":", 2)
            frames.append(bits[1] if len(bits) == 3 else part)
        stacks.append((tuple(frames), int(value), 0))
    return Parsed(stacks, meta=meta)


def parse_austin_stderr(text):
    """Austin's closing statistics: `Error rate : E/N (...) invalid samples`."""
    clean = ANSI.sub("", text)
    m = re.search(r"Error rate\s*:\s*(\d+)/(\d+)", clean)
    if not m:
        raise ValueError("austin did not report its sample count")
    out = {"errors": int(m.group(1)), "samples": int(m.group(2))}
    m = re.search(r"Long sampling rate\s*:\s*(\d+)/(\d+)", clean)
    if m:
        out["long"] = int(m.group(1))
    return out


def parse_tachyon(text):
    """Collapsed stacks of CPython 3.15's sampling profiler (`python -m profiling.sampling
    run --collapsed`): `tid:N;file:function:line;... COUNT`, root first; the file is a
    base name, the function its qualified name; a frame without a file (`<native>`,
    `<GC>`) is its name alone. The leading thread frame is dropped."""
    stacks = []
    for line in text.splitlines():
        line = line.rstrip()
        if not line.strip():
            continue
        stack, _, count = line.rpartition(" ")
        if not count.isdigit() or not stack:
            raise ValueError(f"not a Tachyon collapsed line: {line[:80]!r}")
        frames = []
        for part in stack.split(";"):
            if part.startswith("tid:") and part[4:].isdigit():
                continue
            bits = part.rsplit(":", 2)
            frames.append(bits[1] if len(bits) == 3 and bits[2].isdigit() else part)
        stacks.append((tuple(frames), int(count), 0))
    return Parsed(stacks)


def _locale_number(text, decimals):
    """A number Tachyon printed through locale.format_string with grouping (it switches
    to the user's locale, so 12345.67 may read `12,345.67`, `12.345,67` or `12 345,67`):
    its digits alone, divided by 10**decimals."""
    digits = re.sub(r"\D", "", text)
    if not digits:
        raise ValueError(f"not a number: {text!r}")
    return int(digits) / 10 ** decimals if decimals else int(digits)


# 'Captured 8,654 samples in 0.87 seconds' / 'Sample rate: 9,954.69 samples/sec' /
# 'Error rate: 1.42' (a percentage, without the sign)
_NUM = r"(\d[\d.,'\s]*?)"


def parse_tachyon_stdout(text):
    """Tachyon's closing lines (profiling/sampling/sample.py): the ticks it tried, both
    read and failed ("samples"), the seconds it sampled, the rate it achieved and its
    error rate, and the shortfall it warns about. Failed reads = error rate x samples
    (the rate is printed with two decimals, so the count is exact below 10,000 samples).
    With --subprocesses, only the profiler of the started process prints here."""
    clean = ANSI.sub("", text)
    m = re.search(rf"Captured {_NUM} samples? in {_NUM} seconds", clean)
    if not m:
        raise ValueError("Tachyon did not report its sample count")
    samples = _locale_number(m.group(1), 0)
    seconds = _locale_number(m.group(2), 2)
    out = {"samples": samples, "seconds": seconds}
    m = re.search(rf"Sample rate: {_NUM} samples/sec", clean)
    if m:
        out["rate"] = _locale_number(m.group(1), 2)
        if out["rate"] > 0:
            out["seconds"] = samples / out["rate"]  # more digits than the printed seconds
    m = re.search(rf"Error rate: {_NUM}\s*$", clean, re.M)
    if not m:
        raise ValueError("Tachyon did not report its error rate")
    out["error_rate"] = _locale_number(m.group(1), 2) / 100
    out["errors"] = round(out["error_rate"] * samples)
    m = re.search(rf"missed {_NUM} samples from the expected total of {_NUM} \(", clean)
    if m:
        out["missed"] = _locale_number(m.group(1), 0)
        out["expected"] = _locale_number(m.group(2), 0)
    return out


def parse_pyinstrument(text):
    """pyinstrument -r json: a frame tree with inclusive seconds per node; each node's
    self time (time minus its children's) becomes one weighted stack."""
    doc = json.loads(text)
    stacks = []

    def walk(node, path):
        path = path + (node["function"],)
        kids = node.get("children") or []
        own = node["time"] - sum(k["time"] for k in kids)
        if own > 0:
            stacks.append((path, own, 0))
        for k in kids:
            walk(k, path)

    if doc.get("root_frame"):
        walk(doc["root_frame"], ())
    meta = {"samples": doc.get("sample_count"), "duration": doc.get("duration")}
    return Parsed(stacks, meta=meta)


def parse_pstats_dict(stats):
    """A pstats.Stats(...).stats mapping, {(file, line, name): (cc, nc, tt, ct, callers)}
    (cProfile -o, yappi -f pstat): each function's cumulative time. The caller loads the
    file with pstats, which is the format's only reader."""
    functions = {}
    for (_file, _line, name), value in stats.items():
        functions[name] = functions.get(name, 0.0) + value[3]
    return Parsed(functions=functions)


class _LineStats:
    """Stands in for line_profiler.LineStats when unpickling a .lprof file, so reading
    it does not need line_profiler installed."""

    def __setstate__(self, state):
        self.__dict__.update(state)


class _LprofUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module.startswith("line_profiler") and name == "LineStats":
            return _LineStats
        raise pickle.UnpicklingError(f"unexpected object in .lprof: {module}.{name}")


def parse_lprof(data):
    """kernprof -l's .lprof (a pickled LineStats: timings {(file, first line, function):
    [(line, hits, time in units)]}, unit in seconds). A function's inclusive time is the
    sum of its lines (a line's time includes the calls it makes)."""
    obj = _LprofUnpickler(io.BytesIO(data)).load()
    timings = getattr(obj, "timings", None)
    unit = getattr(obj, "unit", None)
    if timings is None or unit is None:
        raise ValueError("not a line_profiler LineStats pickle")
    functions = {}
    lines = 0
    for (_file, _first, name), rows in timings.items():
        functions[name] = functions.get(name, 0.0) + sum(r[2] for r in rows) * unit
        lines += len(rows)
    return Parsed(functions=functions, meta={"lines": lines})


def parse_callgrind(text):
    """pprofile's callgrind output: `fn=name:line`, cost lines `line hits microseconds
    ...`, and after `calls=` a line carrying the call's inclusive cost. A function's
    inclusive time = its own lines plus the calls it made."""
    events = None
    functions = {}
    current = None
    for line in text.splitlines():
        if line.startswith("events:"):
            events = line.split(":", 1)[1].split()
        elif line.startswith("fn="):
            name = line[3:]
            if name.startswith("("):  # name compression: "(id) name"
                name = name.split(") ", 1)[-1]
            current = name.rsplit(":", 1)[0] if re.search(r":\d+$", name) else name
            functions.setdefault(current, 0.0)
        elif current is not None and line[:1].isdigit():
            cols = line.split()
            if events is None:
                raise ValueError("callgrind: cost line before 'events:'")
            idx = events.index("microseconds") + 1 if "microseconds" in events else 1
            if len(cols) > idx:
                functions[current] += float(cols[idx]) / 1e6
    if events is None:
        raise ValueError("not a callgrind file")
    return Parsed(functions=functions)


def parse_scalene(text):
    """scalene run -o FILE.json: "stacks" is a list of [frames, {"cpu_samples": seconds,
    ...}], each frame "path function:line;" (root first)."""
    doc = json.loads(text)
    if "stacks" not in doc:
        raise ValueError("scalene JSON without 'stacks'")
    stacks = []
    for frames, stat in doc["stacks"]:
        names = []
        for f in frames:
            f = f.rstrip(";")
            func = f.rsplit(" ", 1)[-1]
            names.append(func.rsplit(":", 1)[0])
        stacks.append((tuple(names), float(stat.get("cpu_samples", 0.0)), 0))
    return Parsed(stacks, meta={"elapsed": doc.get("elapsed_time_sec")})


def parse_spyglass(d):
    """spyglass's Profile.to_dict(): records of (track, flags, stack of location ids,
    values). Sampled profiles weigh by samples (values[0]); traced profiles by self
    nanoseconds (values[1]), so a function's inclusive time is the sum over its stacks."""
    funcs = d["functions"]
    locs = d["locations"]
    meta = d["meta"]
    col = 0 if meta.get("mode") == "sample" else 1
    stacks = []
    for r in d["records"]:
        names = tuple(funcs[locs[loc][0]][0] for loc in r["stack"])
        stacks.append((names, r["values"][col], r["flags"]))
    ok = sum(p["samples_ok"] for p in d["processes"])
    bad = sum(p["samples_failed"] for p in d["processes"])
    out = dict(meta)
    out.update({"samples_ok": ok, "samples_failed": bad,
                "error_rate": bad / (ok + bad) if ok + bad else 0.0,
                "sampler_cpu_seconds": float(d["attrs"].get("sampler_cpu_seconds", "nan"))})
    return Parsed(stacks, meta=out)
