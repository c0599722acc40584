"""The profilers and modes the bench compares: how to run each on a workload and how to
read what it wrote.

A mode's `where` says how its cost is measured:
- "outside": the profiler is a separate process that samples the target (spyglass run,
  py-spy, austin, Tachyon). Its CPU = the whole process tree's CPU (wait4) minus the
  target's own (the target reports getrusage at its end), so every thread and every
  helper process of the profiler counts; its memory = the peak RSS of the profiler
  process (VmHWM, polled while it runs). A mode with `prelude` also runs code of its own
  in the target's process before the program (Tachyon): the target's CPU when the
  workload's code begins, beyond the unprofiled run's, moves from the target's CPU to
  the profiler's.
- "inside": the profiler runs in the target's interpreter (cProfile, yappi, pyinstrument,
  scalene, line_profiler, pprofile, spyglass trace/lines). Its CPU shows up as slowdown;
  its memory = the target's peak RSS minus the unprofiled run's in the same round."""
import os
import pstats

import parsers


class Mode:
    def __init__(self, id, tool, label, kind, where, build, read, rate=None, view=None,
                 prelude=False):
        self.id = id            # "spyglass-1k"
        self.tool = tool        # key of the installed tool ("spyglass", "py-spy", ...)
        self.label = label      # what the table shows: the options that matter
        self.kind = kind        # "sampler" or "tracer"
        self.where = where      # "outside" or "inside" (see above)
        self.build = build      # build(ctx) -> argv
        self.read = read        # read(ctx, stdout, stderr, truth) -> (Parsed, metrics)
        self.rate = rate        # samples per second requested (samplers)
        self.view = view        # which view answers a CPU-time truth: "cpu" or None
        self.prelude = prelude  # runs its own code in the target before the program


class Ctx:
    """One run: the venv's bin directory, its python, the workload and its arguments, a
    scratch directory for the outputs, and what this spyglass build can do."""

    def __init__(self, bindir, workload, args, tmp, caps, children=False):
        self.bin = bindir
        self.python = os.path.join(bindir, "python")
        self.workload = workload
        self.args = list(args)
        self.tmp = tmp
        self.caps = caps
        self.children = children

    def out(self, name):
        return os.path.join(self.tmp, name)

    def target(self):
        return [self.workload] + self.args


# ---- spyglass ------------------------------------------------------------------------

def _spyglass_run(rate, clock=None):
    def build(ctx):
        cmd = [ctx.python, "-m", "spyglass", "run", "--rate", str(rate)]
        if clock:
            cmd += ["--clock", clock]
        if ctx.children and ctx.caps.get("subprocesses"):
            cmd.append("--subprocesses")
        return cmd + ["-o", ctx.out("p.pb.gz")] + ctx.target()
    return build


def _read_spyglass(ctx, stdout, stderr, truth):
    import spyglass  # installed in the bench venv; the parsers themselves need no spyglass

    p = parsers.parse_spyglass(spyglass.load(ctx.out("p.pb.gz")).to_dict())
    m = p.meta
    metrics = {"errors": m["samples_failed"], "error_rate": m["error_rate"]}
    if m.get("mode") == "sample":
        dur = m["duration_ns"] / 1e9
        metrics.update(samples_taken=m["ticks_taken"], samples_requested=m["ticks_requested"],
                       sampling_seconds=dur)
        if dur > 0 and m["sampler_cpu_seconds"] == m["sampler_cpu_seconds"]:
            metrics["sampler_cpu_share"] = m["sampler_cpu_seconds"] / dur
    return p, metrics


def _spyglass_traced(command):
    def build(ctx):
        return [ctx.python, "-m", "spyglass", command, "-o", ctx.out("p.pb.gz")] + ctx.target()
    return build


# ---- py-spy ----------------------------------------------------------------------------

def _pyspy(rate, gil=False):
    def build(ctx):
        cmd = [os.path.join(ctx.bin, "py-spy"), "record", "--rate", str(rate), "--format", "raw",
               "-o", ctx.out("pyspy.txt")]
        if gil:
            cmd.append("--gil")
        if ctx.children:
            cmd.append("--subprocesses")
        return cmd + ["--", ctx.python] + ctx.target()
    return build


