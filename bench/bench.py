"""`make bench`: spyglass against the profilers users would pick instead.

    python bench/bench.py --python PY [--quick] [--rounds N] [--workloads a,b] [--modes x,y]

Run by any Python: it makes the virtualenv build/bench-venv/<ver> for PY (the newest
pyenv CPython 3.9-3.13 by default; 3.14 and 3.15 are Debian's, from `make pythons`),
installs spyglass from this tree and every other tool from PyPI (a tool that fails to
install or to start gets a row saying why; Tachyon is 3.15's standard library), then re-runs
itself inside that venv to measure. Every profiler x workload x mode runs interleaved
with an unprofiled run of the same workload, ROUNDS times. Results: raw JSON in
bench/results/<date>-<python>[-quick].json and, for full runs, one Markdown table per
workload in BENCHMARKS.md (between markers, one section per Python version)."""
import argparse
import glob
import hashlib
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORKLOADS_DIR = os.path.join(HERE, "workloads")
RESULTS_DIR = os.path.join(HERE, "results")
sys.path.insert(0, HERE)

import parsers  # noqa: E402
import report  # noqa: E402
import tools  # noqa: E402

# Tachyon's modes (CPython 3.15's own sampler) run only on 3.15 and later; on older
# Pythons their rows say why (tools.STDLIB).
SAMPLERS_1K = ["spyglass-1k", "py-spy-1k", "austin-1k", "tachyon-1k", "pyinstrument"]

# name: (description, scale, quick scale, modes). Scale 1 is about 0.3 s of work
# unprofiled on pyenv's 3.13 (faster interpreters get a larger scale, see calibrate); line_heavy is smaller because pprofile runs it about 80x slower. The
# ground truths run 3x longer: at 1 kHz a 0.3 s run holds 300 samples, whose binomial
# error alone (2-3 pp on a 60% share) would hide whether a sampler meets 2 pp.
WORKLOADS = {
    "call_heavy": ("recursion (fib) and tiny methods", 1.0, 0.5,
                   SAMPLERS_1K + ["spyglass-10k", "py-spy-10k", "austin-10k", "tachyon-10k",
                                  "scalene", "cprofile", "yappi", "spyglass-trace"]),
    "line_heavy": ("long loops of cheap lines", 0.15, 0.1,
                   ["spyglass-1k", "line_profiler", "pprofile", "spyglass-lines"]),
    "threads": ("3 CPU-bound threads (work 1:2:3) + 2 blocked threads", 1.0, 0.5,
                SAMPLERS_1K + ["spyglass-10k", "spyglass-cpu", "tachyon-cpu", "yappi",
                               "cprofile"]),
    "mixed": ("json, regex, sorting, classes", 1.0, 0.5,
              SAMPLERS_1K + ["scalene", "cprofile", "yappi", "spyglass-trace"]),
    "io_bound": ("sleep, TCP round trips on 127.0.0.1, a little CPU", 1.0, 0.5,
                 SAMPLERS_1K),
    "children": ("12 short-lived Python children, 2 at a time (samplers follow them: "
                 "spyglass --subprocesses when the build has it, py-spy --subprocesses, "
                 "austin -C, Tachyon --subprocesses)", 1.0, 0.5,
                 ["spyglass-1k", "py-spy-1k", "austin-1k", "tachyon-1k"]),
    "gt_shares": ("ground truth: leaf functions with fixed work 6:3:1", 3.0, 0.5,
                  SAMPLERS_1K + ["spyglass-10k", "tachyon-10k", "scalene", "cprofile",
                                 "yappi", "spyglass-trace"]),
    "gt_bursts": ("ground truth: sub-millisecond bursts (0.15 ms and 0.05 ms calls)", 3.0, 0.5,
                  SAMPLERS_1K + ["cprofile", "yappi"]),
    "gt_ccalls": ("ground truth: time inside C calls (zlib, sha256, sorted) vs Python", 3.0, 0.5,
                  SAMPLERS_1K + ["spyglass-cpu", "tachyon-cpu", "scalene", "cprofile",
                                 "yappi"]),
    "gt_gil": ("ground truth: two threads contending for the GIL, CPU split 3:1", 3.0, 0.5,
               SAMPLERS_1K + ["spyglass-cpu", "py-spy-gil", "austin-cpu", "tachyon-cpu",
                              "tachyon-gil", "scalene", "yappi"]),
    "deep_threads": ("8 CPU-bound threads, 50-frame stacks (the 10 kHz cost target)", 1.0, 0.5,
                     ["spyglass-10k", "py-spy-10k", "austin-10k", "tachyon-10k"]),
    "deep_stack": ("one thread, 20-frame stack: the highest sustained rate", 1.0, 0.5,
                   ["spyglass-200k", "py-spy-200k", "austin-200k", "tachyon-200k"]),
}
QUICK = {
    "call_heavy": ["spyglass-1k", "py-spy-1k", "austin-1k", "tachyon-1k", "cprofile",
                   "spyglass-trace"],
    "line_heavy": ["line_profiler", "pprofile", "spyglass-lines"],
    "mixed": ["spyglass-1k", "scalene", "yappi", "spyglass-trace"],
    "children": ["spyglass-1k", "py-spy-1k"],
    "gt_shares": SAMPLERS_1K,
    "gt_gil": ["spyglass-1k", "spyglass-cpu", "py-spy-1k", "austin-1k", "tachyon-cpu"],
    "deep_threads": ["spyglass-10k", "austin-10k", "tachyon-10k"],
    "deep_stack": ["spyglass-200k"],
}
RUN_TIMEOUT = 600


