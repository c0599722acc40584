"""The in-process sampler's cost on its own process: the slowdown of a CPU-bound loop
(bench/workloads/cpu_fixed.py's work) run inside `with spyglass.profile(rate=R)`,
against the same work unprofiled in the same kind of process. Each measurement is a
fresh interpreter; plain and profiled runs are interleaved, ROUNDS times, and medians
are reported. Usage: python bench/inprocess_overhead.py [--rates 1000,10000]
[--rounds 5] [--work 30] (with the python of a virtualenv where spyglass is installed)."""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from cpu_fixed import fib, loop
import spyglass
work, rate = int(sys.argv[2]), float(sys.argv[3])

def run():
    start = time.perf_counter()
    for _ in range(work):
        fib(22)
        loop(200_000)
    return time.perf_counter() - start

if rate == 0:
    print(json.dumps({"elapsed": run()}))
else:
    with spyglass.profile(rate=rate) as p:
        elapsed = run()
    d = p.profile.to_dict()
    meta = d["meta"]
    ok = sum(x["samples_ok"] for x in d["processes"])
    bad = sum(x["samples_failed"] for x in d["processes"])
    print(json.dumps({
        "elapsed": elapsed,
        "taken": meta["ticks_taken"], "requested": meta["ticks_requested"],
        "cpu_share": float(d["attrs"]["sampler_cpu_seconds"]) / (meta["duration_ns"] / 1e9),
        "error_rate": bad / (ok + bad) if ok + bad else 0.0,
        "reader": d["attrs"].get("reader"),
    }))
"""


def measure(work, rate):
    out = subprocess.run(
        [sys.executable, "-c", CHILD, os.path.join(HERE, "workloads"), str(work), str(rate)],
        capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rates", default="1000,10000")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--work", type=int, default=30)
    args = ap.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    plain, prof = [], {r: [] for r in rates}
    for _ in range(args.rounds):
        plain.append(measure(args.work, 0)["elapsed"])
        for r in rates:
            prof[r].append(measure(args.work, r))
    base = statistics.median(plain)
    reader = prof[rates[0]][0]["reader"]
    print(f"Python {sys.version.split()[0]}, in-process sampler ({reader}), cpu_fixed work "
          f"{args.work}, {args.rounds} rounds; unprofiled median {base:.3f} s "
          f"({min(plain):.3f}-{max(plain):.3f})")
    print("| rate | slowdown (median, range) | samples taken / requested | "
          "sampler CPU (% of a core) | error rate |")
    print("| --- | --- | --- | --- | --- |")
    for r in rates:
        rows = prof[r]
        slow = [row["elapsed"] / base for row in rows]
        taken = sum(row["taken"] for row in rows) / sum(row["requested"] for row in rows)
        cpu = statistics.median(row["cpu_share"] for row in rows)
        err = statistics.median(row["error_rate"] for row in rows)
        print(f"| {r} Hz | {statistics.median(slow):.3f}x ({min(slow):.3f}-{max(slow):.3f}) | "
              f"{100 * taken:.1f}% | {100 * cpu:.1f}% | {100 * err:.2f}% |")


if __name__ == "__main__":
    main()