def _read_pyspy(rate):
    def read(ctx, stdout, stderr, truth):
        with open(ctx.out("pyspy.txt")) as f:
            p = parsers.parse_collapsed(f.read())
        s = parsers.parse_pyspy_stderr(stdout + stderr)
        life = truth.get("lifetime")
        metrics = {"samples_taken": s["samples"], "errors": s["errors"],
                   "error_rate": s["errors"] / s["samples"] if s["samples"] else 0.0}
        if life:
            # py-spy samples the target for its whole life; requested = rate x lifetime
            metrics.update(samples_requested=rate * life, sampling_seconds=life)
        return p, metrics
    return read


# ---- austin ----------------------------------------------------------------------------

def _austin(interval_us, sleepless=False):
    def build(ctx):
        cmd = [os.path.join(ctx.bin, "austin"), "-i", f"{interval_us}us",
               "-o", ctx.out("austin.txt")]
        if sleepless:
            cmd.append("-s")
        if ctx.children:
            cmd.append("-C")
        return cmd + [ctx.python] + ctx.target()
    return build


def _read_austin(interval_us):
    def read(ctx, stdout, stderr, truth):
        with open(ctx.out("austin.txt")) as f:
            p = parsers.parse_austin(f.read())
        s = parsers.parse_austin_stderr(stderr + stdout)
        metrics = {"samples_taken": s["samples"], "errors": s["errors"],
                   "error_rate": s["errors"] / s["samples"] if s["samples"] else 0.0}
        dur_us = p.meta.get("duration")
        if dur_us and dur_us.isdigit():
            metrics.update(samples_requested=int(dur_us) / interval_us,
                           sampling_seconds=int(dur_us) / 1e6)
        return p, metrics
    return read


# ---- Tachyon (CPython 3.15's profiling.sampling) -----------------------------------------
# `python -m profiling.sampling run` starts the target as its child (through its
# _sync_coordinator module, which runs the script in that child once the profiler is
# listening) and samples it from its own process, in a Python loop over
# _remote_debugging; it is what the venv's python ships, so the target runs on the same
# interpreter as every other mode. -a: every thread (its default is the main thread only).

def _tachyon(rate, mode=None):
    def build(ctx):
        cmd = [ctx.python, "-m", "profiling.sampling", "run", "-a", "-r", str(rate)]
        if mode:
            cmd += ["--mode", mode]
        if ctx.children:
            # one more profiler process per Python child, polled for every 100 ms; their
            # files (tachyon_<pid>.txt) are not read: the children workload has no parts
            cmd.append("--subprocesses")
        return cmd + ["--collapsed", "-o", ctx.out("tachyon.txt")] + ctx.target()
    return build


def _read_tachyon(rate):
    def read(ctx, stdout, stderr, truth):
        with open(ctx.out("tachyon.txt")) as f:
            p = parsers.parse_tachyon(f.read())
        # As Tachyon counts them. Its failed reads include the ticks of the target's
        # interpreter shutdown, after the program's end (about 10 ms of "Failed to parse
        # initial frame in chain" before the process is gone). Ticks it is late for are
        # taken at once, back to back, so its count stays near the requested one even
        # when it fell behind (those samples all read the stack of the later moment).
        s = parsers.parse_tachyon_stdout(stdout + stderr)
        metrics = {"samples_taken": s["samples"], "errors": s["errors"],
                   "error_rate": s["error_rate"]}
        if s["seconds"] > 0:
            # Tachyon samples from the target's "ready" to its exit; requested = rate x that
            metrics.update(samples_requested=rate * s["seconds"], sampling_seconds=s["seconds"])
        return p, metrics
    return read


# ---- in-process tools ------------------------------------------------------------------

def _pyinstrument(ctx):
    return [ctx.python, "-m", "pyinstrument", "-i", "0.001", "-r", "json", "-o",
            ctx.out("pyi.json")] + ctx.target()