# ---- the outer phase: interpreter, virtualenv, installs -------------------------------

PYENV_MINORS = ("3.9", "3.10", "3.11", "3.12", "3.13")
DEBIAN_MINORS = ("3.14", "3.15")
DEBIAN_BIN = os.path.join(ROOT, "build", "debian-python", "usr", "bin")


def _wanted(spec, minor, version):
    """Does a version spec ("3.15", "3.13.0" or None) ask for this interpreter?"""
    if spec is None or spec == minor:
        return True
    return spec == ".".join(str(x) for x in version)


def find_python(spec):
    """A path, a version ("3.12", "3.13.0", "3.15"), or None for the newest installed
    3.9-3.13. The interpreters are the Makefile's PYTHONS: 3.9-3.13 from pyenv, 3.14 and
    3.15 from Debian's archive under build/debian-python (`make pythons`). Without a spec
    the newest pyenv one is taken (the versions spyglass is released for), or the newest
    Debian one where pyenv has none."""
    if spec and os.path.sep in spec:
        return spec
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    pyenv, debian = [], []
    for minor in PYENV_MINORS:
        if spec and spec != minor and not spec.startswith(minor + "."):
            continue
        for d in glob.glob(os.path.join(root, "versions", minor + ".*")):
            exe = os.path.join(d, "bin", "python" + minor)
            if re.search(r"/\d+\.\d+\.\d+$", d) and os.access(exe, os.X_OK):
                version = tuple(int(x) for x in os.path.basename(d).split("."))
                if _wanted(spec, minor, version):
                    pyenv.append((version, exe))
    for minor in DEBIAN_MINORS:
        if spec and spec != minor and not spec.startswith(minor + "."):
            continue
        exe = os.path.join(DEBIAN_BIN, "python" + minor)
        if not os.access(exe, os.X_OK):
            continue
        r = subprocess.run([exe, "-c", "import sys; print(*sys.version_info[:3])"],
                           capture_output=True, text=True)
        if r.returncode == 0:
            version = tuple(int(x) for x in r.stdout.split())
            if _wanted(spec, minor, version):
                debian.append((version, exe))
    found = pyenv or debian if spec is None else pyenv + debian
    if not found:
        sys.exit(f"bench: no CPython {spec or '3.9-3.13'} found under {root}/versions or "
                 f"{os.path.relpath(DEBIAN_BIN, ROOT)} (make pythons)")
    return max(found)[1]


def _pip(venv, *args):
    return subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pip", "-q",
                           "--disable-pip-version-check", *args],
                          capture_output=True, text=True)


def _last_line(text):
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no output"


