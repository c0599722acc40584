"""Slowdown, samples taken and the sampler's own CPU for `spyglass run` on a fixed
CPU-bound workload. Runs unprofiled and profiled interleaved, ROUNDS times, and reports
medians. Usage: python bench/overhead.py [--rates 1000,10000] [--rounds 5] [--work 40]
(use the python of a virtualenv where spyglass is installed)."""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "workloads", "cpu_fixed.py")


def run_plain(work):
    out = subprocess.run([sys.executable, WORKLOAD, str(work)], capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip())


def run_profiled(work, rate):
    import spyglass

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "p.pb.gz")
        out = subprocess.run(
            [sys.executable, "-m", "spyglass", "run", "--rate", str(rate), "-o", path,
             WORKLOAD, str(work)],
            capture_output=True, text=True, check=True,
        )
        d = spyglass.load(path).to_dict()
    meta = d["meta"]
    ok = sum(p["samples_ok"] for p in d["processes"])
    bad = sum(p["samples_failed"] for p in d["processes"])
    return {
        "elapsed": float(out.stdout.strip()),
        "taken": meta["ticks_taken"],
        "requested": meta["ticks_requested"],
        "cpu_share": float(d["attrs"]["sampler_cpu_seconds"]) / (meta["duration_ns"] / 1e9),
        "error_rate": bad / (ok + bad) if ok + bad else 0.0,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rates", default="1000,10000")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--work", type=int, default=40)
    args = ap.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    plain, prof = [], {r: [] for r in rates}
    for _ in range(args.rounds):
        plain.append(run_plain(args.work))
        for r in rates:
            prof[r].append(run_profiled(args.work, r))
    base = statistics.median(plain)
    print(f"Python {sys.version.split()[0]}, workload {os.path.basename(WORKLOAD)} "
          f"{args.work}, {args.rounds} rounds; unprofiled median {base:.3f} s")
    print("| rate | slowdown (median, range) | samples taken / requested | sampler CPU (% of a core) | error rate |")
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