def _read_pyinstrument(ctx, stdout, stderr, truth):
    with open(ctx.out("pyi.json")) as f:
        p = parsers.parse_pyinstrument(f.read())
    metrics = {}
    if p.meta.get("samples") is not None and p.meta.get("duration"):
        metrics.update(samples_taken=p.meta["samples"],
                       samples_requested=p.meta["duration"] / 0.001,
                       sampling_seconds=p.meta["duration"])
    return p, metrics


def _scalene(ctx):
    cmd = [ctx.python, "-m", "scalene", "run", "--cpu-only", "-o", ctx.out("scalene.json"),
           ctx.workload]
    return cmd + (["---"] + ctx.args if ctx.args else [])


def _read_scalene(ctx, stdout, stderr, truth):
    with open(ctx.out("scalene.json")) as f:
        return parsers.parse_scalene(f.read()), {}


def _cprofile(ctx):
    return [ctx.python, "-m", "cProfile", "-o", ctx.out("cprofile.prof")] + ctx.target()


def _yappi(ctx):
    return [ctx.python, "-m", "yappi", "-o", ctx.out("yappi.prof"), "-f", "pstat"] + ctx.target()


def _read_pstats(name):
    def read(ctx, stdout, stderr, truth):
        return parsers.parse_pstats_dict(pstats.Stats(ctx.out(name)).stats), {}
    return read


def _kernprof(ctx):
    # -l line by line; -p the script itself = every function in it (no @profile needed)
    return [ctx.python, "-m", "kernprof", "-l", "-q", "-p", ctx.workload, "-o",
            ctx.out("lp.lprof")] + ctx.target()


def _read_lprof(ctx, stdout, stderr, truth):
    with open(ctx.out("lp.lprof"), "rb") as f:
        return parsers.parse_lprof(f.read()), {}


def _pprofile(ctx):
    return [ctx.python, "-m", "pprofile", "-f", "callgrind", "-o", ctx.out("pp.callgrind")] + \
        ctx.target()


def _read_callgrind(ctx, stdout, stderr, truth):
    with open(ctx.out("pp.callgrind")) as f:
        return parsers.parse_callgrind(f.read()), {}