def _smoke(venv, tool):
    cmd = [a.format(bin=os.path.join(venv, "bin")) for a in tools.SMOKE[tool]]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if r.returncode == 0 else _last_line(r.stderr or r.stdout)


def _tree_hash():
    h = hashlib.sha256()
    for pat in ("src/**/*.[ch]", "python/spyglass/*.py", "setup.py", "pyproject.toml"):
        for path in sorted(glob.glob(os.path.join(ROOT, pat), recursive=True)):
            with open(path, "rb") as f:
                h.update(path.encode() + f.read())
    return h.hexdigest()


def setup(python, reinstall=False):
    """Creates/updates the venv; returns (venv path, install report {tool: {...}})."""
    ver = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    venv = os.path.join(ROOT, "build", "bench-venv", ver)
    state_path = os.path.join(venv, "bench-install.json")
    if reinstall and os.path.isdir(venv):
        shutil.rmtree(venv)
    if not os.path.exists(os.path.join(venv, "bin", "python")):
        print(f"bench: creating {venv}", flush=True)
        # as the Makefile's venv rule: Debian's 3.14/3.15 have no ensurepip, and the
        # script then installs pip from its wheel
        r = subprocess.run([os.path.join(ROOT, "tools", "make-venv.sh"), python, venv],
                           capture_output=True, text=True)
        if r.returncode:
            shutil.rmtree(venv, ignore_errors=True)
            sys.exit(f"bench: cannot make {venv}: {_last_line(r.stderr or r.stdout)}")
        r = _pip(venv, "install", "--upgrade", "pip", "setuptools", "wheel")
        if r.returncode:
            sys.exit(f"bench: pip failed in {venv}: {_last_line(r.stderr)}")
    state = {}
    if os.path.exists(state_path):
        with open(state_path) as f:
            state = json.load(f)

    tree = _tree_hash()
    if state.get("spyglass", {}).get("tree") != tree:
        print("bench: installing spyglass from the tree", flush=True)
        r = _pip(venv, "install", "--no-build-isolation", "--force-reinstall", "--no-deps", ROOT)
        state["spyglass"] = ({"ok": True, "tree": tree} if r.returncode == 0 else
                             {"ok": False, "why": "install failed: " + _last_line(r.stderr)})
    have = tuple(int(x) for x in ver.split("."))
    for tool, (since, why) in tools.STDLIB.items():
        # nothing to install: checked again on every run (a smoke test takes a second)
        if have < since:
            state[tool] = {"ok": False, "why": f"{why}; this is {ver}"}
        else:
            fail = _smoke(venv, tool)
            state[tool] = {"ok": fail is None, "why": f"does not run: {fail}" if fail else None}
    for tool, package in tools.PACKAGES.items():
        if state.get(tool, {}).get("ok"):
            continue
        print(f"bench: installing {package}", flush=True)
        r = _pip(venv, "install", package)
        if r.returncode:
            state[tool] = {"ok": False, "why": "pip install failed: " + _last_line(r.stderr)}
            continue
        why = _smoke(venv, tool)
        note = None
        if why and tool == "austin":
            # austin-dist 4 ships a binary built against a newer glibc than some distros
            # have; users on those machines fall back to the 3.x line.
            r = _pip(venv, "install", "austin-dist<4")
            if r.returncode == 0 and _smoke(venv, tool) is None:
                m = re.search(r"GLIBC_[0-9.]+' not found", why)
                note = (f"the latest austin-dist does not run here ({m.group(0) if m else why}); "
                        "measured with austin-dist<4")
                why = None
        state[tool] = {"ok": why is None, "why": f"does not run: {why}" if why else None,
                       "note": note}
    with open(state_path, "w") as f:
        json.dump(state, f, indent=1)
    return venv, state


# ---- the inner phase: measuring --------------------------------------------------------

