"""What every bench workload reports about itself, measured inside the program: the
seconds its work took (start-up excluded), the seconds each named part took (the ground
truth a profile is checked against), the CPU the process used and its peak memory.

The harness sets BENCH_TRUTH=path; without it nothing is written, so a workload also
runs on its own. Workloads import this file from their own directory."""
import json
import os
import resource
import time


def _cpu():
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


# The process's CPU when the workload's own code begins (workloads import this file
# before any work): the interpreter's start-up, plus whatever a profiler ran in this
# process before handing it the program (Tachyon's _sync_coordinator imports its whole
# package there, about 0.15 s of CPU).
_CPU_AT_IMPORT = _cpu()


class Truth:
    """Accumulates seconds per part: `with truth.part("name"): ...` (wall time), or
    truth.add("name", seconds) for a figure measured otherwise (e.g. a thread's CPU)."""

    def __init__(self, kind="wall"):
        self.kind = kind  # "wall": perf_counter seconds; "cpu": per-thread CPU seconds
        self.parts = {}
        self.start = time.perf_counter()

    def add(self, name, seconds):
        self.parts[name] = self.parts.get(name, 0.0) + seconds

    def part(self, name):
        return _Part(self, name)

    def finish(self, **extra):
        work = time.perf_counter() - self.start
        path = os.environ.get("BENCH_TRUTH")
        if not path:
            print(f"{work:.6f}")
            return
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        data = {
            "pid": os.getpid(),
            "work_seconds": work,
            "kind": self.kind,
            "parts": self.parts,
            "cpu_self": me.ru_utime + me.ru_stime,
            "cpu_children": kids.ru_utime + kids.ru_stime,
            "cpu_start": _CPU_AT_IMPORT,
            "maxrss_kb": _peak_rss_kb() or me.ru_maxrss,
        }
        life = _lifetime()
        if life is not None:
            data["lifetime"] = life
        data.update(extra)
        with open(path, "w") as f:
            json.dump(data, f)


def _peak_rss_kb():
    """This program's peak RSS (VmHWM). Not ru_maxrss: Linux carries that across exec, so
    a fresh child would report the peak of the process that forked it."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _lifetime():
    """Seconds since this process started (the kernel's start time, 10 ms resolution):
    how long an outside sampler could have sampled it."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start = int(fields[19]) / os.sysconf("SC_CLK_TCK")
        return time.clock_gettime(time.CLOCK_BOOTTIME) - start
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class _Part:
    __slots__ = ("truth", "name", "t0")

    def __init__(self, truth, name):
        self.truth = truth
        self.name = name

    def __enter__(self):
        self.t0 = time.perf_counter()

    def __exit__(self, *exc):
        self.truth.add(self.name, time.perf_counter() - self.t0)