MODES = [
    Mode("spyglass-1k", "spyglass", "spyglass run --rate 1000", "sampler", "outside",
         _spyglass_run(1000), _read_spyglass, rate=1000, view="cpu"),
    Mode("spyglass-10k", "spyglass", "spyglass run --rate 10000", "sampler", "outside",
         _spyglass_run(10000), _read_spyglass, rate=10000, view="cpu"),
    Mode("spyglass-cpu", "spyglass", "spyglass run --rate 1000 --clock cpu", "sampler",
         "outside", _spyglass_run(1000, "cpu"), _read_spyglass, rate=1000),
    Mode("spyglass-200k", "spyglass", "spyglass run --rate 200000", "sampler", "outside",
         _spyglass_run(200000), _read_spyglass, rate=200000, view="cpu"),
    Mode("spyglass-trace", "spyglass-trace", "spyglass trace", "tracer", "inside",
         _spyglass_traced("trace"), _read_spyglass),
    Mode("spyglass-lines", "spyglass-lines", "spyglass lines", "tracer", "inside",
         _spyglass_traced("lines"), _read_spyglass),
    Mode("py-spy-1k", "py-spy", "py-spy record --rate 1000", "sampler", "outside",
         _pyspy(1000), _read_pyspy(1000), rate=1000),
    Mode("py-spy-10k", "py-spy", "py-spy record --rate 10000", "sampler", "outside",
         _pyspy(10000), _read_pyspy(10000), rate=10000),
    Mode("py-spy-gil", "py-spy", "py-spy record --rate 1000 --gil", "sampler", "outside",
         _pyspy(1000, gil=True), _read_pyspy(1000), rate=1000),
    Mode("py-spy-200k", "py-spy", "py-spy record --rate 200000", "sampler", "outside",
         _pyspy(200000), _read_pyspy(200000), rate=200000),
    Mode("austin-1k", "austin", "austin -i 1ms", "sampler", "outside",
         _austin(1000), _read_austin(1000), rate=1000),
    Mode("austin-10k", "austin", "austin -i 100us (its default)", "sampler", "outside",
         _austin(100), _read_austin(100), rate=10000),
    Mode("austin-cpu", "austin", "austin -i 1ms -s (CPU time)", "sampler", "outside",
         _austin(1000, sleepless=True), _read_austin(1000), rate=1000),
    Mode("austin-200k", "austin", "austin -i 5us", "sampler", "outside",
         _austin(5), _read_austin(5), rate=200000),
    Mode("tachyon-1k", "tachyon", "Tachyon: profiling.sampling run -a -r 1000", "sampler",
         "outside", _tachyon(1000), _read_tachyon(1000), rate=1000,
         prelude=True),
    Mode("tachyon-10k", "tachyon", "Tachyon: profiling.sampling run -a -r 10000", "sampler",
         "outside", _tachyon(10000), _read_tachyon(10000), rate=10000,
         prelude=True),
    Mode("tachyon-cpu", "tachyon", "Tachyon: profiling.sampling run -a -r 1000 --mode cpu",
         "sampler", "outside", _tachyon(1000, "cpu"), _read_tachyon(1000), rate=1000,
         prelude=True),
    Mode("tachyon-gil", "tachyon", "Tachyon: profiling.sampling run -a -r 1000 --mode gil",
         "sampler", "outside", _tachyon(1000, "gil"), _read_tachyon(1000), rate=1000,
         prelude=True),
    Mode("tachyon-200k", "tachyon", "Tachyon: profiling.sampling run -a -r 200000",
         "sampler", "outside", _tachyon(200000), _read_tachyon(200000), rate=200000,
         prelude=True),
    Mode("pyinstrument", "pyinstrument", "pyinstrument -i 0.001", "sampler", "inside",
         _pyinstrument, _read_pyinstrument, rate=1000),
    Mode("scalene", "scalene", "scalene run --cpu-only", "sampler", "inside",
         _scalene, _read_scalene),
    Mode("cprofile", "cProfile", "python -m cProfile", "tracer", "inside",
         _cprofile, _read_pstats("cprofile.prof")),
    Mode("yappi", "yappi", "yappi (CPU clock, all threads)", "tracer", "inside",
         _yappi, _read_pstats("yappi.prof")),
    Mode("line_profiler", "line_profiler", "kernprof -l -p script", "tracer", "inside",
         _kernprof, _read_lprof),
    Mode("pprofile", "pprofile", "pprofile (deterministic)", "tracer", "inside",
         _pprofile, _read_callgrind),
]
BY_ID = {m.id: m for m in MODES}

# PyPI packages of the tools (cProfile is the standard library's; spyglass comes from the
# tree). Each is installed on its own so one failure leaves the others measured.
PACKAGES = {
    "py-spy": "py-spy",
    "austin": "austin-dist",
    "pyinstrument": "pyinstrument",
    "line_profiler": "line_profiler",
    "yappi": "yappi",
    "pprofile": "pprofile",
    "scalene": "scalene",
}

# Tools of the interpreter's own standard library: nothing to install, but only from a
# version on, and the same smoke test as the others decides whether they run.
STDLIB = {
    "tachyon": ((3, 15), "Tachyon (profiling.sampling) is new in CPython 3.15"),
}

# A command per tool that must succeed for the tool to count as usable.
SMOKE = {
    "py-spy": ["{bin}/py-spy", "--version"],
    "austin": ["{bin}/austin", "-V"],
    "pyinstrument": ["{bin}/python", "-m", "pyinstrument", "--version"],
    "line_profiler": ["{bin}/python", "-m", "kernprof", "--version"],
    "yappi": ["{bin}/python", "-c", "import yappi"],
    "pprofile": ["{bin}/python", "-c", "import pprofile"],
    "scalene": ["{bin}/python", "-m", "scalene", "--version"],
    "tachyon": ["{bin}/python", "-m", "profiling.sampling", "run", "--help"],
}