def _read_hwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(cmd, env, cwd, timeout=RUN_TIMEOUT):
    """Runs cmd; returns {rc, wall, tree_cpu, tree_maxrss_kb, hwm_kb, stdout, stderr}.
    wait4 gives the CPU of the whole tree (children are reaped by their parents); the
    top process's peak RSS is polled from /proc while it runs."""
    out_path = os.path.join(cwd, "stdout.txt")
    err_path = os.path.join(cwd, "stderr.txt")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        hwm = 0
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            hwm = max(hwm, _read_hwm(p.pid))
            if time.perf_counter() - t0 > timeout:
                p.kill()
            time.sleep(0.02)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path, errors="replace") as f:
        stdout = f.read()
    with open(err_path, errors="replace") as f:
        stderr = f.read()
    return {"rc": p.returncode, "pid": p.pid, "wall": wall, "tree_cpu": ru.ru_utime + ru.ru_stime,
            "tree_maxrss_kb": ru.ru_maxrss, "hwm_kb": hwm, "stdout": stdout, "stderr": stderr}


def run_one(bindir, workload, scale, mode, caps, tmp):
    """One run of `workload` under `mode` (None = unprofiled). Returns a result dict;
    failures are results too ({"ok": False, "error": ...})."""
    os.makedirs(tmp, exist_ok=True)
    path = os.path.join(WORKLOADS_DIR, workload + ".py")
    ctx = tools.Ctx(bindir, path, [str(scale)], tmp, caps, children=(workload == "children"))
    cmd = [ctx.python] + ctx.target() if mode is None else mode.build(ctx)
    env = dict(os.environ, BENCH_TRUTH=os.path.join(tmp, "truth.json"))
    res = {"ok": False}
    try:
        m = measure(cmd, env, tmp)
    except OSError as exc:
        return {"ok": False, "error": f"cannot start: {exc}"}
    res.update({k: m[k] for k in ("rc", "wall", "tree_cpu", "tree_maxrss_kb", "hwm_kb")})
    truth_path = os.path.join(tmp, "truth.json")
    if m["rc"] != 0 or not os.path.exists(truth_path):
        res["error"] = f"exit status {m['rc']}: {_last_line(m['stderr'] or m['stdout'])}"
        return res
    with open(truth_path) as f:
        truth = json.load(f)
    target_cpu = truth["cpu_self"] + truth["cpu_children"]
    res.update(work=truth["work_seconds"], target_cpu=target_cpu,
               target_cpu_start=truth.get("cpu_start"), truth_kind=truth["kind"],
               truth_parts=truth["parts"], target_maxrss_kb=truth["maxrss_kb"],
               same_process=(truth["pid"] == m["pid"]))
    if mode is not None:
        if mode.where == "outside" and not res["same_process"] and m["wall"] > 0:
            res["profiler_cpu_share"] = max(0.0, m["tree_cpu"] - target_cpu) / m["wall"]
        try:
            parsed, metrics = mode.read(ctx, m["stdout"], m["stderr"], truth)
        except Exception as exc:  # noqa: BLE001 - any unreadable output becomes a row note
            res["error"] = f"output not readable: {type(exc).__name__}: {exc}"[:300]
            return res
        res.update(metrics)
        names = sorted(truth["parts"])
        res["measured"] = parsers.totals(parsed, names)
        for view in ("cpu", "gil"):
            if mode.tool == "spyglass" and mode.view:
                res["measured_" + view] = parsers.totals(parsed, names, view)
    res["ok"] = True
    return res


def detect_caps(bindir):
    """What this spyglass build can do: trace/lines commands, --subprocesses."""
    py = os.path.join(bindir, "python")

    def ok(*args):
        r = subprocess.run([py, "-m", "spyglass", *args], capture_output=True, text=True)
        return r.returncode == 0, r.stdout

    caps = {"trace": ok("trace", "--help")[0], "lines": ok("lines", "--help")[0]}
    caps["subprocesses"] = "--subprocesses" in ok("run", "--help")[1]
    return caps


def machine_info():
    model, cpus = "unknown", 0
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model == "unknown":
                    model = line.split(":", 1)[1].strip()
                if line.startswith("processor"):
                    cpus += 1
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 2**20:.0f} GiB"
    except (OSError, ValueError):
        pass
    return {"cpu": model, "cores": cpus, "memory": mem, "kernel": platform.release(),
            "loadavg_start": os.getloadavg()}


def versions():
    from importlib import metadata

    out = {"python": platform.python_version(), "cProfile": "stdlib " + platform.python_version()}
    for tool, (since, _why) in tools.STDLIB.items():
        out[tool] = ("stdlib " + platform.python_version()
                     if sys.version_info[:2] >= since else None)
    for tool, package in [("spyglass", "spyglass")] + list(tools.PACKAGES.items()):
        try:
            out[tool] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[tool] = None
    try:
        commit = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                                capture_output=True, text=True).stdout.strip()
        if commit:
            out["spyglass"] = f"{out['spyglass']} ({commit})"
    except OSError:
        pass
    return out


def availability(mode, install, caps):
    """None if the mode can run, else the reason for its row."""
    if mode.tool in ("spyglass-trace", "spyglass-lines"):
        if not install.get("spyglass", {}).get("ok"):
            return "spyglass not installed"
        return None if caps.get(mode.tool.split("-")[1]) else "not in this build"
    if mode.tool == "cProfile":
        return None
    st = install.get(mode.tool, {})
    if not st.get("ok"):
        return st.get("why") or "not installed"
    return None


# Seconds of unprofiled work per unit of scale the workloads are written for (measured
# on the pyenv 3.13 build: gt_shares 0.99 s at scale 3, call_heavy 0.26 s at scale 1).
# Debian's PGO builds of 3.14/3.15 do the same work 2.5x faster: at equal scale their
# runs hold 2.5x fewer samples, and accuracy and fixed costs were judged on runs of a
# few tenths of a second.
SECONDS_PER_SCALE = 0.3
NOT_CALIBRATED = ("children", "io_bound")  # their length is not set by CPU work


def calibrate(bindir, caps, plan):
    """Scales each CPU-bound workload so that one unprofiled run takes about the time
    its scale is written for on this interpreter (never less work than written)."""
    out = {}
    for name, (scale, modes) in plan.items():
        if name in NOT_CALIBRATED:
            out[name] = (scale, modes)
            continue
        tmp = os.path.join(ROOT, "build", "bench-tmp", f"{name}-calibrate")
        r = run_one(bindir, name, scale, None, caps, tmp)
        shutil.rmtree(tmp, ignore_errors=True)
        want = scale * SECONDS_PER_SCALE
        if r.get("ok") and 0 < r["work"] < 0.8 * want:
            factor = min(4.0, want / r["work"])
            scaled = float(f"{scale * factor:.2g}")
            print(f"bench: {name}: {r['work']:.2f} s at scale {scale:g}, about {want:.1f} s "
                  f"intended: scale {scaled:g}", flush=True)
            scale = scaled
        out[name] = (scale, modes)
    return out


def inner(args):
    bindir = os.path.dirname(sys.executable)
    with open(os.path.join(os.path.dirname(bindir), "bench-install.json")) as f:
        install = json.load(f)
    caps = detect_caps(bindir)
    plan = {}
    for name, (_desc, scale, qscale, modes) in WORKLOADS.items():
        if args.workloads and name not in args.workloads:
            continue
        chosen = QUICK.get(name) if args.quick else modes
        if chosen is None:
            continue
        if args.modes:
            chosen = [m for m in chosen if m in args.modes]
        plan[name] = (qscale if args.quick else scale, chosen)
    unavailable = {}
    for name, (_s, modes) in plan.items():
        for mid in modes:
            why = availability(tools.BY_ID[mid], install, caps)
            if why:
                unavailable[mid] = why

    if not args.quick:
        plan = calibrate(bindir, caps, plan)
    rounds = args.rounds or (2 if args.quick else 5)
    tmp_root = os.path.join(ROOT, "build", "bench-tmp")
    shutil.rmtree(tmp_root, ignore_errors=True)
    results = {"runs": []}
    rng = random.Random(12345)
    total = rounds * sum(1 + len([m for m in modes if m not in unavailable])
                         for _s, modes in plan.values())
    done = 0
    t_start = time.perf_counter()
    for rnd in range(rounds):
        for name, (scale, modes) in plan.items():
            order = [None] + [m for m in modes if m not in unavailable]
            rng.shuffle(order)
            for mid in order:
                mode = tools.BY_ID[mid] if mid else None
                tmp = os.path.join(tmp_root, f"{name}-{mid or 'base'}-{rnd}")
                r = run_one(bindir, name, scale, mode, caps, tmp)
                shutil.rmtree(tmp, ignore_errors=True)
                r.update(workload=name, mode=mid or "base", round=rnd)
                results["runs"].append(r)
                done += 1
                state = "ok" if r["ok"] else "FAILED: " + r.get("error", "?")
                print(f"[{done}/{total} {time.perf_counter() - t_start:5.0f}s] round {rnd + 1} "
                      f"{name} {mid or 'unprofiled'}: {state}", flush=True)

    info = machine_info()
    info["loadavg_end"] = os.getloadavg()
    results.update(
        date=time.strftime("%Y-%m-%d"), python=platform.python_version(), machine=info,
        versions=versions(), install=install, caps=caps,
        unavailable=unavailable, rounds=rounds, quick=args.quick, command=args.command,
        plan={k: {"scale": v[0], "modes": v[1]} for k, v in plan.items()},
        descriptions={k: v[0] for k, v in WORKLOADS.items()},
        labels={m.id: m.label for m in tools.MODES},
        where={m.id: m.where for m in tools.MODES},
        prelude=[m.id for m in tools.MODES if m.prelude],
        seconds=time.perf_counter() - t_start)
    results["summary"] = report.summarize(results)
    os.makedirs(RESULTS_DIR, exist_ok=True)
    full = not (args.quick or args.workloads or args.modes)  # more rounds: still every row
    suffix = "-quick" if args.quick else ("" if full else "-partial")
    out = os.path.join(RESULTS_DIR, f"{results['date']}-{results['python']}{suffix}.json")
    with open(out + ".tmp", "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    os.replace(out + ".tmp", out)
    md = report.markdown(results)
    print(md)
    print(f"bench: raw results in {os.path.relpath(out, ROOT)}")
    if args.write_md or (full and args.write_md is None):
        path = os.path.join(ROOT, "BENCHMARKS.md")
        report.update_benchmarks_md(path, results, md)
        print(f"bench: tables written to {os.path.relpath(path, ROOT)}")
    return 0


def rereport(path, write_md):
    """Summaries and tables again from a results file's raw runs (after a change to the
    report, or to look at an old run)."""
    with open(path) as f:
        results = json.load(f)
    results["summary"] = report.summarize(results)
    with open(path + ".tmp", "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    os.replace(path + ".tmp", path)
    md = report.markdown(results)
    print(md)
    if write_md:
        report.update_benchmarks_md(os.path.join(ROOT, "BENCHMARKS.md"), results, md)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", help="interpreter path or version, 3.9-3.15 (default: newest "
                    "3.9-3.13)")
    ap.add_argument("--quick", action="store_true", help="the ~3-minute subset")
    ap.add_argument("--rounds", type=int, help="rounds (default 5; 2 with --quick)")
    ap.add_argument("--workloads", type=lambda s: s.split(","), help="only these workloads")
    ap.add_argument("--modes", type=lambda s: s.split(","), help="only these modes")
    ap.add_argument("--write-md", dest="write_md", action="store_true", default=None,
                    help="write BENCHMARKS.md even for --quick or partial runs")
    ap.add_argument("--no-md", dest="write_md", action="store_false",
                    help="do not touch BENCHMARKS.md")
    ap.add_argument("--reinstall", action="store_true", help="rebuild the bench venv")
    ap.add_argument("--report", metavar="JSON",
                    help="only re-summarize a results file and print (or with --write-md "
                         "write) its tables")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--command", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.report:
        return rereport(args.report, args.write_md)
    if args.inner:
        return inner(args)
    python = find_python(args.python)
    venv, _install = setup(python, args.reinstall)
    argv = list(sys.argv[1:] if argv is None else argv)
    command = os.environ.get("BENCH_COMMAND") or "python bench/bench.py " + " ".join(argv)
    vpy = os.path.join(venv, "bin", "python")
    return subprocess.call([vpy, os.path.abspath(__file__), "--inner", "--command", command] +
                           [a for a in argv if a != "--reinstall"])


if __name__ == "__main__":
    sys.exit(main())
